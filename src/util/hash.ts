// Content hashes of files. SHA-256 from Node's OpenSSL: measured at ~1.5 GB/s
// on one core with SHA-NI (see docs/staleness.md), no dependency needed.
// Files are read in 1 MiB chunks, so a large file never sits in memory.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK = 1 << 20;
let buffer: Buffer | undefined;

/** The whole SHA-256 of some bytes, as hex: what the up-to-date stamp keeps of a file the loader read. */
export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The first 128 bits of SHA-256 of a file's content, as hex. */
export function hashFileSync(absPath: string): string {
  buffer ??= Buffer.allocUnsafe(CHUNK);
  const h = createHash('sha256');
  const fd = openSync(absPath, 'r');
  try {
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
