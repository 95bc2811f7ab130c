// The full build: load the project, make the graph, take the lock, open the
// build log, plan, run the plan, and leave the up-to-date stamp for the next
// build's fast path. Loaded only when that fast path (build/noop.ts) cannot
// answer.

import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildGraph } from '../graph/build.js';
import { canProduce } from '../graph/match.js';
import type { Graph, Job } from '../graph/model.js';
import { makePlan, median, planOf, type Plan } from '../plan/plan.js';
import { checkResources } from '../plan/resources.js';
import { isInert, staleReason, type StalenessContext } from '../plan/staleness.js';
import { formatPlanJson, formatPlanText } from '../report/plan.js';
import { findRulefile } from '../rulefile/find.js';
import type { Project } from '../rulefile/model.js';
import type { BuildEvent, Reporter } from '../run/events.js';
import type { Executor } from '../run/executor.js';
import { launcherFor, LocalExecutor } from '../run/local.js';
import { runPlan, type BuildResult } from '../run/scheduler.js';
import { SlurmExecutor } from '../run/slurm.js';
import { FileOracle } from '../state/files.js';
import { BuildLock } from '../state/lock.js';
import { BuildLog, FileLogStorage, logPlaces } from '../state/log.js';
import { readRuleHistory } from '../state/history.js';
import { clearOutputDir } from '../state/output.js';
import { slurmDir, stampPath } from '../state/paths.js';
import { indexable, newIndexId, removeJobIndex, writeJobIndex } from '../state/jobindex.js';
import { logIdentity, mergeStamp, removeStamp, writeStamp } from '../state/stamp.js';
import { UserError } from '../util/errors.js';
import { didYouMean } from '../util/strings.js';
import { CachedFileSystem, DiskFileSystem } from '../util/fs.js';
import { eventLog } from './events.js';
import { buildKey } from './noop.js';
import { openLog, openProject, ruleTargets, targetsOf, warnAll } from './project.js';
import type { BuildOutcome, BuildRequest } from './request.js';
import { depsIndexed, inWholeOrder, shortcutFor, type Shortcut, type StampDelta } from './shortcut.js';

/**
 * One build without the fast path (a dry run too). A user error at any stage
 * is the outcome's diagnostics, with what the build saw up to then.
 */
export async function fullBuild(request: BuildRequest, delta?: StampDelta): Promise<BuildOutcome> {
  const seen: Omit<BuildOutcome, 'exitCode' | 'diagnostics'> = {};
  try {
    const root = delta && dirname(findRulefile(request.project.cwd, request.project.rulefile));
    const shortcut = delta && shortcutFor(root!, delta);
    if (shortcut !== undefined) {
      // undefined: the shortcut does not fit after all, and nothing was written yet.
      const outcome = await build(request, seen, shortcut);
      if (outcome !== undefined) return outcome;
      for (const k of Object.keys(seen)) delete seen[k as keyof typeof seen];
    }
    return (await build(request, seen, undefined))!;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { exitCode: e.exitCode, diagnostics: e.diagnostics, ...seen };
  }
}

/**
 * The build, deciding every job, or with `shortcut` only those it names
 * (build/shortcut.ts); undefined when the shortcut does not fit the graph
 * after all, before anything was written.
 */
