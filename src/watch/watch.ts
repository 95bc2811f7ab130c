// `rules watch` (= `rules build --watch`): build, then keep the targets up to
// date. Every build is a whole build (the Rulefile is loaded again, so an
// edited Rulefile or a new file matching a glob is seen); staleness decides
// what runs, so only what a change affects is rebuilt. A broken Rulefile or a
// failed job is reported and watching goes on. Ctrl-C stops the running
// build as in any build (jobs killed, their outputs removed) and exits 130;
// a reader closing our output does the same and exits 141 (cli/stdio.ts).

import { fstatSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { watch as watchFiles, type FSWatcher } from 'chokidar';
import { runBuild, type BuildScope } from '../cli/commands.js';
import { values, value, type ParsedArgs } from '../cli/args.js';
import type { BuildOptions } from '../cli/options.js';
import { buildReporter } from '../cli/reporters.js';
import { EXIT_OUTPUT_CLOSED, outputClosed } from '../cli/stdio.js';
import { findRulefile } from '../rulefile/find.js';
import { formatDiagnostic, UserError } from '../util/errors.js';
import { DiskFileSystem, sameFile } from '../util/fs.js';
import { glob } from '../util/glob.js';
import { ChangeQueue } from './queue.js';
import { WatchScope } from './scope.js';

export async function watchCommand(args: ParsedArgs, opts: BuildOptions): Promise<number> {
  const cwd = process.cwd();
  const rulefile = findRulefile(cwd, value(args, 'file'));
  const root = dirname(rulefile);
  const configFiles = values(args, 'configfile').map((f) => resolve(cwd, f));
  const reporter = await buildReporter(args, opts.json, undefined);
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  outputClosed.addEventListener('abort', stop);
  if (outputClosed.aborted) stop();
  const queue = new ChangeQueue();
  const watcher = new Watcher(queue, ownOutputs());
  try {
    let scope: WatchScope | undefined;
    for (;;) {
      let seen: BuildScope | undefined;
      try {
        await runBuild(args, opts, abort.signal, (s) => (seen = s));
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        for (const d of e.diagnostics) process.stderr.write(d.loc ? `${formatDiagnostic(d)}\n` : `rules: ${d.message}\n`);
      }
      if (abort.signal.aborted) break;
      // -B forces the first build; the rebuilds run what the changes make stale.
      if (args.flags.has('force')) {
        args = { ...args, flags: new Map([...args.flags].filter(([k]) => k !== 'force')) };
        opts = { ...opts, force: false };
      }
      const files = [...new Set([rulefile, ...(seen?.project.files ?? []), ...configFiles])];
      // Without a graph (a broken Rulefile, a missing source), keep watching what the last good build named.
      const next = seen?.graph ? new WatchScope({ root, files, project: seen.project, graph: seen.graph }) : (scope ?? new WatchScope({ root, files }));
      // Changes seen during the build through the old scope: only what matters now counts (not its own outputs).
      if (next !== scope) queue.retain((p) => next.matters(p) || next.searchedByGlob(p) || next.holdsRoot(p));
      await watcher.use(next);
      if (seen?.graph) missedDuringBuild(next, seen, queue);
      seen = undefined;
      scope = next;
      reporter.emit({ type: 'watch-idle', ...next.counts });
      const paths = await queue.next(abort.signal);
      if (paths === undefined) break;
      reporter.emit({ type: 'watch-change', paths: paths.map((p) => next.rel(p)) });
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    outputClosed.removeEventListener('abort', stop);
    queue.close();
    await watcher.close();
    await reporter.close();
  }
  // Stopped: leave now, whatever timers the watcher left behind (output is written synchronously).
  const code = outputClosed.aborted ? EXIT_OUTPUT_CLOSED : 130;
  setTimeout(() => process.exit(code), 0).unref();
  return code;
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

/**
 * Changes made while the build ran, to files the watcher was not watching yet
 * (a first build, a new source): a source whose stat is not what the build
 * saw, or a glob matching other files than it did.
 */
function missedDuringBuild(scope: WatchScope, seen: BuildScope, queue: ChangeQueue): void {
  const fs = seen.fs;
  if (fs) {
    for (const s of scope.sources) {
      const then = fs.stat(s);
      const abs = s.startsWith('/') ? s : `${scope.root}/${s}`;
      const now = statSync(abs, { throwIfNoEntry: false });
      if (!sameFile(then, now)) queue.add(abs);
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

/**
 * The chokidar watcher for the current scope; replaced (the new one ready
 * first) when the watched directories change. Chokidar watches directories
 * only: a change to a file in one arrives as the directory's raw event, so a
 * directory of 100,000 sources costs one watch, not 100,000.
 */
class Watcher {
  private fsw: FSWatcher | undefined;
  private scope: WatchScope | undefined;

  constructor(
    private readonly queue: ChangeQueue,
    private readonly own: Set<string>,
  ) {}

  private isOwnOutput(path: string): boolean {
    if (this.own.size === 0) return false;
    const st = statSync(path, { throwIfNoEntry: false });
    return st !== undefined && this.own.has(`${st.dev}:${st.ino}`);
  }

  async use(scope: WatchScope): Promise<void> {
    const same = this.scope !== undefined && sameRoots(this.scope, scope);
    this.scope = scope;
    if (same) return;
    const fsw = watchFiles(scope.watchList, {
      ignoreInitial: true,
      ignored: (path: string, stats?: Stats) => this.scope!.ignored(path) || isFile(path, stats),
      persistent: true,
    });
    fsw.on('raw', (_event, name: string | null, details) => {
      const dir = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (!name || !dir) return;
      const path = join(dir, name);
      // A watched directory made (files written into it at once are seen by no watcher yet) or removed.
      if ((this.scope!.matters(path) || this.scope!.holdsRoot(path)) && !this.isOwnOutput(path)) this.queue.add(path);
    });
    // A directory appearing or going where a glob looks deep: its files may match.
    fsw.on('addDir', (path) => this.scope!.searchedByGlob(path) && this.queue.add(path));
    fsw.on('unlinkDir', (path) => this.scope!.searchedByGlob(path) && this.queue.add(path));
    fsw.on('error', () => {
      // A directory that vanished or cannot be read: its files are simply not watched.
    });
    await new Promise<void>((resolve) => fsw.once('ready', () => resolve()));
    const old = this.fsw;
    this.fsw = fsw;
    await old?.close();
  }

  async close(): Promise<void> {
    await this.fsw?.close();
  }
}

function isFile(path: string, stats?: Stats): boolean {
  if (stats) return !stats.isDirectory();
  const st = statSync(path, { throwIfNoEntry: false });
  return st !== undefined && !st.isDirectory();
}

function sameRoots(a: WatchScope, b: WatchScope): boolean {
  if (a.roots.size !== b.roots.size || a.watchList.join('\0') !== b.watchList.join('\0')) return false;
  for (const [dir, depth] of a.roots) if (b.roots.get(dir) !== depth) return false;
  return true;
}
