// SPEC §6 "Directories" through the real CLI: a directory input stands for
// every file under it (an edit inside reruns its job, never answered by the
// up-to-date stamp; `rules watch` reacts to it); directory outputs
// (`chunks/{sample}/`) are made empty, filled by the job, removed whole by
// `rules clean`, and their own writes never trigger `rules watch`.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { nonEmptyLines, project, show, waitFor, within, yaml, type AsyncRun, type Project } from './helpers.js';

const FAST_LINE = /^rules: all \d+ files as the last build left them$/m;

/** `report` reads the whole of `data/`; every run appends to runs.log. */
const READER = yaml(
  'rules:',
  '  report:',
  '    inputs: data',
  '    outputs: report.txt',
  '    run: echo report >> runs.log; find {input} -type f | sort > {output}',
);

/** One directory of chunks per sample; `summary` reads a file inside one and another whole. */
const SPLIT = yaml(
  'rules:',
  '  summary:',
  '    inputs: { part: "chunks/s1/part0.txt", dir: "chunks/s2/" }',
  '    outputs: summary.txt',
  '    run: echo summary >> runs.log; cat {inputs.part} > {output}; ls {inputs.dir} >> {output}',
  '  split:',
  '    inputs: "raw/{sample}.txt"',
  '    outputs: "chunks/{sample}/"',
  '    run: echo split {sample} >> runs.log; test -z "$(ls -A {output})" && split -l 1 -d -a 1 --additional-suffix=.txt {input} {output}/part',
);

function build(p: Project, ...args: string[]): { stdout: string; stderr: string; ran: string[] } {
  const before = p.exists('runs.log') ? p.lines('runs.log').length : 0;
  const r = p.run(['build', '-v', ...args]);
  assert.equal(r.status, 0, show(r));
  return { stdout: r.stdout, stderr: r.stderr, ran: (p.exists('runs.log') ? p.lines('runs.log') : []).slice(before).sort() };
}

describe('a directory input', () => {
  test('an edit, an addition, a removal inside reruns the job (input changed: data); a touch does not', (t) => {
    const p = project(t, { Rulefile: READER, 'data/a.txt': 'a\n', 'data/sub/b.txt': 'b\n' });
    assert.deepEqual(build(p).ran, ['report']);
    assert.equal(p.read('report.txt'), 'data/a.txt\ndata/sub/b.txt\n');

    const edits: [string, () => void][] = [
      ['edit', () => p.write({ 'data/sub/b.txt': 'b2\n' })],
      ['add', () => p.write({ 'data/c.txt': 'c\n' })],
      ['remove', () => fs.unlinkSync(p.path('data/a.txt'))],
      ['link', () => fs.symlinkSync('c.txt', p.path('data/l'))],
    ];
    for (const [what, edit] of edits) {
      edit();
      const dry = p.run(['build', '-n']);
      assert.equal(dry.stdout, 'report report.txt: input changed: data\n', `${what}\n${show(dry)}`);
      const b = build(p);
      assert.deepEqual(b.ran, ['report'], what);
      assert.doesNotMatch(b.stderr, FAST_LINE, what);
      assert.equal(build(p).stderr.match(FAST_LINE) !== null, true, `${what}: then up to date, from the stamp`);
    }
    assert.equal(p.read('report.txt'), 'data/c.txt\ndata/sub/b.txt\n');

    const later = new Date(Date.now() + 5000);
    fs.utimesSync(p.path('data/c.txt'), later, later);
    const touched = build(p);
    assert.deepEqual(touched.ran, [], 'a touch changes no content');
    assert.match(touched.stdout, /nothing to do/);
  });

  test('--check mtime: a file inside newer than the output', (t) => {
    const p = project(t, { Rulefile: READER, 'data/a.txt': 'a\n' });
    assert.deepEqual(build(p, '--check', 'mtime').ran, ['report']);
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(p.path('data/a.txt'), later, later);
    const dry = p.run(['build', '-n', '--check', 'mtime']);
    assert.equal(dry.stdout, 'report report.txt: input newer than output: data\n', show(dry));
  });

  test('the up-to-date stamp never answers for an edit deep inside it', (t) => {
    const p = project(t, { Rulefile: READER, 'data/x/y/z.txt': 'z\n' });
    build(p);
    assert.match(build(p).stderr, FAST_LINE);
    // Same size, a new mtime, new content: only the file's own stat says so.
    p.write({ 'data/x/y/z.txt': 'Z\n' });
    const b = build(p);
    assert.doesNotMatch(b.stderr, FAST_LINE, show({ status: 0, signal: null, ...b }));
    assert.deepEqual(b.ran, ['report']);
  });

  test('a FIFO inside is never read (the build would hang): it counts as a file of its kind, and the build ends', (t) => {
    const p = project(t, { Rulefile: READER, 'data/a.txt': 'a\n' });
    assert.equal(spawnSync('mkfifo', [p.path('data/pipe')]).status, 0);
    assert.deepEqual(build(p).ran, ['report']);
    assert.deepEqual(build(p).ran, []);
    p.write({ 'data/a.txt': 'A\n' });
    assert.deepEqual(build(p).ran, ['report']);
  });

  test('a file inside that cannot be read fails the job before it runs, naming the job and the file', (t) => {
    if (process.getuid?.() === 0) return t.skip('root reads any file');
    const p = project(t, { Rulefile: READER, 'data/a.txt': 'a\n', 'data/secret.txt': 's\n' });
    fs.chmodSync(p.path('data/secret.txt'), 0o000);
    t.after(() => fs.chmodSync(p.path('data/secret.txt'), 0o644));
    const r = p.run(['build']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stdout + r.stderr, /FAILED: report: cannot read 'data\/secret\.txt' in input directory 'data': permission denied; the job was not run/);
    assert.equal(p.exists('runs.log'), false, 'the command never ran');
  });
});

