// Staleness by signature (SPEC §2, row 5): a changed command, params, env,
// inputs, outputs or shell reruns that rule's jobs only, with the reason
// named in the order the contract gives.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { project, yaml, type Project } from './helpers.js';
import { build, plan } from './state-helpers.js';

describe('signature changes', () => {
  function rulefile(o: { run?: string; env?: string; cInputs?: string } = {}): string {
    return yaml(
      'config:',
      '  level: 1',
      '  word: hello',
      'rules:',
      '  a:',
      '    inputs: "src/{n}.txt"',
      '    outputs: "a/{n}.txt"',
      '    params: { level: "{config.level}" }',
      `    env: { MODE: ${o.env ?? 'fast'} }`,
      `    run: ${o.run ?? 'echo a {n} >> ran.log; cat {input} > {output}'}`,
      '  b:',
      '    inputs: [a/x.txt, a/y.txt]',
      '    outputs: b.txt',
      '    run: echo b >> ran.log; cat {inputs} > {output}; echo {config.word} >> {output}',
      '  c:',
      `    inputs: ${o.cInputs ?? '[a/x.txt]'}`,
      '    outputs: c.txt',
      '    run: echo c >> ran.log; cat {inputs} > {output}',
    );
  }
  const sources = { 'src/x.txt': 'x\n', 'src/y.txt': 'y\n', 'extra.txt': 'extra\n' };
  const targets = ['b.txt', 'c.txt'];

  function setup(t: Parameters<typeof project>[0]): Project {
    const p = project(t, { Rulefile: rulefile(), ...sources });
    assert.deepEqual([...build(p, ...targets).added].sort(), ['a x', 'a y', 'b', 'c']);
    assert.deepEqual(plan(p, ...targets), []);
    return p;
  }

  test("a changed run reruns only that rule's jobs, not the downstream when outputs come out the same", (t) => {
    const p = setup(t);
    p.write({ Rulefile: rulefile({ run: 'echo a {n} >> ran.log; cat {input} > {output}; true' }) });
    const lines = plan(p, ...targets);
    assert.deepEqual(lines.slice(0, 2), ['a[n=x] a/x.txt: command changed', 'a[n=y] a/y.txt: command changed']);
    assert.deepEqual([...lines.slice(2)].sort(), ['b b.txt: upstream will run: a/x.txt', 'c c.txt: upstream will run: a/x.txt']);
    const b = build(p, ...targets);
    assert.deepEqual([...b.added].sort(), ['a x', 'a y']);
    assert.match(b.r.stdout, /^rules: 2 jobs done, 2 up to date after all/m);
    assert.deepEqual(plan(p, ...targets), []);
  });

  test("a --config value used in params reruns only that rule's jobs: params changed: NAME", (t) => {
    const p = setup(t);
    const lines = plan(p, '--config', 'level=2', ...targets);
    assert.deepEqual(lines.slice(0, 2), ['a[n=x] a/x.txt: params changed: level', 'a[n=y] a/y.txt: params changed: level']);
    assert.ok(lines.slice(2).every((l) => l.includes(': upstream will run: ')), lines.join('\n'));
    assert.deepEqual([...build(p, '--config', 'level=2', ...targets).added].sort(), ['a x', 'a y']);
    assert.deepEqual(plan(p, '--config', 'level=2', ...targets), []);
    // Back to the Rulefile's value: a changed param again.
    assert.deepEqual(plan(p, ...targets).slice(0, 1), ['a[n=x] a/x.txt: params changed: level']);
  });

  test('a --config value used directly in run: command changed, that rule only', (t) => {
    const p = setup(t);
    assert.deepEqual(plan(p, '--config', 'word=bye', ...targets), ['b b.txt: command changed']);
    assert.deepEqual(build(p, '--config', 'word=bye', ...targets).added, ['b']);
    assert.equal(p.read('b.txt'), 'x\ny\nbye\n');
    assert.deepEqual(plan(p, '--config', 'word=bye', ...targets), []);
  });

  test("a changed env of a rule: env changed: NAME", (t) => {
    const p = setup(t);
    p.write({ Rulefile: rulefile({ env: 'slow' }) });
    const lines = plan(p, ...targets);
    assert.deepEqual(lines.slice(0, 2), ['a[n=x] a/x.txt: env changed: MODE', 'a[n=y] a/y.txt: env changed: MODE']);
    assert.deepEqual([...build(p, ...targets).added].sort(), ['a x', 'a y']);
    assert.deepEqual(plan(p, ...targets), []);
  });

  test('an input added to a rule: inputs changed', (t) => {
    const p = setup(t);
    p.write({ Rulefile: rulefile({ cInputs: '[a/x.txt, extra.txt]' }) });
    assert.deepEqual(plan(p, ...targets), ['c c.txt: inputs changed']);
    assert.deepEqual(build(p, ...targets).added, ['c']);
    assert.equal(p.read('c.txt'), 'x\nextra\n');
    assert.deepEqual(plan(p, ...targets), []);
  });
});

