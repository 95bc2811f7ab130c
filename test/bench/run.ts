// Benchmark: rules against GNU Make and Ninja on the same generated graph, in
// one run. Not part of `npm test`.
//
//   npm run bench -- [--size N] [--shape pipeline|wide] [--runs R] [--jobs J]
//                    [--metrics full,noop,dry,content,touch] [--tools rules,make,ninja]
//                    [--keep DIR [--reuse]]
//
// --reuse takes the trees a run with --keep DIR left built (same size and
// shape) instead of generating and building them again: for the largest sizes.
//
// Each tool builds its own copy of the tree. For every metric the tools' runs
// are interleaved (rules, make, ninja, rules, ...) so machine noise hits them
// alike; the table shows medians of wall time and of CPU time (user+sys of the
// tool and every process it started: the jobs count), peak RSS, jobs run, and
// the ratios rules/make and rules/ninja of both. After the full builds, every tool must have made
// the same files with the same contents, and run the same number of jobs.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, type Shape } from './gen.js';
import { flagValue } from './flags.js';

const CLI = new URL('../../bin/main.js', import.meta.url).pathname;
const TOOLS = ['rules', 'make', 'ninja'] as const;
type Tool = (typeof TOOLS)[number];
const METRICS = ['full', 'noop', 'dry', 'content', 'touch'] as const;
type Metric = (typeof METRICS)[number];

const LABEL: Record<Metric, string> = {
  full: 'full build',
  noop: 'no-op build',
  dry: 'dry run, up to date',
  content: 'after 1 source changed',
  touch: 'after 1 source touched',
};

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Installs GNU Make, Ninja and GNU time from the distribution's packages when missing. */
function ensureTools(): void {
  const missing = [has('make') ? '' : 'make', has('ninja') ? '' : 'ninja-build', has('/usr/bin/time') ? '' : 'time'].filter(Boolean);
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(' ')} ...`);
  execFileSync('sh', ['-c', `apt-get update -qq && apt-get install -y -qq ${missing.join(' ')}`], { stdio: 'inherit' });
}

interface Sample {
  seconds: number;
  /** User+sys CPU seconds of the tool and its children (the jobs). */
  cpu: number;
  rssKb: number;
  jobs: number;
}

/** Runs a command under /usr/bin/time; returns wall and CPU seconds, peak RSS and how many jobs it ran. */
function measure(tool: Tool, dir: string, args: string[], jobs: number): Sample {
  const argv: Record<Tool, string[]> = {
    rules: [process.execPath, CLI, ...args, `-j${jobs}`],
    make: ['make', ...args, `-j${jobs}`],
    ninja: ['ninja', ...args, `-j${jobs}`],
  };
  const [cmd, ...rest] = argv[tool];
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M %U %S', cmd!, ...rest], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 });
  const timeLine = r.stderr.trim().split('\n').pop()!;
  if (r.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed in ${dir}:\n${r.stderr.slice(-3000)}`);
  // GNU time counts the children the tool waited for: every job, and rules' helper processes.
  const [seconds, rssKb, user, sys] = timeLine.split(' ').map(Number) as [number, number, number, number];
  return { seconds, cpu: user + sys, rssKb, jobs: countJobs(tool, args, r.stdout) };
}

