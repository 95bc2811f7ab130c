// SPEC §7 "Data-dependent graphs" through the real CLI: a glob that looks
// inside another rule's directory output waits for that job, and the jobs it
// yields are planned and run in the same build (several levels deep too). A
// dry run marks the waiting job, `-n --json` lists the pending globs, `rules
// graph` draws them; a failed producer, an empty directory, a cycle or a
// missing source that appear only as the graph grows are reported; kill -9,
// SIGINT, -j and -k work as in any build; `rules watch` ignores what the
// build writes into the data-dependent directory.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { killOrphans, nonEmptyLines, project, show, waitFor, within, yaml, type AsyncRun, type Project, type RunResult } from './helpers.js';

const FAST_LINE = /^rules: all \d+ files as the last build left them$/m;
const WATCHING = /^rules: watching \d+ files? in \d+ director(y|ies); Ctrl-C to stop$/;

/**
 * A catalog per sample split into one file per line (`ID NAME` → chunks/S/ID.txt
 * holding NAME), a per-chunk job, and a merge over the chunks. Every job appends
 * what it is to ran.log. `sumExtra` runs at the start of each per-chunk job.
 */
function catalogRules(opts: { sumExtra?: string; splitExtra?: string } = {}): string {
  return yaml(
    'default: all',
    'rules:',
    '  all:',
    '    inputs: [merged/a.txt, merged/b.txt]',
    '  merge:',
    '    inputs:',
    '      - expand: "sums/{s}/{c}.txt"',
    '        c: { glob: "chunks/{s}/{c}.txt" }',
    '    outputs: "merged/{s}.txt"',
    '    run: echo merge {s} >> ran.log; cat {inputs} /dev/null > {output}',
    '  sum:',
    '    inputs: "chunks/{s}/{c}.txt"',
    '    outputs: "sums/{s}/{c}.txt"',
    `    run: echo sum {s} {c} >> ran.log; ${opts.sumExtra ?? ''}printf "%s %s\\n" {c} "$(tr a-z A-Z < {input})" > {output}`,
    '  split:',
    '    inputs: "catalog/{s}.txt"',
    '    outputs: "chunks/{s}/"',
    `    run: echo split {s} >> ran.log; ${opts.splitExtra ?? ''}while read id name; do echo "$name" > {output}/$id.txt; done < {input}`,
  );
}

const CATALOGS = { 'catalog/a.txt': 'm31 andromeda\nm33 triangulum\nm51 whirlpool\n', 'catalog/b.txt': 'm81 bode\nm82 cigar\n' };
const MERGED_B = 'm81 BODE\nm82 CIGAR\n';

/** `[N/M] label` and `[N/M+] label` progress lines of a non-TTY build's stdout. */
function progress(stdout: string): string[] {
  return nonEmptyLines(stdout).filter((l) => /^\[\d+\/\d+\+?\] /.test(l));
}

/** The labels of the jobs a non-TTY build says it ran, sorted. */
function ranLabels(stdout: string): string[] {
  return progress(stdout)
    .map((l) => l.slice(l.indexOf('] ') + 2))
    .sort();
}

/** The `rules: DIR/ made: …` lines of a build. */
function growLines(stdout: string): string[] {
  return nonEmptyLines(stdout).filter((l) => / made: \d+ more jobs? to run for /.test(l));
}

interface Built {
  r: RunResult;
  /** Labels of the progress lines, sorted. */
  ran: string[];
  /** What the commands appended to ran.log in this build, sorted. */
  log: string[];
}

function build(p: Project, ...args: string[]): Built {
  const before = p.lines().length;
  const r = p.run(['build', ...args]);
  assert.equal(r.status, 0, show(r));
  return { r, ran: ranLabels(r.stdout), log: p.lines().slice(before).sort() };
}

function assertNothingToDo(p: Project, ...args: string[]): void {
  const r = p.run(['build', ...args]);
  assert.equal(r.status, 0, show(r));
  assert.equal(r.stdout, 'rules: nothing to do\n', show(r));
}

/** Every file under `dirs` of the project (relative path → content): what a build made. */
function tree(p: Project, dirs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    const abs = p.path(rel);
    if (!fs.existsSync(abs)) return;
    if (fs.statSync(abs).isDirectory()) {
      for (const name of fs.readdirSync(abs).sort()) walk(path.join(rel, name));
    } else out[rel] = fs.readFileSync(abs, 'utf8');
  };
  for (const d of dirs) walk(d);
  return out;
}

const OUTPUT_DIRS = ['chunks', 'sums', 'merged'];

/** What a from-scratch build of `files` makes, in a fresh project. */
function fromScratch(t: Parameters<typeof project>[0], files: Record<string, string>, dirs = OUTPUT_DIRS): Record<string, string> {
  const fresh = project(t, files);
  build(fresh);
  return tree(fresh, dirs);
}

function dump(run: AsyncRun): string {
  return `--- stdout ---\n${run.stdout()}--- stderr ---\n${run.stderr()}`;
}

