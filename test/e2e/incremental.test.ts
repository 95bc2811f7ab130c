// The incremental shortcut: when the up-to-date stamp (`.rules/uptodate`)
// shows that only the contents or times of some existing files changed since
// the last build (no file appeared or vanished, no directory listing, no
// Rulefile or config file changed), `rules build` decides only the jobs that
// read or make those files and the jobs downstream of them, and takes every
// other job as the last build left it. With `-v` it says so on stderr:
// `rules: N files changed since the last build; deciding K of M jobs` (M
// counts every job of the graph, a phony `all` too; K the jobs decided, the
// phony `all` among them when it is downstream of a change). Whatever it decides must
// be what the full path decides: the dry-run plan with the stamp moved aside
// (which also puts the shortcut's own index out of use) is compared with each
// plan here. The randomized version is incremental-property.test.ts.

import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { project, show, yaml, type Project, type RunResult } from './helpers.js';

const STAMP = '.rules/uptodate';
const SHORTCUT = /changed since the last build; deciding [\d,]+ of [\d,]+ jobs/;
const STAMP_LINE = /^rules: all ([\d,]+) files as the last build left them$/m;
const NOTHING = 'rules: nothing to do\n';

/**
 * a -> b -> c over the samples a glob finds (s1, s2, s3), and a phony `all`
 * over the c's: 3 x 3 + 1 = 10 jobs. Each job appends its name to runs.log.
 */
const PIPELINE = yaml(
  'rules:',
  '  all:',
  '    inputs:',
  '      - expand: "c/{s}.txt"',
  '        s: { glob: "src/{s}.txt" }',
  '  a:',
  '    inputs: "src/{s}.txt"',
  '    outputs: "a/{s}.txt"',
  '    run: echo a {s} >> runs.log; tr a-z A-Z < {input} > {output}',
  '  b:',
  '    inputs: "a/{s}.txt"',
  '    outputs: "b/{s}.txt"',
  '    run: echo b {s} >> runs.log; cat {input} {input} > {output}',
  '  c:',
  '    inputs: "b/{s}.txt"',
  '    outputs: "c/{s}.txt"',
  '    run: echo c {s} >> runs.log; wc -c < {input} > {output}',
);
const SOURCES = { 'src/s1.txt': 's1 data\n', 'src/s2.txt': 's2 data\n', 'src/s3.txt': 's3 data\n' };

/**
 * A directory output and what reads it: split writes parts/first.txt and
 * parts/rest.txt, report reads the directory whole, count reads the report;
 * with `all`, 4 jobs.
 */
const DIRS = yaml(
  'rules:',
  '  all:',
  '    inputs: count.txt',
  '  split:',
  '    inputs: in.txt',
  '    outputs: parts/',
  '    run: echo split >> runs.log; head -n 1 {input} > {output}/first.txt; tail -n +2 {input} > {output}/rest.txt',
  '  report:',
  '    inputs: parts',
  '    outputs: report.txt',
  '    run: echo report >> runs.log; find {input} -type f | LC_ALL=C sort | xargs cat > {output}',
  '  count:',
  '    inputs: report.txt',
  '    outputs: count.txt',
  '    run: echo count >> runs.log; wc -l < {input} > {output}',
);

interface Build {
  r: RunResult;
  /** runs.log lines this build added, sorted: the jobs that ran. */
  ran: string[];
}

/** `rules build -v ARGS`, expecting exit 0. */
function buildV(p: Project, ...args: string[]): Build {
  const before = p.lines('runs.log').length;
  const r = p.run(['build', '-v', ...args]);
  assert.equal(r.status, 0, show(r));
  return { r, ran: p.lines('runs.log').slice(before).sort() };
}

/** A dry run of the full path: the stamp moved aside (the shortcut's index is bound to it), then put back. */
function fullDryRun(p: Project, ...args: string[]): RunResult {
  const stamp = p.path(STAMP);
  const aside = `${stamp}.aside`;
  const had = fs.existsSync(stamp);
  if (had) fs.renameSync(stamp, aside);
  try {
    const r = p.run(['build', '-n', '-v', ...args]);
    assert.equal(r.status, 0, show(r));
    assert.doesNotMatch(r.stderr, SHORTCUT, show(r));
    return r;
  } finally {
    if (had) fs.renameSync(aside, stamp);
  }
}

/**
 * The dry run as the next build would take it (`-n -v`), in text and in JSON, each the same
 * as the full path's. Returns the text plan and what `-v` said.
 */
function plan(p: Project, ...args: string[]): { text: string; stderr: string } {
  const fast = p.run(['build', '-n', '-v', ...args]);
  assert.equal(fast.status, 0, show(fast));
  assert.equal(fast.stdout, fullDryRun(p, ...args).stdout, `the plan differs from the full path's\n${show(fast)}`);
  const json = p.run(['build', '-n', '-v', '--json', ...args]);
  assert.equal(json.status, 0, show(json));
  assert.deepEqual(JSON.parse(json.stdout), JSON.parse(fullDryRun(p, '--json', ...args).stdout), `the JSON plan differs from the full path's\n${show(json)}`);
  return { text: fast.stdout, stderr: fast.stderr };
}

