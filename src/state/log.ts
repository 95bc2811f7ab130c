// The build log, `.rules/log`: what each job's last run was made of, so the
// next build can tell by content what changed. Append-only (one line per
// event, each with its own CRC, written before the next step), recompacted
// when it has grown; a kill at any instant leaves a log the next build reads.
//
// Line: `CRC32HEX JSON`. Records: S (a job started: incomplete until D),
// D (a job finished, with its signature and its files: `i` inputs, `o`
// outputs, `d` dependencies discovered in its depfile, `r` the hashes of
// the job's own table rows), X (forgotten, after
// clean), T (the files inside a directory input or output as last seen: for
// the hash cache, once per directory however many jobs read it).
//
// A running job is also marked in a file of its own (state/started.ts), written
// before its S and removed after its D: a crash followed by damage to this log
// (a torn or garbled S, an unreadable header) cannot lose the fact that the job
// started, so its half-written outputs are never adopted as fresh.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { UserError } from '../util/errors.js';
import { AppendFile, stateWriteError } from './io.js';
import { logCopyPath, logPath, shownStatePath, stateDir } from './paths.js';
import { FileMarkerStorage, markerName, MemoryMarkerStorage, type MarkerStorage } from './started.js';

const HEADER = 'rules-build-log 3';

/** Lines a log may hold beyond twice its live records before it is recompacted. */
const SLACK_LINES = 1000;
/** Records of jobs that no longer exist that make a recompaction worth it, beyond a quarter of the kept ones. */
const SLACK_DEAD = 100;

/** What was known of a file: its stat and content hash ('' when not hashed, under --check mtime). */
export interface FileInfo {
  size: number;
  mtimeMs: number;
  ino: number;
  hash: string;
}

/** The parts of a job's signature, each a 53-bit hash, so a change can be named. */
export interface Signature {
  command: number;
  inputs: number;
  outputs: number;
  params: [string, number][];
  env: [string, number][];
  /** SPEC §7: per table its rule reads, the hash of the job's own row (the columns read); absent when none. */
  tables?: [string, number][];
}

export interface JobRecord {
  key: string;
  signature: Signature;
  inputs: Map<string, FileInfo>;
  outputs: Map<string, FileInfo>;
  log?: string;
  /**
   * Dependencies the run discovered in its depfile (SPEC §6), as the job saw
   * them: inputs of the job from then on. Absent when there were none.
   */
  deps?: Map<string, FileInfo>;
  /** Implicit inputs (SPEC §6) the job changed while it ran: no longer its inputs, for good. */
  dropped?: string[];
}

type FileRow = [string, number, number, number, string];

/** A signature on disk: [command, inputs, outputs, params, env]. */
type SignatureRow = [number, number, number, [string, number][], [string, number][]];

interface DoneLine {
  t: 'D';
  k: string;
  s: SignatureRow;
  i: FileRow[];
  o: FileRow[];
  l?: string;
  /** Discovered dependencies (depfile), when there are any. */
  d?: FileRow[];
  /** Names of implicit inputs dropped because the job changed them while it ran (JobRecord.dropped). */
  n?: string[];
  /** The signature's table rows (Signature.tables), when the job reads any. */
  r?: [string, number][];
}
interface StartLine {
  t: 'S';
  k: string;
  o: string[];
  l?: string;
}
interface ForgetLine {
  t: 'X';
  k: string;
}
/** The files inside directory `k` (recursively) as a job last saw them. */
interface TreeLine {
  t: 'T';
  k: string;
  f: FileRow[];
}
type Line = DoneLine | StartLine | ForgetLine | TreeLine;

/** Where the log's text lives: a file under .rules/, or memory (in tests). */
export interface LogStorage {
  /** The whole text, or undefined when there is none yet. */
  read(): string;
  append(text: string): void;
  /** Replaces the whole text atomically. */
  replace(text: string): void;
  close(): void;
  /** Where the started-markers of this log live (state/started.ts); in memory when not given. */
  markers?(): MarkerStorage;
}

