// The job index, `.rules/jobindex`: beside the up-to-date stamp, who reads
// and who makes each file the stamp lists, and who needs each job. When the
// stamp shows that only some files' contents or times changed (none appeared,
// vanished or moved, no listing and no Rulefile changed), the graph is the
// one the last build had, and every job that neither reads nor makes a
// changed file, nor needs such a job, is as up to date as that build left
// it. The index says which jobs those are not, without the Rulefile, the
// graph or the build log (build/shortcut.ts).
//
// It is written with the stamp by a build that left every job up to date,
// and bound to it by an id both carry; a stamp rewritten by the shortcut keeps
// the id, as the graph has not changed. An index whose digest, structure or
// id is off is no index: the build takes the full path.
//
// Layout: a first line `rules-jobindex 1 <SHA-256 of the rest>`, a JSON
// header line, zero padding to a multiple of 4 bytes, then int32 sections:
// - `pathAt` [P+1]: where each stamp path starts in the stamp's path bytes;
// - `table` [T]: an open-addressing hash table of the paths (index + 1; 0 empty);
// - `usersAt` [P+1], `users`: the jobs that read or make each path;
// - `neededAt` [J+1], `needed`: the jobs that need each job (its dependents);
// - `names` [J]: the path of each job's name (its first output), -1 for a phony job;
// - `outputsAt` [J+1], `outputs`: each job's outputs;
// - `logAt` [2J]: where each job's record starts in the build log (high and
//   low 32 bits; -1, -1 for none), when the header has `log`: so that the
//   shortcut reads the records of the jobs it decides and what was appended
//   since, not the whole log (BuildLog.loadTail).
// Jobs are numbered as in the graph (Graph.jobs), paths as in the stamp.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import type { Graph, Job } from '../graph/model.js';
import { allInputs } from '../graph/model.js';
import type { BuildLog, LogPlaces } from './log.js';
import { replaceFile } from './io.js';
import { jobIndexPath } from './paths.js';

const MAGIC = 'rules-jobindex 1 ';
const FIRST_LINE = MAGIC.length + 65;

interface IndexHeader {
  id: string;
  jobs: number;
  paths: number;
  table: number;
  users: number;
  needed: number;
  outputs: number;
  /** Phony jobs: [job, rule name]. */
  phony: [number, string][];
  /** The build log the record places are in: its inode and size then, and the keys whose records dropped implicit inputs. */
  log?: { ino: number; bytes: number; dropped: string[] };
}

/** A fresh id binding an index to the stamp written with it. */
export function newIndexId(): string {
  return randomBytes(12).toString('hex');
}

