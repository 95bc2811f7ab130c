import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Plan } from '../../../src/plan/plan.js';
import { MemoryState, planOf } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

const chain = yaml`
  rules:
    all:
      inputs: c.txt
    c:
      inputs: b.txt
      outputs: c.txt
      run: cp {input} {output}
    b:
      inputs: a.txt
      order_only: dir.stamp
      outputs: b.txt
      run: cp {input} {output}
`;

/** A plan with no build record (an empty log). */
function plan(fs: FakeFileSystem, force = false, rulefile = chain, targets = ['all']): Plan {
  return planOf(projectFrom(rulefile), targets, fs, new MemoryState().log(), { force });
}

function lines(p: Plan): string[] {
  return p.order.map((j) => `${j.label} ${j.name}: ${p.reasons.get(j)}`);
}

describe('staleness without a build record (Make semantics)', () => {
  test('missing outputs, then upstream propagation', () => {
    const fs = new FakeFileSystem().write('a.txt', 'dir.stamp');
    assert.deepEqual(lines(plan(fs)), ['b b.txt: output missing: b.txt', 'c c.txt: output missing: c.txt', 'all all: always']);
  });

  test('an up-to-date tree: only the phony job', () => {
    const fs = new FakeFileSystem().write('a.txt', 'dir.stamp', 'b.txt', 'c.txt');
    assert.deepEqual(lines(plan(fs)), ['all all: always']);
  });

  test('an input newer than the oldest output', () => {
    const fs = new FakeFileSystem().write('dir.stamp', 'b.txt', 'c.txt', 'a.txt');
    assert.deepEqual(lines(plan(fs)), ['b b.txt: no record: input newer than output: a.txt', 'c c.txt: upstream will run: b.txt', 'all all: always']);
  });

  test('order-only inputs never make a job stale', () => {
    const fs = new FakeFileSystem().write('a.txt', 'b.txt', 'c.txt', 'dir.stamp');
    assert.deepEqual(lines(plan(fs)), ['all all: always']);
  });

  test('-B forces every job, phony ones too', () => {
    const fs = new FakeFileSystem().write('a.txt', 'dir.stamp', 'b.txt', 'c.txt');
    assert.deepEqual(lines(plan(fs, true)), ['b b.txt: forced', 'c c.txt: forced', 'all all: forced']);
  });

  test('always: true', () => {
    const r = yaml`
      rules:
        fetch:
          outputs: latest.csv
          always: true
          run: date > {output}
    `;
    const fs = new FakeFileSystem().write('latest.csv');
    assert.deepEqual(lines(plan(fs, false, r, ['latest.csv'])), ['fetch latest.csv: always']);
  });

  test('the first missing output in declaration order is named', () => {
    const r = yaml`
      rules:
        two:
          outputs: [x.txt, y.txt]
          run: touch {output}
    `;
    const fs = new FakeFileSystem().write('x.txt');
    assert.deepEqual(lines(plan(fs, false, r, ['x.txt'])), ['two x.txt: output missing: y.txt']);
  });

  test('a phony rule without run does not make its dependents stale; one with run does', () => {
    const r = yaml`
      rules:
        group:
          inputs: a.txt
        loud:
          inputs: a.txt
          run: echo hi
        use_group:
          inputs: [group]
          outputs: g.txt
          run: touch {output}
        use_loud:
          inputs: [loud]
          outputs: l.txt
          run: touch {output}
    `;
    const fs = new FakeFileSystem().write('a.txt', 'g.txt', 'l.txt');
    assert.deepEqual(lines(plan(fs, false, r, ['g.txt', 'l.txt'])), ['loud loud: always', 'group group: always', 'use_loud l.txt: upstream will run: loud']);
  });
});

describe('run order', () => {
  test('critical path first, then rule order, then discovery order', () => {
    const r = yaml`
      rules:
        all:
          inputs: [short.out, long.out, z.one, a.one]
        one:
          inputs: "{x}.src"
          outputs: "{x}.one"
          run: cp {input} {output}
        long2:
          inputs: long.mid
          outputs: long.out
          run: cp {input} {output}
        long1:
          inputs: long.src
          outputs: long.mid
          run: cp {input} {output}
        short:
          inputs: short.src
          outputs: short.out
          run: cp {input} {output}
    `;
    const fs = new FakeFileSystem().write('short.src', 'long.src', 'z.src', 'a.src');
    const p = plan(fs, false, r);
    assert.deepEqual(p.order.map((j) => j.name), ['long.mid', 'z.one', 'a.one', 'long.out', 'short.out', 'all']);
    assert.equal(p.priority[p.order[0]!.id], 3);
  });
});