export class FileLogStorage implements LogStorage {
  private readonly file: AppendFile;
  readonly path: string;
  /** Told of a failure to write the log (the build must stop: what ran cannot be recorded). */
  onWriteError: ((e: UserError) => void) | undefined;

  constructor(readonly root: string) {
    this.path = logPath(root);
    this.file = new AppendFile(this.path);
  }

  read(): string {
    return existsSync(this.path) ? readFileSync(this.path, 'utf8') : '';
  }

  append(text: string): void {
    try {
      // One write per record, cut back if it fails halfway: a kill or a full disk leaves whole records only.
      this.file.append(text);
    } catch (e) {
      throw this.failed(e);
    }
  }

  replace(text: string): void {
    this.close();
    const tmp = logCopyPath(this.root);
    try {
      mkdirSync(stateDir(this.root), { recursive: true });
      const fd = openSync(tmp, 'w');
      try {
        // writeSync may write part of the text (a nearly full disk): a short copy must never replace the log.
        const bytes = Buffer.from(text);
        for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    } catch (e) {
      // The old log is still whole: only the copy goes.
      rmSync(tmp, { force: true });
      throw this.failed(e);
    }
  }

  close(): void {
    this.file.close();
  }

  /** The markers beside the log, on disk: one that cannot be written stops the build as the log would. */
  markers(): MarkerStorage {
    const disk = new FileMarkerStorage(this.root);
    return {
      list: () => disk.list(),
      remove: (name) => disk.remove(name),
      write: (name, text) => {
        try {
          disk.write(name, text);
        } catch (e) {
          throw this.failed(e, 'a started-marker', `${shownStatePath('started')}/${name}`);
        }
      },
    };
  }

  /** A failure to write the log (or a file kept with it, such as a started-marker), reported once. */
  failed(e: unknown, what = 'the build log', shown = shownStatePath('log')): UserError {
    const err = stateWriteError(what, shown, e);
    this.onWriteError?.(err);
    return err;
  }
}

export class MemoryLogStorage implements LogStorage {
  text = '';
  read(): string {
    return this.text;
  }
  append(text: string): void {
    this.text += text;
  }
  replace(text: string): void {
    this.text = text;
  }
  close(): void {}
}

export class BuildLog {
  /** The last finished run of each job. */
  readonly records = new Map<string, JobRecord>();
  /** Keys of the records that drop implicit inputs (JobRecord.dropped): usually none. */
  readonly droppedKeys = new Set<string>();
  /** Changes whenever `droppedKeys` or their records may have changed, for caches of them. */
  get droppedVersion(): number {
    return this.droppedVersion_;
  }
  private droppedVersion_ = 0;
  /** Jobs whose last run started and never finished: key → outputs (and log) it declared. */
  readonly incomplete = new Map<string, { outputs: string[]; log?: string }>();
  /** Problems found while loading, one line each, for the user. */
  readonly warnings: string[] = [];
  /** The hash cache: built from the records and trees on first use (a no-op build never needs it). */
  private files: Map<string, FileInfo> | undefined;
  /**
   * The files inside each directory input or output, as last seen (a
   * directory's own info, in a record, is a hash of its whole tree): only for
   * the hash cache, so an unchanged tree costs stats, not reads.
   */
  private readonly trees = new Map<string, Map<string, FileInfo>>();
  private lines = 0;
  private started_ = false;
  private needsRewrite = false;
  /** Markers known to exist (found at load, or written since): record key → marker name. */
  private readonly marked = new Map<string, string>();
  /** Markers whose text could not be read: only their names (hashes of keys) are known. */
  private readonly nameless = new Set<string>();
  /** The markers could not even be listed: no job can be shown to have finished. */
  private markersUnknown = false;

  private constructor(
    private readonly storage: LogStorage,
    private readonly markers: MarkerStorage,
  ) {}

