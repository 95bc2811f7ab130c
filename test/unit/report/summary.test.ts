// The numbers of `rules report`, from timelines and rule histories with chosen
// values: each rule's row, the CPU efficiency, the suggested resources, the
// reasons grouped by kind, and the timeline cut into bins.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BuildTimeline, RuleHistory, RuleStats, TimelineJob } from '../../../src/state/history.js';
import { adviseResources, binTimeline, groupReasons, median, reasonKind, ruleRows, suggestedMemMb, suggestedRuntimeMin } from '../../../src/report/summary.js';

function job(rule: string, lane: number, startMs: number, endMs: number, more: Partial<TimelineJob> = {}): TimelineJob {
  return { label: `${rule}[${startMs}]`, rule, lane, startMs, endMs, status: 'ok', reason: 'output missing: x', attempt: 1, ...more };
}

function timeline(jobs: TimelineJob[], more: Partial<BuildTimeline> = {}): BuildTimeline {
  return { version: 1, startedAt: 0, durationMs: jobs.reduce((m, j) => Math.max(m, j.endMs), 0), slots: 2, total: jobs.length, upToDate: 0, ok: true, interrupted: false, ran: jobs.length, skipped: 0, failed: 0, notRun: 0, jobs, failures: [], ...more };
}

function stats(s: Partial<RuleStats>): RuleStats {
  return { runs: 1, failed: 0, maxWallMs: 0, totalWallMs: 0, recentWallMs: [], cpuMs: 0, cpuWallMs: 0, lastAt: 0, ...s };
}

describe('median', () => {
  test('the middle value, the mean of the two middle ones, 0 for none', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([]), 0);
  });
});

describe('ruleRows', () => {
  test('jobs, failures, skips, total / median / max wall and peak memory per rule, in the Rulefile order', () => {
    const rows = ruleRows(
      timeline([
        job('b', 0, 0, 100, { maxRssKb: 2048 }),
        job('a', 1, 0, 300),
        job('b', 0, 100, 400, { maxRssKb: 4096 }),
        job('b', 1, 300, 310, { status: 'failed', maxRssKb: 8192 }),
        job('b', -1, 400, 400, { status: 'skipped' }),
        job('a', 0, 400, 500, { status: 'retried' }),
      ]),
      [{ name: 'a', cpus: 1 }, { name: 'b', cpus: 1 }],
    );
    assert.deepEqual(rows.map((r) => r.rule), ['a', 'b']);
    const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
    assert.deepEqual({ jobs: b.jobs, failed: b.failed, skipped: b.skipped, total: b.totalWallMs, median: b.medianWallMs, max: b.maxWallMs, peak: b.peakRssKb }, { jobs: 3, failed: 1, skipped: 1, total: 410, median: 100, max: 300, peak: 8192 });
    assert.deepEqual({ jobs: a.jobs, failed: a.failed, median: a.medianWallMs, peak: a.peakRssKb }, { jobs: 2, failed: 1, median: 200, peak: undefined });
    assert.equal(a.cpuEfficiency, undefined, 'no CPU measured: no efficiency');
  });

  test('CPU efficiency is CPU time over wall time times the CPUs the rule asks for, over the measured jobs only', () => {
    const [row] = ruleRows(timeline([job('map', 0, 0, 1000, { cpuMs: 2000 }), job('map', 1, 0, 1000, { cpuMs: 1000 }), job('map', 0, 1000, 5000)]), [{ name: 'map', cpus: 4 }]);
    // 3000 ms of CPU over 2 × 1000 ms × 4 CPUs; the unmeasured job does not count.
    assert.equal(row!.cpuEfficiency, 3000 / 8000);
  });

  test('a rule the Rulefile no longer has comes after the Rulefile rules, with 1 CPU', () => {
    const rows = ruleRows(timeline([job('gone', 0, 0, 10, { cpuMs: 5 }), job('kept', 0, 10, 20)]), [{ name: 'kept', cpus: 2 }, { name: 'idle', cpus: 1 }]);
    assert.deepEqual(rows.map((r) => r.rule), ['kept', 'gone']);
    assert.equal(rows[1]!.cpuEfficiency, 0.5);
  });
});

