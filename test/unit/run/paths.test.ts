// Removing outputs never deletes a directory: before a run, after a failure
// and in `rules clean`, a directory where an output file should be is an
// error for that job (or skipped by clean), and nothing inside it is deleted.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Executor, RunningJob } from '../../../src/run/executor.js';
import { failureText } from '../../../src/report/failure.js';
import { applyClean, planClean } from '../../../src/run/clean.js';
import { runPlan } from '../../../src/run/scheduler.js';
import { IsDirectoryError } from '../../../src/util/fs.js';
import { buildOnce, EventLog, MemoryState, planOf } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

const rules = yaml`
  rules:
    gen:
      inputs: src.txt
      outputs: [sub, other.txt]
      run: make-sub {input}
`;

function failures(events: EventLog): string[] {
  return events.events.flatMap((e) => (e.type === 'job-fail' ? [failureText(e.failure)] : []));
}

describe('an output that is a directory on disk', () => {
  test('the job fails before it runs, naming the directory; nothing in it is deleted', async () => {
    const project = projectFrom(rules);
    const fs = new FakeFileSystem().write('src.txt', 'sub/user.txt', 'sub/deep/more.txt', 'other.txt');
    const b = await buildOnce(project, ['sub'], fs, new MemoryState());
    assert.equal(b.result.ok, false);
    assert.deepEqual(b.ran, [], 'the command never started');
    assert.deepEqual(failures(b.events), [
      "cannot prepare the job: output 'sub' is a directory, not a file: it is left as it is (a directory output is declared with a trailing '/')",
    ]);
    assert.deepEqual(fs.paths(), ['src.txt', 'sub/deep/more.txt', 'sub/user.txt'], 'the other output, a file, is deleted as before');
  });

  test('a job that makes a directory where its output file should be fails, and the directory stays', async () => {
    const project = projectFrom(rules);
    const fs = new FakeFileSystem().write('src.txt');
    // Writes sub/made.txt instead of the file sub.
    const executor: Executor = {
      start(): RunningJob {
        fs.write('sub/made.txt', 'other.txt');
        return { done: Promise.resolve({ ok: true, exitCode: 0, signal: null, output: '' }), kill() {} };
      },
    };
    const state = new MemoryState();
    const log = state.log();
    const events = new EventLog();
    const plan = planOf(project, ['sub'], fs, log);
    const result = await runPlan(plan, executor, events, { jobs: 1, keepGoing: false, resources: new Map() }, new AbortController().signal);
    log.close();
    assert.equal(result.ok, false);
    assert.deepEqual(failures(events), [
      "the command succeeded but output 'sub' is a directory, not a file: it is left as it is (a directory output is declared with a trailing '/')",
    ]);
    assert.deepEqual(fs.paths(), ['src.txt', 'sub/made.txt']);
    assert.ok(state.log().incomplete.has('sub'), 'the job is rerun next time');
  });

  test('a failing job still deletes its outputs that are files', async () => {
    const project = projectFrom(yaml`
      rules:
        gen:
          outputs: [a.txt, b.txt]
          run: make FAIL
    `);
    const fs = new FakeFileSystem();
    const b = await buildOnce(project, ['a.txt'], fs, new MemoryState());
    assert.equal(b.result.ok, false);
    assert.deepEqual(failures(b.events), ['exit status 1']);
    assert.deepEqual(fs.paths(), []);
  });
});

describe('rules clean and directories', () => {
  test('a recorded output that is now a directory is reported and kept, with its record', async () => {
    const project = projectFrom(rules);
    const fs = new FakeFileSystem().write('src.txt');
    const state = new MemoryState();
    assert.equal((await buildOnce(project, ['sub'], fs, state)).result.ok, true);
    // The user replaces the job's file by a directory of their own.
    fs.remove('sub');
    fs.write('sub/user.txt');
    const log = state.log();
    const items = planClean(project, log, fs, undefined);
    assert.deepEqual(items, [{ key: 'sub', paths: ['other.txt'], directories: ['sub'], trees: [] }]);
    assert.deepEqual(planClean(project, log, fs, ['sub']), items, 'the same through a target');
    applyClean(items, log, fs);
    log.close();
    assert.deepEqual(fs.paths(), ['src.txt', 'sub/user.txt']);
    assert.ok(state.log().records.has('sub'), 'kept, so the next clean reports it again');
  });

  test('the fake file system refuses to delete a directory, as the disk does', () => {
    const fs = new FakeFileSystem().write('d/a.txt', 'f.txt');
    assert.throws(() => fs.remove('d'), IsDirectoryError);
    fs.remove('f.txt');
    fs.remove('missing');
    fs.remove('f.txt/below');
    assert.deepEqual(fs.paths(), ['d/a.txt']);
  });
});
