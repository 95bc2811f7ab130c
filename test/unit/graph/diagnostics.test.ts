// What the graph says when it cannot be built: the Rulefile place of the input
// that asked for a missing file, the places of rules that tie, and how many
// problems were left out past the limit.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGraph, MAX_GRAPH_PROBLEMS } from '../../../src/graph/build.js';
import type { Project } from '../../../src/rulefile/model.js';
import { UserError, type Diagnostic } from '../../../src/util/errors.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { graphProblems } from '../../support/project.js';
import { load, yaml } from '../rulefile/helpers.js';

const problemsOf = (project: Project, targets: string[], fs = new FakeFileSystem()): Diagnostic[] => graphProblems(project, targets, fs);

describe('a missing input names the entry that asked for it', () => {
  test('an entry of a list of inputs', () => {
    const p = load(yaml('rules:', '  all:', '    inputs:', '      - a.txt', '      - b.txt', '    run: cat {inputs}'));
    const [d, ...rest] = problemsOf(p, ['all'], new FakeFileSystem().write('a.txt'));
    assert.deepEqual(d, { message: "no rule to make 'b.txt' (needed by 'all')", loc: { file: 'Rulefile', line: 5, col: 9 } });
    assert.deepEqual(rest, []);
  });

  test('an entry of a flow list', () => {
    const p = load(yaml('rules:', '  all:', '    inputs: [a.txt, b.txt]', '    run: cat {inputs}'));
    const [d] = problemsOf(p, ['all'], new FakeFileSystem().write('b.txt'));
    assert.deepEqual(d, { message: "no rule to make 'a.txt' (needed by 'all')", loc: { file: 'Rulefile', line: 3, col: 14 } });
  });

  test('a named input, in a list under its name', () => {
    const p = load(
      yaml(
        'rules:',
        '  align:',
        '    inputs:',
        '      ref: genome.fa',
        '      reads: ["{sample}_1.fq", "{sample}_2.fq"]',
        '    outputs: "{sample}.bam"',
        '    run: bwa {inputs.ref} {inputs.reads} > {output}',
      ),
    );
    const fs = new FakeFileSystem().write('genome.fa', 's1_1.fq');
    const [d] = problemsOf(p, ['s1.bam'], fs);
    assert.deepEqual(d, { message: "no rule to make 's1_2.fq' (needed by 's1.bam')", loc: { file: 'Rulefile', line: 5, col: 32 } });
    const [named] = problemsOf(p, ['s1.bam'], new FakeFileSystem().write('s1_1.fq', 's1_2.fq'));
    assert.deepEqual(named, { message: "no rule to make 'genome.fa' (needed by 's1.bam')", loc: { file: 'Rulefile', line: 4, col: 12 } });
  });

  test('a path an expand item made points at the item', () => {
    const p = load(
      yaml(
        'rules:',
        '  all:',
        '    inputs:',
        '      - head.txt',
        '      - expand: "raw/{s}.txt"',
        '        s: [a, b]',
        '    run: cat {inputs}',
      ),
    );
    const [d] = problemsOf(p, ['all'], new FakeFileSystem().write('head.txt', 'raw/a.txt'));
    assert.deepEqual(d, { message: "no rule to make 'raw/b.txt' (needed by 'all')", loc: { file: 'Rulefile', line: 5, col: 9 } });
  });

  test('inputs made from config values point at the entry that uses them', () => {
    const p = load(
      yaml(
        'config:',
        '  samples: [x, y]',
        '  ref: hg38',
        'rules:',
        '  all:',
        '    inputs:',
        '      - "ref/{config.ref}.fa"',
        '      - {expand: "s/{n}.txt", n: {config: samples}}',
        '    run: cat {inputs}',
      ),
    );
    const ds = problemsOf(p, ['all'], new FakeFileSystem().write('s/x.txt'));
    assert.deepEqual(ds, [
      { message: "no rule to make 'ref/hg38.fa' (needed by 'all')", loc: { file: 'Rulefile', line: 7, col: 9 } },
      { message: "no rule to make 's/y.txt' (needed by 'all')", loc: { file: 'Rulefile', line: 8, col: 9 } },
    ]);
  });

  test('an order-only input, and an input declared in an included file', () => {
    const p = load({
      Rulefile: yaml('include: more.yaml', 'rules:', '  all:', '    inputs: a.txt', '    order_only: [made.txt, stamp.txt]', '    run: cat {inputs}'),
      'more.yaml': yaml('rules:', '  made:', '    inputs: [src/m.txt]', '    outputs: made.txt', '    run: cp {input} {output}'),
    });
    const ds = problemsOf(p, ['all'], new FakeFileSystem());
    assert.deepEqual(ds, [
      { message: "no rule to make 'a.txt' (needed by 'all')", loc: { file: 'Rulefile', line: 4, col: 13 } },
      { message: "no rule to make 'stamp.txt' (needed by 'all')", loc: { file: 'Rulefile', line: 5, col: 28 } },
      { message: "no rule to make 'src/m.txt' (needed by 'made.txt')", loc: { file: 'more.yaml', line: 3, col: 14 } },
    ]);
  });

  test('a target given on the command line has no place in the Rulefile', () => {
    const p = load(yaml('rules:', '  a:', '    outputs: a.txt', '    run: touch a.txt'));
    assert.deepEqual(problemsOf(p, ['nope.txt']), [{ message: "no rule to make 'nope.txt'" }]);
  });

  test('an input that is also an output of its own job points at the input', () => {
    const p = load(yaml('rules:', '  loop:', '    inputs: [x.txt, "{n}.txt"]', '    outputs: "{n}.txt"', '    run: touch {output}'));
    const [d] = problemsOf(p, ['a.txt'], new FakeFileSystem().write('x.txt'));
    assert.deepEqual(d, { message: "rule 'loop': 'a.txt' is both an input and an output of loop[n=a]", loc: { file: 'Rulefile', line: 3, col: 21 } });
  });
});

