// The directories watch mode watches, each with its own `fs.watch` (one
// inotify watch on Linux), never recursive: the scope's roots, and inside a
// deep root every directory, followed as directories come and go. A file
// changing in a watched directory arrives as that directory's event, with the
// file's name, so a directory of 100,000 sources costs one watch, and an
// event costs the same in it as in a directory of ten: nothing is listed or
// stat'ed again, but for the one entry an event names inside a deep
// directory (is it a directory to watch, or one that went?).

import { lstatSync, readdirSync, statSync, watch, type Dirent, type FSWatcher } from 'node:fs';
import { basename, join } from 'node:path';
import type { ChangeQueue } from './queue.js';
import type { WatchScope } from './scope.js';

interface Watched {
  handle: FSWatcher;
  /** The directory's `dev:ino` when its watch began: one removed and made again under its name is another. */
  id: string;
  /** Whether its subdirectories are watched too (it lies inside a deep root). */
  descended: boolean;
}

/**
 * Watches what the current scope names and adds the changes that matter to
 * the queue. `use` switches to a new scope: the directories both watch keep
 * their watch, so no change is missed meanwhile. A directory that cannot be
 * watched is named in one warning at most (`warn`), and watching goes on.
 */
export class Watcher {
  private scope: WatchScope | undefined;
  private readonly watched = new Map<string, Watched>();
  /** `dev:ino` → a path it is watched under: a link to a directory watched already (a loop) is not followed. */
  private readonly ids = new Map<string, string>();
  private readonly warned = new Set<string>();
  private limitWarned = false;

  constructor(
    private readonly queue: ChangeQueue,
    /** Our own stdout and stderr (`dev:ino`) when they are files: writing them is no change. */
    private readonly own: Set<string>,
    private readonly warn: (text: string) => void,
  ) {}

  /** The directories watched now. */
  get directories(): string[] {
    return [...this.watched.keys()].sort();
  }

  use(scope: WatchScope): void {
    this.scope = scope;
    for (const [dir, w] of this.watched) {
      if (!scope.watches(dir)) this.unwatch(dir);
      else if (!scope.descends(dir)) w.descended = false;
    }
    for (const dir of scope.watchList) {
      // Gone since the build looked: a change to what there is to see, which the next build's scope takes in.
      if (!this.watchTree(dir, false) && !isDirectory(dir)) this.queue.add(dir);
    }
  }

  close(): void {
    for (const w of this.watched.values()) w.handle.close();
    this.watched.clear();
    this.ids.clear();
  }

