// The plan: which jobs run, why, and in what order (critical path first, then
// Rulefile rule order, then discovery order). A dry run prints it as is; the
// scheduler uses its priorities. The critical path is weighted by how long
// each job took last time (SPEC §9): a long job at the head of a short chain
// starts before a long chain of quick steps.

import type { Graph, Job } from '../graph/model.js';
import type { Project, Rule } from '../rulefile/model.js';
import type { FileOracle } from '../state/files.js';
import type { BuildLog } from '../state/log.js';
import type { StaleReason } from './reason.js';
import { isInert, madeByStale, recordKey, staleReason, type StalenessContext, type StalenessOptions } from './staleness.js';
import { remakeTemps } from './temp.js';

export interface Plan {
  graph: Graph;
  /** Stale jobs in the order a one-slot build would run them. */
  order: Job[];
  reasons: Map<Job, StaleReason>;
  /**
   * Longest chain of stale jobs from each stale job to the end, each job
   * counted by its weight (by job id; may be longer than the job count): its
   * expected time in ms on the scale of `weightOf`, whose least weight a job
   * of unknown time counts; 1 for every job when no time is known.
   */
  priority: Float64Array;
  /**
   * Each stale job's expected wall time in ms (by job id; 0: unknown): its
   * last run's, else the median of its rule's. Absent when no stale job's
   * time is known: every weight is then 1.
   */
  expectedMs?: Float64Array;
  /** The median time of each rule's jobs, for jobs added as the graph grows (absent with `expectedMs`). */
  ruleMedians?: Map<Rule, number>;
  /** Up-to-date jobs whose build record must be written (adopted, or re-stat'ed). */
  needsRecord: Set<Job>;
  /** The context the plan was decided in, to decide again during the build. */
  context: StalenessContext;
}

export interface PlanInputs {
  project: Project;
  graph: Graph;
  files: FileOracle;
  log: BuildLog;
  options: StalenessOptions;
  /** The median wall time of each rule's recent jobs (by rule name), from the history of builds; read only when needed. */
  ruleTimes?: () => ReadonlyMap<string, number> | undefined;
}

// The loops over every job below count by index: run once over a million
// jobs, a loop may run before it is optimized, and `for...of` then allocates
// at each step.

/**
 * Times are weighed on a scale of powers of two from BUCKET_MS: a time in
 * [BUCKET_MS·2^k, BUCKET_MS·2^(k+1)) weighs the middle of that range
 * (geometrically). A job's time varies from run to run (a loaded machine, a
 * cold cache); weighing it exactly would reorder jobs of about the same
 * length from one build (and one dry run) to the next. On this scale two
 * runs of a job land on the same weight unless they differ by a good part of
 * a factor of two, or straddle an edge; the edges (0.34 s, 0.68 s, 1.36 s,
 * 2.72 s, 5.44 s, 10.9 s, ...) keep clear of the round times commands are
 * often written with. A time below BUCKET_MS, or unknown, weighs
 * MIN_WEIGHT_MS: about what a quick job costs, start-up included, so that a
 * long chain of quick steps weighs about what it takes.
 */
const BUCKET_MS = 340;
export const MIN_WEIGHT_MS = 120;

/** A job's weight in its priority, from its expected time in ms (0: unknown). */
export function weightOf(ms: number): number {
  if (!(ms >= BUCKET_MS)) return MIN_WEIGHT_MS;
  return BUCKET_MS * 2 ** Math.floor(Math.log2(ms / BUCKET_MS)) * Math.SQRT2;
}

