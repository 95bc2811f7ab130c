// A build as a timeline (SPEC §9): a reporter that hears a build's events and
// keeps, for each job's attempt, its lane, when it started and ended, why it
// ran and what it used. At the end of the build the timeline is handed on:
// to the build history (state/history.ts) for `rules report`, and as Chrome
// trace events for `--trace` (report/trace.ts).

import type { BuildEvent, Reporter } from '../run/events.js';
import type { Job } from '../graph/model.js';
import type { BuildTimeline, TimelineFailure, TimelineJob } from '../state/history.js';
import { HISTORY_VERSION } from '../state/history.js';
import { failureText } from './failure.js';
import { reasonText, skipText } from './reason.js';

/** How many lines of a failed job's output the timeline keeps, and at most how many characters. */
const TAIL_LINES = 20;
const TAIL_CHARS = 8192;

interface Open {
  startMs: number;
  lane: number;
  reason: string;
  attempt: number;
}

export class TimelineRecorder implements Reporter {
  private t0 = 0;
  private startedAt = 0;
  private readonly open = new Map<Job, Open>();
  private timeline: BuildTimeline | undefined;

  /**
   * `done` gets the timeline when the build finishes. `now` is a monotonic
   * clock in ms, `wallClock` the time of day (both replaceable in tests).
   */
  constructor(
    private readonly done: (timeline: BuildTimeline) => void,
    private readonly now: () => number = () => performance.now(),
    private readonly wallClock: () => number = () => Date.now(),
  ) {}

  emit(e: BuildEvent): void {
    switch (e.type) {
      case 'build-start':
        this.t0 = this.now();
        this.startedAt = this.wallClock();
        this.open.clear();
        this.timeline = {
          version: HISTORY_VERSION,
          startedAt: this.startedAt,
          durationMs: 0,
          slots: e.slots ?? 1,
          total: e.total,
          upToDate: e.upToDate,
          ok: false,
          interrupted: false,
          ran: 0,
          skipped: 0,
          failed: 0,
          notRun: 0,
          jobs: [],
          failures: [],
        };
        break;
      case 'job-start':
        this.open.set(e.job, { startMs: this.elapsed(), lane: e.lane ?? 0, reason: reasonText(e.reason), attempt: e.attempt });
        break;
      case 'job-finish':
        this.end(e.job, 'ok', e.usage);
        break;
      case 'job-fail': {
        const job = this.end(e.job, e.willRetry ? 'retried' : 'failed', e.usage);
        const failure: TimelineFailure = {
          label: e.job.label,
          rule: e.job.rule.name,
          error: failureText(e.failure),
          tail: tailOf(e.logTail ?? e.output),
          attempt: job?.attempt ?? 1,
          willRetry: e.willRetry,
        };
        if (e.command !== undefined) failure.command = e.command;
        this.timeline?.failures.push(failure);
        break;
      }
      case 'job-skip': {
        const at = this.elapsed();
        this.timeline?.jobs.push({ label: e.job.label, rule: e.job.rule.name, lane: -1, startMs: at, endMs: at, status: 'skipped', reason: skipText(e.why), attempt: 1 });
        break;
      }
      case 'build-finish': {
        const t = this.timeline;
        if (t === undefined) break;
        t.durationMs = Math.round(this.elapsed());
        t.ok = e.ok;
        t.interrupted = e.interrupted;
        t.ran = e.ran;
        t.skipped = e.skipped;
        t.failed = e.failed;
        t.notRun = e.notRun;
        this.timeline = undefined;
        this.done(t);
        break;
      }
      default:
        break;
    }
  }

  private elapsed(): number {
    return this.now() - this.t0;
  }

  /** Ends a job's attempt in the timeline. */
  private end(job: Job, status: TimelineJob['status'], usage: { cpuMs?: number; maxRssKb?: number } | undefined): TimelineJob | undefined {
    const open = this.open.get(job);
    this.open.delete(job);
    const endMs = this.elapsed();
    const entry: TimelineJob = {
      label: job.label,
      rule: job.rule.name,
      lane: open?.lane ?? 0,
      startMs: round(open?.startMs ?? endMs),
      endMs: round(endMs),
      status,
      reason: open?.reason ?? '',
      attempt: open?.attempt ?? 1,
    };
    if (usage?.cpuMs !== undefined) entry.cpuMs = usage.cpuMs;
    if (usage?.maxRssKb !== undefined) entry.maxRssKb = usage.maxRssKb;
    this.timeline?.jobs.push(entry);
    return entry;
  }
}

/** Times to a tenth of a millisecond: enough for a timeline, and short in JSON. */
function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** The last lines of a job's output (at most TAIL_LINES, TAIL_CHARS), for the report. */
export function tailOf(text: string): string {
  const lines = (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
  const tail = lines.slice(-TAIL_LINES).join('\n');
  return tail.length > TAIL_CHARS ? tail.slice(tail.length - TAIL_CHARS) : tail;
}
