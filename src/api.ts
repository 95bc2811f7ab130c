// The programmatic interface of the `rulefile` package: load a project, plan
// a build, run it, hearing the same events the command line reports. A thin
// layer over the builder (build/builder.ts): what is exported here is what we
// keep stable; see docs/api.md. Nothing here prints.

import { resolve } from 'node:path';
import type { BuildRequest, ProjectRequest, ReportRequest } from './build/request.js';
import type { CheckMode } from './plan/staleness.js';
import type { Project } from './rulefile/model.js';
import type { BuildEvent } from './run/events.js';
import { formatDiagnostic, UserError, type Diagnostic } from './util/errors.js';

export type { Project, Rule } from './rulefile/model.js';
export type { Job } from './graph/model.js';
export type { BuildEvent } from './run/events.js';
export type { StaleReason, SkipReason } from './plan/reason.js';
export type { JobFailure } from './run/failure.js';
export type { Diagnostic, SourceLocation } from './util/errors.js';
export { UserError, formatDiagnostic };

/** Where the project is, and its configuration: what `-f`, `--configfile` and `--config` say on the command line. */
export interface ProjectOptions {
  /** The directory to work in, as `rules -C DIR` (default: the process's working directory). */
  dir?: string;
  /** The Rulefile, relative to `dir` (default: Rulefile, Rulefile.yaml or Rulefile.yml in `dir`). */
  rulefile?: string;
  /** Config files over the Rulefile's config, later ones winning. */
  configFiles?: string[];
  /** Config values over everything else, as `--config KEY=VALUE` (KEY may be dotted: `fit.order`). */
  config?: Record<string, unknown>;
  /** Hears each warning that does not stop the build (a glob that skipped an entry), as the command line prints it. */
  onWarning?: (text: string) => void;
}

/** What decides which jobs run. */
export interface PlanOptions extends ProjectOptions {
  /** Rule names or paths relative to `dir` (default: the Rulefile's default targets). */
  targets?: string[];
  /** `hash` (default) or `mtime`: how a changed file is told (`--check`). */
  check?: CheckMode;
  /** Every job stale (`-B`). */
  force?: boolean;
}

export interface BuildOptions extends PlanOptions {
  /** Job slots (`-j`; default 1). */
  jobs?: number;
  /** After a failure, build everything that does not depend on it (`-k`). */
  keepGoing?: boolean;
  /** Keep temporary outputs (`--keep-temp`). */
  keepTemp?: boolean;
  /** Limits of named resources other than cpus (`--resources`). */
  resources?: Record<string, number>;
  /** Hears every event of the build as it happens: the events the console and `--log-format json` report. */
  onEvent?: (event: BuildEvent) => void;
  /** Aborting it stops the build as Ctrl-C does: running jobs are killed and their outputs removed. */
  signal?: AbortSignal;
}

/** A job that would run, as `rules build -n --json` lists it, with its label. */
export interface PlannedJob {
  /** `rule[name=value,...]`, as the command line names the job. */
  label: string;
  rule: string;
  wildcards: Record<string, string>;
  outputs: string[];
  inputs: string[];
  /** Why it would run, in the words of the dry run. */
  reason: string;
  [field: string]: unknown;
}

export interface PlanResult {
  /** 0 when the plan was decided, 2 when the build could not start (see `diagnostics`). */
  exitCode: number;
  diagnostics: Diagnostic[];
  /** The jobs that would run, in the order a one-slot build would run them; empty when there is nothing to do. */
  jobs: PlannedJob[];
}

export interface BuildResult {
  /** As the command's exit status: 0 done or nothing to do, 1 a job failed, 2 could not start, 130 interrupted. */
  exitCode: number;
  /** `exitCode` is 0. */
  ok: boolean;
  /** Why the build could not start or was stopped (each with its place in the Rulefile, where there is one). */
  diagnostics: Diagnostic[];
  /** What ran: absent when nothing was scheduled (nothing to do, or the build could not start). */
  counts?: { ran: number; skipped: number; failed: number; notRun: number; upToDate: number };
}

/** Loads the Rulefile and its configuration; a mistake in them throws a `UserError` whose `diagnostics` say where. */
export async function loadProject(options: ProjectOptions = {}): Promise<Project> {
  const { openProject } = await import('./build/project.js');
  return openProject(projectRequest(options), reportRequest(options));
}

/** Decides what a build would run, and why, running and writing nothing (`rules build -n`). */
export async function plan(options: PlanOptions = {}): Promise<PlanResult> {
  const [{ plan: decide }, { formatPlanJson }] = await Promise.all([import('./build/builder.js'), import('./report/plan.js')]);
  const outcome = await decide({ project: projectRequest(options), targets: options.targets ?? [], check: options.check ?? 'hash', force: options.force ?? false, report: reportRequest(options) });
  if (outcome.exitCode !== 0 || outcome.plan === undefined) return { exitCode: outcome.exitCode, diagnostics: outcome.diagnostics, jobs: [] };
  const order = outcome.plan.order;
  const listed = (JSON.parse(formatPlanJson(outcome.plan)) as { jobs: Record<string, unknown>[] }).jobs;
  return { exitCode: 0, diagnostics: outcome.diagnostics, jobs: listed.map((j, i) => ({ label: order[i]!.label, ...j }) as PlannedJob) };
}

/** Brings the targets up to date, as `rules build` does, with the same build log, lock and up-to-date stamp. */
export async function build(options: BuildOptions = {}): Promise<BuildResult> {
  const { build: run } = await import('./build/builder.js');
  const request: BuildRequest = {
    project: projectRequest(options),
    targets: options.targets ?? [],
    check: options.check ?? 'hash',
    force: options.force ?? false,
    dryRun: false,
    run: {
      jobs: options.jobs ?? 1,
      resources: new Map(Object.entries(options.resources ?? {})),
      keepGoing: options.keepGoing ?? false,
      keepTemp: options.keepTemp ?? false,
      executor: { kind: 'local' },
    },
    report: reportRequest(options, options.onEvent),
    signal: options.signal ?? new AbortController().signal,
  };
  const outcome = await run(request);
  return {
    exitCode: outcome.exitCode,
    ok: outcome.exitCode === 0,
    diagnostics: outcome.diagnostics,
    ...(outcome.counts ? { counts: outcome.counts } : {}),
  };
}

function projectRequest(options: ProjectOptions): ProjectRequest {
  const config = Object.entries(options.config ?? {}).map(([key, v]) => `${key}=${JSON.stringify(v)}`);
  return {
    cwd: resolve(options.dir ?? process.cwd()),
    ...(options.rulefile !== undefined ? { rulefile: options.rulefile } : {}),
    configFiles: options.configFiles ?? [],
    configOverrides: config,
  };
}

function reportRequest(options: ProjectOptions, onEvent?: (event: BuildEvent) => void): ReportRequest {
  return {
    open: async () => ({ emit: (event) => onEvent?.(event) }),
    warn: (text) => options.onWarning?.(text),
  };
}
