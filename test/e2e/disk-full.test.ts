// A full disk under .rules/ (issue 10, item 9): the build ends with one clear
// line, exit 1 or 2, the lock released, and the state usable once space is
// freed. The project lives on a tiny tmpfs, filled up before or during a build;
// mounting needs root (as on CI), else the tests say they were skipped.

import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { nonEmptyLines, Project, show, yaml, type Files, type RunResult } from './helpers.js';

/** A project on its own tmpfs of `kb` KiB, unmounted and deleted when the test ends; undefined if it cannot be mounted. */
function tinyProject(t: TestContext, kb: number, files: Files): Project | undefined {
  const p = new Project();
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', p.dir], { encoding: 'utf8' });
  if (m.status !== 0) {
    p.cleanup();
    return undefined;
  }
  t.after(() => {
    spawnSync('umount', ['-l', p.dir]); // lazily: a job or descriptor left by a failed test must not keep the mount
    p.cleanup();
  });
  p.write(files);
  return p;
}

/** Writes `filler` until the file system has not a byte left. */
function fillUp(p: Project): void {
  const fd = fs.openSync(p.path('filler'), 'a');
  try {
    for (const size of [64 * 1024, 4096, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          fs.writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
          break;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** The one clear line: `rules: cannot write ... no space left`, no stack trace, nothing internal. */
function assertOneClearLine(r: RunResult, what: RegExp): void {
  const lines = nonEmptyLines(r.stderr).filter((l) => l.startsWith('rules: ') && !l.startsWith('rules: build failed'));
  assert.equal(lines.length, 1, show(r));
  assert.match(lines[0]!, what, show(r));
  assert.match(lines[0]!, /no space left on the device; free some space/, show(r));
  assert.doesNotMatch(r.stderr, /internal error|^\s+at /m, show(r));
}

describe('a full disk', () => {
  test('before the build (0 bytes free): the lock cannot be written; one line, exit 2; the next build works', (t) => {
    const p = tinyProject(t, 256, {
      Rulefile: yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo a > {output}'),
    });
    if (!p) return t.skip('needs root to mount a tmpfs');
    fillUp(p);
    const t0 = Date.now();
    const r = p.run(['build']);
    t.diagnostic(`0 bytes free: the clear error after ${Date.now() - t0} ms (process start included)`);
    assert.equal(r.status, 2, show(r));
    assertOneClearLine(r, /^rules: cannot write the build lock \.rules\/lock: /);
    assert.deepEqual(fs.readdirSync(p.path('.rules')), [], 'no lock, no half-written lock file');
    assert.equal(p.exists('a.txt'), false);

    fs.rmSync(p.path('filler'));
    const ok = p.run(['build']);
    assert.equal(ok.status, 0, show(ok));
    assert.equal(p.read('a.txt'), 'a\n');
  });

  test('during the build: the build log cannot be appended to; running jobs stopped, one line, exit 1, lock released; then a working build', async (t) => {
    // `fill` leaves the disk full; the jobs after it make empty outputs (no data to write), so
    // only rules' own writes fail: the build log (or the event log) needs a new page at some point.
    const many = Array.from({ length: 40 }, (_, i) => `o/n${i}.txt`);
    const p = tinyProject(t, 512, {
      Rulefile: yaml(
        'rules:',
        '  all:',
        `    inputs: [slow.txt, ${many.join(', ')}]`,
        '  fill:',
        '    outputs: fill.done',
        '    run: head -c 100000000 /dev/zero > filler 2>/dev/null; touch {output}',
        '  n:',
        '    inputs: fill.done',
        '    outputs: o/n{i}.txt',
        '    run: touch {output}',
        '  slow:',
        '    outputs: slow.txt',
        '    run: touch {output}; if [ ! -e fast ]; then sleep 30; fi',
      ),
    });
    if (!p) return t.skip('needs root to mount a tmpfs');
    const t0 = Date.now();
    const r = await p.start(['build', '-j', '2']).done;
    const ms = Date.now() - t0;
    t.diagnostic(`disk filled by a job: the clear error after ${ms} ms`);
    assert.equal(r.status, 1, show(r));
    assertOneClearLine(r, /^rules: cannot write the (build|event) log \.rules\/(log|logs\/events\.jsonl): /);
    assert.ok(ms < 20_000, `the running job was stopped, not waited for (${ms} ms)`);
    assert.equal(p.exists('.rules/lock'), false, 'lock released');
    assert.equal(p.exists('slow.txt'), false, 'the stopped job’s output is removed');
    assert.equal(p.exists('.rules/log.tmp'), false);

    fs.rmSync(p.path('filler'));
    p.write({ fast: '' });
    const again = p.run(['build', '-j', '2', '-n']);
    assert.equal(again.status, 0, show(again));
    assert.doesNotMatch(again.stderr, /warning/, 'the build log is whole');
    assert.match(again.stdout, /^slow slow\.txt: /m, 'the stopped job is to run again');
    const ok = p.run(['build', '-j', '2']);
    assert.equal(ok.status, 0, show(ok));
    for (const out of ['slow.txt', ...many]) assert.ok(p.exists(out), out);
    const none = p.run(['build']);
    assert.equal(none.status, 0, show(none));
    assert.match(none.stderr + none.stdout, /nothing to do/);
  });
});
