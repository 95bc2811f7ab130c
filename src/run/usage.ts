// What a local job's processes used (SPEC §9), read from Linux's /proc by the
// process that starts the jobs (the scheduler, or a helper process). CPU time
// is exact: when a job's process is reaped, the kernel adds the CPU of its
// whole tree (it and every descendant that was waited for) to the reaper's
// own `cutime`+`cstime`, so the growth of those between two readings belongs
// to the jobs reaped in between. Peak memory is sampled: one timer scans /proc
// for the processes of every running job's process group and sums their RSS.
// Where there is no /proc, jobs have no usage.

import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import type { JobUsage } from './executor.js';

/** What is read from a process's `/proc/PID/stat`. */
export interface ProcStat {
  pgrp: number;
  /** utime + stime, in clock ticks. */
  ownTicks: number;
  /** cutime + cstime: the children it has waited for, in clock ticks. */
  childTicks: number;
  /** Resident set size, in pages. */
  rssPages: number;
}

/**
 * Parses `/proc/PID/stat`. The second field, the command name in parentheses,
 * may itself hold spaces and parentheses, so the fields are counted from the
 * last ')'.
 */
export function parseStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // From field 3 (state) on: state=0, ppid=1, pgrp=2, … utime=11, stime=12, cutime=13, cstime=14, … rss=21.
  const f = text.slice(close + 2).split(' ');
  if (f.length < 22) return undefined;
  const n = (i: number) => Number(f[i]);
  const s: ProcStat = { pgrp: n(2), ownTicks: n(11) + n(12), childTicks: n(13) + n(14), rssPages: n(21) };
  return Number.isFinite(s.pgrp + s.ownTicks + s.childTicks + s.rssPages) ? s : undefined;
}