function countJobs(tool: Tool, args: string[], stdout: string): number {
  const lines = stdout.split('\n');
  if (tool === 'rules') {
    if (args.includes('-n')) return lines.filter((l) => l && !l.endsWith(': always')).length;
    const m = /rules: (\d+) jobs? done/.exec(stdout);
    return m ? Number(m[1]) : 0;
  }
  if (tool === 'ninja') {
    if (/no work to do/.test(stdout)) return 0;
    return lines.filter((l) => /^\[\d+\/\d+\]/.test(l)).length;
  }
  // make echoes one recipe line per job: `mkdir -p ... && cp ...`, or `cat ... > final.txt`.
  return lines.filter((l) => /^(mkdir -p |cat |cp )/.test(l)).length;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** A digest of every output file (path and content), to check the tools made the same tree. */
function outputDigest(dir: string): { files: number; digest: string } {
  const h = createHash('sha256');
  let files = 0;
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else {
        h.update(p + '\0').update(readFileSync(join(dir, p)));
        files++;
      }
    }
  };
  for (const top of readdirSync(dir).sort()) {
    if (['src', 'Rulefile', 'Makefile', 'build.ninja'].includes(top) || top.startsWith('.')) continue;
    if (statSync(join(dir, top)).isDirectory()) walk(top);
    else {
      h.update(top + '\0').update(readFileSync(join(dir, top)));
      files++;
    }
  }
  return { files, digest: h.digest('hex').slice(0, 16) };
}

/** The job count of an already generated tree (for --reuse). */
function counted(dir: string, size: number, shape: Shape): { jobs: number; sources: number } {
  const sources = readdirSync(join(dir, 'src')).length;
  if (sources !== size) throw new Error(`--reuse: ${dir} has ${sources} sources, not ${size}`);
  return { jobs: shape === 'wide' ? size : 3 * size + Math.ceil(size / 100) + 1, sources };
}

/** Removes every product and the tool's state, for a full build from scratch. */
function cleanTree(dir: string): void {
  for (const top of readdirSync(dir)) {
    if (['src', 'Rulefile', 'Makefile', 'build.ninja'].includes(top)) continue;
    rmSync(join(dir, top), { recursive: true, force: true });
  }
}