  /**
   * Watches `dir` and, where the scope descends, every directory inside it
   * not watched yet; with `report`, each one newly watched is a change where
   * a glob searches (files may have been written into it before its watch
   * began). Whether `dir` is watched.
   */
  private watchTree(dir: string, report: boolean, viaLink = false): boolean {
    const scope = this.scope!;
    let w = this.watched.get(dir);
    if (w === undefined) {
      w = this.watch(dir, viaLink);
      if (w === undefined) return false;
      if (report && scope.searchedByGlob(dir)) this.queue.add(dir);
    }
    if (w.descended || !scope.descends(dir)) return true;
    w.descended = true;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      // Gone meanwhile (its parent's watch says so), or not readable.
      this.cannotWatch(dir, e);
      return true;
    }
    for (const e of entries) {
      if (!e.isDirectory() && !e.isSymbolicLink()) continue;
      const sub = join(dir, e.name);
      if (scope.watches(sub)) this.watchTree(sub, report, e.isSymbolicLink());
    }
    return true;
  }

  private watch(dir: string, viaLink: boolean): Watched | undefined {
    let id: string;
    try {
      const st = statSync(dir);
      // A file, or a link to one: nothing to watch.
      if (!st.isDirectory()) return undefined;
      id = `${st.dev}:${st.ino}`;
    } catch (e) {
      this.cannotWatch(dir, e);
      return undefined;
    }
    if (viaLink && this.ids.has(id)) return undefined;
    let handle: FSWatcher;
    try {
      handle = watch(dir, { persistent: true }, (event, name) => this.event(dir, event, name));
    } catch (e) {
      this.cannotWatch(dir, e);
      return undefined;
    }
    handle.on('error', (e) => {
      if (this.watched.get(dir)?.handle === handle) this.unwatch(dir);
      else handle.close();
      this.cannotWatch(dir, e);
    });
    const w: Watched = { handle, id, descended: false };
    this.watched.set(dir, w);
    this.ids.set(id, dir);
    return w;
  }

  private unwatch(dir: string): void {
    const w = this.watched.get(dir);
    if (w === undefined) return;
    w.handle.close();
    this.watched.delete(dir);
    if (this.ids.get(w.id) === dir) this.ids.delete(w.id);
  }

  /** `name` in the watched directory `dir` was written, made, removed or renamed. */
  private event(dir: string, event: string, name: string | Buffer | null): void {
    const scope = this.scope!;
    if (typeof name !== 'string' || name === '') {
      this.recheck(dir);
      return;
    }
    const path = join(dir, name);
    // A file of the scope changed, or a watched directory was made (files written into it at once are seen by no watch yet) or removed.
    if ((scope.matters(path) || scope.holdsRoot(path)) && !this.isOwnOutput(path)) this.queue.add(path);
    if (event !== 'rename') return;
    // An entry made or removed: a directory to watch, or one whose watch ends.
    if (this.watched.has(path) || (this.watched.get(dir)?.descended === true && scope.watches(path))) this.recheck(path);
    // A watch names its own directory when that is removed or moved away.
    if (name === basename(dir)) this.recheck(dir);
  }

  /** Whether `dir` is still the directory watched under its name; if not, its watch ends, and a new one there is watched. */
  private recheck(dir: string): void {
    const w = this.watched.get(dir);
    let id: string | undefined;
    let link = false;
    try {
      const lst = lstatSync(dir);
      link = lst.isSymbolicLink();
      const st = link ? statSync(dir) : lst;
      if (st.isDirectory()) id = `${st.dev}:${st.ino}`;
    } catch {
      // Gone.
    }
    if (w !== undefined && w.id === id) return;
    if (w !== undefined) this.unwatchTree(dir);
    if (id !== undefined && this.scope!.watches(dir)) this.watchTree(dir, true, link);
  }

  /** Ends the watch of `dir` and of every directory inside it: each that a glob searched, or that held a root, is a change. */
  private unwatchTree(dir: string): void {
    const scope = this.scope!;
    const prefix = `${dir}/`;
    for (const d of [...this.watched.keys()]) {
      if (d !== dir && !d.startsWith(prefix)) continue;
      this.unwatch(d);
      if (scope.searchedByGlob(d) || scope.holdsRoot(d)) this.queue.add(d);
    }
  }

  private isOwnOutput(path: string): boolean {
    if (this.own.size === 0) return false;
    const st = statSync(path, { throwIfNoEntry: false });
    return st !== undefined && this.own.has(`${st.dev}:${st.ino}`);
  }

  /** Says once why `dir` is not watched; a directory that is gone needs no word (its parent's watch, or the next build, sees it go). */
  private cannotWatch(dir: string, e: unknown): void {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return;
    const shown = this.scope?.rel(dir) ?? dir;
    if (code === 'ENOSPC') {
      if (this.limitWarned) return;
      this.limitWarned = true;
      this.warn(
        `cannot watch ${shown}: the system's limit of watched directories is reached (fs.inotify.max_user_watches); changes in it and in the other directories past the limit are not seen`,
      );
      return;
    }
    if (this.warned.has(dir)) return;
    this.warned.add(dir);
    this.warn(`cannot watch ${shown}: ${(e as Error).message}; changes in it are not seen`);
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