/** `VmHWM` (the peak resident size, in KiB) of `/proc/PID/status`. */
export function parseHwmKb(text: string): number | undefined {
  const m = /^VmHWM:\s*(\d+) kB/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * The clock tick and page size from the auxiliary vector the kernel gave this
 * process (what `getconf CLK_TCK` and `getconf PAGESIZE` print), without
 * starting a process, which would itself add to the CPU we read.
 */
export function parseAuxv(buf: Buffer, wordBytes: 4 | 8): { hz?: number; pageBytes?: number } {
  const AT_PAGESZ = 6;
  const AT_CLKTCK = 17;
  const out: { hz?: number; pageBytes?: number } = {};
  const read = (at: number) => (wordBytes === 8 ? Number(buf.readBigUInt64LE(at)) : buf.readUInt32LE(at));
  for (let at = 0; at + 2 * wordBytes <= buf.length; at += 2 * wordBytes) {
    const type = read(at);
    if (type === 0) break;
    if (type === AT_CLKTCK) out.hz = read(at + wordBytes);
    if (type === AT_PAGESZ) out.pageBytes = read(at + wordBytes);
  }
  return out;
}

/**
 * Splits the CPU of jobs reaped together between them: each gets at least
 * what its samples saw (all of them scaled down if those add up to more), and
 * the rest goes evenly to the jobs never sampled, or, if all were, in
 * proportion to their samples.
 */
export function splitCpu(totalMs: number, sampledMs: (number | undefined)[]): number[] {
  const seen = sampledMs.map((s) => s ?? 0);
  const seenSum = seen.reduce((a, b) => a + b, 0);
  if (seenSum >= totalMs) return seen.map((s) => (seenSum === 0 ? 0 : (totalMs * s) / seenSum));
  const rest = totalMs - seenSum;
  const unseen = sampledMs.filter((s) => s === undefined).length;
  if (unseen > 0) return sampledMs.map((s) => (s === undefined ? rest / unseen : s));
  // Every job was sampled, and no sample saw a tick (they all came early): the rest evenly.
  if (seenSum === 0) return seen.map(() => rest / seen.length);
  return seen.map((s) => s + (rest * s) / seenSum);
}

/** The reads the meter needs from /proc: a small interface, so the tests can fake it. */
export interface ProcReader {
  /** This process's own `/proc/self/stat`. */
  selfStat(): string | undefined;
  /** The PIDs in /proc. */
  pids(): number[];
  /** The PID the kernel gave last (the last field of /proc/loadavg). */
  lastPid(): number | undefined;
  stat(pid: number): string | undefined;
  status(pid: number): string | undefined;
}

/** Time, for the meter: the tests drive it by hand. */
export interface MeterClock {
  now(): number;
  /** Calls `fn` after `ms`; returns a function that cancels it. The timer must not keep the process alive. */
  later(fn: () => void, ms: number): () => void;
  /** Calls `fn` once the exit callbacks of the processes reaped with this one have run (setImmediate). */
  soon(fn: () => void): void;
}

/** A job's first sample is taken this long after its start: most jobs of a big build have ended by then. */
export const FIRST_SAMPLE_MS = 50;
/** The least time between two samples of a job. */
export const SAMPLE_MS = 200;
/** The most time between two samples of a job, however slow a scan. */
export const SAMPLE_MAX_MS = 1000;
/** A scan of /proc may take at most this share of the time between two scans, measured as it runs. */
const SCAN_SHARE = 0.02;
/** Every so many scans, every process is read, not only those started since the oldest running job (see `sample`). */
const FULL_SCAN_EVERY = 10;

/** A running job, as the meter follows it. */
export interface Metered {
  readonly pid: number;
  readonly started: number;
  due: number;
  /** The largest CPU total of its processes seen by a sample, in ms. */
  cpuSeenMs?: number;
  /** The largest sum of its processes' RSS seen by a sample, in KiB. */
  rssKb?: number;
}

interface Batch {
  ticks: number;
  /** A child that is not a job was reaped with the jobs: its CPU is in `ticks` too. */
  tainted: boolean;
  jobs: { job: Metered; resolve: (u: JobUsage) => void }[];
}

export class UsageMeter {
  private lastTicks: number;
  private readonly running = new Map<number, Metered>();
  private batch: Batch | undefined;
  private cancelTimer: (() => void) | undefined;
  private timerAt = Infinity;
  private interval = SAMPLE_MS;
  /** Scans of /proc made (for tests and measurements). */
  scans = 0;

  constructor(
    private readonly proc: ProcReader,
    private readonly units: { tickMs: number; pageKb: number },
    private readonly clock: MeterClock,
  ) {
    this.lastTicks = this.selfChildTicks() ?? 0;
  }

  /** Starts following the job whose process (and process group) is `pid`. */
  start(pid: number): Metered {
    // Whatever was reaped while no job ran is not a job's. (While jobs run,
    // every child reaped here is announced: a job's 'exit', or foreignExited.)
    if (this.running.size === 0 && !this.batch) this.lastTicks = this.selfChildTicks() ?? this.lastTicks;
    const now = this.clock.now();
    const job: Metered = { pid, started: now, due: now + FIRST_SAMPLE_MS };
    this.running.set(pid, job);
    this.arm(job.due);
    return job;
  }

  /**
   * The job's process was reaped (its 'exit' event, which runs right after the
   * reaping): the CPU this process's children gained since the last reading
   * belongs to it and to any job reaped at the same time. libuv reaps every
   * child that has ended before it calls their exit callbacks, so those
   * callbacks all run before `soon`, where the growth is read, once for them
   * all. Resolves then.
   */
  exited(job: Metered): Promise<JobUsage> {
    this.running.delete(job.pid);
    const batch = this.openBatch();
    return new Promise((resolve) => batch.jobs.push({ job, resolve }));
  }

  /** A child that is not a job was reaped (a helper process): the jobs reaped with it cannot tell their CPU from its. */
  foreignExited(): void {
    this.openBatch().tainted = true;
  }

  private openBatch(): Batch {
    if (!this.batch) {
      this.batch = { ticks: 0, tainted: false, jobs: [] };
      this.clock.soon(() => this.closeBatch());
    }
    return this.batch;
  }

  private closeBatch(): void {
    const batch = this.batch!;
    this.batch = undefined;
    const ticks = this.selfChildTicks();
    if (ticks === undefined) batch.tainted = true;
    else {
      batch.ticks = ticks - this.lastTicks;
      this.lastTicks = ticks;
    }
    const totalMs = batch.ticks * this.units.tickMs;
    const exact = batch.jobs.length === 1 && !batch.tainted;
    const shares = batch.tainted ? batch.jobs.map(({ job }) => job.cpuSeenMs) : splitCpu(totalMs, batch.jobs.map(({ job }) => job.cpuSeenMs));
    batch.jobs.forEach(({ job, resolve }, i) => {
      const usage: JobUsage = { source: exact ? 'exact' : 'sampled' };
      const cpu = shares[i];
      if (cpu !== undefined) usage.cpuMs = Math.round(cpu);
      if (job.rssKb !== undefined) usage.maxRssKb = job.rssKb;
      resolve(usage);
    });
  }

  private selfChildTicks(): number | undefined {
    const text = this.proc.selfStat();
    return text === undefined ? undefined : parseStat(text)?.childTicks;
  }

  /** One timer for all jobs, set for the earliest sample due. */
  private arm(at: number): void {
    if (at >= this.timerAt) return;
    this.cancelTimer?.();
    this.timerAt = at;
    this.cancelTimer = this.clock.later(() => this.tick(), Math.max(0, at - this.clock.now()));
  }

  private tick(): void {
    this.cancelTimer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    // A timer may fire a little before its time: a millisecond early counts as due.
    if ([...this.running.values()].some((j) => j.due <= now + 1)) this.sample(now);
    let next = Infinity;
    for (const j of this.running.values()) next = Math.min(next, j.due);
    if (next < Infinity) this.arm(next);
  }

  /**
   * One scan of /proc serves every running job old enough to sample: the sum
   * over the processes of its group. A process that has left the group
   * (setsid) is not counted; descendants that were waited for are, in their
   * parents' CPU.
   */
  sample(now = this.clock.now()): void {
    const jobs = new Map<number, { job: Metered; ticks: number; pages: number }>();
    for (const j of this.running.values()) {
      if (now - j.started >= FIRST_SAMPLE_MS - 20) jobs.set(j.pid, { job: j, ticks: 0, pages: 0 });
    }
    if (jobs.size === 0) return;
    const began = this.clock.now();
    // The processes of a job were started after it, and PIDs are given in
    // turn: only the PIDs from the oldest running job's to the last one given
    // (going round past the largest PID) need reading, not those of every
    // process on the machine. Now and then every process is read, in case
    // the PIDs went all the way round during a long job.
    let oldest: Metered | undefined;
    for (const j of this.running.values()) if (!oldest || j.started < oldest.started) oldest = j;
    const from = oldest!.pid;
    const to = this.scans % FULL_SCAN_EVERY === 0 ? undefined : this.proc.lastPid();
    const wanted = (pid: number) => to === undefined || (from <= to ? pid >= from && pid <= to : pid >= from || pid <= to);
    this.scans++;
    for (const pid of this.proc.pids()) {
      if (!wanted(pid)) continue;
      const text = this.proc.stat(pid);
      const s = text === undefined ? undefined : parseStat(text);
      const sum = s && jobs.get(s.pgrp);
      if (!sum) continue;
      sum.ticks += s.ownTicks + s.childTicks;
      sum.pages += s.rssPages;
    }
    for (const { job, ticks, pages } of jobs.values()) {
      // The leader's own peak since it started: catches what it held between two samples.
      const status = this.proc.status(job.pid);
      const hwm = status === undefined ? undefined : parseHwmKb(status);
      // A job whose processes have all gone between the reap and this scan has nothing to add.
      if (pages === 0 && ticks === 0 && hwm === undefined) continue;
      job.rssKb = Math.max(job.rssKb ?? 0, pages * this.units.pageKb, hwm ?? 0);
      job.cpuSeenMs = Math.max(job.cpuSeenMs ?? 0, ticks * this.units.tickMs);
    }
    // Scans cost more on a machine with many processes: sample less often there.
    this.interval = Math.min(SAMPLE_MAX_MS, Math.max(SAMPLE_MS, (this.clock.now() - began) / SCAN_SHARE));
    for (const { job } of jobs.values()) job.due = now + this.interval;
  }
}

/** Reads /proc through one buffer, each file with one read. */
class LinuxProc implements ProcReader {
  private readonly buf = Buffer.allocUnsafe(4096);
  private readonly self: number;

  constructor() {
    // Kept open: each reading is one read from the start.
    this.self = openSync('/proc/self/stat', 'r');
  }

  selfStat(): string | undefined {
    try {
      const n = readSync(this.self, this.buf, 0, this.buf.length, 0);
      return this.buf.toString('latin1', 0, n);
    } catch {
      return undefined;
    }
  }

  pids(): number[] {
    const out: number[] = [];
    for (const name of readdirSync('/proc')) {
      const c = name.charCodeAt(0);
      if (c >= 48 && c <= 57) out.push(Number(name));
    }
    return out;
  }

  lastPid(): number | undefined {
    const n = Number(this.read('/proc/loadavg')?.trim().split(' ').pop());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  }

  stat(pid: number): string | undefined {
    return this.read(`/proc/${pid}/stat`);
  }

  status(pid: number): string | undefined {
    return this.read(`/proc/${pid}/status`);
  }

  private read(path: string): string | undefined {
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const n = readSync(fd, this.buf, 0, this.buf.length, 0);
      return this.buf.toString('latin1', 0, n);
    } catch {
      // The process has gone (or there is no /proc).
      return undefined;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}

const realClock: MeterClock = {
  now: () => performance.now(),
  later(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
  soon: (fn) => void setImmediate(fn),
};

let meter: UsageMeter | null | undefined;

/** This process's meter, made on first use; null where there is no /proc to read. */
export function processMeter(): UsageMeter | null {
  if (meter !== undefined) return meter;
  meter = null;
  if (process.platform !== 'linux') return meter;
  try {
    const proc = new LinuxProc();
    if (proc.selfStat() === undefined) return meter;
    const wordBytes = ['ia32', 'arm', 'mips', 'mipsel', 'ppc'].includes(process.arch) ? 4 : 8;
    let units: { hz?: number; pageBytes?: number } = {};
    try {
      units = parseAuxv(readFileSync('/proc/self/auxv'), wordBytes);
    } catch {
      // Linux's usual values, below.
    }
    meter = new UsageMeter(proc, { tickMs: 1000 / (units.hz || 100), pageKb: (units.pageBytes || 4096) / 1024 }, realClock);
  } catch {
    meter = null;
  }
  return meter;
}