async function build(request: BuildRequest, seen: Omit<BuildOutcome, 'exitCode' | 'diagnostics'>, shortcut: Shortcut | undefined): Promise<BuildOutcome | undefined> {
  // One file system for the loader and the graph: it records what they looked at, which the stamp is written from
  // (a dry run writes none: no record of the paths it stat'ed).
  const files = new CachedFileSystem(new DiskFileSystem(dirname(findRulefile(request.project.cwd, request.project.rulefile))), { record: !request.dryRun });
  const project = keptProject(request, shortcut) ?? openProject(request.project, request.report, files);
  if (request.kept) request.kept.project = project;
  seen.project = project;
  checkForcedRules(project, request.forceRules);
  const graph = shortcut
    ? buildGraph(project, shortcut.targets, files, shortcut.boundary)
    : buildGraph(project, ruleTargets(targetsOf(request.targets, request.project.cwd, project), project, files), files);
  // The shortcut stands for a graph that cannot grow, has no temporary outputs and warns of nothing (state/jobindex.ts).
  if (shortcut && (graph.grow !== undefined || graph.warnings.length > 0 || project.warnings.length > 0 || !inWholeOrder(graph, shortcut, project))) return undefined;
  warnAll(request.report, graph.warnings);
  Object.assign(seen, { graph, files });
  const jobsInAll = graph.jobsInAll ?? graph.jobs.length;
  const said = shortcut && { changed: shortcut.changed, deciding: graph.jobs.length, jobs: jobsInAll, stamped: false };
  // Planning errors first: a build that cannot start leaves no trace, not even .rules/.
  checkResources(graph.jobs, request.run.resources);
  if (request.dryRun) {
    // A dry run takes no lock and writes nothing.
    const plan = planFor(request, project, graph, files, openLogFor(request, project, shortcut));
    return { exitCode: 0, diagnostics: [], ...seen, plan, ...(said ? { shortcut: said } : {}) };
  }
  const lock = BuildLock.acquire(project.root);
  try {
    // Another build ran since the stamp was checked: what it did is not in the index's answer.
    if (shortcut && !sameLog(project.root, shortcut)) return undefined;
    const storage = new FileLogStorage(project.root);
    const log = openLogFor(request, project, shortcut, storage);
    let plan: Plan;
    let result: BuildResult | undefined;
    let exitCode: number;
    try {
      plan = planFor(request, project, graph, files, log);
      seen.plan = plan;
      if (request.touch === true) checkTouchable(plan, files);
      ({ exitCode, result } = await execute(request, project, plan, storage, said));
    } finally {
      // Recompaction forgets records of jobs no rule makes any more, unless their output is still there
      // (another Rulefile sharing this directory's .rules/ may make it: its record must not be lost).
      // A job of this graph is live at the cost of one lookup; only the others are matched against the rules.
      // Under the shortcut the graph is only a part: every record is kept.
      log.close(shortcut ? () => true : (key) => graph.producers.has(key) || canProduce(project, key) || files.inner.exists(key));
    }
    if (exitCode === 0) stampIfUpToDate(request, project, graph, files, plan, shortcut);
    if (said) said.stamped = existsSync(stampPath(project.root));
    const counts = result && { ran: result.ran, skipped: result.skipped, failed: result.failed.length, notRun: result.notRun, upToDate: jobsInAll - plan.order.length };
    // The graph as it grew could not be built (SPEC §7): the part that needs it did not start.
    const diagnostics = result?.graphProblems ?? [];
    return { exitCode, diagnostics, ...seen, ...(counts ? { counts } : {}), ...(said ? { shortcut: said } : {}) };
  } finally {
    lock.release();
  }
}

function planFor(request: BuildRequest, project: Project, graph: Graph, fs: CachedFileSystem, log: BuildLog): Plan {
  const files = new FileOracle(fs, log, request.check === 'hash');
  const forceRules = request.forceRules !== undefined && request.forceRules.length > 0 ? { forceRules: new Set(request.forceRules) } : {};
  const ruleTimes = () => ruleMedians(project.root);
  return makePlan({ project, graph, files, log, options: { force: request.force, check: request.check, ...forceRules }, ruleTimes });
}

/** The median of each rule's recent wall times in the history of builds (SPEC §9): how long a job of it not run before may take. */
function ruleMedians(root: string): Map<string, number> | undefined {
  const rules = readRuleHistory(root)?.rules;
  if (rules === undefined) return undefined;
  const medians = new Map<string, number>();
  for (const [name, stats] of Object.entries(rules)) {
    const recent = Array.isArray(stats.recentWallMs) ? stats.recentWallMs.filter((x) => typeof x === 'number' && Number.isFinite(x)) : [];
    if (recent.length > 0) medians.set(name, median(recent));
  }
  return medians;
}

/** `-R RULE`: each RULE must be a rule of the project. */
function checkForcedRules(project: Project, names: readonly string[] | undefined): void {
  for (const name of names ?? []) {
    if (!project.rulesByName.has(name)) throw new UserError(`-R ${name}: no rule named '${name}'${didYouMean(name, project.rulesByName.keys())}`);
  }
}

/**
 * `--touch`: every output of a stale job must be there to be touched. One that
 * is not stops the build before anything is touched (exit 1).
 */
