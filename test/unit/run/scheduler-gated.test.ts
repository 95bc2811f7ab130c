// The scheduler with jobs that finish only when the test says so (test/support/gated.ts):
// slots, resources, critical-path order, retries, keep-going and interrupts, step by step.
// These tests look at events, counts and order, never at the words of a failure.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BuildEvent } from '../../../src/run/events.js';
import { buildOnce, MemoryState } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { startGated, type GatedBuild } from '../../support/gated.js';
import { projectFrom, yaml } from '../../support/project.js';

/** What happened to one job, in order: `start 1`, `fail retry`, `fail`, `finish`. */
function historyOf(events: readonly BuildEvent[], name: string): string[] {
  const out: string[] = [];
  for (const e of events) {
    if (!('job' in e) || e.job.name !== name) continue;
    if (e.type === 'job-start') out.push(`start ${e.attempt}`);
    else if (e.type === 'job-fail') out.push(e.willRetry ? 'fail retry' : 'fail');
    else if (e.type === 'job-finish') out.push('finish');
    else if (e.type === 'job-skip') out.push('skip');
  }
  return out;
}

/**
 * Runs the build to its end: each time `running(finished)` jobs run (exactly: more is a failure),
 * the one that started first finishes.
 */
async function drain(b: GatedBuild, total: number, running: (finished: number) => number) {
  for (let finished = 0; finished < total; finished++) {
    const n = running(finished);
    await b.gate.until(`${n} jobs running after ${finished} finished`, () => b.gate.runningNow().length >= n);
    assert.equal(b.gate.runningNow().length, n, `jobs running after ${finished} finished: ${b.gate.runningNow().join(', ')}`);
    b.gate.finish(b.gate.runningNow()[0]!);
  }
  return b.done;
}

describe('-j bounds the jobs running at once', () => {
  const wide = yaml`
    rules:
      all:
        inputs: { expand: "out/{n}.txt", n: [1, 2, 3, 4, 5, 6, 7, 8] }
      make:
        outputs: "out/{n}.txt"
        run: make {n}
  `;

  for (const jobs of [1, 2, 3, 5, 8]) {
    test(`-j ${jobs}: never more than ${jobs} jobs at once, and ${jobs} whenever that many are ready`, async () => {
      const fs = new FakeFileSystem();
      const b = startGated(projectFrom(wide), ['all'], fs, new MemoryState(), { jobs });
      const result = await drain(b, 8, (finished) => Math.min(jobs, 8 - finished));
      assert.equal(b.gate.maxRunning, jobs);
      assert.equal(b.gate.started.length, 8);
      assert.equal(result.ok, true);
      assert.equal(result.ran, 8);
      for (let n = 1; n <= 8; n++) assert.ok(fs.has(`out/${n}.txt`));
    });
  }
});