describe('ambiguity names the place of each candidate', () => {
  test('two rules: each output pattern with its place', () => {
    const p = load(
      yaml('rules:', '  one:', '    outputs: "out/{a}.txt"', '    run: touch {output}', '  two:', '    outputs: "ou{b}/x.txt"', '    run: touch {output}'),
    );
    assert.deepEqual(problemsOf(p, ['out/x.txt']), [
      {
        message:
          "ambiguous: 'out/x.txt' can be made by rule 'one' (output 'out/{a}.txt'), rule 'two' (output 'ou{b}/x.txt'), written at Rulefile:3:14 and Rulefile:6:14; make one output pattern more specific",
      },
    ]);
  });

  test('three rules, one from an included file', () => {
    const p = load({
      Rulefile: yaml('rules:', '  one:', '    outputs: "{a}.txt"', '    run: touch {output}', '  two:', '    outputs: ["{b}.txt"]', '    run: touch {output}', 'include: inc.yaml'),
      'inc.yaml': yaml('rules:', '  three:', '    outputs: "{c}.txt"', '    run: touch {output}'),
    });
    const [d] = problemsOf(p, ['x.txt']);
    assert.match(d!.message, /, written at Rulefile:3:14, Rulefile:6:15 and inc\.yaml:3:14; make one output pattern more specific$/);
  });
});

describe('past the limit, the last line says how many problems were left out', () => {
  const many = (n: number) => load(yaml('rules:', '  all:', '    inputs:', ...Array.from({ length: n }, (_, i) => `      - f${i + 1}.txt`), '    run: cat {inputs}'));

  test('25 missing inputs: 20 shown, then "and 5 more"', () => {
    assert.equal(MAX_GRAPH_PROBLEMS, 20);
    const ds = problemsOf(many(25), ['all']);
    assert.equal(ds.length, 21);
    assert.deepEqual(
      ds.slice(0, 20).map((d) => d.message),
      Array.from({ length: 20 }, (_, i) => `no rule to make 'f${i + 1}.txt' (needed by 'all')`),
    );
    assert.deepEqual(ds[20], { message: '... and 5 more problems (the first 20 are shown)' });
  });

  test('one over the limit: "1 more problem"; at the limit: no extra line', () => {
    assert.deepEqual(problemsOf(many(21), ['all'])[20], { message: '... and 1 more problem (the first 20 are shown)' });
    const ds = problemsOf(many(20), ['all']);
    assert.equal(ds.length, 20);
    assert.ok(!ds.some((d) => d.message.startsWith('...')));
  });

  test('the error message ends with the count', () => {
    try {
      buildGraph(many(25), ['all'], new FakeFileSystem());
      assert.fail('expected the graph to fail');
    } catch (e) {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /^Rulefile:4:9: no rule to make 'f1\.txt'/);
      assert.match(e.message, /\n\.\.\. and 5 more problems \(the first 20 are shown\)$/);
    }
  });
});
