// The plan: which jobs run, why, and in what order (critical path first, then
// Rulefile rule order, then discovery order). A dry run prints it as is; the
// scheduler uses its priorities.

import type { Graph, Job } from '../graph/model.js';
import type { Project } from '../rulefile/model.js';
import type { FileOracle } from '../state/files.js';
import type { BuildLog } from '../state/log.js';
import type { StaleReason } from './reason.js';
import { madeByStale, staleReason, type StalenessContext, type StalenessOptions } from './staleness.js';
import { remakeTemps } from './temp.js';

export interface Plan {
  graph: Graph;
  /** Stale jobs in the order a one-slot build would run them. */
  order: Job[];
  reasons: Map<Job, StaleReason>;
  /** Longest chain of stale jobs from each stale job to the end (by job id; may be longer than the job count). */
  priority: Int32Array;
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
}

// The loops over every job below count by index: run once over a million
// jobs, a loop may run before it is optimized, and `for...of` then allocates
// at each step.

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
  let priority = plan.priority;
  if (priority.length < plan.graph.jobs.length) {
    priority = new Int32Array(Math.max(plan.graph.jobs.length, priority.length * 2));
    priority.set(plan.priority);
  }
  setPriorities(topo, reasons, priority);
  plan.priority = priority;
  const order = runOrder(topo.filter((j) => reasons.has(j)).sort((a, b) => a.id - b.id), reasons, priority);
  for (const job of order) plan.order.push(job);
  return order;
}

/** The plan for jobs already decided: priorities and run order. */
export function planOf(ctx: StalenessContext, reasons: Map<Job, StaleReason>, topo = topologicalOrder(ctx.graph)): Plan {
  const { graph } = ctx;
  const priority = new Int32Array(graph.jobs.length);
  setPriorities(topo, reasons, priority);
  return { graph, order: runOrder(graph.jobs, reasons, priority), reasons, priority, needsRecord: ctx.needsRecord, context: ctx };
}

/**
 * The priority of each stale job of `topo` (dependency order): the longest
 * chain of stale jobs from it to the end.
 */
function setPriorities(topo: readonly Job[], reasons: Map<Job, StaleReason>, priority: Int32Array): void {
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
    priority[job.id] = best + 1;
  }
}

/**
 * Ordering of ready jobs: longest remaining path, then rule order, then
 * discovery order. The priorities are read from `plan` at each comparison:
 * a plan extended during the build (SPEC §7) gets new ones.
 */
export function readyBefore(plan: { readonly priority: Int32Array }): (a: Job, b: Job) => boolean {
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
function runOrder(jobs: readonly Job[], reasons: Map<Job, StaleReason>, priority: Int32Array): Job[] {
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
