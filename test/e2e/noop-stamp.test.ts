// The no-op fast path (`.rules/uptodate`, src/state/stamp.ts): after a build
// that leaves every job up to date, the next `rules build` (or `build -n`)
// with the same options answers "nothing to do" from the stamp without
// loading the Rulefile. `-v` tells which path a build took: only the fast path
// prints `rules: all N files as the last build left them`. Every change the
// stamp covers must send the next build down the full path, which must then do
// the right thing; a failed build or a damaged stamp must never be trusted.

import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { nonEmptyLines, project, show, waitFor, within, yaml, type Project, type RunResult } from './helpers.js';

const STAMP = '.rules/uptodate';
const FAST_LINE = /^rules: all (\d+) files as the last build left them$/m;
const NOTHING = 'rules: nothing to do\n';

/**
 * Fan-out and fan-in: one copy per src/*.txt (found by a glob), one summary
 * over all copies with a header from the config, and a phony `all`.
 * Files in the stamp: 2 sources + 2 copies + summary.txt = 5.
 */
const PIPELINE = yaml(
  'default: all',
  'config:',
  '  header: "== summary"',
  'rules:',
  '  all:',
  '    inputs: summary.txt',
  '  copy:',
  '    inputs: "src/{name}.txt"',
  '    outputs: "out/{name}.txt"',
  '    run: echo copy {name} >> runs.log; cp {input} {output}',
  '  summary:',
  '    inputs:',
  '      - expand: "out/{name}.txt"',
  '        name: { glob: "src/{name}.txt" }',
  '    outputs: summary.txt',
  '    params: { header: "{config.header}" }',
  '    run: echo summary >> runs.log; (echo {params.header}; cat {inputs}) > {output}',
);

const SOURCES = { 'src/a.txt': 'alpha\n', 'src/b.txt': 'beta\n' };

interface Build {
  r: RunResult;
  /** Whether the fast path answered (its -v line was printed). */
  fast: boolean;
  /** runs.log lines this build added, sorted: the jobs that ran. */
  ran: string[];
}

/** `rules build -v ARGS`, expecting exit 0. */
function buildV(p: Project, ...args: string[]): Build {
  const before = p.lines('runs.log').length;
  const r = p.run(['build', '-v', ...args]);
  assert.equal(r.status, 0, show(r));
  // Independent jobs run in parallel: their order is not the point here.
  return { r, fast: FAST_LINE.test(r.stderr), ran: p.lines('runs.log').slice(before).sort() };
}

/** A build that must take the fast path: prints exactly what a no-op prints, plus the -v line, runs nothing. */
function expectFast(p: Project, files: number, ...args: string[]): void {
  const b = buildV(p, ...args);
  assert.ok(b.fast, `expected the fast path\n${show(b.r)}`);
  assert.equal(b.r.stdout, NOTHING, show(b.r));
  assert.equal(b.r.stderr, `rules: all ${files} files as the last build left them\n`, show(b.r));
  assert.deepEqual(b.ran, []);
  assert.ok(p.exists(STAMP), 'the fast path keeps the stamp');
}

/** A build that must take the full path; it must leave a fresh stamp (the tree ends up to date). Returns the jobs that ran. */
function expectFull(p: Project, ...args: string[]): string[] {
  const b = buildV(p, ...args);
  assert.ok(!b.fast, `expected the full path\n${show(b.r)}`);
  if (b.ran.length === 0) assert.equal(b.r.stdout, NOTHING, show(b.r));
  assert.ok(p.exists(STAMP), `a build that leaves every job up to date writes the stamp\n${show(b.r)}`);
  return b.ran;
}

/** A fresh pipeline project, built once (every job ran) and then answered by the fast path. */
function builtPipeline(t: TestContext, files: Record<string, string> = {}): Project {
  const p = project(t, { Rulefile: PIPELINE, ...SOURCES, ...files });
  assert.equal(p.exists(STAMP), false);
  const first = buildV(p);
  assert.equal(first.fast, false);
  assert.deepEqual(first.ran, ['copy a', 'copy b', 'summary']);
  assert.equal(p.read('summary.txt'), '== summary\nalpha\nbeta\n');
  assert.ok(p.exists(STAMP), 'a successful build writes the stamp');
  expectFast(p, 5);
  return p;
}

/** Sets a file's mtime (and atime) to whole seconds: exactly reproducible. */
function setMtime(p: Project, rel: string, seconds: number): void {
  fs.utimesSync(p.path(rel), seconds, seconds);
}

function withoutFastLine(stderr: string): string {
  return stderr.replace(FAST_LINE, '').replace(/^\n/m, '');
}

