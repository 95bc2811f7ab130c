// The up-to-date stamp, `.rules/uptodate`: what the disk looked like when a
// build left every job up to date. It is made of the record the build's file
// system kept of what the build looked at (util/fs.ts, `CachedFileSystem`),
// so whatever the build's answer depended on is in it, whichever part of the
// build looked: every path stat'ed or hashed, with its stat; every directory
// listed, with a hash of the listing; every file the loader read (Rulefile,
// includes, config files), with a hash of its content; and the build log's
// identity. The next build with the same options compares the disk with it.
// When nothing differs, the build's answer is known ("nothing to do") without
// parsing the Rulefile, building the graph or reading the log. When anything
// differs, or the stamp is missing, damaged or for other options, the build
// takes the full path, which decides every job afresh. So the stamp can only
// make a no-op faster; it never decides that a job is up to date on its own.
//
// A file is "unchanged" by `sameFile` (util/fs.ts): the test the hash cache
// uses to skip re-hashing a file.
//
// Layout: a first line `rules-uptodate 3 <SHA-256 of the rest>`, a JSON
// header line, the paths (UTF-8, each ended by "\n"), zero padding to a
// multiple of 8 bytes, then three float64 per path: size (-1 for a path that
// did not exist), mtime in ms, inode. A stamp whose digest or structure is
// off is no stamp; so is one of another version.

import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { DiskFileSystem, sameFile, type DirEntry, type FileIdentity, type Listing } from '../util/fs.js';
import { sha256Hex } from '../util/hash.js';
import { replaceFile } from './io.js';
import { logPath, stampPath } from './paths.js';
import { CHUNK, THREADED_FROM, checkChunks, checkOnThreads } from './stamp-check.js';

const MAGIC = 'rules-uptodate 3 ';
/** The first line: MAGIC, 64 hex digits, a newline. */
const FIRST_LINE = MAGIC.length + 65;

/** What a build looked at: `CachedFileSystem` keeps this record. */
export interface LookedAt {
  /** Every path stat'ed or hashed (relative to the root, or absolute). */
  readonly lookedAt: ReadonlySet<string>;
  /** Every directory listed, with the listing the build used. */
  readonly listings: ReadonlyMap<string, Listing>;
  /** Every symbolic link whose target the build read (in a directory input), with the target. */
  readonly links?: ReadonlyMap<string, string | undefined>;
  /** What the build knew of a path when it was done (a path a job wrote is looked at again). */
  stat(path: string): FileIdentity | undefined;
  /** Paths looked at only to learn whether a command's word names a file (SPEC §6): not counted as files. */
  readonly probedOnly?: ReadonlySet<string>;
}

export interface StampFacts {
  /** What the answer depends on besides files: options, targets, working directory, version. */
  key: string;
  /** The file system the whole build went through, loader included. */
  fs: LookedAt;
  /** Files the loader read (Rulefile, includes, config files): absolute paths. */
  read: readonly string[];
  /**
   * The SHA-256 of each file read, of its bytes as the loader read them. A file
   * edited while the build ran must not be vouched for by its new content; a
   * file without one is hashed now.
   */
  digests?: ReadonlyMap<string, string>;
  /** The build's report of a no-op: jobs up to date, and what a dry run prints. */
  upToDate: number;
  dryText: string;
  dryJson: string;
  /** The id of the job index written with the stamp (state/jobindex.ts), when there is one. */
  index?: string;
}

export interface StampHeader {
  key: string;
  log: number[] | null;
  /** Files read, with the SHA-256 of their content. */
  read: [string, string][];
  /** Directories listed, with the hash of their listing (`listingHash`). */
  dirs: [string, string][];
  /** Symbolic links read, with their target text (null: not a link); absent when none was read. */
  links?: [string, string | null][];
  upToDate: number;
  dryText: string;
  dryJson: string;
  /** The id of the job index that goes with this stamp (state/jobindex.ts). */
  index?: string;
  count: number;
  /** How many of the paths are files that exist (the others were looked for and not found): what `-v` reports. */
  files?: number;
  pathBytes: number;
  /** Byte offset (within the paths) of each chunk's first path. */
  chunks: number[];
}

export function logIdentity(root: string): number[] | null {
  const st = statSync(logPath(root), { throwIfNoEntry: false });
  return st ? [st.size, st.mtimeMs, st.ino] : null;
}

function contentHash(absPath: string): string | undefined {
  try {
    return sha256Hex(readFileSync(absPath));
  } catch {
    return undefined;
  }
}