/** Jobs in dependency order (every job after its deps). */
export function topologicalOrder(graph: Graph): Job[] {
  const n = graph.jobs.length;
  const done = new Uint8Array(n);
  const next = new Uint32Array(n);
  // Every job once: a list of its final length, not one grown by a million pushes.
  const out = new Array<Job>(n);
  let k = 0;
  const stack: Job[] = [];
  for (let r = 0; r < n; r++) {
    const root = graph.jobs[r]!;
    if (done[root.id]) continue;
    stack.push(root);
    done[root.id] = 1;
    while (stack.length > 0) {
      const job = stack[stack.length - 1]!;
      const i = next[job.id]!;
      if (i < job.deps.length) {
        next[job.id] = i + 1;
        const d = job.deps[i]!;
        if (!done[d.id]) {
          done[d.id] = 1;
          stack.push(d);
        }
      } else {
        stack.pop();
        out[k++] = job;
      }
    }
  }
  return out;
}

export function makePlan(inputs: PlanInputs): Plan {
  const { graph } = inputs;
  const reasons = new Map<Job, StaleReason>();
  const ctx: StalenessContext = { ...inputs, willRun: (j: Job) => reasons.has(j), needsRecord: new Set() };
  let topo: Job[];
  if (graph.grow !== undefined) topo = decideGrowing(ctx, reasons, graph.jobs, () => false);
  else {
    topo = topologicalOrder(graph);
    for (let i = 0; i < topo.length; i++) {
      const job = topo[i]!;
      const reason = staleReason(job, ctx);
      if (reason !== undefined) reasons.set(job, reason);
    }
  }
  // SPEC §7: missing temporary inputs of the jobs that will run are made again first.
  if (inputs.project.rules.some((r) => r.temp !== undefined)) remakeTemps(ctx, reasons, topo);
  return planOf(ctx, reasons, topo);
}

/**
 * Decides the jobs reachable from `roots` that are not `decided` yet, each
 * after its deps, and returns them in that order. A job with pending globs
 * whose producers will not run is grown first (SPEC §7: the glob is matched
 * against the directory as it is), and its new deps decided before it; one
 * whose producer will run waits for it (a row-8 reason naming the directory).
 */
function decideGrowing(
  ctx: StalenessContext,
  reasons: Map<Job, StaleReason>,
  roots: readonly Job[],
  decided: (job: Job) => boolean,
  decidedWhenReady = false,
): Job[] {
  const { graph } = ctx;
  // By job id, growing with the graph: 1 = on the way, 2 = decided.
  const state: number[] = [];
  const next: number[] = [];
  const out: Job[] = [];
  const stack: Job[] = [];
  // `roots` may be the graph's own list, which grows as we go: new jobs are reached through their dependents.
  const n = roots.length;
  for (let r = 0; r < n; r++) {
    const root = roots[r]!;
    if (state[root.id] !== undefined || decided(root)) continue;
    state[root.id] = 1;
    stack.push(root);
    while (stack.length > 0) {
      const job = stack[stack.length - 1]!;
      const i = next[job.id] ?? 0;
      if (i < job.deps.length) {
        next[job.id] = i + 1;
        const d = job.deps[i]!;
        if (state[d.id] === undefined && !decided(d)) {
          state[d.id] = 1;
          stack.push(d);
        }
        continue;
      }
      if (job.pending !== undefined && !job.pending.some((g) => ctx.willRun(g.producer))) {
        graph.grow!(job); // new deps are appended: the walk goes on through them
        continue;
      }
      stack.pop();
      state[job.id] = 2;
      out.push(job);
      const reason = (decidedWhenReady ? upstreamNow(job, ctx) : undefined) ?? staleReason(job, ctx);
      if (reason !== undefined) reasons.set(job, reason);
    }
  }
  return out;
}

/**
 * During a build under --check hash, a job that reads a file a stale job
 * makes is stale whatever else is true, and the scheduler decides it again
 * from scratch once its deps have run (early cutoff: that answer is the one
 * that counts, and the one its events show). So the jobs a grown glob adds
 * need no full decision now: row 8 says they wait. Phony jobs are decided
 * as usual (a grouping's answer is not decided again).
 */
