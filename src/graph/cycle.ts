// Finds a dependency cycle with an iterative depth-first search.

import { pathFrom, type Graph, type Job } from './model.js';

/** A cycle as the paths that close it (`a.txt -> b.txt -> a.txt`), or undefined. */
export function findCycle(graph: Graph): string[] | undefined {
  const n = graph.jobs.length;
  // 0 = unvisited, 1 = on the stack, 2 = done.
  const state = new Uint8Array(n);
  const nextDep = new Uint32Array(n);
  const stack: number[] = [];
  for (let start = 0; start < n; start++) {
    if (state[start] !== 0) continue;
    stack.push(start);
    state[start] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const job = graph.jobs[top]!;
      const i = nextDep[top]!;
      if (i >= job.deps.length) {
        state[top] = 2;
        stack.pop();
        continue;
      }
      nextDep[top] = i + 1;
      const dep = job.deps[i]!.id;
      if (state[dep] === 0) {
        state[dep] = 1;
        stack.push(dep);
      } else if (state[dep] === 1) {
        // The stack from `dep` to `top`, then back to `dep`: each step names the path needed.
        const from = stack.indexOf(dep);
        const ids = stack.slice(from);
        const paths: string[] = [];
        for (let k = 0; k < ids.length; k++) {
          const a = graph.jobs[ids[k]!]!;
          const b = graph.jobs[ids[(k + 1) % ids.length]!]!;
          paths.push(pathFrom(graph, a, b)!);
        }
        return [paths[paths.length - 1]!, ...paths];
      }
    }
  }
  return undefined;
}

/**
 * A cycle through `starts` after the graph grew (SPEC §7), or undefined. The
 * graph was acyclic before, so a new cycle runs through a new edge: the search
 * goes from the jobs that gained deps and the new jobs. Jobs in `settled`
 * cannot reach a job with pending globs, so their deps never change and no
 * new edge is above them: they are not searched. Jobs found settled are added
 * to it, so each grow searches only what earlier ones did not.
 */
export function findCycleFrom(graph: Graph, starts: readonly Job[], settled: Set<Job>): string[] | undefined {
  // 1 = on the stack, 2 = done.
  const state = new Map<Job, number>();
  const nextDep = new Map<Job, number>();
  const stack: Job[] = [];
  for (const start of starts) {
    if (state.has(start) || settled.has(start)) continue;
    stack.push(start);
    state.set(start, 1);
    while (stack.length > 0) {
      const job = stack[stack.length - 1]!;
      const i = nextDep.get(job) ?? 0;
      if (i >= job.deps.length) {
        state.set(job, 2);
        stack.pop();
        if (job.pending === undefined && job.deps.every((d) => settled.has(d))) settled.add(job);
        continue;
      }
      nextDep.set(job, i + 1);
      const dep = job.deps[i]!;
      if (settled.has(dep)) continue;
      const s = state.get(dep);
      if (s === undefined) {
        state.set(dep, 1);
        stack.push(dep);
      } else if (s === 1) {
        const jobs = stack.slice(stack.indexOf(dep));
        const paths = jobs.map((a, k) => pathFrom(graph, a, jobs[(k + 1) % jobs.length]!)!);
        return [paths[paths.length - 1]!, ...paths];
      }
    }
  }
  return undefined;
}
