// `rules watch` (= `rules build --watch`): build, then rebuild on every
// (debounced) change to a source, a Rulefile or a file a glob matches; outputs,
// logs and .rules/ never trigger a build; a broken Rulefile or a failed job is
// reported and watching goes on; SIGINT/SIGTERM stop it with exit 130.
//
// Every wait is on output lines or files, with a timeout. "Idle after build k"
// is the k-th `rules: watching ...` line: it is printed once the build has
// finished and the watcher is ready for the next change.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { CLI, nonEmptyLines, processGone, progressLines, project, waitFor, within, yaml, type AsyncRun, type Project, type RunResult } from './helpers.js';

const WATCHING = /^rules: watching \d+ files? in \d+ director(y|ies); Ctrl-C to stop$/;
const CHANGED = /^rules: changed: /;

/** Lines of `text` matching `re`. */
function matching(text: string, re: RegExp): string[] {
  return nonEmptyLines(text).filter((l) => re.test(l));
}

function dump(run: AsyncRun): string {
  return `--- stdout ---\n${run.stdout()}--- stderr ---\n${run.stderr()}`;
}

function showResult(r: RunResult): string {
  return `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}\n--- stdout ---\n${r.stdout}--- stderr ---\n${r.stderr}`;
}

/** The `rules: changed:` lines so far. */
function changedLines(run: AsyncRun): string[] {
  return matching(run.stdout(), CHANGED);
}

/**
 * Waits until build `k` (1: the first build) has finished and the watcher is
 * idle; then exactly k builds have finished. `then` runs as soon as the k-th
 * watching line arrives (in the same tick), for changes made the moment the
 * watcher says it is ready.
 */
async function idle(run: AsyncRun, k: number, then?: () => void, timeoutMs = 10_000): Promise<void> {
  const count = () => matching(run.stdout(), WATCHING).length;
  const stdout = run.child.stdout!;
  let onData: (() => void) | undefined;
  try {
    await within(
      new Promise<void>((resolve) => {
        // Registered after the helper's own listener: run.stdout() already holds the chunk.
        onData = () => {
          if (count() < k && run.child.exitCode === null) return;
          stdout.off('data', onData!);
          if (run.child.exitCode === null) then?.();
          resolve();
        };
        stdout.on('data', onData);
        run.child.once('exit', onData);
        onData();
      }),
      timeoutMs,
      `watching line #${k}`,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${dump(run)}`);
  } finally {
    stdout.off('data', onData!);
    run.child.off('exit', onData!);
  }
  assert.equal(run.child.exitCode, null, `rules watch exited early\n${dump(run)}`);
  assert.equal(count(), k, `exactly ${k} builds finished\n${dump(run)}`);
}

/** Waits for a line on stderr (a separate pipe: it may arrive after the stdout lines printed later). */
async function stderrShows(run: AsyncRun, re: RegExp, timeoutMs = 5_000): Promise<void> {
  try {
    await waitFor(() => re.test(run.stderr()), `stderr to match ${re}`, timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${dump(run)}`);
  }
}

/** Sends `signal` and expects exit 130 soon. */
async function stop(run: AsyncRun, signal: NodeJS.Signals = 'SIGINT', timeoutMs = 10_000): Promise<RunResult> {
  run.child.kill(signal);
  const r = await within(run.done, timeoutMs, `rules watch to exit after ${signal}`);
  assert.equal(r.status, 130, showResult(r));
  return r;
}

/**
 * Proves the watcher is idle and stays so: with `builds` builds finished and
 * `changes` change lines printed, one more edit (of `probe`, a watched source,
 * to `content`) must start exactly one build, for that file alone.
 */
async function probe(p: Project, run: AsyncRun, builds: number, changes: number, probeFile: string, content: string): Promise<void> {
  assert.equal(changedLines(run).length, changes, `no build started on its own\n${dump(run)}`);
  p.write({ [probeFile]: content });
  await idle(run, builds + 1);
  const lines = changedLines(run);
  assert.equal(lines.length, changes + 1, dump(run));
  assert.equal(lines.at(-1), `rules: changed: ${probeFile}; building`, dump(run));
}

