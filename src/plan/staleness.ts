// Why a job must run (SPEC §2), as a typed reason (reason.ts). This is the one
// place that decides staleness; reasons are checked in the order SPEC gives.

import { dropImplicitInputs, type Graph, type Job } from '../graph/model.js';
import { askedTemps, tempOutputFor } from '../graph/temp.js';
import type { Project, Rule } from '../rulefile/model.js';
import type { FileOracle } from '../state/files.js';
import type { BuildLog, FileInfo, JobRecord } from '../state/log.js';
import type { StaleReason } from './reason.js';
import { sameFile, type FileStat } from '../util/fs.js';
import { jobSignature, signatureChange } from './signature.js';

export type CheckMode = 'hash' | 'mtime';

export interface StalenessOptions {
  force: boolean;
  /** `-R RULE` (SPEC §8): every job of these rules is stale (`forced`). */
  forceRules?: ReadonlySet<string>;
  check: CheckMode;
}

export interface StalenessContext {
  project: Project;
  graph: Graph;
  files: FileOracle;
  log: BuildLog;
  options: StalenessOptions;
  /** Whether a job will run in this build (decided before, in dependency order). */
  willRun(job: Job): boolean;
  /** Up-to-date jobs whose record must be written: adopted ones, and ones whose files were re-stat'ed. */
  needsRecord: Set<Job>;
  /** For the plan's weights (SPEC §9), not for staleness: each rule's median wall time in the history of builds. */
  ruleTimes?: () => ReadonlyMap<string, number> | undefined;
}

/** A job whose running changes nothing downstream: a phony rule without a command. */
export function isInert(job: Job): boolean {
  return job.rule.phony && job.rule.run === undefined;
}

/** The key of a job in the build log. */
export function recordKey(job: Job): string {
  return job.name;
}

function isPhonyInput(ctx: StalenessContext, path: string): boolean {
  return ctx.graph.producers.get(path)?.rule.phony === true;
}

/**
 * The first input (declaration order; then the implicit ones, with `implicit`)
 * newer than the oldest output; a directory by the newest mtime in it.
 */
function newerInput(job: Job, ctx: StalenessContext, oldest: number, implicit: boolean): string | undefined {
  for (const input of job.inputs) {
    if (isPhonyInput(ctx, input)) continue;
    const st = ctx.files.fs.stat(input);
    if (st !== undefined && (st.isDirectory ? ctx.files.mtimeOf(input, st) : st.mtimeMs) > oldest) return input;
    // A temporary input gone as planned is as new as its job's record says (SPEC §7).
    if (st === undefined && (goneTemp(ctx, input)?.info.mtimeMs ?? -Infinity) > oldest) return input;
  }
  if (implicit) {
    for (const input of job.implicitInputs) {
      const st = ctx.files.fs.stat(input);
      if (st !== undefined && st.mtimeMs > oldest) return input;
    }
  }
  return undefined;
}

/**
 * A temporary output (SPEC §7) gone as planned: called for a missing path; it
 * is (or lies inside) a temporary output of a job whose complete record keeps
 * it, and the build was not asked for it. What that record says of it
 * (`exact`: of this very path; else of the temporary directory it lies in).
 */
export function goneTemp(ctx: Pick<StalenessContext, 'graph' | 'log'>, path: string): { info: FileInfo; exact: boolean } | undefined {
  const producer = ctx.graph.producers.get(path);
  if (!producer || producer.tempOutputs === undefined) return undefined;
  const temp = tempOutputFor(producer, path);
  if (temp === undefined || askedTemps(ctx.graph).has(temp)) return undefined;
  const key = recordKey(producer);
  if (ctx.log.isIncomplete(key)) return undefined;
  const info = ctx.log.records.get(key)?.outputs.get(temp);
  return info === undefined ? undefined : { info, exact: temp === path };
}

/**
 * Whether a missing input that is a temporary output gone as planned differs
 * from what the job's record says it read: compared with its producer's
 * record (by hash, else by stat). Undefined when it is no such input (an
 * upstream job will make it). One inside a temporary directory is as recorded.
 */
