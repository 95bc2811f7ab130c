// Benchmark: rules against GNU Make and Ninja on the same generated graph.
// Not part of `npm test`. Usage:
//   npm run bench -- [--size N] [--shape pipeline|wide] [--runs R]
// Measures, on a fresh tree (sources only), the dry run of each tool: the
// time to load the build description, build the graph and decide that every
// job must run. Reports medians and the ratios rules/make and rules/ninja.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, type Shape } from './gen.js';

const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Installs GNU Make and Ninja from the distribution's packages when missing. */
function ensureTools(): void {
  const missing = [has('make') ? '' : 'make', has('ninja') ? '' : 'ninja-build'].filter(Boolean);
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(' ')} ...`);
  execFileSync('sh', ['-c', `apt-get update -qq && apt-get install -y -qq ${missing.join(' ')}`], { stdio: 'inherit' });
}

interface Measure {
  seconds: number;
  rssKb: number;
  lines: number;
}

function timed(cwd: string, cmd: string, args: string[]): Measure {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${r.stderr.slice(-2000)}`);
  const last = r.stderr.trim().split('\n').pop()!.split(' ');
  return { seconds: Number(last[0]), rssKb: Number(last[1]), lines: r.stdout.split('\n').filter(Boolean).length };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function main(): void {
  const argv = process.argv.slice(2);
  const get = (flag: string, def: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1]! : def;
  };
  const size = Number(get('--size', '10000'));
  const shape = get('--shape', 'pipeline') as Shape;
  const runs = Number(get('--runs', '3'));
  if (!has('/usr/bin/time')) throw new Error('needs /usr/bin/time (Debian package "time")');
  ensureTools();

  const dir = mkdtempSync(join(tmpdir(), 'rules-bench-'));
  try {
    const { jobs } = generate(dir, size, shape);
    console.log(`graph: ${shape}, ${size} sources, ${jobs} jobs (${dir})`);
    const tools: Record<string, [string, string[]]> = {
      rules: [process.execPath, [CLI, 'build', '-n']],
      make: ['make', ['-n']],
      ninja: ['ninja', ['-n']],
    };
    const results: Record<string, Measure[]> = { rules: [], make: [], ninja: [] };
    // Interleave the tools so that machine noise hits them alike.
    for (let r = 0; r < runs; r++) {
      for (const [name, [cmd, args]] of Object.entries(tools)) results[name]!.push(timed(dir, cmd, args));
    }
    const row = (name: string) => {
      const m = results[name]!;
      return { name, seconds: median(m.map((x) => x.seconds)), rssMb: median(m.map((x) => x.rssKb)) / 1024, lines: m[0]!.lines };
    };
    const rows = ['rules', 'make', 'ninja'].map(row);
    console.log('\ndry run on a fresh tree (median of ' + runs + ')');
    console.log('tool    seconds   peak RSS MB   lines printed');
    for (const r of rows) console.log(`${r.name.padEnd(7)} ${r.seconds.toFixed(2).padStart(7)}   ${r.rssMb.toFixed(0).padStart(11)}   ${r.lines}`);
    const [rules, make, ninja] = rows as [ReturnType<typeof row>, ReturnType<typeof row>, ReturnType<typeof row>];
    console.log(`\nratios: rules/make ${(rules.seconds / make.seconds).toFixed(2)}, rules/ninja ${(rules.seconds / ninja.seconds).toFixed(2)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