describe('directory outputs', () => {
  test('made empty, filled by the job, read inside by path; a stale file is gone on rerun; clean removes it whole', (t) => {
    const p = project(t, { Rulefile: SPLIT, 'raw/s1.txt': '1a\n1b\n', 'raw/s2.txt': '2a\n', 'chunks/mine.txt': 'keep\n' });
    assert.deepEqual(build(p).ran, ['split s1', 'split s2', 'summary']);
    assert.equal(p.read('summary.txt'), '1a\npart0.txt\n');
    assert.match(build(p).stderr, FAST_LINE);

    // Something written inside by hand: output modified, and the directory is made afresh.
    p.write({ 'chunks/s1/stray.txt': 'x\n' });
    const dry = p.run(['build', '-n']);
    assert.equal(dry.stdout, 'split[sample=s1] chunks/s1: output modified: chunks/s1\nsummary summary.txt: upstream will run: chunks/s1/part0.txt\n', show(dry));
    assert.deepEqual(build(p).ran, ['split s1']);
    assert.equal(p.exists('chunks/s1/stray.txt'), false);
    assert.equal(p.read('chunks/mine.txt'), 'keep\n');

    const n = p.run(['clean', '-n']);
    assert.equal(n.status, 0, show(n));
    assert.deepEqual(nonEmptyLines(n.stdout).sort(), ['would remove chunks/s1/', 'would remove chunks/s2/', 'would remove summary.txt']);
    assert.equal(p.exists('chunks/s1/part0.txt'), true, '-n deletes nothing');
    const c = p.run(['clean']);
    assert.equal(c.status, 0, show(c));
    assert.match(c.stderr, /removed 1 file and 2 directories/);
    assert.equal(p.exists('chunks/s1'), false);
    assert.equal(p.exists('chunks/s2'), false);
    assert.equal(p.read('chunks/mine.txt'), 'keep\n');
    assert.equal(p.read('raw/s1.txt'), '1a\n1b\n');
  });

  test('a job that leaves a file where its directory output should be fails naming it', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  d:', '    outputs: "out/"', '    run: rmdir {output}; echo x > {output}'),
    });
    const r = p.run(['build']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stdout + r.stderr, /FAILED: d: the command succeeded but directory output 'out\/' is not a directory \(a file is there\)/);
    assert.equal(p.exists('out'), false, 'removed after the failure');
  });

  test('removing it never follows a symbolic link out of it', (t) => {
    const p = project(t, { Rulefile: SPLIT, 'raw/s1.txt': '1\n', 'raw/s2.txt': '2\n', 'precious/keep.txt': 'keep\n' });
    build(p);
    fs.symlinkSync('../../precious', p.path('chunks/s1/link'));
    p.write({ 'raw/s1.txt': '1b\n' });
    build(p);
    assert.equal(p.read('precious/keep.txt'), 'keep\n');
    assert.equal(p.exists('chunks/s1/link'), false);
  });
});