describe('resources', () => {
  test('resources.cpus takes that many slots: a wide job waits for room while a narrow one that fits starts', async () => {
    const project = projectFrom(yaml`
      rules:
        all:
          inputs: [w/1.txt, w/2.txt, n/1.txt, n/2.txt]
        wide:
          outputs: "w/{n}.txt"
          resources: { cpus: 2 }
          run: wide {n}
        narrow:
          outputs: "n/{n}.txt"
          run: narrow {n}
    `);
    const b = startGated(project, ['all'], new FakeFileSystem(), new MemoryState(), { jobs: 3 });
    const { gate } = b;
    // w/1 takes 2 of the 3 slots: w/2 (2 more) must wait, n/1 (1) fits.
    assert.deepEqual(gate.runningNow(), ['w/1.txt', 'n/1.txt']);
    gate.finish('n/1.txt');
    // One slot free: still not enough for w/2, enough for n/2.
    await gate.whenRunning('n/2.txt');
    assert.deepEqual(gate.runningNow(), ['w/1.txt', 'n/2.txt']);
    gate.finish('w/1.txt');
    await gate.whenRunning('w/2.txt');
    assert.deepEqual(gate.runningNow(), ['n/2.txt', 'w/2.txt']);
    gate.finish('w/2.txt');
    gate.finish('n/2.txt');
    const result = await b.done;
    assert.equal(result.ok, true);
    assert.deepEqual(gate.started, ['w/1.txt', 'n/1.txt', 'n/2.txt', 'w/2.txt']);
    assert.equal(gate.peak.get('cpus'), 3);
  });

  test('a job asking for more cpus than -j runs, alone, on all the slots', async () => {
    const project = projectFrom(yaml`
      rules:
        huge:
          outputs: huge.txt
          resources: { cpus: 8 }
          run: huge
        small:
          outputs: small.txt
          run: small
    `);
    const b = startGated(project, ['huge.txt', 'small.txt'], new FakeFileSystem(), new MemoryState(), { jobs: 2 });
    assert.deepEqual(b.gate.runningNow(), ['huge.txt']);
    b.gate.finish('huge.txt');
    await b.gate.whenRunning('small.txt');
    assert.deepEqual(b.gate.runningNow(), ['small.txt']);
    b.gate.finish('small.txt');
    assert.equal((await b.done).ok, true);
    assert.equal(b.gate.maxRunning, 1);
  });

  test('--resources mem_mb bounds the memory of the jobs running at once; a small job that fits passes one that waits', async () => {
    const project = projectFrom(yaml`
      rules:
        all:
          inputs: [h/1.txt, h/2.txt, l/1.txt, l/2.txt, l/3.txt]
        heavy:
          outputs: "h/{n}.txt"
          resources: { mem_mb: 6000 }
          run: heavy {n}
        light:
          outputs: "l/{n}.txt"
          resources: { mem_mb: 1000 }
          run: light {n}
    `);
    const resources = new Map([['mem_mb', 8000]]);
    const b = startGated(project, ['all'], new FakeFileSystem(), new MemoryState(), { jobs: 8, resources });
    const { gate } = b;
    // 6000 + 1000 + 1000: h/2 (6000) and l/3 (1000) wait, though slots are free.
    assert.deepEqual(gate.runningNow(), ['h/1.txt', 'l/1.txt', 'l/2.txt']);
    gate.finish('l/1.txt');
    // 1000 free: h/2, first in line, does not fit; l/3 does.
    await gate.whenRunning('l/3.txt');
    assert.deepEqual(gate.runningNow(), ['h/1.txt', 'l/2.txt', 'l/3.txt']);
    gate.finish('h/1.txt');
    await gate.whenRunning('h/2.txt');
    assert.deepEqual(gate.runningNow(), ['l/2.txt', 'l/3.txt', 'h/2.txt']);
    for (const name of gate.runningNow()) gate.finish(name);
    const result = await b.done;
    assert.equal(result.ok, true);
    assert.equal(result.ran, 5);
    assert.equal(gate.peak.get('mem_mb'), 8000);
    assert.equal(gate.maxRunning, 3);
  });
});