function upstreamNow(job: Job, ctx: StalenessContext): StaleReason | undefined {
  if (job.rule.phony) return undefined;
  for (const input of job.inputs) if (madeByStale(ctx, input)) return { kind: 'upstream', path: input };
  return undefined;
}

/**
 * After the graph grew during a build: decides the new jobs (growing those
 * whose globs can be matched now) and adds the stale ones to the plan, with
 * their priorities and place in the run order. Returns them.
 */
export function extendPlan(plan: Plan, grown: Job, added: readonly Job[]): Job[] {
  const ctx = plan.context;
  const reasons = plan.reasons;
  const firstNew = added.length > 0 ? added[0]!.id : plan.graph.jobs.length;
  let topo = added.length === 0 ? [] : decideGrowing(ctx, reasons, added, (j) => j.id < firstNew, ctx.options.check === 'hash');
  // The grown job may run: its gone temporary inputs are made again first, by new jobs or by ones that were up to date.
  if (ctx.project.rules.some((r) => r.temp !== undefined) && reasons.has(grown)) {
    const earlier = remakeTemps(ctx, reasons, [...topo, grown]).filter((j) => j.id < firstNew && j !== grown);
    if (earlier.length > 0) topo = [...earlier, ...topo];
  }
  if (topo.length === 0) return [];
  // Room to grow again without a copy each time: a build may grow once per pending job.
  const size = Math.max(plan.graph.jobs.length, plan.priority.length * 2);
  let priority = plan.priority;
  if (priority.length < plan.graph.jobs.length) {
    priority = new Float64Array(size);
    priority.set(plan.priority);
  }
  const stale = topo.filter((j) => reasons.has(j)).sort((a, b) => a.id - b.id);
  // The new jobs are weighed as the first ones were: by their records, else by their rule's median in this plan.
  let expected = plan.expectedMs;
  if (expected !== undefined && expected.length < plan.graph.jobs.length) {
    expected = new Float64Array(size);
    expected.set(plan.expectedMs!);
  }
  const known = expectTimes(ctx, stale, expected, plan.ruleMedians);
  if (known !== undefined) {
    plan.expectedMs = known.expected;
    plan.ruleMedians = known.medians;
  }
  setPriorities(topo, reasons, priority, plan.expectedMs);
  plan.priority = priority;
  const order = runOrder(stale, reasons, priority, plan.expectedMs !== undefined);
  for (const job of order) plan.order.push(job);
  return order;
}

/** The plan for jobs already decided: priorities and run order. */
export function planOf(ctx: StalenessContext, reasons: Map<Job, StaleReason>, topo = topologicalOrder(ctx.graph)): Plan {
  const { graph } = ctx;
  const priority = new Float64Array(graph.jobs.length);
  const known = reasons.size === 0 ? undefined : expectTimes(ctx, reasons, undefined, undefined);
  setPriorities(topo, reasons, priority, known?.expected);
  const order = runOrder(graph.jobs, reasons, priority, known !== undefined);
  const weights = known !== undefined ? { expectedMs: known.expected, ruleMedians: known.medians } : {};
  return { graph, order, reasons, priority, ...weights, needsRecord: ctx.needsRecord, context: ctx };
}

/**
 * The expected wall time of each job of `stale` (SPEC §9), into `into` (by
 * id; a new array when undefined): its record's last run, else the median
 * of the known times of its rule's jobs among them, else the median of the
 * rule's recent jobs in the history of builds (read only then), else unknown
 * (0). `medians`: those of an earlier call (a plan extended as the graph
 * grows), used before any other. Undefined when no time is known.
 *
 * Cheap: only jobs that will run are weighed, their records looked up by key
 * (a record not decoded yet is not decoded for it: under -B no record is
 * decoded to decide staleness), and a build log that is empty is not asked.
 */
