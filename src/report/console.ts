// What a person sees during a build: on a terminal (like Ninja) one status
// line rewritten in place, `[done/total, N running, elapsed] job`; one line
// per finished job otherwise, and a line for a job still running after a few
// seconds. Each job's output is printed whole when it ends, under its job's
// line, so parallel jobs never interleave. A failure names the job, its
// command, why it failed, and its output or the end of its log file.

import type { Job } from '../graph/model.js';
import type { BuildEvent, Reporter } from '../run/events.js';
import type { OutputCut } from '../run/output.js';
import { describeJob } from './describe.js';
import { failureText } from './failure.js';
import { reasonText, skipText } from './reason.js';
import { PLAIN, styles, type Styles } from './style.js';

export interface ConsoleOptions {
  /** Rewrite one status line in place (a terminal that takes cursor escapes) rather than print a line per job. */
  tty: boolean;
  /** Only failures. */
  quiet: boolean;
  /** Also each command as it starts. */
  verbose: boolean;
  columns?: number;
  /** Colour errors, warnings and job labels. */
  color?: boolean;
  /** Time and a ticking timer; a fake one in tests. */
  clock?: Clock;
}

export interface Writer {
  write(text: string): unknown;
}

export interface Clock {
  now(): number;
  /** Calls `tick` every `ms` until the function returned is called; never keeps the process alive. */
  every(ms: number, tick: () => void): () => void;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  every(ms, tick) {
    const timer = setInterval(tick, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

/** Off a terminal, a job running this long is announced (once), so a quiet log still shows what the build waits for. */
export const STILL_RUNNING_MS = 5000;

/** How often the status line's elapsed time is redrawn, and running jobs' times checked. */
const TICK_MS = 1000;

/** Lines of a failed job's log file shown with the failure. */
export const LOG_TAIL_LINES = 20;

/** What the status line says. */
export interface Progress {
  done: number;
  total: number;
  /** Jobs waiting for a directory to be made (SPEC §7): while there are, the total may grow. */
  pending: number;
  running: number;
  elapsedMs: number;
  /** Time left, when the jobs' expected durations are known; else no estimate is shown. */
  etaMs?: number;
}

export class ConsoleReporter implements Reporter {
  private done = 0;
  private total = 0;
  private pending = 0;
  private statusShown = false;
  /** Jobs running now, in the order they started, with when they started. */
  private readonly running = new Map<Job, number>();
  /** Jobs already announced as still running (off a terminal). */
  private readonly announced = new Set<Job>();
  /** The job the status line names when none is running. */
  private lastJob: Job | undefined;
  private startedAt = 0;
  /**
   * For the ETA (SPEC §9), when the build's expected time is known: the job
   * slots, the expected time of all its jobs and of those that ended, and
   * each running job's expected time and longest path to the end.
   */
  private slots = 1;
  private expectedMs: number | undefined;
  private endedMs = 0;
  private readonly expecting = new Map<Job, { expectedMs: number; pathMs: number }>();
  private stopTimer: (() => void) | undefined;
  private readonly style: Styles;
  private readonly clock: Clock;

  constructor(
    private readonly out: Writer,
    private readonly err: Writer,
    private readonly opts: ConsoleOptions,
  ) {
    this.style = opts.color ? styles(true) : PLAIN;
    this.clock = opts.clock ?? SYSTEM_CLOCK;
  }

  emit(e: BuildEvent): void {
    switch (e.type) {
      case 'stamp-holds':
        if (this.opts.verbose) this.print(this.err, stampHoldsText(e.files));
        break;
      case 'shortcut':
        if (this.opts.verbose) this.print(this.err, shortcutText(e.changed, e.deciding, e.jobs));
        break;
      case 'build-start':
        this.total = e.total;
        this.pending = e.pending ?? 0;
        this.done = 0;
        this.running.clear();
        this.announced.clear();
        this.startedAt = this.clock.now();
        this.slots = Math.max(1, e.slots ?? 1);
        this.expectedMs = e.expectedMs;
        this.endedMs = 0;
        this.expecting.clear();
        this.startTimer();
        break;
      case 'graph-grow': {
        this.total = e.total;
        this.pending = e.pending;
        if (this.expectedMs !== undefined) this.expectedMs += e.expectedMs ?? 0;
        for (const g of e.globs) {
          if (g.matches === 0) this.print(this.err, `rules: ${this.style.warning('warning:')} the glob '${g.pattern}' of ${e.job.label} matched nothing in ${g.dir}/ after ${g.producer.label} ran\n`);
        }
        if (!this.opts.tty && !this.opts.quiet && e.added > 0) {
          const dirs = [...new Set(e.globs.map((g) => `${g.dir}/`))].join(', ');
          this.print(this.out, `rules: ${dirs} made: ${e.added} more job${e.added === 1 ? '' : 's'} to run for ${e.job.label} (${e.total} in all)\n`);
        }
        break;
      }
      case 'graph-problem':
        // The problem itself is the build's outcome, said at its end.
        this.print(this.err, `rules: ${e.job.label} not run: the graph its globs grew cannot be built\n`);
        break;
      case 'glob-abandoned':
        this.pending = e.pending;
        this.print(this.err, `rules: ${e.job.label} not run: its glob '${e.pattern}' waits for ${e.producer.label}, which failed\n`);
        break;
      case 'job-start':
        this.running.delete(e.job);
        this.running.set(e.job, this.clock.now());
        if (e.expectedMs !== undefined) this.expecting.set(e.job, { expectedMs: e.expectedMs, pathMs: e.pathMs ?? e.expectedMs });
        this.startTimer();
        if (this.opts.verbose && e.command !== undefined) this.print(this.out, `${this.style.label(e.job.label)}: ${reasonText(e.reason)}\n  ${e.command}\n`);
        this.showStatus();
        break;
      case 'job-finish':
        this.done++;
        this.ended(e.job, true);
        if (!this.opts.quiet && (!this.opts.tty || e.output)) this.print(this.out, `${this.count()} ${this.describe(e.job)}\n`);
        if (e.output) this.print(this.out, jobOutput(e.output, e.cut));
        this.showStatus();
        break;
      case 'job-skip':
        this.done++;
        this.endedMs += e.expectedMs ?? 0;
        this.ended(e.job, false);
        if (this.opts.verbose) this.print(this.out, `${e.job.label}: up to date after all (${skipText(e.why)})\n`);
        else this.showStatus();
        break;
      case 'job-fail':
        if (!e.willRetry) this.done++;
        // A job that will run again is expected again.
        this.ended(e.job, !e.willRetry);
        this.print(this.err, failureReport(e, this.style));
        this.showStatus();
        break;
      case 'watch-idle':
        if (!this.opts.quiet) this.print(this.out, `rules: watching ${e.files} file${e.files === 1 ? '' : 's'} in ${e.dirs} director${e.dirs === 1 ? 'y' : 'ies'}; Ctrl-C to stop\n`);
        break;
      case 'watch-change': {
        if (this.opts.quiet) break;
        const shown = e.paths.slice(0, 3).join(', ');
        const more = e.paths.length > 3 ? ` and ${e.paths.length - 3} more` : '';
        this.print(this.out, `rules: changed: ${shown}${more}; building\n`);
        break;
      }
      case 'build-finish': {
        this.halt();
        this.clearStatus(true);
        const secs = (e.durationMs / 1000).toFixed(1);
        if (e.interrupted) {
          this.print(this.err, `rules: interrupted; outputs of unfinished jobs removed (${e.ran} done, ${e.notRun + e.failed} not finished)\n`);
        } else if (!e.ok) {
          // A build stopped by its graph (SPEC §7: a cycle found as it grew) may have no failed job.
          const parts = e.failed > 0 ? [`${e.failed} job${e.failed === 1 ? '' : 's'} failed`] : [];
          if (e.notRun > 0) parts.push(`${e.notRun} not run`);
          this.print(this.err, `rules: ${this.style.error('build failed')}${parts.length > 0 ? `: ${parts.join(', ')}` : ''} (${e.ran} done)\n`);
        } else if (!this.opts.quiet) {
          const skipped = e.skipped > 0 ? `, ${e.skipped} up to date after all (inputs unchanged)` : '';
          if (e.ran === 0 && e.skipped === 0) this.print(this.out, `rules: nothing to do\n`);
          else if (e.ran === 0) this.print(this.out, `rules: nothing to do${skipped}\n`);
          else this.print(this.out, `rules: ${e.ran} job${e.ran === 1 ? '' : 's'} done${skipped} in ${secs}s\n`);
        }
        // Whatever the outcome: what was deleted is gone, and the user should know how much room that made.
        if (e.freedFiles !== undefined && e.freedFiles > 0 && !this.opts.quiet) this.print(this.out, `rules: ${freedText(e.freedBytes ?? 0)}\n`);
        break;
      }
    }
  }

  close(): void {
    this.halt();
  }

  /** `[done/total]`, with a `+` while jobs wait for directories that will add more. */
  private count(): string {
    return `[${this.done}/${this.total}${this.pending > 0 ? '+' : ''}]`;
  }

  private describe(job: { label: string; rule: { description?: string }; wildcards: Record<string, string> }): string {
    const label = this.style.label(job.label);
    const description = describeJob(job);
    return description ? `${label}: ${description}` : label;
  }

  private ended(job: Job, counted: boolean): void {
    if (counted) this.endedMs += this.expecting.get(job)?.expectedMs ?? 0;
    this.expecting.delete(job);
    this.running.delete(job);
    this.announced.delete(job);
    this.lastJob = job;
  }

  /** The ticking timer: the elapsed time on a terminal, jobs still running off one. */
  private startTimer(): void {
    if (this.stopTimer !== undefined || this.opts.quiet) return;
    this.stopTimer = this.clock.every(TICK_MS, () => this.tick());
  }

  private halt(): void {
    this.stopTimer?.();
    this.stopTimer = undefined;
  }

  private tick(): void {
    if (this.opts.tty) {
      if (this.running.size > 0) this.showStatus();
      return;
    }
    const now = this.clock.now();
    for (const [job, started] of this.running) {
      if (this.announced.has(job) || now - started < STILL_RUNNING_MS) continue;
      this.announced.add(job);
      this.print(this.out, `rules: still running: ${this.style.label(job.label)} (${Math.floor((now - started) / 1000)} s)\n`);
    }
  }

  /**
   * Time left, for the status line: the longer of the work left spread over
   * the slots and the longest path left through a running job, each running
   * job having done what it has run of its expected time (so the estimate
   * counts down between events, and holds while a job overruns). Undefined
   * when no job's expected time is known.
   */
  private remainingMs(): number | undefined {
    if (this.expectedMs === undefined) return undefined;
    const now = this.clock.now();
    let work = this.expectedMs - this.endedMs;
    let path = 0;
    for (const [job, x] of this.expecting) {
      const spent = Math.min(now - (this.running.get(job) ?? now), x.expectedMs);
      work -= spent;
      path = Math.max(path, x.pathMs - spent);
    }
    return Math.max(0, path, work / this.slots);
  }

  private showStatus(): void {
    if (!this.opts.tty || this.opts.quiet) return;
    // The job started last that still runs; else the one that ended last.
    let job: Job | undefined;
    for (const j of this.running.keys()) job = j;
    job ??= this.lastJob;
    const eta = this.remainingMs();
    const progress: Progress = {
      done: this.done,
      total: this.total,
      pending: this.pending,
      running: this.running.size,
      elapsedMs: this.clock.now() - this.startedAt,
      ...(eta !== undefined ? { etaMs: eta } : {}),
    };
    const head = progressText(progress);
    const description = job ? describeJob(job) : undefined;
    this.status(job ? `${head} ${description ? `${job.label}: ${description}` : job.label}` : head, head.length);
  }

  /** Writes the status line, cut to the terminal's width: its head (the counts) plain, the job after it as a label. */
  private status(line: string, headLength: number): void {
    const cols = this.opts.columns ?? 80;
    const text = line.length > cols - 1 ? line.slice(0, cols - 2) + '…' : line;
    const shown = text.length > headLength + 1 ? text.slice(0, headLength + 1) + this.style.label(text.slice(headLength + 1)) : text;
    this.out.write(`\r\x1b[K${shown}`);
    this.statusShown = true;
  }

  private clearStatus(keep = false): void {
    if (!this.statusShown) return;
    this.out.write(keep ? '\n' : '\r\x1b[K');
    this.statusShown = false;
  }

  private print(to: Writer, text: string): void {
    this.clearStatus();
    to.write(text);
  }
}

/** `[3/10, 2 running, 0:42]`, with `, ETA 1:05` when the time left is known and `+` after the total while the graph may grow. */
export function progressText(p: Progress): string {
  const parts = [`${p.done}/${p.total}${p.pending > 0 ? '+' : ''}`];
  if (p.running > 0) parts.push(`${p.running} running`);
  parts.push(clockTime(p.elapsedMs));
  if (p.etaMs !== undefined) parts.push(`ETA ${clockTime(p.etaMs)}`);
  return `[${parts.join(', ')}]`;
}

/** `0:07`, `12:30`, `1:02:03`: whole seconds, as a clock shows them. */
export function clockTime(ms: number): string {
  const secs = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const s = String(secs % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * A failed job as reported on stderr: `FAILED: LABEL: why`, its command
 * (every line indented), then its output; with a `log:` file, the file's
 * name and its last lines. An output longer than that is printed whole
 * before the report, which ends with its last lines.
 */
export function failureReport(e: Extract<BuildEvent, { type: 'job-fail' }>, style: Styles = PLAIN): string {
  const head = `${style.error(e.willRetry ? 'FAILED (will retry):' : 'FAILED:')} ${style.label(e.job.label)}: ${failureText(e.failure)}`;
  let text = `${head}\n`;
  // A job stopped from outside (Ctrl-C, a state write that failed) did not fail by its command: no command line.
  if (e.command !== undefined && e.failure.kind !== 'interrupted' && e.failure.kind !== 'stopped') text += commandText(e.command);
  if (e.job.log) {
    if (e.logTail === undefined) text += `  log: ${e.job.log}\n`;
    else {
      const { lines, more } = lastLines(e.logTail, LOG_TAIL_LINES);
      if (lines.length === 0) text += `  log: ${e.job.log} (empty)\n`;
      else text += `  log: ${e.job.log}${more ? `, its last ${LOG_TAIL_LINES} lines` : ''}:\n${lines.join('\n')}\n`;
    }
  }
  if (!e.output) return text;
  const { lines, more } = lastLines(e.output, LOG_TAIL_LINES);
  // A long output is printed whole first, and its end again in the report, which stays together at the bottom.
  // (An output cut to its tail is already as short as it can be here: the whole of it is in a file.)
  if (more && !e.cut) return `${withNewline(e.output)}${text}  output, its last ${LOG_TAIL_LINES} lines:\n${lines.join('\n')}\n`;
  return text + jobOutput(e.output, e.cut);
}

/** `  command: CMD`, or for a command of several lines, each line on its own, indented under `  command:`. */
function commandText(command: string): string {
  const lines = command.replace(/\n+$/, '').split('\n');
  if (lines.length === 1) return `  command: ${lines[0]}\n`;
  return `  command:\n${lines.map((l) => (l === '' ? '' : `    ${l}`)).join('\n')}\n`;
}

/** The last `n` lines of a text, and whether there were more before them. */
export function lastLines(text: string, n: number): { lines: string[]; more: boolean } {
  const all = text.replace(/\n$/, '').split('\n');
  if (all.length === 1 && all[0] === '') return { lines: [], more: false };
  return all.length > n ? { lines: all.slice(-n), more: true } : { lines: all, more: false };
}

/** Said (with -v) when the up-to-date stamp answered a build. */
export function stampHoldsText(files: number): string {
  return `rules: all ${files} files as the last build left them\n`;
}

/** Said (with -v) when the incremental shortcut decided only the jobs a change concerns. */
export function shortcutText(changed: number, deciding: number, jobs: number): string {
  // Grouped by hand: the first use of toLocaleString loads ICU's data (about 20 ms).
  const n = (x: number) => String(x).replace(/\B(?=(\d{3})+$)/g, ',');
  return `rules: ${n(changed)} file${changed === 1 ? '' : 's'} changed since the last build; deciding ${n(deciding)} of ${n(jobs)} jobs\n`;
}

function withNewline(s: string): string {
  return s.endsWith('\n') ? s : s + '\n';
}

/** A job's output as shown: its tail, after a line saying what was cut and where the whole of it is. */
export function jobOutput(output: string, cut: OutputCut | undefined): string {
  if (!cut) return withNewline(output);
  const where = cut.path !== undefined ? `the whole output is in ${cut.path}` : `the whole output could not be kept${cut.error ? `: ${cut.error}` : ''}`;
  // The tail starts inside a line: it is shown from the next whole line (when there is one nearby).
  const nl = output.indexOf('\n');
  const tail = nl >= 0 && nl < 4096 && nl < output.length - 1 ? output.slice(nl + 1) : output;
  return `[... ${formatBytes(cut.bytes + Buffer.byteLength(output.slice(0, output.length - tail.length)))} of output cut; ${where}]\n${withNewline(tail)}`;
}

/** `freed 1.2 GB of temporary outputs` (SPEC §7): bytes below a kilobyte as `B`. */
export function freedText(bytes: number): string {
  return `freed ${bytes < 1000 ? `${bytes} B` : formatBytes(bytes)} of temporary outputs`;
}

/** "599.2 MB": a byte count for people, in decimal units. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} byte${n === 1 ? '' : 's'}`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let i = 0;
  while (v >= 999.95 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
