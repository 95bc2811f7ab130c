// Temporary outputs (SPEC §7): which outputs of a job are temporary, which the
// build must keep because they were asked for, and the temporary output a
// path needs. The scheduler deletes the others (run/temp.ts).

import type { Rule } from '../rulefile/model.js';
import type { Diagnostic } from '../util/errors.js';
import type { Graph, Job } from './model.js';

/** The rendered temporary outputs of a job of `rule` (a rule with `temp:`). */
export function tempPaths(rule: Rule, outputs: readonly string[]): ReadonlySet<string> {
  const set = new Set<string>();
  for (const i of rule.temp!.outputs) set.add(outputs[i]!);
  return set;
}

/** The temporary output of `producer` that `path` is, or lies inside (a directory output), or undefined. */
export function tempOutputFor(producer: Job, path: string): string | undefined {
  const temps = producer.tempOutputs;
  if (temps === undefined) return undefined;
  if (temps.has(path)) return path;
  if (producer.dirOutputs === undefined) return undefined;
  for (const dir of producer.dirOutputs) if (temps.has(dir) && path.startsWith(`${dir}/`)) return dir;
  return undefined;
}

/**
 * Calls `visit` with each temporary output `job` needs and the job making it:
 * through its inputs and order-only inputs (and the directories its pending
 * globs wait for), and through a phony grouping's
 * (a phony rule without a command reads nothing: what it groups is needed by
 * the job that needs it).
 */
export function neededTemps(graph: Graph, job: Job, visit: (producer: Job, temp: string) => void): void {
  let seen: Set<Job> | undefined;
  const walk = (j: Job): void => {
    for (const list of [j.inputs, j.orderOnly]) {
      for (const path of list) {
        const producer = graph.producers.get(path);
        if (!producer) continue;
        if (producer.rule.phony) {
          if (producer.rule.run !== undefined || (seen ??= new Set()).has(producer)) continue;
          seen.add(producer);
          walk(producer);
          continue;
        }
        const temp = tempOutputFor(producer, path);
        if (temp !== undefined) visit(producer, temp);
      }
    }
    // A glob waiting for a directory (SPEC §7) needs it whole until it is matched.
    if (j.pending !== undefined) {
      for (const g of j.pending) {
        const temp = tempOutputFor(g.producer, g.dir);
        if (temp !== undefined) visit(g.producer, temp);
      }
    }
  };
  walk(job);
}

interface Asked {
  paths: Set<string>;
  /** Per rule, the temporary outputs kept only because a phony target needs them: what the warning names. */
  final: Map<Rule, { path: string; target: string; count: number }>;
  /** Per rule, the temporary directory outputs kept because a glob waits for them. */
  waited: Map<Rule, { path: string; count: number }>;
}

const askedCache = new WeakMap<Graph, Asked>();

function asked(graph: Graph): Asked {
  let a = askedCache.get(graph);
  if (a !== undefined) return a;
  a = { paths: new Set(), final: new Map(), waited: new Map() };
  const { paths, final, waited } = a;
  const seen = new Set<Job>();
  const visitPhony = (job: Job, target: Job): void => {
    if (seen.has(job)) return;
    seen.add(job);
    for (const list of [job.inputs, job.orderOnly]) {
      for (const input of list) {
        const producer = graph.producers.get(input);
        if (!producer) continue;
        if (producer.rule.phony) {
          visitPhony(producer, target);
          continue;
        }
        const temp = tempOutputFor(producer, input);
        if (temp === undefined || paths.has(temp)) continue;
        paths.add(temp);
        const f = final.get(producer.rule);
        if (f === undefined) final.set(producer.rule, { path: temp, target: target.name, count: 1 });
        else f.count++;
      }
    }
  };
  for (const target of graph.targets) {
    if (target.rule.phony) visitPhony(target, target);
    else if (target.tempOutputs !== undefined) for (const t of target.tempOutputs) paths.add(t);
  }
  // A directory a glob waits for is the graph's shape (SPEC §7): without it the glob would match nothing.
  for (const dir of graph.waitedDirs ?? []) {
    const producer = graph.producers.get(dir);
    if (!producer || tempOutputFor(producer, dir) !== dir || paths.has(dir)) continue;
    paths.add(dir);
    const w = waited.get(producer.rule);
    if (w === undefined) waited.set(producer.rule, { path: dir, count: 1 });
    else w.count++;
  }
  askedCache.set(graph, a);
  return a;
}

/**
 * Temporary outputs the build keeps: those of the jobs asked for (on the
 * command line, or as the default), those a phony target needs (its final
 * products, through phony groupings), and directories a glob waits for. Such an output is an output like any
 * other in this build: missing, it is made.
 */
export function askedTemps(graph: Graph): ReadonlySet<string> {
  return asked(graph).paths;
}

/** A warning per rule whose temporary outputs are kept because a phony target needs them. */
export function finalTempWarnings(graph: Graph): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [rule, f] of asked(graph).final) {
    const more = f.count > 1 ? ` (and ${f.count - 1} more)` : '';
    out.push({
      message: `temporary output '${f.path}'${more} of rule '${rule.name}' is an input of the target '${f.target}', so it is kept: a target's inputs are what the build is for`,
      loc: rule.temp!.loc,
    });
  }
  for (const [rule, w] of asked(graph).waited) {
    const more = w.count > 1 ? ` (and ${w.count - 1} more)` : '';
    out.push({
      message: `temporary output '${w.path}/'${more} of rule '${rule.name}' is a directory a glob waits for, so it is kept: what it holds decides which jobs the build has`,
      loc: rule.temp!.loc,
    });
  }
  return out;
}