describe('the fast path answers an up-to-date tree', () => {
  test('a second build says "nothing to do", exit 0, runs nothing: the same output as a full no-op build', (t) => {
    const p = builtPipeline(t);
    const fast = p.run(['build']);
    assert.equal(fast.status, 0, show(fast));
    // Without -v the fast path is silent on stderr, like a no-op full build.
    fs.rmSync(p.path(STAMP));
    const full = p.run(['build']);
    assert.equal(full.status, 0, show(full));
    assert.deepEqual({ stdout: fast.stdout, stderr: fast.stderr }, { stdout: full.stdout, stderr: full.stderr });
    assert.equal(full.stdout, NOTHING);
    assert.equal(full.stderr, '');
    // The full no-op build wrote the stamp again.
    expectFast(p, 5);
    expectFast(p, 5);
    assert.deepEqual(p.lines('runs.log'), ['copy a', 'copy b', 'summary']);
  });

  test('build -n prints the plan a full dry run prints (text and --json)', (t) => {
    const p = builtPipeline(t);
    for (const json of [[], ['--json']]) {
      const fast = p.run(['build', '-n', '-v', ...json]);
      assert.equal(fast.status, 0, show(fast));
      assert.match(fast.stderr, FAST_LINE, show(fast));
      const saved = fs.readFileSync(p.path(STAMP));
      fs.rmSync(p.path(STAMP));
      const full = p.run(['build', '-n', '-v', ...json]);
      assert.equal(full.status, 0, show(full));
      assert.doesNotMatch(full.stderr, FAST_LINE, show(full));
      assert.equal(p.exists(STAMP), false, 'a dry run writes no stamp');
      assert.equal(fast.stdout, full.stdout);
      assert.equal(withoutFastLine(fast.stderr), full.stderr);
      fs.writeFileSync(p.path(STAMP), saved);
    }
    // Up to date: not even the phony `all` (it has no command) is listed (SPEC §2).
    assert.equal(p.run(['build', '-n']).stdout, '');
    const json = JSON.parse(p.run(['build', '-n', '--json']).stdout) as { jobs: { rule: string; reason: string; inputs: string[] }[] };
    assert.deepEqual(json.jobs, []);
    assert.deepEqual(p.lines('runs.log'), ['copy a', 'copy b', 'summary']);
  });

  test('build -n with an empty plan says "nothing to do" on stderr, as the full path does', (t) => {
    const p = builtPipeline(t);
    // A file target: no phony job in the plan.
    assert.deepEqual(expectFull(p, 'summary.txt'), []);
    const fast = p.run(['build', '-n', '-v', 'summary.txt']);
    assert.equal(fast.status, 0, show(fast));
    assert.equal(fast.stdout, '');
    assert.equal(fast.stderr, 'rules: all 5 files as the last build left them\n' + NOTHING);
    fs.rmSync(p.path(STAMP));
    const full = p.run(['build', '-n', '-v', 'summary.txt']);
    assert.equal(full.status, 0, show(full));
    assert.equal(full.stdout, '');
    assert.equal(full.stderr, NOTHING);
  });

  test('an always: true job is never answered by the stamp', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  fetch:', '    outputs: latest.txt', '    always: true', '    run: echo fetch >> runs.log; date > {output}'),
    });
    for (let i = 1; i <= 3; i++) {
      const b = buildV(p);
      assert.equal(b.fast, false, show(b.r));
      assert.deepEqual(b.ran, ['fetch']);
    }
    assert.equal(p.exists(STAMP), false);
  });
});

