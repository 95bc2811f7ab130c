// Measuring what local jobs used, against a fake /proc and a clock driven by
// hand: the parsing, how CPU reaped together is split, and the sampling.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FIRST_SAMPLE_MS, parseAuxv, parseHwmKb, parseStat, SAMPLE_MAX_MS, SAMPLE_MS, splitCpu, UsageMeter, type MeterClock, type ProcReader } from '../../../src/run/usage.js';

/** A /proc/PID/stat line (the fields after the comm, from a real `sleep`), with the figures the meter reads set. */
function statLine(p: { pid: number; comm?: string; pgrp: number; utime?: number; stime?: number; cutime?: number; cstime?: number; rss?: number }): string {
  const f = ['S', '1', String(p.pgrp), String(p.pgrp), '0', '-1', '4194304', '95', '0', '0', '0'];
  f.push(String(p.utime ?? 0), String(p.stime ?? 0), String(p.cutime ?? 0), String(p.cstime ?? 0), '20', '0', '1', '0', '27731584', '2273280', String(p.rss ?? 0));
  f.push('18446744073709551615', '94371018547200', '94371018564177', '0', '0', '0', '0', '0', '0', '0', '0', '0', '17', '1', '0', '0', '0', '0', '0');
  return `${p.pid} (${p.comm ?? 'sleep'}) ${f.join(' ')}\n`;
}

describe('reading /proc', () => {
  test('stat: process group, own and children’s CPU, RSS; a command name with spaces and parentheses is skipped whole', () => {
    const line = statLine({ pid: 42, comm: 'a) (b c) d', pgrp: 40, utime: 5, stime: 2, cutime: 30, cstime: 4, rss: 2560 });
    assert.deepEqual(parseStat(line), { pgrp: 40, ownTicks: 7, childTicks: 34, rssPages: 2560 });
    // A real line (`cat /proc/self/stat`), with every field.
    const real = '3141 (cat) R 3120 3141 3120 34816 3141 4194304 93 0 0 0 0 0 0 0 20 0 1 0 1436719 2285568 216 18446744073709551615 94863427395584 94863427411953 140725785584208 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 94863427427152 94863427428512 94863436918784 140725785590215 140725785590235 140725785590235 140725785595883 0\n';
    assert.deepEqual(parseStat(real), { pgrp: 3141, ownTicks: 0, childTicks: 0, rssPages: 216 });
    assert.equal(parseStat(''), undefined);
    assert.equal(parseStat('1 (x) S 0 1'), undefined);
  });

  test('status: VmHWM in KiB; absent (a kernel thread, a zombie) is undefined', () => {
    assert.equal(parseHwmKb('Name:\tpython3\nVmPeak:\t  120000 kB\nVmHWM:\t  115860 kB\nVmRSS:\t   9000 kB\n'), 115860);
    assert.equal(parseHwmKb('Name:\tkthreadd\nState:\tS (sleeping)\n'), undefined);
  });

  test('auxv: clock ticks and page size, in 64- and 32-bit words, up to AT_NULL', () => {
    const words = (size: 4 | 8, pairs: [number, number][]) => {
      const b = Buffer.alloc(pairs.length * 2 * size);
      pairs.flat().forEach((v, i) => (size === 8 ? b.writeBigUInt64LE(BigInt(v), i * 8) : b.writeUInt32LE(v, i * 4)));
      return b;
    };
    const pairs: [number, number][] = [[33, 777], [16, 0xbfebfbff], [6, 16384], [17, 250], [0, 0], [17, 1]];
    assert.deepEqual(parseAuxv(words(8, pairs), 8), { hz: 250, pageBytes: 16384 });
    assert.deepEqual(parseAuxv(words(4, pairs), 4), { hz: 250, pageBytes: 16384 });
    assert.deepEqual(parseAuxv(Buffer.alloc(0), 8), {});
  });
});

