// Benchmark of a graph that grows during the build (SPEC §7): a step splits a
// catalog of N lines into N files of a directory output (how many, only its
// run tells), one job per file measures it, and a merge reads them all
// through a glob that waits for the split. What is measured is how long the
// build takes to match the glob and plan the N jobs it adds (the
// `graph-grew` event's `durationMs`), not how long they take to run. Not part
// of `npm test`.
//
//   npm run bench:grow -- [--jobs 10000] [--runs 3]
//
// Two cases, each `--runs` times: the first build (no job has a record: each
// new job's output is missing), and a build after one line was added to the
// catalog (every job has a record: the split rewrote the chunks, so each is
// decided against it). The dry run of the grown tree when the split is up to
// date (the glob matched while planning) is timed too.

import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flagValue } from './flags.js';

const CLI = new URL('../../bin/main.js', import.meta.url).pathname;

const RULEFILE = `rules:
  merge:
    inputs:
      - expand: "measured/{c}.txt"
        c: { glob: "chunks/{c}.txt" }
    outputs: merged.txt
    run: cat measured/*.txt > {output}
  split:
    inputs: catalog.txt
    outputs: "chunks/"
    run: node split.mjs {input} {output}
  measure:
    inputs: "chunks/{c}.txt"
    outputs: "measured/{c}.txt"
    run: cp {input} {output}
`;

const SPLIT = `import { readFileSync, writeFileSync } from 'node:fs';
const [input, dir] = process.argv.slice(2);
for (const line of readFileSync(input, 'utf8').split('\\n')) if (line) writeFileSync(dir + '/c' + line + '.txt', line + '\\n');
`;

function rules(dir: string, args: string[]): { ms: number; events: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`rules ${args.join(' ')}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  return { ms, events: r.stderr };
}

/** The planning time of the build's one growth, from its event. */
function growMs(events: string): { ms: number; added: number } {
  for (const line of events.split('\n')) {
    if (!line.includes('"graph-grew"')) continue;
    const e = JSON.parse(line) as { durationMs: number; added: number };
    return { ms: e.durationMs, added: e.added };
  }
  throw new Error('no graph-grew event');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const jobs = Number(flagValue('--jobs', '10000'));
  const runs = Number(flagValue('--runs', '3'));
  const first: number[] = [];
  const again: number[] = [];
  const dry: number[] = [];
  for (let run = 0; run < runs; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'rules-bench-grow-'));
    try {
      writeFileSync(join(dir, 'Rulefile'), RULEFILE);
      writeFileSync(join(dir, 'split.mjs'), SPLIT);
      writeFileSync(join(dir, 'catalog.txt'), Array.from({ length: jobs }, (_, i) => `${i}\n`).join(''));
      const a = growMs(rules(dir, ['build', '-j2', '--log-format', 'json']).events);
      if (a.added !== jobs) throw new Error(`${a.added} jobs added, not ${jobs}`);
      first.push(a.ms);
      appendFileSync(join(dir, 'catalog.txt'), `${jobs}\n`);
      const b = growMs(rules(dir, ['build', '-j2', '--log-format', 'json']).events);
      again.push(b.ms);
      // The split up to date, an output gone: the full path plans the grown graph (no stamp).
      rmSync(join(dir, 'merged.txt'));
      dry.push(rules(dir, ['build', '-n']).ms);
      if (!readFileSync(join(dir, 'measured', 'c0.txt'), 'utf8').startsWith('0')) throw new Error('wrong output');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const f = (xs: number[]) => `${median(xs).toFixed(0)} ms (${xs.map((x) => x.toFixed(0)).join(', ')})`;
  console.log(`a split into ${jobs} files; ${runs} run(s); node ${process.version}`);
  console.log(`plan the ${jobs} jobs the glob adds, first build:           ${f(first)}`);
  console.log(`plan the ${jobs + 1} jobs the glob adds, after a catalog edit: ${f(again)}`);
  console.log(`dry run of the grown graph (whole command, split up to date): ${f(dry)}`);
}

main();