describe('a change the stamp covers sends the next build down the full path', () => {
  test('a source edited: its jobs rerun, then the fast path again', (t) => {
    const p = builtPipeline(t);
    p.write({ 'src/a.txt': 'alpha, longer now\n' });
    assert.deepEqual(expectFull(p), ['copy a', 'summary']);
    assert.equal(p.read('out/a.txt'), 'alpha, longer now\n');
    assert.equal(p.read('summary.txt'), '== summary\nalpha, longer now\nbeta\n');
    expectFast(p, 5);
  });

  test('a source edited to the same size, its mtime set to another value', (t) => {
    const p = builtPipeline(t);
    const before = fs.statSync(p.path('src/b.txt'));
    p.write({ 'src/b.txt': 'BETA\n' });
    setMtime(p, 'src/b.txt', Math.floor(before.mtimeMs / 1000) - 100);
    const after = fs.statSync(p.path('src/b.txt'));
    assert.equal(after.size, before.size);
    assert.equal(after.ino, before.ino);
    assert.deepEqual(expectFull(p), ['copy b', 'summary']);
    assert.equal(p.read('summary.txt'), '== summary\nalpha\nBETA\n');
    expectFast(p, 5);
  });

  test('a source touched without a content change: full path, nothing runs, then the fast path', (t) => {
    const p = builtPipeline(t);
    p.age('src/a.txt', 0);
    assert.deepEqual(expectFull(p), []);
    expectFast(p, 5);
    // Replaced by an identical file (same bytes, same mtime): only the inode differs.
    const T = Math.floor(Date.now() / 1000) - 500;
    setMtime(p, 'src/b.txt', T);
    assert.deepEqual(expectFull(p), []);
    expectFast(p, 5);
    const st = fs.statSync(p.path('src/b.txt'));
    fs.writeFileSync(p.path('src/b.tmp'), 'beta\n');
    fs.renameSync(p.path('src/b.tmp'), p.path('src/b.txt'));
    setMtime(p, 'src/b.txt', T);
    const now = fs.statSync(p.path('src/b.txt'));
    assert.deepEqual([now.size, now.mtimeMs], [st.size, st.mtimeMs]);
    assert.notEqual(now.ino, st.ino);
    assert.deepEqual(expectFull(p), []);
    expectFast(p, 5);
  });

  test('an output deleted: its job reruns', (t) => {
    const p = builtPipeline(t);
    fs.rmSync(p.path('out/b.txt'));
    // out/b.txt comes out as before: early cutoff, summary does not run.
    assert.deepEqual(expectFull(p), ['copy b']);
    assert.equal(p.read('out/b.txt'), 'beta\n');
    expectFast(p, 5);
    fs.rmSync(p.path('summary.txt'));
    assert.deepEqual(expectFull(p), ['summary']);
    assert.equal(p.read('summary.txt'), '== summary\nalpha\nbeta\n');
    expectFast(p, 5);
  });

  test('an output edited by hand: its job reruns', (t) => {
    const p = builtPipeline(t);
    p.write({ 'summary.txt': 'edited by hand\n' });
    assert.deepEqual(expectFull(p), ['summary']);
    assert.equal(p.read('summary.txt'), '== summary\nalpha\nbeta\n');
    expectFast(p, 5);
    // Same size, mtime set back to a round value: still an edit.
    p.write({ 'out/a.txt': 'ALPHA\n' });
    setMtime(p, 'out/a.txt', 1_000_000_000);
    assert.deepEqual(expectFull(p), ['copy a']);
    assert.equal(p.read('out/a.txt'), 'alpha\n');
    expectFast(p, 5);
  });

  test('the Rulefile edited: a changed command reruns its jobs; a comment changes nothing', (t) => {
    const p = builtPipeline(t);
    p.write({ Rulefile: PIPELINE.replace('cp {input} {output}', 'tr a-z A-Z < {input} > {output}') });
    assert.deepEqual(expectFull(p), ['copy a', 'copy b', 'summary']);
    assert.equal(p.read('summary.txt'), '== summary\nALPHA\nBETA\n');
    expectFast(p, 5);
    p.write({ Rulefile: p.read('Rulefile') + '# a comment\n' });
    assert.deepEqual(expectFull(p), []);
    expectFast(p, 5);
  });

  test('the Rulefile or a --configfile edited while the build runs: the stamp vouches only for what the build read', (t) => {
    // The job itself edits them, after the build has read them: as a user saving a file mid-build.
    const edits = yaml(
      'config:',
      '  msg: one',
      'rules:',
      '  say:',
      '    outputs: said.txt',
      '    run: echo {config.msg} {config.extra} > {output}; echo say >> runs.log; sed -i s/one/two/ Rulefile; sed -i s/first/second/ conf.yaml',
    );
    const p = project(t, { Rulefile: edits, 'conf.yaml': 'extra: first\n' });
    assert.deepEqual(expectFull(p, '--configfile', 'conf.yaml'), ['say']);
    assert.equal(p.read('said.txt'), 'one first\n');
    // The files changed after they were read: what was built is stale, not "nothing to do".
    assert.deepEqual(expectFull(p, '--configfile', 'conf.yaml'), ['say']);
    assert.equal(p.read('said.txt'), 'two second\n');
    expectFast(p, 1, '--configfile', 'conf.yaml');
  });

  test('an included file edited, and a new file matching an include glob', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'include: ["rules/*.yaml"]',
        'default: all',
        'rules:',
        '  all:',
        '    inputs: [out/a.txt, out/b.txt]',
      ),
      'rules/1-copy.yaml': yaml(
        'config:',
        '  suffix: one',
        'rules:',
        '  copy:',
        '    inputs: "src/{name}.txt"',
        '    outputs: "out/{name}.txt"',
        '    run: echo copy {name} >> runs.log; (cat {input}; echo {config.suffix}) > {output}',
      ),
      ...SOURCES,
    });
    assert.deepEqual(expectFull(p), ['copy a', 'copy b']);
    assert.equal(p.read('out/a.txt'), 'alpha\none\n');
    expectFast(p, 4);

    p.write({ 'rules/1-copy.yaml': p.read('rules/1-copy.yaml').replace('(cat {input}; ', '(cat {input} {input}; ') });
    assert.deepEqual(expectFull(p), ['copy a', 'copy b']);
    assert.equal(p.read('out/a.txt'), 'alpha\nalpha\none\n');
    expectFast(p, 4);

    // A later include overrides an earlier one's config defaults.
    p.write({ 'rules/2-more.yaml': yaml('config:', '  suffix: two') });
    assert.deepEqual(expectFull(p), ['copy a', 'copy b']);
    assert.equal(p.read('out/b.txt'), 'beta\nbeta\ntwo\n');
    expectFast(p, 4);

    fs.rmSync(p.path('rules/2-more.yaml'));
    assert.deepEqual(expectFull(p), ['copy a', 'copy b']);
    assert.equal(p.read('out/b.txt'), 'beta\nbeta\none\n');
    expectFast(p, 4);
  });

  test('a new file matching an input glob gets its job; a deleted one leaves the summary', (t) => {
    const p = builtPipeline(t);
    p.write({ 'src/c.txt': 'gamma\n' });
    assert.deepEqual(expectFull(p), ['copy c', 'summary']);
    assert.equal(p.read('summary.txt'), '== summary\nalpha\nbeta\ngamma\n');
    expectFast(p, 7);
    fs.rmSync(p.path('src/a.txt'));
    assert.deepEqual(expectFull(p), ['summary']);
    assert.equal(p.read('summary.txt'), '== summary\nbeta\ngamma\n');
    expectFast(p, 5);
  });

  test('--config different from the last build, and back again', (t) => {
    const p = builtPipeline(t);
    assert.deepEqual(expectFull(p, '--config', 'header=other'), ['summary']);
    assert.equal(p.read('summary.txt'), 'other\nalpha\nbeta\n');
    expectFast(p, 5, '--config', 'header=other');
    // An override that changes nothing is still another build.
    assert.deepEqual(expectFull(p, '--config', 'header=other', '--config', 'unused=1'), []);
    assert.deepEqual(expectFull(p, '--config', 'header=other'), []);
    expectFast(p, 5, '--config', 'header=other');
    assert.deepEqual(expectFull(p), ['summary']);
    assert.equal(p.read('summary.txt'), '== summary\nalpha\nbeta\n');
    expectFast(p, 5);
  });

  test('another target than last time', (t) => {
    const p = builtPipeline(t);
    assert.deepEqual(expectFull(p, 'out/a.txt'), []);
    expectFast(p, 2, 'out/a.txt');
    // The stamp now holds for out/a.txt only: the default target is decided afresh.
    assert.deepEqual(expectFull(p), []);
    expectFast(p, 5);
    // A target whose job is stale while the last target's stamp still holds.
    fs.rmSync(p.path('out/b.txt'));
    assert.deepEqual(expectFull(p, 'out/a.txt'), []);
    expectFast(p, 2, 'out/a.txt');
    assert.deepEqual(expectFull(p, 'out/b.txt'), ['copy b']);
    assert.equal(p.read('out/b.txt'), 'beta\n');
    expectFast(p, 2, 'out/b.txt');
  });

  test('a --configfile whose content changes', (t) => {
    const p = builtPipeline(t, { 'conf.yaml': 'header: from file\n' });
    assert.deepEqual(expectFull(p, '--configfile', 'conf.yaml'), ['summary']);
    assert.equal(p.read('summary.txt'), 'from file\nalpha\nbeta\n');
    expectFast(p, 5, '--configfile', 'conf.yaml');
    p.write({ 'conf.yaml': 'header: from file, edited\n' });
    assert.deepEqual(expectFull(p, '--configfile', 'conf.yaml'), ['summary']);
    assert.equal(p.read('summary.txt'), 'from file, edited\nalpha\nbeta\n');
    expectFast(p, 5, '--configfile', 'conf.yaml');
    // Without the config file: another build.
    assert.deepEqual(expectFull(p), ['summary']);
    assert.equal(p.read('summary.txt'), '== summary\nalpha\nbeta\n');
  });

  test('--check mtime after a --check hash build, and a touch under --check mtime', (t) => {
    const p = builtPipeline(t);
    assert.deepEqual(expectFull(p, '--check', 'mtime'), []);
    expectFast(p, 5, '--check', 'mtime');
    // Make's rule: a touched source makes its jobs run under --check mtime (no early cutoff).
    p.age('src/a.txt', 0);
    assert.deepEqual(expectFull(p, '--check', 'mtime'), ['copy a', 'summary']);
    expectFast(p, 5, '--check', 'mtime');
    assert.deepEqual(expectFull(p), []);
    expectFast(p, 5);
    assert.equal(p.read('summary.txt'), '== summary\nalpha\nbeta\n');
  });

  test('.rules/log deleted: full path (outputs adopted), then the fast path', (t) => {
    const p = builtPipeline(t);
    fs.rmSync(p.path('.rules/log'));
    assert.deepEqual(expectFull(p), []);
    assert.ok(p.exists('.rules/log'));
    expectFast(p, 5);
  });

  test('.rules/log replaced by an older copy while every file is as the stamp saw it: the log decides', (t) => {
    const p = builtPipeline(t);
    const oldLog = fs.readFileSync(p.path('.rules/log'));
    // Another command makes the same bytes: the log now records the new command.
    p.write({ Rulefile: PIPELINE.replace('cp {input} {output}', 'cat {input} > {output}') });
    assert.deepEqual(expectFull(p), ['copy a', 'copy b']);
    expectFast(p, 5);
    // The log of the first build back (as from a backup): the files, the Rulefile and the stamp are untouched.
    fs.writeFileSync(p.path('.rules/log'), oldLog);
    const dry = p.run(['build', '-n', '-v']);
    assert.doesNotMatch(dry.stderr, FAST_LINE, show(dry));
    assert.match(dry.stdout, /^copy\[name=a\] out\/a\.txt: /m, show(dry));
    assert.match(dry.stdout, /^copy\[name=b\] out\/b\.txt: /m, show(dry));
    assert.deepEqual(expectFull(p), ['copy a', 'copy b']);
    assert.equal(p.read('summary.txt'), '== summary\nalpha\nbeta\n');
    expectFast(p, 5);
  });

  test('rules clean deletes the stamp; the build after it rebuilds what was cleaned', (t) => {
    const p = builtPipeline(t);
    const r = p.run(['clean', 'out/a.txt']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.exists(STAMP), false);
    assert.equal(p.exists('out/a.txt'), false);
    assert.deepEqual(expectFull(p), ['copy a']);
    expectFast(p, 5);
    const all = p.run(['clean']);
    assert.equal(all.status, 0, show(all));
    assert.equal(p.exists(STAMP), false);
    assert.deepEqual(expectFull(p), ['copy a', 'copy b', 'summary']);
    expectFast(p, 5);
  });

  test('-B runs everything and never takes the fast path', (t) => {
    const p = builtPipeline(t);
    for (let i = 0; i < 2; i++) {
      const b = buildV(p, '-B');
      assert.equal(b.fast, false, show(b.r));
      assert.deepEqual(b.ran, ['copy a', 'copy b', 'summary']);
    }
    const dry = p.run(['build', '-n', '-B', '-v']);
    assert.doesNotMatch(dry.stderr, FAST_LINE);
    assert.equal(nonEmptyLines(dry.stdout).length, 4, show(dry));
    expectFast(p, 5);
  });
});