// ---- watch -------------------------------------------------------------

const WATCHING = /^rules: watching \d+ files? in \d+ director(y|ies); Ctrl-C to stop$/gm;

function dump(run: AsyncRun): string {
  return `--- stdout ---\n${run.stdout()}--- stderr ---\n${run.stderr()}`;
}

/** Waits until `k` builds have finished and the watcher is idle again. */
async function idle(run: AsyncRun, k: number): Promise<void> {
  try {
    await waitFor(() => (run.stdout().match(WATCHING)?.length ?? 0) >= k || run.child.exitCode !== null, `watching line #${k}`, 15_000);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${dump(run)}`);
  }
  assert.equal(run.child.exitCode, null, dump(run));
  assert.equal(run.stdout().match(WATCHING)!.length, k, `exactly ${k} builds\n${dump(run)}`);
}

describe('rules watch and directories', () => {
  test('a file created, edited or removed inside a directory input rebuilds; what a directory output job writes does not', async (t) => {
    const rulefile = yaml(
      'default: all',
      'rules:',
      '  all:',
      '    inputs: [report.txt, chunks/]',
      '  report:',
      '    inputs: data',
      '    outputs: report.txt',
      '    run: echo report >> runs.log; find {input} -type f | sort > {output}',
      '  chunks:',
      '    inputs: seed.txt',
      '    outputs: chunks/',
      '    run: echo chunks >> runs.log; cp {input} {output}/a.txt; sleep 0.3; cp {input} {output}/b.txt',
    );
    const p = project(t, { Rulefile: rulefile, 'data/a.txt': 'a\n', 'data/sub/b.txt': 'b\n', 'seed.txt': 's\n' });
    const run = p.start(['watch']);
    await idle(run, 1);
    assert.deepEqual(p.lines('runs.log').sort(), ['chunks', 'report']);

    p.write({ 'data/sub/c.txt': 'c\n' });
    await idle(run, 2);
    assert.match(run.stdout(), /^rules: changed: data\/sub\/c\.txt; building$/m);
    assert.deepEqual(p.lines('runs.log').slice(2), ['report']);

    p.write({ 'data/a.txt': 'a2\n' });
    await idle(run, 3);
    fs.unlinkSync(p.path('data/sub/b.txt'));
    await idle(run, 4);
    assert.deepEqual(p.lines('runs.log').slice(2), ['report', 'report', 'report']);
    assert.equal(p.read('report.txt'), 'data/a.txt\ndata/sub/c.txt\n');

    // The directory output's job rewrites chunks/ (while it runs, and after): no build of its own follows.
    p.write({ 'seed.txt': 's2\n' });
    await idle(run, 5);
    assert.deepEqual(p.lines('runs.log').slice(5), ['chunks']);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(run.stdout().match(WATCHING)!.length, 5, `no build after the job's own writes\n${dump(run)}`);

    run.child.kill('SIGINT');
    const r = await within(run.done, 10_000, 'rules watch to exit');
    assert.equal(r.status, 130, dump(run));
  });
});
