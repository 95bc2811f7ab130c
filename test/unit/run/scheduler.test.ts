// The scheduler with an in-memory executor: early cutoff, failures, records.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildOnce, expectedContents, MemoryState, planOf } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

// The fake executor writes `command + inputs' contents`, so a job rerun with
// the same inputs writes byte-identical outputs.
const chain = yaml`
  rules:
    a:
      inputs: src.txt
      outputs: a.txt
      run: step-a {input} > {output}
    b:
      inputs: a.txt
      outputs: b.txt
      run: step-b {input} > {output}
    c:
      inputs: b.txt
      outputs: c.txt
      run: step-c {input} > {output}
`;

describe('early cutoff', () => {
  test('an upstream job that reruns with byte-identical outputs does not make its dependents run', async () => {
    const project = projectFrom(chain);
    const fs = new FakeFileSystem().put('src.txt', 'v1');
    const state = new MemoryState();
    await buildOnce(project, ['c.txt'], fs, state);
    // Delete a.txt: job a must rerun, but it will write exactly what it wrote before.
    fs.remove('a.txt');
    const b = await buildOnce(project, ['c.txt'], fs, state);
    assert.deepEqual(b.ran, ['a.txt']);
    assert.deepEqual(b.events.skipped(), ['b', 'c']);
    assert.equal(b.result.skipped, 2, 'b, and through it c, were up to date after all');
    assert.equal(b.result.ok, true);
    // And the next build has nothing to do.
    const c = await buildOnce(project, ['c.txt'], fs, state);
    assert.deepEqual(c.ran, []);
    assert.deepEqual(c.plan.order, []);
  });

  test('a changed output does make its dependents run, with input changed as the reason', async () => {
    const project = projectFrom(chain);
    const fs = new FakeFileSystem().put('src.txt', 'v1');
    const state = new MemoryState();
    await buildOnce(project, ['c.txt'], fs, state);
    fs.put('src.txt', 'v2');
    const b = await buildOnce(project, ['c.txt'], fs, state);
    assert.deepEqual(b.ran, ['a.txt', 'b.txt', 'c.txt']);
    assert.deepEqual(b.events.started(), ['a: input changed: src.txt', 'b: input changed: a.txt', 'c: input changed: b.txt']);
  });

  test('an upstream output edited by hand, then remade as recorded: the jobs that read it are decided again and do not run', async () => {
    const project = projectFrom(chain);
    const fs = new FakeFileSystem().put('src.txt', 'v1');
    const state = new MemoryState();
    await buildOnce(project, ['c.txt'], fs, state);
    fs.put('a.txt', 'edited by hand');
    const b = await buildOnce(project, ['c.txt'], fs, state);
    assert.deepEqual(b.plan.reasons.get(b.plan.order[1]!), { kind: 'input-changed', path: 'a.txt' });
    assert.deepEqual(b.plan.reasons.get(b.plan.order[2]!), { kind: 'upstream', path: 'b.txt' });
    assert.deepEqual(b.ran, ['a.txt']);
    assert.deepEqual(b.events.skipped(), ['b', 'c']);
    const skips = b.events.events.flatMap((e) => (e.type === 'job-skip' ? [e.why] : []));
    assert.deepEqual(skips, [{ kind: 'inputs-unchanged' }, { kind: 'inputs-unchanged' }]);
  });

  test('the decision follows the reason, not its wording: a path with a line break in it is cut off too', async () => {
    // "input changed: a\nb.txt" spans two lines: a match on the reason's text (^...$) missed it.
    const project = projectFrom(yaml`
      rules:
        a:
          inputs: src.txt
          outputs: "a\\nb.txt"
          run: step-a {input} > x
        b:
          inputs: "a\\nb.txt"
          outputs: b.txt
          run: step-b > {output}
    `);
    const fs = new FakeFileSystem().put('src.txt', 'v1');
    const state = new MemoryState();
    await buildOnce(project, ['b.txt'], fs, state);
    fs.put('a\nb.txt', 'edited by hand');
    const b = await buildOnce(project, ['b.txt'], fs, state);
    assert.deepEqual(b.events.started(), ['a: output modified: a\nb.txt']);
    assert.deepEqual(b.events.skipped(), ['b']);
  });

  test('--check mtime has no early cutoff', async () => {
    const project = projectFrom(chain);
    const fs = new FakeFileSystem().put('src.txt', 'v1');
    const state = new MemoryState();
    await buildOnce(project, ['c.txt'], fs, state, { check: 'mtime' });
    fs.remove('a.txt');
    const b = await buildOnce(project, ['c.txt'], fs, state, { check: 'mtime' });
    assert.deepEqual(b.ran, ['a.txt', 'b.txt', 'c.txt']);
  });
});