/** A copy per source and a total of them all; every job appends its name to runs.log. */
const COPY_TOTAL = yaml(
  'default: all',
  'rules:',
  '  all:',
  '    inputs: total.txt',
  '  copy:',
  '    inputs: "src/{x}.txt"',
  '    outputs: "out/{x}.txt"',
  '    run: echo copy {x} >> runs.log; cp {input} {output}',
  '  total:',
  '    inputs:',
  '      - expand: "out/{x}.txt"',
  '        x: { glob: "src/{x}.txt" }',
  '    outputs: total.txt',
  '    run: echo total >> runs.log; cat {input} > {output}',
);

describe('rules watch: what a change rebuilds', () => {
  test('editing one source rebuilds exactly what depends on it', async (t) => {
    const p = project(t, { Rulefile: COPY_TOTAL, 'src/a.txt': 'A\n', 'src/b.txt': 'B\n', 'src/c.txt': 'C\n' });
    const run = p.start(['watch']);
    await idle(run, 1);
    assert.deepEqual(p.lines('runs.log').sort(), ['copy a', 'copy b', 'copy c', 'total']);
    assert.equal(progressLines(run.stdout()).length, 4, dump(run));
    assert.match(run.stdout(), /^rules: 4 jobs done in \d+\.\ds$/m);
    // Rulefile and three sources, in the root and src/.
    assert.match(run.stdout(), /^rules: watching 4 files in 2 directories; Ctrl-C to stop$/m);
    assert.equal(changedLines(run).length, 0, 'nothing changed yet');

    p.write({ 'src/b.txt': 'B2\n' });
    await idle(run, 2);
    assert.deepEqual(changedLines(run), ['rules: changed: src/b.txt; building']);
    assert.deepEqual(p.lines('runs.log').slice(4), ['copy b', 'total'], 'only copy[x=b] and total ran');
    assert.equal(p.read('out/b.txt'), 'B2\n');
    assert.equal(p.read('total.txt'), 'A\nB2\nC\n');
    // The second build's report: two jobs.
    const afterChange = run.stdout().slice(run.stdout().indexOf('rules: changed:'));
    assert.deepEqual(progressLines(afterChange), ['[1/2] copy[x=b]', '[2/2] total']);
    assert.match(afterChange, /^rules: 2 jobs done in \d+\.\ds$/m);

    await probe(p, run, 2, 1, 'src/c.txt', 'C2\n');
    assert.deepEqual(p.lines('runs.log').slice(6), ['copy c', 'total']);
    assert.equal(p.read('total.txt'), 'A\nB2\nC2\n');
    assert.equal(run.stderr(), '', 'nothing on stderr');
    await stop(run);
  });

  test('started on an up-to-date tree (the stamp would answer a build), it still watches every source', async (t) => {
    const p = project(t, { Rulefile: COPY_TOTAL, 'src/a.txt': 'A\n', 'src/b.txt': 'B\n' });
    assert.equal(p.run(['build']).status, 0);
    assert.match(p.run(['build', '-v']).stderr, /as the last build left them/, 'a build is answered by the stamp');
    const run = p.start(['watch']);
    await idle(run, 1);
    assert.match(run.stdout(), /^rules: nothing to do$/m);
    assert.match(run.stdout(), /^rules: watching 3 files in 2 directories; Ctrl-C to stop$/m, 'the Rulefile and both sources');
    await probe(p, run, 1, 0, 'src/b.txt', 'B2\n');
    assert.deepEqual(p.lines('runs.log').slice(3), ['copy b', 'total']);
    assert.equal(p.read('total.txt'), 'A\nB2\n');
    await stop(run);
  });

  test('a new file matching a glob gets its job; a deleted source reruns the aggregate', async (t) => {
    const p = project(t, { Rulefile: COPY_TOTAL, 'src/a.txt': 'A\n', 'src/b.txt': 'B\n' });
    const run = p.start(['watch']);
    // A new file the moment the watcher is ready.
    await idle(run, 1, () => p.write({ 'src/c.txt': 'C\n' }));
    await idle(run, 2);
    assert.equal(p.lines('runs.log').length, 5);
    assert.deepEqual(changedLines(run), ['rules: changed: src/c.txt; building']);
    assert.deepEqual(p.lines('runs.log').slice(3), ['copy c', 'total']);
    assert.equal(p.read('out/c.txt'), 'C\n');
    assert.equal(p.read('total.txt'), 'A\nB\nC\n');

    fs.unlinkSync(p.path('src/a.txt'));
    await idle(run, 3);
    assert.equal(changedLines(run).at(-1), 'rules: changed: src/a.txt; building');
    assert.deepEqual(p.lines('runs.log').slice(5), ['total'], 'only the aggregate reran');
    assert.equal(p.read('total.txt'), 'B\nC\n');

    // The new file is watched as a source now.
    await probe(p, run, 3, 2, 'src/c.txt', 'C2\n');
    assert.deepEqual(p.lines('runs.log').slice(6), ['copy c', 'total']);
    assert.equal(p.read('total.txt'), 'B\nC2\n');
    assert.equal(run.stderr(), '');
    await stop(run);
  });

  test('a file not matching any glob, an output or a log in a watched directory starts no build', async (t) => {
    const p = project(t, { Rulefile: COPY_TOTAL, 'src/a.txt': 'A\n' });
    const run = p.start(['watch']);
    await idle(run, 1);
    // Not a source and not matched by src/*.txt; an output; the build's state.
    p.write({ 'src/notes.md': 'x\n', 'src/a.txt.bak': 'x\n', 'notes.txt': 'x\n', 'out/a.txt': 'tampered\n', '.rules/junk': 'x\n' });
    // The probe's build must be for it alone: the writes above were ignored.
    await probe(p, run, 1, 0, 'src/a.txt', 'A2\n');
    assert.deepEqual(p.lines('runs.log').slice(2), ['copy a', 'total']);
    assert.equal(p.read('out/a.txt'), 'A2\n');
    await stop(run);
  });

  test('an explicit source deleted and restored: reported, watched, rebuilt', async (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  copy:', '    inputs: in.txt', '    outputs: out.txt', '    run: echo copy >> runs.log; cp {input} {output}'),
      'in.txt': 'one\n',
    });
    const run = p.start(['watch']);
    await idle(run, 1);
    fs.unlinkSync(p.path('in.txt'));
    await idle(run, 2);
    await stderrShows(run, /^Rulefile:3:13: no rule to make 'in\.txt' \(needed by 'out\.txt'\)$/m);
    p.write({ 'in.txt': 'two\n' });
    await idle(run, 3);
    assert.deepEqual(changedLines(run), ['rules: changed: in.txt; building', 'rules: changed: in.txt; building']);
    assert.deepEqual(p.lines('runs.log'), ['copy', 'copy']);
    assert.equal(p.read('out.txt'), 'two\n');
    await stop(run);
  });
  test('a glob whose directory does not exist yet: a file in it, once made, gets its job', async (t) => {
    const p = project(t, { Rulefile: COPY_TOTAL });
    const run = p.start(['watch']);
    // The directory and the file made the moment the watcher is ready.
    await idle(run, 1, () => {
      fs.mkdirSync(p.path('src'));
      fs.writeFileSync(p.path('src/a.txt'), 'A\n');
    });
    await waitFor(() => p.exists('out/a.txt'), 'out/a.txt to be built', 5_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${dump(run)}`);
    });
    await idle(run, 2);
    assert.deepEqual(p.lines('runs.log'), ['total', 'copy a', 'total']);
    assert.equal(p.read('total.txt'), 'A\n');
    await stop(run);
  });
});

describe('rules watch: Rulefile changes', () => {
  const rulefile = (cmd: string, extra: string[] = []) =>
    yaml(
      'default: all',
      'rules:',
      '  all:',
      '    inputs:',
      '      - expand: "out/{x}.txt"',
      '        x: { glob: "src/{x}.txt" }',
      ...extra,
      '  copy:',
      '    inputs: "src/{x}.txt"',
      '    outputs: "out/{x}.txt"',
      `    run: echo copy {x} >> runs.log; ${cmd}`,
    );

  test('an edited command reruns its jobs; a YAML error is reported and watching goes on; fixed, it builds again', async (t) => {
    const p = project(t, { Rulefile: rulefile('cp {input} {output}'), 'src/a.txt': 'abc\n', 'src/b.txt': 'def\n' });
    const run = p.start(['watch']);
    await idle(run, 1);
    assert.deepEqual(p.lines('runs.log').sort(), ['copy a', 'copy b']);

    // The command changes: both jobs rerun with it.
    p.write({ Rulefile: rulefile("tr a-z A-Z < {input} > {output}") });
    await idle(run, 2);
    assert.deepEqual(changedLines(run), ['rules: changed: Rulefile; building']);
    assert.deepEqual(p.lines('runs.log').slice(2).sort(), ['copy a', 'copy b']);
    assert.equal(p.read('out/a.txt'), 'ABC\n');
    assert.equal(p.read('out/b.txt'), 'DEF\n');

    // Broken YAML: line 9 opens a flow sequence that never closes (reported there or where it fails, line 10).
    const broken = rulefile("tr a-z A-Z < {input} > {output}").replace('    outputs: "out/{x}.txt"', '    outputs: ["out/{x}.txt"');
    p.write({ Rulefile: broken });
    await idle(run, 3);
    await stderrShows(run, /^Rulefile:(9|10):\d+: .*YAML/m);
    assert.doesNotMatch(run.stderr(), /internal error|\n\s+at /, 'no stack trace');
    assert.equal(run.child.exitCode, null, 'still running');
    assert.equal(p.lines('runs.log').length, 4, 'nothing ran');

    // Fixed (to the same rules as before): nothing to do, and edits work again.
    p.write({ Rulefile: rulefile("tr a-z A-Z < {input} > {output}") });
    await idle(run, 4);
    assert.match(run.stdout().slice(run.stdout().lastIndexOf('rules: changed:')), /^rules: nothing to do$/m, dump(run));
    assert.equal(p.lines('runs.log').length, 4);
    await probe(p, run, 4, 3, 'src/a.txt', 'xyz\n');
    assert.deepEqual(p.lines('runs.log').slice(4), ['copy a']);
    assert.equal(p.read('out/a.txt'), 'XYZ\n');
    await stop(run);
  });

  test('a Rulefile broken from the start: reported, watched, and built once fixed', async (t) => {
    const good = rulefile('cp {input} {output}');
    const p = project(t, { Rulefile: good.replace('    outputs: "out/{x}.txt"', '    outputs: ["out/{x}.txt"'), 'src/a.txt': 'a\n' });
    const run = p.start(['watch']);
    await idle(run, 1);
    await stderrShows(run, /^Rulefile:(9|10):\d+: .*YAML/m);
    assert.equal(p.exists('runs.log'), false);
    p.write({ Rulefile: good });
    await idle(run, 2);
    assert.deepEqual(changedLines(run), ['rules: changed: Rulefile; building']);
    assert.deepEqual(p.lines('runs.log'), ['copy a']);
    assert.equal(p.read('out/a.txt'), 'a\n');
    await probe(p, run, 2, 1, 'src/a.txt', 'a2\n');
    assert.equal(p.read('out/a.txt'), 'a2\n');
    await stop(run);
  });

  test('a Rulefile broken from the start: its own console log in the project starts no builds', async (t) => {
    const good = rulefile('cp {input} {output}');
    const p = project(t, { Rulefile: good.replace('    outputs: "out/{x}.txt"', '    outputs: ["out/{x}.txt"'), 'src/a.txt': 'a\n' });
    // As `rules watch > watch.log 2>&1` in the project directory.
    const logFd = fs.openSync(p.path('watch.log'), 'a');
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.NODE_TEST_CONTEXT;
    const child = spawn(process.execPath, [CLI, 'watch'], { cwd: p.dir, env, stdio: ['ignore', logFd, logFd] });
    fs.closeSync(logFd);
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const log = () => (p.exists('watch.log') ? p.read('watch.log') : '');
    await waitFor(() => matching(log(), WATCHING).length >= 1, 'the first watching line');
    p.write({ Rulefile: good });
    await waitFor(() => p.exists('out/a.txt') && matching(log(), WATCHING).length >= 2, 'the build after the fix');
    // Stays idle: the next edit is the only other build.
    p.write({ 'src/a.txt': 'a2\n' });
    await waitFor(() => p.exists('out/a.txt') && p.read('out/a.txt') === 'a2\n' && matching(log(), WATCHING).length >= 3, 'the build after the edit');
    child.kill('SIGINT');
    assert.equal(await within(exited, 10_000, 'rules watch to exit'), 130);
    assert.deepEqual(matching(log(), CHANGED), ['rules: changed: Rulefile; building', 'rules: changed: src/a.txt; building'], log());
    assert.equal(matching(log(), WATCHING).length, 3, log());
  });

  test('a Rulefile edit that adds a source in a new directory: that directory is watched', async (t) => {
    const p = project(t, { Rulefile: rulefile('cp {input} {output}'), 'src/a.txt': 'a\n', 'extra/e.txt': 'e1\n' });
    const run = p.start(['watch']);
    await idle(run, 1);
    p.write({
      Rulefile: rulefile('cp {input} {output}', [
        '      - e.out',
        '  e:',
        '    inputs: extra/e.txt',
        '    outputs: e.out',
        '    run: echo e >> runs.log; cp {input} {output}',
      ]),
    });
    // The new directory's source edited the moment the (new) watcher is ready.
    await idle(run, 2, () => p.write({ 'extra/e.txt': 'e2\n' }));
    await idle(run, 3);
    assert.deepEqual(changedLines(run), ['rules: changed: Rulefile; building', 'rules: changed: extra/e.txt; building']);
    assert.deepEqual(p.lines('runs.log'), ['copy a', 'e', 'e']);
    assert.equal(p.read('e.out'), 'e2\n');
    await probe(p, run, 3, 2, 'extra/e.txt', 'e3\n');
    assert.equal(p.read('e.out'), 'e3\n');
    await stop(run);
  });
});

describe('rules watch: includes and config files', () => {
  test('an include, a new file matching the include glob, and a --configfile: each change rebuilds', async (t) => {
    const inc = (extra = '') =>
      yaml(
        'config:',
        '  suffix: A',
        'rules:',
        '  copy:',
        '    inputs: in.txt',
        '    outputs: out.txt',
        '    params: { suffix: "{config.suffix}", tag: "{config.tag}" }',
        `    run: echo copy >> runs.log; (cat {input}; echo {params.suffix} {params.tag}${extra}) > {output}`,
      );
    const p = project(t, {
      Rulefile: yaml('include: "rules/*.yaml"', 'default: all', 'rules:', '  all:', '    inputs: out.txt'),
      'rules/a.yaml': inc(),
      'conf/c.yaml': yaml('tag: t1'),
      'in.txt': 'in\n',
    });
    const run = p.start(['watch', '--configfile', 'conf/c.yaml']);
    await idle(run, 1);
    assert.equal(p.read('out.txt'), 'in\nA t1\n', dump(run));

    // A new include overrides the config default.
    p.write({ 'rules/b.yaml': yaml('config:', '  suffix: B') });
    await idle(run, 2);
    assert.equal(changedLines(run).at(-1), 'rules: changed: rules/b.yaml; building');
    assert.equal(p.read('out.txt'), 'in\nB t1\n', dump(run));

    p.write({ 'conf/c.yaml': yaml('tag: t2') });
    await idle(run, 3);
    assert.equal(changedLines(run).at(-1), 'rules: changed: conf/c.yaml; building');
    assert.equal(p.read('out.txt'), 'in\nB t2\n', dump(run));

    p.write({ 'rules/a.yaml': inc(' v2') });
    await idle(run, 4);
    assert.equal(changedLines(run).at(-1), 'rules: changed: rules/a.yaml; building');
    assert.equal(p.read('out.txt'), 'in\nB t2 v2\n', dump(run));

    // The include removed: back to its default.
    fs.unlinkSync(p.path('rules/b.yaml'));
    await idle(run, 5);
    assert.equal(p.read('out.txt'), 'in\nA t2 v2\n', dump(run));
    assert.deepEqual(p.lines('runs.log'), ['copy', 'copy', 'copy', 'copy', 'copy']);
    await probe(p, run, 5, 4, 'in.txt', 'in2\n');
    assert.equal(p.read('out.txt'), 'in2\nA t2 v2\n');
    await stop(run);
  });
});

describe('rules watch: debouncing and loops', () => {
  test('a burst of 200 new files starts one or two builds, not 200', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'default: all',
        'rules:',
        '  all:',
        '    inputs:',
        '      - expand: "out/{x}.txt"',
        '        x: { glob: "src/{x}.txt" }',
        '  copy:',
        '    inputs: "src/{x}.txt"',
        '    outputs: "out/{x}.txt"',
        '    run: echo {x} >> runs.log; cp {input} {output}',
      ),
      'src/seed.txt': 'seed\n',
    });
    const run = p.start(['watch']);
    await idle(run, 1);
    const N = 200;
    for (let i = 0; i < N; i++) fs.writeFileSync(p.path(`src/f${i}.txt`), `f${i}\n`);
    const allOut = () => {
      for (let i = 0; i < N; i++) if (!fs.existsSync(p.path(`out/f${i}.txt`))) return false;
      return true;
    };
    // Every output made, and every build that started has finished.
    await waitFor(() => allOut() && matching(run.stdout(), WATCHING).length === changedLines(run).length + 1, 'all outputs and an idle watcher', 20_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${dump(run)}`);
    });
    const builds = changedLines(run).length;
    assert.ok(builds >= 1 && builds <= 2, `${builds} builds for one burst\n${dump(run)}`);
    assert.match(changedLines(run)[0]!, /^rules: changed: src\/f\d+\.txt, src\/f\d+\.txt, src\/f\d+\.txt and \d+ more; building$/);
    for (let i = 0; i < N; i++) assert.equal(p.read(`out/f${i}.txt`), `f${i}\n`);
    const ran = p.lines('runs.log');
    assert.equal(new Set(ran).size, N + 1, 'every file got its job');
    await probe(p, run, builds + 1, builds, 'src/seed.txt', 'seed2\n');
    assert.equal(p.lines('runs.log').at(-1), 'seed');
    await stop(run);
  });

  test('outputs, logs and temporary files next to the inputs do not start builds (no loop)', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'default: all',
        'rules:',
        '  all:',
        '    inputs:',
        '      - expand: "data/{x}.out"',
        '        x: { glob: "data/{x}.txt" }',
        '  conv:',
        '    inputs: "data/{x}.txt"',
        '    outputs: "data/{x}.out"',
        '    log: "data/{x}.log"',
        '    run: echo {x} >> runs.log; echo working > data/{x}.tmp; tr a-z A-Z < {input} > data/{x}.tmp; mv data/{x}.tmp {output}; echo done > {log}',
      ),
      'data/a.txt': 'a\n',
      'data/b.txt': 'b\n',
    });
    const run = p.start(['watch']);
    await idle(run, 1);
    assert.deepEqual(p.lines('runs.log').sort(), ['a', 'b']);

    p.write({ 'data/a.txt': 'a2\n' });
    await idle(run, 2);
    assert.deepEqual(p.lines('runs.log').slice(2), ['a']);
    assert.equal(p.read('data/a.out'), 'A2\n');

    // Idle and staying idle: the next edit is the only other build.
    await probe(p, run, 2, 1, 'data/b.txt', 'b2\n');
    assert.equal(changedLines(run).length, 2, dump(run));
    assert.deepEqual(p.lines('runs.log'), [...p.lines('runs.log').slice(0, 2), 'a', 'b']);
    assert.equal(p.read('data/b.out'), 'B2\n');
    assert.equal(p.exists('data/a.tmp'), false);
    await stop(run);
  });

  test('a change made while a build runs is not lost: one more build picks it up', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  copy:',
        '    inputs: in.txt',
        '    outputs: out.txt',
        // Reads its input first, then takes a second.
        '    run: cp {input} {output}; echo copy >> runs.log; sleep 1',
      ),
      'in.txt': 'v1\n',
    });
    const run = p.start(['watch']);
    await idle(run, 1);
    p.write({ 'in.txt': 'v2\n' });
    await waitFor(() => p.lines('runs.log').length === 2, 'the second build\'s job to start');
    p.write({ 'in.txt': 'v3\n' }); // while the job sleeps
    await idle(run, 2);
    await idle(run, 3);
    assert.deepEqual(changedLines(run), ['rules: changed: in.txt; building', 'rules: changed: in.txt; building']);
    assert.deepEqual(p.lines('runs.log'), ['copy', 'copy', 'copy']);
    assert.equal(p.read('out.txt'), 'v3\n');
    await probe(p, run, 3, 2, 'in.txt', 'v4\n');
    assert.equal(p.read('out.txt'), 'v4\n');
    await stop(run);
  });

  test('changes made during the first build, before watching starts, are not lost', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'default: all',
        'rules:',
        '  all:',
        '    inputs:',
        '      - expand: "out/{x}.txt"',
        '        x: { glob: "src/{x}.txt" }',
        '  copy:',
        '    inputs: "src/{x}.txt"',
        '    outputs: "out/{x}.txt"',
        '    run: cp {input} {output}; echo copy {x} >> runs.log; sleep 1',
      ),
      'src/a.txt': 'a1\n',
    });
    const run = p.start(['watch']);
    await waitFor(() => p.lines('runs.log').length === 1, 'the first job to start');
    p.write({ 'src/a.txt': 'a2\n', 'src/b.txt': 'b\n' });
    await idle(run, 1);
    await idle(run, 2);
    assert.equal(changedLines(run).length, 1, dump(run));
    assert.deepEqual(p.lines('runs.log').sort(), ['copy a', 'copy a', 'copy b']);
    assert.equal(p.read('out/a.txt'), 'a2\n');
    assert.equal(p.read('out/b.txt'), 'b\n');
    await stop(run);
  });
});

