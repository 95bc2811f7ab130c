// The build log, `.rules/log`: what each job's last run was made of, so the
// next build can tell by content what changed. Append-only (one line per
// event, each with its own CRC, written before the next step), recompacted
// when it has grown; a kill at any instant leaves a log the next build reads.
//
// Line: `CRC32HEX JSON`. Records: S (a job started: incomplete until D),
// D (a job finished, with its signature and its files: `i` inputs, `o`
// outputs, `d` dependencies discovered in its depfile, `r` the hashes of
// the job's own table rows, `h` its last runs' times and usage), X (forgotten, after
// clean), T (the files inside a directory input or output as last seen: for
// the hash cache, once per directory however many jobs read it).
//
// A running job is also marked in a file of its own (state/started.ts), written
// before its S and removed after its D: a crash followed by damage to this log
// (a torn or garbled S, an unreadable header) cannot lose the fact that the job
// started, so its half-written outputs are never adopted as fresh.
//
// Loading checks every line's CRC, but decodes only the S, X and T lines and
// the D lines that drop implicit inputs; any other D line is kept as its text,
// indexed by its key, and decoded when its record is first asked for
// (`RecordTable`). A build that decides a few jobs of a large log pays for
// reading it and checking it, not for decoding every record; the hash cache
// learns each record's files as it is decoded, and a recompaction writes a
// record never decoded back as the line it was.

import { closeSync, existsSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
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
  /**
   * The job's last runs that succeeded (SPEC §9), newest first, at most
   * `RUNS_KEPT`: how long each took and what it used. Absent when it never
   * ran (a record made for an adopted output, or by `--touch`).
   */
  runs?: RunStat[];
}

/** One run of a job, as the history keeps it. */
export interface RunStat {
  /** Wall time, in ms. */
  wallMs: number;
  /** CPU time (user plus system) of its process tree, in ms, where measured. */
  cpuMs?: number;
  /** Peak resident memory of its process tree, in KiB, where measured. */
  maxRssKb?: number;
  /** When it ended, in ms since the epoch (kept to the second). */
  at: number;
}

/** How many runs of a job its record keeps. */
export const RUNS_KEPT = 5;

