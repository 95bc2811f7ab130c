// An in-memory file system for fast, deterministic tests of graph, plan and run.

import { posix } from 'node:path';
import { IsDirectoryError, type DirEntry, type FileStat, type FileSystem } from '../../src/util/fs.js';

/** Links followed in one path before it is taken for a loop, as on Linux. */
const MAX_LINKS = 40;

interface FakeFile extends FileStat {
  content: string;
}

export class FakeFileSystem implements FileSystem {
  private readonly files = new Map<string, FakeFile>();
  /** Symbolic links: path → target, relative to the link's directory as on disk. */
  private readonly links = new Map<string, string>();
  /** Directories that cannot be listed (permission denied). */
  private readonly denied = new Set<string>();
  /** Inodes of directories, given out when first asked for. */
  private readonly dirInos = new Map<string, number>();
  /** Directories made explicitly (mkdirp): they exist even when empty. */
  private readonly madeDirs = new Set<string>();
  /** A directory's mtime: when an entry was last added to it or removed from it (0 when never). */
  private readonly dirMtimes = new Map<string, number>();
  private nextIno = 1;
  private clock = 1_000_000;

  /** Creates or rewrites files (content defaults to the path); each write is newer than every earlier one. */
  write(...paths: string[]): this {
    for (const p of paths) this.put(p, p);
    return this;
  }

  /** Writes `content` to `path`, newer than everything before. */
  put(path: string, content: string): this {
    this.clock += 1000;
    const old = this.files.get(path);
    this.files.set(path, { mtimeMs: this.clock, size: Buffer.byteLength(content), ino: old?.ino ?? this.nextIno++, isDirectory: false, content });
    if (old === undefined) this.entryChanged(path);
    return this;
  }

  /** An entry of `path`'s directory came or went: the directory's mtime moves, as on disk. */
  private entryChanged(path: string): void {
    const slash = path.lastIndexOf('/');
    if (slash > 0) this.dirMtimes.set(path.slice(0, slash), this.clock);
  }

  /** Deletes a file or link (as `rm`), newer than everything before: its directory's mtime moves. */
  rm(path: string): this {
    if (!this.files.delete(path) && !this.links.delete(path)) throw new Error(`no file ${path}`);
    this.clock += 1000;
    this.entryChanged(path);
    // Its directory stays, empty, as on disk.
    const slash = path.lastIndexOf('/');
    if (slash > 0 && !this.isDir(path.slice(0, slash))) this.madeDirs.add(path.slice(0, slash));
    return this;
  }

  /** Makes `path` unreadable: hashing it fails (permission denied). */
  forbid(path: string): this {
    this.unreadable.add(path);
    return this;
  }
  private readonly unreadable = new Set<string>();

  /** A new mtime, the same content (like `touch`). */
  touch(path: string): this {
    const f = this.files.get(path);
    if (!f) throw new Error(`no file ${path}`);
    this.clock += 1000;
    f.mtimeMs = this.clock;
    return this;
  }

  /** Makes `path` a symbolic link to `target` (resolved from the link's directory, `..` allowed). */
  link(path: string, target: string): this {
    this.clock += 1000;
    this.links.set(path, target);
    this.entryChanged(path);
    return this;
  }

  /** Makes listing the directory `path` fail with EACCES. */
  deny(path: string): this {
    this.denied.add(path);
    return this;
  }

  /** The path with every link followed; undefined for a loop. */
  private resolve(path: string): string | undefined {
    // An absolute path (a system header a depfile names) is outside the links of the tree.
    if (path.startsWith('/')) return posix.normalize(path);
    let hops = 0;
    let rest = path === '' ? [] : path.split('/');
    let at = '';
    while (rest.length > 0) {
      const next = at === '' ? rest[0]! : `${at}/${rest[0]}`;
      const target = this.links.get(next);
      if (target === undefined) {
        at = next;
        rest = rest.slice(1);
        continue;
      }
      if (++hops > MAX_LINKS) return undefined;
      const joined = posix.normalize(posix.join(posix.dirname(next), target));
      rest = [...(joined === '.' ? [] : joined.split('/')), ...rest.slice(1)];
      at = '';
    }
    return at;
  }

  read(path: string): string | undefined {
    return this.files.get(path)?.content;
  }

  readStart(path: string, bytes: number): string | undefined {
    return this.files.get(this.resolve(path) ?? path)?.content.slice(0, bytes);
  }

  setMtime(path: string, mtimeMs: number): this {
    const f = this.files.get(path);
    if (!f) throw new Error(`no file ${path}`);
    f.mtimeMs = mtimeMs;
    return this;
  }

  mtime(path: string): number {
    return this.files.get(path)!.mtimeMs;
  }

  has(path: string): boolean {
    return this.files.has(path);
  }

  paths(): string[] {
    return [...this.files.keys()].sort();
  }

