// Builds big enough (32+ jobs) to start their jobs through helper processes:
// the same outputs, output capture, logs, failures, exit codes and interrupts
// as a small build.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { CLI, processGone, project, show, waitFor, within, yaml } from './helpers.js';

const N = 40;
const ids = Array.from({ length: N }, (_, i) => String(i).padStart(2, '0'));

function rulefile(run: string, extra: string[] = []): string {
  return yaml(
    'env: { GREETING: "hello" }',
    'rules:',
    '  all:',
    '    inputs:',
    '      - expand: "out/{n}.txt"',
    `        n: [${ids.map((i) => JSON.stringify(i)).join(', ')}]`,
    '  make:',
    '    outputs: "out/{n}.txt"',
    ...extra,
    `    run: ${JSON.stringify(run)}`,
  );
}

describe(`a build of ${N} jobs (through helper processes)`, () => {
  test('outputs, captured output, env, direct and shell commands', (t) => {
    const p = project(t, { Rulefile: rulefile('echo job {n} $GREETING > {output} && echo said {n}') });
    const r = p.run(['build', '-j2']);
    assert.equal(r.status, 0, show(r));
    for (const n of ids) assert.equal(p.read(`out/${n}.txt`), `job ${n} hello\n`);
    for (const n of ids) assert.match(r.stdout, new RegExp(`^said ${n}$`, 'm'));
    assert.match(r.stdout, new RegExp(`rules: ${N} jobs done`));
    // A simple command (run without a shell) behaves the same.
    const q = project(t, { Rulefile: rulefile('cp src.txt {output}'), 'src.txt': 'x\n' });
    const s = q.run(['build', '-j2']);
    assert.equal(s.status, 0, show(s));
    for (const n of ids) assert.equal(q.read(`out/${n}.txt`), 'x\n');
  });

  test('log files, a failure with its output, and a missing command', (t) => {
    const p = project(t, {
      Rulefile: rulefile('if [ {n} = 07 ]; then echo broken {n}; exit 3; fi; echo fine > {output}', ['    log: "logs/{n}.log"']),
    });
    const r = p.run(['build', '-j2', '-k']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /FAILED: make\[n=07\]: exit status 3/);
    assert.equal(p.read('logs/07.log'), 'broken 07\n');
    assert.equal(p.exists('out/07.txt'), false);
    assert.equal(p.read('out/08.txt'), 'fine\n');
    const q = project(t, { Rulefile: rulefile('no-such-program-here {output}') });
    const s = q.run(['build', '-j2']);
    assert.equal(s.status, 1, show(s));
    assert.match(s.stderr, /FAILED: make\[n=\d\d\]: exit status 127/);
    assert.match(s.stderr, /no-such-program-here: command not found/);
  });

  test('SIGINT stops every running job, removes their outputs, exits 130', async (t) => {
    const p = project(t, { Rulefile: rulefile('echo $$ >> pids.txt; echo partial > {output}; sleep 30') });
    const run = p.start(['build', '-j4']);
    await waitFor(() => p.exists('pids.txt') && p.read('pids.txt').trim().split('\n').length >= 4, 'four jobs running');
    run.child.kill('SIGINT');
    const r = await within(run.done, 15_000, 'the build to stop');
    assert.equal(r.status, 130, show(r));
    const pids = p.read('pids.txt').trim().split('\n').map(Number);
    await waitFor(() => pids.every(processGone), 'every job process gone');
    for (const n of ids) assert.equal(p.exists(`out/${n}.txt`), false, `out/${n}.txt removed`);
    const dry = p.run(['build', '-n']);
    assert.match(dry.stdout, /make\[n=00\] out\/00.txt: output missing: out\/00.txt/);
  });
});

describe('Ctrl-C at a terminal (SIGINT to the whole process group)', () => {
  test('the helper processes let the scheduler stop the jobs: exit 130, nothing left', async (t) => {
    const p = project(t, { Rulefile: rulefile('echo $$ >> pids.txt; echo partial > {output}; sleep 30') });
    const child = spawn(process.execPath, [CLI, 'build', '-j4'], { cwd: p.path('.'), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    t.after(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Gone.
      }
    });
    await waitFor(() => p.exists('pids.txt') && p.read('pids.txt').trim().split('\n').length >= 4, 'four jobs running');
    process.kill(-child.pid!, 'SIGINT');
    const code = await within(done, 15_000, 'the build to stop');
    assert.equal(code, 130, stderr);
    assert.doesNotMatch(stderr, /helper process/, 'no job failed because its helper died');
    const pids = p.read('pids.txt').trim().split('\n').map(Number);
    await waitFor(() => pids.every(processGone), 'every job process gone');
    for (const n of ids) assert.equal(p.exists(`out/${n}.txt`), false);
  });
});