/** A run on disk: [wallMs, cpuMs or -1, maxRssKb or -1, seconds since the epoch]. */
type RunRow = [number, number, number, number];

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
  /** The job's last runs (JobRecord.runs), newest first. */
  h?: RunRow[];
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
    // Read whole, then decoded: for a log of 100 MB, faster than asking readFileSync for text (Node 20).
    return existsSync(this.path) ? readFileSync(this.path).toString('utf8') : '';
  }

  /** The text from byte `from` to the end. */
  readFrom(from: number): string {
    const fd = openSync(this.path, 'r');
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.alloc(Math.max(0, size - from));
      for (let got = 0; got < buf.length; ) {
        const n = readSync(fd, buf, got, buf.length - got, from + got);
        if (n <= 0) throw new Error('the build log got shorter');
        got += n;
      }
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  }

  /** The line that starts at byte `at` (without its newline), or undefined. */
  lineAt(at: number): string | undefined {
    this.reader ??= openSync(this.path, 'r');
    const chunks: Buffer[] = [];
    for (let from = at; ; ) {
      const buf = Buffer.alloc(chunks.length === 0 ? 1024 : 65536);
      const n = readSync(this.reader, buf, 0, buf.length, from);
      if (n <= 0) return undefined;
      const nl = buf.subarray(0, n).indexOf(10);
      if (nl >= 0) {
        chunks.push(buf.subarray(0, nl));
        return Buffer.concat(chunks).toString('utf8');
      }
      chunks.push(buf.subarray(0, n));
      from += n;
    }
  }
  private reader: number | undefined;

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
    if (this.reader !== undefined) closeSync(this.reader);
    this.reader = undefined;
    this.file.close();
  }

  /** The markers beside the log, on disk: one that cannot be written stops the build as the log would. */
  markers(): MarkerStorage {
    const disk = new FileMarkerStorage(this.root);
    return {
      list: () => disk.list(),
      remove: (name) => disk.remove(name),
      close: () => disk.close(),
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

/**
 * The last finished run of each job, by key, with a Map's API. A record read
 * from the log is kept as its line (`CRC JSON`, the CRC already checked) until
 * it is first asked for: a build that decides a few jobs of a large log
 * decodes only theirs. Asking for every value (or every entry) decodes them all.
 */
export class RecordTable implements Iterable<[string, JobRecord]> {
  /** Each job's record, or the line of one not decoded yet. */
  private readonly map = new Map<string, JobRecord | string>();

  /**
   * For a log read only from some point on (`BuildLog.loadTail`): the line
   * of a record from before that point, found when first asked for; keys
   * forgotten since are not asked again.
   */
  fetch: ((key: string) => string | undefined) | undefined;
  private readonly forgotten = new Set<string>();

  /** `learn` is told of each record as it is set or decoded, and whether it was read from the log (else: made by this build). */
  constructor(private readonly learn: (rec: JobRecord, fromLog: boolean) => void) {}

  get size(): number {
    return this.map.size;
  }

  has(key: string): boolean {
    return this.map.has(key) || (this.fetch !== undefined && this.fetched(key));
  }

  get(key: string): JobRecord | undefined {
    const v = this.map.get(key);
    if (v === undefined && this.fetch !== undefined && this.fetched(key)) return this.get(key);
    return typeof v === 'string' ? this.decode(key, v) : v;
  }

  /**
   * The wall time of the job's last run (`runs[0].wallMs`), without decoding
   * a record not decoded yet: the planner weighs every job it runs (SPEC §9),
   * and under -B none of their records is decoded to decide staleness.
   */
  lastWallMs(key: string): number | undefined {
    let v = this.map.get(key);
    if (v === undefined && this.fetch !== undefined && this.fetched(key)) v = this.map.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return v.runs?.[0]?.wallMs;
    return lastWallOfLine(v);
  }

  /** Whether a record from before the part read was found (and is now held, undecoded). */
  private fetched(key: string): boolean {
    if (this.forgotten.has(key) || this.map.has(key)) return false;
    const line = this.fetch!(key);
    if (line === undefined) {
      this.forgotten.add(key);
      return false;
    }
    this.map.set(key, line);
    return true;
  }

  /** Sets the record of a run of this build. */
  set(key: string, rec: JobRecord): this {
    this.map.set(key, rec);
    this.forgotten.delete(key);
    this.learn(rec, false);
    return this;
  }

  delete(key: string): boolean {
    if (this.fetch !== undefined) this.forgotten.add(key);
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  *values(): IterableIterator<JobRecord> {
    for (const [, rec] of this.entries()) yield rec;
  }

  *entries(): IterableIterator<[string, JobRecord]> {
    // Decoding replaces a line by its record under the same key: the order, and the iteration, go on undisturbed.
    for (const key of this.map.keys()) {
      const rec = this.get(key);
      if (rec !== undefined) yield [key, rec];
    }
  }

  [Symbol.iterator](): IterableIterator<[string, JobRecord]> {
    return this.entries();
  }

  /** A record read from the log: decoded already, or its line, decoded when first asked for. */
  loaded(key: string, rec: JobRecord | string): void {
    this.map.set(key, rec);
    this.forgotten.delete(key);
    if (typeof rec !== 'string') this.learn(rec, true);
  }

  /** Each record as it is held, without decoding any: the line of one never asked for, else the record. */
  held(): IterableIterator<[string, JobRecord | string]> {
    return this.map.entries();
  }

  private decode(key: string, line: string): JobRecord | undefined {
    const rec = recordOfLine(line);
    // Its CRC was right, so the line is as our encoder wrote it and decodes. If it ever did not, it would be no record.
    if (rec === undefined) {
      this.map.delete(key);
      return undefined;
    }
    this.map.set(key, rec);
    this.learn(rec, true);
    return rec;
  }
}

export class BuildLog {
  /** The last finished run of each job (decoded when first asked for). */
  readonly records = new RecordTable((rec, fromLog) => this.learn(rec, fromLog));
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
  /**
   * The hash cache, in two parts: what this build saw of each file (hashed,
   * or written in a record or tree of this build), which is always the
   * newest; and what the log says: its trees (learnt at load) and its records
   * (learnt as each is decoded, so a build pays only for the records it asks
   * for). `knownFile` answers from the first, else the second.
   */
  private readonly seen = new Map<string, FileInfo>();
  private readonly logged = new Map<string, FileInfo>();
  /**
   * The files inside each directory input or output, as last seen (a
   * directory's own info, in a record, is a hash of its whole tree): only for
   * the hash cache, so an unchanged tree costs stats, not reads.
   */
  private readonly trees = new Map<string, Map<string, FileInfo>>();
  private lines = 0;
  private started_ = false;
  private needsRewrite = false;
  /** Read only from some point on (`loadTail`): never recompacted, as the records before it are not all held. */
  private partial = false;
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

  /**
   * The log for the incremental shortcut (build/shortcut.ts): only what was
   * appended after byte `from` (the log as the job index saw it, known to be
   * intact: the up-to-date stamp vouched for it) is read; the record of a job
   * from before comes from `fetch` (its line, by the job index) when first
   * asked for. `dropped`: the keys whose records dropped implicit inputs
   * then. Undefined when the part read is not whole lines of good records:
   * the caller loads the whole log instead.
   */
  static loadTail(storage: FileLogStorage, from: number, dropped: readonly string[], fetch: (key: string) => string | undefined): BuildLog | undefined {
    const log = new BuildLog(storage, storage.markers());
    log.partial = true;
    log.started_ = true;
    for (const k of dropped) log.droppedKeys.add(k);
    log.records.fetch = (key) => {
      const line = fetch(key);
      return line !== undefined && checkedJson(line) !== undefined ? line : undefined;
    };
    let text: string;
    try {
      text = storage.readFrom(from);
    } catch {
      return undefined;
    }
    const lines = text.split('\n');
    if (lines.pop() !== '') return undefined;
    for (const line of lines) {
      // As in a whole load: a finished run's record is decoded when first asked for.
      const json = checkedJson(line);
      if (json === undefined) return undefined;
      const key = deferredKey(json);
      if (key !== undefined) log.index(key, line);
      else {
        const parsed = parseLine(json);
        if (parsed === undefined) return undefined;
        log.apply(parsed, true);
      }
      log.lines++;
    }
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
      if (!line) continue;
      // Every line's CRC is checked now: one damaged line anywhere means no record is trusted.
      const json = checkedJson(line);
      const key = json === undefined ? undefined : deferredKey(json);
      if (key !== undefined) {
        this.index(key, line);
      } else {
        const parsed = json === undefined ? undefined : parseLine(json);
        if (!parsed) {
          damaged++;
          continue;
        }
        this.apply(parsed, true);
      }
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
      this.logged.clear();
      this.warnings.push(
        `the build log ${shownStatePath('log')} is damaged (${damaged} unreadable record${damaged === 1 ? '' : 's'}); deciding every job as if it had no record`,
      );
      this.needsRewrite = true;
    }
  }

  /**
   * Applies a line: read from the log (`fromLog`), or just appended by this
   * build. A D line read from the log that names no dropped inputs comes
   * through `index` instead, undecoded.
   */
  private apply(line: Line, fromLog: boolean): void {
    switch (line.t) {
      case 'S':
        this.incomplete.set(line.k, line.l === undefined ? { outputs: line.o } : { outputs: line.o, log: line.l });
        break;
      case 'D': {
        const rec = recordOf(line);
        if (rec.dropped !== undefined) this.droppedKeys.add(line.k);
        if (rec.dropped !== undefined || this.droppedKeys.delete(line.k)) this.droppedVersion_++;
        if (fromLog) this.records.loaded(line.k, rec);
        else this.records.set(line.k, rec);
        this.incomplete.delete(line.k);
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
        for (const [p, info] of tree) this.note(p, info, fromLog);
        break;
      }
    }
  }

  /** A D line of the log, kept as it is until its record is asked for: as `apply` would, without decoding it. */
  private index(key: string, line: string): void {
    this.records.loaded(key, line);
    // It names no dropped inputs (those lines are decoded at once), so the key drops none now.
    if (this.droppedKeys.delete(key)) this.droppedVersion_++;
    this.incomplete.delete(key);
  }

  /** The hash cache learns the files of a record, as it is decoded (read from the log) or set (by this build). */
  private learn(rec: JobRecord, fromLog: boolean): void {
    for (const [p, info] of rec.inputs) this.note(p, info, fromLog);
    for (const [p, info] of rec.outputs) this.note(p, info, fromLog);
    if (rec.deps) for (const [p, info] of rec.deps) this.note(p, info, fromLog);
  }

  /**
   * The hash cache learns what a file was. It learns the log's records only
   * as they are decoded, so it may know less than the whole log, or an older
   * info of a file than the newest line has: that never changes an answer.
   * A cached info is used only when the file's (size, mtime, inode) match it
   * (`sameFile`, the one test of "unchanged"), and any recorded info whose
   * stat matches is as good as the latest one; a miss costs a hash of the
   * file, never a wrong answer. Of two infos from the log the newer mtime is
   * kept (files move forward in time: a job's record of its output is newer
   * than that of a job that read it before it was remade), and what this
   * build saw is kept over anything the log says.
   */
  private note(path: string, info: FileInfo, fromLog: boolean): void {
    if (!fromLog) {
      this.seen.set(path, info);
      return;
    }
    const old = this.logged.get(path);
    if (old === undefined || info.mtimeMs > old.mtimeMs || (info.mtimeMs === old.mtimeMs && (info.hash !== '' || old.hash === ''))) this.logged.set(path, info);
  }

  /** The last known stat and hash of a file (the hash cache). */
  knownFile(path: string): FileInfo | undefined {
    return this.seen.get(path) ?? this.logged.get(path);
  }

  rememberFile(path: string, info: FileInfo): void {
    this.seen.set(path, info);
  }

  /**
   * Keeps the files inside directory `dir` as a job saw them, for the hash
   * cache of later builds: one T line when they differ from what the log
   * knows, none when they are the same (however many jobs read the directory).
   */
  rememberTree(dir: string, files: ReadonlyMap<string, FileInfo>): void {
    const known = this.trees.get(dir);
    if (known !== undefined && sameTree(known, files)) return;
    // Appending the T line keeps the tree, and its files in the hash cache.
    this.append({ t: 'T', k: dir, f: toRows(files) });
  }

  /**
   * Marks a job as started: until `done`, it is incomplete, whatever its outputs look like.
   * The marker is on disk before the S record, and both before the job may touch its outputs.
   */
  started(key: string, outputs: string[], log?: string): void {
    const line: StartLine = log === undefined ? { t: 'S', k: key, o: outputs } : { t: 'S', k: key, o: outputs, l: log };
    const name = this.marked.get(key) ?? markerName(key);
    const text = encode(line);
    this.markers.write(name, text);
    this.marked.set(key, name);
    this.append(line, text);
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

  /** Appends a line; `encoded`: its text, when the caller has it already. */
  private append(line: Line, encoded?: string): void {
    if (this.needsRewrite) this.rewrite();
    this.apply(line, false);
    let text = encoded ?? encode(line);
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
    this.markers.close?.();
    if (this.partial) {
      this.storage.close();
      return;
    }
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

  /**
   * The directories whose trees a live record still names (as an input or
   * output). A record not decoded is decoded only when its line may name one
   * (`rowPaths`), and then checked as any other.
   */
  private liveTrees(): Set<string> {
    const live = new Set<string>();
    if (this.trees.size === 0) return live;
    const names = (r: JobRecord): void => {
      for (const p of r.inputs.keys()) if (this.trees.has(p)) live.add(p);
      for (const p of r.outputs.keys()) if (this.trees.has(p)) live.add(p);
    };
    for (const [key, r] of this.records.held()) {
      if (live.size === this.trees.size) break;
      if (typeof r !== 'string') names(r);
      else if (rowPaths(r).some((p) => this.trees.has(p) && !live.has(p))) {
        const rec = this.records.get(key);
        if (rec !== undefined) names(rec);
      }
    }
    return live;
  }

  /** Replaces the log by its live records, and the trees they name. A record never decoded is written back as its line. */
  private rewrite(): void {
    const parts: string[] = [HEADER + '\n'];
    const trees = this.liveTrees();
    for (const dir of [...this.trees.keys()]) if (!trees.has(dir)) this.trees.delete(dir);
    for (const [dir, tree] of this.trees) parts.push(encode({ t: 'T', k: dir, f: toRows(tree) }));
    for (const [, r] of this.records.held()) parts.push(typeof r === 'string' ? r + '\n' : encode(doneLine(r)));
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
  if (r.runs !== undefined && r.runs.length > 0) line.h = r.runs.slice(0, RUNS_KEPT).map((x) => [x.wallMs, x.cpuMs ?? -1, x.maxRssKb ?? -1, Math.round(x.at / 1000)]);
  return line;
}

/**
 * The first wall time of a D line's `h` (its newest run), read from its text.
 * `"h":[[` can only be that key: a quote inside a JSON string is escaped.
 * Undefined when the line has no runs or the row is not a number.
 */
function lastWallOfLine(line: string): number | undefined {
  const at = line.lastIndexOf('"h":[[');
  if (at < 0) return undefined;
  const from = at + 6;
  let end = from;
  while (end < line.length && line.charCodeAt(end) !== 0x2c && line.charCodeAt(end) !== 0x5d) end++;
  const ms = Number(line.slice(from, end));
  return end > from && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** The runs of a D line; rows that are not four numbers are left out. */
function runsOf(rows: unknown): RunStat[] | undefined {
  if (!Array.isArray(rows)) return undefined;
  const runs: RunStat[] = [];
  for (const row of rows) {
    if (!Array.isArray(row) || row.length !== 4 || !row.every((x) => typeof x === 'number' && Number.isFinite(x))) continue;
    const [wallMs, cpuMs, maxRssKb, at] = row as RunRow;
    const run: RunStat = { wallMs, at: at * 1000 };
    if (cpuMs >= 0) run.cpuMs = cpuMs;
    if (maxRssKb >= 0) run.maxRssKb = maxRssKb;
    runs.push(run);
  }
  return runs.length > 0 ? runs : undefined;
}

function encode(line: Line): string {
  const json = JSON.stringify(line);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

function decode(text: string): Line | undefined {
  const json = checkedJson(text);
  return json === undefined ? undefined : parseLine(json);
}

/** The JSON of a line whose CRC is right; undefined for a damaged line. */
function checkedJson(text: string): string | undefined {
  if (text.length < 10 || text.charCodeAt(8) !== 0x20) return undefined;
  const json = text.slice(9);
  return crc32(json) === crcOf(text) ? json : undefined;
}

/**
 * The CRC a line begins with: 8 lowercase hex digits, as `encode` writes
 * them (anything else, -1, matches no CRC). Read digit by digit, as every
 * line of the log is, without making a string of it.
 */
function crcOf(text: string): number {
  let crc = 0;
  for (let i = 0; i < 8; i++) {
    const c = text.charCodeAt(i);
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (digit < 0) return -1;
    crc = crc * 16 + digit;
  }
  return crc;
}

function parseLine(json: string): Line | undefined {
  try {
    const v = JSON.parse(json) as Line;
    return typeof v === 'object' && v !== null && typeof v.k === 'string' && (v.t === 'S' || v.t === 'D' || v.t === 'X' || v.t === 'T') ? v : undefined;
  } catch {
    return undefined;
  }
}

function recordOf(line: DoneLine): JobRecord {
  const [command, inputs, outputs, params, env] = line.s;
  const rec: JobRecord = { key: line.k, signature: { command, inputs, outputs, params, env }, inputs: toMap(line.i), outputs: toMap(line.o) };
  if (Array.isArray(line.r)) rec.signature.tables = line.r;
  if (line.l !== undefined) rec.log = line.l;
  if (Array.isArray(line.d)) rec.deps = toMap(line.d);
  if (Array.isArray(line.n) && line.n.length > 0) rec.dropped = line.n.filter((x) => typeof x === 'string');
  const runs = runsOf(line.h);
  if (runs !== undefined) rec.runs = runs;
  return rec;
}

/** The record of a D line kept undecoded (its CRC checked at load); undefined if it does not decode. */
function recordOfLine(text: string): JobRecord | undefined {
  const line = parseLine(text.slice(9));
  if (line?.t !== 'D') return undefined;
  try {
    return recordOf(line);
  } catch {
    return undefined;
  }
}

/** How our encoder begins every D line, up to the string of its key. */
const DONE_START = '{"t":"D","k":';

/**
 * The key of a D line whose decoding can wait, read without parsing the
 * line; undefined for any other line, which is parsed at once. A D line that
 * names dropped inputs is decoded at once, so that `droppedKeys` stays exact:
 * `"n":` in a line of ours can only be that field (a quote inside a string is
 * always escaped, and the only object is the line). So is a line not laid out
 * as our encoder lays it out (`{"t":"D","k":"KEY","s":...}`).
 */
function deferredKey(json: string): string | undefined {
  if (!json.startsWith(DONE_START) || !json.endsWith('}') || json.includes('"n":')) return undefined;
  const key = stringAt(json, DONE_START.length);
  return key !== undefined && json.startsWith(',"s":', key.end) ? key.value : undefined;
}

/**
 * The JSON string that starts at `at` (its opening quote) and the index just
 * past its closing quote; undefined when there is none. Without escapes it is
 * the text between the quotes; with any, JSON reads the literal.
 */
function stringAt(text: string, at: number): { value: string; end: number } | undefined {
  if (text.charCodeAt(at) !== 0x22) return undefined;
  let i = at + 1;
  let escaped = false;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x22) break;
    if (c === 0x5c) {
      escaped = true;
      i += 2;
      continue;
    }
    // Past the end: not a string.
    if (Number.isNaN(c)) return undefined;
    i++;
  }
  if (!escaped) return { value: text.slice(at + 1, i), end: i + 1 };
  try {
    const value: unknown = JSON.parse(text.slice(at, i + 1));
    return typeof value === 'string' ? { value, end: i + 1 } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The paths of a D line's inputs and outputs (`"i":[["PATH",...],...],"o":[...]`),
 * read without parsing the line. There may be more than those (a path that
 * ends in `[` makes one more), never fewer: whoever finds one that matters
 * decodes the record to be sure. (`"i":` and the keys after `o` can only be
 * keys: a quote inside a JSON string is always escaped.)
 */
function rowPaths(line: string): string[] {
  const paths: string[] = [];
  const from = line.indexOf('"i":[');
  if (from === -1) return paths;
  let to = line.length;
  for (const next of ['"l":', '"d":', '"n":', '"r":', '"h":']) {
    const at = line.indexOf(next, from);
    if (at !== -1 && at < to) to = at;
  }
  for (let at = line.indexOf('["', from); at !== -1 && at < to; at = line.indexOf('["', at + 1)) {
    const s = stringAt(line, at + 1);
    if (s !== undefined) paths.push(s.value);
  }
  return paths;
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

function toRows(m: ReadonlyMap<string, FileInfo>): FileRow[] {
  const rows: FileRow[] = [];
  for (const [p, f] of m) rows.push([p, f.size, f.mtimeMs, f.ino, f.hash]);
  return rows;
}

/** Where each job's last finished run lies in the log file: for the job index (state/jobindex.ts). */
export interface LogPlaces {
  /** The log file's inode and size when read: a log recompacted since (a new file) is not the one these places are in. */
  ino: number;
  bytes: number;
  /** Byte offset of the last D line of each key (none after an X). */
  at: Map<string, number>;
}

/**
 * Reads the log file and finds, for each key, where its last D line starts,
 * reading only the type and key of each line. Undefined when the log is
 * missing or a line is not laid out as our encoder lays it out.
 */
export function logPlaces(root: string): LogPlaces | undefined {
  let buf: Buffer;
  let ino: number;
  try {
    const fd = openSync(logPath(root), 'r');
    try {
      ino = fstatSync(fd).ino;
      buf = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const at = new Map<string, number>();
  const first = buf.indexOf(10);
  if (first < 0 || buf.toString('latin1', 0, first) !== HEADER) return undefined;
  // `CRC32HEX {"t":"D","k":"KEY",...`: the type at byte 15, the key's string from byte 22.
  for (let start = first + 1; start < buf.length; ) {
    const end = buf.indexOf(10, start);
    if (end < 0) return undefined;
    const type = buf[start + 15];
    if (type === 0x44 || type === 0x58) {
      let i = start + 23;
      let plain = true;
      while (i < end && buf[i] !== 0x22) {
        if (buf[i] === 0x5c) {
          plain = false;
          break;
        }
        i++;
      }
      let key: string | undefined;
      if (plain) key = buf[start + 22] === 0x22 ? buf.toString('utf8', start + 23, i) : undefined;
      else key = stringAt(buf.toString('utf8', start + 9, end), 13)?.value;
      if (key === undefined) return undefined;
      if (type === 0x44) at.set(key, start);
      else at.delete(key);
    }
    start = end + 1;
  }
  return { ino, bytes: buf.length, at };
}
