// Benchmark: `rules report` on the pipeline graph of run.ts (301,001 jobs at
// the default size), with a last build of every job written as the builder
// writes it (.rules/history/), so that no 301,001-job build has to run
// first. Times the whole command: loading the Rulefile, building the job
// graph for the graph of rules, reading the history, writing the page.
// Not part of `npm test`.
//
//   node dist/test/bench/report.js [--size N] [--runs R] [--slots S] [--keep DIR]

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addToRuleHistory, HISTORY_VERSION, type BuildTimeline, type TimelineFailure, type TimelineJob } from '../../src/state/history.js';
import { generate } from './gen.js';
import { flagValue } from './flags.js';

const CLI = new URL('../../bin/main.js', import.meta.url).pathname;
const size = Number(flagValue('--size', '100000'));
const runs = Number(flagValue('--runs', '2'));
const slots = Number(flagValue('--slots', '8'));
const keep = flagValue('--keep', '');

/** A fixed sequence of numbers in [0, 1): the same history every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The pipeline's jobs in an order they can run in, each attempt given a lane and times as a list scheduler would. */
function history(names: string[]): BuildTimeline {
  const rnd = random(42);
  const clock = new Float64Array(slots);
  const jobs: TimelineJob[] = [];
  const failures: TimelineFailure[] = [];
  const add = (rule: string, label: string, output: string, meanMs: number, rssKb: number) => {
    let lane = 0;
    for (let l = 1; l < slots; l++) if (clock[l]! < clock[lane]!) lane = l;
    const wall = meanMs * (0.5 + rnd());
    const startMs = clock[lane]!;
    const fails = rnd() < 1e-4;
    const retried = !fails && rnd() < 3e-4;
    const base = { label, rule, lane, startMs, endMs: startMs + wall, reason: rnd() < 0.9 ? `output missing: ${output}` : `input changed: src/${label}.txt`, cpuMs: wall * (0.6 + 0.4 * rnd()), maxRssKb: Math.round(rssKb * (0.7 + 0.3 * rnd())) };
    clock[lane] = startMs + wall;
    if (retried) {
      jobs.push({ ...base, status: 'retried', attempt: 1 });
      const again = clock[lane]!;
      jobs.push({ ...base, startMs: again, endMs: again + wall, status: 'ok', attempt: 2 });
      clock[lane] = again + wall;
    } else jobs.push({ ...base, status: fails ? 'failed' : 'ok', attempt: 1 });
    if (fails) failures.push({ label, rule, error: 'exit status 1', command: `cp src/${label}.txt ${output}`, tail: Array.from({ length: 20 }, (_, i) => `line ${i + 1} of ${label}'s output`).join('\n'), attempt: 1, willRetry: false });
  };
  for (const stage of ['stage1', 'stage2', 'stage3']) for (const n of names) add(stage, n, `${stage.replace('stage', 's')}/${n}.txt`, 20, 3000);
  for (const g of [...new Set(names.map((n) => n.slice(0, 6)))]) add('summary', g, `sum/${g}.txt`, 60, 5000);
  add('final', 'final.txt', 'final.txt', 200, 9000);
  const end = Math.max(...clock);
  const failed = jobs.filter((j) => j.status === 'failed').length;
  return { version: HISTORY_VERSION, startedAt: Date.UTC(2026, 0, 1), durationMs: end, slots, total: jobs.length, upToDate: 0, ok: failed === 0, interrupted: false, ran: jobs.length - failed, skipped: 0, failed, notRun: 0, jobs, failures };
}

const dir = keep !== '' ? keep : mkdtempSync(join(tmpdir(), 'rules-bench-report-'));
try {
  mkdirSync(dir, { recursive: true });
  const { jobs } = generate(dir, size, 'pipeline');
  const names = Array.from({ length: size }, (_, k) => `g${String(Math.floor(k / 100)).padStart(5, '0')}_${String(k % 100).padStart(2, '0')}`);
  const build = history(names);
  mkdirSync(join(dir, '.rules', 'history'), { recursive: true });
  writeFileSync(join(dir, '.rules', 'history', 'last-build.json'), JSON.stringify(build));
  writeFileSync(join(dir, '.rules', 'history', 'rules.json'), JSON.stringify(addToRuleHistory(undefined, build)));
  console.log(`pipeline of ${jobs.toLocaleString('en-US')} jobs; last build: ${build.jobs.length.toLocaleString('en-US')} attempts, ${build.failures.length} failures, ${slots} slots; last-build.json ${(statSync(join(dir, '.rules', 'history', 'last-build.json')).size / 1e6).toFixed(1)} MB`);
  for (let r = 1; r <= runs; r++) {
    const t0 = process.hrtime.bigint();
    // Under GNU time where there is one: CPU time says what the wall time is worth on a busy machine.
    const timed = spawnSync('sh', ['-c', 'command -v /usr/bin/time']).status === 0;
    const out = timed
      ? spawnSync('/usr/bin/time', ['-f', 'cpu %U %S %M', process.execPath, CLI, 'report'], { cwd: dir, encoding: 'utf8' })
      : spawnSync(process.execPath, [CLI, 'report'], { cwd: dir, encoding: 'utf8' });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (out.status !== 0) throw new Error(`rules report failed: ${out.stderr}`);
    const bytes = statSync(join(dir, 'rules-report.html')).size;
    const cpu = /cpu ([\d.]+) ([\d.]+) (\d+)/.exec(out.stderr);
    const usage = cpu ? `, CPU ${(Number(cpu[1]) + Number(cpu[2])).toFixed(2)} s, peak RSS ${Math.round(Number(cpu[3]) / 1024)} MB` : '';
    console.log(`run ${r}: rules report ${seconds.toFixed(2)} s wall${usage}, page ${(bytes / 1024).toFixed(0)} KB`);
  }
} finally {
  if (keep === '') rmSync(dir, { recursive: true, force: true });
}