/** FNV-1a over the bytes from `from` to `to`. */
function hashBytes(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function tableSize(paths: number): number {
  let n = 16;
  while (n < paths * 2) n *= 2;
  return n;
}

/** Jobs grouped by a key: CSR offsets and members. */
function grouped(count: number, pairs: readonly number[]): { at: Int32Array; members: Int32Array } {
  const at = new Int32Array(count + 1);
  for (let i = 0; i < pairs.length; i += 2) at[pairs[i]! + 1]!++;
  for (let k = 0; k < count; k++) at[k + 1]! += at[k]!;
  const fill = at.slice(0, count);
  const members = new Int32Array(pairs.length / 2);
  for (let i = 0; i < pairs.length; i += 2) members[fill[pairs[i]!]!++] = pairs[i + 1]!;
  return { at, members };
}

/**
 * Whether the shortcut can stand for a graph: one that cannot grow while it
 * builds, and without temporary outputs (a gone one is made again by jobs
 * that are otherwise up to date).
 */
export function indexable(graph: Graph): boolean {
  if (graph.grow !== undefined) return false;
  return graph.jobs.every((j) => j.tempOutputs === undefined && (j.rule.phony || j.outputs.length > 0));
}

/**
 * Writes the index of `graph` over the stamp's `paths` (in the stamp's
 * order). `inside` gives the files a directory input or output held when it
 * was walked: a file edited in there concerns the job. Returns false (and
 * leaves no index) when some output is not among the paths.
 */
export function writeJobIndex(
  root: string,
  id: string,
  paths: readonly string[],
  graph: Graph,
  log: BuildLog,
  inside: (dir: string) => Iterable<string> | undefined,
  places?: LogPlaces,
): boolean {
  const at = new Map<string, number>();
  for (let k = 0; k < paths.length; k++) at.set(paths[k]!, k);
  const jobs = graph.jobs;
  const users: number[] = [];
  const needed: number[] = [];
  const outputs: number[] = [];
  const names = new Int32Array(jobs.length);
  const phony: [number, string][] = [];
  const use = (job: Job, p: string) => {
    const k = at.get(p);
    if (k !== undefined) users.push(k, job.id);
    return k;
  };
  const useTree = (job: Job, p: string) => {
    const files = inside(p);
    if (files !== undefined) for (const f of files) use(job, f);
  };
  for (const job of jobs) {
    for (const p of allInputs(job)) {
      use(job, p);
      useTree(job, p);
    }
    for (const p of job.orderOnly) use(job, p);
    for (const p of log.records.get(job.name)?.deps?.keys() ?? []) use(job, p);
    for (const p of job.outputs) {
      const k = use(job, p);
      if (k === undefined) return removeJobIndex(root), false;
      outputs.push(job.id, k);
      useTree(job, p);
    }
    if (job.rule.phony) {
      names[job.id] = -1;
      phony.push([job.id, job.name]);
    } else names[job.id] = at.get(job.name)!;
    for (const d of job.dependents) needed.push(job.id, d.id);
  }
  const logAt = new Int32Array(places ? jobs.length * 2 : 0);
  if (places) {
    for (const job of jobs) {
      const at = places.at.get(job.name);
      logAt[job.id * 2] = at === undefined ? -1 : Math.floor(at / 2 ** 32);
      logAt[job.id * 2 + 1] = at === undefined ? -1 : at % 2 ** 32 | 0;
    }
  }
  const byPath = grouped(paths.length, users);
  const byJob = grouped(jobs.length, needed);
  const outs = grouped(jobs.length, outputs);

  const pathAt = new Int32Array(paths.length + 1);
  const size = tableSize(paths.length);
  const table = new Int32Array(size);
  let bytes = 0;
  for (let k = 0; k < paths.length; k++) {
    const b = Buffer.from(paths[k]!);
    pathAt[k] = bytes;
    bytes += b.length + 1;
    let slot = hashBytes(b, 0, b.length) & (size - 1);
    while (table[slot] !== 0) slot = (slot + 1) & (size - 1);
    table[slot] = k + 1;
  }
  pathAt[paths.length] = bytes;

  const header: IndexHeader = {
    id,
    jobs: jobs.length,
    paths: paths.length,
    table: size,
    users: byPath.members.length,
    needed: byJob.members.length,
    outputs: outs.members.length,
    phony,
    ...(places ? { log: { ino: places.ino, bytes: places.bytes, dropped: [...log.droppedKeys] } } : {}),
  };
  const sections = [pathAt, table, byPath.at, byPath.members, byJob.at, byJob.members, names, outs.at, outs.members, logAt];
  const head = Buffer.from(JSON.stringify(header) + '\n');
  const start = align4(FIRST_LINE + head.length);
  let total = start;
  for (const s of sections) total += s.byteLength;
  const out = Buffer.alloc(total);
  head.copy(out, FIRST_LINE);
  let offset = start;
  for (const s of sections) {
    out.set(new Uint8Array(s.buffer, s.byteOffset, s.byteLength), offset);
    offset += s.byteLength;
  }
  const digest = createHash('sha256').update(out.subarray(FIRST_LINE)).digest('hex');
  out.write(`${MAGIC}${digest}\n`, 0, 'latin1');
  try {
    replaceFile(jobIndexPath(root), out);
  } catch {
    removeJobIndex(root);
    return false;
  }
  return true;
}

export function removeJobIndex(root: string): void {
  try {
    rmSync(jobIndexPath(root), { force: true });
  } catch {
    // Not a file: an index that cannot be read is no index.
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** The stamp's paths, as the index reads them: its bytes and where they start. */
export interface StampPaths {
  bytes: Uint8Array;
  start: number;
}

/** A loaded index, over the paths of the stamp it belongs to. */
export class JobIndex {
  private constructor(
    readonly header: IndexHeader,
    private readonly paths: StampPaths,
    private readonly pathAt: Int32Array,
    private readonly table: Int32Array,
    private readonly usersAt: Int32Array,
    private readonly users: Int32Array,
    private readonly neededAt: Int32Array,
    private readonly needed: Int32Array,
    private readonly names: Int32Array,
    private readonly outputsAt: Int32Array,
    private readonly outputs: Int32Array,
    private readonly logAt: Int32Array,
  ) {}

  /** Reads the index written with the stamp whose id is `id` and whose paths are `paths` (`count` of them). */
  static load(root: string, id: string, paths: StampPaths, count: number, pathBytes: number): JobIndex | undefined {
    let buf: Buffer;
    try {
      buf = readFileSync(jobIndexPath(root));
    } catch {
      return undefined;
    }
    try {
      if (buf.length < FIRST_LINE || buf.toString('latin1', 0, MAGIC.length) !== MAGIC || buf[FIRST_LINE - 1] !== 10) return undefined;
      const end = buf.indexOf(10, FIRST_LINE);
      if (end < 0) return undefined;
      const header = JSON.parse(buf.toString('utf8', FIRST_LINE, end)) as IndexHeader;
      if (header.id !== id || header.paths !== count) return undefined;
      const int = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
      if (![header.jobs, header.table, header.users, header.needed, header.outputs].every(int) || !Array.isArray(header.phony)) return undefined;
      const log = header.log;
      if (log !== undefined && (typeof log !== 'object' || !int(log.ino) || !int(log.bytes) || !Array.isArray(log.dropped) || !log.dropped.every((k) => typeof k === 'string'))) return undefined;
      const lengths = [count + 1, header.table, count + 1, header.users, header.jobs + 1, header.needed, header.jobs, header.jobs + 1, header.outputs, log ? header.jobs * 2 : 0];
      const start = align4(end + 1);
      if (start + lengths.reduce((a, b) => a + b, 0) * 4 !== buf.length) return undefined;
      const digest = createHash('sha256').update(buf.subarray(FIRST_LINE)).digest('hex');
      if (buf.toString('latin1', MAGIC.length, FIRST_LINE - 1) !== digest) return undefined;
      // Copied once into an aligned buffer: the sections are read as int32.
      const ints = new Int32Array(lengths.reduce((a, b) => a + b, 0));
      new Uint8Array(ints.buffer).set(buf.subarray(start));
      const s: Int32Array[] = [];
      let at = 0;
      for (const n of lengths) {
        s.push(ints.subarray(at, at + n));
        at += n;
      }
      const index = new JobIndex(header, paths, s[0]!, s[1]!, s[2]!, s[3]!, s[4]!, s[5]!, s[6]!, s[7]!, s[8]!, s[9]!);
      return index.consistent(pathBytes) ? index : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The offsets end where their sections do. The digest already says the
   * file is as written; this only keeps an index from another writer from
   * leading reads astray (each element is not checked: that would cost as
   * much as reading the whole index again).
   */
  private consistent(pathBytes: number): boolean {
    const spans = (at: Int32Array, total: number) => at[0] === 0 && at[at.length - 1] === total;
    return (
      spans(this.pathAt, pathBytes) &&
      spans(this.usersAt, this.users.length) &&
      spans(this.neededAt, this.needed.length) &&
      spans(this.outputsAt, this.outputs.length) &&
      this.header.phony.every(([j, name]) => Number.isSafeInteger(j) && j >= 0 && j < this.header.jobs && this.names[j] === -1 && typeof name === 'string')
    );
  }

  get jobs(): number {
    return this.header.jobs;
  }

  /** Stamp path number `k`. */
  path(k: number): string {
    const { bytes, start } = this.paths;
    return Buffer.from(bytes.buffer, bytes.byteOffset + start + this.pathAt[k]!, this.pathAt[k + 1]! - this.pathAt[k]! - 1).toString('utf8');
  }

  /** The number of `path` among the stamp's paths, or undefined. */
  find(path: string): number | undefined {
    const b = Buffer.from(path);
    const { bytes, start } = this.paths;
    const mask = this.table.length - 1;
    for (let slot = hashBytes(b, 0, b.length) & mask; ; slot = (slot + 1) & mask) {
      const v = this.table[slot]!;
      if (v === 0) return undefined;
      const k = v - 1;
      const from = start + this.pathAt[k]!;
      const len = this.pathAt[k + 1]! - this.pathAt[k]! - 1;
      if (len === b.length && Buffer.compare(b, Buffer.from(bytes.buffer, bytes.byteOffset + from, len)) === 0) return k;
    }
  }

  /** Whether job `job` reads or makes path number `k`. */
  uses(k: number, job: number): boolean {
    for (let i = this.usersAt[k]!; i < this.usersAt[k + 1]!; i++) if (this.users[i] === job) return true;
    return false;
  }

  /**
   * The jobs that read or make one of the paths `changed`, and every job
   * that needs one of them, in graph order; undefined when a path concerns
   * no job (what it is to the build is not known here).
   */
  affected(changed: readonly number[]): number[] | undefined {
    const seen = new Uint8Array(this.header.jobs);
    const stack: number[] = [];
    for (const k of changed) {
      if (this.usersAt[k] === this.usersAt[k + 1]) return undefined;
      for (let i = this.usersAt[k]!; i < this.usersAt[k + 1]!; i++) {
        const j = this.users[i]!;
        if (!seen[j]) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
    const out: number[] = [];
    while (stack.length > 0) {
      const j = stack.pop()!;
      out.push(j);
      for (let i = this.neededAt[j]!; i < this.neededAt[j + 1]!; i++) {
        const d = this.needed[i]!;
        if (!seen[d]) {
          seen[d] = 1;
          stack.push(d);
        }
      }
    }
    return out.sort((a, b) => a - b);
  }

  /** The job whose name (first output) is `path`, or undefined. */
  jobNamed(path: string): number | undefined {
    const k = this.find(path);
    if (k === undefined) return undefined;
    for (let i = this.usersAt[k]!; i < this.usersAt[k + 1]!; i++) if (this.names[this.users[i]!] === k) return this.users[i];
    return undefined;
  }

  /** Where the record of job `job` starts in the build log the header names, or undefined (none, or no places kept). */
  logLine(job: number): number | undefined {
    if (this.logAt.length === 0 || this.logAt[job * 2] === -1) return undefined;
    return this.logAt[job * 2]! * 2 ** 32 + (this.logAt[job * 2 + 1]! >>> 0);
  }

  /** How job `job` is asked for by name: its first output, or its phony rule's name. */
  name(job: number): string {
    const k = this.names[job]!;
    if (k >= 0) return this.path(k);
    return this.header.phony.find(([j]) => j === job)![1];
  }

  outputsOf(job: number): string[] {
    const out: string[] = [];
    for (let i = this.outputsAt[job]!; i < this.outputsAt[job + 1]!; i++) out.push(this.path(this.outputs[i]!));
    return out;
  }
}
