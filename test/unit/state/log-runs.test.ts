// The build log keeps each job's last runs (field `h` of a D record, SPEC §9):
// through a reload (decoded at once or lazily), a recompaction, and with
// figures that were not measured left out, not made up.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BuildLog, MemoryLogStorage, RUNS_KEPT, type RunStat } from '../../../src/state/log.js';
import { crc32 } from 'node:zlib';
import { record } from './helpers.js';

function run(wallMs: number, extra: Partial<RunStat> = {}): RunStat {
  return { wallMs, at: 1_790_000_000_000 + wallMs * 1000, ...extra };
}

describe('build log: a job\'s last runs (h)', () => {
  test('written and read back, newest first; unmeasured CPU and memory stay absent', () => {
    const storage = new MemoryLogStorage();
    const log = BuildLog.load(storage);
    const r = record('a', 1);
    r.runs = [run(1500, { cpuMs: 1200, maxRssKb: 204800 }), run(900)];
    log.done(r);
    log.close();
    assert.match(storage.text, /"h":\[\[1500,1200,204800,\d+\],\[900,-1,-1,\d+\]\]/);
    const back = BuildLog.load(storage).records.get('a');
    assert.deepEqual(back?.runs, r.runs);
    assert.equal('cpuMs' in back!.runs![1]!, false);
  });

  test('kept to the second, at most RUNS_KEPT of them', () => {
    const storage = new MemoryLogStorage();
    const log = BuildLog.load(storage);
    const r = record('a', 1);
    r.runs = Array.from({ length: RUNS_KEPT + 3 }, (_, i) => ({ wallMs: 10 + i, at: 1_790_000_000_123 }));
    log.done(r);
    log.close();
    const runs = BuildLog.load(storage).records.get('a')!.runs!;
    assert.equal(runs.length, RUNS_KEPT);
    assert.deepEqual(runs.map((x) => x.wallMs), [10, 11, 12, 13, 14]);
    assert.equal(runs[0]!.at, 1_790_000_000_000);
  });

  test('through a recompaction, and in a record decoded lazily', () => {
    const storage = new MemoryLogStorage();
    let log = BuildLog.load(storage);
    const r = record('a', 1);
    r.runs = [run(42, { cpuMs: 40 })];
    // Enough records written again to make the log recompact when it closes.
    for (let i = 0; i < 1200; i++) log.done(record(`b${i % 3}`, i));
    log.done(r);
    log.close();
    const lines = storage.text.split('\n').length;
    log = BuildLog.load(storage);
    assert.ok(lines < 100, `recompacted: ${lines} lines`);
    assert.deepEqual(log.records.get('a')?.runs, r.runs);
    // The inputs and outputs a lazy record's line names stop where the runs begin.
    assert.deepEqual([...log.records.get('a')!.inputs.keys()], [...r.inputs.keys()]);
  });

  test('rows that are not four numbers are dropped, the record kept', () => {
    const storage = new MemoryLogStorage();
    const log = BuildLog.load(storage);
    const r = record('a', 1);
    r.runs = [run(5)];
    log.done(r);
    log.close();
    // A hand-edited line (its CRC made to match): one good row, two bad.
    const text = storage.text.replace(/"h":\[\[[^\]]*\]\]/, '"h":[[7,-1,-1,1790000000],["x",1,2,3],[1,2]]');
    const fixed = text
      .split('\n')
      .map((l) => (l.includes('"h":') ? reCrc(l) : l))
      .join('\n');
    const edited = new MemoryLogStorage();
    edited.text = fixed;
    const back = BuildLog.load(edited).records.get('a');
    assert.ok(back !== undefined);
    assert.deepEqual(back.runs, [{ wallMs: 7, at: 1_790_000_000_000 }]);
  });
});

function reCrc(line: string): string {
  const json = line.slice(9);
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}`;
}
