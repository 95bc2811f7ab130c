// Temporary outputs (SPEC §7) in memory: deleted once no job of the build
// needs them, records kept so a second build does nothing, remade first when
// a job that must run needs one, kept while one may still need it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { reasonText } from '../../../src/report/reason.js';
import type { BuildEvent } from '../../../src/run/events.js';
import { buildOnce, MemoryState, planOf } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { startGated } from '../../support/gated.js';
import { projectFrom, yaml } from '../../support/project.js';

const pipeline = (p: string | number = 1, extra = '') => yaml`
  config: { p: "${p}" }
  rules:
    all:
      inputs: [m/a.txt, m/b.txt]
    calibrate:
      inputs: raw/{f}.txt
      outputs: cal/{f}.txt
      temp: true
      run: cal {input}
    measure:
      inputs: cal/{f}.txt
      outputs: m/{f}.txt
      params: { p: "{config.p}" }
      run: measure {params.p} {input}
  ${extra}
`;

function sources(): FakeFileSystem {
  return new FakeFileSystem().put('raw/a.txt', 'a1\n').put('raw/b.txt', 'b1\n');
}

function finish(events: readonly BuildEvent[]): Extract<BuildEvent, { type: 'build-finish' }> {
  return events.find((e): e is Extract<BuildEvent, { type: 'build-finish' }> => e.type === 'build-finish')!;
}

function dryRun(plan: ReturnType<typeof planOf>): string[] {
  return plan.order.map((j) => `${j.label}: ${reasonText(plan.reasons.get(j)!)}`);
}

