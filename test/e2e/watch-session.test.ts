// A long `rules watch` session: what a rebuild leaves behind must not pile
// up, and `-B` forces only the first build.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { project, waitFor, within, yaml, type AsyncRun } from './helpers.js';

const COPY = yaml('rules:', '  copy:', '    inputs: src.txt', '    outputs: out.txt', '    run: echo run >> runs.log; cp {input} {output}');

function watchingLines(run: AsyncRun): number {
  return run.stdout().split('\n').filter((l) => l.startsWith('rules: watching ')).length;
}

async function stop(run: AsyncRun): Promise<void> {
  run.child.kill('SIGINT');
  const r = await within(run.done, 10_000, 'rules watch to exit');
  assert.equal(r.status, 130, r.stderr);
}

describe('a long watch session', () => {
  test('rebuilds do not leave files open (the event log is closed after each build)', async (t) => {
    const p = project(t, { Rulefile: COPY, 'src.txt': '0\n' });
    const run = p.start(['watch', '-j1']);
    await waitFor(() => watchingLines(run) === 1, 'the first build');
    const openEventLogs = () =>
      fs.readdirSync(`/proc/${run.child.pid}/fd`).filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/${run.child.pid}/fd/${fd}`).endsWith('events.jsonl');
        } catch {
          return false; // closed meanwhile
        }
      }).length;
    for (let i = 1; i <= 8; i++) {
      p.write({ 'src.txt': `${i}\n` });
      await waitFor(() => watchingLines(run) === i + 1, `rebuild ${i}`);
      assert.equal(p.read('out.txt'), `${i}\n`);
    }
    assert.equal(openEventLogs(), 0);
    assert.equal(p.read('runs.log'), 'run\n'.repeat(9));
    await stop(run);
  });

  test('-B forces the first build only; a rebuild runs what the change made stale', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  all:',
        '    inputs: [a.out, b.out]',
        '  one:',
        '    inputs: "{x}.src"',
        '    outputs: "{x}.out"',
        '    run: echo {wildcards.x} >> runs.log; cp {input} {output}',
      ),
      'a.src': 'a\n',
      'b.src': 'b\n',
    });
    assert.equal(p.run(['build']).status, 0);
    fs.rmSync(p.path('runs.log'));
    const run = p.start(['watch', '-B', '-j1']);
    await waitFor(() => watchingLines(run) === 1, 'the first build');
    assert.deepEqual(p.read('runs.log').split('\n').filter(Boolean).sort(), ['a', 'b']);
    p.write({ 'a.src': 'a2\n' });
    await waitFor(() => watchingLines(run) === 2, 'the rebuild');
    assert.deepEqual(p.read('runs.log').split('\n').filter(Boolean).sort(), ['a', 'a', 'b']);
    await stop(run);
  });
});
