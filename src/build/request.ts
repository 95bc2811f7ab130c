// What a build is asked to do, and what came of it: the builder's whole
// interface. `cli/` makes a request from the command line, `watch/` makes one
// per rebuild; neither knows how the build is done.

import type { JobIndex } from '../state/jobindex.js';
import type { WrittenStamp } from '../state/stamp.js';
import type { Graph } from '../graph/model.js';
import type { Plan } from '../plan/plan.js';
import type { CheckMode } from '../plan/staleness.js';
import type { Project } from '../rulefile/model.js';
import type { Reporter } from '../run/events.js';
import type { Executor } from '../run/executor.js';
import type { Diagnostic } from '../util/errors.js';
import type { CachedFileSystem } from '../util/fs.js';

/** Where the project comes from. */
export interface ProjectRequest {
  /** The directory rules runs in: targets and files named relative to it are taken from it. */
  cwd: string;
  /** The Rulefile named (`-f`), else the one found in `cwd`. */
  rulefile?: string;
  /** Config files (`--configfile`), later ones winning. */
  configFiles: string[];
  /** `KEY=VALUE` overrides (`--config`), later ones winning. */
  configOverrides: string[];
}

/** How the jobs of a build are run where no rule says otherwise. */
export interface SlurmSettings {
  partition?: string;
  account?: string;
  /** More `sbatch` flags for every job. */
  extra: string[];
  /** How long to wait for a finished job's outputs to appear. */
  outputWaitMs: number;
}

export type ExecutorChoice =
  | { kind: 'local' }
  | { kind: 'slurm'; settings: SlurmSettings }
  /** An executor made by the caller (tests): the builder closes it after the build. */
  | { kind: 'given'; create(): Executor };

export interface RunRequest {
  /** Job slots (`-j`). */
  jobs: number;
  /** Limits of named resources; unnamed ones are unlimited. */
  resources: Map<string, number>;
  keepGoing: boolean;
  /** `--keep-temp`: keep temporary outputs (SPEC §7) instead of deleting them once no job needs them. */
  keepTemp?: boolean;
  executor: ExecutorChoice;
}

/** Who hears the build. The core never prints: it hands what it has to say to these. */
export interface ReportRequest {
  /** A reporter for one build's events; the builder closes it when the build ends. */
  open(): Promise<Reporter>;
  /** Something the user should hear that does not stop the build (a glob skipped an entry), at once. */
  warn(text: string): void;
}

export interface BuildRequest {
  project: ProjectRequest;
  /** Targets as given (rule names, or paths relative to `project.cwd`); none: the default targets. */
  targets: string[];
  /** What decides staleness besides the files: */
  check: CheckMode;
  /** Every job stale (`-B`). */
  force: boolean;
  /** `-R RULE` (SPEC §8): every job of these rules stale, and what depends on them by row 8. */
  forceRules?: string[];
  /** `--touch` (SPEC §8): the stale jobs recorded as if they had run, their outputs made as new as now; no command runs. */
  touch?: boolean;
  /** Decide only: run nothing, write nothing, take no lock. */
  dryRun: boolean;
  /** `--trace FILE` (SPEC §9): write the build as Chrome trace events to this file (absolute path, and as the user named it). */
  trace?: { path: string; shown: string };
  run: RunRequest;
  report: ReportRequest;
  /** Stops the build as Ctrl-C does: running jobs killed, their outputs removed. */
  signal: AbortSignal;
  /**
   * Watch mode's word for what changed since the last build (absolute
   * paths, as the watcher reported them): only these are compared with the
   * up-to-date stamp, not every file it holds (build/noop.ts).
   */
  changed?: readonly string[];
  /**
   * State one watch session keeps from build to build (each piece used only
   * while its file is the one this process wrote or read): the up-to-date
   * stamp and the job index, which a rebuild then need not read again.
   */
  kept?: KeptState;
}

export interface KeptState {
  stamp?: WrittenStamp;
  index?: { index: JobIndex; identity: string };
  /** The project the last build loaded: the shortcut takes it again while the files it read are as they were. */
  project?: Project;
}

/** What decides a plan: a build request without what only running needs. */
export type PlanRequest = Pick<BuildRequest, 'project' | 'targets' | 'check' | 'force' | 'report'> & Pick<Partial<BuildRequest>, 'forceRules'>;

/** What a finished build counted. */
export interface BuildCounts {
  ran: number;
  skipped: number;
  failed: number;
  notRun: number;
  upToDate: number;
}

export interface BuildOutcome {
  /** 0 done (or nothing to do), 1 a job failed, 2 the build could not start, 130 interrupted. */
  exitCode: number;
  /** Why the build could not start or was stopped (empty when it ran to its end). */
  diagnostics: Diagnostic[];
  /** Set when jobs were scheduled (not for a dry run, nor for a build that could not start). */
  counts?: BuildCounts;
  /** What the build saw, as far as it got: for watch mode, which watches the same files. */
  project?: Project;
  graph?: Graph;
  /** The files as the build last saw them (stats cached during the build). */
  files?: CachedFileSystem;
  /** The plan decided (a full build or dry run that got that far). */
  plan?: Plan;
  /**
   * Answered from the up-to-date stamp without loading the project: how many
   * files it checked, and what a dry run of the tree prints.
   */
  stamp?: { files: number; dryText: string; dryJson: string };
  /** Decided by the incremental shortcut (build/shortcut.ts): files changed, jobs decided, jobs in all. */
  shortcut?: { changed: number; deciding: number; jobs: number; stamped: boolean };
}

/** `rules watch`: a build, then a rebuild for every change that matters, until `build.signal` is aborted. */
export interface WatchRequest {
  /** The first build; each rebuild is the same request without `force` and `forceRules` (-B and -R force the first build only). */
  build: BuildRequest;
  /** Hears the watch's own events: waiting for changes, which files changed. */
  reporter: Reporter;
  /** Hears why a build could not start (a broken Rulefile, a missing source): watching goes on. */
  failed(diagnostics: readonly Diagnostic[]): void;
}
