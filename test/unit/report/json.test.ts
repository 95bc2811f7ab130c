import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Job } from '../../../src/graph/model.js';
import { JsonReporter } from '../../../src/report/json.js';

const job = { label: 'a', rule: { name: 'make' }, wildcards: { s: 'x "q"' }, outputs: ['out/x.txt'] } as unknown as Job;

describe('the JSON reporter', () => {
  test('writes one line per event in pino’s shape: level, time, the fixed fields, the event’s fields, msg', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-json-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'logs', 'events.jsonl');
    const r = JsonReporter.toEventLog(path, { pid: 42 });
    r.emit({ type: 'build-start', total: 1, upToDate: 0 });
    r.emit({ type: 'job-finish', job, durationMs: 7, output: '' });
    r.emit({ type: 'build-finish', ok: false, ran: 1, skipped: 0, failed: 1, notRun: 0, interrupted: false, durationMs: 9 });
    r.emit({ type: 'job-start', job, reason: { kind: 'forced' }, command: 'x', attempt: 1, lane: 3 });
    r.emit({ type: 'job-finish', job, durationMs: 8, output: '', usage: { cpuMs: 5, maxRssKb: 2048, source: 'exact' } });
    r.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    assert.equal(lines.pop(), '', 'the last line ends with a newline');
    assert.equal(lines.length, 5);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(Object.keys(parsed[0]!), ['level', 'time', 'pid', 'event', 'jobs', 'upToDate', 'msg']);
    assert.deepEqual(Object.keys(parsed[1]!), ['level', 'time', 'pid', 'event', 'job', 'rule', 'wildcards', 'outputs', 'durationMs', 'msg']);
    const { time, ...finished } = parsed[1]!;
    assert.match(String(time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(finished, { level: 30, pid: 42, event: 'job-finished', job: 'a', rule: 'make', wildcards: { s: 'x "q"' }, outputs: ['out/x.txt'], durationMs: 7, msg: 'finished a' });
    // A failed build is logged at pino's error level; fields it does not have (freedBytes) are left out.
    assert.equal(parsed[2]!.level, 50);
    assert.equal(parsed[2]!.msg, 'build failed');
    assert.equal('freedBytes' in parsed[2]!, false);
    // A job's lane, and what it used where measured (SPEC §9).
    assert.equal(parsed[3]!.lane, 3);
    assert.deepEqual([parsed[4]!.cpuMs, parsed[4]!.maxRssKb], [5, 2048]);
  });

  test('with no fixed fields, a line starts with level and time and goes on with the event', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-json-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'events.jsonl');
    const r = JsonReporter.toEventLog(path);
    r.emit({ type: 'watch-idle', files: 3, dirs: 1 });
    r.close();
    assert.match(readFileSync(path, 'utf8'), /^\{"level":30,"time":"[^"]+","event":"watch-waiting","files":3,"dirs":1,"msg":"watching for changes"\}\n$/);
  });
});
