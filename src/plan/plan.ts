// The plan: which jobs run, why, and in what order (critical path first, then
// Rulefile rule order, then discovery order). A dry run prints it as is; the
// scheduler uses its priorities.

import type { Graph, Job } from '../graph/model.js';
import type { Project } from '../rulefile/model.js';
import type { FileOracle } from '../state/files.js';
import type { BuildLog } from '../state/log.js';
import { Heap } from '../util/heap.js';
import { staleReason, type StalenessContext, type StalenessOptions } from './staleness.js';

export interface Plan {
  graph: Graph;
  /** Stale jobs in the order a one-slot build would run them. */
  order: Job[];
  reasons: Map<Job, string>;
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
  const reasons = new Map<Job, string>();
  const ctx: StalenessContext = { ...inputs, willRun: (j: Job) => reasons.has(j), needsRecord: new Set() };
  for (const job of topo) {
    const reason = staleReason(job, ctx);
    if (reason !== undefined) reasons.set(job, reason);
  }
  const priority = new Int32Array(graph.jobs.length);
  for (let i = topo.length - 1; i >= 0; i--) {
    const job = topo[i]!;
    if (!reasons.has(job)) continue;
    let best = 0;
    for (const d of job.dependents) if (reasons.has(d) && priority[d.id]! > best) best = priority[d.id]!;
    priority[job.id] = best + 1;
  }
  return { graph, order: runOrder(reasons, priority), reasons, priority, needsRecord: ctx.needsRecord, context: ctx };
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

function runOrder(reasons: Map<Job, string>, priority: Int32Array): Job[] {
  const waiting = new Int32Array(priority.length);
  const first: Job[] = [];
  for (const job of reasons.keys()) {
    let n = 0;
    for (const d of job.deps) if (reasons.has(d)) n++;
    if (n === 0) first.push(job);
    waiting[job.id] = n;
  }
  const ready = Heap.from(first, readyBefore(priority));
  const order: Job[] = [];
  for (let job = ready.pop(); job; job = ready.pop()) {
    order.push(job);
    for (const d of job.dependents) if (reasons.has(d) && --waiting[d.id] === 0) ready.push(d);
  }
  return order;
}
