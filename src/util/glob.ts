// Globs (picomatch syntax, `**` allowed) matched against files that exist.
//
// Symbolic links are what they lead to, as in Make or a shell: a link to a
// file is matched as a file, a link to a directory is searched like one. Each
// real directory (device and inode) is searched once, the tree reached
// without links first: a link to an ancestor (`up -> ..`) or a second way to
// a directory adds nothing, so `**` ends and no file is matched twice. An
// entry that leads nowhere (a link to nothing or in a loop, a directory that
// cannot be listed) is skipped and told to the caller, never the directory
// holding it.

import picomatch from 'picomatch';
import { compareCodePoints } from './strings.js';
import type { FileSystem } from './fs.js';

/** Directories a glob never descends into: the engine's own state. */
const SKIP_DIRS = new Set(['.rules', '.git', 'node_modules']);

/** An entry a glob could not look at, and why. */
export interface SkippedEntry {
  path: string;
  reason: string;
}

/** The warning for an entry a glob skipped. */
export function skippedMessage(pattern: string, s: SkippedEntry): string {
  return `the glob '${pattern}' skips '${s.path}': ${s.reason}`;
}

interface Dir {
  dir: string;
  /** How many segments of the glob the directory's entries stand for (1: the first). */
  level: number;
}

/**
 * Files matching `pattern` (relative to the root), sorted by code point.
 * Entries skipped because they lead nowhere are told to `skipped`, if given.
 */
export function glob(fs: FileSystem, pattern: string, skipped?: (entry: SkippedEntry) => void): string[] {
  const scan = picomatch.scan(pattern);
  if (!scan.isGlob) {
    const st = fs.stat(pattern);
    return st && !st.isDirectory ? [pattern] : [];
  }
  const base = scan.base === '.' ? '' : scan.base;
  const isMatch = picomatch(pattern, { dot: false });
  const recursive = scan.glob.includes('**');
  const segments = scan.glob.split('/');
  const depth = segments.length;
  /** Whether a bad entry named `name` among the entries of a level could have held a match, had it been a directory. */
  const onTheWay = (name: string, level: number) =>
    !name.startsWith('.') && (recursive || (level < depth && picomatch.isMatch(name, segments[level - 1]!, { dot: false })));
  const out: string[] = [];
  /** Directories searched before any link was followed. */
  const walked: string[] = [];
  /** Links to directories, followed once the tree without them is searched. */
  const links: Dir[] = [];
  /** Identities of the directories searched; kept only once there are links to follow. */
  let seen: Set<string> | undefined;

  const search = (start: Dir) => {
    const stack = [start];
    while (stack.length > 0) {
      const { dir, level } = stack.pop()!;
      if (seen) {
        const id = identity(fs, dir);
        if (seen.has(id)) continue;
        seen.add(id);
      } else {
        walked.push(dir);
      }
      let entries;
      try {
        entries = fs.readdir(dir);
        fs.keepListing?.(dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === undefined) throw e;
        skipped?.({ path: dir === '' ? '.' : dir, reason: `a directory that cannot be listed (${code === 'EACCES' ? 'permission denied' : code})` });
        continue;
      }
      if (!entries) continue;
      const descend = recursive || level < depth;
      // By index: a directory of a million entries may be listed before this loop is optimized, and `for...of` then allocates at each step.
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        const path = dir ? `${dir}/${e.name}` : e.name;
        if (e.broken !== undefined) {
          if (isMatch(path) || onTheWay(e.name, level)) skipped?.({ path, reason: e.broken });
        } else if (e.isDirectory) {
          if (SKIP_DIRS.has(e.name) && !pattern.includes(e.name)) continue;
          if (descend) (e.isLink ? links : stack).push({ dir: path, level: level + 1 });
        } else if ((recursive || level === depth) && isMatch(path)) {
          out.push(path);
        }
      }
    }
  };

  search({ dir: base, level: 1 });
  if (links.length > 0) {
    seen = new Set(walked.map((d) => identity(fs, d)));
    while (links.length > 0) {
      // The first link by code point: the answer does not depend on the order of listings.
      let k = 0;
      for (let i = 1; i < links.length; i++) if (compareCodePoints(links[i]!.dir, links[k]!.dir) < 0) k = i;
      search(links.splice(k, 1)[0]!);
    }
  }
  return out.sort(compareCodePoints);
}

/** What makes a directory the one it is, whatever path leads to it: device and inode. */
function identity(fs: FileSystem, dir: string): string {
  const st = fs.stat(dir);
  return st ? `${st.dev ?? 0}:${st.ino}` : `?${dir}`;
}

/** Whether a string has glob syntax. */
export function isGlob(pattern: string): boolean {
  return picomatch.scan(pattern).isGlob;
}

/** The literal directory a glob starts from (`chunks/a` for `chunks/a/*.txt`); '' for the root. */
export function globBase(pattern: string): string {
  const base = picomatch.scan(pattern).base;
  return base === '.' ? '' : base;
}

/**
 * Whether glob `pattern` can match a path inside directory `dir` (both
 * relative to the root): each of the directory's names matches the glob's
 * name at its place, and the glob goes deeper (or has `**` on the way).
 */
export function globReachesInto(pattern: string, dir: string): boolean {
  const segments = pattern.split('/');
  const names = dir.split('/');
  for (let i = 0; i < names.length; i++) {
    const s = segments[i];
    if (s === undefined) return false;
    if (s === '**') return true;
    if (!picomatch.isMatch(names[i]!, s, { dot: false })) return false;
  }
  return segments.length > names.length;
}
