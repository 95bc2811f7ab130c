// The build history under .rules/history/ (SPEC §9): each rule's times and
// memory added up over builds, the last build's timeline written whole and
// read back, and files that are not ours read as no history.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { addToRuleHistory, HISTORY_VERSION, readLastBuild, readRuleHistory, recordBuild, RECENT_KEPT, type BuildTimeline, type TimelineJob } from '../../../src/state/history.js';
import { lastBuildPath, ruleHistoryPath } from '../../../src/state/paths.js';

function job(rule: string, startMs: number, endMs: number, extra: Partial<TimelineJob> = {}): TimelineJob {
  return { label: `${rule}[${startMs}]`, rule, lane: 0, startMs, endMs, status: 'ok', reason: 'forced', attempt: 1, ...extra };
}

function build(jobs: TimelineJob[], startedAt = 1_790_000_000_000): BuildTimeline {
  return { version: HISTORY_VERSION, startedAt, durationMs: 1000, slots: 2, total: jobs.length, upToDate: 0, ok: true, interrupted: false, ran: jobs.length, skipped: 0, failed: 0, notRun: 0, jobs, failures: [] };
}

function tmp(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-history-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('the rule history', () => {
  test('runs, failures, total and max wall time, peak memory and CPU of each rule', () => {
    const h = addToRuleHistory(undefined, build([
      job('align', 0, 300, { cpuMs: 250, maxRssKb: 1000 }),
      job('align', 0, 500, { maxRssKb: 3000 }),
      job('align', 10, 20, { status: 'failed', maxRssKb: 9000 }),
      job('sort', 0, 100),
      job('sort', 100, 100, { status: 'skipped', maxRssKb: 99999 }),
    ]));
    const align = h.rules.align!;
    assert.deepEqual({ runs: align.runs, failed: align.failed, max: align.maxWallMs, total: align.totalWallMs, recent: align.recentWallMs }, { runs: 2, failed: 1, max: 500, total: 800, recent: [300, 500] });
    // A failed attempt's memory counts for sizing (it may have died of it); a job that did not run used nothing.
    assert.equal(align.maxRssKb, 9000);
    // CPU is weighed against the wall time of the runs whose CPU was measured only.
    assert.deepEqual([align.cpuMs, align.cpuWallMs], [250, 300]);
    assert.equal(h.rules.sort!.maxRssKb, undefined);
    assert.equal(h.rules.sort!.runs, 1);
  });

  test('added to over builds, the old history left as it was; the latest RECENT_KEPT wall times kept', () => {
    const first = addToRuleHistory(undefined, build([job('a', 0, 10)]));
    const copy = JSON.stringify(first);
    const jobs = Array.from({ length: RECENT_KEPT + 5 }, (_, i) => job('a', 0, 100 + i));
    const second = addToRuleHistory(first, build(jobs, 1_790_000_100_000));
    assert.equal(JSON.stringify(first), copy);
    const a = second.rules.a!;
    assert.equal(a.runs, RECENT_KEPT + 6);
    assert.equal(a.recentWallMs.length, RECENT_KEPT);
    assert.equal(a.recentWallMs.at(-1), 100 + RECENT_KEPT + 4);
    assert.equal(a.maxWallMs, 100 + RECENT_KEPT + 4);
    assert.equal(a.lastAt, 1_790_000_101_000);
  });
});

describe('the history files', () => {
  test('a recorded build is the last build; its rules are added to rules.json', (t) => {
    const root = tmp(t);
    assert.equal(readLastBuild(root), undefined);
    assert.equal(readRuleHistory(root), undefined);
    const b = build([job('a', 0, 10, { cpuMs: 5 })]);
    recordBuild(root, b);
    recordBuild(root, b);
    assert.deepEqual(readLastBuild(root), b);
    assert.equal(readRuleHistory(root)!.rules.a!.runs, 2);
    assert.deepEqual(fs.readdirSync(path.dirname(lastBuildPath(root))).sort(), ['last-build.json', 'rules.json']);
  });

  test('a file of another version, a damaged one, or not an object: no history', (t) => {
    const root = tmp(t);
    recordBuild(root, build([job('a', 0, 10)]));
    for (const text of [JSON.stringify({ ...build([]), version: 99 }), '{"version":1,"jobs":', 'null', '[]']) {
      fs.writeFileSync(lastBuildPath(root), text);
      fs.writeFileSync(ruleHistoryPath(root), text);
      assert.equal(readLastBuild(root), undefined, text);
      assert.equal(readRuleHistory(root), undefined, text);
    }
  });

  test('cannot be written: a user error naming the file, and the old file stays whole', (t) => {
    const root = tmp(t);
    const b = build([job('a', 0, 10)]);
    recordBuild(root, b);
    // A directory where the rule history's temporary file goes: its write fails.
    fs.mkdirSync(`${ruleHistoryPath(root)}.${process.pid}.tmp`);
    assert.throws(() => recordBuild(root, build([job('b', 0, 10)])), (e: Error) => e.name === 'StateWriteError' && /\.rules\/history\/rules\.json/.test(e.message));
    assert.deepEqual(Object.keys(readRuleHistory(root)!.rules), ['a']);
  });
});
