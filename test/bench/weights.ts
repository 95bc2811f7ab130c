// Benchmark of the weighted critical path (SPEC §9): a graph of jobs of very
// different lengths, where ordering ready jobs by unweighted chain length is
// measurably slower at -j2. Not part of `npm test`.
//
//   npm run bench:weights -- [--long 3] [--long-s 3] [--chains 4] [--steps 15] [--step-s 0.1] [--runs 2]
//
// The graph: `--long` long jobs (`sleep LONG_S`), each at the head of a short
// chain (one quick step after it), and `--chains` chains of `--steps` quick
// steps (`sleep STEP_S`). Unweighted, the long chains of quick steps go first
// and the long jobs are left for the end, where they run with a slot idle;
// weighted by the last run's times, the long jobs start first and the quick
// steps fill the other slot.
//
// A first build records every job's time. Then each run rebuilds everything
// (`-B -j2`) twice: with that history (weighted), and in the same tree with
// `.rules/` removed (no history: every job weighs 1, the unweighted order).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flagValue } from './flags.js';

const CLI = new URL('../../bin/main.js', import.meta.url).pathname;

function rulefile(long: number, longS: string, chains: number, steps: number, stepS: string): string {
  const ids = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`;
  let text = `rules:
  all:
    inputs:
      - expand: "after/{i}.txt"
        i: ${ids(long)}
      - expand: "chain/{c}/${steps - 1}.txt"
        c: ${ids(chains)}
  long:
    inputs: src.txt
    outputs: "long/{i}.txt"
    run: sleep ${longS} && echo {i} > {output}
  after:
    inputs: "long/{i}.txt"
    outputs: "after/{i}.txt"
    run: cp {input} {output}
`;
  for (let k = 0; k < steps; k++) {
    text += `  step${k}:
    inputs: ${k === 0 ? 'src.txt' : `"chain/{c}/${k - 1}.txt"`}
    outputs: "chain/{c}/${k}.txt"
    run: sleep ${stepS} && echo {c} > {output}
`;
  }
  return text;
}

function build(dir: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'build', '-j2', ...args], { cwd: dir, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`rules build ${args.join(' ')}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  return ms;
}

function main(): void {
  const long = Number(flagValue('--long', '3'));
  const longS = flagValue('--long-s', '3');
  const chains = Number(flagValue('--chains', '4'));
  const steps = Number(flagValue('--steps', '15'));
  const stepS = flagValue('--step-s', '0.1');
  const runs = Number(flagValue('--runs', '2'));
  const dir = mkdtempSync(join(tmpdir(), 'rules-bench-weights-'));
  const weighted: number[] = [];
  const unweighted: number[] = [];
  try {
    writeFileSync(join(dir, 'Rulefile'), rulefile(long, longS, chains, steps, stepS));
    writeFileSync(join(dir, 'src.txt'), 'x\n');
    // Records each job's time: the history the weighted builds order by.
    build(dir, []);
    for (let r = 0; r < runs; r++) {
      weighted.push(build(dir, ['-B']));
      // No .rules/: no history, every job weighs 1. The history is made again for the next run.
      rmSync(join(dir, '.rules'), { recursive: true, force: true });
      unweighted.push(build(dir, ['-B']));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const s = (xs: number[]) => xs.map((x) => `${(x / 1000).toFixed(2)} s`).join(', ');
  console.log(`${long} jobs of ${longS} s, each before one quick step; ${chains} chains of ${steps} steps of ${stepS} s; -j2; node ${process.version}`);
  console.log(`unweighted (no history): ${s(unweighted)}`);
  console.log(`weighted (last times):   ${s(weighted)}`);
}

main();
