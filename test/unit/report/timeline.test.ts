// A build's events as a timeline (report/timeline.ts) and as Chrome trace
// events (report/trace.ts), with a clock the test moves.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Job } from '../../../src/graph/model.js';
import type { BuildEvent } from '../../../src/run/events.js';
import { TimelineRecorder, tailOf } from '../../../src/report/timeline.js';
import { traceOf } from '../../../src/report/trace.js';
import type { BuildTimeline } from '../../../src/state/history.js';

function fakeJob(name: string, rule = 'make'): Job {
  return { label: name, name, rule: { name: rule } } as unknown as Job;
}

/** Plays events at the given times (ms); the timeline the recorder handed on. */
function play(steps: [number, BuildEvent][]): BuildTimeline[] {
  let now = 0;
  const got: BuildTimeline[] = [];
  const rec = new TimelineRecorder((t) => got.push(t), () => now, () => 1_790_000_000_000 + now);
  for (const [at, e] of steps) {
    now = at;
    rec.emit(e);
  }
  return got;
}

const a = fakeJob('a');
const b = fakeJob('b', 'other');
const c = fakeJob('c');
const FORCED = { kind: 'forced' } as const;
const finish = (type: 'build-finish', ok: boolean): BuildEvent => ({ type, ok, ran: 2, skipped: 1, failed: ok ? 0 : 1, notRun: 0, interrupted: false, durationMs: 0 });

describe('the timeline of a build', () => {
  test('each attempt with its lane, times, reason, status and usage; handed on when the build finishes', () => {
    const got = play([
      [100, { type: 'build-start', total: 3, upToDate: 4, slots: 2 }],
      [110, { type: 'job-start', job: a, reason: FORCED, command: 'x', attempt: 1, lane: 0 }],
      [120, { type: 'job-start', job: b, reason: { kind: 'output-missing', path: 'b.txt' }, command: 'y', attempt: 1, lane: 1 }],
      [150, { type: 'job-fail', job: b, durationMs: 30, output: 'one\ntwo\n', command: 'y', failure: { kind: 'exit', code: 3 }, willRetry: true }],
      [160, { type: 'job-start', job: b, reason: FORCED, command: 'y', attempt: 2, lane: 1 }],
      [400, { type: 'job-finish', job: a, durationMs: 290, output: '', usage: { cpuMs: 250, maxRssKb: 5000, source: 'exact' } }],
      [450, { type: 'job-skip', job: c, why: { kind: 'inputs-unchanged' } }],
      [500, { type: 'job-fail', job: b, durationMs: 340, output: 'bad\n', logTail: 'from the log\n', command: 'y', failure: { kind: 'exit', code: 3 }, willRetry: false }],
      [510, finish('build-finish', false)],
    ]);
    assert.equal(got.length, 1);
    const t = got[0]!;
    assert.deepEqual(
      { startedAt: t.startedAt, durationMs: t.durationMs, slots: t.slots, total: t.total, upToDate: t.upToDate, ok: t.ok, failed: t.failed },
      { startedAt: 1_790_000_000_100, durationMs: 410, slots: 2, total: 3, upToDate: 4, ok: false, failed: 1 },
    );
    assert.deepEqual(
      t.jobs.map((j) => [j.label, j.lane, j.startMs, j.endMs, j.status, j.attempt, j.reason, j.cpuMs, j.maxRssKb]),
      [
        ['b', 1, 20, 50, 'retried', 1, 'output missing: b.txt', undefined, undefined],
        ['a', 0, 10, 300, 'ok', 1, 'forced', 250, 5000],
        ['c', -1, 350, 350, 'skipped', 1, 'inputs unchanged', undefined, undefined],
        ['b', 1, 60, 400, 'failed', 2, 'forced', undefined, undefined],
      ],
    );
    // The log's tail, when the job had a log, is what it printed.
    assert.deepEqual(
      t.failures.map((f) => [f.label, f.error, f.tail, f.attempt, f.willRetry, f.command]),
      [
        ['b', 'exit status 3', 'one\ntwo', 1, true, 'y'],
        ['b', 'exit status 3', 'from the log', 2, false, 'y'],
      ],
    );
  });

  test('a build that never finishes hands nothing on; a second build starts afresh', () => {
    assert.deepEqual(play([[0, { type: 'build-start', total: 1, upToDate: 0 }]]), []);
    const got = play([
      [0, { type: 'build-start', total: 1, upToDate: 0 }],
      [5, { type: 'job-start', job: a, reason: FORCED, command: 'x', attempt: 1 }],
      [9, finish('build-finish', true)],
      [20, { type: 'build-start', total: 0, upToDate: 1 }],
      [21, finish('build-finish', true)],
    ]);
    assert.equal(got.length, 2);
    assert.equal(got[0]!.jobs.length, 0, 'a job that never ended is not in the timeline');
    assert.equal(got[1]!.jobs.length, 0);
    assert.equal(got[1]!.slots, 1);
  });

  test("a failed job's output: its last 20 lines, at most 8 KiB", () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
    assert.equal(tailOf(`${lines.join('\n')}\n`), lines.slice(10).join('\n'));
    assert.equal(tailOf('only'), 'only');
    assert.equal(tailOf(''), '');
    assert.equal(tailOf('x'.repeat(20_000)).length, 8192);
  });
});

describe('the trace of a build', () => {
  test('a complete event per attempt on its lane, microseconds; lanes named; a job that did not run an instant', () => {
    const [t] = play([
      [0, { type: 'build-start', total: 2, upToDate: 0, slots: 3 }],
      [1, { type: 'job-start', job: a, reason: FORCED, command: 'x', attempt: 1, lane: 2 }],
      [3.5, { type: 'job-finish', job: a, durationMs: 2, output: '', usage: { cpuMs: 2, source: 'sampled' } }],
      [4, { type: 'job-skip', job: c, why: { kind: 'inputs-unchanged' } }],
      [5, finish('build-finish', true)],
    ]);
    const trace = traceOf(t!);
    assert.equal(trace.displayTimeUnit, 'ms');
    const names = trace.traceEvents.filter((e) => e.name === 'thread_name').map((e) => [e.tid, (e.args as { name: string }).name]);
    assert.deepEqual(names, [[1, 'slot 1'], [2, 'slot 2'], [3, 'slot 3']]);
    const jobs = trace.traceEvents.filter((e) => e.ph === 'X' || e.ph === 'i');
    assert.deepEqual(jobs, [
      { name: 'a', cat: 'make', ph: 'X', pid: 1, tid: 3, ts: 1000, dur: 2500, args: { rule: 'make', reason: 'forced', status: 'ok', cpuMs: 2 } },
      { name: 'c', cat: 'make', ph: 'i', s: 'p', pid: 1, tid: 0, ts: 4000, args: { rule: 'make', reason: 'inputs unchanged', status: 'skipped' } },
    ]);
    // Every event has what the format needs.
    for (const e of trace.traceEvents) assert.ok(typeof e.name === 'string' && typeof e.ph === 'string' && typeof e.pid === 'number' && typeof e.tid === 'number', JSON.stringify(e));
  });
});
