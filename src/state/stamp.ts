// The up-to-date stamp, `.rules/uptodate`: what the disk looked like when a
// build left every job up to date. The next build with the same options
// compares the disk with it: the Rulefile, its includes and config files byte
// for byte, every glob's matches, the build log's identity, and the stat of
// every source and output. When nothing differs, the build's answer is known
// ("nothing to do") without parsing the Rulefile, building the graph or
// reading the log. When anything differs, or the stamp is missing, damaged or
// for other options, the build takes the full path, which decides every job
// afresh. So the stamp can only make a no-op faster; it never decides that a
// job is up to date on its own.
//
// A file is "unchanged" when its size, mtime and inode are: the same test the
// hash cache uses to skip re-hashing a file.
//
// Layout: a first line `rules-uptodate 2 <SHA-256 of the rest>`, a JSON
// header line, the paths (UTF-8, each ended by "\n"), zero padding to a
// multiple of 8 bytes, then three float64 per path: size (-1 for a path that
// did not exist), mtime in ms, inode. A stamp whose digest or structure is
// off is no stamp.

import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { logPath, stampPath } from './paths.js';

const MAGIC = 'rules-uptodate 2 ';
/** The first line: MAGIC, 64 hex digits, a newline. */
const FIRST_LINE = MAGIC.length + 65;
/** Paths per unit of work: threads take chunks of this many until none are left. */
const CHUNK = 4096;
/** Below this many paths, threads cost more to start than they save. */
const THREADED_FROM = 40_000;

export interface StampFacts {
  /** What the answer depends on besides files: options, targets, working directory, version. */
  key: string;
  /** Files read to make the graph (Rulefile, includes, config files): absolute paths. */
  files: string[];
  /** Globs the graph was made from, with their matches. */
  globs: Map<string, string[]>;
  /** Every source and output of the graph (relative to the root, or absolute). */
  paths: Iterable<string>;
  /** What the build knew of a path when it decided it was up to date. */
  stat(path: string): { size: number; mtimeMs: number; ino: number } | undefined;
  /** The build's report of a no-op: jobs up to date, and what a dry run prints. */
  upToDate: number;
  dryText: string;
  dryJson: string;
}

export interface StampHeader {
  key: string;
  log: number[] | null;
  files: [string, string][];
  globs: [string, string][];
  upToDate: number;
  dryText: string;
  dryJson: string;
  count: number;
  pathBytes: number;
  /** Byte offset (within the paths) of each chunk's first path. */
  chunks: number[];
}

function logIdentity(root: string): number[] | null {
  const st = statSync(logPath(root), { throwIfNoEntry: false });
  return st ? [st.size, st.mtimeMs, st.ino] : null;
}

function contentHash(absPath: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(absPath)).digest('hex');
  } catch {
    return undefined;
  }
}

/** A hash of a glob's matches. */
export function matchesHash(matches: readonly string[]): string {
  return createHash('sha256').update(matches.join('\0')).digest('hex');
}

/** The stamp key for these facts (a hash, so the header stays short). */
export function stampKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** Writes the stamp; call with the build lock held, after the build log is closed. */
export function writeStamp(root: string, facts: StampFacts): void {
  const paths: string[] = [];
  const values: number[] = [];
  const chunks: number[] = [];
  let bytes = 0;
  for (const p of facts.paths) {
    // Paths are stored a line each: a name with a newline in it gets no stamp.
    if (p.includes('\n')) return removeStamp(root);
    if (paths.length % CHUNK === 0) chunks.push(bytes);
    paths.push(p);
    bytes += Buffer.byteLength(p) + 1;
    const st = facts.stat(p);
    if (st) values.push(st.size, st.mtimeMs, st.ino);
    else values.push(-1, 0, 0);
  }
  const files: [string, string][] = [];
  for (const f of facts.files) {
    const h = contentHash(f);
    if (h === undefined) return removeStamp(root);
    files.push([f, h]);
  }
  const header: StampHeader = {
    key: facts.key,
    log: logIdentity(root),
    files,
    globs: [...facts.globs].map(([pattern, matches]) => [pattern, matchesHash(matches)]),
    upToDate: facts.upToDate,
    dryText: facts.dryText,
    dryJson: facts.dryJson,
    count: paths.length,
    pathBytes: bytes,
    chunks,
  };
  const head = Buffer.from(JSON.stringify(header) + '\n');
  const pathsStart = FIRST_LINE + head.length;
  const statsStart = align8(pathsStart + bytes);
  const out = Buffer.alloc(statsStart + values.length * 8);
  head.copy(out, FIRST_LINE);
  let at = pathsStart;
  for (const p of paths) {
    at += out.write(p, at);
    out[at++] = 10;
  }
  new Float64Array(out.buffer, out.byteOffset + statsStart, values.length).set(values);
  const digest = createHash('sha256').update(out.subarray(FIRST_LINE)).digest('hex');
  out.write(`${MAGIC}${digest}\n`, 0, 'latin1');
  const path = stampPath(root);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, out);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Deletes the stamp; never fails (a stamp that cannot be read is no stamp anyway). */
export function removeStamp(root: string): void {
  try {
    rmSync(stampPath(root), { force: true });
  } catch {
    // Not a file (a directory in its place): left alone.
  }
}

