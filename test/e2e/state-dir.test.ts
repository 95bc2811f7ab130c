// An odd or damaged .rules/ (issue 10, items 12 and 13): each case is one
// clear line and exit 2 with nothing run, or repaired when it is an empty
// directory rules owns; the project works once the user has fixed it. And the
// lock seen from the command line: a PID of an unrelated process, another host.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { nonEmptyLines, project, show, yaml, type Project, type RunResult } from './helpers.js';

const RULEFILE = yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo a >> ran.log; echo a > {output}');

/** Exit 2, stderr exactly `line`, nothing ran. */
function assertRefused(p: Project, r: RunResult, line: RegExp): void {
  assert.equal(r.status, 2, show(r));
  const lines = nonEmptyLines(r.stderr);
  assert.equal(lines.length, 1, show(r));
  assert.match(lines[0]!, line, show(r));
  assert.deepEqual(p.lines(), [], 'nothing ran');
  assert.equal(p.exists('.rules/lock'), false, 'no lock left');
}

/** A normal build now: the job runs once, and a second build has nothing to do. */
function assertWorks(p: Project): void {
  const r = p.run(['build']);
  assert.equal(r.status, 0, show(r));
  assert.doesNotMatch(r.stderr, /warning|error/, show(r));
  assert.deepEqual(p.lines(), ['a']);
  assert.equal(p.run(['build']).status, 0);
  assert.deepEqual(p.lines(), ['a']);
}

describe('an odd .rules/', () => {
  test('.rules a file: one line, exit 2, the file untouched', (t) => {
    const p = project(t, { Rulefile: RULEFILE, '.rules': 'notes\n' });
    assertRefused(p, p.run(['build']), /^rules: \.rules is a file, but rules keeps its state in a directory of that name: move the file away$/);
    assert.equal(p.read('.rules'), 'notes\n');
    fs.rmSync(p.path('.rules'));
    assertWorks(p);
  });

  test('.rules/logs a file: one line, exit 2', (t) => {
    const p = project(t, { Rulefile: RULEFILE, '.rules/logs': 'x' });
    assertRefused(p, p.run(['build']), /^rules: \.rules\/logs is a file, but rules keeps a directory there: move it away$/);
    fs.rmSync(p.path('.rules/logs'));
    assertWorks(p);
  });

  test('events.jsonl a directory: repaired when empty; else one line, exit 2', (t) => {
    const p = project(t, { Rulefile: RULEFILE });
    fs.mkdirSync(p.path('.rules/logs/events.jsonl'), { recursive: true });
    assertWorks(p);
    assert.ok(fs.statSync(p.path('.rules/logs/events.jsonl')).isFile());

    const q = project(t, { Rulefile: RULEFILE, '.rules/logs/events.jsonl/keep': 'x' });
    assertRefused(q, q.run(['build']), /^rules: \.rules\/logs\/events\.jsonl is a directory, but rules keeps a file there: move it away$/);
    assert.equal(q.read('.rules/logs/events.jsonl/keep'), 'x');
    fs.rmSync(q.path('.rules/logs/events.jsonl'), { recursive: true });
    assertWorks(q);
  });

  test('.rules/log a directory: repaired when empty; else one line, exit 2 (not every job failing)', (t) => {
    const p = project(t, { Rulefile: RULEFILE });
    fs.mkdirSync(p.path('.rules/log'), { recursive: true });
    assertWorks(p);

    const q = project(t, { Rulefile: RULEFILE, '.rules/log/keep': 'x' });
    assertRefused(q, q.run(['build']), /^rules: \.rules\/log is a directory, but rules keeps a file there: move it away$/);
    fs.rmSync(q.path('.rules/log'), { recursive: true });
    assertWorks(q);
  });

  test('a read-only .rules: one line, exit 2', (t) => {
    const p = project(t, { Rulefile: RULEFILE });
    fs.mkdirSync(p.path('.rules'));
    // As root, permissions do not stop writes: a read-only mount does.
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,ro', 'tmpfs', p.path('.rules')]).status === 0;
    if (!mounted) return t.skip('needs root to mount a read-only tmpfs');
    let umounted = false;
    const umount = () => {
      if (!umounted) spawnSync('umount', ['-l', p.path('.rules')]);
      umounted = true;
    };
    t.after(umount);
    assertRefused(p, p.run(['build']), /^rules: cannot write the build lock \.rules\/lock: the file system is read-only; rules needs to write its state under \.rules\/$/);
    umount();
    assertWorks(p);
  });
});

describe('the lock, from the command line', () => {
  test('a lock naming an unrelated live node process (another start time) is taken over', async (t) => {
    const p = project(t, { Rulefile: RULEFILE });
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => other.once('exit', () => resolve()));
    t.after(async () => {
      other.kill('SIGKILL');
      await exited;
    });
    await new Promise<void>((resolve, reject) => {
      other.once('spawn', () => resolve());
      other.once('error', reject);
    });
    p.write({ '.rules/lock': `${other.pid} 1 ${os.hostname()}\n` });
    assertWorks(p);
    assert.equal(p.exists('.rules/lock'), false);
  });

  test('a lock from another host naming a live PID: refused with its host and PID, left alone', (t) => {
    const p = project(t, { Rulefile: RULEFILE });
    const text = `${process.pid} 4242 login-node-2\n`;
    p.write({ '.rules/lock': text });
    const r = p.run(['build']);
    assert.equal(r.status, 2, show(r));
    assert.equal(
      r.stderr,
      `rules: another build holds the lock of this directory: pid ${process.pid} on host login-node-2; wait for it to finish, or, if that build is known to have ended, remove .rules/lock\n`,
    );
    assert.equal(p.read('.rules/lock'), text);
    assert.deepEqual(p.lines(), []);
    fs.rmSync(p.path('.rules/lock'));
    assertWorks(p);
  });
});