/**
 * A hash of a directory's listing: its names and what each entry is (a file,
 * a directory, a link to either, a link that leads nowhere), whatever order
 * the listing came in. A missing directory has a hash too.
 */
export function listingHash(listing: readonly DirEntry[] | undefined): string {
  if (listing === undefined) return 'none';
  const kinds = listing.map((e) => `${e.broken !== undefined ? 'b' : e.isLink ? (e.isDirectory ? 'D' : 'F') : e.isDirectory ? 'd' : 'f'}${e.name}`);
  return createHash('sha256').update(kinds.sort().join('\0')).digest('hex');
}

/** The stamp key for these facts (a hash, so the header stays short). */
export function stampKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/**
 * Writes the stamp from what the build looked at; call with the build lock
 * held, after the build log is closed, and only when the build warned of
 * nothing (a warning must be given again by the next build). Returns its
 * paths, in order, and the stamp; undefined when no stamp was written.
 */
export function writeStamp(root: string, facts: StampFacts): { paths: string[]; written: WrittenStamp } | undefined {
  const paths: string[] = [];
  const values: number[] = [];
  const chunks: number[] = [];
  let bytes = 0;
  let present = 0;
  for (const p of facts.fs.lookedAt) {
    // Paths are stored a line each: a name with a newline in it gets no stamp.
    if (p.includes('\n')) return void removeStamp(root);
    if (paths.length % CHUNK === 0) chunks.push(bytes);
    paths.push(p);
    bytes += Buffer.byteLength(p) + 1;
    const probe = facts.fs.probedOnly?.has(p) === true;
    const st = facts.fs.stat(p);
    if (st) {
      values.push(st.size, st.mtimeMs, st.ino);
      if (!probe) present++;
    } else values.push(-1, 0, 0);
  }
  const dirs: [string, string][] = [];
  for (const [dir, listing] of facts.fs.listings) {
    // A directory that could not be listed cannot be compared: no stamp.
    if (listing === 'unlistable') return void removeStamp(root);
    dirs.push([dir, listingHash(listing)]);
  }
  const links: [string, string | null][] = [];
  for (const [p, target] of facts.fs.links ?? []) links.push([p, target ?? null]);
  const read: [string, string][] = [];
  for (const f of new Set(facts.read)) {
    const h = facts.digests?.get(f) ?? contentHash(f);
    if (h === undefined) return void removeStamp(root);
    read.push([f, h]);
  }
  const header: StampHeader = {
    key: facts.key,
    log: logIdentity(root),
    read,
    dirs,
    ...(links.length > 0 ? { links } : {}),
    upToDate: facts.upToDate,
    dryText: facts.dryText,
    dryJson: facts.dryJson,
    ...(facts.index !== undefined ? { index: facts.index } : {}),
    count: paths.length,
    files: present,
    pathBytes: bytes,
    chunks,
  };
  const head = Buffer.from(JSON.stringify(header) + '\n');
  const pathsStart = FIRST_LINE + head.length;
  const statsStart = align8(pathsStart + bytes);
  const out = Buffer.alloc(statsStart + values.length * 8);
  let at = pathsStart;
  for (const p of paths) {
    at += out.write(p, at);
    out[at++] = 10;
  }
  new Float64Array(out.buffer, out.byteOffset + statsStart, values.length).set(values);
  return { paths, written: saveStamp(root, out, head, header) };
}

/** A stamp as written, and the identity of its file then: a process that wrote it may keep it (watch mode). */
export interface WrittenStamp {
  stamp: LoadedStamp;
  identity: string;
}

/** A file's (size, mtime, inode), as one string; undefined when it does not exist. */
export function fileIdentity(path: string): string | undefined {
  const st = statSync(path, { throwIfNoEntry: false });
  return st && `${st.size}:${st.mtimeMs}:${st.ino}`;
}