  stat(path: string): FileStat | undefined {
    unusable(path);
    const real = this.resolve(path);
    if (real === undefined) return undefined; // a loop leads nowhere, as on disk
    const f = this.files.get(real);
    if (f) return { mtimeMs: f.mtimeMs, size: f.size, ino: f.ino, dev: 1, isDirectory: false };
    if (!this.isDir(real)) return undefined;
    let ino = this.dirInos.get(real);
    if (ino === undefined) this.dirInos.set(real, (ino = this.nextIno++));
    return { mtimeMs: this.dirMtimes.get(real) ?? 0, size: 0, ino, dev: 1, isDirectory: true };
  }

  /** Whether a file or link lies below `real` (a path without links). */
  private isDir(real: string): boolean {
    const prefix = real === '' ? '' : real + '/';
    for (const k of this.files.keys()) if (k.startsWith(prefix)) return true;
    for (const k of this.links.keys()) if (k.startsWith(prefix)) return true;
    if (this.madeDirs.has(real)) return true;
    for (const k of this.madeDirs) if (k.startsWith(prefix)) return true;
    return false;
  }

  /** Counts listings, so tests can prove a directory is walked once. */
  readdirs = 0;

  readdir(path: string): DirEntry[] | undefined {
    this.readdirs++;
    const real = this.resolve(path);
    if (real === undefined) throw Object.assign(new Error(`ELOOP: ${path}`), { code: 'ELOOP' });
    if (this.denied.has(real)) throw Object.assign(new Error(`EACCES: ${path}`), { code: 'EACCES' });
    const prefix = real === '' ? '' : real + '/';
    const seen = new Map<string, DirEntry>();
    for (const k of [...this.files.keys(), ...this.links.keys(), ...this.madeDirs]) {
      if (!k.startsWith(prefix)) continue;
      if (this.madeDirs.has(k)) {
        const rest = k.slice(prefix.length);
        const name = rest.slice(0, rest.indexOf('/') + 1 || rest.length + 1).replace(/\/$/, '');
        seen.set(name, { name, isDirectory: true });
        continue;
      }
      const rest = k.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash >= 0) {
        seen.set(rest.slice(0, slash), { name: rest.slice(0, slash), isDirectory: true });
      } else if (!this.links.has(k)) {
        seen.set(rest, { name: rest, isDirectory: false });
      } else if (this.resolve(k) === undefined) {
        seen.set(rest, { name: rest, isDirectory: false, isLink: true, broken: 'a symbolic link in a loop' });
      } else {
        const st = this.stat(k);
        seen.set(rest, st ? { name: rest, isDirectory: st.isDirectory, isLink: true } : { name: rest, isDirectory: false, isLink: true, broken: 'a symbolic link to nothing' });
      }
    }
    if (seen.size === 0) return this.madeDirs.has(real) ? [] : undefined;
    return [...seen.values()];
  }

  exists(path: string): boolean {
    return this.stat(path) !== undefined;
  }

  /** Counts content reads, so tests can prove a no-op build reads no file. */
  hashes = 0;

  hash(path: string): string {
    const f = this.files.get(this.resolve(path) ?? path);
    if (!f) throw new Error(`ENOENT: ${path}`);
    if (this.unreadable.has(path)) throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' });
    this.hashes++;
    return `h(${f.content})`;
  }

  /** As on disk: a file is deleted, a directory (a path with files under it) never is. */
  remove(path: string): void {
    // Never recursive, as on disk: a file or a link is unlinked, a directory refused.
    if (this.files.delete(path)) return;
    if (this.links.delete(path)) return;
    if (this.stat(path)?.isDirectory) throw new IsDirectoryError(path);
  }

  /** Deletes everything at and under `path`; links are removed, never followed. */
  removeTree(path: string): void {
    const prefix = path + '/';
    let any = false;
    for (const map of [this.files, this.links]) {
      for (const k of [...map.keys()]) if (k === path || k.startsWith(prefix)) any = map.delete(k) || any;
    }
    for (const k of [...this.madeDirs]) if (k === path || k.startsWith(prefix)) any = this.madeDirs.delete(k) || any;
    if (any) {
      this.clock += 1000;
      this.entryChanged(path);
    }
  }

  readlink(path: string): string | undefined {
    return this.links.get(path);
  }

  /** Makes a directory (and its parents), which then exists even when empty. */
  mkdirp(path: string): void {
    if (path === '' || path === '.' || this.isDir(path)) return;
    this.clock += 1000;
    for (let p = path; p !== ''; p = p.slice(0, Math.max(0, p.lastIndexOf('/')))) {
      if (this.isDir(p)) break;
      // A new directory is as new as the moment it is made, as on disk; its parent gained an entry.
      this.dirMtimes.set(p, this.clock);
      this.entryChanged(p);
      this.madeDirs.add(p);
    }
  }

  invalidate(): void {
    // Nothing is cached.
  }
}

/** Throws as Node's file system does for a path no file can have: a NUL byte, a name over 255 bytes. */
function unusable(path: string): void {
  if (path.includes('\0')) throw new TypeError(`The argument 'path' must be a string without null bytes. Received '${path}'`);
  if (path.length > 85 && path.split('/').some((part) => Buffer.byteLength(part) > 255)) {
    throw Object.assign(new Error(`ENAMETOOLONG: name too long, stat '${path}'`), { code: 'ENAMETOOLONG' });
  }
}
