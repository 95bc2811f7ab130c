// Property (SPEC §7), through the real CLI: random pipelines whose graph grows
// while it builds (a catalog split into one file per line by a job with a
// directory output, a job per chunk, a merge over a `{glob: ...}` expand that
// waits for the split, sometimes a plain `inputs:` glob over the chunks),
// with temporary outputs (the per-chunk files, sometimes an intermediate of a
// static chain too) and sometimes a sample sheet whose rows give the
// per-chunk jobs a parameter. Random edits between builds: catalog lines
// added, removed and changed, table rows edited, added and removed, sources
// and scripts edited or touched, outputs deleted (and, under --check hash,
// edited by hand), under both --check modes and random -j. After every build:
// each file a from-scratch build makes of the same sources is there with the
// same content, no temporary output is left, anything else is an output some
// earlier tree made (an orphan of a removed line or row), `rules build -n`
// prints nothing and says `nothing to do`, and a build after it runs nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Project, project, show, type Files } from './helpers.js';
import { rng } from '../support/rng.js';

/** Sample names: the table (when there is one) always has a and b, and sometimes c. */
const SAMPLES = ['a', 'b', 'c'];
/** Chunk names, drawn from a small set so they recur across edits. */
const IDS = ['k1', 'k2', 'k3', 'k4', 'k5'];
const SOURCES = ['s0.txt', 's1.txt'];

interface Pipeline {
  table: boolean;
  /** The per-chunk outputs are temporary. */
  tempChunks: boolean;
  /** A rule over the plain glob `chunks/{s}/*.txt`. */
  listing: boolean;
  steps: Step[];
}

interface Step {
  out: string;
  inputs: string[];
  temp: boolean;
}

/**
 * The dynamic part is always there; which of the other features a seed has is fixed by
 * the seed, so the few seeds the time allows cover each: a table on seeds 1 and 2,
 * temporary chunks on seeds 1 to 3, a temporary intermediate of the static chain on
 * seeds 3 and 4 (and at random elsewhere), the plain glob at random.
 */
function randomPipeline(r: () => number, seed: number): Pipeline {
  const pick = (n: number) => Math.floor(r() * n);
  const table = seed % 4 === 1 || seed % 4 === 2;
  const tempChunks = seed % 4 !== 0;
  const tempStep = seed % 4 === 3 || seed % 4 === 0;
  const listing = r() < 0.5;
  // A static chain over the sources and the merged catalogs.
  const steps: Step[] = [];
  const n = (tempStep ? 2 : 1) + pick(2);
  for (let i = 0; i < n; i++) {
    const pool = [...SOURCES, 'merged/a.txt', 'merged/b.txt', ...steps.map((s) => s.out)];
    const inputs = pool.filter(() => r() < 0.4);
    if (inputs.length === 0) inputs.push(pool[pick(pool.length)]!);
    if (i === 1 && tempStep && !inputs.includes('o0.txt')) inputs.push('o0.txt');
    steps.push({ out: `o${i}.txt`, inputs, temp: false });
  }
  // An intermediate read by a later step may be temporary.
  steps.forEach((s, i) => {
    if ((i === 0 && tempStep) || (r() < 0.3 && steps.some((t) => t.inputs.includes(s.out)))) s.temp = true;
  });
  return { table, tempChunks, listing, steps };
}

