// Comparing a stamp's paths with the disk (see stamp.ts), on the main thread
// and on worker threads (stamp-worker.ts). Kept apart from stamp.ts and its
// imports so that a thread starts quickly, and so that the command line can
// start the threads before it loads the build (`startCheckThreads`): they
// start on the other cores while the main thread loads its modules and reads
// the stamp, and are ready to take their share of the `stat`s from the first.

import { statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** Paths per unit of work: threads take chunks of this many until none are left. */
export const CHUNK = 1024;
/** Below this many paths, threads cost more to start than they save. */
export const THREADED_FROM = 40_000;
/** A stamp file this large holds at least THREADED_FROM paths (each costs 24 bytes of stats). */
const THREADED_FROM_BYTES = THREADED_FROM * 24;

/** One check: the stamp's bytes, where its paths and stats start, and the numbers the threads share. */
export interface CheckTask {
  buffer: SharedArrayBuffer;
  pathsStart: number;
  statsStart: number;
  header: { count: number; pathBytes: number; chunks: number[] };
  root: string;
  /** [next chunk, a difference that ends the check, files changed so far]. */
  control: Int32Array;
  /** Where changed files' numbers go, when the check collects them. */
  changed?: Int32Array;
}

/** How many threads help the main thread: one fewer than the cores, at most 3. */
function helpers(): number {
  return Math.max(0, Math.min(3, availableParallelism() - 1));
}

let started: Worker[] = [];

/**
 * Starts the threads for the check of the stamp at `stampFile` ahead of time,
 * when it is large enough to be checked on threads; returns how many it
 * started. A thread nobody takes (the build found another root, or no
 * stamp) keeps nothing alive and ends with the process.
 */
export function startCheckThreads(stampFile: string): number {
  let size;
  try {
    size = statSync(stampFile, { throwIfNoEntry: false })?.size;
  } catch {
    return 0;
  }
  if (size === undefined || size < THREADED_FROM_BYTES || started.length > 0) return 0;
  for (let i = helpers(); i > 0; i--) started.push(newThread());
  return started.length;
}

function newThread(): Worker {
  const worker = new Worker(new URL('./stamp-worker.js', import.meta.url));
  worker.unref();
  return worker;
}

/**
 * Checks on the helper threads: those started ahead, else new ones. Each
 * answers once, true when its chunks held (or none were left); false when it
 * found a difference or failed.
 */
export function checkOnThreads(task: CheckTask): Promise<boolean>[] {
  const threads = started.length > 0 ? started : Array.from({ length: helpers() }, newThread);
  started = [];
  return threads.map(
    (worker) =>
      new Promise<boolean>((resolve) => {
        // Held while it checks: the build waits for its answer.
        worker.ref();
        const done = (ok: boolean) => {
          worker.unref();
          resolve(ok);
        };
        worker.once('message', (ok: boolean) => done(ok));
        worker.once('error', () => done(false));
        worker.once('exit', () => done(false));
        worker.postMessage(task);
      }),
  );
}

/**
 * Takes chunks of paths until none are left or some thread found a
 * difference; stats each path and compares. Shared by the main thread and the
 * workers: `control[0]` is the next chunk, `control[1]` is set on a difference
 * that ends the check. With `changed`, a regular file that existed and still
 * does but differs does not end it: its number is kept there (`control[2]`
 * counts them), up to its length.
 *
 * A file is unchanged when its size, mtime and inode are as they were: the
 * test `sameFile` (util/fs.ts) makes, written out here so that this module
 * loads nothing else.
 */
export function checkChunks(task: CheckTask): boolean {
  const { buffer, pathsStart, statsStart, header, root, control, changed } = task;
  const stats = new Float64Array(buffer, statsStart, header.count * 3);
  const prefix = root.endsWith('/') ? root : `${root}/`;
  for (;;) {
    if (Atomics.load(control, 1) !== 0) return false;
    const k = Atomics.add(control, 0, 1);
    if (k >= header.chunks.length) return true;
    const from = header.chunks[k]!;
    const to = k + 1 < header.chunks.length ? header.chunks[k + 1]! : header.pathBytes;
    const names = Buffer.from(buffer, pathsStart + from, to - from).toString('utf8').split('\n');
    // Each path ends with a newline: CHUNK of them (fewer in the last chunk), then nothing.
    const expected = Math.min(CHUNK, header.count - k * CHUNK);
    if (names.length !== expected + 1 || names[expected] !== '') {
      Atomics.store(control, 1, 1);
      return false;
    }
    let i = k * CHUNK * 3;
    for (let j = 0; j < expected; j++, i += 3) {
      const name = names[j]!;
      let st;
      try {
        st = statSync(name.charCodeAt(0) === 47 ? name : prefix + name, { throwIfNoEntry: false });
      } catch {
        // Not even a "does not exist" (a file where a directory should be, no permission): let the full path judge.
        Atomics.store(control, 1, 1);
        return false;
      }
      const same = st === undefined ? stats[i] === -1 : st.size === stats[i] && st.mtimeMs === stats[i + 1] && st.ino === stats[i + 2];
      if (same) continue;
      if (changed !== undefined && st !== undefined && st.isFile() && stats[i] !== -1) {
        const n = Atomics.add(control, 2, 1);
        if (n < changed.length) {
          changed[n] = k * CHUNK + j;
          continue;
        }
      }
      Atomics.store(control, 1, 1);
      return false;
    }
  }
}