describe('a failed build is never answered by a stamp', () => {
  test('a failing job leaves no stamp and runs again until it is fixed', (t) => {
    const p = builtPipeline(t);
    const failing = PIPELINE.replace('cp {input} {output}', 'exit 1');
    p.write({ Rulefile: failing });
    for (let i = 0; i < 2; i++) {
      const before = p.lines('runs.log').length;
      const r = p.run(['build', '-v', '-j1']);
      assert.equal(r.status, 1, show(r));
      assert.doesNotMatch(r.stderr, FAST_LINE);
      assert.deepEqual(p.lines('runs.log').slice(before), ['copy a'], 'the failed job runs again');
      assert.equal(p.exists(STAMP), false, 'a failed build leaves no stamp');
      assert.equal(p.exists('out/a.txt'), false);
    }
    // Back to the command of the last successful run: only the failed job is stale.
    p.write({ Rulefile: PIPELINE });
    assert.deepEqual(expectFull(p, '-j1'), ['copy a']);
    assert.equal(p.read('summary.txt'), '== summary\nalpha\nbeta\n');
    expectFast(p, 5);
  });

  test('a stamp from before a failed build does not hold after it', (t) => {
    // The job fails when a file it does not declare exists: the Rulefile stays the same.
    const p = builtPipeline(t, {});
    const stamp = fs.readFileSync(p.path(STAMP));
    p.write({ Rulefile: PIPELINE.replace('cp {input} {output}', 'if [ -e fail ]; then exit 1; fi; cp {input} {output}') });
    assert.deepEqual(expectFull(p), ['copy a', 'copy b']);
    const good = fs.readFileSync(p.path(STAMP));
    p.write({ fail: '' });
    const r = p.run(['build', '-B', '-k']);
    assert.equal(r.status, 1, show(r));
    assert.equal(p.exists(STAMP), false);
    fs.rmSync(p.path('fail'));
    for (const old of [good, stamp]) {
      fs.writeFileSync(p.path(STAMP), old);
      const dry = p.run(['build', '-n', '-v']);
      assert.doesNotMatch(dry.stderr, FAST_LINE, show(dry));
      assert.match(dry.stdout, /^copy\[name=a\] out\/a\.txt: /m);
    }
    assert.deepEqual(expectFull(p), ['copy a', 'copy b']);
    assert.equal(p.read('summary.txt'), '== summary\nalpha\nbeta\n');
    expectFast(p, 5);
  });

  test('with -k, a build where one job failed and others succeeded leaves no stamp', (t) => {
    const p = builtPipeline(t);
    p.write({ Rulefile: PIPELINE.replace('cp {input} {output}', 'if [ {name} = b ]; then exit 1; fi; cp {input} {output}') });
    const r = p.run(['build', '-k', '-j1']);
    assert.equal(r.status, 1, show(r));
    assert.equal(p.exists(STAMP), false);
    assert.equal(p.read('out/a.txt'), 'alpha\n');
    const again = p.run(['build', '-k', '-v', '-j1']);
    assert.equal(again.status, 1, show(again));
    assert.doesNotMatch(again.stderr, FAST_LINE);
    assert.equal(p.exists(STAMP), false);
    assert.deepEqual(p.lines('runs.log').slice(-1), ['copy b']);
  });

  test('a running build deletes the stamp first; a second build meanwhile is refused', async (t) => {
    const p = builtPipeline(t);
    p.write({ Rulefile: PIPELINE.replace('cp {input} {output}', 'touch started; while [ ! -e go ]; do sleep 0.02; done; cp {input} {output}') });
    p.write({ 'src/a.txt': 'alpha 2\n' });
    const running = p.start(['build', '-j1']);
    await waitFor(() => p.exists('started'), 'the job to start');
    assert.equal(p.exists(STAMP), false, 'the stamp is gone while jobs run');
    const second = p.run(['build', '-v']);
    assert.equal(second.status, 2, show(second));
    assert.match(second.stderr, new RegExp(`^rules: another build is running in this directory \\(rules, pid ${running.child.pid}\\)`, 'm'));
    p.write({ go: '' });
    const done = await within(running.done, 20_000, 'the build to finish');
    assert.equal(done.status, 0, show(done));
    assert.equal(p.read('summary.txt'), '== summary\nalpha 2\nbeta\n');
    assert.ok(p.exists(STAMP));
    expectFast(p, 5);
  });
});