function goneTempChanged(ctx: StalenessContext, path: string, recorded: FileInfo | undefined): boolean | undefined {
  const gone = goneTemp(ctx, path);
  if (gone === undefined || ctx.willRun(ctx.graph.producers.get(path)!)) return undefined;
  if (!gone.exact) return false;
  if (recorded === undefined) return true;
  return recorded.hash !== '' && gone.info.hash !== '' ? recorded.hash !== gone.info.hash : !sameFile(recorded, gone.info);
}

/** Whether `out` of `job` is declared as a directory output. */
function isDirOutput(job: Job, out: string): boolean {
  return job.dirOutputs !== undefined && job.dirOutputs.has(out);
}

/** Whether an upstream job that will run in this build makes `path`. */
export function madeByStale(ctx: StalenessContext, path: string): boolean {
  const producer = ctx.graph.producers.get(path);
  return producer !== undefined && producer !== null && !isInert(producer) && ctx.willRun(producer);
}

function upstreamReason(job: Job, ctx: StalenessContext, record?: JobRecord): StaleReason | undefined {
  for (const input of job.inputs) if (madeByStale(ctx, input)) return { kind: 'upstream', path: input };
  for (const input of job.implicitInputs) if (madeByStale(ctx, input)) return { kind: 'upstream', path: input };
  // A discovered dependency made by a job of the graph (a generated header): decided again after that job ran.
  if (record?.deps !== undefined) for (const dep of record.deps.keys()) if (madeByStale(ctx, dep)) return { kind: 'upstream', path: dep };
  return undefined;
}

/**
 * How a path compares with its record: `changed`, the same but to be recorded
 * again (`restat`: another stat, or a record made without a hash), or `same`.
 */
type Comparison = 'changed' | 'restat' | 'same';

/** How file `path` (stat'ed as `st`) compares with its record: by content when hashing, else by stat. */
function fileChange(ctx: StalenessContext, path: string, st: FileStat, recorded: FileInfo): Comparison {
  // Recorded under --check mtime, without a hash: record one now, so a later touch is no change.
  if (sameFile(st, recorded)) return recorded.hash === '' && ctx.files.hashing ? 'restat' : 'same';
  return ctx.files.changedSince(path, recorded) ? 'changed' : 'restat';
}

/**
 * How directory `path` compares with its record (hash mode): its tree
 * `changed`, the same but recorded with other stats (`restat`: a touched
 * file, a record without hashes), or the same.
 */
function treeChange(ctx: StalenessContext, path: string, recorded: FileInfo): Comparison {
  const now = ctx.files.current(path)!;
  // Recorded under --check mtime, without a hash: the same stats then stand for the same tree (as for a file).
  if (recorded.hash === '') return now.mtimeMs === recorded.mtimeMs && now.size === recorded.size ? 'restat' : 'changed';
  if (now.hash !== recorded.hash) return 'changed';
  return now.mtimeMs !== recorded.mtimeMs || now.size !== recorded.size || now.ino !== recorded.ino ? 'restat' : 'same';
}

/**
 * Row 6 for the dependencies the last run discovered (SPEC §6), checked after
 * the declared inputs: one changed or deleted is `input-changed`; under
 * --check mtime, one newer than the oldest output is `input-newer`. One
 * missing that an upstream job will make is left to row 8. `restat`: all
 * unchanged, but some must be recorded again.
 */
function discoveredReason(deps: Map<string, FileInfo>, ctx: StalenessContext, oldest: number): StaleReason | 'restat' | undefined {
  const fs = ctx.files.fs;
  const hashing = ctx.options.check === 'hash';
  let restatted = false;
  for (const [dep, recorded] of deps) {
    const st = fs.stat(dep);
    if (st === undefined) {
      if (madeByStale(ctx, dep)) continue;
      if (goneTempChanged(ctx, dep, recorded) === false) continue;
      return { kind: 'input-changed', path: dep };
    }
    if (!hashing) {
      if (st.mtimeMs > oldest) return { kind: 'input-newer', path: dep };
      continue;
    }
    const c = fileChange(ctx, dep, st, recorded);
    if (c === 'changed') return { kind: 'input-changed', path: dep };
    if (c === 'restat') restatted = true;
  }
  return restatted ? 'restat' : undefined;
}

