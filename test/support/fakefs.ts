// An in-memory file system for fast, deterministic tests of graph and plan.

import type { DirEntry, FileStat, FileSystem } from '../../src/util/fs.js';

export class FakeFileSystem implements FileSystem {
  private readonly files = new Map<string, FileStat>();
  private nextIno = 1;
  private clock = 1_000_000;

  /** Creates or rewrites files; each write is newer than every earlier one. */
  write(...paths: string[]): this {
    for (const p of paths) {
      this.clock += 1000;
      this.files.set(p, { mtimeMs: this.clock, size: p.length, ino: this.nextIno++, isDirectory: false });
    }
    return this;
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

  remove(path: string): this {
    this.files.delete(path);
    return this;
  }

  stat(path: string): FileStat | undefined {
    const f = this.files.get(path);
    if (f) return { ...f };
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
}