  /** Loads a log (an absent or empty one has no records), and the markers of jobs that started and never finished. */
  /** A log on disk always has its markers on disk beside it; one in memory, in memory. */
  static load(storage: LogStorage, markers: MarkerStorage = storage.markers?.() ?? new MemoryMarkerStorage()): BuildLog {
    const log = new BuildLog(storage, markers);
    let text: string | undefined;
    try {
      text = storage.read();
    } catch (e) {
      log.warnings.push(`cannot read the build log ${shownStatePath('log')}: ${(e as Error).message}; deciding every job as if it had no record`);
      log.needsRewrite = true;
    }
    if (text !== undefined) log.parse(text);
    log.loadMarkers();
    return log;
  }

  static open(root: string): BuildLog {
    return BuildLog.load(new FileLogStorage(root));
  }

  /** Every marker makes its job incomplete, whatever the log says of it. */
  private loadMarkers(): void {
    let found;
    try {
      found = this.markers.list();
    } catch (e) {
      this.warnings.push(`cannot read the started-markers in ${shownStatePath('started')}: ${(e as Error).message}; every job runs`);
      this.markersUnknown = true;
      return;
    }
    for (const { name, text } of found) {
      const line = text === undefined ? undefined : decode(text.endsWith('\n') ? text.slice(0, -1) : text);
      if (line?.t === 'S' && markerName(line.k) === name) {
        this.marked.set(line.k, name);
        this.incomplete.set(line.k, line.l === undefined ? { outputs: line.o } : { outputs: line.o, log: line.l });
      } else {
        this.nameless.add(name);
      }
    }
  }

  /** Whether the job's last run started and never finished (by the log, or by a marker). */
  isIncomplete(key: string): boolean {
    if (this.incomplete.has(key) || this.markersUnknown) return true;
    return this.nameless.size > 0 && this.nameless.has(markerName(key));
  }

  private parse(text: string): void {
    const lines = text.split('\n');
    // A last line without its newline is one being written right now, or cut by a crash.
    const last = lines.pop();
    // It is ignored without a warning, but the next record must not be glued to it: rewrite first.
    if (last) this.needsRewrite = true;
    if (lines.length === 0) return;
    this.started_ = true;
    if (lines[0] !== HEADER) {
      this.warnings.push(`the build log ${shownStatePath('log')} is not in a format this version reads; deciding every job as if it had no record`);
      this.needsRewrite = true;
      return;
    }
    let damaged = 0;
    for (let n = 1; n < lines.length; n++) {
      const line = lines[n]!;
      const parsed = line ? decode(line) : undefined;
      if (!parsed) {
        if (line) damaged++;
        continue;
      }
      this.apply(parsed);
      this.lines++;
    }
    if (damaged > 0) {
      // A damaged line could have been any record, even the start of a run that never finished:
      // no finished run is trusted, and the jobs are decided as if there were none. Runs known
      // to have started and not finished stay incomplete: that only ever makes a job run. A run
      // whose S record is the damaged line is still known by its marker (see loadMarkers).
      this.records.clear();
      this.droppedKeys.clear();
      this.trees.clear();
      this.files = undefined;
      this.warnings.push(
        `the build log ${shownStatePath('log')} is damaged (${damaged} unreadable record${damaged === 1 ? '' : 's'}); deciding every job as if it had no record`,
      );
      this.needsRewrite = true;
    }
  }

  private apply(line: Line): void {
    switch (line.t) {
      case 'S':
        this.incomplete.set(line.k, line.l === undefined ? { outputs: line.o } : { outputs: line.o, log: line.l });
        break;
      case 'D': {
        const [command, inputs, outputs, params, env] = line.s;
        const rec: JobRecord = { key: line.k, signature: { command, inputs, outputs, params, env }, inputs: toMap(line.i), outputs: toMap(line.o) };
        if (Array.isArray(line.r)) rec.signature.tables = line.r;
        if (line.l !== undefined) rec.log = line.l;
        if (Array.isArray(line.d)) rec.deps = toMap(line.d);
        if (Array.isArray(line.n) && line.n.length > 0) rec.dropped = line.n.filter((x) => typeof x === 'string');
        if (rec.dropped !== undefined) this.droppedKeys.add(line.k);
        if (rec.dropped !== undefined || this.droppedKeys.delete(line.k)) this.droppedVersion_++;
        this.records.set(line.k, rec);
        this.incomplete.delete(line.k);
        if (this.files) this.learn(rec);
        break;
      }
      case 'X':
        this.records.delete(line.k);
        this.droppedKeys.delete(line.k);
        this.incomplete.delete(line.k);
        break;
      case 'T': {
        if (!Array.isArray(line.f)) break;
        const tree = toMap(line.f);
        this.trees.set(line.k, tree);
        if (this.files) for (const [p, info] of tree) this.files.set(p, info);
        break;
      }
    }
  }

