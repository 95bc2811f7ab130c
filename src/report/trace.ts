// `rules build --trace FILE` (SPEC §9): the build as Chrome trace-event JSON
// (the "JSON Object Format" that chrome://tracing, Perfetto and speedscope
// read): one complete event ("ph":"X") per job's attempt, on a thread per
// lane of the build, times in microseconds since the build started.

import type { BuildTimeline } from '../state/history.js';

interface TraceEvent {
  name: string;
  ph: 'X' | 'M' | 'i';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  s?: 'g' | 'p' | 't';
  args?: Record<string, unknown>;
}

/** The trace of a build, as an object to write with JSON.stringify. */
export function traceOf(t: BuildTimeline): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, unknown> } {
  const events: TraceEvent[] = [{ name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: 'rules build' } }];
  let lanes = t.slots;
  for (const j of t.jobs) lanes = Math.max(lanes, j.lane + 1);
  for (let lane = 0; lane < lanes; lane++) {
    events.push({ name: 'thread_name', ph: 'M', pid: 1, tid: lane + 1, args: { name: `slot ${lane + 1}` } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid: 1, tid: lane + 1, args: { sort_index: lane } });
  }
  for (const j of t.jobs) {
    const args: Record<string, unknown> = { rule: j.rule, reason: j.reason, status: j.status };
    if (j.attempt > 1) args.attempt = j.attempt;
    if (j.cpuMs !== undefined) args.cpuMs = j.cpuMs;
    if (j.maxRssKb !== undefined) args.maxRssKb = j.maxRssKb;
    const ts = Math.round(j.startMs * 1000);
    // A job that did not run (early cutoff) is an instant on the build's own row.
    if (j.status === 'skipped') events.push({ name: j.label, cat: j.rule, ph: 'i', s: 'p', pid: 1, tid: 0, ts, args });
    else events.push({ name: j.label, cat: j.rule, ph: 'X', pid: 1, tid: j.lane + 1, ts, dur: Math.max(0, Math.round((j.endMs - j.startMs) * 1000)), args });
  }
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: { startedAt: new Date(t.startedAt).toISOString(), durationMs: t.durationMs, slots: t.slots, ok: t.ok, ran: t.ran, failed: t.failed, skipped: t.skipped, notRun: t.notRun },
  };
}