describe('splitting CPU reaped together', () => {
  test('never sampled: evenly', () => {
    assert.deepEqual(splitCpu(30, [undefined, undefined, undefined]), [10, 10, 10]);
  });
  test('all sampled: each its samples, the rest in proportion to them', () => {
    assert.deepEqual(splitCpu(400, [100, 100]), [200, 200]);
    assert.deepEqual(splitCpu(400, [300, 100]), [300, 100]);
    assert.deepEqual(splitCpu(500, [300, 100]), [375, 125]);
  });
  test('sampled, but no sample saw a tick (all early): the whole evenly, never NaN', () => {
    // A job alone, sampled once at 50 ms before it had used a tick, then busy: its CPU is the whole.
    assert.deepEqual(splitCpu(350, [0]), [350]);
    assert.deepEqual(splitCpu(100, [0, 0]), [50, 50]);
  });
  test('some sampled: those keep their samples, the rest goes evenly to the others', () => {
    assert.deepEqual(splitCpu(500, [300, undefined, undefined]), [300, 100, 100]);
  });
  test('samples above the total (it is counted in ticks): scaled down to it', () => {
    assert.deepEqual(splitCpu(100, [150, 50, undefined]), [75, 25, 0]);
    assert.deepEqual(splitCpu(0, [0, undefined]), [0, 0]);
  });
  test('the shares add up to the total', () => {
    for (const [total, seen] of [[1000, [1, 2, undefined]], [7, [3, 3, 3]], [990, [10, 20, 30]]] as [number, (number | undefined)[]][]) {
      const sum = splitCpu(total, seen).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - total) < 1e-9, `${sum} ≠ ${total}`);
    }
  });
});

/** Processes of the machine that are no job's. */
const SYSTEM = [100, 200, 300];

/** A machine's /proc and clock, for one meter: processes come and go, this process's children's CPU grows as they are reaped. */
class FakeMachine implements ProcReader, MeterClock {
  time = 0;
  selfChildTicks = 0;
  readonly procs = new Map<number, { pgrp: number; ticks: number; rss: number; hwmKb?: number }>();
  lastGiven = 1000;
  timers: { at: number; fn: () => void; live: boolean }[] = [];
  soonQueue: (() => void)[] = [];
  statReads: number[] = [];
  /** Time one stat read takes. */
  statCostMs = 0;

  selfStat(): string {
    return statLine({ pid: 1, pgrp: 1, cutime: this.selfChildTicks });
  }
  pids(): number[] {
    return [...SYSTEM, ...this.procs.keys()];
  }
  lastPid(): number {
    return this.lastGiven;
  }
  stat(pid: number): string | undefined {
    this.statReads.push(pid);
    this.time += this.statCostMs;
    if (SYSTEM.includes(pid)) return statLine({ pid, pgrp: pid, utime: 99, rss: 99999 });
    const p = this.procs.get(pid);
    return p && statLine({ pid, pgrp: p.pgrp, utime: p.ticks, rss: p.rss });
  }
  status(pid: number): string | undefined {
    const p = this.procs.get(pid);
    return p && (p.hwmKb === undefined ? 'Name:\tx\n' : `Name:\tx\nVmHWM:\t${p.hwmKb} kB\n`);
  }

  now(): number {
    return this.time;
  }
  later(fn: () => void, ms: number): () => void {
    const t = { at: this.time + ms, fn, live: true };
    this.timers.push(t);
    return () => (t.live = false);
  }
  soon(fn: () => void): void {
    this.soonQueue.push(fn);
  }

  /** Starts a process (the job's leader when pgrp is its own PID). */
  spawn(pgrp?: number, rss = 0): number {
    const pid = ++this.lastGiven;
    this.procs.set(pid, { pgrp: pgrp ?? pid, ticks: 0, rss });
    return pid;
  }
  /** Reaps processes: their CPU (and that of what they waited for) becomes ours. */
  reap(...pids: number[]): void {
    for (const pid of pids) {
      this.selfChildTicks += this.procs.get(pid)?.ticks ?? 0;
      this.procs.delete(pid);
    }
  }
  /** Lets time pass, firing the timers due. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.time = Math.max(this.time, due.at);
      due.fn();
    }
    this.time = until;
  }
  /** The end of the turn in which processes were reaped. */
  endTurn(): void {
    const q = this.soonQueue.splice(0);
    for (const fn of q) fn();
  }
}

