// Everything a build does is an event; reporters (console, JSON, log file)
// consume them. The core never prints.

import type { Job } from '../graph/model.js';
import type { Diagnostic } from '../util/errors.js';
import type { SkipReason, StaleReason } from '../plan/reason.js';
import type { JobUsage } from './executor.js';
import type { JobFailure } from './failure.js';
import type { OutputCut } from './output.js';

export type BuildEvent =
  /** The up-to-date stamp answered: these many files are as the last build left them (state/stamp.ts). */
  | { type: 'stamp-holds'; files: number }
  /** Only `changed` files changed since the last build: the shortcut decides `deciding` of the graph's `jobs` jobs (build/shortcut.ts). */
  | { type: 'shortcut'; changed: number; deciding: number; jobs: number }
  /** `pending`: jobs waiting for a directory another job makes (SPEC §7): the total will grow. */
  | {
      type: 'build-start';
      total: number;
      upToDate: number;
      pending?: number;
      /** The job slots (`-j`): the lanes a timeline of the build has. */
      slots?: number;
      /** The expected time of all the jobs to run, added up (SPEC §9: from their last runs); absent when no job's time is known. */
      expectedMs?: number;
    }
  /**
   * The pending globs of `job` were matched once their directories were made: `added` jobs to run joined the build, planned in `durationMs`;
   * `expectedMs`, their expected time added up, when the build's is known.
   */
  | {
      type: 'graph-grow';
      job: Job;
      globs: { pattern: string; dir: string; producer: Job; matches: number }[];
      added: number;
      total: number;
      pending: number;
      durationMs: number;
      expectedMs?: number;
    }
  /** The graph, as `job`'s globs grew it, cannot be built (a cycle, a missing source): `job` does not run. */
  | { type: 'graph-problem'; job: Job; diagnostics: Diagnostic[] }
  /** `job` never ran: its glob waited for a directory that `producer`, which failed, was to make. */
  | { type: 'glob-abandoned'; job: Job; pattern: string; producer: Job; pending: number }
  /**
   * `lane`: the lowest of the build's lanes (0 to slots-1) no running job holds, for a timeline. When the build's expected time
   * is known: `expectedMs`, the job's (0: unknown), and `pathMs`, the longest path of jobs from it to the end, it included.
   */
  | { type: 'job-start'; job: Job; reason: StaleReason; command: string | undefined; attempt: number; lane?: number; expectedMs?: number; pathMs?: number }
  /** `output` is the tail of what the job printed; `cut` says what is not shown and where it is; `usage`, what it used where measured. */
  | { type: 'job-finish'; job: Job; durationMs: number; output: string; cut?: OutputCut; usage?: JobUsage }
  /** A job that was stale only because of an upstream job, whose outputs came out unchanged. */
  | { type: 'job-skip'; job: Job; why: SkipReason; expectedMs?: number }
  | {
      type: 'job-fail';
      job: Job;
      durationMs: number;
      output: string;
      cut?: OutputCut;
      /** The end of the job's `log:` file, where its output went instead (read after it failed). */
      logTail?: string;
      command: string | undefined;
      /** Why (report/failure.ts puts it in words: `exit status 1`, `killed by SIGKILL`, ...). */
      failure: JobFailure;
      willRetry: boolean;
      usage?: JobUsage;
    }
  /** Watch mode: waiting for a change to these many files (and files in these many directories). */
  | { type: 'watch-idle'; files: number; dirs: number }
  /** Watch mode: these paths changed; a build starts. */
  | { type: 'watch-change'; paths: string[] }
  | {
      type: 'build-finish';
      ok: boolean;
      ran: number;
      skipped: number;
      failed: number;
      notRun: number;
      interrupted: boolean;
      durationMs: number;
      /** Disk space freed by deleting temporary outputs (SPEC §7), and how many were deleted; absent when none was. */
      freedBytes?: number;
      freedFiles?: number;
    };

export interface Reporter {
  emit(event: BuildEvent): void;
  /** Flushes anything buffered; called once when the command ends. */
  close?(): void | Promise<void>;
}

export class MultiReporter implements Reporter {
  constructor(private readonly reporters: Reporter[]) {}
  emit(event: BuildEvent): void {
    for (const r of this.reporters) r.emit(event);
  }
  async close(): Promise<void> {
    for (const r of this.reporters) await r.close?.();
  }
}