function expectTimes(
  ctx: StalenessContext,
  jobs: readonly Job[] | ReadonlyMap<Job, unknown>,
  into: Float64Array | undefined,
  medians: Map<Rule, number> | undefined,
): { expected: Float64Array; medians: Map<Rule, number> } | undefined {
  const records = ctx.log.records;
  const logEmpty = records.size === 0 && records.fetch === undefined;
  // A first build (no log, no history): nothing to weigh, and a million jobs are not even looked at.
  let history: ReadonlyMap<string, number> | undefined | null = null;
  if (logEmpty && medians === undefined) {
    const times = ctx.ruleTimes?.();
    if (times === undefined || times.size === 0) return undefined;
    history = times;
  }
  const stale = Array.isArray(jobs) ? (jobs as readonly Job[]) : [...(jobs as ReadonlyMap<Job, unknown>).keys()];
  let expected = into;
  let unknown = 0;
  // Each rule's known times, for the medians of its unknown jobs.
  const times = new Map<Rule, number[]>();
  for (let i = 0; i < stale.length; i++) {
    const job = stale[i]!;
    if (isInert(job)) continue;
    const ms = logEmpty ? undefined : records.lastWallMs(recordKey(job));
    if (ms === undefined) {
      unknown++;
      continue;
    }
    // 0 means unknown: a run under a millisecond is known as 1.
    (expected ??= new Float64Array(ctx.graph.jobs.length))[job.id] = Math.max(1, ms);
    const list = times.get(job.rule);
    if (list === undefined) times.set(job.rule, [ms]);
    else list.push(ms);
  }
  if (unknown > 0) {
    const byRule = medians ?? new Map<Rule, number>();
    times.forEach((list, rule) => {
      if (!(byRule.get(rule)! > 0)) byRule.set(rule, Math.max(1, median(list)));
    });
    for (let i = 0; i < stale.length; i++) {
      const job = stale[i]!;
      if (isInert(job) || (expected !== undefined && expected[job.id]! > 0)) continue;
      let ms = byRule.get(job.rule);
      if (ms === undefined) {
        if (history === null) history = ctx.ruleTimes?.();
        const recent = history?.get(job.rule.name);
        // 0: no time known for the rule, looked up once.
        ms = recent === undefined ? 0 : Math.max(1, recent);
        byRule.set(job.rule, ms);
      }
      if (ms > 0) (expected ??= new Float64Array(ctx.graph.jobs.length))[job.id] = ms;
    }
    medians = byRule;
  }
  return expected === undefined ? undefined : { expected, medians: medians ?? new Map() };
}

