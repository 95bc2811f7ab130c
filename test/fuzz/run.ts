// `npm run fuzz -- --cases N --seed S [--cli SHARE] [--first N] [--trace]`: many mutated Rulefiles
// through the loader, the graph builder and the CLI; each failing case is
// saved (its mutations and files) for replay, and a summary is printed.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeCase, fuzz } from '../support/fuzz.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}

const cases = option('cases', 3000);
const seed = option('seed', Date.now() % 100_000);
const cliShare = option('cli', 0.02);
const first = option('first', 0);
// --trace: each case's number on stderr before it runs, so a case that hangs can be found.
const trace = process.argv.includes('--trace');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-fuzz-'));
const saved = path.resolve('fuzz-failures');
let failures = 0;
const s = fuzz({
  seed,
  first,
  count: cases,
  cliShare,
  dir: path.join(work, 'p'),
  ...(trace ? { onCase: (i: number) => process.stderr.write(`case ${i}\n`) } : {}),
  onFailure: (c, o) => {
    failures++;
    fs.mkdirSync(saved, { recursive: true });
    const file = path.join(saved, `seed-${seed}-case-${c.index}.txt`);
    fs.writeFileSync(file, describeCase(c, o));
    process.stderr.write(`FAIL seed ${seed} case ${c.index}: ${o.kind}: ${o.detail.split('\n')[0]} (saved in ${file})\n`);
  },
});
fs.rmSync(work, { recursive: true, force: true });
process.stdout.write(
  `fuzz: seed ${seed}, ${s.cases} cases (${s.cliCases} through the CLI) in ${(s.ms / 1000).toFixed(1)} s; ` +
    `${s.userErrors} user errors, ${failures} failures; slowest case ${Math.round(s.slowestMs)} ms; ` +
    `peak CLI memory ${Math.round(s.maxRss / 1048576)} MB\n` +
    (failures > 0 ? `replay a case: npm run fuzz -- --seed ${seed} --first N --cases 1\n` : ''),
);
process.exitCode = failures > 0 ? 1 : 0;
