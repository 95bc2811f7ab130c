// The file system as the engine sees it: paths relative to the project root,
// behind an interface so graph and staleness logic can be tested on a fake.

import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { UserError } from './errors.js';
import { hashFileSync, openNoWait } from './hash.js';
import { compareCodePoints } from './strings.js';

export interface FileStat {
  mtimeMs: number;
  size: number;
  ino: number;
  /** The device holding it: with `ino`, the file's identity (absent where a file system has none). */
  dev?: number;
  isDirectory: boolean;
}

/** What identifies a version of a file: a file is unchanged while these are. */
export interface FileIdentity {
  size: number;
  mtimeMs: number;
  ino: number;
}

/**
 * The one test of "this file is unchanged": the same size, mtime and inode.
 * The hash cache, the up-to-date stamp and watch mode all ask it. Two missing
 * files (undefined) are the same; a missing file and an existing one are not.
 */
export function sameFile(a: FileIdentity | undefined, b: FileIdentity | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

export interface DirEntry {
  name: string;
  /** A directory, or a symbolic link to one. */
  isDirectory: boolean;
  /** A symbolic link: `isDirectory` says what it leads to. */
  isLink?: boolean;
  /**
   * Why the entry leads to neither a file nor a directory: a symbolic link to
   * nothing, one in a loop, one that may not be followed. Such an entry is
   * listed (its name is taken) but is not a file.
   */
  broken?: string;
}

export interface FileSystem {
  /** Metadata of a path (following links), or undefined when it does not exist. */
  stat(path: string): FileStat | undefined;
  /**
   * Entries of a directory, or undefined when there is none at `path`. Throws
   * (an error with a `code`) when a directory is there but cannot be listed.
   */
  readdir(path: string): DirEntry[] | undefined;
  /**
   * The listing of `path` just read decided which jobs the build has (a
   * glob's): a record of what the build looked at keeps it, even if a job
   * writes the directory later (only a cache that records listings needs it).
   */
  keepListing?(path: string): void;
  /** Whether a path exists (what `stat` says, but may be answered from a directory listing). */
  exists(path: string): boolean;
  /** A hash of a file's content (read in chunks); throws if it cannot be read. */
  hash(path: string): string;
  /**
   * A file's whole text (UTF-8), or undefined when there is none; throws when
   * it is there but cannot be read. Not a dependency of the build: no stamp records it.
   */
  read(path: string): string | undefined;
  /**
   * Deletes a file, or a symbolic link (never what it points to), if it exists.
   * Never deletes a directory: throws `IsDirectoryError` and leaves it whole.
   */
  remove(path: string): void;
  /**
   * Deletes a declared directory output and everything in it: a symbolic link
   * in it (or at `path`) is removed, never followed; a file at `path` is
   * deleted too. Only for paths a rule declares as directory outputs.
   */
  removeTree(path: string): void;
  /** The target text of a symbolic link, or undefined when `path` is not one. */
  readlink(path: string): string | undefined;
  /** Creates a directory and its parents. */
  mkdirp(path: string): void;
  /** Sets the mtime of a file or directory to now, as `touch` does (`rules build --touch`); a cache forgets the path. */
  touch?(path: string): void;
  /** Forgets anything cached about `path` and everything under it (after a job wrote it). */
  invalidate(path: string): void;
  /**
   * `stat` for a path that matters only if it is a file (a word of a command,
   * SPEC §6): a directory found there is not recorded for the up-to-date stamp.
   */
  statFile?(path: string): FileStat | undefined;
  /** The first `bytes` bytes of a file as text (a script's `#!` line), or undefined when it cannot be read. */
  readStart?(path: string, bytes: number): string | undefined;
}

/** A directory where the engine would delete a file: it deletes nothing then. */
export class IsDirectoryError extends Error {
  constructor(readonly path: string) {
    super(`'${path}' is a directory, not a file; rules never deletes a directory`);
    this.name = 'IsDirectoryError';
  }
}

/** The real disk, rooted at `root`. */
export class DiskFileSystem implements FileSystem {
  constructor(readonly root: string) {}

  abs(path: string): string {
    if (path.startsWith('/')) return path;
    return path === '' || path === '.' ? this.root : `${this.root}/${path}`;
  }

  stat(path: string): FileStat | undefined {
    let s;
    try {
      s = statSync(this.abs(path), { throwIfNoEntry: false });
    } catch (e) {
      // A file where a directory of the path should be, or symbolic links in a
      // loop: the path leads to nothing.
      const code = (e as NodeJS.ErrnoException).code;
      // A path longer than the system takes cannot exist either.
      if (code === 'ENOTDIR' || code === 'ELOOP' || code === 'ENAMETOOLONG') return undefined;
      // A directory on the way that we may not search: the user's to fix, not a bug.
      if (code === 'EACCES') throw new UserError(`cannot look at '${path}': permission denied on a directory on the way`);
      throw e;
    }
    if (!s) return undefined;
    return { mtimeMs: s.mtimeMs, size: s.size, ino: s.ino, dev: s.dev, isDirectory: s.isDirectory() };
  }

  readdir(path: string): DirEntry[] | undefined {
    const dir = this.abs(path);
    let dirents;
    try {
      dirents = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw e;
    }
    return dirents.map((d): DirEntry => {
      if (!d.isSymbolicLink()) return { name: d.name, isDirectory: d.isDirectory() };
      // A link is what it leads to; one that leads nowhere is one bad entry, never the whole directory.
      try {
        return { name: d.name, isDirectory: statSync(`${dir}/${d.name}`).isDirectory(), isLink: true };
      } catch (e) {
        return { name: d.name, isDirectory: false, isLink: true, broken: brokenLink((e as NodeJS.ErrnoException).code) };
      }
    });
  }

  exists(path: string): boolean {
    return this.stat(path) !== undefined;
  }

  hash(path: string): string {
    return hashFileSync(this.abs(path));
  }

  read(path: string): string | undefined {
    let opened;
    try {
      opened = openNoWait(this.abs(path));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw e;
    }
    try {
      // A FIFO or device there is no file to read (reading could wait for ever).
      return opened.st.isFile() ? readFileSync(opened.fd, 'utf8') : undefined;
    } finally {
      closeSync(opened.fd);
    }
  }

  remove(path: string): void {
    const abs = this.abs(path);
    // Looked at first: in a full build the output is not there yet, and a failed unlink would
    // cost an exception per job (about a tenth of the scheduler's time), where lstat costs none.
    let st;
    try {
      st = lstatSync(abs, { throwIfNoEntry: false });
    } catch (e) {
      // A file where a directory of the path should be: nothing to remove.
      if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw e;
    }
    if (st === undefined) return;
    if (st.isDirectory()) throw new IsDirectoryError(path);
    try {
      unlinkSync(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Gone meanwhile: nothing to remove.
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      // unlink refuses a directory: EISDIR on Linux, EPERM on macOS (one put there meanwhile).
      if ((code === 'EISDIR' || code === 'EPERM') && lstatSync(abs, { throwIfNoEntry: false })?.isDirectory()) throw new IsDirectoryError(path);
      throw e;
    }
  }

  removeTree(path: string): void {
    const abs = this.abs(path);
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (st === undefined) return;
    // A link or a file is unlinked; a directory is removed with its contents, links in it unlinked (never followed).
    if (!st.isDirectory()) unlinkSync(abs);
    else rmSync(abs, { recursive: true, force: true });
  }

  readlink(path: string): string | undefined {
    try {
      return readlinkSync(this.abs(path));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EINVAL' || code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw e;
    }
  }

  mkdirp(path: string): void {
    if (path && path !== '.') mkdirSync(this.abs(path), { recursive: true });
  }

  touch(path: string): void {
    const now = new Date();
    utimesSync(this.abs(path), now, now);
  }

  readStart(path: string, bytes: number): string | undefined {
    let fd: number | undefined;
    try {
      const opened = openNoWait(this.abs(path));
      fd = opened.fd;
      if (!opened.st.isFile()) return undefined;
      const buf = Buffer.alloc(bytes);
      const n = readSync(fd, buf, 0, bytes, 0);
      return buf.subarray(0, n).toString('utf8');
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  invalidate(): void {
    // Nothing is cached.
  }
}

/** Why a symbolic link cannot be followed, from the error `stat` gave. */
function brokenLink(code: string | undefined): string {
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'a symbolic link to nothing';
  if (code === 'ELOOP') return 'a symbolic link in a loop';
  if (code === 'EACCES' || code === 'EPERM') return 'a symbolic link that may not be followed (permission denied)';
  return `a symbolic link that cannot be followed (${code ?? 'unknown error'})`;
}

/**
 * A directory's entries as a build used them: undefined when there was no
 * directory, `'unlistable'` when one was there but could not be listed.
 */
export type Listing = readonly DirEntry[] | undefined | 'unlistable';

/**
 * Remembers every answer: within one build the tree is read once. A path in a
 * directory known to be missing is missing without asking the disk (a fresh
 * tree's outputs cost one stat per directory), and a directory already listed
 * answers whether a name exists.
 *
 * It also keeps a record of what the build looked at, which the up-to-date
 * stamp is made of (state/stamp.ts): every path a caller stat'ed or hashed,
 * and every directory listed with the listing used. Unlike the cache, the
 * record forgets nothing (`invalidate`, `remove`, `mkdirp`). The parent
 * directories `stat` looks at on its own, to answer for a path below a missing
 * one, are not in it: the path asked about is, and a stat of it says whether
 * it exists (a directory's mtime, which every file written into it changes,
 * would otherwise break the stamp after every build that ran a job).
 * A dry run, which writes no stamp, keeps no record of the paths it stat'ed
 * (`record: false`): a fresh tree's dry run stats every output once.
 */
/** The record of paths looked at, when none is kept: `lookedAt` stays empty. */
class NoRecord extends Set<string> {
  override add(): this {
    return this;
  }
}

/**
 * Whether a listing has an entry of a name that leads somewhere (a broken
 * link is listed but does not exist, as `stat` says). A listing in code point
 * order, as the disk gives it, is searched from the entry found last, then
 * by halves: names asked in order (the sources of the jobs a glob made) cost
 * a comparison or two each, and no set of a million names is made. Another
 * listing is put in a set.
 */
class ListedNames {
  private readonly set: Set<string> | undefined;
  /** Where the last name asked was found. */
  private at = 0;

  constructor(private readonly entries: readonly DirEntry[]) {
    let sorted = true;
    for (let i = 1; i < entries.length && sorted; i++) sorted = compareCodePoints(entries[i - 1]!.name, entries[i]!.name) < 0;
    if (sorted) return;
    this.set = new Set();
    for (const e of entries) if (e.broken === undefined) this.set.add(e.name);
  }

  has(name: string): boolean {
    if (this.set !== undefined) return this.set.has(name);
    const entries = this.entries;
    let i = -1;
    if (this.at < entries.length && entries[this.at]!.name === name) i = this.at;
    else if (this.at + 1 < entries.length && entries[this.at + 1]!.name === name) i = this.at + 1;
    else {
      let lo = 0;
      let hi = entries.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        const c = compareCodePoints(entries[mid]!.name, name);
        if (c === 0) {
          i = mid;
          break;
        }
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    if (i < 0) return false;
    this.at = i;
    return entries[i]!.broken === undefined;
  }
}

/** A cached stat, and whether the build asked for it (else it was only a parent on the way). */
interface Known {
  stat: FileStat | undefined;
  asked: boolean;
}

export class CachedFileSystem implements FileSystem {
  /** What is known of each path, and whether it was asked for (not only stat'ed as a parent on the way). */
  private readonly stats = new Map<string, Known>();
  private readonly dirs = new Map<string, DirEntry[] | undefined>();
  private readonly names = new Map<string, ListedNames>();
  private readonly looked: Set<string>;
  private readonly listed = new Map<string, Listing>();
  /** Directory → the paths below it that were looked up (each once per lookup): what to forget with it. */
  private readonly children = new Map<string, string[]>();
  /** Every symbolic link whose target was read, with the last answer. */
  private readonly linked = new Map<string, string | undefined>();

  constructor(
    readonly inner: FileSystem,
    options: { record?: boolean } = {},
  ) {
    this.looked = options.record === false ? new NoRecord() : new Set();
  }

  /** Every path ever stat'ed or hashed (`exists` too, unless a listing answered it), in the order first asked; none with `record: false`. */
  get lookedAt(): ReadonlySet<string> {
    return this.looked;
  }

  /** Every directory ever listed, with the first listing the build used (since a job last wrote it). */
  get listings(): ReadonlyMap<string, Listing> {
    return this.listed;
  }

  /** Every path whose link target was read, with the target (undefined: not a link). */
  get links(): ReadonlyMap<string, string | undefined> {
    return this.linked;
  }

  stat(path: string): FileStat | undefined {
    if (this.probed.size > 0) this.probed.delete(path);
    // One lookup on the hot path (a cache hit): the entry knows whether the path is recorded.
    const known = this.stats.get(path);
    if (known !== undefined) {
      if (!known.asked) {
        known.asked = true;
        this.looked.add(path);
      }
      return known.stat;
    }
    this.looked.add(path);
    return this.lookUp(path, true);
  }

  /**
   * Stats `path` (its parent first: under a missing directory nothing exists)
   * and caches it. A path under a missing directory is not cached: its parent
   * answers for it as cheaply, and a fresh tree has millions of such outputs.
   */
  private lookUp(path: string, asked: boolean): FileStat | undefined {
    const slash = path.lastIndexOf('/');
    let s: FileStat | undefined;
    if (slash > 0) {
      const dir = path.slice(0, slash);
      const parent = this.stats.get(dir);
      if ((parent !== undefined ? parent.stat : this.lookUp(dir, false)) === undefined) return undefined;
      s = this.inner.stat(path);
      // A miss already costs a system call: noting the path under its directory is cheap beside it.
      const kids = this.children.get(dir);
      if (kids === undefined) this.children.set(dir, [path]);
      else kids.push(path);
    } else s = this.inner.stat(path);
    this.stats.set(path, { stat: s, asked });
    return s;
  }

  exists(path: string): boolean {
    if (this.stats.has(path)) return this.stat(path) !== undefined;
    const slash = path.lastIndexOf('/');
    const dir = slash > 0 ? path.slice(0, slash) : '';
    if (this.dirs.has(dir)) {
      // Answered by the listing, which is recorded.
      let names = this.names.get(dir);
      if (!names) this.names.set(dir, (names = new ListedNames(this.dirs.get(dir) ?? [])));
      return names.has(slash > 0 ? path.slice(slash + 1) : path);
    }
    return this.stat(path) !== undefined;
  }

  keepListing(path: string): void {
    this.keptListings.add(path);
  }
  /** Directories whose first listing a glob went by: never replaced in the record. */
  private readonly keptListings = new Set<string>();

  readdir(path: string): DirEntry[] | undefined {
    if (this.dirs.has(path)) return this.dirs.get(path);
    let d;
    try {
      d = this.inner.readdir(path);
    } catch (e) {
      if (!this.listed.has(path)) this.listed.set(path, 'unlistable');
      throw e;
    }
    this.dirs.set(path, d);
    const slash = path.lastIndexOf('/');
    if (slash > 0) {
      const kids = this.children.get(path.slice(0, slash));
      if (kids === undefined) this.children.set(path.slice(0, slash), [path]);
      else kids.push(path);
    }
    // The first listing is the one the build went by (since a job last wrote it): a later, different one cannot make it right.
    if (!this.listed.has(path)) this.listed.set(path, d);
    return d;
  }

  hash(path: string): string {
    this.looked.add(path);
    return this.inner.hash(path);
  }

  /** Not recorded: what a build reads this way (a depfile) is not what its answer depends on. */
  read(path: string): string | undefined {
    return this.inner.read(path);
  }

  statFile(path: string): FileStat | undefined {
    const recorded = this.looked.has(path);
    const probe = this.probed.has(path);
    const st = this.stat(path);
    if (recorded) {
      if (probe) this.probed.add(path);
      return st;
    }
    if (st?.isDirectory) {
      this.looked.delete(path);
      const known = this.stats.get(path);
      if (known) known.asked = false;
    } else this.probed.add(path);
    return st;
  }

  /** Paths only `statFile` looked at (words of commands that are no input): recorded, but not counted as files the build used. */
  get probedOnly(): ReadonlySet<string> {
    return this.probed;
  }
  private readonly probed = new Set<string>();

  /** Read through (not cached); the path is recorded as looked at, as a hash would. */
  readStart(path: string, bytes: number): string | undefined {
    this.stat(path);
    return this.inner.readStart?.(path, bytes);
  }

  remove(path: string): void {
    this.stats.delete(path);
    this.inner.remove(path);
    this.forgetListingOf(path);
  }

  removeTree(path: string): void {
    this.inner.removeTree(path);
    this.invalidate(path);
    this.forgetListingOf(path);
  }

  /** A name removed from a directory: its cached listing no longer answers `exists` (the record keeps the first one). */
  private forgetListingOf(path: string): void {
    if (this.dirs.size === 0) return;
    const slash = path.lastIndexOf('/');
    const dir = slash > 0 ? path.slice(0, slash) : '';
    this.dirs.delete(dir);
    this.names.delete(dir);
  }

  readlink(path: string): string | undefined {
    const target = this.inner.readlink(path);
    this.linked.set(path, target);
    return target;
  }

  touch(path: string): void {
    this.inner.touch?.(path);
    this.invalidate(path);
  }

  mkdirp(path: string): void {
    this.inner.mkdirp(path);
    // The directory and its parents may be new: forget that they were missing.
    for (let p = path; p && p !== '.'; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) {
      this.stats.delete(p);
      this.dirs.delete(p);
      this.names.delete(p);
    }
  }

  /** Forget what is known of `path` and everything under it (after a job wrote it). */
  invalidate(path: string): void {
    this.stats.delete(path);
    // A file output (the usual case) has nothing under it: one lookup.
    if (!this.children.has(path) && !this.dirs.has(path)) return;
    const stack = [path];
    while (stack.length > 0) {
      const p = stack.pop()!;
      this.stats.delete(p);
      this.dirs.delete(p);
      this.names.delete(p);
      // A directory a job wrote: what the build went by is its next listing, not the one from before the job,
      // unless a glob went by that one (a glob not waiting for the job, SPEC §7): the graph was made from it.
      if (!this.keptListings.has(p)) this.listed.delete(p);
      const kids = this.children.get(p);
      if (kids === undefined) continue;
      this.children.delete(p);
      for (const k of kids) stack.push(k);
    }
  }
}
