// A job's captured output, bounded: the last MiB stays in memory, and once a
// job has printed more than that, everything it prints goes to a spill file
// (under .rules/output/), so `rules` uses the same memory whatever a job prints.

import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** How much of a job's output is kept in memory and shown: its last MiB. */
export const OUTPUT_TAIL_BYTES = 1024 * 1024;

/** How much of a failed job's log file is read back to show its last lines. */
export const LOG_TAIL_BYTES = 64 * 1024;

/** Held chunks are merged into one at this count: a job printing a line at a time makes many small ones. */
const MAX_CHUNKS = 1024;

/** What was cut from the front of a job's captured output. */
export interface OutputCut {
  /** Bytes not shown. */
  bytes: number;
  /** Where the whole output is, when it could be saved. */
  path?: string;
  /** Why the whole output could not be saved. */
  error?: string;
}

export interface CapturedOutput {
  /** The last bytes of the output, decoded from the first whole UTF-8 character on. */
  text: string;
  cut?: OutputCut;
}

export class OutputTail {
  private chunks: Buffer[] = [];
  /** Bytes held in `chunks`. */
  private held = 0;
  /** Bytes dropped from the front of `chunks`. */
  private dropped = 0;
  private fd: number | undefined;
  private spillError: string | undefined;

  /**
   * `spillPath`: where the whole output goes once it is longer than `limit`;
   * without one, what does not fit is only counted.
   */
  constructor(
    private readonly spillPath?: string,
    private readonly limit = OUTPUT_TAIL_BYTES,
  ) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.held += chunk.length;
    if (this.fd !== undefined) this.spill(chunk);
    else if (this.dropped + this.held > this.limit && this.spillError === undefined) this.startSpill();
    // Keep whole chunks while the ones after the first still hold the last `limit` bytes.
    while (this.chunks.length > 1 && this.held - this.chunks[0]!.length >= this.limit) {
      const first = this.chunks.shift()!;
      this.held -= first.length;
      this.dropped += first.length;
    }
    if (this.chunks.length >= MAX_CHUNKS) this.merge();
  }

  /** Bytes held in memory: at most `limit` plus one chunk (or `limit` after a merge). */
  get bytesHeld(): number {
    return this.held;
  }

  /** The tail and what was cut; closes the spill file. */
  finish(): CapturedOutput {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {
        // Already written; nothing to lose.
      }
      this.fd = undefined;
    }
    let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.held);
    let cut = this.dropped;
    if (buf.length > this.limit) {
      cut += buf.length - this.limit;
      buf = buf.subarray(buf.length - this.limit);
    }
    if (cut > 0) {
      const skip = partialCharBytes(buf);
      buf = buf.subarray(skip);
      cut += skip;
    }
    this.chunks = [];
    const text = buf.toString('utf8');
    if (cut === 0) return { text };
    const info: OutputCut = { bytes: cut };
    if (this.spillError !== undefined) info.error = this.spillError;
    else if (this.spillPath !== undefined) info.path = this.spillPath;
    return { text, cut: info };
  }

  /** Replaces the held chunks by one buffer of (at most) their last `limit` bytes. */
  private merge(): void {
    let buf = Buffer.concat(this.chunks, this.held);
    if (buf.length > this.limit) {
      this.dropped += buf.length - this.limit;
      buf = Buffer.from(buf.subarray(buf.length - this.limit));
    }
    this.chunks = [buf];
    this.held = buf.length;
  }

  private startSpill(): void {
    if (this.spillPath === undefined) return;
    try {
      mkdirSync(dirname(this.spillPath), { recursive: true });
      this.fd = openSync(this.spillPath, 'w');
    } catch (e) {
      this.spillError = (e as Error).message;
      return;
    }
    // Nothing has been dropped yet: the chunks held are the output so far.
    for (const c of this.chunks) if (this.fd !== undefined) this.spill(c);
  }

  private spill(chunk: Buffer): void {
    try {
      for (let off = 0; off < chunk.length; ) off += writeSync(this.fd!, chunk, off);
    } catch (e) {
      this.spillError = (e as Error).message;
      try {
        closeSync(this.fd!);
      } catch {
        // Nothing more to do.
      }
      this.fd = undefined;
    }
  }
}

/**
 * The tail of an output already in a file (a SLURM job's log), read as
 * OutputTail would have kept it; the cut names that file. A missing file is no output.
 */
export function readOutputTail(path: string, limit = OUTPUT_TAIL_BYTES): CapturedOutput {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { text: '' };
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - limit);
    const buf = Buffer.allocUnsafe(size - start);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, start + n);
      if (r <= 0) break;
      n += r;
    }
    const skip = start > 0 ? partialCharBytes(buf.subarray(0, n)) : 0;
    const text = buf.toString('utf8', skip, n);
    if (start === 0) return { text };
    return { text, cut: { bytes: start + skip, path } };
  } catch {
    return { text: '' };
  } finally {
    closeSync(fd);
  }
}

/** The continuation bytes (10xxxxxx) at the front of a buffer cut in the middle of a character: at most 3. */
function partialCharBytes(buf: Buffer): number {
  let skip = 0;
  while (skip < 3 && skip < buf.length && (buf[skip]! & 0xc0) === 0x80) skip++;
  return skip;
}
