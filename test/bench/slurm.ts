// Benchmark of the SLURM executor on this machine's single-node cluster (see
// scripts/slurm-up.sh). Not part of `npm test`.
//
//   npm run bench:slurm -- [--jobs 50] [--queue-seconds 60]
//
// 1. Wall time of a wide build of N trivial jobs, local executor against the
//    SLURM executor, same tree, -j N.
// 2. Status-query processes (squeue, scontrol, sacct) started per minute
//    while N jobs are queued: N jobs that sleep, on a node with fewer CPUs,
//    watched for --queue-seconds, then interrupted. Counted with wrappers
//    put first on PATH that log each call and run the real command.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flagValue } from './flags.js';

const CLI = new URL('../../bin/main.js', import.meta.url).pathname;
const REPO = new URL('../../../', import.meta.url).pathname;

function project(n: number, run: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'rules-slurm-bench-'));
  mkdirSync(join(dir, 'src'));
  for (let i = 0; i < n; i++) writeFileSync(join(dir, 'src', `f${String(i).padStart(3, '0')}.txt`), `${i}\n`);
  writeFileSync(
    join(dir, 'Rulefile'),
    `rules:\n  all:\n    inputs:\n      - expand: "out/{x}.txt"\n        x: { glob: "src/{x}.txt" }\n  job:\n    inputs: "src/{x}.txt"\n    outputs: "out/{x}.txt"\n    resources: { mem_mb: 100 }\n    run: ${run}\n`,
  );
  return dir;
}

function timed(dir: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, 'build', '-q', ...args], { cwd: dir, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`rules ${args.join(' ')} failed:\n${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

async function queued(n: number, seconds: number): Promise<void> {
  const dir = project(n, 'sleep 600; cp {input} {output}');
  const bin = join(dir, 'bin');
  const logFile = join(dir, 'queries.log');
  mkdirSync(bin);
  for (const cmd of ['squeue', 'scontrol', 'sacct']) {
    const real = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || `/usr/bin/${cmd}`;
    writeFileSync(join(bin, cmd), `#!/bin/sh\necho ${cmd} >> '${logFile}'\nexec '${real}' "$@"\n`);
    chmodSync(join(bin, cmd), 0o755);
  }
  const child = spawn(process.execPath, [CLI, 'build', '-q', '--executor', 'slurm', `-j${n}`], {
    cwd: dir,
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    stdio: 'ignore',
  });
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const calls = readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
  child.kill('SIGINT');
  await new Promise((r) => child.once('exit', r));
  const by = (c: string) => calls.filter((x) => x === c).length;
  console.log(
    `${n} jobs queued for ${seconds} s: ${calls.length} status queries (${by('squeue')} squeue, ${by('scontrol')} scontrol, ${by('sacct')} sacct) = ${((calls.length * 60) / seconds).toFixed(1)} per minute`,
  );
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  const n = Number(flagValue('--jobs', '50'));
  const seconds = Number(flagValue('--queue-seconds', '60'));
  if (spawnSync('sinfo', ['-h']).status !== 0) {
    const up = spawnSync('bash', [join(REPO, 'scripts/slurm-up.sh')], { stdio: 'inherit' });
    if (up.status !== 0) throw new Error('no SLURM cluster, and scripts/slurm-up.sh could not start one');
  }
  process.env.SLURM_CONF ??= join(process.env.RULES_SLURM_DIR ?? join(process.env.TMPDIR ?? '/tmp', 'rules-slurm'), 'slurm.conf');
  const dir = project(n, 'cp {input} {output}');
  const local = timed(dir, [`-j${n}`]);
  rmSync(join(dir, 'out'), { recursive: true });
  rmSync(join(dir, '.rules'), { recursive: true });
  const slurm = timed(dir, ['--executor', 'slurm', `-j${n}`]);
  console.log(`wide build of ${n} trivial jobs, -j${n}: local ${local.toFixed(2)} s, slurm ${slurm.toFixed(2)} s`);
  rmSync(dir, { recursive: true, force: true });
  await queued(n, seconds);
}

await main();
