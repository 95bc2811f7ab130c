import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readyBefore, type Plan } from '../../../src/plan/plan.js';
import type { Job } from '../../../src/graph/model.js';
import { Heap } from '../../../src/util/heap.js';
import { reasonText } from '../../../src/report/reason.js';
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
  return p.order.map((j) => `${j.label} ${j.name}: ${reasonText(p.reasons.get(j)!)}`);
}

describe('staleness without a build record (Make semantics)', () => {
  test('missing outputs, then upstream propagation', () => {
    const fs = new FakeFileSystem().write('a.txt', 'dir.stamp');
    assert.deepEqual(lines(plan(fs)), ['b b.txt: output missing: b.txt', 'c c.txt: output missing: c.txt', 'all all: always']);
  });

  test('an up-to-date tree: nothing, not even the phony job without a command (SPEC §2)', () => {
    const fs = new FakeFileSystem().write('a.txt', 'dir.stamp', 'b.txt', 'c.txt');
    assert.deepEqual(lines(plan(fs)), []);
  });

  test('an input newer than the oldest output', () => {
    const fs = new FakeFileSystem().write('dir.stamp', 'b.txt', 'c.txt', 'a.txt');
    assert.deepEqual(lines(plan(fs)), ['b b.txt: no record: input newer than output: a.txt', 'c c.txt: upstream will run: b.txt', 'all all: always']);
  });

  test('order-only inputs never make a job stale', () => {
    const fs = new FakeFileSystem().write('a.txt', 'b.txt', 'c.txt', 'dir.stamp');
    assert.deepEqual(lines(plan(fs)), []);
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
    assert.deepEqual(lines(plan(fs, false, r, ['g.txt', 'l.txt'])), ['loud loud: always', 'use_loud l.txt: upstream will run: loud']);
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

describe('run order, against a one-slot build', () => {
  /** What a one-slot build runs next: the best ready job, popped from a heap. */
  function simulated(p: Plan): string[] {
    const waiting = new Map<Job, number>();
    const ready = new Heap<Job>(readyBefore(p));
    for (const job of p.reasons.keys()) {
      const n = job.deps.filter((d) => p.reasons.has(d)).length;
      waiting.set(job, n);
      if (n === 0) ready.push(job);
    }
    const out: string[] = [];
    for (let job = ready.pop(); job; job = ready.pop()) {
      out.push(job.name);
      for (const d of job.dependents) if (p.reasons.has(d) && waiting.set(d, waiting.get(d)! - 1).get(d) === 0) ready.push(d);
    }
    return out;
  }

  test('random DAGs: the plan order is the order the ready heap pops', () => {
    let seed = 7;
    const r = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    for (let round = 0; round < 60; round++) {
      const n = 3 + Math.floor(r() * 25);
      const outs = Array.from({ length: n }, (_, i) => `f${i}.out`);
      // Rules listed in a shuffled order, so rule order and discovery order disagree.
      const rules = outs.map((out, i) => {
        const pool = ['a.src', 'b.src', ...outs.slice(0, i)];
        const inputs = pool.filter(() => r() < 0.3);
        if (inputs.length === 0) inputs.push(pool[Math.floor(r() * pool.length)]!);
        return `  r${i}:\n    inputs: [${inputs.join(', ')}]\n    outputs: ${out}\n    run: make {output}\n`;
      });
      rules.sort(() => r() - 0.5);
      const text = `rules:\n  all:\n    inputs: [${[...outs].sort(() => r() - 0.5).join(', ')}]\n` + rules.join('');
      const p = plan(new FakeFileSystem().write('a.src', 'b.src'), false, text);
      assert.deepEqual(p.order.map((j) => j.name), simulated(p), `round ${round}`);
      assert.equal(p.order.length, n + 1);
    }
  });
});