describe('a damaged stamp', () => {
  const damages: [string, (good: Buffer) => Buffer][] = [
    ['empty', () => Buffer.alloc(0)],
    ['truncated to half', (g) => g.subarray(0, g.length >> 1)],
    ['one byte short', (g) => g.subarray(0, g.length - 1)],
    ['one byte too long', (g) => Buffer.concat([g, Buffer.from([0])])],
    ['only its first line', (g) => g.subarray(0, g.indexOf(10) + 1)],
    ['garbage bytes', (g) => Buffer.from(Array.from({ length: g.length }, (_, i) => (i * 131 + 7) % 256))],
    ['garbage after the first line', (g) => Buffer.concat([g.subarray(0, g.indexOf(10) + 1), Buffer.from('{"key": [1, 2\n\u0000\u00ff')])],
    ['a flipped byte in its file stats', (g) => { const d = Buffer.from(g); d[d.length - 20] ^= 0x55; return d; }],
    ['a flipped byte in its paths', (g) => { const d = Buffer.from(g); const at = d.indexOf('src/b.txt'); d[at + 4] = 'x'.charCodeAt(0); return d; }],
  ];

  for (const [what, damage] of damages) {
    test(`${what}: the build takes the full path, works, and writes a fresh stamp`, (t) => {
      const p = builtPipeline(t);
      const good = fs.readFileSync(p.path(STAMP));
      fs.writeFileSync(p.path(STAMP), damage(good));
      assert.deepEqual(expectFull(p), []);
      expectFast(p, 5);
      // Damaged, and a source changed too: the job runs.
      fs.writeFileSync(p.path(STAMP), damage(fs.readFileSync(p.path(STAMP))));
      p.write({ 'src/b.txt': 'beta 2\n' });
      const dry = p.run(['build', '-n']);
      assert.equal(dry.status, 0, show(dry));
      assert.match(dry.stdout, /^copy\[name=b\] out\/b\.txt: input changed: src\/b\.txt$/m);
      assert.deepEqual(expectFull(p), ['copy b', 'summary']);
      assert.equal(p.read('summary.txt'), '== summary\nalpha\nbeta 2\n');
      expectFast(p, 5);
    });
  }

  // A header that still parses, and agrees with the file's size, but not with
  // the body it describes must not make the check skip files.
  const headerDamages: [string, (h: StampHeader) => void][] = [
    ['pathBytes one byte short', (h) => (h.pathBytes -= 1)],
    ['an empty chunk table', (h) => (h.chunks = [])],
  ];
  for (const [what, change] of headerDamages) {
    test(`a header with ${what}: a changed file is still noticed`, (t) => {
      const p = builtPipeline(t);
      const good = parseStamp(fs.readFileSync(p.path(STAMP)));
      // The last path in the stamp (paths come in the order the build first looked at them): a source (copy b's).
      const last = nonEmptyLines(good.paths.toString('utf8')).at(-1)!;
      assert.equal(last, 'src/b.txt');
      const header = structuredClone(good.header);
      change(header);
      const damaged = layOutStamp(good.first, header, good.paths, good.stats);
      p.write({ [last]: 'edited by hand\n' });
      fs.writeFileSync(p.path(STAMP), damaged);
      const b = buildV(p);
      assert.equal(b.fast, false, `a damaged stamp answered the build\n${show(b.r)}`);
      assert.deepEqual(b.ran, ['copy b', 'summary']);
      assert.equal(p.read('out/b.txt'), 'edited by hand\n');
    });
  }

  // Not a file at all: the build must still work.
  test('a directory in place of the stamp: builds still work and say so', (t) => {
    const p = builtPipeline(t);
    fs.rmSync(p.path(STAMP));
    fs.mkdirSync(p.path(STAMP));
    const noop = p.run(['build']);
    assert.equal(noop.status, 0, show(noop));
    assert.equal(noop.stdout, NOTHING, show(noop));
    p.write({ 'src/a.txt': 'alpha 2\n' });
    const before = p.lines('runs.log').length;
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(p.lines('runs.log').slice(before).sort(), ['copy a', 'summary']);
    assert.equal(p.read('summary.txt'), '== summary\nalpha 2\nbeta\n');
    assert.deepEqual(fs.readdirSync(p.path('.rules')).filter((f) => f.endsWith('.tmp')), [], 'no temporary files left behind');
  });

  test('laid out again without damage, a stamp still holds (the layout used above is right)', (t) => {
    const p = builtPipeline(t);
    const bytes = fs.readFileSync(p.path(STAMP));
    const good = parseStamp(bytes);
    const again = layOutStamp(good.first, good.header, good.paths, good.stats);
    assert.ok(again.equals(bytes));
    fs.writeFileSync(p.path(STAMP), again);
    expectFast(p, 5);
  });
});

