// Property: the incremental shortcut decides exactly as the full path. When
// the up-to-date stamp shows that only the contents or times of some existing
// files changed, `rules build` decides only the jobs that read or make those
// files and the jobs downstream of them, and takes every other job as the last
// build left it; `-v` then says `N files changed since the last build;
// deciding K of M jobs`. Whatever it decides must be what the full path (the
// stamp moved aside) decides.
//
// Random projects through the real CLI: pattern rules over a few samples wired
// at random, a glob input, a directory input, a job whose depfile names
// headers, a `script:` rule, a `--configfile` value in one command, and
// commands that keep their output when their input changes in a way they
// ignore (`head`, `wc -l`), so that early cutoff matters. Rounds of random
// edits (sources edited or touched, outputs edited by hand or deleted,
// headers, files inside the directory input, the script, glob matches added
// or removed, the Rulefile, the config value, nothing), one --check mode per
// seed. After each round's edits: the dry-run plans (`-n --json`) of the
// shortcut and of the full path are the same; then a build, after which the
// full path finds nothing stale and every file is what a from-scratch build
// of the same sources makes. The shortcut must have answered in at least a
// quarter of the rounds, so that the test cannot pass without it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Project, project, show, type Files, type RunResult } from './helpers.js';
import { rng } from '../support/rng.js';

/** The shortcut's -v line; its numbers may have thousands separators. */
const SHORTCUT = /changed since the last build; deciding ([\d,]+) of ([\d,]+) jobs/;
/** The stamp's -v line, when it answers for the whole tree. */
const STAMP_LINE = /^rules: all [\d,]+ files as the last build left them$/m;
const STAMP = '.rules/uptodate';
const CONFIG = 'cfg.yaml';
const SHARED = ['share/x.txt', 'share/y.txt'];
const DATA = ['data/x.txt', 'data/sub/y.txt'];

/** What a command makes of the concatenation of its inputs: all of it, or a part that some edits leave alone. */
type Filter = 'cat' | 'head' | 'count' | 'upper';
const FILTERS: Filter[] = ['cat', 'head', 'count', 'upper'];

function filterText(f: Filter): string {
  if (f === 'cat') return 'cat';
  if (f === 'head') return 'head -n 2';
  if (f === 'count') return 'wc -l';
  return 'tr a-z A-Z';
}

interface Step {
  /** The rule's name; its output is `NAME/{s}.txt` (one job per sample) or `NAME.txt`. */
  name: string;
  pattern: boolean;
  /** Input templates (`{s}` only in a pattern step); `expand:` items are written as `expand:TEMPLATE`. */
  inputs: string[];
  what: 'plain' | 'dir' | 'dep' | 'script';
  filter: Filter;
  /** Bumped by an edit of the Rulefile (or of the script, for the `script:` step). */
  version: number;
  /** The command appends the config value. */
  config: boolean;
}

interface Project14 {
  samples: string[];
  steps: Step[];
}

function output(s: Step): string {
  return s.pattern ? `${s.name}/{s}.txt` : `${s.name}.txt`;
}

/** Every output file of a step. */
function outputFiles(s: Step, samples: string[]): string[] {
  return s.pattern ? samples.map((x) => `${s.name}/${x}.txt`) : [`${s.name}.txt`];
}

