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
import { LocalExecutor } from '../run/local.js';
import { runPlan } from '../run/scheduler.js';
import { eventLogPath } from '../state/paths.js';
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

function planFor(args: ParsedArgs, project: Project): { graph: Graph; plan: Plan } {
  const fs = new CachedFileSystem(new DiskFileSystem(project.root));
  const graph = buildGraph(project, targetsOf(args, project), fs);
  const plan = makePlan(graph, fs, { force: flag(args, 'force'), check: checkMode(args) });
  return { graph, plan };
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
  const { plan } = planFor(args, project);
  if (flag(args, 'dry-run')) {
    process.stdout.write(flag(args, 'json') ? formatPlanJson(plan) : formatPlanText(plan));
    if (!flag(args, 'json') && plan.order.length === 0) process.stderr.write('rules: nothing to do\n');
    return 0;
  }

  const reporters: Reporter[] = [];
  const json = logFormat === 'json';
  reporters.push(
    new ConsoleReporter(process.stdout, json ? process.stdout : process.stderr, {
      tty: !json && process.stdout.isTTY === true,
      quiet: json || flag(args, 'quiet'),
      verbose: !json && flag(args, 'verbose'),
      columns: process.stdout.columns ?? 80,
    }),
  );
  if (json) reporters.push(new JsonReporter(2));
  if (plan.order.length > 0) reporters.push(new JsonReporter(eventLogPath(project.root), { pid: process.pid }));
  const reporter = new MultiReporter(reporters);

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runPlan(plan, project, new LocalExecutor(), reporter, { jobs, keepGoing: flag(args, 'keep-going'), resources }, abort.signal);
    if (result.interrupted) return 130;
    return result.ok ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await reporter.close();
  }
}

export function graphCommand(args: ParsedArgs): number {
  const format = (value(args, 'format') ?? 'dot') as GraphFormat;
  if (!['dot', 'mermaid', 'json'].includes(format)) throw new UserError(`--format must be dot, mermaid or json, not '${format}'`);
  const project = load(args);
  const { plan } = planFor(args, project);
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
  load(args);
  throw new UserError(`'rules clean' needs the build log, which this version of rules does not keep yet`);
}
