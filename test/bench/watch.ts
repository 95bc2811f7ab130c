// Benchmark of `rules watch`: how long from saving a source to the rebuilt
// output being written, and how much memory watching a large tree takes. Not
// part of `npm test`.
//
//   npm run bench:watch -- [--edits 20] [--files 100000] [--pipeline N | --pipeline-dir DIR]
//
// Latency: one source, one trivial job (`cp`); the source is rewritten
// `--edits` times, each time once the watcher is idle again, and the time
// until the output holds the new content is measured (polled every 1 ms).
// Memory: `--files` sources in one directory, all inputs of one job; the
// resident memory of the watching process once it is idle (VmRSS, and the
// peak VmHWM), and how long it took to get there.
// At scale (`--pipeline N`, or `--pipeline-dir DIR`): the generated pipeline
// of gen.ts with N sources (3N + N/100 + 1 jobs; N = 100000 is 301,001 jobs),
// generated and built first, or a tree already built from it (the `rules`
// tree a `npm run bench -- --keep DIR` left, DIR/rules); `rules watch` in it,
// one source edited `--edits` times, and the time until its first stage's
// output holds the new content, and until final.txt was written again.

import { spawn, type ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flagValue } from './flags.js';
import { generate } from './gen.js';

const CLI = new URL('../../bin/main.js', import.meta.url).pathname;

interface Watching {
  child: ChildProcess;
  /** Resolves once the n-th `rules: watching` line has been printed. */
  idle(n: number): Promise<void>;
  stop(): Promise<void>;
}

function startWatch(dir: string): Watching {
  const child = spawn(process.execPath, [CLI, 'watch', '-j2'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let idleLines = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    idleLines = out.split('\n').filter((l) => l.startsWith('rules: watching ')).length;
    for (const w of waiters.splice(0)) (idleLines >= w.n ? w.resolve : () => waiters.push(w))();
  });
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  child.on('exit', (code) => {
    if (code !== 130 && code !== null) console.error(`rules watch exited ${code}:\n${err.slice(-2000)}`);
  });
  return {
    child,
    idle: (n) =>
      new Promise((resolve, reject) => {
        if (idleLines >= n) return resolve();
        const timer = setTimeout(() => reject(new Error(`timed out waiting for build ${n}:\n${out.slice(-2000)}\n${err.slice(-2000)}`)), 600_000);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      }),
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGINT');
      }),
  };
}

async function until(cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 1));
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