/** That the shortcut answered, with exactly this line. */
function expectShortcut(stderr: string, line: string): void {
  assert.ok(stderr.split('\n').includes(`rules: ${line}`), `expected 'rules: ${line}' on stderr:\n${stderr}`);
}

function expectNoShortcut(stderr: string): void {
  assert.doesNotMatch(stderr, SHORTCUT);
}

/** A project built once (every job ran), whose next build the stamp answers. Returns the stamp's file count. */
function built(t: TestContext, files: Record<string, string>, ...args: string[]): { p: Project; files: number } {
  const p = project(t, files);
  const first = buildV(p, ...args);
  expectNoShortcut(first.r.stderr);
  const again = buildV(p, ...args);
  const m = STAMP_LINE.exec(again.r.stderr);
  assert.ok(m, `the stamp did not answer a second build\n${show(again.r)}`);
  assert.deepEqual(again.ran, []);
  return { p, files: Number(m[1]!.replace(/,/g, '')) };
}

describe('the shortcut decides the changed files and what is downstream of them', () => {
  // (1) Proves that an edited source is the one file the shortcut sees, that it decides that
  // sample's chain (3 jobs) out of the graph's 10, and that the plan and the jobs that run are
  // what the full path decides: the other samples are left alone.
  test('one source edited: 4 of 10 jobs decided (the chain and all), that sample\'s chain reruns', (t) => {
    const { p } = built(t, { Rulefile: PIPELINE, ...SOURCES });
    p.write({ 'src/s2.txt': 's2 more data\n' });
    const dry = plan(p);
    expectShortcut(dry.stderr, '1 file changed since the last build; deciding 4 of 10 jobs');
    assert.equal(
      dry.text,
      'a[s=s2] a/s2.txt: input changed: src/s2.txt\nb[s=s2] b/s2.txt: upstream will run: a/s2.txt\nc[s=s2] c/s2.txt: upstream will run: b/s2.txt\nall: always\n',
    );
    const b = buildV(p);
    expectShortcut(b.r.stderr, '1 file changed since the last build; deciding 4 of 10 jobs');
    assert.deepEqual(b.ran, ['a s2', 'b s2', 'c s2']);
    assert.equal(p.read('b/s2.txt'), 'S2 MORE DATA\nS2 MORE DATA\n');
    assert.equal(p.read('c/s2.txt').trim(), '26');
    assert.equal(fullDryRun(p).stdout, '');
  });

  // (2) Proves that a file whose time changed but whose content did not is decided like an
  // edited one (its readers are decided again), that under --check hash they come out up to
  // date without running, and that such a build leaves a stamp the next build is answered by.
  test('a source touched without a change under --check hash: nothing runs, then the stamp answers', (t) => {
    const hash = ['--check', 'hash'];
    const { p, files } = built(t, { Rulefile: PIPELINE, ...SOURCES }, ...hash);
    const later = Date.now() / 1000 + 5;
    fs.utimesSync(p.path('src/s1.txt'), later, later);
    const dry = plan(p, ...hash);
    expectShortcut(dry.stderr, '1 file changed since the last build; deciding 4 of 10 jobs');
    assert.equal(dry.text, '');
    const b = buildV(p, ...hash);
    expectShortcut(b.r.stderr, '1 file changed since the last build; deciding 4 of 10 jobs');
    assert.equal(b.r.stdout, NOTHING);
    assert.deepEqual(b.ran, []);
    const again = buildV(p, ...hash);
    assert.match(again.r.stderr, STAMP_LINE, show(again.r));
    assert.equal(Number(STAMP_LINE.exec(again.r.stderr)![1]!.replace(/,/g, '')), files);
    assert.equal(again.r.stdout, NOTHING);
    assert.deepEqual(again.ran, []);
  });
});