/** The median of a non-empty list (the mean of the middle two of an even one). */
export function median(list: readonly number[]): number {
  const s = [...list].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The priority of each stale job of `topo` (dependency order): the longest
 * chain of stale jobs from it to the end, each job counting its expected
 * time (on the scale of `weightOf`), or 1 each when no time is known. A job's
 * weight is above 0, so its priority is above that of any stale job that
 * needs it.
 */
function setPriorities(topo: readonly Job[], reasons: Map<Job, StaleReason>, priority: Float64Array, expected: Float64Array | undefined): void {
  // Which jobs are stale, by id: when most of the jobs are decided here (not a few a grown glob added),
  // one pass over the reasons costs less than looking each job up in them.
  let flags: Uint8Array | undefined;
  if (topo.length * 4 >= reasons.size) {
    flags = new Uint8Array(priority.length);
    reasons.forEach((_reason, job) => (flags![job.id] = 1));
  }
  for (let i = topo.length - 1; i >= 0; i--) {
    const job = topo[i]!;
    if (flags !== undefined ? flags[job.id] === 0 : !reasons.has(job)) continue;
    let best = 0;
    // Only a stale job has a priority: a dependent that is not stale counts 0.
    const dependents = job.dependents;
    for (let k = 0; k < dependents.length; k++) if (priority[dependents[k]!.id]! > best) best = priority[dependents[k]!.id]!;
    priority[job.id] = best + (expected !== undefined ? weightOf(expected[job.id] ?? 0) : 1);
  }
}

/**
 * Ordering of ready jobs: longest remaining path, then rule order, then
 * discovery order. The priorities are read from `plan` at each comparison:
 * a plan extended during the build (SPEC §7) gets new ones.
 */
export function readyBefore(plan: { readonly priority: Float64Array }): (a: Job, b: Job) => boolean {
  return (a, b) => {
    const priority = plan.priority;
    const pa = priority[a.id]!;
    const pb = priority[b.id]!;
    if (pa !== pb) return pa > pb;
    if (a.rule.index !== b.rule.index) return a.rule.index < b.rule.index;
    return a.id < b.id;
  };
}

/**
 * The order a one-slot build would run the stale jobs in: what the ready heap
 * pops. A stale job's priority is higher than any stale job that needs it, so
 * the best remaining job is always ready, and the heap's order is simply the
 * jobs sorted by priority (descending), rule order, then discovery order.
 */
function runOrder(jobs: readonly Job[], reasons: Map<Job, StaleReason>, priority: Float64Array, weighted: boolean): Job[] {
  if (weighted) return sortedOrder(jobs, priority);
  let max = 0;
  reasons.forEach((_reason, job) => (max = Math.max(max, priority[job.id]!)));
  // The jobs with a priority are the stale ones setPriorities ordered (no lookup in `reasons` for each),
  // counted by priority, then placed highest first, each priority's in the order given (by id).
  const start = new Int32Array(max + 1);
  for (let i = 0; i < jobs.length; i++) if (priority[jobs[i]!.id]! > 0) start[priority[jobs[i]!.id]!]!++;
  let total = 0;
  for (let p = max; p > 0; p--) {
    const n = start[p]!;
    start[p] = total;
    total += n;
  }
  const order = new Array<Job>(total);
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!;
    if (priority[job.id]! > 0) order[start[priority[job.id]!]!++] = job;
  }
  // Each priority's jobs end where the next lower one's begin. The sort is stable, so it only
  // groups them by rule; most are in rule order already.
  for (let p = max, from = 0; p > 0; p--) {
    const to = start[p]!;
    let sorted = true;
    for (let i = from + 1; i < to && sorted; i++) if (order[i]!.rule.index < order[i - 1]!.rule.index) sorted = false;
    if (!sorted) {
      const part = order.slice(from, to).sort((a, b) => a.rule.index - b.rule.index);
      for (let i = 0; i < part.length; i++) order[from + i] = part[i]!;
    }
    from = to;
  }
  return order;
}

/**
 * `runOrder` for weighted priorities (times in ms, not chain lengths: too
 * many distinct values to count): the jobs with a priority, sorted. `jobs`
 * is in discovery order and the sort is stable, so it need only compare
 * priorities, then rules.
 */
function sortedOrder(jobs: readonly Job[], priority: Float64Array): Job[] {
  const order: Job[] = [];
  for (let i = 0; i < jobs.length; i++) if (priority[jobs[i]!.id]! > 0) order.push(jobs[i]!);
  return order.sort((a, b) => priority[b.id]! - priority[a.id]! || a.rule.index - b.rule.index);
}

/** The expected time of `jobs` of the plan that run a command, added up; undefined when the plan knows no job's time. */
export function expectedWork(plan: Plan, jobs: readonly Job[]): number | undefined {
  const expected = plan.expectedMs;
  if (expected === undefined) return undefined;
  let sum = 0;
  for (let i = 0; i < jobs.length; i++) if (!isInert(jobs[i]!)) sum += expected[jobs[i]!.id] ?? 0;
  return sum;
}

/** What a job-start event says of the job's expected time (SPEC §9), when the plan knows any: its own, and its path to the end. */
export function expectedOf(plan: Plan, job: Job): { expectedMs?: number; pathMs?: number } {
  const expected = plan.expectedMs;
  if (expected === undefined) return {};
  return { expectedMs: expected[job.id] ?? 0, pathMs: plan.priority[job.id] ?? 0 };
}
