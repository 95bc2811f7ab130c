// What a file is now, by stat and content hash. The hash cache: a file whose
// (size, mtime, inode) match what the build log knows is never read again.
// A directory is what is under it (SPEC §6): its tree is walked through the
// build's file system (so the up-to-date stamp sees every listing and stat),
// each file hashed through the same cache.

import { createHash } from 'node:crypto';
import { sameFile, type FileStat, type FileSystem } from '../util/fs.js';
import { compareCodePoints } from '../util/strings.js';
import type { BuildLog, FileInfo } from './log.js';

/** Whether a file is as recorded: `sameFile`, the one test of "unchanged". */
export const sameStat: (st: FileStat, info: FileInfo) => boolean = sameFile;

/** What a directory held when it was last walked. */
export interface TreeContents {
  /** Every regular file under it (paths relative to the root), with its stat and hash ('' when not hashing). */
  files: Map<string, FileInfo>;
  /** The first entry under it that could not be read or listed, and why. */
  problem?: { path: string; message: string };
}

/** The hash of a directory's tree starts with this: never equal to a file's content hash. */
const TREE = 'tree:';

export class FileOracle {
  /** The last walk of each directory asked about, by path. */
  private readonly trees = new Map<string, TreeContents>();
  /**
   * Each directory's info from its last walk, until `forgetWalks` (a job ran
   * and may have written into it): a directory many jobs read is walked once.
   */
  private readonly walks = new Map<string, { info: FileInfo; hashing: boolean }>();

  /**
   * `hashing` false (`--check mtime`) records files by stat alone.
   */
  constructor(
    readonly fs: FileSystem,
    private readonly log: BuildLog,
    readonly hashing: boolean,
  ) {}

  /**
   * The current stat and hash of `path`, or undefined when it does not exist.
   * A directory's: the newest mtime of anything in it, the number of entries
   * under it, and (hashing) a hash of its tree.
   */
  current(path: string): FileInfo | undefined {
    const st = this.fs.stat(path);
    if (st === undefined) return undefined;
    if (st.isDirectory) return this.tree(path, st, this.hashing);
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
    if (st.isDirectory) {
      // A directory's own stat says nothing of a file edited deep inside it: its tree is compared.
      const now = this.tree(path, st, this.hashing && recorded.hash !== '');
      return recorded.hash === '' ? now.mtimeMs !== recorded.mtimeMs || now.size !== recorded.size : now.hash !== recorded.hash;
    }
    if (sameFile(st, recorded)) return false;
    if (!this.hashing || recorded.hash === '') return true;
    return this.current(path)!.hash !== recorded.hash;
  }

  /**
   * The mtime Make's rule compares: a file's own; a directory's, the newest of
   * anything in it (found without reading any file).
   */
  mtimeOf(path: string, st: FileStat): number {
    return st.isDirectory ? this.tree(path, st, false).mtimeMs : st.mtimeMs;
  }

  /** Forgets every walk: a job has run, and a directory may hold something else now. */
  forgetWalks(): void {
    this.walks.clear();
  }

  /** Whether any directory was walked in this build: only then can `inside` know something. */
  get walkedAny(): boolean {
    return this.trees.size > 0;
  }

  /** What directory `path` held at its last walk in this build (undefined: never walked, or not a directory). */
  inside(path: string): TreeContents | undefined {
    return this.trees.size === 0 ? undefined : this.trees.get(path);
  }

  /**
   * Walks the tree under directory `path`: every entry, in code-point order
   * of names at each level; a file by its content hash (from the cache when
   * its stat is known), a symbolic link by its target text (never followed),
   * a subdirectory by its name and then what it holds.
   */
  private tree(path: string, st: FileStat, hashing: boolean): FileInfo {
    const walked = this.walks.get(path);
    // A walk that hashed also answers one for the mtime alone.
    if (walked !== undefined && (walked.hashing || !hashing)) return walked.info;
    const files = new Map<string, FileInfo>();
    const contents: TreeContents = { files };
    const digest = hashing ? createHash('sha256') : undefined;
    const from = path.length + 1;
    let newest = st.mtimeMs;
    let entries = 0;
    const walk = (dir: string): void => {
      let listing;
      try {
        listing = this.fs.readdir(dir) ?? [];
      } catch (e) {
        contents.problem ??= { path: dir, message: whyNot(e, 'list') };
        digest?.update(`!\0${dir.slice(from)}\0`);
        return;
      }
      const sorted = listing.length > 1 ? [...listing].sort((a, b) => compareCodePoints(a.name, b.name)) : listing;
      for (const e of sorted) {
        const p = `${dir}/${e.name}`;
        entries++;
        if (e.isLink) {
          digest?.update(`l\0${p.slice(from)}\0${this.fs.readlink(p) ?? ''}\0`);
          continue;
        }
        const s = this.fs.stat(p);
        if (s === undefined) continue; // gone since the listing
        if (s.mtimeMs > newest) newest = s.mtimeMs;
        if (s.isDirectory) {
          digest?.update(`d\0${p.slice(from)}\0`);
          walk(p);
          continue;
        }
        let hash = '';
        let readable = true;
        if (hashing) {
          const known = this.log.knownFile(p);
          if (known !== undefined && known.hash !== '' && sameFile(s, known)) hash = known.hash;
          else {
            try {
              hash = this.fs.hash(p);
            } catch (err) {
              contents.problem ??= { path: p, message: whyNot(err, 'read') };
              hash = `unreadable:${s.size}:${s.mtimeMs}`;
              readable = false;
            }
          }
        }
        digest?.update(`f\0${p.slice(from)}\0${hash}\0`);
        // A file that could not be read is tried again at every walk: its problem must be seen each time.
        if (!readable) continue;
        const info: FileInfo = { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, hash };
        files.set(p, info);
        if (hashing) this.log.rememberFile(p, info);
      }
    };
    walk(path);
    // A walk for an mtime alone has no hashes worth keeping for the record.
    if (hashing === this.hashing) this.trees.set(path, contents);
    const info = { size: entries, mtimeMs: newest, ino: st.ino, hash: digest ? TREE + digest.digest('hex') : '' };
    // One that met an unreadable file is walked again when asked: its problem must be seen each time.
    if (contents.problem === undefined) this.walks.set(path, { info, hashing });
    return info;
  }

  private hashOf(path: string, st: FileStat): string {
    try {
      return this.fs.hash(path);
    } catch {
      // Unreadable (permissions, a race with a writer): never equal to a real hash, so the
      // job runs and its command reports the problem in its own words.
      return `unreadable:${st.size}:${st.mtimeMs}`;
    }
  }
}

/** Why an entry could not be read or listed, in a few words. */
function whyNot(e: unknown, what: 'read' | 'list'): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return `cannot ${what} it (${code ?? (e as Error).message})`;
}
