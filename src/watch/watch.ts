// `rules watch` (= `rules build --watch`): build, then keep the targets up to
// date. The first build is a whole one. Each rebuild hands the builder the
// paths the watcher reported: when they are only edits of files the last
// build looked at, the up-to-date stamp compares just those, and the
// incremental shortcut (build/shortcut.ts) decides just the jobs they
// concern, the graph being the one already watched; anything else (an edited
// Rulefile, a new file matching a glob) is a whole build again, which also
// gives the graph to watch from then on. A broken Rulefile or a
// failed job is reported and watching goes on. Ctrl-C stops the running
// build as in any build (jobs killed, their outputs removed) and exits 130;
// a reader closing our output does the same and exits 141 (cli/stdio.ts).

import { fstatSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { BuildOutcome, BuildRequest, WatchRequest } from '../build/request.js';
import { recordKey } from '../plan/staleness.js';
import { findRulefile } from '../rulefile/find.js';
import { DiskFileSystem, sameFile, type DirEntry } from '../util/fs.js';
import { glob } from '../util/glob.js';
import { ChangeQueue } from './queue.js';
import { WatchScope } from './scope.js';
import { Watcher } from './watcher.js';

/**
 * Builds, then rebuilds on every change that matters, until `build.signal` is
 * aborted. `build` is the builder's (handed in: the builder loads this module).
 */
export async function watchLoop(request: WatchRequest, build: (request: BuildRequest, whole: boolean) => Promise<BuildOutcome>): Promise<void> {
  const { cwd } = request.build.project;
  const rulefile = findRulefile(cwd, request.build.project.rulefile);
  const root = dirname(rulefile);
  const configFiles = request.build.project.configFiles.map((f) => resolve(cwd, f));
  const { reporter } = request;
  const signal = request.build.signal;
  let next: BuildRequest = request.build;
  const queue = new ChangeQueue();
  const watcher = new Watcher(queue, ownOutputs(), (text) => request.build.report.warn(text));
  try {
    let scope: WatchScope | undefined;
    // Whether `scope` is what the last whole build's graph named (not a fallback after a broken Rulefile).
    let fromGraph = false;
    for (;;) {
      let seen: BuildOutcome | undefined = await build(next, !fromGraph);
      if (seen.diagnostics.length > 0) request.failed(seen.diagnostics);
      if (signal.aborted) break;
      // Its jobs found dependencies the job index does not know (a new header): a whole build, which runs nothing, tells what to watch.
      if (fromGraph && seen.shortcut?.stamped === false && seen.exitCode === 0) seen = await build({ ...next, force: false, changed: undefined }, true);
      if (signal.aborted) break;
      // -B and -R force the first build only.
      const { changed: _, forceRules: __, ...rest } = next;
      next = { ...rest, force: false };
      // Answered by the stamp or the shortcut: the graph, and so what to watch, is the one the last whole build had.
      if (fromGraph && scope !== undefined && (seen.stamp !== undefined || seen.shortcut !== undefined)) {
        seen = undefined;
        reporter.emit({ type: 'watch-idle', ...scope.counts });
        const paths = await queue.next(signal);
        if (paths === undefined) break;
        reporter.emit({ type: 'watch-change', paths: paths.map((p) => scope!.rel(p)) });
        next = { ...next, changed: paths };
        continue;
      }
      // The project's files: the Rulefile, its includes, config files and the tables' files (SPEC §7).
      const files = [...new Set([rulefile, ...(seen.project?.read ?? []), ...configFiles])];
      // Without a graph (a broken Rulefile, a missing source), keep watching what the last good build named.
      const built = seen.files;
      const isDirectory = built ? (p: string) => built.stat(p)?.isDirectory === true : undefined;
      const now =
        seen.project && seen.graph
          ? new WatchScope({ root, files, project: seen.project, graph: seen.graph, discovered: discoveredDeps(seen), ...(isDirectory ? { isDirectory } : {}) })
          : (scope ?? new WatchScope({ root, files }));
      // Changes seen during the build through the old scope: only what matters now counts (not its own outputs).
      if (now !== scope) queue.retain((p) => now.matters(p) || now.searchedByGlob(p) || now.holdsRoot(p));
      watcher.use(now);
      if (seen.graph) missedDuringBuild(now, seen, queue);
      fromGraph = seen.graph !== undefined && seen.project !== undefined;
      const seen0 = fromGraph && seen.exitCode === 0;
      seen = undefined;
      scope = now;
      reporter.emit({ type: 'watch-idle', ...now.counts });
      const paths = await queue.next(signal);
      if (paths === undefined) break;
      reporter.emit({ type: 'watch-change', paths: paths.map((p) => now.rel(p)) });
      // A build without a graph (a broken Rulefile) is no base for the stamp's word on a few paths.
      if (seen0) next = { ...next, changed: paths };
    }
  } finally {
    queue.close();
    watcher.close();
    await reporter.close?.();
  }
}

/** Our own stdout and stderr when they are files (`rules watch > watch.log`): writing them is no change. */
function ownOutputs(): Set<string> {
  const own = new Set<string>();
  for (const fd of [1, 2]) {
    try {
      const st = fstatSync(fd);
      if (st.isFile()) own.add(`${st.dev}:${st.ino}`);
    } catch {
      // Closed: nothing to skip.
    }
  }
  return own;
}

/** The dependencies the graph's jobs discovered in their depfiles, as the build log holds them after the build. */
function discoveredDeps(seen: BuildOutcome): string[] {
  const { graph, plan } = seen;
  if (graph === undefined || plan === undefined) return [];
  const out = new Set<string>();
  for (const job of graph.jobs) {
    if (job.depfile === undefined) continue;
    const deps = plan.context.log.records.get(recordKey(job))?.deps;
    if (deps !== undefined) for (const d of deps.keys()) out.add(d);
  }
  return [...out];
}

/**
 * Changes made while the build ran, to files the watcher was not watching yet
 * (a first build, a new source): a source or discovered dependency whose
 * stat is not what the build saw, or a glob matching other files than it did.
 */
function missedDuringBuild(scope: WatchScope, seen: BuildOutcome, queue: ChangeQueue): void {
  const fs = seen.files;
  if (fs) {
    for (const files of [scope.sources, scope.discovered]) {
      for (const s of files) {
        const then = fs.stat(s);
        const abs = s.startsWith('/') ? s : `${scope.root}/${s}`;
        const now = statSync(abs, { throwIfNoEntry: false });
        if (!sameFile(then, now)) queue.add(abs);
      }
    }
    // Inside a source directory: every file the build looked at, and every directory it listed.
    if (scope.directorySources.size > 0) {
      const disk = new DiskFileSystem(scope.root);
      const prefixes = [...scope.directorySources].map((d) => `${d}/`);
      const inside = (p: string) => prefixes.some((d) => p.startsWith(d));
      for (const p of fs.lookedAt) {
        if (!inside(p)) continue;
        if (!sameFile(fs.stat(p), statSync(`${scope.root}/${p}`, { throwIfNoEntry: false }))) queue.add(`${scope.root}/${p}`);
      }
      for (const [dir, listing] of fs.listings) {
        if (!scope.directorySources.has(dir) && !inside(dir)) continue;
        let now;
        try {
          now = disk.readdir(dir);
        } catch {
          now = undefined;
        }
        if (listing === 'unlistable' || listingKey(listing) !== listingKey(now)) queue.add(`${scope.root}/${dir}`);
      }
    }
  }
  const disk = new DiskFileSystem(scope.root);
  for (const [pattern, matches] of scope.globMatches) {
    const now = new Set(glob(disk, pattern));
    const then = new Set(matches);
    for (const m of now) if (!then.has(m)) queue.add(`${scope.root}/${m}`);
    for (const m of then) if (!now.has(m)) queue.add(`${scope.root}/${m}`);
  }
}

/** A listing's names and kinds, whatever their order. */
function listingKey(listing: readonly DirEntry[] | undefined): string {
  return listing === undefined ? '' : listing.map((e) => `${e.isDirectory ? 'd' : 'f'}${e.name}`).sort().join('\0');
}
