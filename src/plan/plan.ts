// The plan: which jobs run, why, and in what order (critical path first, then
// Rulefile rule order, then discovery order). A dry run prints it as is; the
// scheduler uses its priorities.

import type { Graph, Job } from '../graph/model.js';
import type { Project } from '../rulefile/model.js';
import type { FileOracle } from '../state/files.js';
import type { BuildLog } from '../state/log.js';
import type { StaleReason } from './reason.js';
import { staleReason, type StalenessContext, type StalenessOptions } from './staleness.js';
import { remakeTemps } from './temp.js';

export interface Plan {
  graph: Graph;
  /** Stale jobs in the order a one-slot build would run them. */
  order: Job[];
  reasons: Map<Job, StaleReason>;
  /** Longest chain of stale jobs from each stale job to the end (by job id). */
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

/** Jobs in dependency order (every job after its deps). */
export function topologicalOrder(graph: Graph): Job[] {
  const n = graph.jobs.length;
  const done = new Uint8Array(n);
  const next = new Uint32Array(n);
  const out: Job[] = [];
  const stack: Job[] = [];
  for (const root of graph.jobs) {
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
        out.push(job);
      }
    }
  }
  return out;
}

export function makePlan(inputs: PlanInputs): Plan {
  const { graph } = inputs;
  const topo = topologicalOrder(graph);
  const reasons = new Map<Job, StaleReason>();
  const ctx: StalenessContext = { ...inputs, willRun: (j: Job) => reasons.has(j), needsRecord: new Set() };
  for (const job of topo) {
    const reason = staleReason(job, ctx);
    if (reason !== undefined) reasons.set(job, reason);
  }
  // SPEC §7: missing temporary inputs of the jobs that will run are made again first.
  if (inputs.project.rules.some((r) => r.temp !== undefined)) remakeTemps(ctx, reasons, topo);
  return planOf(ctx, reasons, topo);
}

/** The plan for jobs already decided: priorities and run order. */
export function planOf(ctx: StalenessContext, reasons: Map<Job, StaleReason>, topo = topologicalOrder(ctx.graph)): Plan {
  const { graph } = ctx;
  const priority = new Int32Array(graph.jobs.length);
  for (let i = topo.length - 1; i >= 0; i--) {
    const job = topo[i]!;
    if (!reasons.has(job)) continue;
    let best = 0;
    for (const d of job.dependents) if (reasons.has(d) && priority[d.id]! > best) best = priority[d.id]!;
    priority[job.id] = best + 1;
  }
  return { graph, order: runOrder(graph.jobs, reasons, priority), reasons, priority, needsRecord: ctx.needsRecord, context: ctx };
}

/** Ordering of ready jobs: longest remaining path, then rule order, then discovery order. */
export function readyBefore(priority: Int32Array): (a: Job, b: Job) => boolean {
  return (a, b) => {
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
  for (const job of reasons.keys()) if (priority[job.id]! > max) max = priority[job.id]!;
  const byPriority: Job[][] = Array.from({ length: max + 1 }, () => []);
  for (const job of jobs) if (reasons.has(job)) byPriority[priority[job.id]!]!.push(job);
  const order: Job[] = [];
  for (let p = max; p > 0; p--) {
    // Already in id order; the sort is stable, so it only groups by rule.
    for (const job of byPriority[p]!.sort((a, b) => a.rule.index - b.rule.index)) order.push(job);
  }
  return order;
}
