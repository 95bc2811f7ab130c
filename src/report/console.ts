// What a person sees during a build: a one-line `[done/total] job` status on a
// terminal (like Ninja), one line per finished job otherwise; each job's
// output printed whole when it ends, so parallel jobs never interleave.

import type { BuildEvent, Reporter } from '../run/events.js';
import type { OutputCut } from '../run/output.js';
import { describeJob } from './describe.js';
import { failureText } from './failure.js';
import { reasonText, skipText } from './reason.js';

export interface ConsoleOptions {
  /** Rewrite one status line in place (a terminal) rather than print a line per job. */
  tty: boolean;
  /** Only failures. */
  quiet: boolean;
  /** Also each command as it starts. */
  verbose: boolean;
  columns?: number;
}

export interface Writer {
  write(text: string): unknown;
}

export class ConsoleReporter implements Reporter {
  private done = 0;
  private total = 0;
  /** Jobs waiting for a directory to be made (SPEC §7): while there are, the total may grow. */
  private pending = 0;
  private statusShown = false;

  constructor(
    private readonly out: Writer,
    private readonly err: Writer,
    private readonly opts: ConsoleOptions,
  ) {}

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
        break;
      case 'graph-grow': {
        this.total = e.total;
        this.pending = e.pending;
        for (const g of e.globs) {
          if (g.matches === 0) this.print(this.err, `rules: warning: the glob '${g.pattern}' of ${e.job.label} matched nothing in ${g.dir}/ after ${g.producer.label} ran\n`);
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
        if (this.opts.verbose && e.command !== undefined) this.print(this.out, `${e.job.label}: ${reasonText(e.reason)}\n  ${e.command}\n`);
        if (this.opts.tty && !this.opts.quiet) this.status(`${this.count()} ${this.describe(e.job)}`);
        break;
      case 'job-finish':
        this.done++;
        if (this.opts.tty) {
          if (e.output) this.print(this.out, jobOutput(e.output, e.cut));
          if (!this.opts.quiet) this.status(`${this.count()} ${this.describe(e.job)}`);
        } else {
          if (!this.opts.quiet) this.print(this.out, `${this.count()} ${this.describe(e.job)}\n`);
          if (e.output) this.print(this.out, jobOutput(e.output, e.cut));
        }
        break;
      case 'job-skip':
        this.done++;
        if (this.opts.verbose) this.print(this.out, `${e.job.label}: up to date after all (${skipText(e.why)})\n`);
        else if (this.opts.tty && !this.opts.quiet) this.status(`${this.count()} ${this.describe(e.job)}`);
        break;
      case 'job-fail': {
        if (!e.willRetry) this.done++;
        const error = failureText(e.failure);
        const head = e.willRetry ? `FAILED (will retry): ${e.job.label}: ${error}` : `FAILED: ${e.job.label}: ${error}`;
        let text = `${head}\n`;
        // A job stopped from outside (Ctrl-C, a state write that failed) did not fail by its command: no command line.
        if (e.command !== undefined && e.failure.kind !== 'interrupted' && e.failure.kind !== 'stopped') text += `  command: ${e.command}\n`;
        if (e.job.log) text += `  log: ${e.job.log}\n`;
        if (e.output) text += jobOutput(e.output, e.cut);
        this.print(this.err, text);
        break;
      }
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
        this.clearStatus(true);
        const secs = (e.durationMs / 1000).toFixed(1);
        if (e.interrupted) {
          this.print(this.err, `rules: interrupted; outputs of unfinished jobs removed (${e.ran} done, ${e.notRun + e.failed} not finished)\n`);
        } else if (!e.ok) {
          // A build stopped by its graph (SPEC §7: a cycle found as it grew) may have no failed job.
          const parts = e.failed > 0 ? [`${e.failed} job${e.failed === 1 ? '' : 's'} failed`] : [];
          if (e.notRun > 0) parts.push(`${e.notRun} not run`);
          this.print(this.err, `rules: build failed${parts.length > 0 ? `: ${parts.join(', ')}` : ''} (${e.ran} done)\n`);
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

  /** `[done/total]`, with a `+` while jobs wait for directories that will add more. */
  private count(): string {
    return `[${this.done}/${this.total}${this.pending > 0 ? '+' : ''}]`;
  }

  private describe(job: { label: string; rule: { description?: string }; wildcards: Record<string, string> }): string {
    const description = describeJob(job);
    return description ? `${job.label}: ${description}` : job.label;
  }

  private status(line: string): void {
    const cols = this.opts.columns ?? 80;
    const text = line.length > cols - 1 ? line.slice(0, cols - 2) + '…' : line;
    this.out.write(`\r\x1b[K${text}`);
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