describe('more signature changes', () => {
  const base = yaml(
    'env: { GLOBAL: one }',
    'rules:',
    '  pair:',
    '    inputs: src.txt',
    '    outputs: [p1.txt, p2.txt]',
    '    params: { a: "1", b: "2" }',
    '    env: { MODE: fast }',
    '    run: echo pair >> ran.log; cp {input} p1.txt; cp {input} p2.txt',
  );

  function setup(t: Parameters<typeof project>[0]): Project {
    const p = project(t, { Rulefile: base, 'src.txt': 's\n' });
    assert.deepEqual(build(p, 'p1.txt').added, ['pair']);
    return p;
  }

  test('a changed shell is command changed', (t) => {
    const p = setup(t);
    p.write({ Rulefile: 'shell: bash -c\n' + base });
    assert.deepEqual(plan(p, 'p1.txt'), ['pair p1.txt: command changed']);
  });

  test('a removed output is outputs changed', (t) => {
    const p = setup(t);
    p.write({ Rulefile: base.replace('outputs: [p1.txt, p2.txt]', 'outputs: [p1.txt]') });
    assert.deepEqual(plan(p, 'p1.txt'), ['pair p1.txt: outputs changed']);
  });

  test('a changed top-level env is env changed: NAME', (t) => {
    const p = setup(t);
    p.write({ Rulefile: base.replace('GLOBAL: one', 'GLOBAL: two') });
    assert.deepEqual(plan(p, 'p1.txt'), ['pair p1.txt: env changed: GLOBAL']);
  });

  test('a removed param is params changed: NAME', (t) => {
    const p = setup(t);
    p.write({ Rulefile: base.replace('params: { a: "1", b: "2" }', 'params: { a: "1" }') });
    assert.deepEqual(plan(p, 'p1.txt'), ['pair p1.txt: params changed: b']);
  });

  test('several changes: params, then env, then inputs, then command (the first is named)', (t) => {
    const p = setup(t);
    p.write({ 'extra.txt': 'e\n' });
    const everything = base
      .replace('run: echo pair', 'run: echo PAIR')
      .replace('inputs: src.txt', 'inputs: [src.txt, extra.txt]')
      .replace('MODE: fast', 'MODE: slow')
      .replace('b: "2"', 'b: "3"');
    p.write({ Rulefile: everything });
    assert.deepEqual(plan(p, 'p1.txt'), ['pair p1.txt: params changed: b']);
    p.write({ Rulefile: everything.replace('b: "3"', 'b: "2"') });
    assert.deepEqual(plan(p, 'p1.txt'), ['pair p1.txt: env changed: MODE']);
    p.write({ Rulefile: everything.replace('b: "3"', 'b: "2"').replace('MODE: slow', 'MODE: fast') });
    assert.deepEqual(plan(p, 'p1.txt'), ['pair p1.txt: inputs changed']);
  });

  test('a changed signature comes before a changed input', (t) => {
    const p = setup(t);
    p.write({ Rulefile: base.replace('run: echo pair', 'run: echo PAIR'), 'src.txt': 'changed\n' });
    assert.deepEqual(plan(p, 'p1.txt'), ['pair p1.txt: command changed']);
  });
});

describe('resources are not dependencies (SPEC §1)', () => {
  function rulefile(cpus: number): string {
    return yaml(
      'rules:',
      '  align:',
      '    inputs: reads.txt',
      '    outputs: out.txt',
      `    resources: { cpus: ${cpus}, mem_mb: ${cpus * 1000} }`,
      '    run: echo align >> ran.log; echo threads {resources.cpus} > {output}',
    );
  }

  test('{resources.cpus} is capped at -j, and neither a new request nor a new -j reruns anything', (t) => {
    const p = project(t, { Rulefile: rulefile(8), 'reads.txt': 'r\n' });
    assert.deepEqual(build(p, '-j', '2').added, ['align']);
    assert.equal(p.read('out.txt'), 'threads 2\n');
    p.write({ Rulefile: rulefile(4) });
    assert.deepEqual(plan(p), []);
    assert.deepEqual(plan(p, '-j', '1'), []);
    assert.deepEqual(build(p, '-j', '3').added, []);
    // A forced run gets what -j now allows.
    build(p, '-j', '3', '-B');
    assert.equal(p.read('out.txt'), 'threads 3\n');
  });
});
