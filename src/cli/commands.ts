// The commands: each loads what it needs, calls the stages, renders the result.

import { dirname, relative, resolve, sep } from 'node:path';
import { buildGraph, defaultTargets } from '../graph/build.js';
import type { Graph } from '../graph/model.js';
import { makePlan, planOf, type Plan } from '../plan/plan.js';
import { isInert, staleReason, type StalenessContext } from '../plan/staleness.js';
import { findRulefile, loadProject } from '../rulefile/load.js';
import type { Project } from '../rulefile/model.js';
import { formatConfigJson, formatConfigText } from '../report/config.js';
import { formatGraph, type GraphFormat } from '../report/graph.js';
import { formatRuleList } from '../report/list.js';
import { formatPlanJson, formatPlanText } from '../report/plan.js';
import { launcherFor, LocalExecutor } from '../run/local.js';
import { applyClean, planClean } from '../run/clean.js';
import type { BuildEvent, Reporter } from '../run/events.js';
import { runPlan } from '../run/scheduler.js';
import { SlurmExecutor } from '../run/slurm.js';
import { stateDir } from '../state/paths.js';
import { FileOracle } from '../state/files.js';
import { BuildLock } from '../state/lock.js';
import { BuildLog, FileLogStorage, type LogStorage } from '../state/log.js';
import { clearOutputDir } from '../state/output.js';
import { removeStamp, writeStamp } from '../state/stamp.js';
import { formatDiagnostic, UserError, type Diagnostic } from '../util/errors.js';
import { CachedFileSystem, DiskFileSystem } from '../util/fs.js';
import { flag, value, values, type ParsedArgs } from './args.js';
import { buildKey } from './noop.js';
import { checkMode, type BuildOptions } from './options.js';
import { buildReporter } from './reporters.js';
import { EXIT_OUTPUT_CLOSED, outputClosed } from './stdio.js';

function load(args: ParsedArgs, fs?: CachedFileSystem): Project {
  const project = loadProject({
    cwd: process.cwd(),
    ...(value(args, 'file') !== undefined ? { rulefile: value(args, 'file')! } : {}),
    configFiles: values(args, 'configfile'),
    configOverrides: values(args, 'config'),
    ...(fs ? { fs } : {}),
  });
  warn(project.warnings);
  return project;
}

/** Warnings go to stderr, each on a line, and never fail a command. */
function warn(warnings: readonly Diagnostic[]): void {
  for (const d of warnings) process.stderr.write(`rules: warning: ${formatDiagnostic(d)}\n`);
}

/** Targets as given, with paths taken relative to the working directory and made relative to the root. */
function targetsOf(args: ParsedArgs, project: Project): string[] {
  if (args.positionals.length === 0) return defaultTargets(project);
  const cwd = process.cwd();
  return args.positionals.map((t) => {
    if (project.rulesByName.has(t) || cwd === project.root) return t;
    const rel = relative(project.root, resolve(cwd, t));
    return rel.startsWith('..') ? resolve(cwd, t) : rel.split(sep).join('/');
  });
}

function openLog(project: Project, storage: LogStorage = new FileLogStorage(project.root)): BuildLog {
  const log = BuildLog.load(storage);
  for (const w of log.warnings) process.stderr.write(`rules: warning: ${w}\n`);
  return log;
}

/** The project's files for one build, rooted at the Rulefile's directory: the loader and the graph go through it, and it records what they looked at. */
function filesFor(args: ParsedArgs): CachedFileSystem {
  return new CachedFileSystem(new DiskFileSystem(dirname(findRulefile(process.cwd(), value(args, 'file')))));
}

function graphFor(args: ParsedArgs, project: Project, fs = new CachedFileSystem(new DiskFileSystem(project.root))): { graph: Graph; fs: CachedFileSystem } {
  const graph = buildGraph(project, targetsOf(args, project), fs);
  warn(graph.warnings);
  return { graph, fs };
}

function planFor(args: ParsedArgs, project: Project, log: BuildLog, { graph, fs } = graphFor(args, project)): Plan {
  const check = checkMode(args);
  const files = new FileOracle(fs, log, check === 'hash');
  return makePlan({ project, graph, files, log, options: { force: flag(args, 'force'), check } });
}

export async function buildCommand(args: ParsedArgs, opts: BuildOptions): Promise<number> {
  return runBuild(args, opts);
}

/** What one build was made of, for watch mode: told as soon as it is known. */
export interface BuildScope {
  project: Project;
  graph?: Graph;
  /** The files as the build saw them (stats cached during the build). */
  fs?: CachedFileSystem;
}