describe('failures', () => {
  const failing = yaml`
    rules:
      all:
        inputs: [bad.txt, good.txt]
      bad:
        inputs: src.txt
        outputs: bad.txt
        run: make-bad FAIL
      good:
        inputs: src.txt
        outputs: good.txt
        run: make-good
      after:
        inputs: bad.txt
        outputs: after.txt
        run: after
  `;

  test('a failed job leaves no outputs and is incomplete; its dependents do not run', async () => {
    const project = projectFrom(failing);
    const fs = new FakeFileSystem().write('src.txt');
    const state = new MemoryState();
    const b = await buildOnce(project, ['after.txt', 'good.txt'], fs, state, { keepGoing: true });
    assert.equal(b.result.ok, false);
    assert.deepEqual(b.result.failed.map((j) => j.name), ['bad.txt']);
    assert.equal(fs.has('bad.txt'), false);
    assert.equal(fs.has('after.txt'), false);
    assert.equal(fs.has('good.txt'), true, '-k built the independent branch');
    assert.equal(b.result.notRun, 1);
    assert.ok(state.log().incomplete.has('bad.txt'));
    assert.ok(!state.log().records.has('bad.txt'));
    assert.ok(state.log().records.has('good.txt'));
  });

  test('the events carry the reason and the failure as values', async () => {
    const project = projectFrom(failing);
    const fs = new FakeFileSystem().write('src.txt');
    const b = await buildOnce(project, ['bad.txt'], fs, new MemoryState());
    const starts = b.events.events.flatMap((e) => (e.type === 'job-start' ? [e.reason] : []));
    const fails = b.events.events.flatMap((e) => (e.type === 'job-fail' ? [e.failure] : []));
    assert.deepEqual(starts, [{ kind: 'output-missing', path: 'bad.txt' }]);
    assert.deepEqual(fails, [{ kind: 'exit', code: 1 }]);
  });

  test('without -k the build stops starting jobs after a failure', async () => {
    const project = projectFrom(failing);
    const fs = new FakeFileSystem().write('src.txt');
    const state = new MemoryState();
    const b = await buildOnce(project, ['after.txt'], fs, state);
    assert.equal(b.result.ok, false);
    assert.deepEqual(b.ran, ['bad.txt']);
  });
});

describe('phony inputs', () => {
  test('a job that needs a phony rule with a command runs whenever it does (as in Make); one without does not', async () => {
    const project = projectFrom(yaml`
      rules:
        setup:
          run: prepare
        group:
          inputs: src.txt
        uses_setup:
          inputs: [setup, src.txt]
          outputs: a.txt
          run: make-a {input}
        uses_group:
          inputs: [group]
          outputs: b.txt
          run: make-b
    `);
    const fs = new FakeFileSystem().put('src.txt', 'v1');
    const state = new MemoryState();
    await buildOnce(project, ['a.txt', 'b.txt'], fs, state);
    const b = await buildOnce(project, ['a.txt', 'b.txt'], fs, state);
    assert.deepEqual(b.ran, ['setup', 'a.txt']);
    assert.deepEqual(b.events.started(), ['setup: always', 'uses_setup: upstream will run: setup']);
  });
});

describe('a crash, then damage to the build log', () => {
  // A kill while b reran: its S record and marker were written, its output half-written.
  async function killedDuringB(damage: (text: string) => string) {
    const project = projectFrom(chain);
    const fs = new FakeFileSystem().put('src.txt', 'v1');
    const state = new MemoryState();
    await buildOnce(project, ['c.txt'], fs, state);
    const expected = expectedContents(project, planOf(project, ['c.txt'], fs, state.log()).graph.jobs, fs);
    fs.put('b.txt', 'half-written');
    const log = state.log();
    log.started('b.txt', ['b.txt']);
    fs.put('b.txt', 'half-written, more');
    state.storage.text = damage(state.storage.text);
    return { project, fs, state, expected };
  }

  const damages: [string, (text: string) => string][] = [
    [
      'its S record garbled',
      (text) => {
        const at = text.lastIndexOf('{"t":"S","k":"b.txt"');
        return `${text.slice(0, at)}{"t":"S","k":"#${text.slice(at + 15)}`;
      },
    ],
    ['its S record torn', (text) => text.slice(0, -5)],
    ['the header garbled', (text) => `#${text.slice(1)}`],
  ];
  for (const [what, damage] of damages) {
    test(`(${what}) the half-written output is never adopted: it reruns, and then nothing does`, async () => {
      const { project, fs, state, expected } = await killedDuringB(damage);
      assert.equal(state.log().isIncomplete('b.txt'), true);
      const b = await buildOnce(project, ['c.txt'], fs, state);
      assert.equal(b.result.ok, true);
      assert.ok(b.ran.includes('b.txt'), b.events.started().join('\n'));
      for (const [out, text] of expected) assert.equal(fs.read(out), text, out);
      assert.equal(state.markers.markers.size, 0, 'the marker is gone once b is recorded');
      const again = await buildOnce(project, ['c.txt'], fs, state);
      assert.deepEqual(again.ran, []);
    });
  }

  test('every run leaves no marker behind, a failed one neither', async () => {
    const project = projectFrom(chain.replace('step-b', 'step-b FAIL'));
    const fs = new FakeFileSystem().put('src.txt', 'v1');
    const state = new MemoryState();
    const b = await buildOnce(project, ['c.txt'], fs, state);
    assert.equal(b.result.ok, false);
    assert.deepEqual(b.ran, ['a.txt', 'b.txt']);
    assert.equal(state.markers.writes, 2, 'one marker per job run');
    assert.equal(state.markers.markers.size, 0);
    assert.ok(state.log().isIncomplete('b.txt'), 'the failed job is incomplete by its S record');
    // A no-op writes no marker.
    const ok = projectFrom(chain);
    const fs2 = new FakeFileSystem().put('src.txt', 'v1');
    const s2 = new MemoryState();
    await buildOnce(ok, ['c.txt'], fs2, s2);
    const writes = s2.markers.writes;
    await buildOnce(ok, ['c.txt'], fs2, s2);
    assert.equal(s2.markers.writes, writes);
  });
});