function checkTouchable(plan: Plan, files: CachedFileSystem): void {
  for (const job of plan.order) {
    if (job.rule.phony) continue;
    for (const out of job.outputs) {
      if (files.stat(out) === undefined) throw new UserError(`cannot touch '${out}' (an output of ${job.label}): it does not exist; build it instead`, 1);
    }
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
function stampIfUpToDate(request: BuildRequest, project: Project, graph: Graph, fs: CachedFileSystem, plan: Plan, shortcut: Shortcut | undefined): void {
  // A warning (a glob skipped an entry) must be given again: the next build takes the full path.
  if (project.warnings.length > 0 || graph.warnings.length > 0) return;
  try {
    const { log } = plan.context;
    const decidedAgain = [...plan.order, ...plan.needsRecord];
    let oracle = plan.context.files;
    if (runnable(plan) > 0 || plan.needsRecord.size > 0) {
      oracle = new FileOracle(fs, log, request.check === 'hash');
      const ctx: StalenessContext = {
        project,
        graph,
        files: oracle,
        log,
        options: { force: false, check: request.check },
        willRun: () => false,
        needsRecord: new Set(),
      };
      for (const job of decidedAgain) if (!isInert(job) && staleReason(job, ctx) !== undefined) return;
      if (ctx.needsRecord.size > 0) return;
      // Up to date: a next plan holds nothing (a phony grouping runs only when a job it needs does).
      plan = planOf(ctx, new Map());
    }
    if (runnable(plan) > 0 || plan.needsRecord.size > 0) return;
    if (shortcut) {
      // The graph is the last stamp's: its paths stay, with what this build saw of them, unless the jobs that ran found new dependencies.
      const fresh = depsIndexed(shortcut, decidedAgain, (job) => log.records.get(job.name)?.deps?.keys());
      const merged = fresh ? mergeStamp(project.root, shortcut.stamp, fs, (p) => shortcut.index.find(p), parentsOf(decidedAgain)) : undefined;
      if (merged === undefined) removeStamp(project.root);
      else if (request.kept) request.kept.stamp = merged;
      return;
    }
    const rulefile = project.files[0]!;
    const index = indexable(graph) ? newIndexId() : undefined;
    const written = writeStamp(project.root, {
      key: buildKey(request, rulefile),
      fs,
      read: project.read,
      digests: project.digests,
      upToDate: graph.jobs.length - plan.order.length,
      dryText: formatPlanText(plan),
      dryJson: formatPlanJson(plan),
      ...(index !== undefined ? { index } : {}),
    });
    if (written !== undefined && request.kept) request.kept.stamp = written.written;
    if (written === undefined || index === undefined) return removeJobIndex(project.root);
    // Files inside a directory input or output, as the build walked them: one edited in there concerns the job.
    const inside = (dir: string) => (oracle.inside(dir) ?? plan.context.files.inside(dir))?.files.keys();
    // Where each job's record is in the log (closed now): the shortcut reads those, not the whole log.
    writeJobIndex(project.root, index, written.paths, graph, log, inside, logPlaces(project.root));
  } catch {
    // Without a stamp the next build takes the full path: slower, never wrong.
    removeStamp(project.root);
  }
}

/**
 * The build log. Under the shortcut, when the log is the file the job index
 * was written with, grown only by appends since: what was appended, and the
 * records of the jobs decided, found where the index says they are.
 */
function openLogFor(request: BuildRequest, project: Project, shortcut: Shortcut | undefined, storage = new FileLogStorage(project.root)): BuildLog {
  const kept = shortcut?.index.header.log;
  if (shortcut && kept) {
    const st = statSync(storage.path, { throwIfNoEntry: false });
    // A long tail (many builds since the index) is read whole instead: that load may recompact the log.
    if (st && st.ino === kept.ino && st.size >= kept.bytes && st.size - kept.bytes <= Math.max(kept.bytes / 4, 1 << 20)) {
      const { index } = shortcut;
      const fetch = (key: string) => {
        const job = index.jobNamed(key);
        const at = job === undefined ? undefined : index.logLine(job);
        return at === undefined ? undefined : storage.lineAt(at);
      };
      const log = BuildLog.loadTail(storage, kept.bytes, kept.dropped, fetch);
      if (log) return log;
    }
  }
  return openLog(request.report, storage);
}

/**
 * Watch mode's project from the last build, for the shortcut: the files it
 * read (Rulefile, includes, config files, tables) have the contents the
 * stamp's check found them to have, so loading them again gives the same.
 */
function keptProject(request: BuildRequest, shortcut: Shortcut | undefined): Project | undefined {
  const project = request.kept?.project;
  if (!shortcut || !project || project.warnings.length > 0) return undefined;
  const read = shortcut.stamp.header.read;
  if (read.length !== new Set(project.read).size) return undefined;
  for (const [file, digest] of read) if (project.digests.get(file) !== digest) return undefined;
  return project;
}

/** The directories above the outputs of `jobs`, each once. */
function parentsOf(jobs: readonly Job[]): Set<string> {
  const dirs = new Set<string>();
  for (const job of jobs) {
    for (const out of job.outputs) {
      for (let i = out.lastIndexOf('/'); i > 0; i = out.lastIndexOf('/', i - 1)) {
        const dir = out.slice(0, i);
        if (dirs.has(dir)) break;
        dirs.add(dir);
      }
    }
  }
  return dirs;
}

/** The build log is as the shortcut's stamp knew it: no other build ran since. */
function sameLog(root: string, shortcut: Shortcut): boolean {
  return JSON.stringify(logIdentity(root)) === JSON.stringify(shortcut.stamp.header.log);
}

function executorFor(request: BuildRequest, project: Project, plan: Plan): Executor {
  const choice = request.run.executor;
  switch (choice.kind) {
    case 'slurm':
      return new SlurmExecutor({ dir: slurmDir(project.root), jobName: `rules-${process.pid}-${Date.now().toString(36)}`, pollMs: 250, ...choice.settings });
    case 'given':
      return choice.create();
    case 'local':
      return new LocalExecutor(launcherFor(plan.order.length, request.run.jobs, plan.order.some((j) => j.pending !== undefined)));
  }
}

/**
 * Runs the plan. A failure to write the build log or the event log (a full
 * disk) stops the build as an interrupt does (running jobs stopped, outputs of
 * unrecorded jobs removed) and ends it with that failure, one line, exit 1.
 */
async function execute(
  request: BuildRequest,
  project: Project,
  plan: Plan,
  storage: FileLogStorage,
  shortcut: { changed: number; deciding: number; jobs: number } | undefined,
): Promise<{ exitCode: number; result?: BuildResult }> {
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
  const reporter = await eventLog(request.report, project.root, stop, {
    ...(request.trace !== undefined ? { trace: request.trace } : {}),
    historyWarnings: () => stateFailure === undefined,
  });
  // Once stopped by a failure to write, the jobs stopped were not interrupted by anyone: say what happened instead.
  const told: Reporter = { emit: (e) => reporter.emit(stateFailure === undefined ? e : asStopped(e)) };
  if (shortcut) told.emit({ type: 'shortcut', changed: shortcut.changed, deciding: shortcut.deciding, jobs: shortcut.jobs });
  const onSignal = () => abort.abort();
  request.signal.addEventListener('abort', onSignal);
  if (request.signal.aborted) abort.abort();
  const executor = executorFor(request, project, plan);
  try {
    let result: BuildResult | undefined;
    try {
      const touch = request.touch === true;
      // Touching deletes nothing: a temporary output stays as it is.
      const options = { jobs: request.run.jobs, keepGoing: request.run.keepGoing, resources: request.run.resources, keepTemp: request.run.keepTemp === true || touch, touch };
      result = await runPlan(plan, executor, told, options, abort.signal);
    } catch (e) {
      if (stateFailure === undefined) throw e;
    }
    if (stateFailure !== undefined) throw new UserError(stateFailure.diagnostics, 1);
    if (result!.interrupted) return { exitCode: 130, result: result! };
    if (result!.graphProblems !== undefined) return { exitCode: 2, result: result! };
    return { exitCode: result!.ok ? 0 : 1, result: result! };
  } finally {
    storage.onWriteError = undefined;
    executor.close?.();
    request.signal.removeEventListener('abort', onSignal);
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
  if (e.type === 'job-fail' && e.failure.kind === 'interrupted') return { ...e, failure: { kind: 'stopped' } };
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