  private learn(rec: JobRecord): void {
    for (const [p, info] of rec.inputs) this.files!.set(p, info);
    for (const [p, info] of rec.outputs) this.files!.set(p, info);
    if (rec.deps) for (const [p, info] of rec.deps) this.files!.set(p, info);
  }

  private fileIndex(): Map<string, FileInfo> {
    if (!this.files) {
      this.files = new Map();
      for (const tree of this.trees.values()) for (const [p, info] of tree) this.files.set(p, info);
      for (const rec of this.records.values()) this.learn(rec);
    }
    return this.files;
  }

  /** The last known stat and hash of a file (the hash cache). */
  knownFile(path: string): FileInfo | undefined {
    return this.fileIndex().get(path);
  }

  rememberFile(path: string, info: FileInfo): void {
    this.fileIndex().set(path, info);
  }

  /**
   * Keeps the files inside directory `dir` as a job saw them, for the hash
   * cache of later builds: one T line when they differ from what the log
   * knows, none when they are the same (however many jobs read the directory).
   */
  rememberTree(dir: string, files: ReadonlyMap<string, FileInfo>): void {
    const known = this.trees.get(dir);
    if (known !== undefined && sameTree(known, files)) return;
    const tree = new Map(files);
    this.trees.set(dir, tree);
    const index = this.fileIndex();
    for (const [p, info] of tree) index.set(p, info);
    this.append({ t: 'T', k: dir, f: toRows(tree) });
  }

  /**
   * Marks a job as started: until `done`, it is incomplete, whatever its outputs look like.
   * The marker is on disk before the S record, and both before the job may touch its outputs.
   */
  started(key: string, outputs: string[], log?: string): void {
    const line: StartLine = log === undefined ? { t: 'S', k: key, o: outputs } : { t: 'S', k: key, o: outputs, l: log };
    const name = this.marked.get(key) ?? markerName(key);
    this.markers.write(name, encode(line));
    this.marked.set(key, name);
    this.append(line);
  }

  done(record: JobRecord): void {
    this.append(doneLine(record));
    this.unmark(record.key);
  }

  /** A run that did not finish has had its outputs removed: its S record alone keeps it incomplete. */
  stopped(key: string): void {
    this.unmark(key);
  }

  forget(key: string): void {
    if (this.records.has(key) || this.incomplete.has(key)) this.append({ t: 'X', k: key });
    this.unmark(key);
  }

  /** Removes the job's marker, if it has one (no hashing for jobs without: most records written are not of runs). */
  private unmark(key: string): void {
    let name = this.marked.get(key);
    if (name !== undefined) this.marked.delete(key);
    else if (this.nameless.size > 0 && this.nameless.has(markerName(key))) name = markerName(key);
    if (name === undefined) return;
    this.markers.remove(name);
    this.nameless.delete(name);
  }

  private append(line: Line): void {
    if (this.needsRewrite) this.rewrite();
    this.apply(line);
    let text = encode(line);
    if (!this.started_) {
      text = HEADER + '\n' + text;
      this.started_ = true;
    }
    this.storage.append(text);
    this.lines++;
  }

  /**
   * Closes the log, recompacting it first when most of its lines are
   * superseded, or many of its records are of jobs that no longer exist.
   * `live` says whether a record's job still exists (some rule makes its key);
   * the others are dropped when the log is recompacted. Without it, no record
   * is dropped. A job that started and never finished is always kept: its
   * outputs may be half-written, and `rules clean` must still find them.
   */
  close(live?: (key: string) => boolean): void {
    const dead = live === undefined ? [] : this.deadRecords(live);
    const kept = this.records.size - dead.length + this.incomplete.size + this.trees.size;
    // After a recompaction there is no dead record left: a no-op build does not rewrite the log again.
    if (this.needsRewrite || this.lines > 2 * kept + SLACK_LINES || dead.length > kept / 4 + SLACK_DEAD) {
      for (const key of dead) {
        this.records.delete(key);
        this.droppedKeys.delete(key);
      }
      this.rewrite();
    }
    this.storage.close();
  }