describe('adviseResources', () => {
  const history = (rules: Record<string, RuleStats>): RuleHistory => ({ version: 1, rules });

  test('memory: too little below the peak, far too much above 4× the peak, suggested at the peak plus 20% rounded up', () => {
    const advice = adviseResources(
      history({
        small: stats({ maxRssKb: 1000 * 1024 }),
        big: stats({ maxRssKb: 100 * 1024 }),
        fine: stats({ maxRssKb: 300 * 1024 }),
        free: stats({ maxRssKb: 50 * 1024 }),
        unmeasured: stats({}),
      }),
      [
        { name: 'small', cpus: 1, memMb: 800 },
        { name: 'big', cpus: 1, memMb: 401 },
        { name: 'fine', cpus: 1, memMb: 1200 },
        { name: 'free', cpus: 1 },
        { name: 'unmeasured', cpus: 1, memMb: 100 },
      ],
    );
    const by = new Map(advice.map((a) => [a.rule, a]));
    assert.equal(by.get('small')!.mem, 'low');
    assert.equal(by.get('small')!.suggestMemMb, 1200);
    assert.equal(by.get('big')!.mem, 'high');
    assert.equal(by.get('big')!.suggestMemMb, 120);
    assert.equal(by.get('fine')!.mem, 'ok', 'exactly 4× the peak is not far too much');
    assert.equal(by.get('free')!.mem, 'unset');
    assert.equal(by.get('free')!.suggestMemMb, 60);
    assert.equal(by.get('unmeasured')!.mem, 'unknown');
    assert.equal(by.get('unmeasured')!.suggestMemMb, undefined);
  });

  test('time: too little below the longest wall seen, far too much above 4× it (never below a minute), median of the recent runs', () => {
    const advice = adviseResources(
      history({
        slow: stats({ runs: 3, maxWallMs: 30 * 60_000, recentWallMs: [10 * 60_000, 30 * 60_000, 20 * 60_000] }),
        quick: stats({ runs: 2, maxWallMs: 2000, recentWallMs: [1000, 2000] }),
        lazy: stats({ runs: 1, maxWallMs: 2000, recentWallMs: [2000] }),
      }),
      [
        { name: 'slow', cpus: 1, runtimeMin: 20 },
        { name: 'quick', cpus: 1, runtimeMin: 4 },
        { name: 'lazy', cpus: 1, runtimeMin: 5 },
      ],
    );
    const by = new Map(advice.map((a) => [a.rule, a]));
    assert.equal(by.get('slow')!.time, 'low');
    assert.equal(by.get('slow')!.suggestRuntimeMin, 36);
    assert.equal(by.get('slow')!.medianWallMs, 20 * 60_000);
    assert.equal(by.get('quick')!.time, 'ok', '4 minutes for jobs of 2 s is within 4× the minute SLURM counts in');
    assert.equal(by.get('quick')!.suggestRuntimeMin, 1);
    assert.equal(by.get('lazy')!.time, 'high');
  });

  test('rules that never ran and ask for nothing are left out; rules seen that the Rulefile lost are kept', () => {
    const advice = adviseResources(history({ old: stats({ maxRssKb: 1024 }) }), [{ name: 'never', cpus: 1 }, { name: 'asks', cpus: 1, memMb: 10 }]);
    assert.deepEqual(advice.map((a) => [a.rule, a.mem]), [['asks', 'unknown'], ['old', 'unset']]);
    assert.deepEqual(adviseResources(undefined, []), []);
  });

  test('suggested values round up', () => {
    assert.equal(suggestedMemMb(1), 10);
    assert.equal(suggestedMemMb(2000 * 1024), 2400);
    assert.equal(suggestedMemMb(2001 * 1024), 2500);
    assert.equal(suggestedRuntimeMin(1), 1);
    assert.equal(suggestedRuntimeMin(10 * 60_000 + 1), 13);
  });
});

