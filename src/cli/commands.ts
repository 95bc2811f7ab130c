// The commands: each loads what it needs, calls the stages, renders the result.

import { availableParallelism } from 'node:os';
import { relative, resolve, sep } from 'node:path';
import { buildGraph, defaultTargets } from '../graph/build.js';
import type { Graph } from '../graph/model.js';
import { makePlan, type Plan } from '../plan/plan.js';
import type { CheckMode } from '../plan/staleness.js';
import { loadProject } from '../rulefile/load.js';
import type { Project } from '../rulefile/model.js';
import { formatConfigJson, formatConfigText } from '../report/config.js';
import { ConsoleReporter } from '../report/console.js';
import { formatGraph, type GraphFormat } from '../report/graph.js';
import { JsonReporter } from '../report/json.js';
import { formatRuleList } from '../report/list.js';
import { formatPlanJson, formatPlanText } from '../report/plan.js';
import { MultiReporter, type Reporter } from '../run/events.js';
import { launcherFor, LocalExecutor } from '../run/local.js';
import { applyClean, planClean } from '../run/clean.js';
import { runPlan } from '../run/scheduler.js';
import { FileOracle } from '../state/files.js';
import { BuildLock } from '../state/lock.js';
import { BuildLog } from '../state/log.js';
import { eventLogPath, rotateEventLog } from '../state/paths.js';
import { UserError } from '../util/errors.js';
import { CachedFileSystem, DiskFileSystem } from '../util/fs.js';
import { flag, value, values, type ParsedArgs } from './args.js';

function load(args: ParsedArgs): Project {
  return loadProject({
    cwd: process.cwd(),
    ...(value(args, 'file') !== undefined ? { rulefile: value(args, 'file')! } : {}),
    configFiles: values(args, 'configfile'),
    configOverrides: values(args, 'config'),
  });
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

function checkMode(args: ParsedArgs): CheckMode {
  const v = value(args, 'check') ?? 'hash';
  if (v !== 'hash' && v !== 'mtime') throw new UserError(`--check must be 'hash' or 'mtime', not '${v}'`);
  return v;
}

function openLog(project: Project): BuildLog {
  const log = BuildLog.open(project.root);
  for (const w of log.warnings) process.stderr.write(`rules: warning: ${w}\n`);
  return log;
}

function graphFor(args: ParsedArgs, project: Project): { graph: Graph; fs: CachedFileSystem } {
  const fs = new CachedFileSystem(new DiskFileSystem(project.root));
  return { graph: buildGraph(project, targetsOf(args, project), fs), fs };
}

function planFor(args: ParsedArgs, project: Project, log: BuildLog, { graph, fs } = graphFor(args, project)): Plan {
  const check = checkMode(args);
  const files = new FileOracle(fs, log, check === 'hash');
  return makePlan({ project, graph, files, log, options: { force: flag(args, 'force'), check } });
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`${what} must be a whole number >= 1, not '${text}'`);
  return n;
}

function parseResources(specs: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const spec of specs) {
    for (const part of spec.split(',')) {
      if (!part) continue;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=([0-9]+(?:\.[0-9]+)?)$/.exec(part.trim());
      if (!m) throw new UserError(`--resources expects NAME=NUMBER[,NAME=NUMBER...], e.g. mem_mb=8000,gpu=1; got '${part}'`);
      if (m[1] === 'cpus') throw new UserError(`--resources cannot limit 'cpus': use -j N`);
      out.set(m[1]!, Number(m[2]));
    }
  }
  return out;
}

export async function buildCommand(args: ParsedArgs, watch: boolean): Promise<number> {
  if (watch || flag(args, 'watch')) throw new UserError(`watch mode is not available in this version of rules yet`);
  const executor = value(args, 'executor') ?? 'local';
  if (executor === 'slurm') throw new UserError(`the slurm executor is not available in this version of rules yet; use --executor local`);
  if (executor !== 'local') throw new UserError(`--executor must be 'local' or 'slurm', not '${executor}'`);
  const logFormat = value(args, 'log-format') ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') throw new UserError(`--log-format must be 'text' or 'json', not '${logFormat}'`);
  const jobs = value(args, 'jobs') !== undefined ? positiveInt(value(args, 'jobs')!, '-j') : availableParallelism();
  const resources = parseResources(values(args, 'resources'));
  if (flag(args, 'json') && !flag(args, 'dry-run')) throw new UserError(`--json goes with -n (print the plan as JSON)`);

  const project = load(args);
  if (flag(args, 'dry-run')) {
    // A dry run takes no lock and writes nothing.
    const plan = planFor(args, project, openLog(project));
    process.stdout.write(flag(args, 'json') ? formatPlanJson(plan) : formatPlanText(plan));
    if (!flag(args, 'json') && plan.order.length === 0) process.stderr.write('rules: nothing to do\n');
    return 0;
  }
  // The graph first: a build that cannot start leaves no trace, not even .rules/.
  const graph = graphFor(args, project);
  const lock = BuildLock.acquire(project.root);
  try {
    const log = openLog(project);
    try {
      return await build(args, project, planFor(args, project, log, graph), jobs, resources, logFormat === 'json');
    } finally {
      log.close();
    }
  } finally {
    lock.release();
  }
}

async function build(args: ParsedArgs, project: Project, plan: Plan, jobs: number, resources: Map<string, number>, json: boolean): Promise<number> {
  const reporters: Reporter[] = [];
  reporters.push(
    new ConsoleReporter(process.stdout, json ? process.stdout : process.stderr, {
      tty: !json && process.stdout.isTTY === true,
      quiet: json || flag(args, 'quiet'),
      verbose: !json && flag(args, 'verbose'),
      columns: process.stdout.columns ?? 80,
    }),
  );
  if (json) reporters.push(new JsonReporter(2));
  if (plan.order.length > 0) {
    rotateEventLog(project.root);
    reporters.push(new JsonReporter(eventLogPath(project.root), { pid: process.pid }));
  }
  const reporter = new MultiReporter(reporters);

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const executor = new LocalExecutor(launcherFor(plan.order.length, jobs));
  try {
    const result = await runPlan(plan, executor, reporter, { jobs, keepGoing: flag(args, 'keep-going'), resources }, abort.signal);
    if (result.interrupted) return 130;
    return result.ok ? 0 : 1;
  } finally {
    executor.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await reporter.close();
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
      applyClean(items, log, fs);
      log.close();
    }
    const n = `${paths.length} file${paths.length === 1 ? '' : 's'}`;
    process.stderr.write(paths.length === 0 ? 'rules: nothing to clean\n' : `rules: ${dryRun ? 'would remove' : 'removed'} ${n}\n`);
    return 0;
  } finally {
    lock?.release();
  }
}
