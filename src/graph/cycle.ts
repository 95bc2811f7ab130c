// Finds a dependency cycle with an iterative depth-first search.

import { pathFrom, type Graph } from './model.js';

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