function rulefile(p: Pipeline): string {
  const lines: string[] = [];
  if (p.table) lines.push('tables:', '  samples: { file: samples.tsv, key: s }');
  lines.push('rules:', '  all:', '    inputs:', '      - expand: "merged/{s}.txt"');
  const samples = p.table ? '{ table: samples }' : '[a, b]';
  lines.push(`        s: ${samples}`);
  if (p.listing) lines.push('      - expand: "lists/{s}.txt"', `        s: ${samples}`);
  for (const s of p.steps) if (!s.temp) lines.push(`      - ${s.out}`);
  lines.push(
    '  split:',
    '    inputs: "cat/{s}.txt"',
    '    outputs: "chunks/{s}/"',
    '    run: sh tools/split.sh {input} {output}',
    '  chunk:',
    '    inputs: "chunks/{s}/{c}.txt"',
    '    outputs: "per/{s}/{c}.txt"',
  );
  if (p.tempChunks) lines.push('    temp: true');
  if (p.table) lines.push('    params: { factor: "{tables.samples.factor}" }', '    run: sh tools/chunk.sh {input} {output} {params.factor}');
  else lines.push('    run: sh tools/chunk.sh {input} {output} 1');
  lines.push(
    '  merge:',
    '    inputs:',
    '      - expand: "per/{s}/{c}.txt"',
    '        c: { glob: "chunks/{s}/{c}.txt" }',
    '    outputs: "merged/{s}.txt"',
    '    run: sh tools/merge.sh {output} {inputs}',
  );
  if (p.listing) lines.push('  listing:', '    inputs: "chunks/{s}/*.txt"', '    outputs: "lists/{s}.txt"', '    run: sh tools/merge.sh {output} {inputs}');
  p.steps.forEach((s, i) => {
    lines.push(`  r${i}:`, `    inputs: [${s.inputs.join(', ')}]`, `    outputs: ${s.out}`);
    if (s.temp) lines.push('    temp: true');
    lines.push(`    run: sh tools/step${i}.sh {output} {inputs}`);
  });
  return lines.join('\n') + '\n';
}

// The scripts: each starts with a version comment that an edit bumps. The split's
// output does not depend on it (so a hash build cuts off after it reruns); the
// others copy their own text into their output.
function script(name: string, version: number): string {
  const head = `#!/bin/sh\n# version ${version}\n`;
  if (name === 'tools/split.sh') return head + 'while read -r id val; do printf "%s\\n" "$val" > "$2/$id.txt"; done < "$1"\n';
  if (name === 'tools/chunk.sh') return head + '{ cat "$0"; printf "%s x%s\\n" "$(cat "$1")" "$3"; } > "$2"\n';
  return head + 'out=$1; shift\ncat "$0" > "$out"\nfor f in "$@"; do echo "== $f" >> "$out"; cat "$f" >> "$out"; done\n';
}