/**
 * Row 6 for the inputs the Rulefile does not declare, after the declared
 * ones: the files the command names, then the dependencies the last run
 * discovered. `restat`: all unchanged, but some must be recorded again.
 */
function undeclaredReason(job: Job, ctx: StalenessContext, record: JobRecord, oldest: number): StaleReason | 'restat' | undefined {
  const implicit = job.implicitInputs.length > 0 ? implicitChange(job, ctx, record, oldest) : undefined;
  if (implicit !== undefined && implicit !== 'restat') return implicit;
  const discovered = record.deps !== undefined ? discoveredReason(record.deps, ctx, oldest) : undefined;
  if (discovered !== undefined && discovered !== 'restat') return discovered;
  return implicit ?? discovered;
}

/**
 * Row 6 for the files the command names (SPEC §6), after the declared inputs,
 * in both check modes: changed since the record (by content, or by stat under
 * --check mtime) is a changed input. One the record does not know (the
 * feature just turned on, a log from before it) is decided by Make's rule:
 * newer than the oldest output is a change; else it is adopted (`restat`).
 */
function implicitChange(job: Job, ctx: StalenessContext, record: JobRecord, oldest: number): StaleReason | 'restat' | undefined {
  let restat = false;
  for (const input of job.implicitInputs) {
    const st = ctx.files.fs.stat(input);
    if (st === undefined) {
      if (ctx.graph.producers.get(input)) continue; // an upstream job will make it
      return { kind: 'input-changed', path: input };
    }
    const recorded = record.inputs.get(input);
    if (recorded === undefined) {
      if (st.mtimeMs > oldest) return { kind: 'input-changed', path: input };
      restat = true;
      continue;
    }
    const c = fileChange(ctx, input, st, recorded);
    if (c === 'changed') return { kind: 'input-changed', path: input };
    if (c === 'restat') restat = true;
  }
  return restat ? 'restat' : undefined;
}

const droppedCache = new WeakMap<BuildLog, { version: number; graph: Graph; byRule: Map<Rule, string[]> }>();

/**
 * The files each rule's jobs changed themselves while they ran (their records'
 * `dropped`): no input of any job of the rule, so that a log all its jobs
 * append to never makes one of them stale. Made once per state of the log.
 */
function droppedByRule(ctx: StalenessContext): Map<Rule, string[]> {
  const { log, graph } = ctx;
  const cached = droppedCache.get(log);
  if (cached !== undefined && cached.version === log.droppedVersion && cached.graph === graph) return cached.byRule;
  const byRule = new Map<Rule, string[]>();
  for (const key of log.droppedKeys) {
    // A graph that is part of the whole (the incremental shortcut) asks the whole's job index for jobs it does not hold.
    const rule = graph.producers.get(key)?.rule ?? graph.ruleOf?.(key);
    const dropped = log.records.get(key)?.dropped;
    if (!rule || dropped === undefined) continue;
    const list = byRule.get(rule);
    if (list === undefined) byRule.set(rule, [...dropped]);
    else for (const d of dropped) if (!list.includes(d)) list.push(d);
  }
  droppedCache.set(log, { version: log.droppedVersion, graph, byRule });
  return byRule;
}