function main(): void {
  const size = Number(flagValue('--size', '10000'));
  const shape = flagValue('--shape', 'pipeline') as Shape;
  const runs = Number(flagValue('--runs', '3'));
  const jobs = Number(flagValue('--jobs', '2'));
  const metrics = flagValue('--metrics', METRICS.join(',')).split(',') as Metric[];
  const keep = flagValue('--keep', '');
  const reuse = process.argv.includes('--reuse');
  if (reuse && !keep) throw new Error('--reuse needs --keep DIR');
  const tools = flagValue('--tools', TOOLS.join(',')).split(',') as Tool[];
  for (const t of tools) if (!TOOLS.includes(t)) throw new Error(`unknown tool '${t}'; use ${TOOLS.join(',')}`);
  if (!tools.includes('rules')) throw new Error('--tools must include rules');
  for (const m of metrics) if (!METRICS.includes(m)) throw new Error(`unknown metric '${m}'; use ${METRICS.join(',')}`);
  ensureTools();

  const base = keep || mkdtempSync(join(tmpdir(), 'rules-bench-'));
  const dirs = Object.fromEntries(TOOLS.map((t) => [t, join(base, t)])) as Record<Tool, string>;
  const gen = reuse ? counted(dirs.rules, size, shape) : generate(join(base, 'gen'), size, shape);
  if (!reuse) {
    for (const t of tools) {
      rmSync(dirs[t], { recursive: true, force: true });
      cpSync(join(base, 'gen'), dirs[t], { recursive: true });
    }
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`graph: ${shape}, ${size} sources, ${gen.jobs} jobs; ${runs} run(s) each, -j${jobs}; ${cpus().length} x ${cpu}; node ${process.version}`);
  console.log(`trees: ${base}\n`);

  const results = new Map<string, Sample[]>();
  const add = (m: Metric, t: Tool, s: Sample) => results.set(`${m}/${t}`, [...(results.get(`${m}/${t}`) ?? []), s]);
  const sourceOf = (k: number) => readdirSync(join(dirs.rules, 'src')).sort()[k]!;
  const first = sourceOf(0);

  // Every metric needs built trees; the full build makes them (and is measured if asked).
  for (let r = 0; r < runs; r++) {
    const fullRun = (r === 0 && !reuse) || metrics.includes('full');
    if (fullRun) {
      for (const t of tools) {
        cleanTree(dirs[t]);
        const s = measure(t, dirs[t], t === 'rules' ? ['build', '-q'] : [], jobs);
        if (metrics.includes('full')) add('full', t, { ...s, jobs: t === 'rules' ? gen.jobs : s.jobs });
        process.stdout.write(`  full ${t}: ${s.seconds}s, CPU ${s.cpu.toFixed(2)}s\n`);
      }
    }
    if (r === 0) checkSameWork(tools, dirs, gen.jobs, results);
    for (const m of metrics) {
      if (m === 'full') continue;
      for (const t of tools) {
        const dir = dirs[t];
        const src = join(dir, 'src', first);
        if (m === 'content') appendFileSync(src, `change ${r}\n`);
        if (m === 'touch') {
          const now = Date.now() / 1000 + 1 + r;
          utimesSync(src, now, now);
        }
        const args = m === 'dry' ? (t === 'rules' ? ['build', '-n'] : ['-n']) : t === 'rules' ? ['build'] : [];
        add(m, t, measure(t, dir, args, jobs));
      }
    }
  }

  console.log('\nmedian seconds (peak RSS MB) [jobs run]; CPU: median user+sys seconds, jobs included');
  const cpuHead = TOOLS.map((t) => `cpu ${t}`.padStart(10)).join('');
  console.log(`${'metric'.padEnd(26)}${TOOLS.map((t) => t.padStart(22)).join('')}   rules/make  rules/ninja  ${cpuHead}   cpu r/make  cpu r/ninja`);
  for (const m of METRICS) {
    if (!metrics.includes(m)) continue;
    const row = TOOLS.map((t) => {
      const xs = results.get(`${m}/${t}`);
      if (!xs) return { s: 0, cpu: 0, rss: 0, jobs: 0 };
      return { s: median(xs.map((x) => x.seconds)), cpu: median(xs.map((x) => x.cpu)), rss: Math.max(...xs.map((x) => x.rssKb)) / 1024, jobs: median(xs.map((x) => x.jobs)) };
    });
    const cells = row.map((c, i) => (tools.includes(TOOLS[i]!) ? `${c.s.toFixed(2)} (${c.rss.toFixed(0)}) [${c.jobs}]` : '—').padStart(22)).join('');
    const cpuCells = row.map((c, i) => (tools.includes(TOOLS[i]!) ? c.cpu.toFixed(2) : '—').padStart(10)).join('');
    const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
    console.log(
      `${LABEL[m].padEnd(26)}${cells}   ${ratio(row[0]!.s, row[1]!.s).padStart(10)}  ${ratio(row[0]!.s, row[2]!.s).padStart(11)}  ` +
        `${cpuCells}   ${ratio(row[0]!.cpu, row[1]!.cpu).padStart(10)}  ${ratio(row[0]!.cpu, row[2]!.cpu).padStart(11)}`,
    );
  }
  if (!keep) rmSync(base, { recursive: true, force: true });
}

/** After the first full builds: the same files with the same contents, and the same number of jobs. */
function checkSameWork(tools: Tool[], dirs: Record<Tool, string>, expectedJobs: number, results: Map<string, Sample[]>): void {
  const digests = tools.map((t) => ({ t, ...outputDigest(dirs[t]) }));
  const ref = digests[0]!;
  for (const d of digests) {
    if (d.files !== ref.files || d.digest !== ref.digest) {
      throw new Error(`the tools did not make the same outputs: ${digests.map((x) => `${x.t} ${x.files} files ${x.digest}`).join(', ')}`);
    }
  }
  const full = results.get('full/make')?.[0]?.jobs;
  const ninja = results.get('full/ninja')?.[0]?.jobs;
  for (const [tool, n] of [['make', full], ['ninja', ninja]] as const) {
    // Ninja counts its phony `all` edge too; Make and rules do not.
    if (n !== undefined && n !== expectedJobs && n !== expectedJobs + 1) throw new Error(`${tool} ran ${n} jobs, expected ${expectedJobs}`);
  }
  console.log(`  check: every tool made the same ${ref.files} files (${ref.digest})`);
}

main();