describe('changes that are not edits of existing files take the full path', () => {
  // (3) Proves that the shortcut never answers when what the graph is made of may have changed:
  // the Rulefile (a command), a directory listing a glob made (a new sample), a file that
  // vanished (a sample gone). Each time the plan is the full path's and the build is right.
  test('the Rulefile edited: a changed command reruns its jobs, without the shortcut', (t) => {
    const { p } = built(t, { Rulefile: PIPELINE, ...SOURCES });
    p.write({ Rulefile: PIPELINE.replace('cat {input} {input} > {output}', 'cat {input} {input} {input} > {output}') });
    const dry = plan(p);
    expectNoShortcut(dry.stderr);
    assert.match(dry.text, /^b\[s=s1\] b\/s1\.txt: command changed$/m);
    const b = buildV(p);
    expectNoShortcut(b.r.stderr);
    assert.deepEqual(b.ran, ['b s1', 'b s2', 'b s3', 'c s1', 'c s2', 'c s3']);
    assert.equal(p.read('b/s3.txt'), 'S3 DATA\n'.repeat(3));
    assert.equal(fullDryRun(p).stdout, '');
  });

  test('a new file the glob matches: its sample is built, without the shortcut', (t) => {
    const { p } = built(t, { Rulefile: PIPELINE, ...SOURCES });
    p.write({ 'src/s4.txt': 's4 data\n' });
    const dry = plan(p);
    expectNoShortcut(dry.stderr);
    assert.equal(
      dry.text,
      'a[s=s4] a/s4.txt: output missing: a/s4.txt\nb[s=s4] b/s4.txt: output missing: b/s4.txt\nc[s=s4] c/s4.txt: output missing: c/s4.txt\nall: always\n',
    );
    const b = buildV(p);
    expectNoShortcut(b.r.stderr);
    assert.deepEqual(b.ran, ['a s4', 'b s4', 'c s4']);
    assert.equal(p.read('b/s4.txt'), 'S4 DATA\nS4 DATA\n');
    assert.equal(fullDryRun(p).stdout, '');
  });

  test('a source deleted: its sample leaves the graph, nothing runs, without the shortcut', (t) => {
    const { p } = built(t, { Rulefile: PIPELINE, ...SOURCES });
    fs.rmSync(p.path('src/s2.txt'));
    const dry = plan(p);
    expectNoShortcut(dry.stderr);
    assert.equal(dry.text, '');
    const b = buildV(p);
    expectNoShortcut(b.r.stderr);
    assert.equal(b.r.stdout, NOTHING);
    assert.deepEqual(b.ran, []);
    assert.equal(fullDryRun(p).stdout, '');
    // The stamp answers for the tree without the sample.
    assert.match(buildV(p).r.stderr, STAMP_LINE);
  });
});

describe('outputs changed by hand', () => {
  // (4) Proves that files the build wrote are watched by the shortcut like sources: one edited
  // inside a directory output makes its job (the one that makes the file) run again, and one
  // edited whole makes its job run; early cutoff then spares the readers of what came out the same.
  test('a file edited inside a directory output: its job reruns, the reader is up to date after all', (t) => {
    const { p } = built(t, { Rulefile: DIRS, 'in.txt': 'head\nbody 1\nbody 2\n' });
    p.write({ 'parts/rest.txt': 'by hand\n' });
    const dry = plan(p);
    expectShortcut(dry.stderr, '1 file changed since the last build; deciding 4 of 4 jobs');
    assert.equal(dry.text, 'split parts: output modified: parts\nreport report.txt: input changed: parts\ncount count.txt: upstream will run: report.txt\nall: always\n');
    const b = buildV(p);
    expectShortcut(b.r.stderr, '1 file changed since the last build; deciding 4 of 4 jobs');
    assert.deepEqual(b.ran, ['split']);
    assert.equal(p.read('parts/rest.txt'), 'body 1\nbody 2\n');
    assert.equal(fullDryRun(p).stdout, '');
  });

  test('an output edited by hand: its job reruns, its reader is up to date after all', (t) => {
    const { p } = built(t, { Rulefile: DIRS, 'in.txt': 'head\nbody 1\nbody 2\n' });
    p.write({ 'report.txt': 'by hand\n' });
    const dry = plan(p);
    expectShortcut(dry.stderr, '1 file changed since the last build; deciding 3 of 4 jobs');
    assert.equal(dry.text, 'report report.txt: output modified: report.txt\ncount count.txt: input changed: report.txt\nall: always\n');
    const b = buildV(p);
    expectShortcut(b.r.stderr, '1 file changed since the last build; deciding 3 of 4 jobs');
    assert.deepEqual(b.ran, ['report']);
    assert.equal(p.read('report.txt'), 'head\nbody 1\nbody 2\n');
    assert.equal(fullDryRun(p).stdout, '');
  });
});

// (5) Proves that a build the shortcut answered, and that ran jobs, leaves the stamp whole
// again (for the same files as a full build): the next no-op is answered by the stamp, not
// by the shortcut, and runs nothing.
test('after the shortcut ran jobs, the next no-op build is answered by the stamp', (t) => {
  const { p, files } = built(t, { Rulefile: PIPELINE, ...SOURCES });
  p.write({ 'src/s3.txt': 's3 other data\n' });
  const b = buildV(p);
  expectShortcut(b.r.stderr, '1 file changed since the last build; deciding 4 of 10 jobs');
  assert.deepEqual(b.ran, ['a s3', 'b s3', 'c s3']);
  const again = buildV(p);
  expectNoShortcut(again.r.stderr);
  assert.equal(again.r.stderr, `rules: all ${files} files as the last build left them\n`);
  assert.equal(again.r.stdout, NOTHING);
  assert.deepEqual(again.ran, []);
});