async function latency(edits: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rules-watch-bench-'));
  try {
    writeFileSync(join(dir, 'Rulefile'), 'rules:\n  copy:\n    inputs: src.txt\n    outputs: out.txt\n    run: cp {input} {output}\n');
    writeFileSync(join(dir, 'src.txt'), 'start\n');
    const w = startWatch(dir);
    await w.idle(1);
    const times: number[] = [];
    for (let i = 1; i <= edits; i++) {
      const text = `edit ${i}\n`;
      const t0 = performance.now();
      writeFileSync(join(dir, 'src.txt'), text);
      await until(() => readOr(join(dir, 'out.txt')) === text);
      times.push(performance.now() - t0);
      await w.idle(i + 1);
    }
    await w.stop();
    console.log(`latency, source saved -> output written, ${edits} edits: median ${quantile(times, 0.5).toFixed(0)} ms, p90 ${quantile(times, 0.9).toFixed(0)} ms, min ${Math.min(...times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function statusKb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

async function memory(files: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rules-watch-bench-'));
  try {
    mkdirSync(join(dir, 'src'));
    for (let i = 0; i < files; i++) writeFileSync(join(dir, 'src', `f${String(i).padStart(6, '0')}.txt`), `${i}\n`);
    writeFileSync(join(dir, 'Rulefile'), 'rules:\n  count:\n    inputs: "src/*.txt"\n    outputs: count.txt\n    run: ls src | wc -l > {output}\n');
    const t0 = performance.now();
    const w = startWatch(dir);
    await w.idle(1);
    const ready = performance.now() - t0;
    const pid = w.child.pid!;
    const rss = statusKb(pid, 'VmRSS');
    const hwm = statusKb(pid, 'VmHWM');
    // Still working at this size: one more source, one rebuild.
    const t1 = performance.now();
    writeFileSync(join(dir, 'src', 'new.txt'), 'new\n');
    await until(() => readOr(join(dir, 'count.txt')).trim() === String(files + 1), 120_000);
    const rebuilt = performance.now() - t1;
    await w.idle(2);
    const hwmAfter = statusKb(pid, 'VmHWM');
    const rssAfter = statusKb(pid, 'VmRSS');
    await w.stop();
    console.log(
      `watching ${files} files: ready (first build done, watching) in ${(ready / 1000).toFixed(1)} s; RSS ${(rss / 1024).toFixed(0)} MB (peak ${(hwm / 1024).toFixed(0)} MB); after one rebuild RSS ${(rssAfter / 1024).toFixed(0)} MB (peak ${(hwmAfter / 1024).toFixed(0)} MB); a new file rebuilt in ${rebuilt.toFixed(0)} ms`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Latency of one edit in a large generated pipeline (see the top of this file). */
async function pipelineLatency(edits: number): Promise<void> {
  let dir = flagValue('--pipeline-dir', '');
  let made: string | undefined;
  if (dir === '') {
    made = dir = mkdtempSync(join(tmpdir(), 'rules-watch-bench-'));
    const gen = generate(dir, Number(flagValue('--pipeline', '10000')), 'pipeline');
    console.log(`pipeline of ${gen.jobs} jobs: building it first`);
    const b = spawnSync(process.execPath, [CLI, 'build', '-q', '-j2'], { cwd: dir, stdio: 'inherit' });
    if (b.status !== 0) throw new Error('the first build failed');
  }
  try {
    const sources = readdirSync(join(dir, 'src')).sort();
    const t0 = performance.now();
    const w = startWatch(dir);
    await w.idle(1);
    const ready = performance.now() - t0;
    const first: number[] = [];
    const whole: number[] = [];
    for (let i = 1; i <= edits; i++) {
      // A different source each time, spread over the tree.
      const name = sources[Math.floor(((i * 7919) % sources.length))]!;
      const src = join(dir, 'src', name);
      const out = join(dir, 's1', name);
      const finalBefore = statSync(join(dir, 'final.txt')).mtimeMs;
      const line = `edit ${i} ${Date.now()}\n`;
      const t = performance.now();
      appendFileSync(src, line);
      await until(() => readOr(out).endsWith(line), 120_000);
      first.push(performance.now() - t);
      // The job removes its output before it runs: written is there again, and newer.
      await until(() => (statSync(join(dir, 'final.txt'), { throwIfNoEntry: false })?.mtimeMs ?? finalBefore) !== finalBefore, 120_000);
      whole.push(performance.now() - t);
      await w.idle(i + 1);
    }
    const rss = statusKb(w.child.pid!, 'VmRSS');
    await w.stop();
    const show = (xs: number[]) => `median ${quantile(xs, 0.5).toFixed(0)} ms, p90 ${quantile(xs, 0.9).toFixed(0)} ms, min ${Math.min(...xs).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
    console.log(`pipeline of ${sources.length} sources: watching after ${(ready / 1000).toFixed(1)} s, RSS ${(rss / 1024).toFixed(0)} MB once idle`);
    console.log(`  source saved -> its first output written, ${edits} edits: ${show(first)}`);
    console.log(`  source saved -> final.txt written (5 jobs), ${edits} edits: ${show(whole)}`);
  } finally {
    if (made !== undefined) rmSync(made, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const edits = Number(flagValue('--edits', '20'));
  if (process.argv.includes('--pipeline') || process.argv.includes('--pipeline-dir')) return pipelineLatency(edits);
  await latency(edits);
  await memory(Number(flagValue('--files', '100000')));
}

await main();
