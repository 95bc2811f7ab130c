// The incremental shortcut: between the no-op answered by the stamp and the
// full path that decides every job. When the stamp (state/stamp.ts) shows
// that only the contents or times of some existing files changed since a
// build left every job up to date (no path appeared or vanished, no listing,
// Rulefile, include, config file or table changed), the graph is the one that
// build had, and so is every job that neither reads nor makes a changed file
// nor needs such a job: its files, its record and its command are as they
// were when it was decided up to date. The job index (state/jobindex.ts) says
// which jobs are left; only they are built from the Rulefile, with the paths
// of the others taken as sources, and decided. What they decide is what the
// full path decides for them, so the plan is the same: the same jobs, reasons
// and order (the jobs keep their places in the whole graph).

import { ruleMaking } from '../graph/match.js';
import type { Graph, Job } from '../graph/model.js';
import type { Project } from '../rulefile/model.js';
import { JobIndex } from '../state/jobindex.js';
import type { LoadedStamp } from '../state/stamp.js';

/** What the stamp check found: the stamp, and which of its paths changed. */
export interface StampDelta {
  stamp: LoadedStamp;
  changed: number[];
  /** The job index, when the check already loaded it. */
  index?: JobIndex | undefined;
}

export interface Shortcut {
  stamp: LoadedStamp;
  index: JobIndex;
  /** How many files changed. */
  changed: number;
  /** What to build the graph for: the names of the jobs to decide. */
  targets: string[];
  /** Their numbers in the whole graph, by name (phony jobs too). */
  ids: Map<string, number>;
  /** Paths not made by a job to decide: taken as sources. */
  boundary: (path: string) => boolean;
  /** How many jobs the whole graph has. */
  jobsInAll: number;
}

/** The shortcut for these changes, or undefined when the full path must decide (no index, a file no job concerns, too many jobs). */
export function shortcutFor(root: string, delta: StampDelta): Shortcut | undefined {
  const { stamp, changed } = delta;
  const { header } = stamp;
  if (header.index === undefined) return undefined;
  const index = delta.index ?? JobIndex.load(root, header.index, { bytes: new Uint8Array(stamp.buffer), start: stamp.pathsStart }, header.count, header.pathBytes);
  if (index === undefined) return undefined;
  const jobs = index.affected(changed);
  if (jobs === undefined) return undefined;
  const ids = new Map<string, number>();
  const targets: string[] = [];
  const outputs = new Set<string>();
  for (const j of jobs) {
    const name = index.name(j);
    targets.push(name);
    ids.set(name, j);
    for (const o of index.outputsOf(j)) outputs.add(o);
  }
  const phony = new Set<string>();
  for (const [j, name] of index.header.phony) {
    phony.add(name);
    ids.set(name, j);
  }
  // A path inside a directory output of a job to decide is made by that job.
  const inside = (p: string) => {
    for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) if (outputs.has(p.slice(0, i))) return true;
    return false;
  };
  return {
    stamp,
    index,
    changed: changed.length,
    targets,
    ids,
    boundary: (p) => !outputs.has(p) && !phony.has(p) && !inside(p),
    jobsInAll: index.jobs,
  };
}

/**
 * Gives the jobs of a graph built for a shortcut their order in the whole
 * graph (run order breaks ties by it). False when a job is not one the index
 * knows: the full path decides then.
 */
export function inWholeOrder(graph: Graph, shortcut: Shortcut, project: Project): boolean {
  // Each name asked for must be the job of that name (a rule named like another rule's output resolves to its own job).
  for (const t of shortcut.targets) if (graph.producers.get(t)?.name !== t) return false;
  const whole = new Map<Job, number>();
  for (const job of graph.jobs) {
    const id = shortcut.ids.get(job.name);
    if (id === undefined) return false;
    whole.set(job, id);
  }
  graph.jobs.sort((a, b) => whole.get(a)! - whole.get(b)!);
  graph.jobs.forEach((job, i) => (job.id = i));
  graph.jobsInAll = shortcut.jobsInAll;
  // Implicit inputs a rule's jobs dropped are dropped for all its jobs (plan/staleness.ts): those of the whole graph count.
  graph.ruleOf = (key) => (shortcut.index.jobNamed(key) !== undefined ? ruleMaking(project, key) : undefined);
  return true;
}

/**
 * Whether what the shortcut's jobs discovered in their depfiles is what the
 * index knows they read: a new dependency must be indexed before the next
 * build may take the shortcut.
 */
export function depsIndexed(shortcut: Shortcut, jobs: Iterable<Job>, deps: (job: Job) => Iterable<string> | undefined): boolean {
  for (const job of jobs) {
    const id = shortcut.ids.get(job.name)!;
    for (const d of deps(job) ?? []) {
      const k = shortcut.index.find(d);
      if (k === undefined || !shortcut.index.uses(k, id)) return false;
    }
  }
  return true;
}
