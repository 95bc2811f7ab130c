// An in-memory file system for fast, deterministic tests of graph, plan and run.

import { IsDirectoryError, type DirEntry, type FileStat, type FileSystem } from '../../src/util/fs.js';

interface FakeFile extends FileStat {
  content: string;
}

export class FakeFileSystem implements FileSystem {
  private readonly files = new Map<string, FakeFile>();
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
    return this;
  }

  /** A new mtime, the same content (like `touch`). */
  touch(path: string): this {
    const f = this.files.get(path);
    if (!f) throw new Error(`no file ${path}`);
    this.clock += 1000;
    f.mtimeMs = this.clock;
    return this;
  }

  read(path: string): string | undefined {
    return this.files.get(path)?.content;
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
    const f = this.files.get(path);
    if (f) return { mtimeMs: f.mtimeMs, size: f.size, ino: f.ino, isDirectory: false };
    const prefix = path === '' ? '' : path + '/';
    for (const k of this.files.keys()) if (k.startsWith(prefix)) return { mtimeMs: 0, size: 0, ino: 0, isDirectory: true };
    return undefined;
  }

  readdir(path: string): DirEntry[] | undefined {
    const prefix = path === '' ? '' : path + '/';
    const seen = new Map<string, boolean>();
    for (const k of this.files.keys()) {
      if (!k.startsWith(prefix)) continue;
      const rest = k.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash < 0) seen.set(rest, false);
      else seen.set(rest.slice(0, slash), true);
    }
    if (seen.size === 0) return undefined;
    return [...seen].map(([name, isDirectory]) => ({ name, isDirectory }));
  }

  exists(path: string): boolean {
    return this.stat(path) !== undefined;
  }

  /** Counts content reads, so tests can prove a no-op build reads no file. */
  hashes = 0;

  hash(path: string): string {
    const f = this.files.get(path);
    if (!f) throw new Error(`ENOENT: ${path}`);
    this.hashes++;
    return `h(${f.content})`;
  }

  /** As on disk: a file is deleted, a directory (a path with files under it) never is. */
  remove(path: string): void {
    if (this.files.delete(path)) return;
    if (this.stat(path)?.isDirectory) throw new IsDirectoryError(path);
  }

  mkdirp(): void {
    // Directories exist implicitly.
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