/** The header's numbers agree with each other: one chunk per CHUNK paths, in order, inside the paths. */
function wellFormed(h: StampHeader, bytesAfterHeader: number): boolean {
  const int = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  if (!int(h.count) || !int(h.pathBytes) || !int(h.upToDate) || h.pathBytes > bytesAfterHeader) return false;
  if (!Array.isArray(h.chunks) || h.chunks.length !== Math.ceil(h.count / CHUNK)) return false;
  for (let k = 0; k < h.chunks.length; k++) {
    const at = h.chunks[k];
    if (!int(at) || (k === 0 ? at !== 0 : at <= h.chunks[k - 1]!) || at >= h.pathBytes) return false;
  }
  return (
    typeof h.dryText === 'string' &&
    typeof h.dryJson === 'string' &&
    Array.isArray(h.files) &&
    Array.isArray(h.globs) &&
    (h.log === null || Array.isArray(h.log))
  );
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** A stamp read into shared memory, ready to be checked by several threads. */
export interface LoadedStamp {
  header: StampHeader;
  buffer: SharedArrayBuffer;
  pathsStart: number;
  statsStart: number;
}

/** Reads the stamp if it exists and was written for `key`. */
export function loadStamp(root: string, key: string): LoadedStamp | undefined {
  let fd: number;
  try {
    fd = openSync(stampPath(root), 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const buffer = new SharedArrayBuffer(size);
    const bytes = new Uint8Array(buffer);
    for (let got = 0; got < size; ) {
      const n = readSync(fd, bytes, got, size - got, got);
      if (n <= 0) return undefined;
      got += n;
    }
    if (size < FIRST_LINE) return undefined;
    const first = Buffer.from(buffer, 0, FIRST_LINE).toString('latin1');
    if (!first.startsWith(MAGIC) || first[FIRST_LINE - 1] !== '\n') return undefined;
    const end = bytes.indexOf(10, FIRST_LINE);
    if (end < 0) return undefined;
    const header = JSON.parse(Buffer.from(buffer, FIRST_LINE, end - FIRST_LINE).toString('utf8')) as StampHeader;
    if (header.key !== key) return undefined;
    const pathsStart = end + 1;
    if (!wellFormed(header, size - pathsStart)) return undefined;
    const statsStart = align8(pathsStart + header.pathBytes);
    if (statsStart + header.count * 24 !== size) return undefined;
    const digest = createHash('sha256').update(bytes.subarray(FIRST_LINE)).digest('hex');
    if (first.slice(MAGIC.length, FIRST_LINE - 1) !== digest) return undefined;
    return { header, buffer, pathsStart, statsStart };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks a stamp against the disk: true when every file is as it was (the
 * build would do nothing). `globMatches`
 * lists a glob's matches now (loaded only when the stamp has globs), or
 * undefined when the full build must answer (it would warn of skipped entries).
 */
export async function stampHolds(
  stamp: LoadedStamp,
  root: string,
  globMatches: () => Promise<(pattern: string) => string[] | undefined>,
): Promise<boolean> {
  const { header } = stamp;
  const control = new Int32Array(new SharedArrayBuffer(8));
  const workers = header.count >= THREADED_FROM ? startWorkers(stamp, root, control) : [];
  try {
    // While the threads start: the log, the Rulefile and its includes, the globs.
    const sameSmallFacts = await (async () => {
      if (JSON.stringify(logIdentity(root)) !== JSON.stringify(header.log)) return false;
      for (const [file, hash] of header.files) if (contentHash(file) !== hash) return false;
      if (header.globs.length > 0) {
        const matches = await globMatches();
        for (const [pattern, hash] of header.globs) {
          const now = matches(pattern);
          if (now === undefined || matchesHash(now) !== hash) return false;
        }
      }
      return true;
    })();
    if (!sameSmallFacts) {
      Atomics.store(control, 1, 1);
      return false;
    }
    const mainOk = checkChunks(stamp.buffer, stamp.pathsStart, stamp.statsStart, header, root, control);
    const workersOk = await Promise.all(workers.map((w) => w.done));
    return mainOk && workersOk.every(Boolean);
  } finally {
    for (const w of workers) w.worker.unref();
  }
}

function startWorkers(stamp: LoadedStamp, root: string, control: Int32Array): { worker: Worker; done: Promise<boolean> }[] {
  // The main thread checks too: one worker fewer than the cores.
  const n = Math.min(3, availableParallelism() - 1);
  const out: { worker: Worker; done: Promise<boolean> }[] = [];
  for (let i = 0; i < n; i++) {
    const worker = new Worker(new URL('./stamp-worker.js', import.meta.url), {
      workerData: { buffer: stamp.buffer, pathsStart: stamp.pathsStart, statsStart: stamp.statsStart, header: stamp.header, root, control },
    });
    const done = new Promise<boolean>((resolve) => {
      worker.once('message', (ok: boolean) => resolve(ok));
      worker.once('error', () => resolve(false));
      worker.once('exit', () => resolve(false));
    });
    out.push({ worker, done });
  }
  return out;
}

/**
 * Takes chunks of paths until none are left or some thread found a
 * difference; stats each path and compares. Shared by the main thread and the
 * workers: `control[0]` is the next chunk, `control[1]` is set on a difference.
 */
export function checkChunks(
  buffer: SharedArrayBuffer,
  pathsStart: number,
  statsStart: number,
  header: Pick<StampHeader, 'count' | 'pathBytes' | 'chunks'>,
  root: string,
  control: Int32Array,
): boolean {
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
      if (!same) {
        Atomics.store(control, 1, 1);
        return false;
      }
    }
  }
}
