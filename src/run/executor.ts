// Executors run one job's command somewhere. The scheduler talks only to this
// interface, so a cluster executor plugs in beside the local one.

import type { Job } from '../graph/model.js';
import type { JobFailure } from './failure.js';
import type { OutputCut } from './output.js';

export interface JobSpec {
  job: Job;
  command: string;
  /** The shell as argv; the command is appended. */
  shell: string[];
  /** Absolute working directory (the project root). */
  cwd: string;
  /** What the job's environment adds to that of `rules` itself. */
  env: Record<string, string>;
  /** Absolute path of the job's log file: its stdout and stderr go there instead of being captured. */
  logPath?: string;
  /** Absolute path where captured output too long to keep in memory is written whole. */
  spillPath?: string;
}

/** How a job's command ended: well, or with the reason it failed. */
export type JobOutcome = {
  exitCode: number | null;
  signal: string | null;
  /** Captured stdout and stderr, interleaved as they came (empty with a log file). */
  output: string;
  /** What was cut from the front of `output`: only its last MiB is kept (run/output.ts). */
  outputCut?: OutputCut;
} & (
  | { ok: true }
  | {
      ok: false;
      failure: JobFailure;
      /** The end of the job's log file (with a rule `log:`), read after it failed. */
      logTail?: string;
    }
);

export interface RunningJob {
  readonly done: Promise<JobOutcome>;
  /** Stops the job (its whole process group, for a local job). */
  kill(): void;
}

export interface Executor {
  start(spec: JobSpec): RunningJob;
  /**
   * The job gets the resources it asks for wherever it runs (a cluster
   * allocation), rather than at most the `-j` slots of this machine: what
   * `{resources.cpus}` says then.
   */
  readonly grantsRequest?: boolean;
  /** Releases what the executor holds (helper processes); called once after the build. */
  close?(): void;
}