describe('a glob over a directory output another job makes', () => {
  test('dry run, JSON plan, one build makes everything, then nothing to do (the stamp answers)', (t) => {
    const p = project(t, { Rulefile: catalogRules(), ...CATALOGS });
    const dry = p.run(['build', '-n']);
    assert.equal(dry.status, 0, show(dry));
    assert.deepEqual(nonEmptyLines(dry.stdout), [
      'split[s=a] chunks/a: output missing: chunks/a',
      'split[s=b] chunks/b: output missing: chunks/b',
      'merge[s=a] merged/a.txt: upstream will run: chunks/a/',
      'merge[s=b] merged/b.txt: upstream will run: chunks/b/',
      'all: always',
    ]);

    const json = p.run(['build', '-n', '--json']);
    assert.equal(json.status, 0, show(json));
    const planned = JSON.parse(json.stdout) as { jobs: { rule: string; wildcards: Record<string, string>; inputs: string[]; reason: string }[]; pending: unknown };
    assert.deepEqual(planned.pending, [
      { glob: 'chunks/a/*.txt', after: 'split[s=a]' },
      { glob: 'chunks/b/*.txt', after: 'split[s=b]' },
    ]);
    assert.deepEqual(
      planned.jobs.map((j) => `${j.rule} ${JSON.stringify(j.wildcards)} ${JSON.stringify(j.inputs)}: ${j.reason}`),
      [
        'split {"s":"a"} ["catalog/a.txt"]: output missing: chunks/a',
        'split {"s":"b"} ["catalog/b.txt"]: output missing: chunks/b',
        'merge {"s":"a"} []: upstream will run: chunks/a/',
        'merge {"s":"b"} []: upstream will run: chunks/b/',
        'all {} ["merged/a.txt","merged/b.txt"]: always',
      ],
    );
    assert.equal(p.exists('chunks'), false, 'a dry run makes nothing');

    // One job at a time: the order in which the directories are made is known.
    const first = build(p, '-j1');
    assert.deepEqual(first.ran, [
      'merge[s=a]',
      'merge[s=b]',
      'split[s=a]',
      'split[s=b]',
      'sum[s=a,c=m31]',
      'sum[s=a,c=m33]',
      'sum[s=a,c=m51]',
      'sum[s=b,c=m81]',
      'sum[s=b,c=m82]',
    ]);
    assert.deepEqual(first.log, ['merge a', 'merge b', 'split a', 'split b', 'sum a m31', 'sum a m33', 'sum a m51', 'sum b m81', 'sum b m82']);
    // The total grows as each directory is made; a `+` while some glob still waits.
    assert.deepEqual(growLines(first.r.stdout), [
      'rules: chunks/a/ made: 3 more jobs to run for merge[s=a] (7 in all)',
      'rules: chunks/b/ made: 2 more jobs to run for merge[s=b] (9 in all)',
    ]);
    const lines = progress(first.r.stdout);
    assert.equal(lines[0], '[1/4+] split[s=a]');
    assert.equal(lines.at(-1), '[9/9] merge[s=b]');
    assert.match(first.r.stdout, /^rules: 9 jobs done in \d+\.\ds$/m);
    assert.equal(first.r.stderr, '');
    assert.equal(p.read('merged/a.txt'), 'm31 ANDROMEDA\nm33 TRIANGULUM\nm51 WHIRLPOOL\n');
    assert.equal(p.read('merged/b.txt'), MERGED_B);

    assertNothingToDo(p);
    const fast = p.run(['build', '-v']);
    assert.equal(fast.status, 0, show(fast));
    assert.match(fast.stderr, FAST_LINE, show(fast));
    assert.equal(fast.stdout, 'rules: nothing to do\n');
    // A dry run of the grown graph: nothing pending any more.
    const again = p.run(['build', '-n', '--json']);
    assert.deepEqual(JSON.parse(again.stdout), { jobs: [] });
  });

  // Editing the catalog: a line added, removed, changed. In hash mode the
  // chunks that come out the same are cut off; in mtime mode the remade
  // directory is newer than every per-chunk output, so they all rerun.
  for (const check of ['hash', 'mtime'] as const) {
    test(`editing the catalog reruns exactly what it must (--check ${check})`, (t) => {
      const p = project(t, { Rulefile: catalogRules(), ...CATALOGS });
      const mode = ['--check', check];
      build(p, ...mode);
      assertNothingToDo(p, ...mode);
      const changed = check === 'hash' ? 'input changed: catalog/a.txt' : 'input newer than output: catalog/a.txt';
      const edits: { what: string; catalog: string; made: string; hash: string[]; mtime: string[]; merged: string }[] = [
        {
          what: 'a line added',
          catalog: CATALOGS['catalog/a.txt'] + 'm101 pinwheel\n',
          made: 'rules: chunks/a/ made: 4 more jobs to run for merge[s=a] (6 in all)',
          hash: ['merge[s=a]', 'split[s=a]', 'sum[s=a,c=m101]'],
          mtime: ['merge[s=a]', 'split[s=a]', 'sum[s=a,c=m101]', 'sum[s=a,c=m31]', 'sum[s=a,c=m33]', 'sum[s=a,c=m51]'],
          merged: 'm101 PINWHEEL\nm31 ANDROMEDA\nm33 TRIANGULUM\nm51 WHIRLPOOL\n',
        },
        {
          what: 'a line removed',
          catalog: 'm31 andromeda\nm51 whirlpool\nm101 pinwheel\n',
          made: 'rules: chunks/a/ made: 3 more jobs to run for merge[s=a] (5 in all)',
          hash: ['merge[s=a]', 'split[s=a]'],
          mtime: ['merge[s=a]', 'split[s=a]', 'sum[s=a,c=m101]', 'sum[s=a,c=m31]', 'sum[s=a,c=m51]'],
          merged: 'm101 PINWHEEL\nm31 ANDROMEDA\nm51 WHIRLPOOL\n',
        },
        {
          what: 'a line changed',
          catalog: 'm31 andromeda\nm51 whirlpool-galaxy\nm101 pinwheel\n',
          made: 'rules: chunks/a/ made: 3 more jobs to run for merge[s=a] (5 in all)',
          hash: ['merge[s=a]', 'split[s=a]', 'sum[s=a,c=m51]'],
          mtime: ['merge[s=a]', 'split[s=a]', 'sum[s=a,c=m101]', 'sum[s=a,c=m31]', 'sum[s=a,c=m51]'],
          merged: 'm101 PINWHEEL\nm31 ANDROMEDA\nm51 WHIRLPOOL-GALAXY\n',
        },
      ];
      for (const e of edits) {
        p.write({ 'catalog/a.txt': e.catalog });
        const dry = p.run(['build', '-n', ...mode]);
        assert.deepEqual(nonEmptyLines(dry.stdout), [`split[s=a] chunks/a: ${changed}`, 'merge[s=a] merged/a.txt: upstream will run: chunks/a/', 'all: always'], `${e.what}\n${show(dry)}`);
        const b = build(p, ...mode);
        assert.deepEqual(b.ran, e[check], `${e.what}\n${show(b.r)}`);
        assert.deepEqual(
          b.log,
          e[check].map((l) => l.replace(/\[s=(\w+)(?:,c=(\w+))?\]$/, (_, s: string, c?: string) => ` ${s}${c ? ` ${c}` : ''}`)).sort(),
          e.what,
        );
        assert.deepEqual(growLines(b.r.stdout), [e.made], e.what);
        assert.equal(p.read('merged/a.txt'), e.merged, e.what);
        assert.equal(p.read('merged/b.txt'), MERGED_B, e.what);
        // Up to date, and the stamp the build left knows it: the remade directory is as the build saw it last.
        const fast = p.run(['build', '-v', ...mode]);
        assert.equal(fast.stdout, 'rules: nothing to do\n', `${e.what}\n${show(fast)}`);
        assert.match(fast.stderr, FAST_LINE, `${e.what}: the stamp answers\n${show(fast)}`);
      }
      // What the edits left is what a build from scratch makes (the records of removed chunks aside).
      const made = tree(p, ['merged']);
      assert.deepEqual(made, fromScratch(t, { Rulefile: catalogRules(), 'catalog/a.txt': edits.at(-1)!.catalog, 'catalog/b.txt': CATALOGS['catalog/b.txt'] }, ['merged']));
    });
  }

  test('several levels deep: chunks of chunks, each with a directory output of its own; and a plain inputs glob', (t) => {
    const rulefile = yaml(
      'default: all',
      'rules:',
      '  all:',
      '    inputs: [merged/a.txt, listing/a.txt]',
      '  merge:',
      '    inputs:',
      '      - expand: "chunkmerged/{s}/{c}.txt"',
      '        c: { glob: "chunks/{s}/{c}.txt" }',
      '    outputs: "merged/{s}.txt"',
      '    run: echo merge {s} >> ran.log; cat {inputs} /dev/null > {output}',
      '  listing:',
      '    inputs: "chunks/{s}/*.txt"',
      '    outputs: "listing/{s}.txt"',
      '    run: echo listing {s} >> ran.log; for f in {inputs}; do echo "$f"; done > {output}',
      '  chunkmerge:',
      '    inputs:',
      '      - expand: "counts/{s}/{c}/{w}.txt"',
      '        w: { glob: "words/{s}/{c}/{w}.txt" }',
      '    outputs: "chunkmerged/{s}/{c}.txt"',
      '    run: echo chunkmerge {s} {c} >> ran.log; cat {inputs} /dev/null > {output}',
      '  count:',
      '    inputs: "words/{s}/{c}/{w}.txt"',
      '    outputs: "counts/{s}/{c}/{w}.txt"',
      '    run: echo count {s} {c} {w} >> ran.log; echo {c} {w} $(wc -c < {input}) > {output}',
      '  words:',
      '    inputs: "chunks/{s}/{c}.txt"',
      '    outputs: "words/{s}/{c}/"',
      '    run: echo words {s} {c} >> ran.log; for w in $(cat {input}); do echo $w > {output}/$w.txt; done',
      '  split:',
      '    inputs: "catalog/{s}.txt"',
      '    outputs: "chunks/{s}/"',
      '    run: echo split {s} >> ran.log; while read id rest; do echo "$rest" > {output}/$id.txt; done < {input}',
    );
    const p = project(t, { Rulefile: rulefile, 'catalog/a.txt': 'm31 andromeda galaxy\nm51 whirlpool\n' });
    const dry = p.run(['build', '-n']);
    assert.deepEqual(nonEmptyLines(dry.stdout), [
      'split[s=a] chunks/a: output missing: chunks/a',
      'merge[s=a] merged/a.txt: upstream will run: chunks/a/',
      'listing[s=a] listing/a.txt: upstream will run: chunks/a/',
      'all: always',
    ]);
    // A plain glob and an expand glob over the same directory: each is pending, and it is as it is matched.
    assert.deepEqual(JSON.parse(p.run(['build', '-n', '--json']).stdout).pending, [
      { glob: 'chunks/a/*.txt', after: 'split[s=a]' },
      { glob: 'chunks/a/*.txt', after: 'split[s=a]' },
    ]);

    // One job at a time: with two, the two words jobs may finish in either order, and so the lines saying what each made.
    const first = build(p, '-j1');
    assert.deepEqual(first.ran, [
      'chunkmerge[s=a,c=m31]',
      'chunkmerge[s=a,c=m51]',
      'count[s=a,c=m31,w=andromeda]',
      'count[s=a,c=m31,w=galaxy]',
      'count[s=a,c=m51,w=whirlpool]',
      'listing[s=a]',
      'merge[s=a]',
      'split[s=a]',
      'words[s=a,c=m31]',
      'words[s=a,c=m51]',
    ]);
    assert.deepEqual(growLines(first.r.stdout), [
      'rules: chunks/a/ made: 4 more jobs to run for merge[s=a] (7 in all)',
      'rules: words/a/m31/ made: 2 more jobs to run for chunkmerge[s=a,c=m31] (9 in all)',
      'rules: words/a/m51/ made: 1 more job to run for chunkmerge[s=a,c=m51] (10 in all)',
    ]);
    assert.equal(progress(first.r.stdout).at(-1)!.startsWith('[10/10] '), true, first.r.stdout);
    assert.equal(p.read('merged/a.txt'), 'm31 andromeda 10\nm31 galaxy 7\nm51 whirlpool 10\n');
    assert.equal(p.read('listing/a.txt'), 'chunks/a/m31.txt\nchunks/a/m51.txt\n');
    assertNothingToDo(p);
    assert.match(p.run(['build', '-v']).stderr, FAST_LINE);

    // A word added to the second chunk: the second level grows by one job; the first chunk's jobs are cut off.
    p.write({ 'catalog/a.txt': 'm31 andromeda galaxy\nm51 whirlpool spiral\n' });
    const second = build(p);
    assert.deepEqual(second.ran, ['chunkmerge[s=a,c=m51]', 'count[s=a,c=m51,w=spiral]', 'listing[s=a]', 'merge[s=a]', 'split[s=a]', 'words[s=a,c=m51]'].sort());
    assert.deepEqual(second.log, ['chunkmerge a m51', 'count a m51 spiral', 'listing a', 'merge a', 'split a', 'words a m51']);
    assert.equal(p.read('merged/a.txt'), 'm31 andromeda 10\nm31 galaxy 7\nm51 spiral 7\nm51 whirlpool 10\n');
    assertNothingToDo(p);

    // A new chunk: both levels grow.
    p.write({ 'catalog/a.txt': 'm31 andromeda galaxy\nm51 whirlpool spiral\nm63 sunflower\n' });
    const third = build(p);
    assert.deepEqual(third.ran, ['chunkmerge[s=a,c=m63]', 'count[s=a,c=m63,w=sunflower]', 'listing[s=a]', 'merge[s=a]', 'split[s=a]', 'words[s=a,c=m63]']);
    assert.equal(p.read('listing/a.txt'), 'chunks/a/m31.txt\nchunks/a/m51.txt\nchunks/a/m63.txt\n');
    assert.equal(p.read('merged/a.txt'), 'm31 andromeda 10\nm31 galaxy 7\nm51 spiral 7\nm51 whirlpool 10\nm63 sunflower 10\n');
    assertNothingToDo(p);
    const dirs = ['chunks', 'words', 'counts', 'chunkmerged', 'merged', 'listing'];
    assert.deepEqual(tree(p, dirs), fromScratch(t, { Rulefile: rulefile, 'catalog/a.txt': p.read('catalog/a.txt') }, dirs));
  });

  test('a plain inputs glob alone waits too, and the job gets every file the producer made', (t) => {
    const rulefile = yaml(
      'rules:',
      '  cat:',
      '    inputs: "chunks/{s}/*.txt"',
      '    outputs: "all/{s}.txt"',
      '    run: echo cat {s} >> ran.log; cat {inputs} /dev/null > {output}',
      '  split:',
      '    inputs: "catalog/{s}.txt"',
      '    outputs: "chunks/{s}/"',
      '    run: echo split {s} >> ran.log; while read id name; do echo "$name" > {output}/$id.txt; done < {input}',
    );
    const p = project(t, { Rulefile: rulefile, 'catalog/a.txt': 'x1 one\nx2 two\n' });
    assert.deepEqual(nonEmptyLines(p.run(['build', '-n', 'all/a.txt']).stdout), [
      'split[s=a] chunks/a: output missing: chunks/a',
      'cat[s=a] all/a.txt: upstream will run: chunks/a/',
    ]);
    const b = build(p, 'all/a.txt');
    // No job joins the graph: the files are made by the producer itself.
    assert.deepEqual(progress(b.r.stdout), ['[1/2+] split[s=a]', '[2/2] cat[s=a]']);
    assert.deepEqual(growLines(b.r.stdout), []);
    assert.equal(b.r.stderr, '');
    assert.equal(p.read('all/a.txt'), 'one\ntwo\n');
    assertNothingToDo(p, 'all/a.txt');
    p.write({ 'catalog/a.txt': 'x1 one\nx2 two\nx3 three\n' });
    assert.deepEqual(build(p, 'all/a.txt').log, ['cat a', 'split a']);
    assert.equal(p.read('all/a.txt'), 'one\ntwo\nthree\n');
    assertNothingToDo(p, 'all/a.txt');
  });
});