/** The reason `job` must run, or undefined when it is up to date. */
export function staleReason(job: Job, ctx: StalenessContext): StaleReason | undefined {
  const { options } = ctx;
  const fs = ctx.files.fs;
  // Files the jobs of its rule change themselves are no inputs of it (SPEC §6), whatever else is decided.
  if (job.implicitInputs.length > 0 && ctx.log.droppedKeys.size > 0) {
    const dropped = droppedByRule(ctx).get(job.rule);
    if (dropped !== undefined) dropImplicitInputs(job, dropped);
  }
  if (options.force || options.forceRules?.has(job.rule.name) === true) return { kind: 'forced' };
  if (job.rule.always) return { kind: 'always' };
  // A phony rule without a command only groups its inputs: it "runs" when a job it needs does (SPEC §2).
  if (isInert(job)) return job.deps.some((d) => ctx.willRun(d)) ? { kind: 'always' } : undefined;
  if (job.rule.phony) return { kind: 'always' };
  // A glob waiting for a directory a job will make: what the job needs is known only once that job has run (SPEC §7).
  if (job.pending !== undefined) {
    for (const g of job.pending) if (ctx.willRun(g.producer)) return { kind: 'upstream', path: `${g.dir}/` };
  }

  let oldest = Infinity;
  for (const out of job.outputs) {
    const st = fs.stat(out);
    if (st === undefined && job.tempOutputs?.has(out) === true) {
      // Deleted once no job needed it, its record kept (SPEC §7): not missing, as old as recorded.
      const gone = goneTemp(ctx, out);
      if (gone !== undefined) {
        if (gone.info.mtimeMs < oldest) oldest = gone.info.mtimeMs;
        continue;
      }
    }
    // A directory where a file is declared is no output (the job then fails, naming it), nor a file where a directory is.
    if (st === undefined || st.isDirectory !== isDirOutput(job, out)) return { kind: 'output-missing', path: out };
    const mtime = st.isDirectory ? ctx.files.mtimeOf(out, st) : st.mtimeMs;
    if (mtime < oldest) oldest = mtime;
  }
  const key = recordKey(job);
  if (ctx.log.isIncomplete(key)) return { kind: 'incomplete' };

  const record = ctx.log.records.get(key);
  if (record === undefined) {
    // No record: Make's rule, so that an existing tree is adopted without rerunning.
    const newer = newerInput(job, ctx, oldest, true);
    if (newer !== undefined) return { kind: 'no-record-input-newer', path: newer };
    const up = upstreamReason(job, ctx);
    if (up !== undefined) return up;
    ctx.needsRecord.add(job);
    return undefined;
  }

  const change = signatureChange(record.signature, jobSignature(ctx.project, job));
  if (change !== undefined) return change;

  let restatted = false;
  if (options.check === 'hash') {
    for (const input of job.inputs) {
      if (isPhonyInput(ctx, input)) continue;
      const st = fs.stat(input);
      if (st === undefined) {
        // A temporary input gone as planned is what its producer's record says (SPEC §7); else an upstream job will make it.
        if (goneTempChanged(ctx, input, record.inputs.get(input)) === true) return { kind: 'input-changed', path: input };
        continue;
      }
      const recorded = record.inputs.get(input);
      if (recorded === undefined) return { kind: 'input-changed', path: input };
      // A directory's own stat says nothing of a file edited inside it: its tree is compared.
      const c = st.isDirectory ? treeChange(ctx, input, recorded) : fileChange(ctx, input, st, recorded);
      if (c === 'changed') return { kind: 'input-changed', path: input };
      if (c === 'restat') restatted = true;
    }
    const undeclared = undeclaredReason(job, ctx, record, oldest);
    if (undeclared === 'restat') restatted = true;
    else if (undeclared !== undefined) return undeclared;
    for (const out of job.outputs) {
      // A temporary output gone as planned (row 2 let it pass) was not modified.
      if (job.tempOutputs?.has(out) === true && fs.stat(out) === undefined) continue;
      const recorded = record.outputs.get(out);
      if (recorded === undefined) return { kind: 'output-modified', path: out };
      const c = isDirOutput(job, out) ? treeChange(ctx, out, recorded) : fileChange(ctx, out, fs.stat(out)!, recorded);
      if (c === 'changed') return { kind: 'output-modified', path: out };
      if (c === 'restat') restatted = true;
    }
  } else {
    const newer = newerInput(job, ctx, oldest, false);
    if (newer !== undefined) return { kind: 'input-newer', path: newer };
    const undeclared = undeclaredReason(job, ctx, record, oldest);
    if (undeclared === 'restat') restatted = true;
    else if (undeclared !== undefined) return undeclared;
  }

  const up = upstreamReason(job, ctx, record);
  if (up !== undefined) return up;
  if (restatted) ctx.needsRecord.add(job);
  return undefined;
}
