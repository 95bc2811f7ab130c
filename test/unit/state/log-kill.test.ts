// A kill at any instant leaves a log the next build reads: the log is cut at
// every byte offset (as if the process died mid-write) and loaded.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { BuildLog, MemoryLogStorage } from '../../../src/state/log.js';
import type { JobRecord } from '../../../src/state/log.js';
import { FileBackend, MemoryBackend, record, type Backend } from './helpers.js';

type Op = { t: 'S'; k: string; o: string[]; l?: string } | { t: 'D'; r: JobRecord } | { t: 'X'; k: string };

interface Model {
  records: Map<string, JobRecord>;
  incomplete: Map<string, { outputs: string[]; log?: string }>;
}

/** What a log made of exactly these operations means (an independent model of the format). */
function model(ops: Op[]): Model {
  const m: Model = { records: new Map(), incomplete: new Map() };
  for (const op of ops) {
    if (op.t === 'S') m.incomplete.set(op.k, op.l === undefined ? { outputs: op.o } : { outputs: op.o, log: op.l });
    else if (op.t === 'D') {
      m.records.set(op.r.key, op.r);
      m.incomplete.delete(op.r.key);
    } else {
      m.records.delete(op.k);
      m.incomplete.delete(op.k);
    }
  }
  return m;
}

/** Writes the operations in sessions (closing between them) and returns the text and where each operation's line ends. */
function write(sessions: Op[][]): { text: string; ends: number[]; ops: Op[] } {
  const mem = new MemoryLogStorage();
  const ends: number[] = [];
  const ops: Op[] = [];
  for (const session of sessions) {
    const log = BuildLog.load(mem);
    assert.deepEqual(log.warnings, []);
    for (const op of session) {
      if (op.t === 'S') log.started(op.k, op.o, op.l);
      else if (op.t === 'D') log.done(op.r);
      else log.forget(op.k);
      ends.push(mem.text.length);
      ops.push(op);
    }
    log.close();
    assert.equal(mem.text.length, ends[ends.length - 1], 'no compaction in this small log');
  }
  return { text: mem.text, ends, ops };
}

const S = (k: string, l?: string): Op => (l === undefined ? { t: 'S', k, o: [`out/${k}_0.fits`] } : { t: 'S', k, o: [`out/${k}_0.fits`], l });
const D = (k: string, v: number, l?: string): Op => ({ t: 'D', r: record(k, v, l === undefined ? {} : { log: l }) });
const X = (k: string): Op => ({ t: 'X', k });

/** The history ends with a rerun of `j`: its S, then its new D (version 1), the last record. */
const history: Op[][] = [
  [S('a'), D('a', 0), S('b', 'logs/b.log'), D('b', 0, 'logs/b.log'), S('j'), D('j', 0)],
  [S('c'), D('c', 0), X('b'), S('ü ☃ "q"'), D('ü ☃ "q"', 0)],
  [S('a'), D('a', 1), S('j'), D('j', 1)],
];