function randomProject(r: () => number): Project14 {
  const pick = (n: number) => Math.floor(r() * n);
  const filter = () => FILTERS[pick(FILTERS.length)]!;
  const samples = ['a', 'b', 'c', 'd'].slice(0, 2 + pick(3));
  const step = (name: string, pattern: boolean, inputs: string[], what: Step['what'] = 'plain'): Step => ({
    name,
    pattern,
    inputs,
    what,
    filter: filter(),
    version: 0,
    config: false,
  });
  const steps: Step[] = [];
  // The glob and the directory input, each read by one job.
  steps.push(step('g', false, ['extra/*.txt', ...SHARED.filter(() => r() < 0.3)]));
  steps.push(step('d', false, ['data'], 'dir'));
  // Pattern steps over the samples, wired at random; one of them discovers headers through its depfile.
  const perSample = ['src/{s}.txt'];
  const n = 2 + pick(3);
  const dep = pick(n);
  for (let i = 0; i < n; i++) {
    const name = i === dep ? 'dep' : `p${i}`;
    const inputs = perSample.filter(() => r() < 0.5);
    if (inputs.length === 0) inputs.push(perSample[pick(perSample.length)]!);
    if (i !== dep) inputs.push(...['g.txt', 'd.txt', ...SHARED].filter(() => r() < 0.2));
    const s = step(name, true, inputs, i === dep ? 'dep' : 'plain');
    steps.push(s);
    perSample.push(output(s));
  }
  // The `script:` step reads fixed paths, which its script names too.
  const scIn = ['g.txt', 'd.txt', ...SHARED].filter(() => r() < 0.4);
  if (scIn.length === 0) scIn.push(SHARED[0]!);
  steps.push(step('sc', false, scIn, 'script'));
  // A fan-in over one pattern step's outputs, and sometimes a pattern step after it.
  const fanned = perSample[1 + pick(perSample.length - 1)]!;
  steps.push(step('sum', false, [`expand:${fanned}`, ...(r() < 0.5 ? ['sc.txt'] : [])]));
  if (r() < 0.5) steps.push(step('q', true, ['sum.txt', perSample[pick(perSample.length)]!]));
  // One command uses the config value.
  const runs = steps.filter((s) => s.what !== 'script');
  runs[pick(runs.length)]!.config = true;
  return { samples, steps };
}

function command(s: Step): string {
  const f = filterText(s.filter);
  let run: string;
  if (s.what === 'dir') run = `find {input} -type f | LC_ALL=C sort | xargs cat | ${f} > {output}`;
  else if (s.what === 'dep')
    // The headers are named only through a shell variable, so that they are no implicit input
    // of the rule: the depfile is the only way the build learns of them.
    run = `(cat {inputs}; for h in common {s}; do cat hdr/$h.h; done) | ${f} > {output}; echo "{output}: hdr/common.h hdr/{s}.h" > {output}.d`;
  else run = `cat {inputs} | ${f} > {output}`;
  if (s.config) run += '; echo {config.tag} >> {output}';
  // An edit of the Rulefile changes the command: every other time without changing what it makes.
  if (s.version % 2 === 1) run += `; : v${s.version}`;
  else if (s.version > 0) run += `; echo v${s.version} >> {output}`;
  return run;
}

function rulefile(pr: Project14): string {
  const item = (i: string) => (i.startsWith('expand:') ? [`      - expand: "${i.slice(7)}"`, `        s: [${pr.samples.join(', ')}]`] : [`      - ${i}`]);
  const lines = ['rules:', '  all:', '    inputs:'];
  for (const s of pr.steps) lines.push(...item(s.pattern ? `expand:${output(s)}` : output(s)));
  for (const s of pr.steps) {
    lines.push(`  ${s.name}:`, '    inputs:');
    for (const i of s.inputs) lines.push(...item(i));
    lines.push(`    outputs: "${output(s)}"`);
    if (s.what === 'dep') lines.push('    depfile: "{output}.d"');
    if (s.what === 'script') lines.push('    script: tools/sc.sh');
    else lines.push(`    run: ${JSON.stringify(command(s))}`);
  }
  return lines.join('\n') + '\n';
}

/** The `script:` step's script: its inputs, read by their fixed paths; every other version upper-cases them. */
function scriptText(s: Step): string {
  return `#!/bin/sh\n# version ${s.version}\ncat ${s.inputs.join(' ')} | ${s.version % 2 === 1 ? 'tr a-z A-Z' : 'cat'} > sc.txt\n`;
}

/**
 * A source of two lines. An edit changes the first, the second, or the third (adding it): a
 * `head -n 2` over it may not see the third, a `wc -l` sees only that a line was added.
 */
function sourceText(name: string): string {
  return `${name} line 1\n${name} line 2\n`;
}