/** Every file under a directory (relative paths), without the state directory. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (r === '.rules') continue;
      if (e.isDirectory()) {
        out.set(`${r}/`, '');
        walk(r);
      } else out.set(r, fs.readFileSync(path.join(dir, r), 'utf8'));
    }
  };
  walk('');
  return out;
}

function catalogText(lines: Map<string, string>): string {
  return [...lines].map(([id, val]) => `${id} ${val}\n`).join('');
}

function tableText(rows: Map<string, string>): string {
  return ['s\tfactor\tnote', ...[...rows].map(([s, f]) => `${s}\t${f}\t-`)].join('\n') + '\n';
}

test('growing graphs, temporary outputs and sample sheets: every build equals a from-scratch build', (t) => {
  const started = Date.now();
  let builds = 0;
  // That the features were exercised: builds that grew the graph, freed temporary outputs, edited a table row.
  let grew = 0;
  let freed = 0;
  let rowEdits = 0;
  for (let seed = 1; seed <= 4; seed++) {
    const check = seed % 2 === 0 ? 'hash' : 'mtime';
    const r = rng(seed * 104729);
    const pick = (n: number) => Math.floor(r() * n);
    const pipeline = randomPipeline(r, seed);
    const { steps } = pipeline;

    // The sources, as the next from-scratch build gets them.
    const sources: Files = { Rulefile: rulefile(pipeline) };
    const scripts = ['tools/split.sh', 'tools/chunk.sh', 'tools/merge.sh', ...steps.map((_, i) => `tools/step${i}.sh`)];
    const versions = new Map(scripts.map((s) => [s, 0]));
    for (const s of scripts) sources[s] = script(s, 0);
    for (const s of SOURCES) sources[s] = `${s}\n`;
    const catalogs = new Map<string, Map<string, string>>();
    for (const s of SAMPLES) {
      const lines = new Map<string, string>();
      for (const id of IDS) if (r() < 0.5) lines.set(id, `${s}-${id}`);
      catalogs.set(s, lines);
      sources[`cat/${s}.txt`] = catalogText(lines);
    }
    const rows = new Map([
      ['a', '2'],
      ['b', '3'],
    ]);
    if (pipeline.table) sources['samples.tsv'] = tableText(rows);

    const p = project(t, sources);
    const history: string[] = [];
    /** Every path some from-scratch build made: what an orphan may be. */
    const everMade = new Set<string>();
    let fresh: { key: string; files: Map<string, string> } | undefined;
    const desc = `seed ${seed} (${check}; table ${pipeline.table}, temp chunks ${pipeline.tempChunks}, listing ${pipeline.listing}, temp steps ${steps.filter((s) => s.temp).map((s) => s.out).join(',') || '-'})`;

    for (let round = 0; round < 6; round++) {
      const where = `${desc} round ${round} after [${history.join('; ')}]`;
      const jobs = `-j${1 + pick(4)}`;
      const b = p.run(['build', jobs, '--check', check]);
      assert.equal(b.status, 0, `${where}\n${show(b)}`);
      builds++;
      if (/ made: \d+ more jobs? to run for /.test(b.stdout)) grew++;
      if (/^rules: freed .* of temporary outputs$/m.test(b.stdout)) freed++;

      // A from-scratch build of the same sources (made again only when they changed).
      const key = JSON.stringify(Object.entries(sources).sort());
      if (fresh?.key !== key) {
        const q = new Project(sources);
        try {
          const f = q.run(['build', '-j2', '--check', check]);
          assert.equal(f.status, 0, `${where}: the from-scratch build failed\n${show(f)}`);
          fresh = { key, files: tree(q.dir) };
        } finally {
          q.cleanup();
        }
        for (const path of fresh.files.keys()) everMade.add(path);
      }
      const now = tree(p.dir);
      // The from-scratch build is made by the same engine: the merges are also checked against
      // what the catalogs and the table say, so a graph that never grows cannot pass.
      for (const s of pipeline.table ? [...rows.keys()] : ['a', 'b']) {
        const factor = pipeline.table ? rows.get(s)! : '1';
        const ids = [...catalogs.get(s)!.keys()].sort();
        const chunk = (id: string) => `== per/${s}/${id}.txt\n${sources['tools/chunk.sh']}${catalogs.get(s)!.get(id)} x${factor}\n`;
        assert.equal(now.get(`merged/${s}.txt`), sources['tools/merge.sh'] + ids.map(chunk).join(''), `${where}: merged/${s}.txt`);
      }
      for (const [file, text] of fresh.files) {
        assert.ok(now.has(file), `${where}: ${file}, which a from-scratch build makes, is missing`);
        assert.equal(now.get(file), text, `${where}: ${file} is not what a from-scratch build makes`);
      }
      const temps = [...steps.filter((s) => s.temp).map((s) => s.out)];
      if (pipeline.tempChunks) for (const [s, lines] of catalogs) for (const id of lines.keys()) temps.push(`per/${s}/${id}.txt`);
      for (const file of temps) assert.ok(!now.has(file), `${where}: the temporary output ${file} was left behind`);
      for (const file of now.keys()) assert.ok(fresh.files.has(file) || everMade.has(file), `${where}: ${file} is in the tree but no from-scratch build ever made it`);

      const dry = p.run(['build', '-n', '--check', check]);
      assert.equal(dry.status, 0, `${where}\n${show(dry)}`);
      assert.equal(dry.stdout, '', `${where}: a dry run right after a build has work to do\n${show(dry)}`);
      assert.match(dry.stderr, /^rules: nothing to do$/m, `${where}\n${show(dry)}`);
      const again = p.run(['build', jobs, '--check', check]);
      assert.equal(again.status, 0, `${where}\n${show(again)}`);
      assert.equal(again.stdout, 'rules: nothing to do\n', `${where}: a second build ran something\n${show(again)}`);

      // One to three edits for the next round.
      for (let k = 1 + pick(3); k > 0; k--) {
        const s = SAMPLES[pick(pipeline.table && rows.has('c') ? 3 : 2)]!;
        const lines = catalogs.get(s)!;
        const writeCatalog = () => {
          sources[`cat/${s}.txt`] = catalogText(lines);
          p.write({ [`cat/${s}.txt`]: sources[`cat/${s}.txt`]! });
        };
        const writeTable = () => {
          sources['samples.tsv'] = tableText(rows);
          p.write({ 'samples.tsv': sources['samples.tsv'] });
        };
        // The last edit of some rounds is fixed, so that every seed has the edits that matter
        // most: with a table, every other round a row's value (a job depends on its own row
        // only); an output edited by hand (hash) or deleted; a catalog line changed, which
        // reruns a merge whose other temporary inputs are gone.
        const fixed = pipeline.table && round % 2 === 1 ? 3 : round === 2 ? (check === 'hash' ? 10 : 8) : round === 4 ? 2 : undefined;
        const what = k === 1 && fixed !== undefined ? fixed : pick(check === 'hash' ? 11 : 10);
        if (what === 0) {
          const id = IDS.find((i) => !lines.has(i));
          if (id) lines.set(id, `${s}-${id}-${round}`), history.push(`cat ${s} +${id}`);
          writeCatalog();
        } else if (what === 1) {
          const ids = [...lines.keys()];
          if (ids.length > 0) {
            const id = ids[pick(ids.length)]!;
            lines.delete(id), history.push(`cat ${s} -${id}`);
          }
          writeCatalog();
        } else if (what === 2) {
          const ids = [...lines.keys()];
          if (ids.length > 0) {
            const id = ids[pick(ids.length)]!;
            lines.set(id, `${s}-${id}-v${seed}.${round}`), history.push(`cat ${s} ~${id}`);
          }
          writeCatalog();
        } else if (what === 3 && pipeline.table) {
          const row = [...rows.keys()][pick(rows.size)]!;
          rows.set(row, `${pick(9)}${round}`), history.push(`row ${row} = ${rows.get(row)}`);
          rowEdits++;
          writeTable();
        } else if (what === 4 && pipeline.table) {
          if (rows.has('c')) rows.delete('c'), history.push('row c removed');
          else rows.set('c', `${pick(9)}`), history.push('row c added');
          writeTable();
        } else if (what <= 5) {
          const src = SOURCES[pick(SOURCES.length)]!;
          sources[src] = `${src} ${seed}.${round}\n`;
          p.write({ [src]: sources[src] }), history.push(`edit ${src}`);
        } else if (what === 6) {
          const file = r() < 0.5 ? SOURCES[pick(SOURCES.length)]! : `cat/${s}.txt`;
          fs.utimesSync(p.path(file), new Date(), new Date()), history.push(`touch ${file}`);
        } else if (what === 7) {
          const file = scripts[pick(scripts.length)]!;
          versions.set(file, versions.get(file)! + 1);
          sources[file] = script(file, versions.get(file)!);
          p.write({ [file]: sources[file] }), history.push(`script ${file}`);
        } else {
          // An output deleted, or (hash mode only: Make's rule under mtime) edited by hand.
          // A file inside a directory output is part of that output: under --check mtime, deleting
          // it is an edit by hand too (Make's rule: the directory is newer than its inputs).
          const outs = [...now.keys()].filter(
            (f) => fresh!.files.has(f) && !(f in sources) && p.exists(f) && !f.endsWith('/') && (check === 'hash' || !f.startsWith('chunks/')),
          );
          const dirs = [...now.keys()].filter((f) => /^chunks\/[a-c]\/$/.test(f) && p.exists(f));
          const file = what === 9 && dirs.length > 0 && r() < 0.5 ? dirs[pick(dirs.length)]! : outs[pick(outs.length)];
          if (file === undefined) continue;
          if (what === 10) p.write({ [file]: 'by hand\n' }), history.push(`edit ${file}`);
          else fs.rmSync(p.path(file), { recursive: true }), history.push(`rm ${file}`);
        }
      }
    }
    t.diagnostic(`${desc}: ${history.join('; ')}`);
  }
  assert.equal(builds, 24);
  assert.ok(grew > 0 && freed > 0 && rowEdits > 0, `grew ${grew}, freed ${freed}, table rows edited ${rowEdits}`);
  t.diagnostic(`${builds} builds in ${((Date.now() - started) / 1000).toFixed(1)} s`);
});