describe('critical path first', () => {
  test('-j1: the job with the longest chain of stale jobs behind it first; ties by rule order, then discovery order', async () => {
    const project = projectFrom(yaml`
      rules:
        all:
          inputs: [solo.txt, short/b.txt, short/a.txt, chain3.txt]
        short:
          outputs: "short/{x}.txt"
          run: short {x}
        solo:
          outputs: solo.txt
          run: solo
        chain1:
          outputs: chain1.txt
          run: chain1
        chain2:
          inputs: chain1.txt
          outputs: chain2.txt
          run: chain2
        chain3:
          inputs: chain2.txt
          outputs: chain3.txt
          run: chain3
    `);
    const b = startGated(project, ['all'], new FakeFileSystem(), new MemoryState(), { jobs: 1 });
    await drain(b, 6, () => 1);
    // chain1 is ready from the start, as are short/*, solo: its chain (chain1, chain2, chain3, all) is
    // the longest, then chain2's. chain3 then ties with the others (itself and all): rule order
    // puts short first, solo (discovered first) next, chain3 last; short/b (discovered first) before short/a.
    assert.deepEqual(b.gate.started, ['chain1.txt', 'chain2.txt', 'short/b.txt', 'short/a.txt', 'solo.txt', 'chain3.txt']);
    assert.equal(b.gate.maxRunning, 1);
  });

  test('only stale jobs count: an up-to-date chain upstream of a job does not put it first', async () => {
    const project = projectFrom(yaml`
      rules:
        all:
          inputs: [r.txt, n.txt]
        p:
          inputs: p.src
          outputs: p.txt
          run: p
        q:
          inputs: p.txt
          outputs: q.txt
          run: q
        r:
          inputs: [q.txt, r.src]
          outputs: r.txt
          run: r
        m:
          inputs: m.src
          outputs: m.txt
          run: m
        n:
          inputs: m.txt
          outputs: n.txt
          run: n
    `);
    const fs = new FakeFileSystem().write('p.src', 'r.src', 'm.src');
    const state = new MemoryState();
    assert.equal((await buildOnce(project, ['all'], fs, state)).result.ok, true);
    fs.put('r.src', 'changed').put('m.src', 'changed');
    const b = startGated(project, ['all'], fs, state, { jobs: 1 });
    await drain(b, 3, () => 1);
    // m has n (stale) behind it; r has only the phony all. Then n and r tie: r's rule comes first.
    assert.deepEqual(b.gate.started, ['m.txt', 'r.txt', 'n.txt']);
  });
});

describe('retries', () => {
  const flaky = yaml`
    rules:
      flaky:
        outputs: flaky.txt
        retries: 1
        run: flaky
      after:
        inputs: flaky.txt
        outputs: after.txt
        run: after
  `;

  test('a job that fails once with retries: 1 starts twice, and the build succeeds', async () => {
    const fs = new FakeFileSystem();
    const state = new MemoryState();
    const b = startGated(projectFrom(flaky), ['after.txt'], fs, state);
    b.gate.finish('flaky.txt', 'fail');
    await b.gate.until('flaky.txt started again', () => b.gate.starts('flaky.txt') === 2);
    assert.ok(fs.has('flaky.txt'), 'the second attempt writes its output again');
    b.gate.finish('flaky.txt', 'ok');
    await b.gate.whenRunning('after.txt');
    b.gate.finish('after.txt');
    const result = await b.done;
    assert.equal(result.ok, true);
    assert.equal(result.ran, 2);
    assert.deepEqual(result.failed, []);
    assert.deepEqual(b.gate.started, ['flaky.txt', 'flaky.txt', 'after.txt']);
    assert.deepEqual(historyOf(b.events.events, 'flaky.txt'), ['start 1', 'fail retry', 'start 2', 'finish']);
    assert.ok(state.log().records.has('flaky.txt'));
  });

  test('a job that fails every attempt fails once retries are spent; what needs it never starts', async () => {
    const fs = new FakeFileSystem();
    const state = new MemoryState();
    const b = startGated(projectFrom(flaky), ['after.txt'], fs, state);
    b.gate.finish('flaky.txt', 'fail');
    await b.gate.until('flaky.txt started again', () => b.gate.starts('flaky.txt') === 2);
    b.gate.finish('flaky.txt', 'fail');
    const result = await b.done;
    assert.equal(result.ok, false);
    assert.deepEqual(result.failed.map((j) => j.name), ['flaky.txt']);
    assert.equal(result.notRun, 1);
    assert.deepEqual(b.gate.started, ['flaky.txt', 'flaky.txt']);
    assert.deepEqual(historyOf(b.events.events, 'flaky.txt'), ['start 1', 'fail retry', 'start 2', 'fail']);
    assert.equal(fs.has('flaky.txt'), false);
    assert.ok(state.log().isIncomplete('flaky.txt'));
  });
});