describe('rules watch: failures', () => {
  test('a failing job is reported and watching goes on; fixing its input rebuilds', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  check:',
        '    inputs: in.txt',
        '    outputs: out.txt',
        '    run: echo check >> runs.log; echo partial > {output}; if grep -q bad {input}; then exit 3; fi; cp {input} {output}',
      ),
      'in.txt': 'good\n',
    });
    const run = p.start(['watch']);
    await idle(run, 1);
    assert.equal(p.read('out.txt'), 'good\n');

    p.write({ 'in.txt': 'bad\n' });
    await idle(run, 2);
    await stderrShows(run, /^FAILED: check: exit status 3$/m);
    await stderrShows(run, /^rules: build failed: 1 job failed \(0 done\)$/m);
    assert.equal(p.exists('out.txt'), false, 'the failed job\'s output is removed');
    assert.equal(run.child.exitCode, null, 'still watching');

    p.write({ 'in.txt': 'good again\n' });
    await idle(run, 3);
    assert.equal(p.read('out.txt'), 'good again\n');
    assert.deepEqual(p.lines('runs.log'), ['check', 'check', 'check']);
    assert.match(run.stdout().slice(run.stdout().lastIndexOf('rules: changed:')), /^rules: 1 job done in \d+\.\ds$/m);
    assert.equal(matching(run.stderr(), /^FAILED/).length, 1);
    await stop(run);
  });

  test('a first build that fails keeps watching; fixing the command rebuilds', async (t) => {
    const rf = (cmd: string) => yaml('rules:', '  a:', '    inputs: in.txt', '    outputs: out.txt', `    run: echo a >> runs.log; ${cmd}`);
    const p = project(t, { Rulefile: rf('exit 5'), 'in.txt': 'x\n' });
    const run = p.start(['watch']);
    await idle(run, 1);
    await stderrShows(run, /^FAILED: a: exit status 5$/m);
    p.write({ Rulefile: rf('cp {input} {output}') });
    await idle(run, 2);
    assert.equal(p.read('out.txt'), 'x\n');
    assert.deepEqual(p.lines('runs.log'), ['a', 'a']);
    await stop(run);
  });
});

