// `rules build -n`: one line per stale job, in run order, with the reason
// phrases of SPEC §2; `-n --json`; and a dry run writes nothing.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { nonEmptyLines, project, show, yaml, type Project } from './helpers.js';

// newer -> after -> all (longest chain, so `newer` runs first); missing and
// uptodate feed `all` directly.
const RULEFILE = yaml(
  'default: all',
  'rules:',
  '  all:',
  '    inputs: [out/foo_1.txt, n2.txt, u.txt]',
  '    run: echo all >> ran.log',
  '  missing:',
  '    inputs: "src/{name}.txt"',
  '    outputs: "out/{name}_{n}.txt"',
  '    run: echo {output} >> ran.log; cp {input} {output}',
  '  after:',
  '    inputs: n.txt',
  '    order_only: marker.txt',
  '    outputs: n2.txt',
  '    run: echo {output} >> ran.log; cp {input} {output}',
  '  newer:',
  '    inputs: src2.txt',
  '    outputs: n.txt',
  '    run: echo {output} >> ran.log; cp {input} {output}',
  '  uptodate:',
  '    inputs: src3.txt',
  '    outputs: u.txt',
  '    run: echo {output} >> ran.log; cp {input} {output}',
);

function setup(p: Project): void {
  p.write({
    'src/foo.txt': 'foo\n',
    'src2.txt': 'two\n',
    'src3.txt': 'three\n',
    'marker.txt': '',
    'n.txt': 'old\n',
    'n2.txt': 'old\n',
    'u.txt': 'three\n',
  });
  for (const f of ['src/foo.txt', 'src2.txt', 'src3.txt', 'marker.txt']) p.age(f, -100);
  p.age('n.txt', -200); // older than its input src2.txt
  p.age('n2.txt', -50); // newer than n.txt: stale only because n.txt will be rebuilt
  p.age('u.txt', -50); // up to date
}