describe('after a failure', () => {
  const project = projectFrom(yaml`
    rules:
      bad:
        outputs: bad.txt
        run: bad
      after:
        inputs: bad.txt
        outputs: after.txt
        run: after
      good:
        outputs: "good/{n}.txt"
        run: good {n}
  `);
  const targets = ['after.txt', 'good/1.txt', 'good/2.txt'];

  test('-k: independent jobs still start, those that need the failed job do not', async () => {
    const state = new MemoryState();
    const b = startGated(project, targets, new FakeFileSystem(), state, { jobs: 2, keepGoing: true });
    assert.deepEqual(b.gate.runningNow(), ['bad.txt', 'good/1.txt']);
    b.gate.finish('bad.txt', 'fail');
    await b.gate.whenRunning('good/2.txt');
    b.gate.finish('good/1.txt');
    b.gate.finish('good/2.txt');
    const result = await b.done;
    assert.equal(result.ok, false);
    assert.equal(result.ran, 2);
    assert.deepEqual(result.failed.map((j) => j.name), ['bad.txt']);
    assert.equal(result.notRun, 1);
    assert.deepEqual(b.gate.started, ['bad.txt', 'good/1.txt', 'good/2.txt']);
    assert.deepEqual(historyOf(b.events.events, 'after.txt'), []);
    assert.ok(state.log().records.has('good/2.txt'));
  });

  test('without -k: no job starts after the failure; the one running is let finish, and recorded', async () => {
    const state = new MemoryState();
    const b = startGated(project, targets, new FakeFileSystem(), state, { jobs: 2 });
    assert.deepEqual(b.gate.runningNow(), ['bad.txt', 'good/1.txt']);
    b.gate.finish('bad.txt', 'fail');
    assert.deepEqual(b.gate.runningNow(), ['good/1.txt']);
    b.gate.finish('good/1.txt');
    const result = await b.done;
    assert.deepEqual(b.gate.started, ['bad.txt', 'good/1.txt'], 'good/2 never started, though a slot was free');
    assert.equal(result.ok, false);
    assert.equal(result.ran, 1);
    assert.equal(result.notRun, 2);
    assert.deepEqual(historyOf(b.events.events, 'good/1.txt'), ['start 1', 'finish']);
    assert.ok(state.log().records.has('good/1.txt'));
    assert.equal(b.gate.killed.length, 0, 'a failure does not kill the others');
  });
});

describe('interrupt', () => {
  test('aborting kills every running job, removes their outputs, starts nothing more, and says interrupted', async () => {
    const project = projectFrom(yaml`
      rules:
        job:
          outputs: "j/{n}.txt"
          retries: 2
          run: job {n}
    `);
    const fs = new FakeFileSystem();
    const state = new MemoryState();
    const abort = new AbortController();
    const b = startGated(project, ['j/1.txt', 'j/2.txt', 'j/3.txt'], fs, state, { jobs: 2, signal: abort.signal });
    assert.deepEqual(b.gate.runningNow(), ['j/1.txt', 'j/2.txt']);
    assert.ok(fs.has('j/1.txt') && fs.has('j/2.txt'), 'the running jobs have begun writing their outputs');
    abort.abort();
    const result = await b.done;
    assert.deepEqual([...b.gate.killed].sort(), ['j/1.txt', 'j/2.txt']);
    assert.deepEqual(b.gate.started, ['j/1.txt', 'j/2.txt'], 'no new job, and no retry of a killed one');
    assert.equal(fs.has('j/1.txt'), false);
    assert.equal(fs.has('j/2.txt'), false);
    assert.equal(result.interrupted, true);
    assert.equal(result.ok, false);
    assert.equal(result.ran, 0);
    assert.equal(result.notRun, 1);
    for (const name of ['j/1.txt', 'j/2.txt']) assert.deepEqual(historyOf(b.events.events, name), ['start 1', 'fail']);
    const finish = b.events.events.find((e) => e.type === 'build-finish');
    assert.ok(finish?.type === 'build-finish' && finish.interrupted);
    const log = state.log();
    assert.ok(log.isIncomplete('j/1.txt') && log.isIncomplete('j/2.txt'), 'both rerun next time');
    assert.equal(log.records.size, 0);
    assert.equal(state.markers.markers.size, 0, 'their markers are gone: the S records keep them incomplete');
  });
});