interface StampHeader {
  pathBytes: number;
  chunks: number[];
  [k: string]: unknown;
}

/**
 * A stamp's parts (layout: state/stamp.ts): a first line (kept as it is), a
 * JSON header line, the paths, zero padding to a multiple of 8 bytes, the stats.
 */
function parseStamp(buf: Buffer): { first: Buffer; header: StampHeader; paths: Buffer; stats: Buffer } {
  const start = buf.indexOf(10) + 1;
  const end = buf.indexOf(10, start);
  const header = JSON.parse(buf.subarray(start, end).toString('utf8')) as StampHeader;
  const paths = buf.subarray(end + 1, end + 1 + header.pathBytes);
  const statsStart = (end + 1 + header.pathBytes + 7) & ~7;
  return { first: buf.subarray(0, start), header, paths, stats: buf.subarray(statsStart) };
}

/**
 * A stamp file with this first line, header, path bytes and stats, laid out so
 * that the stats start where the header says they do (the header is padded
 * with spaces, valid JSON, until the path bytes fit before that place).
 * An unchanged header gives back the very bytes it was parsed from.
 */
function layOutStamp(first: Buffer, header: StampHeader, paths: Buffer, stats: Buffer): Buffer {
  const json = JSON.stringify(header);
  for (let pad = 0; pad < 8; pad++) {
    const head = Buffer.from(json + ' '.repeat(pad) + '\n');
    const pathsStart = first.length + head.length;
    const statsStart = (pathsStart + header.pathBytes + 7) & ~7;
    if (pathsStart + paths.length > statsStart) continue;
    const out = Buffer.alloc(statsStart + stats.length);
    Buffer.concat([first, head, paths]).copy(out, 0);
    stats.copy(out, statsStart);
    return out;
  }
  throw new Error('no layout fits');
}