describe('dry run', () => {
  test('prints each stale job with its reason, in run order, and writes nothing', (t) => {
    const p = project(t, { Rulefile: RULEFILE });
    setup(p);
    const before = p.snapshot();
    const r = p.run(['build', '-n']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(nonEmptyLines(r.stdout), [
      'newer n.txt: no record: input newer than output: src2.txt',
      'missing[name=foo,n=1] out/foo_1.txt: output missing: out/foo_1.txt',
      'after n2.txt: upstream will run: n.txt',
      'all: always',
    ]);
    assert.deepEqual(p.snapshot(), before, 'a dry run changes no file');
    assert.equal(p.exists('.rules'), false);
    assert.equal(p.exists('out'), false, 'no output directory created');
    assert.equal(p.exists('ran.log'), false);
  });

  test('--dry-run is the long form; a target limits the plan', (t) => {
    const p = project(t, { Rulefile: RULEFILE });
    setup(p);
    const r = p.run(['build', '--dry-run', 'n2.txt']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(nonEmptyLines(r.stdout), ['newer n.txt: no record: input newer than output: src2.txt', 'after n2.txt: upstream will run: n.txt']);
  });

  test('-B: every job, phony ones too, is forced', (t) => {
    const p = project(t, { Rulefile: RULEFILE });
    setup(p);
    const before = p.snapshot();
    const r = p.run(['build', '-n', '-B']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(nonEmptyLines(r.stdout), [
      'newer n.txt: forced',
      'missing[name=foo,n=1] out/foo_1.txt: forced',
      'after n2.txt: forced',
      'uptodate u.txt: forced',
      'all: forced',
    ]);
    assert.deepEqual(p.snapshot(), before);
  });

  test('always: true makes a job stale although its output is fresh', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  fetch:', '    outputs: latest.txt', '    always: true', '    run: date > {output}'),
      'latest.txt': 'x\n',
    });
    const r = p.run(['build', '-n']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(nonEmptyLines(r.stdout), ['fetch latest.txt: always']);
  });

  test('after a real build, only the phony job is left; the plan matches what ran', (t) => {
    const p = project(t, { Rulefile: RULEFILE });
    setup(p);
    let r = p.run(['build', '-j1']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(p.lines(), ['n.txt', 'out/foo_1.txt', 'n2.txt', 'all']);
    r = p.run(['build', '-n']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(nonEmptyLines(r.stdout), ['all: always']);

    // A newer order-only input never makes a job stale.
    p.age('marker.txt', 100);
    r = p.run(['build', '-n']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(nonEmptyLines(r.stdout), ['all: always']);
  });

  test('nothing stale: no lines, "nothing to do", exit 0', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  a:', '    inputs: in.txt', '    outputs: a.txt', '    run: cp {input} {output}'),
      'in.txt': 'x',
      'a.txt': 'x',
    });
    p.age('in.txt', -100);
    const r = p.run(['build', '-n']);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /nothing to do/);
  });

  test('-n --json: the plan as JSON with rule, wildcards, outputs, inputs, reason, command', (t) => {
    const p = project(t, { Rulefile: RULEFILE });
    setup(p);
    const before = p.snapshot();
    const r = p.run(['build', '-n', '--json']);
    assert.equal(r.status, 0, show(r));
    const plan = JSON.parse(r.stdout) as { jobs: { rule: string; wildcards: Record<string, string>; outputs: string[]; inputs: string[]; reason: string; command: string | null }[] };
    assert.deepEqual(plan, {
      jobs: [
        { rule: 'newer', wildcards: {}, outputs: ['n.txt'], inputs: ['src2.txt'], reason: 'no record: input newer than output: src2.txt', command: 'echo n.txt >> ran.log; cp src2.txt n.txt' },
        {
          rule: 'missing',
          wildcards: { name: 'foo', n: '1' },
          outputs: ['out/foo_1.txt'],
          inputs: ['src/foo.txt'],
          reason: 'output missing: out/foo_1.txt',
          command: 'echo out/foo_1.txt >> ran.log; cp src/foo.txt out/foo_1.txt',
        },
        // order_only inputs are not listed.
        { rule: 'after', wildcards: {}, outputs: ['n2.txt'], inputs: ['n.txt'], reason: 'upstream will run: n.txt', command: 'echo n2.txt >> ran.log; cp n.txt n2.txt' },
        { rule: 'all', wildcards: {}, outputs: [], inputs: ['out/foo_1.txt', 'n2.txt', 'u.txt'], reason: 'always', command: 'echo all >> ran.log' },
      ],
    });
    for (const job of plan.jobs) assert.deepEqual(Object.keys(job), ['rule', 'wildcards', 'outputs', 'inputs', 'reason', 'command']);
    assert.deepEqual(p.snapshot(), before);
    assert.equal(p.exists('.rules'), false);
  });

  test('ready jobs of equal path length come in Rulefile rule order, then target order', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  first:',
        '    outputs: "f/{x}.txt"',
        '    run: touch {output}',
        '  second:',
        '    outputs: s.txt',
        '    run: touch {output}',
      ),
    });
    const r = p.run(['build', '-n', 's.txt', 'f/b.txt', 'f/a.txt']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(nonEmptyLines(r.stdout), [
      'first[x=b] f/b.txt: output missing: f/b.txt',
      'first[x=a] f/a.txt: output missing: f/a.txt',
      'second s.txt: output missing: s.txt',
    ]);
  });

  test('--json without -n is a usage error', (t) => {
    const p = project(t, { Rulefile: RULEFILE });
    setup(p);
    const r = p.run(['build', '--json']);
    assert.equal(r.status, 2, show(r));
    assert.equal(p.exists('ran.log'), false);
  });
});

describe('a phony rule without a command in a dry run (SPEC §2)', () => {
  const GROUP = yaml('default: all', 'rules:', '  all:', '    inputs: [a.out]', '  make:', '    inputs: a.in', '    outputs: a.out', '    run: cp {input} {output}');

  test('listed when a job it needs will run; on an up-to-date tree nothing on stdout, "nothing to do" on stderr, on either path', (t) => {
    const p = project(t, { Rulefile: GROUP, 'a.in': 'a\n' });
    assert.deepEqual(nonEmptyLines(p.run(['build', '-n']).stdout), ['make a.out: output missing: a.out', 'all: always']);
    assert.equal(p.run(['build']).status, 0);
    for (const fast of [true, false]) {
      if (!fast) fs.rmSync(p.path('.rules/uptodate'));
      const r = p.run(['build', '-n']);
      assert.equal(r.status, 0, show(r));
      assert.equal(r.stdout, '', show(r));
      assert.equal(r.stderr, 'rules: nothing to do\n', show(r));
      const json = p.run(['build', '-n', '--json']);
      assert.deepEqual(JSON.parse(json.stdout), { jobs: [] });
    }
    assert.deepEqual(nonEmptyLines(p.run(['build', '-n', '-B']).stdout), ['make a.out: forced', 'all: forced'], '-B lists it, as forced');
  });
});
