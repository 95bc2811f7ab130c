// Benchmark of loading the build log: `--records` D records (2 inputs, 1
// output each) written by BuildLog, then opened `--runs` times, each in a
// fresh Node process as a build meets it. Not part of `npm test`.
//
//   npm run bench:log -- [--records 100000] [--runs 3]

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildLog, MemoryLogStorage } from '../../src/state/log.js';
import { logPath } from '../../src/state/paths.js';
import type { FileInfo, JobRecord } from '../../src/state/log.js';
import { flagValue } from './flags.js';

const records = Number(flagValue('--records', '100000'));
const runs = Number(flagValue('--runs', '3'));

function fi(n: number): FileInfo {
  return { size: 2_880_000 + n, mtimeMs: 1_716_000_000_000 + n * 7.123456, ino: 9_000_000 + n, hash: (n * 2654435761).toString(16).padStart(32, '0').slice(-32) };
}

function rec(i: number): JobRecord {
  return {
    key: `calibrate[frame=f${i}]`,
    signature: { command: i * 31 + 7, inputs: i * 3 + 1, outputs: i * 5 + 2, params: [['sigma', 3]], env: [] },
    inputs: new Map([
      [`raw/sci_f${i}.fits`, fi(3 * i)],
      [`calib/bias_${i % 100}.fits`, fi(3 * i + 1)],
    ]),
    outputs: new Map([[`calibrated/f${i}.fits`, fi(3 * i + 2)]]),
  };
}

const root = mkdtempSync(join(tmpdir(), 'rules-bench-log-'));
try {
  const mem = new MemoryLogStorage();
  const writer = BuildLog.load(mem);
  for (let i = 0; i < records; i++) writer.done(rec(i));
  mkdirSync(join(root, '.rules'), { recursive: true });
  writeFileSync(logPath(root), mem.text);
  const mod = new URL('../../src/state/log.js', import.meta.url).href;
  const script = `
    const { BuildLog } = await import(${JSON.stringify(mod)});
    const t0 = performance.now();
    const log = BuildLog.open(${JSON.stringify(root)});
    console.log(JSON.stringify({ ms: performance.now() - t0, records: log.records.size }));`;
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(out.stderr);
    const { ms, records: n } = JSON.parse(out.stdout) as { ms: number; records: number };
    if (n !== records) throw new Error(`loaded ${n} records, wrote ${records}`);
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  const mb = statSync(logPath(root)).size / 1e6;
  console.log(`build log: ${records} D records, ${mb.toFixed(1)} MB; load (fresh process) median ${times[times.length >> 1]!.toFixed(0)} ms, runs ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