/**
 * One build, from loading the Rulefile to the last job. `signal` (watch mode)
 * replaces the build's own SIGINT/SIGTERM handling; `seen` hears the project
 * and graph as soon as they are known, even if the build then fails.
 */
export async function runBuild(args: ParsedArgs, opts: BuildOptions, signal?: AbortSignal, seen?: (scope: BuildScope) => void): Promise<number> {
  const files = filesFor(args);
  const project = load(args, files);
  seen?.({ project });
  if (opts.dryRun) {
    // A dry run takes no lock and writes nothing.
    const plan = planFor(args, project, openLog(project));
    process.stdout.write(opts.planJson ? formatPlanJson(plan) : formatPlanText(plan));
    if (!opts.planJson && plan.order.length === 0) process.stderr.write('rules: nothing to do\n');
    return 0;
  }
  // The graph first: a build that cannot start leaves no trace, not even .rules/.
  const graph = graphFor(args, project, files);
  seen?.({ project, ...graph });
  const lock = BuildLock.acquire(project.root);
  try {
    const storage = new FileLogStorage(project.root);
    const log = openLog(project, storage);
    let plan: Plan;
    let code: number;
    try {
      plan = planFor(args, project, log, graph);
      code = await build(args, project, plan, opts, storage, signal);
    } finally {
      log.close();
    }
    if (code === 0) stampIfUpToDate(args, opts, project, graph, plan);
    return code;
  } finally {
    lock.release();
  }
}

/** Jobs that run a command (a phony rule without one only groups its inputs). */
function runnable(plan: Plan): number {
  let n = 0;
  for (const job of plan.order) if (!isInert(job)) n++;
  return n;
}

/**
 * After a successful build: if every job is now up to date, write the stamp
 * that lets the next build say so without loading anything (state/stamp.ts).
 *
 * After a build that ran jobs, the jobs the plan found stale (or up to date
 * but without a fresh record) are decided again, in memory: the file system
 * cache holds every file as the build last saw it. The others need not be: a
 * job up to date in the plan had no stale job upstream (that would have made
 * it stale), so none of its files was written by this build.
 */
function stampIfUpToDate(args: ParsedArgs, opts: BuildOptions, project: Project, { graph, fs }: { graph: Graph; fs: CachedFileSystem }, plan: Plan): void {
  // A warning (a glob skipped an entry) must be given again: the next build takes the full path.
  if (project.warnings.length > 0 || graph.warnings.length > 0) return;
  try {
    const { log } = plan.context;
    if (runnable(plan) > 0 || plan.needsRecord.size > 0) {
      const ctx: StalenessContext = {
        project,
        graph,
        files: new FileOracle(fs, log, opts.check === 'hash'),
        log,
        options: { force: false, check: opts.check },
        willRun: () => false,
        needsRecord: new Set(),
      };
      for (const job of [...plan.order, ...plan.needsRecord]) if (!isInert(job) && staleReason(job, ctx) !== undefined) return;
      if (ctx.needsRecord.size > 0) return;
      // Up to date: what a next plan holds is the phony groupings, always "run".
      plan = planOf(ctx, new Map(graph.jobs.filter(isInert).map((j) => [j, 'always'])));
    }
    if (runnable(plan) > 0 || plan.needsRecord.size > 0) return;
    const rulefile = project.files[0]!;
    writeStamp(project.root, {
      key: buildKey(args, opts, rulefile),
      fs,
      read: project.read,
      upToDate: graph.jobs.length - plan.order.length,
      dryText: formatPlanText(plan),
      dryJson: formatPlanJson(plan),
    });
  } catch {
    // Without a stamp the next build takes the full path: slower, never wrong.
    removeStamp(project.root);
  }
}

/**
 * Runs the plan. A failure to write the build log or the event log (a full
 * disk) stops the build as an interrupt does (running jobs stopped, outputs of
 * unrecorded jobs removed) and ends it with that failure, one line, exit 1.
 */