describe('temporary outputs are deleted once no job needs them', () => {
  test('after the build, the temporary outputs are gone, the others there, and a second build does nothing', async () => {
    const project = projectFrom(pipeline());
    const fs = sources();
    const state = new MemoryState();
    const first = await buildOnce(project, ['all'], fs, state);
    assert.equal(first.result.ok, true);
    assert.deepEqual(first.ran.sort(), ['cal/a.txt', 'cal/b.txt', 'm/a.txt', 'm/b.txt']);
    assert.equal(fs.has('cal/a.txt'), false);
    assert.equal(fs.has('cal/b.txt'), false);
    assert.equal(fs.read('m/a.txt'), 'measure 1 cal/a.txt\ncal raw/a.txt\na1\n');
    const done = finish(first.events.events);
    assert.equal(done.freedFiles, 2);
    assert.equal(done.freedBytes, 2 * 'cal raw/a.txt\na1\n'.length);
    // The records are kept: the producer's still describes its output.
    assert.ok(state.log().records.get('cal/a.txt')?.outputs.get('cal/a.txt'));
    const second = await buildOnce(project, ['all'], fs, state);
    assert.deepEqual(second.plan.order, []);
    assert.deepEqual(second.ran, []);
    assert.equal(finish(second.events.events).freedFiles, undefined);
  });

  test('a source edited upstream of a temporary output reruns that chain only, and its temporary output goes again', async () => {
    const project = projectFrom(pipeline());
    const fs = sources();
    const state = new MemoryState();
    await buildOnce(project, ['all'], fs, state);
    fs.put('raw/a.txt', 'a2\n');
    const b = await buildOnce(project, ['all'], fs, state);
    assert.deepEqual(b.events.started(), ['calibrate[f=a]: input changed: raw/a.txt', 'measure[f=a]: input changed: cal/a.txt']);
    assert.equal(fs.has('cal/a.txt'), false);
    assert.equal(fs.read('m/a.txt'), 'measure 1 cal/a.txt\ncal raw/a.txt\na2\n');
    assert.deepEqual((await buildOnce(project, ['all'], fs, state)).ran, []);
  });

  test('a job that must run and needs a gone temporary output has it made again first: output missing', async () => {
    const fs = sources();
    const state = new MemoryState();
    await buildOnce(projectFrom(pipeline(1)), ['all'], fs, state);
    const project = projectFrom(pipeline(2));
    assert.deepEqual(dryRun(planOf(project, ['all'], fs, state.log())), [
      'calibrate[f=a]: output missing: cal/a.txt',
      'calibrate[f=b]: output missing: cal/b.txt',
      'measure[f=a]: params changed: p',
      'measure[f=b]: params changed: p',
      'all: always',
    ]);
    const b = await buildOnce(project, ['all'], fs, state);
    assert.equal(b.result.ok, true);
    assert.equal(fs.read('m/b.txt'), 'measure 2 cal/b.txt\ncal raw/b.txt\nb1\n');
    assert.equal(fs.has('cal/a.txt'), false);
    assert.deepEqual((await buildOnce(project, ['all'], fs, state)).ran, []);
  });

  test('up a chain of temporary outputs, each gone one is made again, in order', async () => {
    const chain = (v: string) => yaml`
      rules:
        final:
          inputs: t2.txt
          outputs: final.txt
          run: final ${v} {input}
        one:
          inputs: src.txt
          outputs: t1.txt
          temp: true
          run: one {input}
        two:
          inputs: t1.txt
          outputs: t2.txt
          temp: true
          run: two {input}
    `;
    const fs = new FakeFileSystem().put('src.txt', 's\n');
    const state = new MemoryState();
    await buildOnce(projectFrom(chain('v1')), ['final.txt'], fs, state);
    assert.equal(fs.has('t1.txt') || fs.has('t2.txt'), false);
    assert.deepEqual((await buildOnce(projectFrom(chain('v1')), ['final.txt'], fs, state)).ran, []);
    const project = projectFrom(chain('v2'));
    assert.deepEqual(dryRun(planOf(project, ['final.txt'], fs, state.log())), [
      'one: output missing: t1.txt',
      'two: output missing: t2.txt',
      'final: command changed',
    ]);
    const b = await buildOnce(project, ['final.txt'], fs, state);
    assert.deepEqual(b.ran, ['t1.txt', 't2.txt', 'final.txt']);
    assert.equal(fs.has('t1.txt') || fs.has('t2.txt'), false);
    assert.deepEqual((await buildOnce(project, ['final.txt'], fs, state)).ran, []);
  });

  test('early cutoff applies to a temporary output made again: a job that needs it and was up to date does not run', async () => {
    const two = (v: string) => yaml`
      rules:
        all:
          inputs: [x.txt, y.txt]
        make:
          inputs: src.txt
          outputs: t.txt
          temp: true
          run: make {input}
        x:
          inputs: t.txt
          outputs: x.txt
          run: x ${v} {input}
        y:
          inputs: t.txt
          outputs: y.txt
          run: y {input}
    `;
    const fs = new FakeFileSystem().put('src.txt', 's\n');
    const state = new MemoryState();
    await buildOnce(projectFrom(two('v1')), ['all'], fs, state);
    const b = await buildOnce(projectFrom(two('v2')), ['all'], fs, state);
    assert.deepEqual(b.ran, ['t.txt', 'x.txt']);
    assert.deepEqual(b.events.skipped(), ['y']);
    assert.equal(fs.has('t.txt'), false, 'y, skipped, needs it no more');
    assert.deepEqual((await buildOnce(projectFrom(two('v2')), ['all'], fs, state)).ran, []);
  });

  test('a temporary output no job of the build needs is deleted after its job ran', async () => {
    const project = projectFrom(yaml`
      rules:
        all:
          inputs: keep.txt
        make:
          inputs: src.txt
          outputs: [keep.txt, side.txt]
          temp: [side.txt]
          run: make {input}
    `);
    const fs = new FakeFileSystem().put('src.txt', 's\n');
    const state = new MemoryState();
    await buildOnce(project, ['all'], fs, state);
    assert.equal(fs.has('keep.txt'), true);
    assert.equal(fs.has('side.txt'), false);
    assert.deepEqual((await buildOnce(project, ['all'], fs, state)).ran, []);
  });

  test('a temporary directory output is removed whole, and makes nothing stale', async () => {
    const project = projectFrom(yaml`
      rules:
        sum:
          inputs: chunks/
          outputs: sum.txt
          run: sum {input}
        split:
          inputs: src.txt
          outputs: chunks/
          temp: true
          run: split {input}
    `);
    const fs = new FakeFileSystem().put('src.txt', 's\n');
    const state = new MemoryState();
    const b = await buildOnce(project, ['sum.txt'], fs, state);
    assert.equal(b.result.ok, true);
    assert.equal(fs.has('chunks/part.txt'), false);
    assert.equal(fs.has('chunks'), false);
    assert.equal(finish(b.events.events).freedFiles, 1);
    assert.deepEqual((await buildOnce(project, ['sum.txt'], fs, state)).ran, []);
    fs.put('src.txt', 's2\n');
    const c = await buildOnce(project, ['sum.txt'], fs, state);
    assert.deepEqual(c.ran, ['chunks', 'sum.txt']);
    assert.equal(fs.has('chunks'), false);
  });

  test('under --check mtime too, a second build does nothing, and an edited source reruns the chain', async () => {
    const project = projectFrom(pipeline());
    const fs = sources();
    const state = new MemoryState();
    await buildOnce(project, ['all'], fs, state, { check: 'mtime' });
    assert.equal(fs.has('cal/a.txt'), false);
    assert.deepEqual((await buildOnce(project, ['all'], fs, state, { check: 'mtime' })).ran, []);
    fs.put('raw/b.txt', 'b2\n');
    const b = await buildOnce(project, ['all'], fs, state, { check: 'mtime' });
    assert.deepEqual(b.ran, ['cal/b.txt', 'm/b.txt']);
    assert.deepEqual((await buildOnce(project, ['all'], fs, state, { check: 'mtime' })).ran, []);
  });
});