describe('rules graph with a pending glob', () => {
  test('dot and JSON show one dashed node before the first build, the grown graph after', (t) => {
    const p = project(t, { Rulefile: catalogRules(), ...CATALOGS });
    const dot = p.run(['graph']);
    assert.equal(dot.status, 0, show(dot));
    const dotLines = dot.stdout.split('\n');
    for (const [s, split, merge, node] of [['a', 'j3', 'j1', 'p0'], ['b', 'j4', 'j2', 'p1']] as const) {
      const at = dotLines.indexOf(`  ${node} [label="chunks/${s}/*.txt`);
      assert.notEqual(at, -1, dot.stdout);
      assert.deepEqual(dotLines.slice(at + 1, at + 4), [
        `(known once split[s=${s}] has run)", shape=folder, style=dashed];`,
        `  ${split} -> ${node} [style=dashed];`,
        `  ${node} -> ${merge} [style=dashed];`,
      ]);
      // The edge from split to merge goes through the pending node only.
      assert.equal(dotLines.includes(`  ${split} -> ${merge};`), false, dot.stdout);
    }
    assert.doesNotMatch(dot.stdout, /sum\[/);

    type GraphJob = { id: number; label: string; inputs: string[]; deps: number[]; pending?: { glob: string; after: number }[]; stale: boolean; reason?: string };
    const before = JSON.parse(p.run(['graph', '--format', 'json']).stdout) as { jobs: GraphJob[] };
    const byLabel = (jobs: GraphJob[], label: string) => jobs.find((j) => j.label === label)!;
    const splitA = byLabel(before.jobs, 'split[s=a]');
    const mergeA = byLabel(before.jobs, 'merge[s=a]');
    assert.deepEqual(mergeA.pending, [{ glob: 'chunks/a/*.txt', after: splitA.id }]);
    assert.deepEqual(mergeA.inputs, []);
    assert.deepEqual(mergeA.deps, [splitA.id]);
    assert.equal(mergeA.reason, 'upstream will run: chunks/a/');
    assert.deepEqual(before.jobs.map((j) => j.label).sort(), ['all', 'merge[s=a]', 'merge[s=b]', 'split[s=a]', 'split[s=b]']);

    build(p);
    const grown = p.run(['graph']).stdout;
    assert.doesNotMatch(grown, /folder|known once/);
    assert.match(grown, /sum\[s=a,c=m33\]\nsums\/a\/m33\.txt"/);
    const after = JSON.parse(p.run(['graph', '--format', 'json']).stdout) as { jobs: GraphJob[] };
    const merged = byLabel(after.jobs, 'merge[s=a]');
    assert.equal(merged.pending, undefined);
    assert.deepEqual(merged.inputs, ['sums/a/m31.txt', 'sums/a/m33.txt', 'sums/a/m51.txt']);
    assert.deepEqual(merged.deps.map((d) => after.jobs.find((j) => j.id === d)!.label).sort(), ['split[s=a]', 'sum[s=a,c=m31]', 'sum[s=a,c=m33]', 'sum[s=a,c=m51]']);
    assert.equal(after.jobs.length, 10);
    assert.equal(after.jobs.every((j) => !j.stale), true);
  });
});

describe('bad input in a growing graph', () => {
  test('a producer that fails: its consumer is not run, and says why; with -k the other branch completes', (t) => {
    const rulefile = catalogRules({ splitExtra: 'if grep -q fail {input}; then exit 3; fi; ' });
    const p = project(t, { Rulefile: rulefile, ...CATALOGS, 'catalog/a.txt': 'm31 andromeda\nfail here\n' });
    const waits = "rules: merge[s=a] not run: its glob 'chunks/a/*.txt' waits for split[s=a], which failed";
    const stopped = p.run(['build', '-j1']);
    assert.equal(stopped.status, 1, show(stopped));
    assert.match(stopped.stderr, /^FAILED: split\[s=a\]: exit status 3$/m);
    assert.ok(nonEmptyLines(stopped.stderr).includes(waits), show(stopped));
    assert.deepEqual(p.lines(), ['split a'], 'the build stopped at the failure');
    assert.equal(p.exists('chunks/a'), false, "the failed job's directory is removed");
    assert.equal(p.exists('merged'), false);

    const kept = p.run(['build', '-j1', '-k']);
    assert.equal(kept.status, 1, show(kept));
    assert.ok(nonEmptyLines(kept.stderr).includes(waits), show(kept));
    assert.equal(nonEmptyLines(kept.stderr).filter((l) => l.includes('not run: its glob')).length, 1, 'said once');
    assert.deepEqual(ranLabels(kept.stdout), ['merge[s=b]', 'split[s=b]', 'sum[s=b,c=m81]', 'sum[s=b,c=m82]']);
    assert.equal(p.read('merged/b.txt'), MERGED_B);
    assert.equal(p.exists('merged/a.txt'), false);
    assert.equal(p.exists('sums/a'), false);

    p.write({ 'catalog/a.txt': 'm31 andromeda\nm32 here\n' });
    const fixed = build(p);
    assert.deepEqual(fixed.ran, ['merge[s=a]', 'split[s=a]', 'sum[s=a,c=m31]', 'sum[s=a,c=m32]']);
    assert.equal(p.read('merged/a.txt'), 'm31 ANDROMEDA\nm32 HERE\n');
    assertNothingToDo(p);
  });

  test('a producer that writes no matching file: a warning, and the consumer runs with no inputs', (t) => {
    const p = project(t, { Rulefile: catalogRules(), ...CATALOGS, 'catalog/a.txt': '' });
    const b = build(p);
    assert.deepEqual(b.r.stderr, "rules: warning: the glob 'chunks/a/*.txt' of merge[s=a] matched nothing in chunks/a/ after split[s=a] ran\n");
    assert.deepEqual(b.ran, ['merge[s=a]', 'merge[s=b]', 'split[s=a]', 'split[s=b]', 'sum[s=b,c=m81]', 'sum[s=b,c=m82]']);
    assert.deepEqual(growLines(b.r.stdout), ['rules: chunks/b/ made: 2 more jobs to run for merge[s=b] (6 in all)']);
    assert.equal(p.read('merged/a.txt'), '');
    assert.deepEqual(fs.readdirSync(p.path('chunks/a')), []);
    assert.equal(p.read('merged/b.txt'), MERGED_B);
    const again = p.run(['build']);
    assert.equal(again.stdout, 'rules: nothing to do\n', show(again));
    assert.equal(again.stderr, '', 'the producer did not run: no warning');
    // A chunk appears: the consumer gets it.
    p.write({ 'catalog/a.txt': 'm1 one\n' });
    assert.deepEqual(build(p).ran, ['merge[s=a]', 'split[s=a]', 'sum[s=a,c=m1]']);
    assert.equal(p.read('merged/a.txt'), 'm1 ONE\n');
  });

  /** Chunk `loop` needs the merge of its own sample: a cycle no one sees before split has run. */
  const CYCLE = (extra: string[] = []) =>
    catalogRules().replace(
      '  sum:\n',
      yaml('  loopsum:', '    inputs: ["chunks/{s}/loop.txt", "merged/{s}.txt"]', '    outputs: "sums/{s}/loop.txt"', '    run: echo loopsum {s} >> ran.log; cat {inputs} > {output}', ...extra) + '  sum:\n',
    );
  const CYCLE_MESSAGE = "rules: dependency cycle (once rule 'merge' saw what split[s=a] made): merged/a.txt -> sums/a/loop.txt -> merged/a.txt";

  test('a cycle that appears only once the graph grows: exit 2, the cycle printed, nothing of it on disk; -k finishes the rest', (t) => {
    const files = { Rulefile: CYCLE(), ...CATALOGS, 'catalog/a.txt': 'm31 andromeda\nloop around\n' };
    const p = project(t, files);
    // Before split has run, nothing is wrong.
    const dry = p.run(['build', '-n']);
    assert.equal(dry.status, 0, show(dry));

    const r = p.run(['build', '-j1']);
    assert.equal(r.status, 2, show(r));
    assert.ok(nonEmptyLines(r.stderr).includes(CYCLE_MESSAGE), show(r));
    assert.match(r.stderr, /dependency cycle/);
    assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, 'no stack trace');
    assert.deepEqual(p.lines(), ['split a'], 'nothing of the cycle ran');
    for (const f of ['merged/a.txt', 'sums/a/loop.txt', 'sums/a/m31.txt']) assert.equal(p.exists(f), false, f);

    const q = project(t, files);
    const k = q.run(['build', '-j1', '-k']);
    assert.equal(k.status, 2, show(k));
    assert.ok(nonEmptyLines(k.stderr).includes(CYCLE_MESSAGE), show(k));
    assert.deepEqual(ranLabels(k.stdout), ['merge[s=b]', 'split[s=a]', 'split[s=b]', 'sum[s=b,c=m81]', 'sum[s=b,c=m82]']);
    assert.equal(q.read('merged/b.txt'), MERGED_B);
    for (const f of ['merged/a.txt', 'sums/a/loop.txt', 'sums/a/m31.txt']) assert.equal(q.exists(f), false, f);

    // Now that split is up to date, the cycle is there from the start: a graph error before anything runs.
    const before = q.lines().length;
    const next = q.run(['build', '-k']);
    assert.equal(next.status, 2, show(next));
    assert.match(next.stderr, /dependency cycle.*merged\/a\.txt -> sums\/a\/loop\.txt -> merged\/a\.txt/);
    assert.equal(q.lines().length, before, 'nothing ran');

    // Without the looping chunk it builds.
    q.write({ 'catalog/a.txt': 'm31 andromeda\n' });
    assert.deepEqual(build(q).ran, ['merge[s=a]', 'split[s=a]', 'sum[s=a,c=m31]']);
    assert.equal(q.read('merged/a.txt'), 'm31 ANDROMEDA\n');
    assertNothingToDo(q);
  });

  test('a source that a new job needs is missing: exit 2, no rule to make it; -k finishes the rest', (t) => {
    // Each chunk's job also reads refs/ID.ref, a source.
    const rulefile = catalogRules()
      .replace('    inputs: "chunks/{s}/{c}.txt"\n', '    inputs: { chunk: "chunks/{s}/{c}.txt", ref: "refs/{c}.ref" }\n')
      .replace('tr a-z A-Z < {input}', 'tr a-z A-Z < {inputs.chunk}');
    const refLine = rulefile.split('\n').findIndex((l) => l.includes('refs/{c}.ref')) + 1;
    const refCol = rulefile.split('\n')[refLine - 1]!.indexOf('"refs/') + 1;
    const p = project(t, { Rulefile: rulefile, ...CATALOGS, 'catalog/a.txt': 'm31 andromeda\nm99 nowhere\n', 'refs/m31.ref': '', 'refs/m81.ref': '', 'refs/m82.ref': '' });
    const r = p.run(['build', '-k']);
    assert.equal(r.status, 2, show(r));
    assert.ok(nonEmptyLines(r.stderr).includes(`Rulefile:${refLine}:${refCol}: no rule to make 'refs/m99.ref' (needed by 'sums/a/m99.txt')`), show(r));
    assert.equal(p.read('merged/b.txt'), MERGED_B, 'the other branch was built');
    for (const f of ['merged/a.txt', 'sums/a/m31.txt', 'sums/a/m99.txt']) assert.equal(p.exists(f), false, f);
    p.write({ 'refs/m99.ref': '' });
    assert.deepEqual(build(p).ran, ['merge[s=a]', 'sum[s=a,c=m31]', 'sum[s=a,c=m99]']);
    assert.equal(p.read('merged/a.txt'), 'm31 ANDROMEDA\nm99 NOWHERE\n');
    assertNothingToDo(p);
  });
});

describe('a growing build interrupted, and in parallel', () => {
  /** Each per-chunk job sleeps while the file `slow` exists. */
  const SLOW = catalogRules({ sumExtra: 'echo partial > {output}; if [ -e slow ]; then sleep 30; fi; ' });

  /** The per-chunk outputs written only in part (by a job still sleeping, or killed). */
  const partial = (p: Project) => Object.entries(tree(p, ['sums'])).filter(([, text]) => text === 'partial\n').map(([f]) => f);

  /** Waits until the graph has grown and two per-chunk jobs sleep, their outputs half-written. */
  const sleepingChunks = (p: Project, run: AsyncRun) =>
    waitFor(() => / made: \d+ more jobs to run for merge/.test(run.stdout()) && partial(p).length >= 2, 'two per-chunk jobs to sleep').catch((e: Error) => {
      throw new Error(`${e.message}\n${dump(run)}`);
    });

  test('kill -9 of rules while the jobs the glob yielded run: the next build finishes, then nothing to do, as from scratch', async (t) => {
    const p = project(t, { Rulefile: SLOW, ...CATALOGS, slow: '' });
    const run = p.start(['build', '-j2']);
    await sleepingChunks(p, run);
    run.child.kill('SIGKILL');
    const killed = await within(run.done, 10_000, 'rules to die');
    assert.equal(killed.signal, 'SIGKILL');
    await killOrphans(p);
    assert.ok(partial(p).length >= 2, 'half-written outputs are left');

    fs.rmSync(p.path('slow'));
    const again = p.run(['build']);
    assert.equal(again.status, 0, show(again));
    assert.doesNotMatch(again.stderr, /warning|lock/, show(again));
    assertNothingToDo(p);
    assert.deepEqual(tree(p, OUTPUT_DIRS), fromScratch(t, { Rulefile: SLOW, ...CATALOGS }));
    assert.equal(p.read('merged/a.txt'), 'm31 ANDROMEDA\nm33 TRIANGULUM\nm51 WHIRLPOOL\n');
  });

  test('SIGINT while the jobs the glob yielded run: exit 130, and the next build finishes it', async (t) => {
    const p = project(t, { Rulefile: SLOW, ...CATALOGS, slow: '' });
    const run = p.start(['build', '-j2']);
    await sleepingChunks(p, run);
    run.child.kill('SIGINT');
    const r = await within(run.done, 15_000, 'rules to exit after SIGINT');
    assert.equal(r.status, 130, show(r));
    assert.match(r.stderr, /interrupted/);
    assert.equal(p.exists('.rules/lock'), false, 'the lock is released');
    assert.deepEqual(partial(p), [], "the interrupted jobs' outputs are removed");
    fs.rmSync(p.path('slow'));
    const again = p.run(['build']);
    assert.equal(again.status, 0, show(again));
    assertNothingToDo(p);
    assert.deepEqual(tree(p, OUTPUT_DIRS), fromScratch(t, { Rulefile: SLOW, ...CATALOGS }));
  });

  test('-j1 and -j4 make the same outputs, each job after what it needs', (t) => {
    const files = { Rulefile: catalogRules(), ...CATALOGS };
    const made: Record<string, string>[] = [];
    for (const j of ['1', '4']) {
      const p = project(t, files);
      const b = build(p, '-j', j);
      const order = progress(b.r.stdout).map((l) => l.slice(l.indexOf('] ') + 2));
      assert.equal(order.length, 9, `-j${j}\n${show(b.r)}`);
      const at = (label: string) => order.indexOf(label);
      for (const s of ['a', 'b']) {
        const sums = order.filter((l) => l.startsWith(`sum[s=${s},`));
        for (const sum of sums) {
          assert.ok(at(`split[s=${s}]`) < at(sum), `-j${j}: ${sum} after its split`);
          assert.ok(at(sum) < at(`merge[s=${s}]`), `-j${j}: ${sum} before its merge`);
        }
      }
      assertNothingToDo(p);
      made.push(tree(p, OUTPUT_DIRS));
    }
    assert.deepEqual(made[0], made[1]);
  });
});

describe('rules watch with a growing graph', () => {
  test("what the build writes into the data-dependent directory never starts a build; a catalog edit does, and it grows", async (t) => {
    const p = project(t, { Rulefile: catalogRules(), ...CATALOGS });
    const run = p.start(['watch']);
    const builds = () => nonEmptyLines(run.stdout()).filter((l) => WATCHING.test(l)).length;
    const changed = () => nonEmptyLines(run.stdout()).filter((l) => l.startsWith('rules: changed: '));
    const idle = (k: number) =>
      waitFor(() => builds() >= k || run.child.exitCode !== null, `watching line #${k}`).catch((e: Error) => {
        throw new Error(`${e.message}\n${dump(run)}`);
      });
    await idle(1);
    assert.equal(p.read('merged/a.txt'), 'm31 ANDROMEDA\nm33 TRIANGULUM\nm51 WHIRLPOOL\n');
    assert.equal(growLines(run.stdout()).length, 2, dump(run));
    // The chunks the build wrote (and the outputs made from them) start nothing.
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(builds(), 1, `no second build\n${dump(run)}`);
    assert.deepEqual(changed(), []);

    p.write({ 'catalog/a.txt': CATALOGS['catalog/a.txt'] + 'm101 pinwheel\n' });
    await idle(2);
    assert.deepEqual(changed(), ['rules: changed: catalog/a.txt; building'], dump(run));
    const second = run.stdout().slice(run.stdout().indexOf('rules: changed:'));
    assert.deepEqual(growLines(second), ['rules: chunks/a/ made: 4 more jobs to run for merge[s=a] (6 in all)']);
    assert.deepEqual(ranLabels(second), ['merge[s=a]', 'split[s=a]', 'sum[s=a,c=m101]']);
    assert.equal(p.read('merged/a.txt'), 'm101 PINWHEEL\nm31 ANDROMEDA\nm33 TRIANGULUM\nm51 WHIRLPOOL\n');
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(builds(), 2, `no third build\n${dump(run)}`);

    run.child.kill('SIGINT');
    const r = await within(run.done, 10_000, 'rules watch to exit');
    assert.equal(r.status, 130, dump(run));
    assert.equal(run.stderr(), '', dump(run));
  });
});