describe('--log-format json', () => {
  interface Event {
    event?: string;
    [k: string]: unknown;
  }
  const FIELDS = ['event', 'jobs', 'upToDate', 'ok', 'ran', 'skipped', 'failed', 'notRun', 'interrupted', 'level', 'msg'];
  const events = (text: string): Event[] =>
    nonEmptyLines(text).map((l) => {
      const e = JSON.parse(l) as Event;
      assert.equal(typeof e.time, 'string');
      return Object.fromEntries(FIELDS.filter((f) => f in e).map((f) => [f, e[f]]));
    });

  test('the fast path emits the events of a full no-op build', (t) => {
    const p = builtPipeline(t);
    const eventLog = p.read('.rules/logs/events.jsonl');
    const fast = p.run(['build', '--log-format', 'json']);
    assert.equal(fast.status, 0, show(fast));
    fs.rmSync(p.path(STAMP));
    const full = p.run(['build', '--log-format', 'json']);
    assert.equal(full.status, 0, show(full));
    assert.ok(p.exists(STAMP));
    assert.equal(fast.stdout, full.stdout);
    const expected = [
      { event: 'build-started', jobs: 0, upToDate: 4, level: 30, msg: 'build started' },
      { event: 'build-finished', ok: true, ran: 0, skipped: 0, failed: 0, notRun: 0, interrupted: false, level: 30, msg: 'build finished' },
    ];
    assert.deepEqual(events(full.stderr), expected);
    assert.deepEqual(events(fast.stderr), expected);
    // -v adds no text line to the JSON stream.
    const verbose = p.run(['build', '--log-format', 'json', '-v']);
    assert.deepEqual(events(verbose.stderr), expected);
    // Every build appends its events to the event log (SPEC §3), a no-op too, fast or not: here 3 builds.
    const appended = events(p.read('.rules/logs/events.jsonl').slice(eventLog.length));
    assert.deepEqual(appended, [...expected, ...expected, ...expected]);
  });
});