describe('a gone temporary output comes back', () => {
  test('recreated by hand as it was: nothing runs; edited: its job reruns (output modified)', async () => {
    const project = projectFrom(pipeline());
    const fs = sources();
    const state = new MemoryState();
    await buildOnce(project, ['all'], fs, state);
    fs.put('cal/a.txt', 'cal raw/a.txt\na1\n');
    assert.deepEqual((await buildOnce(project, ['all'], fs, state)).ran, []);
    assert.equal(fs.has('cal/a.txt'), true, 'no job of the build ran near it: left as it is');
    fs.put('cal/a.txt', 'edited\n');
    const b = await buildOnce(project, ['all'], fs, state);
    assert.deepEqual(b.events.started(), ['calibrate[f=a]: output modified: cal/a.txt']);
    assert.deepEqual(b.events.skipped(), ['measure[f=a]']);
    assert.equal(fs.has('cal/a.txt'), false);
  });
});

describe('a gone temporary output is what its job last made', () => {
  test('remade by name since a job that read it ran, then gone: that job sees the change, and it is made again first', async () => {
    const project = projectFrom(pipeline());
    const fs = sources();
    const state = new MemoryState();
    await buildOnce(project, ['all'], fs, state);
    fs.put('raw/a.txt', 'a2\n');
    await buildOnce(project, ['cal/a.txt'], fs, state);
    fs.remove('cal/a.txt');
    const b = await buildOnce(project, ['all'], fs, state);
    assert.deepEqual(b.events.started(), ['calibrate[f=a]: output missing: cal/a.txt', 'measure[f=a]: input changed: cal/a.txt']);
    assert.equal(fs.read('m/a.txt'), 'measure 1 cal/a.txt\ncal raw/a.txt\na2\n');
    assert.deepEqual((await buildOnce(project, ['all'], fs, state)).ran, []);
  });
});

