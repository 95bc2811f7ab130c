import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { BuildLog, MemoryLogStorage } from '../../../src/state/log.js';
import type { FileInfo, JobRecord } from '../../../src/state/log.js';
import { FileBackend } from './helpers.js';

const N = 100_000;

function fi(n: number): FileInfo {
  return { size: 2_880_000 + n, mtimeMs: 1_716_000_000_000 + n * 7.123456, ino: 9_000_000 + n, hash: (n * 2654435761).toString(16).padStart(32, '0').slice(-32) };
}

function rec(i: number): JobRecord {
  return {
    key: `calibrate[frame=f${i}]`,
    signature: {
      command: i * 31 + 7,
      inputs: i * 3 + 1,
      outputs: i * 5 + 2,
      params: [['sigma', 3]],
      env: [],
    },
    inputs: new Map([
      [`raw/sci_f${i}.fits`, fi(3 * i)],
      [`calib/bias_${i % 100}.fits`, fi(3 * i + 1)],
    ]),
    outputs: new Map([[`calibrated/f${i}.fits`, fi(3 * i + 2)]]),
  };
}

/** Times `BuildLog.open` in a fresh Node process, as a build meets it: a cold start, an empty heap. */
function timeOpenInFreshProcess(root: string): { ms: number; records: number; warnings: string[] } {
  const mod = new URL('../../../src/state/log.js', import.meta.url).href;
  const script = `
    const { BuildLog } = await import(${JSON.stringify(mod)});
    const t0 = performance.now();
    const log = BuildLog.open(${JSON.stringify(root)});
    const ms = performance.now() - t0;
    console.log(JSON.stringify({ ms, records: log.records.size, warnings: log.warnings }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { ms: number; records: number; warnings: string[] };
}

test(`loading ${N.toLocaleString('en')} D records (2 inputs, 1 output each) takes well under a second`, () => {
  const b = new FileBackend();
  try {
    let size: number;
    {
      const mem = new MemoryLogStorage();
      const writer = BuildLog.load(mem);
      for (let i = 0; i < N; i++) writer.done(rec(i));
      b.setText(mem.text);
      size = mem.text.length;
    }
    // Correctness, in this process.
    const log = BuildLog.open(b.root);
    assert.deepEqual(log.warnings, []);
    assert.equal(log.records.size, N);
    assert.deepEqual(log.records.get(`calibrate[frame=f${N - 1}]`), rec(N - 1));
    assert.deepEqual(log.records.get('calibrate[frame=f12345]'), rec(12345));
    assert.deepEqual(log.knownFile('raw/sci_f777.fits'), fi(3 * 777));

    // Speed, in a fresh process (best of two runs, to ride out a noisy CI machine).
    const runs = [timeOpenInFreshProcess(b.root), timeOpenInFreshProcess(b.root)];
    for (const r of runs) {
      assert.equal(r.records, N);
      assert.deepEqual(r.warnings, []);
    }
    const ms = Math.min(...runs.map((r) => r.ms));
    console.log(
      `BuildLog.open: ${N} D records, ${(size / 1e6).toFixed(1)} MB, loaded in ${runs.map((r) => r.ms.toFixed(0)).join(' ms, ')} ms (fresh process)`,
    );
    assert.ok(ms < 1500, `load took ${ms.toFixed(0)} ms`);
  } finally {
    b.cleanup();
  }
});
