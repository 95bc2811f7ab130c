// Paths as the engine keeps them: relative to the project root, in one normal
// form, and checked before anything may be written or deleted at them.

import { posix } from 'node:path';
import { STATE_DIR } from '../state/paths.js';

/** The longest name of one path component most file systems allow, in bytes. */
export const MAX_NAME_BYTES = 255;

/** What a path needing normalization has: a leading `./` or `..`, a `//` or `/.`, or a trailing `/`. */
const ABNORMAL = /^\.\/|^\.\.|\/\/|\/\.|\/$/;

/** Normalizes `./a//b/../c` to `a/c`; most paths need no work (one test tells). */
export function normalizePath(p: string): string {
  if (ABNORMAL.test(p)) {
    const n = posix.normalize(p);
    return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
  }
  return p;
}

/**
 * What makes `path` unusable as a path at all (a NUL byte, a component too
 * long for any file system), or undefined. Cheap for the usual short path.
 */
export function nameProblem(path: string): string | undefined {
  if (path.includes('\0')) return 'contains a NUL byte';
  // A UTF-16 unit is at most 3 bytes of UTF-8: a short path has no long component.
  if (path.length * 3 <= MAX_NAME_BYTES) return undefined;
  for (const part of path.split('/')) {
    if (part.length * 3 > MAX_NAME_BYTES && Buffer.byteLength(part) > MAX_NAME_BYTES) {
      return `has a component of ${Buffer.byteLength(part)} bytes ('${part.slice(0, 20)}…'); file names are at most ${MAX_NAME_BYTES} bytes`;
    }
  }
  return undefined;
}

/**
 * Why `path` (normalized) cannot be a file a job writes, or undefined: it must
 * name a file strictly inside the project root, not the root itself, nothing
 * outside it and nothing under the engine's own state directory.
 */
export function writablePathProblem(path: string): string | undefined {
  if (path === '' || path === '.') return 'is the project root itself';
  if (path.startsWith('/')) return 'is an absolute path: it must be inside the project root, relative to it';
  if (path === '..' || path.startsWith('../')) return 'is outside the project root';
  const slash = path.indexOf('/');
  // Compared without case: on a case-insensitive disk `.Rules` is `.rules` (only a name of its length is compared).
  if ((slash < 0 ? path.length : slash) === STATE_DIR.length && path.slice(0, STATE_DIR.length).toLowerCase() === STATE_DIR) {
    return `is inside ${STATE_DIR}/, where rules keeps its state`;
  }
  return nameProblem(path);
}

/** A path as a message shows it: a NUL byte visible, a very long path shortened in the middle. */
export function showPath(path: string): string {
  const p = path.replace(/\0/g, '\\0');
  return p.length <= 100 ? p : `${p.slice(0, 60)}…${p.slice(-30)}`;
}
