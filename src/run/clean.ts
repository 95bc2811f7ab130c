// `rules clean`: deletes what the build log says jobs made (run or adopted),
// and only what a rule still declares — never a source, never another file.

import { buildGraph, declaredFor, growAll } from '../graph/build.js';
import { OutputIndex } from '../graph/match.js';
import { recordKey } from '../plan/staleness.js';
import type { Project } from '../rulefile/model.js';
import type { BuildLog } from '../state/log.js';
import type { Diagnostic } from '../util/errors.js';
import type { FileSystem } from '../util/fs.js';

export interface CleanItem {
  key: string;
  /** Recorded outputs (and log) that a rule still declares and that exist as files. */
  paths: string[];
  /** Those that are directories now: never deleted, reported instead. */
  directories: string[];
  /** Recorded directory outputs that a rule still declares as such and that exist: removed whole. */
  trees: string[];
}

/**
 * What `rules clean` would delete: every recorded job, or those of the targets'
 * graph (whose warnings, a glob skipping an entry, go to `warn`).
 */
export function planClean(project: Project, log: BuildLog, fs: FileSystem, targets: string[] | undefined, warn: (d: Diagnostic) => void = () => {}): CleanItem[] {
  const recorded = new Map<string, { outputs: string[]; log?: string }>();
  for (const [key, rec] of log.records) recorded.set(key, rec.log === undefined ? { outputs: [...rec.outputs.keys()] } : { outputs: [...rec.outputs.keys()], log: rec.log });
  for (const [key, inc] of log.incomplete) recorded.set(key, inc);

  // What the Rulefile declares today for each recorded job.
  const declared = new Map<string, { outputs: string[]; directories?: string[]; log?: string }>();
  if (targets !== undefined) {
    // Globs waiting for a directory a job makes (SPEC §7) are matched against it as it is: its files were made by jobs too.
    const graph = growAll(buildGraph(project, targets, fs));
    for (const d of graph.warnings) warn(d);
    for (const job of graph.jobs) {
      if (job.rule.phony) continue;
      const d: { outputs: string[]; directories?: string[]; log?: string } = { outputs: job.outputs };
      if (job.log !== undefined) d.log = job.log;
      if (job.dirOutputs !== undefined) d.directories = [...job.dirOutputs];
      declared.set(recordKey(job), d);
    }
  } else {
    const index = new OutputIndex(project.rules);
    for (const key of recorded.keys()) {
      const d = declaredFor(index, key);
      if (d && d.outputs[0] === key) declared.set(key, d);
    }
  }

  const items: CleanItem[] = [];
  for (const [key, rec] of recorded) {
    const now = declared.get(key);
    if (!now) continue;
    const paths = rec.outputs.filter((p) => now.outputs.includes(p));
    if (rec.log !== undefined && rec.log === now.log) paths.push(rec.log);
    const files: string[] = [];
    const directories: string[] = [];
    const trees: string[] = [];
    for (const p of paths) {
      const st = fs.stat(p);
      if (st && now.directories?.includes(p)) trees.push(p);
      else if (st?.isDirectory) directories.push(p);
      else if (st) files.push(p);
    }
    items.push({ key, paths: files, directories, trees });
  }
  return items;
}

/**
 * Deletes the files and forgets the jobs; a job with a directory where an
 * output should be keeps its record (and the directory), so it is reported again.
 */
export function applyClean(items: CleanItem[], log: BuildLog, fs: FileSystem): void {
  for (const item of items) {
    for (const p of item.paths) fs.remove(p);
    // Only what a rule declares as a directory output is ever removed with what is in it.
    for (const p of item.trees) fs.removeTree(p);
    if (item.directories.length === 0) log.forget(item.key);
  }
}