describe('rules watch: stopping', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} while idle: exit 130`, async (t) => {
      const p = project(t, { Rulefile: COPY_TOTAL, 'src/a.txt': 'A\n' });
      const run = p.start(['watch']);
      await idle(run, 1);
      await stop(run, signal, 5_000);
    });
  }

  test('SIGINT during a long job: exit 130, the job killed, its output removed', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  slow:',
        '    inputs: in.txt',
        '    outputs: out.txt',
        '    run: if grep -q slow {input}; then echo $$ > job.pid; echo partial > {output}; sleep 30 & echo $! > sleep.pid; wait; else cp {input} {output}; fi',
      ),
      'in.txt': 'fast\n',
    });
    const run = p.start(['watch']);
    await idle(run, 1);
    assert.equal(p.read('out.txt'), 'fast\n');
    p.write({ 'in.txt': 'slow\n' });
    await waitFor(() => p.exists('sleep.pid') && p.read('sleep.pid').trim() !== '', 'the long job to start');
    const jobPid = Number(p.read('job.pid').trim());
    const sleepPid = Number(p.read('sleep.pid').trim());
    assert.equal(processGone(sleepPid), false, 'the job runs');
    const t0 = Date.now();
    const r = await stop(run, 'SIGINT', 5_000);
    assert.ok(Date.now() - t0 < 5_000);
    await waitFor(() => processGone(jobPid) && processGone(sleepPid), 'the job\'s processes to be gone', 3_000);
    assert.equal(p.exists('out.txt'), false, 'the interrupted job\'s output is removed');
    assert.match(r.stderr, /interrupted/);
    // The next build reruns the interrupted job.
    const again = p.run(['build', '-n']);
    assert.match(again.stdout, /^slow out\.txt: output missing: out\.txt$/m, showResult(again));
  });
});

describe('rules watch: command line and JSON log', () => {
  test('rules build --watch is rules watch; rules watch -n is refused', async (t) => {
    const p = project(t, { Rulefile: COPY_TOTAL, 'src/a.txt': 'A\n' });
    const refused: [string[], RegExp][] = [
      [['watch', '-n'], /^rules: 'rules watch' has no option '--dry-run'/m],
      [['watch', '--dry-run'], /^rules: 'rules watch' has no option '--dry-run'/m],
      [['build', '--watch', '-n'], /^rules: a dry run cannot watch/m],
    ];
    for (const [args, message] of refused) {
      const r = p.run(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${showResult(r)}`);
      assert.match(r.stderr, message);
    }
    assert.equal(p.exists('runs.log'), false);

    const run = p.start(['build', '--watch']);
    await idle(run, 1);
    assert.deepEqual(p.lines('runs.log').sort(), ['copy a', 'total']);
    p.write({ 'src/a.txt': 'A2\n' });
    await idle(run, 2);
    assert.deepEqual(changedLines(run), ['rules: changed: src/a.txt; building']);
    assert.equal(p.read('total.txt'), 'A2\n');
    await stop(run);
  });

  test('--log-format json: watch-waiting and watch-changed events on stderr', async (t) => {
    const p = project(t, { Rulefile: COPY_TOTAL, 'src/a.txt': 'A\n', 'src/b.txt': 'B\n' });
    const run = p.start(['watch', '--log-format', 'json']);
    type Event = { event?: string; files?: number; dirs?: number; paths?: string[] };
    const events = (): Event[] => nonEmptyLines(run.stderr()).map((l) => JSON.parse(l) as Event);
    const waiting = () => events().filter((e) => e.event === 'watch-waiting').length;
    await waitFor(() => waiting() >= 1, 'watch-waiting #1').catch((e: Error) => {
      throw new Error(`${e.message}\n${dump(run)}`);
    });
    p.write({ 'src/b.txt': 'B2\n' });
    await waitFor(() => waiting() >= 2, 'watch-waiting #2').catch((e: Error) => {
      throw new Error(`${e.message}\n${dump(run)}`);
    });
    await stop(run);
    const names = events().map((e) => e.event);
    assert.deepEqual(
      names.filter((n) => n === 'build-started' || n === 'build-finished' || n?.startsWith('watch-')),
      ['build-started', 'build-finished', 'watch-waiting', 'watch-changed', 'build-started', 'build-finished', 'watch-waiting'],
      run.stderr(),
    );
    const w = events().find((e) => e.event === 'watch-waiting')!;
    assert.equal(w.files, 3);
    assert.equal(w.dirs, 2);
    assert.deepEqual(events().find((e) => e.event === 'watch-changed')!.paths, ['src/b.txt']);
    assert.equal(events().filter((e) => e.event === 'job-finished').length, 3 + 2);
    assert.doesNotMatch(run.stdout(), /^rules: watching/m, 'no console watching lines in JSON mode');
  });
});
