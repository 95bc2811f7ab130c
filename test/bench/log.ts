// Benchmark of loading the build log: `--records` D records (2 inputs, 1
// output each) written by BuildLog, then opened `--runs` times, each in a
// fresh Node process as a build meets it. Each run times the load alone, then
// the load and the records of 10 jobs spread over the log (what an
// incremental build that decides a handful of jobs needs). Not part of
// `npm test`.
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

/** The median and each run, in ms. */
function summary(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  return `median ${sorted[sorted.length >> 1]!.toFixed(0)} ms, runs ${times.map((t) => t.toFixed(0)).join(', ')} ms`;
}

/** The jobs whose records are asked for after the load: 10 spread over the log. */
const askedKeys = Array.from({ length: 10 }, (_, k) => rec(Math.floor(((k + 0.5) * records) / 10)).key);

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
    const t1 = performance.now();
    let found = 0;
    for (const key of ${JSON.stringify(askedKeys)}) if (log.records.get(key)?.key === key) found++;
    const t2 = performance.now();
    console.log(JSON.stringify({ load: t1 - t0, asked: t2 - t0, found, records: log.records.size }));`;
  const load: number[] = [];
  const asked: number[] = [];
  for (let r = 0; r < runs; r++) {
    const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(out.stderr);
    const res = JSON.parse(out.stdout) as { load: number; asked: number; found: number; records: number };
    if (res.records !== records) throw new Error(`loaded ${res.records} records, wrote ${records}`);
    if (res.found !== askedKeys.length) throw new Error(`found ${res.found} of the ${askedKeys.length} records asked for`);
    load.push(res.load);
    asked.push(res.asked);
  }
  const mb = statSync(logPath(root)).size / 1e6;
  console.log(`build log: ${records} D records, ${mb.toFixed(1)} MB (fresh process each run)`);
  console.log(`  load:                         ${summary(load)}`);
  console.log(`  load + records.get of ${askedKeys.length} keys: ${summary(asked)}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
