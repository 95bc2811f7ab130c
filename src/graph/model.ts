// The job DAG: what later stages (plan, run, report) work from.

import type { Rule } from '../rulefile/model.js';
import type { Diagnostic } from '../util/errors.js';

export interface Job {
  /** Index in Graph.jobs; jobs are numbered in discovery order from the targets. */
  id: number;
  rule: Rule;
  /** Wildcard values, in the order the wildcards appear in the rule's first output. */
  wildcards: Record<string, string>;
  outputs: string[];
  namedOutputs: Map<string, string[]>;
  /** Inputs in declaration order (no duplicates); excludes order-only inputs. */
  inputs: string[];
  namedInputs: Map<string, string[]>;
  orderOnly: string[];
  /**
   * Inputs the Rulefile does not spell out (SPEC §6): the rule's `script`, and
   * the files its `run` names. After the declared inputs; never in `inputs`,
   * `namedInputs` or `{inputs}`, never in the signature. Jobs of one rule
   * share one array until one of them drops a file it changes itself.
   */
  implicitInputs: readonly string[];
  /** For a `script:` rule: the script and the program that runs it (SPEC §6), shared by the rule's jobs. */
  script?: ScriptRun;
  log?: string;
  /** The outputs that are directory outputs (written with a trailing `/`); absent when none is. */
  dirOutputs?: ReadonlySet<string>;
  /**
   * The outputs that are temporary (SPEC §7, `temp:`): deleted once no job of
   * the build needs them, their records kept. Absent when the job has none.
   */
  tempOutputs?: ReadonlySet<string>;
  /** The rendered `depfile:` path (SPEC §6): discovered dependencies are read from it after a run. */
  depfile?: string;
  /**
   * Globs of this job that can match inside another job's directory output
   * (SPEC §7), not resolved yet: their producers are among `deps`, and the
   * job's inputs are known only once they have run (`Graph.grow`).
   */
  pending?: PendingGlob[];
  /**
   * Jobs that make this job's inputs or order-only inputs, each once. Like
   * `dependents`, a list several jobs may share (frozen): only the graph
   * builder changes these, by replacing the list.
   */
  deps: Job[];
  /** Jobs that need this one. */
  dependents: Job[];
  /** `rule[name=value,...]`, or the rule name for a job without wildcards (the graph builder's jobs work it out when asked). */
  readonly label: string;
  /** The first output, or the rule name of a phony job: how the job is named in messages. */
  name: string;
}

/** A glob waiting for the job that makes the directory it looks in (SPEC §7). */
export interface PendingGlob {
  /** The glob as it is matched (`chunks/a/*.txt`; for an `expand`, with `*` for the name expanded). */
  pattern: string;
  /** The directory output it looks in (no trailing `/`). */
  dir: string;
  producer: Job;
}

/** What growing a job's pending globs found: each glob with how many paths it matched. */
export interface Growth {
  globs: { pattern: string; dir: string; producer: Job; matches: number }[];
  /** The jobs the graph gained, in creation order. */
  added: Job[];
}

/** How a `script:` rule's jobs run. */
export interface ScriptRun {
  path: string;
  /** The program and its arguments that run the script; undefined while the script is yet to be made (read at run time). */
  interpreter?: readonly string[];
}

export interface Graph {
  jobs: Job[];
  /** The jobs asked for, in target order (sources given as targets have none). */
  targets: Job[];
  /** Input paths no rule makes, in discovery order. */
  sources: string[];
  /** Who makes each path: the job for outputs (and phony rule names), null for sources. */
  producers: Map<string, Job | null>;
  /** Every glob the graph was built from, with its matches (relative to the root). */
  globs: Map<string, string[]>;
  /** What the user should hear but that does not stop a build (entries a glob skipped), in discovery order. */
  warnings: Diagnostic[];
  /**
   * Per rule, the words of its `run` that could name a file but named none
   * when the graph was built (SPEC §6): a job that creates one has changed it
   * itself. Absent when no rule has such words.
   */
  absentWords?: Map<Rule, readonly string[]>;
  /**
   * Resolves the pending globs of `job` against the disk as it is now, adding
   * the jobs they need to the graph (SPEC §7). Throws a UserError when the
   * grown graph has a problem (a cycle, a missing source). Present only when
   * some job has pending globs.
   */
  grow?: (job: Job) => Growth;
  /**
   * The directory outputs some glob waits for (SPEC §7). What they hold is
   * the graph's shape, so one that is temporary is kept (graph/temp.ts).
   */
  waitedDirs?: Set<string>;
  /**
   * When the graph holds only the jobs the incremental shortcut decides
   * (build/shortcut.ts), the number of jobs in the whole graph: the others
   * are up to date.
   */
  jobsInAll?: number;
  /** With `jobsInAll`: the rule of the whole graph's job whose record key is `key` (undefined: no such job). */
  ruleOf?: (key: string) => Rule | undefined;
}

export function jobLabel(rule: Rule, wildcards: Record<string, string>): string {
  // Made each time a label is asked for (a dry run asks once per job): no list of names made for it.
  let inner = '';
  for (const name in wildcards) inner = inner === '' ? `${name}=${wildcards[name]}` : `${inner},${name}=${wildcards[name]}`;
  return inner === '' ? rule.name : `${rule.name}[${inner}]`;
}

/** Every input of a job, declared then implicit (a new array only when it has implicit ones). */
export function allInputs(job: Job): readonly string[] {
  return job.implicitInputs.length === 0 ? job.inputs : [...job.inputs, ...job.implicitInputs];
}

/** Drops from a job's implicit inputs the files it changes itself (SPEC §6), for good. */
export function dropImplicitInputs(job: Job, dropped: readonly string[]): void {
  if (dropped.length === 0 || job.implicitInputs.length === 0) return;
  const kept = job.implicitInputs.filter((p) => !dropped.includes(p));
  if (kept.length !== job.implicitInputs.length) job.implicitInputs = kept;
}

/** The first path (inputs, then order-only inputs) through which `job` needs `dep`. */
export function pathFrom(graph: Graph, job: Job, dep: Job): string | undefined {
  for (const p of job.inputs) if (graph.producers.get(p) === dep) return p;
  for (const p of job.implicitInputs) if (graph.producers.get(p) === dep) return p;
  for (const p of job.orderOnly) if (graph.producers.get(p) === dep) return p;
  for (const g of job.pending ?? []) if (g.producer === dep) return `${g.dir}/`;
  return undefined;
}

/** The deps of `job` that it needs only through order-only inputs. */
export function orderOnlyDeps(graph: Graph, job: Job): Set<Job> {
  const out = new Set<Job>();
  if (job.orderOnly.length === 0) return out;
  for (const p of job.orderOnly) {
    const d = graph.producers.get(p);
    if (d) out.add(d);
  }
  for (const p of job.inputs) {
    const d = graph.producers.get(p);
    if (d) out.delete(d);
  }
  for (const p of job.implicitInputs) {
    const d = graph.producers.get(p);
    if (d) out.delete(d);
  }
  return out;
}
