// What a file is now, by stat and content hash. The hash cache: a file whose
// (size, mtime, inode) match what the build log knows is never read again.

import { sameFile, type FileStat, type FileSystem } from '../util/fs.js';
import type { BuildLog, FileInfo } from './log.js';

/** Whether a file is as recorded: `sameFile`, the one test of "unchanged". */
export const sameStat: (st: FileStat, info: FileInfo) => boolean = sameFile;

export class FileOracle {
  /**
   * `hashing` false (`--check mtime`) records files by stat alone.
   */
  constructor(
    readonly fs: FileSystem,
    private readonly log: BuildLog,
    readonly hashing: boolean,
  ) {}

  /** The current stat and hash of `path`, or undefined when it does not exist. */
  current(path: string): FileInfo | undefined {
    const st = this.fs.stat(path);
    if (st === undefined) return undefined;
    const known = this.log.knownFile(path);
    if (known && sameFile(st, known) && (known.hash !== '' || !this.hashing)) return known;
    const info: FileInfo = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash: this.hashing ? this.hashOf(path, st) : '' };
    this.log.rememberFile(path, info);
    return info;
  }

  /** Whether `path` differs from what was recorded: by content (`--check hash`) or, without hashes, by stat. */
  changedSince(path: string, recorded: FileInfo): boolean {
    const st = this.fs.stat(path);
    if (st === undefined) return true;
    if (sameFile(st, recorded)) return false;
    if (!this.hashing || recorded.hash === '') return true;
    return this.current(path)!.hash !== recorded.hash;
  }

  private hashOf(path: string, st: FileStat): string {
    // A directory has no content to hash: it counts as changed when its mtime does.
    if (st.isDirectory) return `dir:${st.mtimeMs}`;
    try {
      return this.fs.hash(path);
    } catch {
      // Unreadable (permissions, a race with a writer): never equal to a real hash, so the
      // job runs and its command reports the problem in its own words.
      return `unreadable:${st.size}:${st.mtimeMs}`;
    }
  }
}
