// Globs (picomatch syntax, `**` allowed) matched against files that exist.

import picomatch from 'picomatch';
import { compareCodePoints } from './strings.js';
import type { FileSystem } from './fs.js';

/** Directories a glob never descends into: the engine's own state. */
const SKIP_DIRS = new Set(['.rules', '.git', 'node_modules']);

/** Files matching `pattern` (relative to the root), sorted by code point. */
export function glob(fs: FileSystem, pattern: string): string[] {
  const scan = picomatch.scan(pattern);
  if (!scan.isGlob) return fs.stat(pattern) && !fs.stat(pattern)!.isDirectory ? [pattern] : [];
  const base = scan.base === '.' ? '' : scan.base;
  const isMatch = picomatch(pattern, { dot: false });
  const recursive = scan.glob.includes('**');
  const depth = scan.glob.split('/').length;
  const out: string[] = [];
  const stack: { dir: string; level: number }[] = [{ dir: base, level: 1 }];
  while (stack.length > 0) {
    const { dir, level } = stack.pop()!;
    const entries = fs.readdir(dir);
    if (!entries) continue;
    for (const e of entries) {
      const path = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory) {
        if (SKIP_DIRS.has(e.name) && !pattern.includes(e.name)) continue;
        if (recursive || level < depth) stack.push({ dir: path, level: level + 1 });
      } else if ((recursive || level === depth) && isMatch(path)) {
        out.push(path);
      }
    }
  }
  return out.sort(compareCodePoints);
}

/** Whether a string has glob syntax. */
export function isGlob(pattern: string): boolean {
  return picomatch.scan(pattern).isGlob;
}