/** Seals a stamp (its header at FIRST_LINE, its paths and stats after) and puts it in place. */
function saveStamp(root: string, out: Buffer, head: Buffer, header: StampHeader): WrittenStamp {
  head.copy(out, FIRST_LINE);
  const digest = createHash('sha256').update(out.subarray(FIRST_LINE)).digest('hex');
  out.write(`${MAGIC}${digest}\n`, 0, 'latin1');
  const path = stampPath(root);
  replaceFile(path, out);
  const buffer = new SharedArrayBuffer(out.length);
  new Uint8Array(buffer).set(out);
  const pathsStart = FIRST_LINE + head.length;
  return { stamp: { header, buffer, pathsStart, statsStart: align8(pathsStart + header.pathBytes) }, identity: fileIdentity(path) ?? '' };
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
  if (h.files !== undefined && (!int(h.files) || h.files > h.count)) return false;
  if (!Array.isArray(h.chunks) || h.chunks.length !== Math.ceil(h.count / CHUNK)) return false;
  for (let k = 0; k < h.chunks.length; k++) {
    const at = h.chunks[k];
    if (!int(at) || (k === 0 ? at !== 0 : at <= h.chunks[k - 1]!) || at >= h.pathBytes) return false;
  }
  return (
    typeof h.dryText === 'string' &&
    typeof h.dryJson === 'string' &&
    Array.isArray(h.read) &&
    Array.isArray(h.dirs) &&
    (h.links === undefined || Array.isArray(h.links)) &&
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

/**
 * Reads the stamp if it exists and was written for `key`; `kept`, the stamp
 * this process last wrote, when the file is still the one it wrote.
 */
export function loadStamp(root: string, key: string, kept?: WrittenStamp): LoadedStamp | undefined {
  if (kept !== undefined && kept.stamp.header.key === key && fileIdentity(stampPath(root)) === kept.identity) return kept.stamp;
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

/** Most changed files the incremental shortcut takes: beyond them, deciding every job is as cheap. */
export const MAX_CHANGED = 1024;

/**
 * How the disk compares with a stamp: as it was (`holds`), or not; when only
 * the contents or times of some existing files differ (no path appeared or
 * vanished, nothing else differs), which ones (`changed`: their numbers among
 * the stamp's paths, at most MAX_CHANGED).
 */
export type StampCheck = { holds: true } | { holds: false; changed?: number[] };

/**
 * Checks a stamp against the disk: true when everything the last build looked
 * at is as it was (the build would do nothing).
 */
export async function stampHolds(stamp: LoadedStamp, root: string): Promise<boolean> {
  return (await checkStamp(stamp, root, false)).holds;
}

/** Checks a stamp against the disk; with `collect`, says which files changed when that is all that did. */
export async function checkStamp(stamp: LoadedStamp, root: string, collect: boolean): Promise<StampCheck> {
  const { header } = stamp;
  // [next chunk, a difference that ends the check, files changed so far]
  const control = new Int32Array(new SharedArrayBuffer(12));
  const changed = collect ? new Int32Array(new SharedArrayBuffer(MAX_CHANGED * 4)) : undefined;
  const { count, pathBytes, chunks } = header;
  const task = { buffer: stamp.buffer, pathsStart: stamp.pathsStart, statsStart: stamp.statsStart, header: { count, pathBytes, chunks }, root, control, changed };
  const threads = count >= THREADED_FROM ? checkOnThreads(task) : [];
  // While the threads start: the log, the files read, the directories listed.
  if (!sameSmallFacts(header, root)) {
    // The threads see this, answer and end.
    Atomics.store(control, 1, 1);
    return { holds: false };
  }
  const mainOk = checkChunks(task);
  const threadsOk = await Promise.all(threads);
  if (!mainOk || !threadsOk.every(Boolean)) return { holds: false };
  const n = Atomics.load(control, 2);
  if (n === 0) return { holds: true };
  return { holds: false, changed: [...changed!.subarray(0, n)].sort((a, b) => a - b) };
}

/**
 * Checks a stamp against the disk for only `paths` (which watch mode's
 * watcher reported), each with its number `k` among the stamp's paths: the build log and the files read, then each
 * of them. Listings and every other path are taken as unchanged, on the
 * watcher's word.
 */
export function checkPaths(stamp: LoadedStamp, root: string, paths: readonly { k: number; path: string }[]): StampCheck {
  const { header } = stamp;
  if (!sameSmallFacts(header, root, false)) return { holds: false };
  const stats = new Float64Array(stamp.buffer, stamp.statsStart, header.count * 3);
  const then: FileIdentity = { size: 0, mtimeMs: 0, ino: 0 };
  const changed: number[] = [];
  const done = new Set<number>();
  for (const { k, path } of paths) {
    if (done.has(k)) continue;
    done.add(k);
    let st;
    try {
      st = statSync(path.charCodeAt(0) === 47 ? path : `${root}/${path}`, { throwIfNoEntry: false });
    } catch {
      return { holds: false };
    }
    const i = k * 3;
    if (st === undefined) {
      if (stats[i] === -1) continue;
      return { holds: false };
    }
    then.size = stats[i]!;
    then.mtimeMs = stats[i + 1]!;
    then.ino = stats[i + 2]!;
    if (sameFile(st, then)) continue;
    if (!st.isFile() || stats[i] === -1 || changed.length === MAX_CHANGED) return { holds: false };
    changed.push(k);
  }
  return changed.length === 0 ? { holds: true } : { holds: false, changed: changed.sort((a, b) => a - b) };
}

function sameSmallFacts(header: StampHeader, root: string, listings = true): boolean {
  if (JSON.stringify(logIdentity(root)) !== JSON.stringify(header.log)) return false;
  for (const [file, hash] of header.read) if (contentHash(file) !== hash) return false;
  if (listings && header.links !== undefined) {
    const disk = new DiskFileSystem(root);
    for (const [path, target] of header.links) {
      try {
        if ((disk.readlink(path) ?? null) !== target) return false;
      } catch {
        return false;
      }
    }
  }
  if (listings && header.dirs.length > 0) {
    const disk = new DiskFileSystem(root);
    for (const [dir, hash] of header.dirs) {
      let listing;
      try {
        listing = disk.readdir(dir);
      } catch {
        // There but not listable now: let the full path say so.
        return false;
      }
      if (listingHash(listing) !== hash) return false;
    }
  }
  return true;
}

/**
 * The stamp after a build that took the incremental shortcut (build/shortcut.ts),
 * when it left every job up to date: the last stamp's paths, each with what
 * this build knows of it if it looked at it (`fs`), else as the last stamp
 * had it (nothing the shortcut skipped has changed), and the build log as it
 * is now. False, and no stamp, when this build looked at a path or listed a
 * directory the last stamp does not have, or saw a listing or link other than
 * it had: only a full build can say what the stamp must hold then.
 *
 * `written`: the directories the build's jobs wrote into (their outputs'
 * parents). One the stamp holds (a word of a command naming it) has a new
 * mtime, which this build saw before its jobs ran, if at all: it is stat'ed
 * again.
 */
export function mergeStamp(
  root: string,
  old: LoadedStamp,
  fs: LookedAt,
  find: (path: string) => number | undefined,
  written: Iterable<string> = [],
): WrittenStamp | undefined {
  const { header } = old;
  const dirs = new Map(header.dirs);
  for (const [dir, listing] of fs.listings) {
    if (listing === 'unlistable' || dirs.get(dir) !== listingHash(listing)) return void removeStamp(root);
  }
  const links = new Map(header.links ?? []);
  for (const [p, target] of fs.links ?? []) if (links.get(p) !== (target ?? null)) return void removeStamp(root);
  const stats = new Float64Array(old.buffer, old.statsStart, header.count * 3).slice();
  let files = header.files ?? header.count;
  for (const p of fs.lookedAt) {
    const k = find(p);
    if (k === undefined) return void removeStamp(root);
    const st = fs.stat(p);
    const probe = fs.probedOnly?.has(p) === true;
    const was = stats[k * 3] !== -1;
    if (!probe && was !== (st !== undefined)) files += st !== undefined ? 1 : -1;
    if (st) {
      stats[k * 3] = st.size;
      stats[k * 3 + 1] = st.mtimeMs;
      stats[k * 3 + 2] = st.ino;
    } else stats.set([-1, 0, 0], k * 3);
  }
  for (const dir of written) {
    const k = find(dir);
    if (k === undefined || stats[k * 3] === -1) continue;
    const st = statSync(dir.charCodeAt(0) === 47 ? dir : `${root}/${dir}`, { throwIfNoEntry: false });
    if (st === undefined || !st.isDirectory()) return void removeStamp(root);
    stats.set([st.size, st.mtimeMs, st.ino], k * 3);
  }
  const next: StampHeader = { ...header, log: logIdentity(root), files };
  const head = Buffer.from(JSON.stringify(next) + '\n');
  const pathsStart = FIRST_LINE + head.length;
  const statsStart = align8(pathsStart + header.pathBytes);
  const out = Buffer.alloc(statsStart + stats.length * 8);
  out.set(new Uint8Array(old.buffer, old.pathsStart, header.pathBytes), pathsStart);
  new Float64Array(out.buffer, out.byteOffset + statsStart, stats.length).set(stats);
  return saveStamp(root, out, head, next);
}
