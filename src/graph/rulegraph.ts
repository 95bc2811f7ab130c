// The graph of rules (`rules report`): which rule's outputs another rule's
// jobs read, found from a sample of each rule's jobs rather than the whole
// job graph, so that it costs the same for 30 jobs as for 300,000.
//
// Starting from the targets, each round builds only the jobs of the paths it
// was handed (every other path is taken as a source, the graph builder's
// `boundary`, so nothing upstream is resolved and nothing is stat'ed), and
// hands the next round up to PER_RULE paths of each rule that those jobs
// read. A rule whose jobs read from different rules depending on their
// wildcards shows the edges of the jobs sampled.

import { buildGraph } from './build.js';
import { ruleAround } from './match.js';
import { allInputs } from './model.js';
import type { Project } from '../rulefile/model.js';
import type { FileSystem } from '../util/fs.js';

/** How many jobs of each rule are looked at. */
export const PER_RULE = 20;

export interface RuleGraph {
  /** The rules reached from the targets, in the Rulefile's order. */
  rules: string[];
  /** [from, to]: jobs of `to` read what jobs of `from` make. */
  edges: [string, string][];
}

export function ruleGraph(project: Project, targets: readonly string[], fs: FileSystem, perRule = PER_RULE): RuleGraph {
  const sampled = new Map<string, number>();
  const reached = new Set<string>();
  const edges = new Map<string, [string, string]>();
  const asked = new Set<string>();
  let frontier = [...targets];
  for (const t of frontier) asked.add(t);
  while (frontier.length > 0) {
    const wanted = new Set(frontier);
    // A path inside a directory output is made by the job of that directory: it must be resolved too.
    for (const path of frontier) for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) wanted.add(path.slice(0, i));
    const graph = buildGraph(project, frontier, fs, (path) => !wanted.has(path));
    const next: string[] = [];
    for (const job of graph.jobs) {
      const to = job.rule.name;
      reached.add(to);
      // Jobs this round built itself (a glob waiting for a directory a job makes, say) are edges too.
      for (const dep of job.deps) if (dep.rule.name !== to) edges.set(`${dep.rule.name}\0${to}`, [dep.rule.name, to]);
      for (const path of [...allInputs(job), ...job.orderOnly]) {
        const phony = project.rulesByName.get(path);
        const from = phony?.phony === true ? phony : ruleAround(project, path);
        if (from === undefined) continue;
        if (from.name !== to) edges.set(`${from.name}\0${to}`, [from.name, to]);
        const n = sampled.get(from.name) ?? 0;
        if (n >= perRule || asked.has(path)) continue;
        sampled.set(from.name, n + 1);
        asked.add(path);
        next.push(path);
      }
    }
    frontier = next;
  }
  return { rules: project.rules.map((r) => r.name).filter((r) => reached.has(r)), edges: [...edges.values()] };
}