const units = { tickMs: 10, pageKb: 4 };

describe('the usage meter', () => {
  test('a job reaped alone: the growth of our children’s CPU is exactly its CPU', async () => {
    const m = new FakeMachine();
    m.selfChildTicks = 500; // before the meter: not a job's
    const meter = new UsageMeter(m, units, m);
    const pid = m.spawn();
    const job = meter.start(pid);
    m.procs.get(pid)!.ticks = 37;
    m.reap(pid);
    const usage = meter.exited(job);
    m.endTurn();
    assert.deepEqual(await usage, { source: 'exact', cpuMs: 370 });
  });

  test('jobs reaped in one turn share the growth, in proportion to their samples; they are marked sampled', async () => {
    const m = new FakeMachine();
    const meter = new UsageMeter(m, units, m);
    const [a, b] = [m.spawn(), m.spawn()];
    const [ja, jb] = [meter.start(a), meter.start(b)];
    m.procs.get(a)!.ticks = 30;
    m.procs.get(b)!.ticks = 10;
    m.advance(FIRST_SAMPLE_MS);
    m.procs.get(a)!.ticks = 60;
    m.procs.get(b)!.ticks = 20;
    m.reap(a, b);
    const ua = meter.exited(ja);
    const ub = meter.exited(jb);
    m.endTurn();
    assert.deepEqual(await ua, { source: 'sampled', cpuMs: 600, maxRssKb: 0 });
    assert.deepEqual(await ub, { source: 'sampled', cpuMs: 200, maxRssKb: 0 });
  });

  test('a job reaped in the next turn is exact again', async () => {
    const m = new FakeMachine();
    const meter = new UsageMeter(m, units, m);
    const [a, b] = [m.spawn(), m.spawn()];
    const [ja, jb] = [meter.start(a), meter.start(b)];
    m.procs.get(a)!.ticks = 4;
    m.procs.get(b)!.ticks = 6;
    m.reap(a);
    const ua = meter.exited(ja);
    m.endTurn();
    m.reap(b);
    const ub = meter.exited(jb);
    m.endTurn();
    assert.deepEqual([await ua, await ub], [{ source: 'exact', cpuMs: 40 }, { source: 'exact', cpuMs: 60 }]);
  });

  test('CPU of a child that is not a job, reaped between jobs, is charged to none', async () => {
    const m = new FakeMachine();
    const meter = new UsageMeter(m, units, m);
    m.selfChildTicks += 1000; // something else reaped before the job starts
    const a = m.spawn();
    const ja = meter.start(a);
    m.procs.get(a)!.ticks = 3;
    m.reap(a);
    const ua = meter.exited(ja);
    m.endTurn();
    assert.deepEqual(await ua, { source: 'exact', cpuMs: 30 });
  });

  test('a helper process reaped with a job: the job keeps only what its samples saw', async () => {
    const m = new FakeMachine();
    const meter = new UsageMeter(m, units, m);
    const a = m.spawn();
    const ja = meter.start(a);
    m.procs.get(a)!.ticks = 5;
    m.advance(FIRST_SAMPLE_MS);
    const helper = m.spawn();
    m.procs.get(helper)!.ticks = 900;
    m.reap(a, helper);
    const ua = meter.exited(ja);
    meter.foreignExited();
    m.endTurn();
    assert.deepEqual(await ua, { source: 'sampled', cpuMs: 50, maxRssKb: 0 });
  });

  test('a job too short to be sampled has no peak memory, and no scan of /proc was made for it', async () => {
    const m = new FakeMachine();
    const meter = new UsageMeter(m, units, m);
    const a = m.spawn(undefined, 1000);
    const ja = meter.start(a);
    m.advance(FIRST_SAMPLE_MS - 25);
    m.reap(a);
    const ua = meter.exited(ja);
    m.endTurn();
    m.advance(1000);
    assert.deepEqual(await ua, { source: 'exact', cpuMs: 0 });
    assert.equal(meter.scans, 0);
    assert.equal(m.timers.filter((t) => t.live).length, 0, 'no timer left once nothing runs');
  });

  test('peak memory: the sum over the processes of the job’s group, the largest sum sampled; other groups are not counted', async () => {
    const m = new FakeMachine();
    const meter = new UsageMeter(m, units, m);
    const a = m.spawn(undefined, 100);
    const b = m.spawn(undefined, 7000); // another job, started at the same time
    const [ja, jb] = [meter.start(a), meter.start(b)];
    const child = m.spawn(a, 1000);
    m.spawn(999, 50_000); // not a job's
    m.advance(FIRST_SAMPLE_MS);
    assert.equal(meter.scans, 1, 'one scan serves both jobs');
    m.procs.get(child)!.rss = 3000;
    m.advance(SAMPLE_MS);
    m.procs.delete(child);
    m.procs.get(a)!.rss = 200;
    m.advance(SAMPLE_MS);
    assert.equal(meter.scans, 3);
    m.reap(a, b);
    const [ua, ub] = [meter.exited(ja), meter.exited(jb)];
    m.endTurn();
    assert.equal((await ua).maxRssKb, (100 + 3000) * 4);
    assert.equal((await ub).maxRssKb, 7000 * 4);
  });

  test("the leader's own peak (VmHWM) counts where it is above the samples", async () => {
    const m = new FakeMachine();
    const meter = new UsageMeter(m, units, m);
    const a = m.spawn(undefined, 100);
    const ja = meter.start(a);
    m.procs.get(a)!.hwmKb = 90_000;
    m.advance(FIRST_SAMPLE_MS);
    m.reap(a);
    const ua = meter.exited(ja);
    m.endTurn();
    assert.equal((await ua).maxRssKb, 90_000);
  });

  test('a scan reads the processes started since the oldest running job, going round past the largest PID; every tenth scan reads all', () => {
    const m = new FakeMachine();
    const meter = new UsageMeter(m, units, m);
    m.spawn(); // 1001: before the job
    const a = m.spawn();
    meter.start(a);
    const child = m.spawn(a);
    m.advance(FIRST_SAMPLE_MS);
    // The first scan reads everything; then only from the job on.
    assert.deepEqual(m.statReads.sort((x, y) => x - y), [...SYSTEM, 1001, a, child]);
    m.statReads = [];
    m.advance(SAMPLE_MS);
    assert.deepEqual(m.statReads.sort((x, y) => x - y), [a, child]);
    // The PIDs go round: a process given PID 11 after the job is read; the older 100…300 and 1001 are not.
    m.lastGiven = 10;
    const wrapped = m.spawn(a);
    m.statReads = [];
    m.advance(SAMPLE_MS);
    assert.deepEqual(m.statReads.sort((x, y) => x - y), [wrapped, a, child]);
    for (let i = 3; i < 10; i++) m.advance(SAMPLE_MS);
    m.statReads = [];
    m.advance(SAMPLE_MS);
    assert.ok(m.statReads.includes(1001), 'the tenth scan reads every process');
  });

  test('slow scans space the samples out (at most a share of the time, at most a second apart)', () => {
    const m = new FakeMachine();
    const meter = new UsageMeter(m, units, m);
    meter.start(m.spawn());
    // The first scan reads the 4 processes there are: 10 ms, so the next comes 500 ms later.
    m.statCostMs = 2.5;
    m.advance(FIRST_SAMPLE_MS);
    assert.equal(meter.scans, 1);
    m.advance(499);
    assert.equal(meter.scans, 1);
    m.advance(2);
    assert.equal(meter.scans, 2);
    // That one read only the job's process: 2.5 ms, the shortest interval next.
    m.advance(SAMPLE_MS);
    assert.equal(meter.scans, 3);
    m.statCostMs = 100;
    m.advance(SAMPLE_MS);
    assert.equal(meter.scans, 4);
    m.advance(SAMPLE_MAX_MS - 2);
    assert.equal(meter.scans, 4, 'a scan of 100 ms puts the next a second later, no more');
    m.advance(2);
    assert.equal(meter.scans, 5);
  });
});