  /** The keys of finished records whose job no longer exists (and is not incomplete). */
  private deadRecords(live: (key: string) => boolean): string[] {
    const dead: string[] = [];
    for (const key of this.records.keys()) if (!live(key) && !this.isIncomplete(key)) dead.push(key);
    return dead;
  }

  /** The directories whose trees a live record still names (as an input or output). */
  private liveTrees(): string[] {
    const live: string[] = [];
    for (const dir of this.trees.keys()) {
      for (const r of this.records.values()) {
        if (r.inputs.has(dir) || r.outputs.has(dir)) {
          live.push(dir);
          break;
        }
      }
    }
    return live;
  }

  /** Replaces the log by its live records, and the trees they name. */
  private rewrite(): void {
    const parts: string[] = [HEADER + '\n'];
    const trees = this.liveTrees();
    for (const dir of [...this.trees.keys()]) if (!trees.includes(dir)) this.trees.delete(dir);
    for (const [dir, tree] of this.trees) parts.push(encode({ t: 'T', k: dir, f: toRows(tree) }));
    for (const r of this.records.values()) parts.push(encode(doneLine(r)));
    for (const [k, v] of this.incomplete) parts.push(encode(v.log === undefined ? { t: 'S', k, o: v.outputs } : { t: 'S', k, o: v.outputs, l: v.log }));
    this.storage.replace(parts.join(''));
    this.started_ = true;
    this.lines = this.trees.size + this.records.size + this.incomplete.size;
    this.needsRewrite = false;
  }
}

function doneLine(r: JobRecord): DoneLine {
  const g = r.signature;
  const line: DoneLine = { t: 'D', k: r.key, s: [g.command, g.inputs, g.outputs, g.params, g.env], i: toRows(r.inputs), o: toRows(r.outputs) };
  if (r.log !== undefined) line.l = r.log;
  if (r.deps !== undefined && r.deps.size > 0) line.d = toRows(r.deps);
  if (r.dropped !== undefined && r.dropped.length > 0) line.n = r.dropped;
  if (g.tables !== undefined) line.r = g.tables;
  return line;
}

function encode(line: Line): string {
  const json = JSON.stringify(line);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

function decode(text: string): Line | undefined {
  if (text.length < 10 || text[8] !== ' ') return undefined;
  const json = text.slice(9);
  if (crc32(json).toString(16).padStart(8, '0') !== text.slice(0, 8)) return undefined;
  try {
    const v = JSON.parse(json) as Line;
    return typeof v === 'object' && v !== null && typeof v.k === 'string' && (v.t === 'S' || v.t === 'D' || v.t === 'X' || v.t === 'T') ? v : undefined;
  } catch {
    return undefined;
  }
}

function sameTree(a: ReadonlyMap<string, FileInfo>, b: ReadonlyMap<string, FileInfo>): boolean {
  if (a.size !== b.size) return false;
  for (const [p, x] of b) {
    const y = a.get(p);
    if (y === undefined || y.size !== x.size || y.mtimeMs !== x.mtimeMs || y.ino !== x.ino || y.hash !== x.hash) return false;
  }
  return true;
}

function toMap(rows: FileRow[]): Map<string, FileInfo> {
  const m = new Map<string, FileInfo>();
  for (const [p, size, mtimeMs, ino, hash] of rows) m.set(p, { size, mtimeMs, ino, hash });
  return m;
}

function toRows(m: Map<string, FileInfo>): FileRow[] {
  const rows: FileRow[] = [];
  for (const [p, f] of m) rows.push([p, f.size, f.mtimeMs, f.ino, f.hash]);
  return rows;
}