/** Every file under a directory (relative paths) but the state directory. */
function files(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (r === '.rules') continue;
      if (e.isDirectory()) walk(r);
      else out.set(r, fs.readFileSync(path.join(dir, r), 'utf8'));
    }
  };
  walk('');
  return out;
}

/** Runs `rules ARGS` with the project's options, expecting exit 0. */
function rules(p: Project, check: string, where: string, ...args: string[]): RunResult {
  const r = p.run([...args, '--check', check, '--configfile', CONFIG]);
  assert.equal(r.status, 0, `${where}: rules ${args.join(' ')}\n${show(r)}`);
  return r;
}

/** A dry run of the full path: the stamp (and with it the shortcut's index) moved aside, then put back. */
function fullDryRun(p: Project, check: string, where: string, ...args: string[]): RunResult {
  const stamp = p.path(STAMP);
  const aside = `${stamp}.aside`;
  const had = fs.existsSync(stamp);
  if (had) fs.renameSync(stamp, aside);
  try {
    const r = rules(p, check, where, 'build', '-n', '-v', ...args);
    assert.doesNotMatch(r.stderr, SHORTCUT, `${where}: the shortcut answered without its stamp\n${show(r)}`);
    assert.doesNotMatch(r.stderr, STAMP_LINE, `${where}: the stamp answered while moved aside\n${show(r)}`);
    return r;
  } finally {
    if (had) fs.renameSync(aside, stamp);
  }
}

/** Edits after which the build must take the full path: a Rulefile, config file or directory listing changed. */
const NEVER_SHORTCUT = new Set(['rulefile', 'config', 'glob']);

type Edit = 'source' | 'touch' | 'output edited' | 'output deleted' | 'header' | 'data' | 'script' | 'glob' | 'rulefile' | 'config' | 'nothing';
/** Each edit with its weight: the edits the shortcut may answer come up more often. */
const EDITS: [Edit, number][] = [
  ['source', 3],
  ['touch', 1],
  ['output edited', 2],
  ['output deleted', 1],
  ['header', 2],
  ['data', 2],
  ['script', 1],
  ['glob', 1],
  ['rulefile', 1],
  ['config', 1],
  ['nothing', 1],
];
const EDIT_WEIGHT = EDITS.reduce((n, [, w]) => n + w, 0);

