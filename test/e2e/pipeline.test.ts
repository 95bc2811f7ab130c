// Building pipelines end to end: a linear chain and its Make-like staleness,
// fan-out/fan-in with pattern rules and `expand` items.

import fs from 'node:fs';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { progressLines, project, show, yaml } from './helpers.js';

describe('linear pipeline src -> a -> b -> c', () => {
  const rulefile = yaml(
    'default: c.txt',
    'rules:',
    '  make_c:',
    '    inputs: b.txt',
    '    outputs: c.txt',
    '    run: echo {output} >> ran.log && cat {input} > {output} && echo C >> {output}',
    '  make_b:',
    '    description: Second step',
    '    inputs: a.txt',
    '    outputs: b.txt',
    '    run: echo {output} >> ran.log && cat {input} > {output} && echo B >> {output}',
    '  make_a:',
    '    inputs: src.txt',
    '    outputs: a.txt',
    '    run: echo {output} >> ran.log && cat {input} > {output} && echo A >> {output}',
  );

  test('builds in order, then nothing, then reruns after the source changes, and everything under -B', (t) => {
    const p = project(t, { Rulefile: rulefile, 'src.txt': 'S\n' });

    // First build: three jobs, in dependency order.
    let r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(p.lines(), ['a.txt', 'b.txt', 'c.txt']);
    assert.equal(p.read('a.txt'), 'S\nA\n');
    assert.equal(p.read('b.txt'), 'S\nA\nB\n');
    assert.equal(p.read('c.txt'), 'S\nA\nB\nC\n');
    assert.deepEqual(progressLines(r.stdout), ['[1/3] make_a', '[2/3] make_b: Second step', '[3/3] make_c']);
    assert.match(r.stdout, /^rules: 3 jobs done in \d+(\.\d+)?s$/m);

    // Second build: up to date.
    r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^rules: nothing to do$/m);
    assert.deepEqual(progressLines(r.stdout), []);
    assert.deepEqual(p.lines(), ['a.txt', 'b.txt', 'c.txt']);

    // The source changes and is newer than every output: the whole chain reruns.
    p.write({ 'src.txt': 'T\n' });
    for (const f of ['a.txt', 'b.txt', 'c.txt']) p.age(f, -100);
    p.age('src.txt', -50);
    r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(p.lines().slice(3), ['a.txt', 'b.txt', 'c.txt']);
    assert.equal(p.read('c.txt'), 'T\nA\nB\nC\n');

    // And is up to date again afterwards.
    r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^rules: nothing to do$/m);
    assert.equal(p.lines().length, 6);

    // -B reruns everything.
    r = p.run(['build', '-B']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(p.lines().slice(6), ['a.txt', 'b.txt', 'c.txt']);
    assert.match(r.stdout, /^rules: 3 jobs done in /m);

    // --force is the long form.
    r = p.run(['build', '--force']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.lines().length, 12);
  });

  test('existing outputs without a build record are adopted; Make\'s rule reruns from a newer middle file on', (t) => {
    // Outputs made outside rules (no build record): only Make's mtime rule applies.
    const p = project(t, { Rulefile: rulefile, 'src.txt': 'S\n', 'a.txt': 'S\nA\n', 'b.txt': 'old\n', 'c.txt': 'old\n' });
    for (const f of ['src.txt', 'a.txt', 'b.txt', 'c.txt']) p.age(f, -100);
    p.age('src.txt', -200);
    p.age('a.txt', -50); // newer than b.txt, older than nothing upstream
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(p.lines(), ['b.txt', 'c.txt']);
    assert.equal(p.read('a.txt'), 'S\nA\n', 'a.txt is adopted, not rebuilt');
    assert.equal(p.read('c.txt'), 'S\nA\nB\nC\n');
  });

  test('a deleted final output reruns only its job; a target by file path or rule name', (t) => {
    const p = project(t, { Rulefile: rulefile, 'src.txt': 'S\n' });
    let r = p.run(['build', 'b.txt']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(p.lines(), ['a.txt', 'b.txt']);
    assert.equal(p.exists('c.txt'), false);

    r = p.run(['build', 'make_c']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(p.lines(), ['a.txt', 'b.txt', 'c.txt']);

    fs.rmSync(p.path('c.txt'));
    r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(p.lines().slice(3), ['c.txt']);
    assert.equal(p.read('c.txt'), 'S\nA\nB\nC\n');
  });
});

describe('fan-out and fan-in', () => {
  const rulefile = yaml(
    'config:',
    '  samples: [s1, s2]',
    'default: all',
    'rules:',
    '  all:',
    '    inputs:',
    '      - summary.txt',
    '      - expand: "counts/{sample}.n"',
    '        sample: { config: samples }',
    '  summary:',
    '    inputs:',
    '      - expand: "upper/{name}.txt"',
    '        name: { glob: "src/{name}.txt" }',
    '    outputs: summary.txt',
    '    run: echo {output} >> ran.log && cat {input} > {output}',
    '  upper:',
    '    inputs: "src/{name}.txt"',
    '    outputs: "upper/{name}.txt"',
    '    run: echo {output} >> ran.log && tr a-z A-Z < {input} > {output}',
    '  count:',
    '    inputs: "data/{sample}.csv"',
    '    outputs: "counts/{sample}.n"',
    '    run: echo {output} >> ran.log && wc -l < {input} | tr -d " " > {output}',
  );
  const files = {
    Rulefile: rulefile,
    'src/x.txt': 'ex\n',
    'src/y.txt': 'why\n',
    'data/s1.csv': 'a\nb\n',
    'data/s2.csv': 'a\nb\nc\n',
  };

  test('expand over a config list and a {glob:}; a new matching source adds a job', (t) => {
    const p = project(t, files);
    let r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual([...p.lines()].sort(), ['counts/s1.n', 'counts/s2.n', 'summary.txt', 'upper/x.txt', 'upper/y.txt']);
    // summary comes after both upper jobs.
    const ran = p.lines();
    assert.ok(ran.indexOf('summary.txt') > ran.indexOf('upper/x.txt') && ran.indexOf('summary.txt') > ran.indexOf('upper/y.txt'), ran.join(','));
    assert.equal(p.read('upper/x.txt'), 'EX\n');
    assert.equal(p.read('summary.txt'), 'EX\nWHY\n');
    assert.equal(p.read('counts/s1.n'), '2\n');
    assert.equal(p.read('counts/s2.n'), '3\n');
    // The phony `all` without a command is not a job to count.
    assert.equal(progressLines(r.stdout).length, 5, r.stdout);
    assert.match(r.stdout, /^\[5\/5\] /m);

    r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /nothing to do/);

    // A new source file matching the glob (sorting first) adds a job and reruns the fan-in.
    p.write({ 'src/w.txt': 'dub\n' });
    r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(p.lines().slice(5), ['upper/w.txt', 'summary.txt']);
    assert.equal(p.read('summary.txt'), 'DUB\nEX\nWHY\n');
    assert.equal(progressLines(r.stdout).length, 2, r.stdout);
  });

  test('a config list given with --config changes the fan-out', (t) => {
    const p = project(t, { ...files, 'data/s3.csv': 'z\n' });
    const r = p.run(['build', '--config', 'samples=[s3]']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual([...p.lines()].sort(), ['counts/s3.n', 'summary.txt', 'upper/x.txt', 'upper/y.txt']);
    assert.equal(p.read('counts/s3.n'), '1\n');
    assert.equal(p.exists('counts/s1.n'), false);
  });

  test("an expand in a pattern rule uses the job's own wildcards", (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'default: [merged/a.txt, merged/b.txt]',
        'rules:',
        '  merge:',
        '    inputs:',
        '      - expand: "reps/{sample}_{rep}.txt"',
        '        rep: [1, 2, 3]',
        '    outputs: "merged/{sample}.txt"',
        '    run: echo {output} >> ran.log && cat {input} > {output}',
        '  rep:',
        '    outputs: "reps/{sample}_{rep}.txt"',
        '    run: echo {sample}-{rep} > {output}',
      ),
    });
    const r = p.run(['build', '-j2']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('merged/a.txt'), 'a-1\na-2\na-3\n');
    assert.equal(p.read('merged/b.txt'), 'b-1\nb-2\nb-3\n');
    assert.deepEqual([...p.lines()].sort(), ['merged/a.txt', 'merged/b.txt']);
    assert.equal(progressLines(r.stdout).length, 8, r.stdout);
  });
});
