// Content hashes of files. SHA-256 from Node's OpenSSL: measured at ~1.5 GB/s
// on one core with SHA-NI (see docs/staleness.md), no dependency needed.
// Files are read in 1 MiB chunks, so a large file never sits in memory.

import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

const CHUNK = 1 << 20;
let buffer: Buffer | undefined;

/** The whole SHA-256 of some bytes, as hex: what the up-to-date stamp keeps of a file the loader read. */
export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Opens a path for reading without waiting: a FIFO with no writer would
 * block `open` and every read for ever (and with them every signal handler).
 * Returns the descriptor and what is there.
 */
export function openNoWait(absPath: string): { fd: number; st: Stats } {
  const fd = openSync(absPath, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    return { fd, st: fstatSync(fd) };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** What a special file (FIFO, socket, device) is: it has no content to read, only a kind. */
export function specialKind(st: Stats): string {
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  return 'directory';
}

/**
 * The first 128 bits of SHA-256 of a file's content, as hex. A special file
 * (a FIFO in a directory input) is never read: it hashes as its kind.
 */
export function hashFileSync(absPath: string): string {
  buffer ??= Buffer.allocUnsafe(CHUNK);
  const h = createHash('sha256');
  const { fd, st } = openNoWait(absPath);
  try {
    if (!st.isFile()) return h.update(`\0special file: ${specialKind(st)}`).digest('hex').slice(0, 32);
    for (;;) {
      const n = readSync(fd, buffer, 0, CHUNK, null);
      if (n <= 0) break;
      h.update(n === CHUNK ? buffer : buffer.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex').slice(0, 32);
}

/**
 * A fast 53-bit hash (cyrb53) of a list of strings, as if joined with NUL:
 * for signatures compared on every build. No allocation, far cheaper than a
 * cryptographic hash on short text.
 */
export function quickHashList(parts: readonly string[]): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let k = 0; k < parts.length; k++) {
    if (k > 0) {
      h1 = Math.imul(h1, 2654435761);
      h2 = Math.imul(h2, 1597334677);
    }
    const text = parts[k]!;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  // A number, not a string: formatting it would cost more than hashing.
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** quickHashList of one string. */
export function quickHash(text: string): number {
  return quickHashList([text]);
}
