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

/**
 * What a job's processes used (SPEC §9). Each figure is absent where it
 * could not be measured; `source` says how the others were got.
 */
export interface JobUsage {
  /** User plus system CPU time of the job's whole process tree, in ms. */
  cpuMs?: number;
  /** Peak resident memory of the job's process tree (the sum over its processes at one time), in KiB. */
  maxRssKb?: number;
  /** The job's own run time where the executor knows it better than the build's clock (a cluster's accounting), in ms. */
  wallMs?: number;
  /**
   * `exact`: the kernel's accounting; `sampled`: read from `/proc` while the
   * job ran (a short peak between two samples can be missed); `sacct`: the
   * cluster's accounting. For a local job it says how `cpuMs` was got: its
   * `maxRssKb` is always sampled (see run/usage.ts).
   */
  source: 'exact' | 'sampled' | 'sacct';
}

/** How a job's command ended: well, or with the reason it failed. */
export type JobOutcome = {
  exitCode: number | null;
  signal: string | null;
  /** Captured stdout and stderr, interleaved as they came (empty with a log file). */
  output: string;
  /** What was cut from the front of `output`: only its last MiB is kept (run/output.ts). */
  outputCut?: OutputCut;
  /** What the job used, where the executor could measure it. */
  usage?: JobUsage;
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
