// The options of `rules build`, checked once: the no-op fast path and the full
// build read them from here, so both accept and refuse exactly the same.

import { accessSync, constants } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { BuildRequest, ProjectRequest, ReportRequest, SlurmSettings } from '../build/request.js';
import type { CheckMode } from '../plan/staleness.js';
import { UserError } from '../util/errors.js';
import { flag, value, values, type ParsedArgs } from './args.js';

export interface BuildOptions {
  executor: 'local' | 'slurm';
  slurm: SlurmSettings;
  json: boolean;
  jobs: number;
  resources: Map<string, number>;
  check: CheckMode;
  dryRun: boolean;
  /** `--json` with `-n`: the plan as JSON. */
  planJson: boolean;
  force: boolean;
  /** `rules watch` or `build --watch`. */
  watch: boolean;
  /** `--question`: decide as a dry run does, print nothing, answer by the exit status. */
  question: boolean;
  /** `-p` with `-n`: each job's command under its line. */
  printCommands: boolean;
  /** `-R RULE` (repeatable). */
  forceRules: string[];
  /** `--touch`: record the stale jobs as if they had run. */
  touch: boolean;
  /** `--trace FILE`: the build as Chrome trace events, to FILE (as given). */
  trace?: string;
}

export function buildOptions(args: ParsedArgs, watch: boolean): BuildOptions {
  if (watch && flag(args, 'dry-run')) throw new UserError(`a dry run cannot watch: use 'rules build -n', or 'rules watch' without -n`);
  const executor = value(args, 'executor') ?? 'local';
  if (executor !== 'local' && executor !== 'slurm') throw new UserError(`--executor must be 'local' or 'slurm', not '${executor}'`);
  const wait = value(args, 'slurm-output-wait') ?? '30';
  if (!/^\d+(\.\d+)?$/.test(wait)) throw new UserError(`--slurm-output-wait must be a number of seconds, not '${wait}'`);
  const slurm: SlurmSettings = {
    extra: values(args, 'slurm-extra').flatMap((f) => f.split(/\s+/).filter(Boolean)),
    outputWaitMs: Number(wait) * 1000,
  };
  if (value(args, 'slurm-partition') !== undefined) slurm.partition = value(args, 'slurm-partition')!;
  if (value(args, 'slurm-account') !== undefined) slurm.account = value(args, 'slurm-account')!;
  // A dry run, --question and --touch run nothing, so they need no sbatch.
  if (executor === 'slurm' && !flag(args, 'dry-run') && !flag(args, 'question') && !flag(args, 'touch') && !onPath('sbatch')) {
    throw new UserError(`--executor slurm: 'sbatch' is not on PATH; run rules where SLURM's commands are (a login node), or use --executor local`);
  }
  const logFormat = value(args, 'log-format') ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') throw new UserError(`--log-format must be 'text' or 'json', not '${logFormat}'`);
  const jobs = value(args, 'jobs') !== undefined ? positiveInt(value(args, 'jobs')!, '-j') : availableParallelism();
  const resources = parseResources(values(args, 'resources'));
  if (flag(args, 'json') && !flag(args, 'dry-run')) throw new UserError(`--json goes with -n (print the plan as JSON)`);
  const question = flag(args, 'question');
  const touch = flag(args, 'touch');
  if (flag(args, 'print-commands') && !flag(args, 'dry-run')) throw new UserError(`-p/--print-commands goes with -n (print each job's command under its line)`);
  if (question && (flag(args, 'dry-run') || touch)) throw new UserError(`--question goes alone: it prints nothing and answers by its exit status (not with ${touch ? '--touch' : '-n'})`);
  if (watch && (question || touch)) throw new UserError(`${question ? '--question' : '--touch'} cannot watch: it builds nothing`);
  if (touch && flag(args, 'dry-run')) throw new UserError(`--touch cannot be a dry run: 'rules build -n' shows what it would touch`);
  const trace = value(args, 'trace');
  if (trace !== undefined && (flag(args, 'dry-run') || question)) throw new UserError(`--trace records a build as it runs: not with ${question ? '--question' : '-n'}, which run nothing`);
  if (trace === '') throw new UserError(`--trace needs a file name, e.g. --trace build-trace.json`);
  return {
    executor,
    slurm,
    json: logFormat === 'json',
    jobs,
    resources,
    check: checkMode(args),
    // A question is a dry run that prints nothing: no lock, nothing written.
    dryRun: flag(args, 'dry-run') || question,
    planJson: flag(args, 'json'),
    force: flag(args, 'force'),
    watch,
    question,
    printCommands: flag(args, 'print-commands'),
    forceRules: values(args, 'force-rule'),
    touch,
    ...(trace !== undefined ? { trace } : {}),
  };
}

/** Where the project comes from, as the command line says. */
export function projectRequest(args: ParsedArgs): ProjectRequest {
  const file = value(args, 'file');
  return { cwd: process.cwd(), ...(file !== undefined ? { rulefile: file } : {}), configFiles: values(args, 'configfile'), configOverrides: values(args, 'config') };
}

/** The builder's request for this command line. */
export function buildRequest(args: ParsedArgs, opts: BuildOptions, report: ReportRequest, signal: AbortSignal): BuildRequest {
  return {
    project: projectRequest(args),
    targets: args.positionals,
    check: opts.check,
    force: opts.force,
    ...(opts.forceRules.length > 0 ? { forceRules: opts.forceRules } : {}),
    ...(opts.touch ? { touch: true } : {}),
    ...(opts.trace !== undefined ? { trace: { path: resolve(opts.trace), shown: opts.trace } } : {}),
    dryRun: opts.dryRun,
    run: {
      jobs: opts.jobs,
      resources: opts.resources,
      keepGoing: flag(args, 'keep-going'),
      keepTemp: flag(args, 'keep-temp'),
      executor: opts.executor === 'slurm' ? { kind: 'slurm', settings: opts.slurm } : { kind: 'local' },
    },
    report,
    signal,
  };
}

export function checkMode(args: ParsedArgs): CheckMode {
  const v = value(args, 'check') ?? 'hash';
  if (v !== 'hash' && v !== 'mtime') throw new UserError(`--check must be 'hash' or 'mtime', not '${v}'`);
  return v;
}

/** Whether `cmd` is an executable on PATH. */
export function onPath(cmd: string, path = process.env.PATH ?? ''): boolean {
  for (const dir of path.split(':')) {
    if (!dir) continue;
    try {
      accessSync(`${dir}/${cmd}`, constants.X_OK);
      return true;
    } catch {
      // Not here.
    }
  }
  return false;
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