async function build(args: ParsedArgs, project: Project, plan: Plan, opts: BuildOptions, storage: FileLogStorage, signal?: AbortSignal): Promise<number> {
  const total = runnable(plan);
  // Jobs will change files: the stamp of the last build no longer holds.
  if (total > 0) removeStamp(project.root);
  if (total > 0) clearSpilledOutput(project.root);
  const abort = new AbortController();
  let stateFailure: UserError | undefined;
  const stop = (e: UserError) => {
    stateFailure ??= e;
    abort.abort();
  };
  storage.onWriteError = stop;
  // Every build appends its events to .rules/logs/ (SPEC §3), a no-op too.
  const reporter = await buildReporter(args, opts.json, project.root, stop);
  // Once stopped by a failure to write, the jobs stopped were not interrupted by anyone: say what happened instead.
  const told: Reporter = { emit: (e) => reporter.emit(stateFailure === undefined ? e : asStopped(e)) };
  const onSignal = () => abort.abort();
  if (signal) signal.addEventListener('abort', onSignal);
  else {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  // A reader that closed our output stops the build as Ctrl-C would (see stdio.ts).
  outputClosed.addEventListener('abort', onSignal);
  if (signal?.aborted || outputClosed.aborted) abort.abort();
  const executor =
    opts.executor === 'slurm'
      ? new SlurmExecutor({ dir: `${stateDir(project.root)}/slurm`, jobName: `rules-${process.pid}-${Date.now().toString(36)}`, pollMs: 250, ...opts.slurm })
      : new LocalExecutor(launcherFor(plan.order.length, opts.jobs));
  try {
    let result;
    try {
      result = await runPlan(plan, executor, told, { jobs: opts.jobs, keepGoing: flag(args, 'keep-going'), resources: opts.resources }, abort.signal);
    } catch (e) {
      if (stateFailure === undefined) throw e;
    }
    if (stateFailure !== undefined) throw new UserError(stateFailure.diagnostics, 1);
    if (result!.interrupted) return outputClosed.aborted ? EXIT_OUTPUT_CLOSED : 130;
    return result!.ok ? 0 : 1;
  } finally {
    storage.onWriteError = undefined;
    executor.close();
    outputClosed.removeEventListener('abort', onSignal);
    if (signal) signal.removeEventListener('abort', onSignal);
    else {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    const stopped = stateFailure !== undefined;
    try {
      await reporter.close();
    } catch (e) {
      // Told already, if the build was stopped by it; the jobs have run: exit 1.
      if (!stopped) throw e instanceof UserError ? new UserError(e.diagnostics, 1) : e;
    }
  }
}

/** An event of a build stopped because its state could not be written. */
function asStopped(e: BuildEvent): BuildEvent {
  if (e.type === 'job-fail' && e.error === 'interrupted') return { ...e, error: 'stopped: the build state cannot be written' };
  if (e.type === 'build-finish' && e.interrupted) return { ...e, ok: false, interrupted: false };
  return e;
}

/** Job output spilled by an earlier build (state/output.ts): this build's jobs write theirs afresh. */
function clearSpilledOutput(root: string): void {
  try {
    clearOutputDir(root);
  } catch {
    // Left for the next build to remove; a job's spill file is rewritten whole anyway.
  }
}

export function graphCommand(args: ParsedArgs): number {
  const format = (value(args, 'format') ?? 'dot') as GraphFormat;
  if (!['dot', 'mermaid', 'json'].includes(format)) throw new UserError(`--format must be dot, mermaid or json, not '${format}'`);
  const project = load(args);
  const plan = planFor(args, project, openLog(project));
  process.stdout.write(formatGraph(plan, format));
  return 0;
}

export function listCommand(args: ParsedArgs): number {
  process.stdout.write(formatRuleList(load(args)));
  return 0;
}

export function configCommand(args: ParsedArgs): number {
  const project = load(args);
  process.stdout.write(flag(args, 'json') ? formatConfigJson(project.config) : formatConfigText(project.config));
  return 0;
}

export function cleanCommand(args: ParsedArgs): number {
  const project = load(args);
  const dryRun = flag(args, 'dry-run');
  const lock = dryRun ? undefined : BuildLock.acquire(project.root);
  try {
    const log = openLog(project);
    const fs = new CachedFileSystem(new DiskFileSystem(project.root));
    const items = planClean(project, log, fs, args.positionals.length > 0 ? targetsOf(args, project) : undefined);
    const paths = items.flatMap((i) => i.paths);
    for (const p of paths) process.stdout.write(`${dryRun ? 'would remove' : 'removed'} ${p}\n`);
    if (!dryRun) {
      removeStamp(project.root);
      applyClean(items, log, fs);
      log.close();
    }
    const n = `${paths.length} file${paths.length === 1 ? '' : 's'}`;
    const dirs = items.flatMap((i) => i.directories);
    for (const d of dirs) process.stderr.write(`rules: not removing '${d}': it is a directory, not a file (directory outputs are not supported yet)\n`);
    if (paths.length > 0 || dirs.length === 0) {
      process.stderr.write(paths.length === 0 ? 'rules: nothing to clean\n' : `rules: ${dryRun ? 'would remove' : 'removed'} ${n}\n`);
    }
    return dirs.length > 0 ? 1 : 0;
  } finally {
    lock?.release();
  }
}