describe('the build lock', () => {
  test('a lock held by a live process refuses a build exactly as the full path does', (t) => {
    const p = builtPipeline(t);
    // This test process is a live node process: the lock looks held.
    fs.writeFileSync(p.path('.rules/lock'), `${process.pid}\n`);
    const fast = p.run(['build', '-v']);
    const stamp = fs.readFileSync(p.path(STAMP));
    fs.rmSync(p.path(STAMP));
    const full = p.run(['build', '-v']);
    const message = `rules: another build is running in this directory (rules, pid ${process.pid}); wait for it to finish, or stop it\n`;
    for (const r of [fast, full]) {
      assert.equal(r.status, 2, show(r));
      assert.equal(r.stdout, '', show(r));
      assert.equal(r.stderr, message, show(r));
    }
    // A dry run takes no lock, on either path.
    fs.writeFileSync(p.path(STAMP), stamp);
    const dryFast = p.run(['build', '-n', '-v']);
    assert.equal(dryFast.status, 0, show(dryFast));
    assert.match(dryFast.stderr, FAST_LINE);
    assert.equal(dryFast.stdout, '');
    assert.equal(p.read('.rules/lock'), `${process.pid}\n`, 'the lock is left alone');
    assert.ok(p.exists(STAMP), 'a refused build keeps the stamp');
    fs.rmSync(p.path('.rules/lock'));
    expectFast(p, 5);
  });
});

describe('a graph of more than 40,000 files (checked by several threads)', () => {
  test('a fast no-op, then one changed source in the middle and one changed output at the end', (t) => {
    const started = Date.now();
    const GROUPS = ['g1', 'g2', 'g3'];
    const PER = 15_000;
    const p = project(t, {
      Rulefile: yaml(
        'default: all',
        'rules:',
        '  all:',
        '    inputs:',
        '      - expand: "sum/{g}.txt"',
        '        g: [g1, g2, g3]',
        '  sum:',
        '    inputs:',
        '      - expand: "src/{g}/{i}.txt"',
        '        i: { glob: "src/{g}/{i}.txt" }',
        '    outputs: "sum/{g}.txt"',
        '    run: echo sum {g} >> runs.log; find src/{g} -name "*.txt" | LC_ALL=C sort | xargs cat > {output}',
      ),
    });
    for (const g of GROUPS) {
      fs.mkdirSync(p.path(`src/${g}`), { recursive: true });
      for (let i = 0; i < PER; i++) fs.writeFileSync(p.path(`src/${g}/${String(i).padStart(5, '0')}.txt`), `${g} ${i}\n`);
    }
    const FILES = GROUPS.length * PER + GROUPS.length;
    assert.ok(FILES > 40_000);
    const first = buildV(p, '-j2');
    assert.equal(first.fast, false);
    assert.deepEqual([...first.ran].sort(), ['sum g1', 'sum g2', 'sum g3']);
    assert.ok(p.read('sum/g3.txt').endsWith(`g3 ${PER - 1}\n`));
    expectFast(p, FILES);

    // A source in the middle of the list: touched only (full path, nothing runs), then edited.
    const middle = `src/g2/${String(PER / 2).padStart(5, '0')}.txt`;
    p.age(middle, 0);
    assert.deepEqual(expectFull(p, '-j2'), []);
    expectFast(p, FILES);
    p.write({ [middle]: 'EDITED\n' });
    assert.deepEqual(expectFull(p, '-j2'), ['sum g2']);
    assert.match(p.read('sum/g2.txt'), /^g2 7499\nEDITED\ng2 7501\n/m);
    expectFast(p, FILES);

    // An output edited by hand: the last one.
    p.write({ 'sum/g3.txt': 'edited by hand\n' });
    assert.deepEqual(expectFull(p, '-j2'), ['sum g3']);
    assert.ok(p.read('sum/g3.txt').startsWith('g3 0\ng3 1\n'));
    expectFast(p, FILES);

    // The first source, with the same size and another mtime.
    p.write({ 'src/g1/00000.txt': 'G1 0\n' });
    setMtime(p, 'src/g1/00000.txt', 1_000_000_000);
    assert.deepEqual(expectFull(p, '-j2'), ['sum g1']);
    assert.ok(p.read('sum/g1.txt').startsWith('G1 0\ng1 1\n'));
    expectFast(p, FILES);
    t.diagnostic(`took ${Date.now() - started} ms`);
  });
});