test('the incremental shortcut decides as the full path, and the build it answers equals a from-scratch build', (t) => {
  const started = Date.now();
  // Each round costs five runs of the CLI (about 0.4 s each on two cores): 24 rounds in all.
  const SEEDS = 6;
  const ROUNDS = 4;
  /** How often each edit was made: every kind must come up in the rounds the time allows. */
  const made = new Map<Edit, number>();
  let rounds = 0;
  let answered = 0;
  /** Rounds whose edits only changed the contents or times of existing files: those the shortcut is for. */
  let eligible = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const check = seed % 2 === 0 ? 'hash' : 'mtime';
    const r = rng(seed * 2654435761);
    const pick = (n: number) => Math.floor(r() * n);
    const pr = randomProject(r);
    const { samples, steps } = pr;
    const outputs = steps.flatMap((s) => outputFiles(s, samples));
    // The jobs of the graph: one per sample of each pattern step, one per other step, and `all`.
    const jobs = steps.reduce((n, s) => n + (s.pattern ? samples.length : 1), 0) + 1;

    // The sources, as the from-scratch build gets them.
    const sources: Files = { Rulefile: rulefile(pr), [CONFIG]: 'tag: t0\n', 'tools/sc.sh': scriptText(steps.find((s) => s.what === 'script')!) };
    for (const s of samples) sources[`src/${s}.txt`] = sourceText(`src/${s}.txt`);
    for (const f of SHARED) sources[f] = sourceText(f);
    for (const f of DATA) sources[f] = `${f}\n`;
    for (const h of ['common', ...samples]) sources[`hdr/${h}.h`] = `header ${h}\n`;
    sources['extra/1.txt'] = 'extra 1\n';
    sources['extra/2.txt'] = 'extra 2\n';
    const p = project(t, sources);
    const put = (rel: string, text: string) => {
      sources[rel] = text;
      p.write({ [rel]: text });
    };
    const desc = `seed ${seed} (--check ${check}; samples ${samples.join(',')}; steps ${steps.map((s) => `${s.name}<-${s.inputs.join('+')}:${s.filter}${s.config ? '+config' : ''}`).join(' ')})`;

    const first = rules(p, check, desc, 'build', '-j2');
    const total = /^\[\d+\/(\d+)\] /m.exec(first.stdout);
    assert.equal(Number(total?.[1]) + 1, jobs, `${desc}: the first build counts other jobs than the test\n${show(first)}`);
    let fresh: { key: string; files: Map<string, string> } | undefined;
    let edits = 0;

    for (let round = 0; round < ROUNDS; round++) {
      // One to three edits.
      const done: string[] = [];
      const kinds = new Set<Edit>();
      const count = r() < 0.6 ? 1 : r() < 0.75 ? 2 : 3;
      for (let k = 0; k < count; k++) {
        let w = r() * EDIT_WEIGHT;
        const what = EDITS.find(([, weight]) => (w -= weight) < 0)![0];
        kinds.add(what);
        made.set(what, (made.get(what) ?? 0) + 1);
        edits++;
        if (what === 'source') {
          const file = r() < 0.7 ? `src/${samples[pick(samples.length)]}.txt` : SHARED[pick(SHARED.length)]!;
          const part = pick(3);
          const lines = sources[file]!.split('\n').slice(0, -1);
          lines[part] = `${file} line ${part + 1}, ${round}.${k}`;
          put(file, lines.join('\n') + '\n');
          done.push(`edit ${file} (${['first line', 'second line', 'third line'][part]})`);
        } else if (what === 'touch') {
          const pool = Object.keys(sources).filter((f) => f !== 'Rulefile' && f !== CONFIG);
          const file = pool[pick(pool.length)]!;
          fs.utimesSync(p.path(file), new Date(), new Date());
          done.push(`touch ${file}`);
        } else if (what === 'output edited') {
          const file = outputs[pick(outputs.length)]!;
          p.write({ [file]: 'by hand\n' });
          // Under --check mtime an edit by hand is seen only by Make's rule: dated before its inputs.
          if (check === 'mtime') p.age(file, -3600);
          done.push(`edit ${file} by hand`);
        } else if (what === 'output deleted') {
          const file = outputs[pick(outputs.length)]!;
          fs.rmSync(p.path(file), { force: true });
          done.push(`rm ${file}`);
        } else if (what === 'header') {
          const h = `hdr/${r() < 0.4 ? 'common' : samples[pick(samples.length)]}.h`;
          put(h, `${sources[h]}more ${round}.${k}\n`);
          done.push(`edit ${h}`);
        } else if (what === 'data') {
          const file = DATA[pick(DATA.length)]!;
          // Either a new first line, or a second line added, which a `head -n 2` of the files in order may not see.
          put(file, r() < 0.5 ? `${file} ${round}.${k}\n` : `${sources[file]!.split('\n')[0]}\n${round}.${k}\n`);
          done.push(`edit ${file}`);
        } else if (what === 'script') {
          const s = steps.find((x) => x.what === 'script')!;
          s.version++;
          put('tools/sc.sh', scriptText(s));
          done.push(`script v${s.version}`);
        } else if (what === 'glob') {
          const matches = Object.keys(sources).filter((f) => f.startsWith('extra/'));
          if (matches.length > 1 && r() < 0.5) {
            const file = matches[pick(matches.length)]!;
            delete sources[file];
            fs.rmSync(p.path(file));
            done.push(`rm ${file}`);
          } else {
            const file = `extra/${round}${k}x.txt`;
            put(file, `extra ${round}.${k}\n`);
            done.push(`add ${file}`);
          }
        } else if (what === 'rulefile') {
          const runs = steps.filter((s) => s.what !== 'script');
          const s = runs[pick(runs.length)]!;
          s.version++;
          put('Rulefile', rulefile(pr));
          done.push(`command of ${s.name} v${s.version}`);
        } else if (what === 'config') {
          put(CONFIG, `tag: t${seed}.${round}.${k}\n`);
          done.push('config');
        } else done.push('nothing');
      }
      rounds++;
      const where = `${desc} round ${round} after [${done.join('; ')}]`;
      const mayShortcut = ![...kinds].some((k) => NEVER_SHORTCUT.has(k) || k === 'output deleted') && !(kinds.size === 1 && kinds.has('nothing'));
      if (mayShortcut) eligible++;

      // The plan: the shortcut (or the stamp, or the full path: whichever answers) against the full path.
      const fast = rules(p, check, where, 'build', '-n', '--json', '-v');
      const full = fullDryRun(p, check, where, '--json');
      const fastPlan = JSON.parse(fast.stdout) as { jobs: { outputs: string[] }[] };
      assert.deepEqual(fastPlan, JSON.parse(full.stdout), `${where}: the plans differ\n--- fast ---\n${show(fast)}\n--- full ---\n${show(full)}`);
      const m = SHORTCUT.exec(fast.stderr);
      if (m) {
        const [decided, of] = [Number(m[1]!.replace(/,/g, '')), Number(m[2]!.replace(/,/g, ''))];
        assert.equal(of, jobs, `${where}: the shortcut counts other jobs than the graph has\n${show(fast)}`);
        // A job the shortcut did not decide is up to date: every stale job was decided (but `all`, which only groups).
        const stale = fastPlan.jobs.filter((j) => j.outputs.length > 0).length;
        assert.ok(stale <= decided && decided <= of, `${where}: deciding ${decided} of ${of} jobs, but ${stale} are stale\n${show(fast)}`);
      }
      if ([...kinds].some((k) => NEVER_SHORTCUT.has(k))) assert.doesNotMatch(fast.stderr, SHORTCUT, `${where}: the shortcut answered after a change it must leave to the full path\n${show(fast)}`);
      // Nothing changed since a build that left the tree up to date: the stamp answers.
      if (kinds.size === 1 && kinds.has('nothing')) assert.match(fast.stderr, STAMP_LINE, `${where}: the stamp did not answer\n${show(fast)}`);

      // The build (which the shortcut may answer too), then the full path finds nothing stale.
      const b = rules(p, check, where, 'build', '-v', '-j2');
      if ([...kinds].some((k) => NEVER_SHORTCUT.has(k))) assert.doesNotMatch(b.stderr, SHORTCUT, `${where}: the shortcut answered the build\n${show(b)}`);
      if (m || SHORTCUT.test(b.stderr)) answered++;
      const after = fullDryRun(p, check, where);
      assert.equal(after.stdout, '', `${where}: the full path finds stale jobs after the build\n${show(after)}`);

      // Every file is what a from-scratch build of the same sources makes (made again only when they changed).
      const key = JSON.stringify(Object.entries(sources).sort());
      if (fresh?.key !== key) {
        const q = new Project(sources);
        try {
          rules(q, check, `${where}: the from-scratch build`, 'build', '-j2');
          fresh = { key, files: files(q.dir) };
        } finally {
          q.cleanup();
        }
      }
      const now = files(p.dir);
      for (const [file, text] of fresh.files) assert.equal(now.get(file), text, `${where}: ${file} is not what a from-scratch build makes`);
      for (const file of now.keys()) assert.ok(fresh.files.has(file), `${where}: ${file} is in the tree but a from-scratch build does not make it`);
    }
    t.diagnostic(`${desc}: ${edits} edits`);
  }
  t.diagnostic(`${rounds} rounds (${eligible} with only files changed in place), the shortcut answered ${answered}, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.diagnostic(`edits: ${[...made].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  for (const [kind] of EDITS) assert.ok(made.has(kind), `no round made the edit '${kind}'`);
  assert.ok(answered * 4 >= rounds, `the shortcut answered in only ${answered} of ${rounds} rounds (${eligible} changed only existing files)`);
});
