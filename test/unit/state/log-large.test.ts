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

/** Opens the log in a fresh Node process, as a build meets it: a cold start, an empty heap. */
function openInFreshProcess(root: string): { ms: number; records: number; warnings: string[] } {
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

// How fast it loads is measured by `npm run bench:log` (test/bench/log.ts), not here: a timed
// assertion fails on a loaded machine without anything being wrong.
test(`${N.toLocaleString('en')} D records (2 inputs, 1 output each) load back whole, in this process and a fresh one`, () => {
  const b = new FileBackend();
  try {
    {
      const mem = new MemoryLogStorage();
      const writer = BuildLog.load(mem);
      for (let i = 0; i < N; i++) writer.done(rec(i));
      b.setText(mem.text);
    }
    const log = BuildLog.open(b.root);
    assert.deepEqual(log.warnings, []);
    assert.equal(log.records.size, N);
    assert.deepEqual(log.records.get(`calibrate[frame=f${N - 1}]`), rec(N - 1));
    assert.deepEqual(log.records.get('calibrate[frame=f12345]'), rec(12345));
    // The hash cache learns a record's files when the record is first asked for.
    assert.equal(log.knownFile('raw/sci_f777.fits'), undefined);
    assert.equal(log.records.get('calibrate[frame=f777]')!.key, 'calibrate[frame=f777]');
    assert.deepEqual(log.knownFile('raw/sci_f777.fits'), fi(3 * 777));

    const fresh = openInFreshProcess(b.root);
    assert.equal(fresh.records, N);
    assert.deepEqual(fresh.warnings, []);
  } finally {
    b.cleanup();
  }
});
