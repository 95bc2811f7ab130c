// The file system as the engine sees it: paths relative to the project root,
// behind an interface so graph and staleness logic can be tested on a fake.

import { lstatSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { UserError } from './errors.js';
import { hashFileSync } from './hash.js';

export interface FileStat {
  mtimeMs: number;
  size: number;
  ino: number;
  /** The device holding it: with `ino`, the file's identity (absent where a file system has none). */
  dev?: number;
  isDirectory: boolean;
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
  /** Whether a path exists (what `stat` says, but may be answered from a directory listing). */
  exists(path: string): boolean;
  /** A hash of a file's content (read in chunks); throws if it cannot be read. */
  hash(path: string): string;
  /**
   * Deletes a file, or a symbolic link (never what it points to), if it exists.
   * Never deletes a directory: throws `IsDirectoryError` and leaves it whole.
   */
  remove(path: string): void;
  /** Creates a directory and its parents. */
  mkdirp(path: string): void;
  /** Forgets anything cached about `path` (after a job wrote it). */
  invalidate(path: string): void;
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

  remove(path: string): void {
    const abs = this.abs(path);
    try {
      unlinkSync(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Nothing there, or a file where a directory of the path should be: nothing to remove.
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      // unlink refuses a directory: EISDIR on Linux, EPERM on macOS.
      if ((code === 'EISDIR' || code === 'EPERM') && lstatSync(abs, { throwIfNoEntry: false })?.isDirectory()) throw new IsDirectoryError(path);
      throw e;
    }
  }

  mkdirp(path: string): void {
    if (path && path !== '.') mkdirSync(this.abs(path), { recursive: true });
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
 * Remembers every answer: within one build the tree is read once. A path in a
 * directory known to be missing is missing without asking the disk (a fresh
 * tree's outputs cost one stat per directory), and a directory already listed
 * answers whether a name exists.
 */
export class CachedFileSystem implements FileSystem {
  private readonly stats = new Map<string, FileStat | undefined>();
  private readonly dirs = new Map<string, DirEntry[] | undefined>();
  private readonly names = new Map<string, Set<string>>();

  constructor(readonly inner: FileSystem) {}

  stat(path: string): FileStat | undefined {
    const known = this.stats.get(path);
    if (known !== undefined || this.stats.has(path)) return known;
    const slash = path.lastIndexOf('/');
    const s = slash > 0 && this.stat(path.slice(0, slash)) === undefined ? undefined : this.inner.stat(path);
    this.stats.set(path, s);
    return s;
  }

  exists(path: string): boolean {
    if (this.stats.has(path)) return this.stats.get(path) !== undefined;
    const slash = path.lastIndexOf('/');
    const dir = slash > 0 ? path.slice(0, slash) : '';
    if (this.dirs.has(dir)) {
      let names = this.names.get(dir);
      // A broken link is listed but leads to nothing: it does not exist, as `stat` says.
      if (!names) this.names.set(dir, (names = new Set((this.dirs.get(dir) ?? []).filter((e) => e.broken === undefined).map((e) => e.name))));
      return names.has(slash > 0 ? path.slice(slash + 1) : path);
    }
    return this.stat(path) !== undefined;
  }

  readdir(path: string): DirEntry[] | undefined {
    if (this.dirs.has(path)) return this.dirs.get(path);
    const d = this.inner.readdir(path);
    this.dirs.set(path, d);
    return d;
  }

  hash(path: string): string {
    return this.inner.hash(path);
  }

  remove(path: string): void {
    this.stats.delete(path);
    this.inner.remove(path);
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

  /** Forget what is known of `path` (after a job wrote it). */
  invalidate(path: string): void {
    this.stats.delete(path);
  }
}