describe('groupReasons', () => {
  test('a reason kind is its words without the path or name', () => {
    assert.equal(reasonKind('output missing: a/b.txt'), 'output missing');
    assert.equal(reasonKind('no record: input newer than output: raw/x'), 'no record: input newer than output');
    assert.equal(reasonKind('input newer than output: raw/x'), 'input newer than output');
    assert.equal(reasonKind('incomplete: previous run was interrupted or failed'), 'incomplete: previous run was interrupted or failed');
    assert.equal(reasonKind('command changed'), 'command changed');
  });

  test('kinds counted once per job (first attempt), most first, with their top rules and a few examples', () => {
    const jobs: TimelineJob[] = [];
    for (let i = 0; i < 10; i++) jobs.push(job(i < 7 ? 'map' : 'reduce', 0, i, i + 1, { label: `j${i}`, reason: `output missing: out/${i}` }));
    jobs.push(job('map', 0, 20, 21, { label: 'j2', attempt: 2, reason: 'output missing: out/2' }));
    jobs.push(job('reduce', 1, 0, 1, { label: 'c', reason: 'command changed' }));
    jobs.push(job('reduce', -1, 0, 0, { label: 's', status: 'skipped', reason: 'inputs unchanged' }));
    const groups = groupReasons(timeline(jobs));
    assert.deepEqual(groups.map((g) => [g.kind, g.count]), [['output missing', 10], ['command changed', 1]]);
    assert.deepEqual(groups[0]!.rules, [['map', 7], ['reduce', 3]]);
    assert.deepEqual(groups[0]!.examples, [{ label: 'j0', reason: 'output missing: out/0' }, { label: 'j1', reason: 'output missing: out/1' }, { label: 'j2', reason: 'output missing: out/2' }]);
  });

  test('300,000 jobs make one group per kind, with at most 3 examples each', () => {
    const jobs = Array.from({ length: 300_000 }, (_, i) => job(`r${i % 7}`, i % 8, i, i + 1, { reason: i % 3 === 0 ? `input changed: in/${i}` : `output missing: out/${i}` }));
    const groups = groupReasons(timeline(jobs));
    assert.deepEqual(groups.map((g) => [g.kind, g.count, g.examples.length, g.rules.length]), [['output missing', 200_000, 3, 5], ['input changed', 100_000, 3, 5]]);
  });
});

describe('binTimeline', () => {
  test('each lane is busy for the share of each bin its jobs cover, coloured by the rule that covers most of it', () => {
    // Bins of 10 ms over 40 ms. Lane 0: a [0,15) b [15,40); lane 1: c [5,10), a [30,32).
    const t = timeline([job('b', 0, 15, 40), job('a', 0, 0, 15), job('c', 1, 5, 10), job('a', 1, 30, 32), job('x', -1, 3, 3, { status: 'skipped' })], { durationMs: 40 });
    const b = binTimeline(t, 4, ['a', 'b']);
    assert.equal(b.lanes, 2);
    assert.equal(b.binMs, 10);
    assert.deepEqual(b.ruleNames, ['a', 'b', 'c'], 'a rule not named is added');
    assert.deepEqual(Array.from(b.busy.slice(0, 4)), [1, 1, 1, 1]);
    // Bin 1 of lane 0: a for 5 ms, b for 5 ms: a tie goes to the first seen.
    assert.deepEqual(Array.from(b.rule.slice(0, 4)), [0, 0, 1, 1]);
    assert.deepEqual(Array.from(b.busy.slice(4, 8)), [0.5, 0, 0, 0.2]);
    assert.deepEqual(Array.from(b.rule.slice(4, 8)), [2, -1, -1, 0]);
    assert.deepEqual(Array.from(b.jobs), [1, 1, 0, 0, 1, 0, 0, 1], 'a job counts in the bin it starts in');
  });

  test('a bin shared by many short jobs takes the rule with the most time in it, not the longest single job', () => {
    const t = timeline([job('long', 0, 0, 4), job('short', 0, 4, 7), job('short', 0, 7, 10)], { durationMs: 10 });
    const b = binTimeline(t, 1, ['long', 'short']);
    assert.deepEqual([b.rule[0], b.busy[0]], [1, 1]);
  });

  test('300,000 jobs in 64 lanes bin in well under a second', () => {
    const jobs = Array.from({ length: 300_000 }, (_, i) => job(`r${i % 20}`, i % 64, Math.floor(i / 64) * 10, Math.floor(i / 64) * 10 + 9));
    const t0 = performance.now();
    const b = binTimeline(timeline(jobs), 1200, []);
    const ms = performance.now() - t0;
    assert.equal(b.jobs.reduce((a, c) => a + c, 0), 300_000);
    assert.ok(ms < 2000, `binned in ${ms} ms`);
  });
});
