// Property (SPEC §6): a job's hidden dependencies are never missed. Random
// DAGs whose jobs run a script the command names (an implicit input), read a
// directory input, and discover a header through a depfile; random edits of
// sources, scripts, files inside the directory (added, removed, edited,
// touched), headers and outputs between builds, through the real CLI under
// both --check modes. After every build each output equals what a
// from-scratch build makes of the tree as it is, and a dry run (the no-op
// stamp or the full path) finds nothing to do.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { project, show, type Project } from './helpers.js';
import { rng } from '../support/rng.js';

interface Step {
  out: string;
  /** Declared inputs: sources, other steps' outputs, or the directory `data`. */
  inputs: string[];
  script: string;
  /** The header the script reads and reports in its depfile, if any. */
  header?: string;
}

// The script: its own text, then each input (a directory: each file under it in code-point
// order), then the header it discovers; it writes the depfile itself.
function scriptText(header: string | undefined, version: number): string {
  return [
    '#!/bin/sh',
    `# version ${version}`,
    'out=$1; shift',
    'cat "$0" > "$out"',
    'for f in "$@"; do',
    '  if [ -d "$f" ]; then find "$f" -type f | LC_ALL=C sort | while read -r x; do cat "$x" >> "$out"; done',
    '  else cat "$f" >> "$out"; fi',
    'done',
    ...(header ? [`cat ${header} >> "$out"`, `echo "$out: ${header}" > "$out.d"`] : []),
    '',
  ].join('\n');
}

function randomSteps(r: () => number): { steps: Step[]; sources: string[]; headers: string[] } {
  const pick = (n: number) => Math.floor(r() * n);
  const sources = ['s0.txt', 's1.txt', 's2.txt'];
  const headers = ['hdr/a.h', 'hdr/b.h'];
  const steps: Step[] = [];
  const n = 3 + pick(4);
  for (let i = 0; i < n; i++) {
    const pool = [...sources, 'data', ...steps.map((s) => s.out)];
    const inputs = pool.filter(() => r() < 0.35);
    if (inputs.length === 0) inputs.push(pool[pick(pool.length)]!);
    const header = r() < 0.5 ? headers[pick(headers.length)] : undefined;
    steps.push({ out: `o${i}.txt`, inputs, script: `tools/step${i}.sh`, ...(header ? { header } : {}) });
  }
  return { steps, sources, headers };
}

function rulefile(steps: Step[]): string {
  let text = `rules:\n  all:\n    inputs: [${steps.map((s) => s.out).join(', ')}]\n`;
  steps.forEach((s, i) => {
    text += `  r${i}:\n    inputs: [${s.inputs.join(', ')}]\n    outputs: ${s.out}\n`;
    if (s.header) text += `    depfile: "{output}.d"\n`;
    text += `    run: sh ${s.script} {output} {inputs}\n`;
  });
  return text;
}

/** What a from-scratch build writes into each output, from the tree as it is now. */
function expected(p: Project, steps: Step[]): Map<string, string> {
  const made = new Map<string, string>();
  const content = (path: string): string => {
    if (made.has(path)) return made.get(path)!;
    const abs = p.path(path);
    if (!fs.statSync(abs).isDirectory()) return fs.readFileSync(abs, 'utf8');
    const files: string[] = [];
    const walk = (rel: string) => {
      for (const e of fs.readdirSync(p.path(rel), { withFileTypes: true })) {
        if (e.isDirectory()) walk(`${rel}/${e.name}`);
        else files.push(`${rel}/${e.name}`);
      }
    };
    walk(path);
    return files
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map(content)
      .join('');
  };
  for (const s of steps) {
    let text = content(s.script) + s.inputs.map(content).join('');
    if (s.header) text += content(s.header);
    made.set(s.out, text);
  }
  return made;
}

test('scripts, directory inputs and depfile headers: every build equals a from-scratch build', (t) => {
  let builds = 0;
  for (let seed = 1; seed <= 8; seed++) {
    const check = seed % 2 === 0 ? 'hash' : 'mtime';
    const r = rng(seed * 7919);
    const pick = (n: number) => Math.floor(r() * n);
    const { steps, sources, headers } = randomSteps(r);
    const files: Record<string, string> = { Rulefile: rulefile(steps), 'data/x.txt': 'x\n', 'data/sub/y.txt': 'y\n' };
    for (const s of sources) files[s] = `${s}\n`;
    for (const h of headers) files[h] = `${h}\n`;
    const versions = steps.map(() => 0);
    steps.forEach((s, i) => (files[s.script] = scriptText(s.header, 0)));
    const p = project(t, files);
    const history: string[] = [];
    let dataFiles = 2;
    for (let round = 0; round < 6; round++) {
      const where = `seed ${seed} (${check}) round ${round} after [${history.join('; ')}]`;
      const b = p.run(['build', '-j2', '--check', check]);
      assert.equal(b.status, 0, `${where}\n${show(b)}`);
      builds++;
      for (const [out, text] of expected(p, steps)) assert.equal(p.read(out), text, `${where}: ${out} is not what a from-scratch build makes`);
      for (const s of steps) assert.ok(!p.exists(`${s.out}.d`), `${where}: the depfile of ${s.out} was left behind`);
      const again = p.run(['build', '-n', '--check', check]);
      assert.equal(again.status, 0, show(again));
      assert.equal(again.stdout, '', `${where}: a build right after a build has work to do`);

      // Edits for the next round.
      const what = pick(check === 'hash' ? 9 : 8);
      const s = steps[pick(steps.length)]!;
      const i = steps.indexOf(s);
      if (what === 0) p.write({ [sources[pick(sources.length)]!]: `source ${seed}.${round}\n` }), history.push('source');
      if (what === 1) p.write({ [s.script]: scriptText(s.header, ++versions[i]!) }), history.push(`script ${s.script}`);
      if (what === 2) p.write({ [`data/new${dataFiles++}.txt`]: `new ${round}\n` }), history.push('data add');
      if (what === 3) p.write({ 'data/sub/y.txt': `y ${seed}.${round}\n` }), history.push('data edit');
      if (what === 4) {
        const victim = fs.readdirSync(p.path('data')).find((n) => n.startsWith('new'));
        if (victim) fs.rmSync(p.path(`data/${victim}`)), history.push(`data remove ${victim}`);
        else fs.utimesSync(p.path('data/x.txt'), new Date(), new Date()), history.push('data touch');
      }
      if (what === 5) p.write({ [headers[pick(headers.length)]!]: `header ${seed}.${round}\n` }), history.push('header edit');
      if (what === 6) fs.utimesSync(p.path(headers[pick(headers.length)]!), new Date(), new Date()), history.push('header touch');
      if (what === 7) fs.rmSync(p.path(s.out)), history.push(`rm ${s.out}`);
      // Only hash mode notices an output edited by hand (under --check mtime, Make's rule).
      if (what === 8) p.write({ [s.out]: 'by hand\n' }), history.push(`edit ${s.out}`);
    }
  }
  assert.equal(builds, 48);
});