describe('temporary outputs are kept while one may still need them', () => {
  test('--keep-temp keeps them; the build after has nothing to do', async () => {
    const project = projectFrom(pipeline());
    const fs = sources();
    const state = new MemoryState();
    const b = await buildOnce(project, ['all'], fs, state, { keepTemp: true });
    assert.equal(fs.has('cal/a.txt') && fs.has('cal/b.txt'), true);
    assert.equal(finish(b.events.events).freedFiles, undefined);
    assert.deepEqual((await buildOnce(project, ['all'], fs, state)).ran, []);
    assert.equal(fs.has('cal/a.txt'), true, 'a build that runs nothing near them deletes nothing');
  });

  test('asked for by name: kept, and made again when it is gone', async () => {
    const project = projectFrom(pipeline());
    const fs = sources();
    const state = new MemoryState();
    await buildOnce(project, ['all'], fs, state);
    const b = await buildOnce(project, ['cal/a.txt'], fs, state);
    assert.deepEqual(b.events.started(), ['calibrate[f=a]: output missing: cal/a.txt']);
    assert.equal(fs.read('cal/a.txt'), 'cal raw/a.txt\na1\n');
    assert.deepEqual((await buildOnce(project, ['cal/a.txt'], fs, state)).ran, []);
    assert.deepEqual((await buildOnce(project, ['all'], fs, state)).ran, []);
  });

  test('an input of a phony target is kept, with a warning at the temp key', async () => {
    const project = projectFrom(pipeline(1, '  final:\n      inputs: [cal/a.txt, m/a.txt]'));
    const fs = sources();
    const state = new MemoryState();
    const b = await buildOnce(project, ['final'], fs, state);
    assert.equal(fs.has('cal/a.txt'), true);
    const warnings = b.plan.graph.warnings;
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /^temporary output 'cal\/a\.txt' of rule 'calibrate' is an input of the target 'final', so it is kept/);
    assert.equal(warnings[0]!.loc?.line, 8);
    assert.equal(planOf(project, ['all'], fs, state.log()).graph.warnings.length, 0, 'another target does not need it');
  });

  test('a job that needs it failed: kept (-k or not); fixed, that job runs alone and it goes', async () => {
    for (const keepGoing of [false, true]) {
      const fs = sources();
      const state = new MemoryState();
      const b = await buildOnce(projectFrom(pipeline('FAIL')), ['all'], fs, state, { keepGoing });
      assert.equal(b.result.ok, false);
      assert.equal(fs.has('cal/a.txt') || fs.has('cal/b.txt'), true);
      for (const f of ['a', 'b']) if (b.ran.includes(`m/${f}.txt`)) assert.equal(fs.has(`cal/${f}.txt`), true, `cal/${f}.txt kept (keepGoing ${keepGoing})`);
      const fixed = await buildOnce(projectFrom(pipeline(2)), ['all'], fs, state);
      assert.equal(fixed.result.ok, true);
      assert.equal(fixed.ran.filter((n) => n.startsWith('cal/')).length, fixed.ran.length - 2, 'only the gone ones are made again');
      assert.equal(fs.has('cal/a.txt') || fs.has('cal/b.txt'), false);
      assert.deepEqual((await buildOnce(projectFrom(pipeline(2)), ['all'], fs, state)).ran, []);
    }
  });

  test('a job that needs it still running keeps it; deleted when the last one finishes', async () => {
    const project = projectFrom(yaml`
      rules:
        all:
          inputs: [x.txt, y.txt]
        make:
          inputs: src.txt
          outputs: t.txt
          temp: true
          run: make {input}
        x:
          inputs: t.txt
          outputs: x.txt
          run: x {input}
        y:
          inputs: t.txt
          outputs: y.txt
          run: y {input}
    `);
    const fs = new FakeFileSystem().put('src.txt', 's\n');
    const b = startGated(project, ['all'], fs, new MemoryState(), { jobs: 2 });
    await b.gate.whenRunning('t.txt');
    b.gate.finish('t.txt');
    await b.gate.whenRunning('x.txt', 'y.txt');
    b.gate.finish('x.txt');
    await b.gate.until('x.txt done', () => b.gate.runningNow().length === 1);
    await Promise.resolve();
    assert.equal(fs.has('t.txt'), true, 'y still needs it');
    b.gate.finish('y.txt');
    const result = await b.done;
    assert.equal(result.ok, true);
    assert.equal(fs.has('t.txt'), false);
  });

  test('interrupted while a job that needs it runs: kept for the next build, which only runs that job', async () => {
    const project = projectFrom(pipeline());
    const fs = sources();
    const state = new MemoryState();
    const abort = new AbortController();
    const b = startGated(project, ['m/a.txt'], fs, state, { jobs: 1, signal: abort.signal });
    await b.gate.whenRunning('cal/a.txt');
    b.gate.finish('cal/a.txt');
    await b.gate.whenRunning('m/a.txt');
    abort.abort();
    const result = await b.done;
    assert.equal(result.interrupted, true);
    assert.equal(fs.has('cal/a.txt'), true);
    const again = await buildOnce(project, ['m/a.txt'], fs, state);
    assert.deepEqual(again.ran, ['m/a.txt']);
    assert.equal(fs.has('cal/a.txt'), false);
  });
});