/** Loads the log cut at `cut` and checks every safety property, then that the next build recovers. */
function checkCut(b: Backend, full: { text: string; ends: number[]; ops: Op[] }, cut: number): void {
  const prefix = full.text.slice(0, cut);
  b.setText(prefix);
  const where = `cut at byte ${cut} of ${full.text.length}`;
  let log: BuildLog;
  try {
    log = BuildLog.load(b.storage());
  } catch (e) {
    assert.fail(`${where}: load threw ${(e as Error).stack}`);
  }
  const written = full.ops.filter((_, i) => full.ends[i]! <= cut);
  const m = model(written);

  // Never a record that was not fully written: every record read is the model's.
  for (const [k, r] of log.records) assert.deepEqual(r, m.records.get(k), `${where}: record ${k}`);
  for (const [k, v] of log.incomplete) assert.deepEqual(v, m.incomplete.get(k), `${where}: incomplete ${k}`);

  // A cut on a line boundary is a clean log: all of it is read, no warning.
  if (cut === 0 || full.ends.includes(cut)) {
    assert.deepEqual(log.warnings, [], where);
    assert.deepEqual(new Map(log.records), m.records, where);
    assert.deepEqual(log.incomplete, m.incomplete, where);
  }

  // The rerun of j: its S was written, its D cut → never complete with that D.
  const sEnd = full.ends[full.ends.length - 2]!;
  const dEnd = full.ends[full.ends.length - 1]!;
  if (cut >= sEnd && cut < dEnd) {
    assert.notDeepEqual(log.records.get('j'), record('j', 1), `${where}: the cut D of j is not trusted`);
    if (log.warnings.length === 0) assert.ok(log.incomplete.has('j'), `${where}: j is incomplete`);
  }
  if (cut === dEnd) assert.deepEqual(log.records.get('j'), record('j', 1));

  // The next build works: it appends, closes, and the build after it reads everything cleanly.
  log.started('next', ['out/next.fits']);
  log.done(record('next', 5));
  log.close();
  const after = BuildLog.load(b.storage());
  assert.deepEqual(after.warnings, [], `${where}: the log is clean after the next build`);
  assert.deepEqual(after.records.get('next'), record('next', 5), `${where}: the next build's record`);
  for (const [k, r] of after.records) if (k !== 'next') assert.deepEqual(r, m.records.get(k), `${where}: after, record ${k}`);
  for (const [k, v] of after.incomplete) assert.deepEqual(v, m.incomplete.get(k), `${where}: after, incomplete ${k}`);
}

describe('BuildLog: a kill at any instant is safe', () => {
  const full = write(history);

  test('MemoryLogStorage: cut at every byte offset of the whole log', () => {
    const b = new MemoryBackend();
    for (let cut = 0; cut <= full.text.length; cut++) checkCut(b, full, cut);
  });

  test('FileLogStorage: cut at every byte offset of the last two records (S and D of a rerun)', () => {
    const b = new FileBackend();
    try {
      const from = full.ends[full.ends.length - 3]!;
      for (let cut = from; cut <= full.text.length; cut++) checkCut(b, full, cut);
    } finally {
      b.cleanup();
    }
  });

  test('FileLogStorage: cut at random offsets of a longer log', () => {
    const sessions: Op[][] = [];
    for (let s = 0; s < 10; s++) {
      const ops: Op[] = [];
      for (let k = 0; k < 10; k++) ops.push(S(`k${k}`), D(`k${k}`, s));
      if (s % 3 === 0) ops.push(X(`k${s}`));
      sessions.push(ops);
    }
    sessions.push([S('j'), D('j', 1)]);
    const long = write(sessions);
    const b = new FileBackend();
    let seed = 12345;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    try {
      for (let i = 0; i < 300; i++) checkCut(b, long, Math.floor(rand() * (long.text.length + 1)));
      for (const cut of long.ends) checkCut(b, long, cut);
    } finally {
      b.cleanup();
    }
  });

  test('FileLogStorage: a cut inside a multi-byte UTF-8 character is handled like any other cut', () => {
    const b = new FileBackend();
    try {
      const bytes = (i: number) => Buffer.byteLength(full.text.slice(0, full.ends[i]!));
      const enc = Buffer.from(full.text, 'utf8');
      // The S and D lines of the job with a non-ASCII key (operations 9 and 10), cut at every byte.
      assert.ok(full.ops[10]!.t === 'D' && full.ops[10]!.r.key.startsWith('ü'));
      for (let cut = bytes(8); cut <= bytes(10); cut++) {
        b.setText('');
        fs.writeFileSync(b.path, enc.subarray(0, cut));
        const log = BuildLog.load(b.storage());
        const m = model(full.ops.filter((_, i) => bytes(i) <= cut));
        for (const [k, r] of log.records) assert.deepEqual(r, m.records.get(k), `byte cut ${cut}: record ${k}`);
        for (const [k, v] of log.incomplete) assert.deepEqual(v, m.incomplete.get(k), `byte cut ${cut}: incomplete ${k}`);
        if (full.ends.some((_, i) => bytes(i) === cut)) assert.deepEqual(log.warnings, []);
      }
    } finally {
      b.cleanup();
    }
  });
});
