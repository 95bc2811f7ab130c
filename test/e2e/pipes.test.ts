// `rules ... | head -1`: a reader that closes our output early. No stack
// trace, a prompt exit with status 141, running jobs stopped and their
// half-written outputs removed, the lock released.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { describe, test, type TestContext } from 'node:test';
import { CLI, nonEmptyLines, processGone, project, show, waitFor, within, yaml, type Project, type RunResult } from './helpers.js';
import { killGroup, pidFrom } from './state-helpers.js';

interface PipedRun {
  /** Resolves with the first line the reader saw ('' when it closed at once). */
  firstLine: Promise<string>;
  done: Promise<RunResult>;
}

/**
 * Runs `rules ARGS` with stdout (and with `merge`, stderr too: `2>&1`) into a
 * pipe whose reader closes after the first line, or at once.
 */
function startPiped(t: TestContext, p: Project, args: string[], opts: { merge?: boolean; closeAt: 'first-line' | 'start' }): PipedRun {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_TEST_CONTEXT;
  // `exec` keeps one process: the shell becomes rules.
  const child = opts.merge
    ? spawn('/bin/sh', ['-c', 'exec "$0" "$@" 2>&1', process.execPath, CLI, ...args], { cwd: p.dir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [CLI, ...args], { cwd: p.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const out = child.stdout!;
  // Whatever the pipe still held when the reader went away is not an error here.
  out.on('error', () => {});
  const firstLine = new Promise<string>((resolve) => {
    if (opts.closeAt === 'start') {
      out.destroy();
      resolve('');
      return;
    }
    let seen = '';
    out.setEncoding('utf8').on('data', (s: string) => {
      seen += s;
      const nl = seen.indexOf('\n');
      if (nl >= 0) {
        out.destroy();
        resolve(seen.slice(0, nl));
      }
    });
  });
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout: '', stderr }));
  });
  return { firstLine, done };
}

/**
 * `rules ARGS | head -1` (with `merge`: `rules ARGS 2>&1 | head -1`) in bash:
 * the status of rules, what head printed, and rules' stderr.
 */
function throughHead(p: Project, args: readonly string[], merge: boolean): RunResult {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_TEST_CONTEXT;
  const script = `"$0" "$@" ${merge ? '2>&1 ' : ''}| head -1; echo "rules exit status: \${PIPESTATUS[0]}" >&2`;
  const r = spawnSync('bash', ['-c', script, process.execPath, CLI, ...args], { cwd: p.dir, env, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  const status = /rules exit status: (\d+)\n$/.exec(r.stderr);
  assert.ok(status, r.stderr);
  return { status: Number(status[1]), signal: null, stdout: r.stdout, stderr: r.stderr.slice(0, status.index) };
}

/** No trace of a crash on stderr. */
function assertNoTrace(r: RunResult): void {
  assert.doesNotMatch(r.stderr, /EPIPE|Error|internal error|^\s+at /m, show(r));
}

const STALL = 'echo $$ > slow.pid; echo partial > {output}; if [ -e hold ]; then sleep 30; fi; echo done >> {output}';

function buildProject(t: TestContext): Project {
  return project(t, {
    Rulefile: yaml(
      'rules:',
      '  all:',
      '    inputs: [first.txt, slow.txt, later.txt]',
      '  first:',
      '    outputs: first.txt',
      '    run: echo first > {output}',
      // Finishes once the reader has gone: its progress line is the write that fails.
      '  later:',
      '    outputs: later.txt',
      '    run: while [ ! -e reader-gone ]; do sleep 0.02; done; echo later > {output}',
      '  slow:',
      '    outputs: slow.txt',
      `    run: ${STALL}`,
    ),
    hold: '',
  });
}

async function assertBuildStopped(t: TestContext, p: Project, piped: PipedRun): Promise<void> {
  const line = await within(piped.firstLine, 15_000, 'the first line');
  assert.match(line, /^\[1\/3\] /);
  const jobPid = await pidFrom(p, 'slow.pid');
  t.after(() => killGroup(jobPid));
  p.write({ 'reader-gone': '' });
  const r = await within(piped.done, 15_000, 'rules to exit after its output was closed');
  assert.equal(r.status, 141, show(r));
  assertNoTrace(r);
  await waitFor(() => processGone(jobPid), 'the running job to be stopped', 5_000);
  assert.equal(p.exists('slow.txt'), false, 'the half-written output is removed');
  assert.equal(p.exists('.rules/lock'), false, 'the lock is released');
  // The next build starts, and reruns what was stopped.
  rmSync(p.path('hold'));
  const again = p.run(['build']);
  assert.equal(again.status, 0, show(again));
  assert.equal(p.read('slow.txt'), 'partial\ndone\n');
}

describe('a reader that closes our output early', () => {
  for (const merge of [false, true]) {
    test(`build${merge ? ' 2>&1' : ''} | head -1: the running jobs are stopped, exit 141, no trace, lock released`, async (t) => {
      const p = buildProject(t);
      await assertBuildStopped(t, p, startPiped(t, p, ['build', '-j3'], { merge, closeAt: 'first-line' }));
    });
  }

  test('build -n | head -1 on a plan of thousands of jobs, graph | head -1: exit 141, no trace', (t) => {
    const ids = Array.from({ length: 2000 }, (_, i) => i);
    const p = project(t, {
      Rulefile: yaml(
        'config:',
        `  ids: [${ids.join(', ')}]`,
        'rules:',
        '  all:',
        '    inputs:',
        '      - expand: "out/{i}.txt"',
        '        i: { config: ids }',
        '  make:',
        '    outputs: "out/{i}.txt"',
        '    run: echo {i} > {output}',
      ),
    });
    // Far more than a pipe holds: rules is still writing when head has gone.
    for (const [merge, ...args] of [[false, 'build', '-n'], [true, 'build', '-n'], [false, 'build', '-n', '--json'], [true, 'graph']] as const) {
      const r = throughHead(p, args, merge);
      assert.equal(r.status, 141, `${args.join(' ')}: ${show(r)}`);
      assert.equal(nonEmptyLines(r.stdout).length, 1, show(r));
      assertNoTrace(r);
    }
    assert.equal(p.exists('out'), false);
  });

  test('list, config, an up-to-date build and a failing build into a closed pipe: exit 141, no trace', async (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  one:', '    description: Make one', '    outputs: one.txt', '    run: echo one > {output}', '  bad:', '    outputs: bad.txt', '    run: echo oops; exit 1'),
    });
    assert.equal(p.run(['build', 'one']).status, 0);
    for (const args of [['list'], ['config'], ['build', 'one'], ['build', 'bad', '--log-format', 'json']]) {
      const piped = startPiped(t, p, args, { merge: true, closeAt: 'start' });
      const r = await within(piped.done, 15_000, `rules ${args.join(' ')} to exit`);
      assert.equal(r.status, 141, `${args.join(' ')}: ${show(r)}`);
      assertNoTrace(r);
      assert.equal(p.exists('.rules/lock'), false, 'the lock is released');
    }
  });
});
