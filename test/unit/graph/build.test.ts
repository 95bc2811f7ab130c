import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { buildGraph, defaultTargets } from '../../../src/graph/build.js';
import type { Graph } from '../../../src/graph/model.js';
import { loadProject } from '../../../src/rulefile/load.js';
import type { Project } from '../../../src/rulefile/model.js';
import { UserError } from '../../../src/util/errors.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

function graphOf(rulefile: string, targets: string[], fs: FakeFileSystem): Graph {
  return buildGraph(projectFrom(rulefile), targets, fs);
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected an error');
}

describe('resolving paths through rules', () => {
  const rules = yaml`
    rules:
      generic:
        inputs: "src/{name}.txt"
        outputs: "out/{name}.txt"
        run: cp {input} {output}
      special:
        inputs: src/base.txt
        outputs: out/special.txt
        run: cp {input} {output}
      by_dir:
        inputs: "src/{name}.txt"
        outputs: "{dir}/{name}.dat"
        run: cp {input} {output}
  `;

  test('a pattern rule makes a matching path and binds its wildcards', () => {
    const g = graphOf(rules, ['out/a.txt'], new FakeFileSystem().write('src/a.txt'));
    assert.equal(g.jobs.length, 1);
    assert.equal(g.jobs[0]!.rule.name, 'generic');
    assert.deepEqual(g.jobs[0]!.wildcards, { name: 'a' });
    assert.deepEqual(g.jobs[0]!.inputs, ['src/a.txt']);
    assert.deepEqual(g.sources, ['src/a.txt']);
    assert.equal(g.jobs[0]!.label, 'generic[name=a]');
  });

  test('the output with the most literal characters wins', () => {
    const g = graphOf(rules, ['out/special.txt'], new FakeFileSystem().write('src/base.txt'));
    assert.equal(g.jobs[0]!.rule.name, 'special');
    assert.equal(g.jobs[0]!.label, 'special');
  });

  test('a tie between rules is an error naming the candidates', () => {
    const tie = yaml`
      rules:
        one:
          outputs: "out/{a}.txt"
          run: touch {output}
        two:
          outputs: "ou{b}/x.txt"
          run: touch {output}
    `;
    const msg = errorOf(() => graphOf(tie, ['out/x.txt'], new FakeFileSystem()));
    assert.match(msg, /ambiguous: 'out\/x.txt' can be made by rule 'one' \(output 'out\/\{a\}.txt'\), rule 'two' \(output 'ou\{b\}\/x.txt'\)/);
  });

  test('a wildcard matches no slash unless its regex allows it', () => {
    const fs = new FakeFileSystem().write('src/deep/a.txt');
    const msg = errorOf(() => graphOf(rules, ['out/deep/a.txt'], fs));
    assert.equal(msg, "no rule to make 'out/deep/a.txt'");
    const slashy = yaml`
      rules:
        copy:
          inputs: "src/{path}.txt"
          outputs: "out/{path,.+}.txt"
          run: cp {input} {output}
    `;
    const g = graphOf(slashy, ['out/deep/a.txt'], fs);
    assert.deepEqual(g.jobs[0]!.wildcards, { path: 'deep/a' });
  });

  test('a missing source names the job that needs it', () => {
    const msg = errorOf(() => graphOf(rules, ['out/a.txt'], new FakeFileSystem()));
    assert.equal(msg, "Rulefile:3:13: no rule to make 'src/a.txt' (needed by 'out/a.txt')");
  });

  test('a missing source needed by a phony rule names the rule', () => {
    const r = yaml`
      rules:
        all:
          inputs: [missing.txt]
    `;
    assert.equal(errorOf(() => graphOf(r, ['all'], new FakeFileSystem())), "Rulefile:3:14: no rule to make 'missing.txt' (needed by 'all')");
  });

  test('an existing source given as a target needs no job', () => {
    const g = graphOf(rules, ['src/a.txt'], new FakeFileSystem().write('src/a.txt'));
    assert.equal(g.jobs.length, 0);
    assert.equal(g.targets.length, 0);
  });

  test('a pattern rule named as a target is explained', () => {
    const msg = errorOf(() => graphOf(rules, ['generic'], new FakeFileSystem()));
    assert.match(msg, /rule 'generic' has wildcards, so it cannot be built by name/);
  });

  test('a non-pattern rule can be built by name', () => {
    const g = graphOf(rules, ['special'], new FakeFileSystem().write('src/base.txt'));
    assert.deepEqual(g.targets.map((t) => t.name), ['out/special.txt']);
  });

  test('paths are normalized', () => {
    const g = graphOf(rules, ['./out//a.txt'], new FakeFileSystem().write('src/a.txt'));
    assert.deepEqual(g.jobs[0]!.outputs, ['out/a.txt']);
  });
});

describe('jobs', () => {
  test('a job with several outputs is one job, whichever output is asked for', () => {
    const r = yaml`
      rules:
        all:
          inputs: ["x.b", "x.a", "y.b"]
        split:
          inputs: "{s}.in"
          outputs: { first: "{s}.a", second: "{s}.b" }
          run: touch {outputs.first} {outputs.second}
    `;
    const g = graphOf(r, ['all'], new FakeFileSystem().write('x.in', 'y.in'));
    assert.equal(g.jobs.length, 3);
    const all = g.jobs[0]!;
    assert.deepEqual(all.deps.map((d) => d.name), ['x.a', 'y.a']);
    assert.deepEqual(g.jobs[1]!.outputs, ['x.a', 'x.b']);
    assert.deepEqual([...g.jobs[1]!.namedOutputs], [['first', ['x.a']], ['second', ['x.b']]]);
  });

  test('phony rules can be inputs of other phony rules', () => {
    const r = yaml`
      rules:
        all:
          inputs: [stage]
          run: echo all
        stage:
          inputs: [a.txt]
    `;
    const g = graphOf(r, ['all'], new FakeFileSystem().write('a.txt'));
    assert.deepEqual(g.jobs.map((j) => j.name), ['all', 'stage']);
    assert.deepEqual(g.jobs[0]!.deps.map((d) => d.name), ['stage']);
  });

  test('expand: cartesian product, first name slowest, with glob and config values', () => {
    const r = yaml`
      config:
        bands: [r, g]
      rules:
        all:
          inputs:
            - expand: "out/{frame}_{band}.txt"
              frame: { glob: "raw/sci_{frame}.fits" }
              band: { config: bands }
        make:
          outputs: "out/{frame}_{band}.txt"
          run: touch {output}
    `;
    const fs = new FakeFileSystem().write('raw/sci_f2.fits', 'raw/sci_f10.fits', 'raw/sci_f1.fits', 'raw/other.fits');
    const g = graphOf(r, ['all'], fs);
    assert.deepEqual(g.jobs[0]!.inputs, ['out/f1_r.txt', 'out/f1_g.txt', 'out/f10_r.txt', 'out/f10_g.txt', 'out/f2_r.txt', 'out/f2_g.txt']);
  });

  test('expand from a glob naming its wildcard twice: both places take the same value', () => {
    const r = yaml`
      rules:
        all:
          inputs:
            - expand: "out/{run}.txt"
              run: { glob: "raw/{run}/{run}.dat" }
        make:
          outputs: "out/{run}.txt"
          run: touch {output}
    `;
    const fs = new FakeFileSystem().write('raw/a/a.dat', 'raw/b/b.dat', 'raw/c/other.dat', 'raw/d.x/d.x.dat');
    const g = graphOf(r, ['all'], fs);
    assert.deepEqual(g.jobs[0]!.inputs, ['out/a.txt', 'out/b.txt', 'out/d.x.txt']);
  });

  test('expand from a glob: each value once, in code point order, however many files have it', () => {
    const r = yaml`
      rules:
        all:
          inputs:
            - expand: "out/{s}.txt"
              s: { glob: "raw/{s}_*.txt" }
        make:
          outputs: "out/{s}.txt"
          run: touch {output}
    `;
    const fs = new FakeFileSystem().write('raw/b_1.txt', 'raw/a_2.txt', 'raw/b_2.txt', 'raw/a_1.txt', 'raw/a-x_1.txt', 'raw/\u{1F600}_1.txt', 'raw/\uFFFD_1.txt', 'raw/\u{1F600}_2.txt', 'raw/b_3.txt');
    const g = graphOf(r, ['all'], fs);
    assert.deepEqual(g.jobs[0]!.inputs, ['out/a.txt', 'out/a-x.txt', 'out/b.txt', 'out/\uFFFD.txt', 'out/\u{1F600}.txt']);
  });

  test('expand in a pattern rule uses the job\'s own wildcards', () => {
    const r = yaml`
      rules:
        merge:
          inputs:
            - expand: "reps/{sample}_{rep}.txt"
              rep: [1, 2, 3]
          outputs: "merged/{sample}.txt"
          run: cat {input} > {output}
    `;
    const fs = new FakeFileSystem().write('reps/s1_1.txt', 'reps/s1_2.txt', 'reps/s1_3.txt');
    const g = graphOf(r, ['merged/s1.txt'], fs);
    assert.deepEqual(g.jobs[0]!.inputs, ['reps/s1_1.txt', 'reps/s1_2.txt', 'reps/s1_3.txt']);
  });

  test('glob inputs match files on disk, sorted by code point', () => {
    const r = yaml`
      rules:
        combine:
          inputs: { frames: "raw/bias_*.fits" }
          outputs: calib/bias.fits
          run: cat {inputs.frames} > {output}
    `;
    const fs = new FakeFileSystem().write('raw/bias_b.fits', 'raw/bias_B.fits', 'raw/bias_\u{1F600}.fits', 'raw/bias_\uFF5E.fits', 'raw/flat_1.fits');
    const g = graphOf(r, ['calib/bias.fits'], fs);
    assert.deepEqual(g.jobs[0]!.inputs, ['raw/bias_B.fits', 'raw/bias_b.fits', 'raw/bias_\uFF5E.fits', 'raw/bias_\u{1F600}.fits']);
  });

  test('** globs descend into directories', () => {
    const r = yaml`
      rules:
        all:
          inputs: "data/**/*.csv"
    `;
    const fs = new FakeFileSystem().write('data/a.csv', 'data/x/b.csv', 'data/x/y/c.csv', 'data/x/d.txt');
    const g = graphOf(r, ['all'], fs);
    assert.deepEqual(g.jobs[0]!.inputs, ['data/a.csv', 'data/x/b.csv', 'data/x/y/c.csv']);
  });

  test('duplicate inputs are listed once; order-only inputs are kept apart', () => {
    const r = yaml`
      rules:
        j:
          inputs: [a.txt, b.txt, a.txt]
          order_only: [dir.stamp]
          outputs: out.txt
          run: cat {input} > {output}
    `;
    const g = graphOf(r, ['out.txt'], new FakeFileSystem().write('a.txt', 'b.txt', 'dir.stamp'));
    assert.deepEqual(g.jobs[0]!.inputs, ['a.txt', 'b.txt']);
    assert.deepEqual(g.jobs[0]!.orderOnly, ['dir.stamp']);
  });

  test('duplicate inputs among many, made by jobs or not, are listed once; each output of a job making two is kept', () => {
    const r = yaml`
      rules:
        all:
          inputs:
            - expand: "out/{n}.txt"
              n: [${Array.from({ length: 20 }, (_, i) => i + 1).join(', ')}]
            - out/3.txt
            - pair.a
            - pair.b
            - pair.a
            - src.txt
            - out/20.txt
            - src.txt
        step:
          outputs: "out/{n}.txt"
          run: touch {output}
        pair:
          outputs: [pair.a, pair.b]
          run: touch {outputs}
    `;
    const g = graphOf(r, ['all'], new FakeFileSystem().write('src.txt'));
    const outs = Array.from({ length: 20 }, (_, i) => `out/${i + 1}.txt`);
    assert.deepEqual(g.jobs[0]!.inputs, [...outs, 'pair.a', 'pair.b', 'src.txt']);
    assert.deepEqual(g.jobs[0]!.deps.map((d) => d.name), [...outs, 'pair.a']);
  });

  test('a job naming its own output twice as an input is told once', () => {
    const r = yaml`
      rules:
        j:
          inputs: [a.txt, x.out, b.txt, x.out]
          outputs: x.out
          run: cat {input} > {output}
    `;
    const message = errorOf(() => graphOf(r, ['x.out'], new FakeFileSystem().write('a.txt', 'b.txt')));
    assert.equal(message.split('both an input and an output').length, 2, message);
  });

  test('dependents in job order; the jobs only one job needs share one list of it, which a growing graph copies', () => {
    const r = yaml`
      rules:
        all:
          inputs: [a.out, b.out, both.out]
        step:
          inputs: "{x}.in"
          outputs: "{x}.out"
          run: cp {input} {output}
        both:
          inputs: [a.out, b.in]
          outputs: both.out
          run: cat {input} > {output}
    `;
    const g = graphOf(r, ['all'], new FakeFileSystem().write('a.in', 'b.in'));
    const [all, a, b, both] = g.jobs;
    assert.deepEqual([all, a, b, both].map((j) => j!.name), ['all', 'a.out', 'b.out', 'both.out']);
    assert.deepEqual(a!.dependents, [all, both]);
    assert.deepEqual(b!.dependents, [all]);
    assert.equal(b!.dependents, both!.dependents, 'one list of all');
    assert.ok(Object.isFrozen(b!.dependents));
    assert.deepEqual(all!.dependents, []);
  });

  test('jobs are numbered breadth-first in declaration order', () => {
    const r = yaml`
      rules:
        all:
          inputs: [b.out, a.out]
        step:
          inputs: "{x}.in"
          outputs: "{x}.out"
          run: cp {input} {output}
    `;
    const g = graphOf(r, ['all'], new FakeFileSystem().write('a.in', 'b.in'));
    assert.deepEqual(g.jobs.map((j) => j.name), ['all', 'b.out', 'a.out']);
  });
});

describe('globs and symbolic links', () => {
  const rules = yaml`
    rules:
      all:
        inputs: ["raw/*.txt", sum.txt]
      sum:
        inputs:
          - expand: "raw/{x}.txt"
            x: { glob: "raw/{x}.txt" }
        outputs: sum.txt
        run: cat {inputs} > {output}
  `;

  test('a dangling link is no input and no expand value, and is warned of once, where the first glob is', () => {
    const fs = new FakeFileSystem().write('raw/a.txt', 'raw/b.txt').link('raw/c.txt', 'gone.txt').link('raw/self', 'self');
    const g = graphOf(rules, ['all'], fs);
    assert.deepEqual(g.jobs[0]!.inputs, ['raw/a.txt', 'raw/b.txt', 'sum.txt']);
    assert.deepEqual(g.jobs[1]!.inputs, ['raw/a.txt', 'raw/b.txt']);
    assert.deepEqual(g.globs.get('raw/*.txt'), ['raw/a.txt', 'raw/b.txt']);
    assert.deepEqual(g.warnings, [
      { message: "the glob 'raw/*.txt' skips 'raw/c.txt': a symbolic link to nothing", loc: { file: 'Rulefile', line: 3, col: 14 } },
    ]);
  });

  test('a tree without bad entries gives no warnings', () => {
    const g = graphOf(rules, ['all'], new FakeFileSystem().write('raw/a.txt').link('raw/b.txt', 'a.txt'));
    assert.deepEqual(g.jobs[0]!.inputs, ['raw/a.txt', 'raw/b.txt', 'sum.txt']);
    assert.deepEqual(g.warnings, []);
  });

  test('** through a link to an ancestor gives each file once', () => {
    const r = yaml`
      rules:
        all:
          inputs: "data/**/*.csv"
    `;
    const fs = new FakeFileSystem().write('data/a.csv', 'data/x/b.csv').link('data/x/up', '..');
    const g = graphOf(r, ['all'], fs);
    assert.deepEqual(g.jobs[0]!.inputs, ['data/a.csv', 'data/x/b.csv']);
    assert.deepEqual(g.warnings, []);
  });
});

describe('cycles and endless chains', () => {
  test('a cycle is printed as the paths that close it', () => {
    const r = yaml`
      rules:
        a:
          inputs: b.txt
          outputs: a.txt
          run: cp {input} {output}
        b:
          inputs: a.txt
          outputs: b.txt
          run: cp {input} {output}
    `;
    assert.equal(errorOf(() => graphOf(r, ['a.txt'], new FakeFileSystem())), 'dependency cycle: a.txt -> b.txt -> a.txt');
  });

  test('a longer cycle through pattern rules', () => {
    const r = yaml`
      rules:
        x:
          inputs: "{n}.z"
          outputs: "{n}.x"
          run: cp {input} {output}
        y:
          inputs: "{n}.x"
          outputs: "{n}.y"
          run: cp {input} {output}
        z:
          inputs: "{n}.y"
          outputs: "{n}.z"
          run: cp {input} {output}
    `;
    assert.equal(errorOf(() => graphOf(r, ['k.x'], new FakeFileSystem())), 'dependency cycle: k.x -> k.z -> k.y -> k.x');
  });

  test('a rule that keeps needing its own outputs is stopped with a clear error', () => {
    const r = yaml`
      rules:
        unpack:
          inputs: "{name}.in"
          outputs: "{name}"
          run: cp {input} {output}
    `;
    assert.match(errorOf(() => graphOf(r, ['a'], new FakeFileSystem())), /rule 'unpack' keeps needing its own outputs/);
  });

  test('deep chains build without recursion limits', () => {
    const n = 20000;
    let text = 'rules:\n';
    for (let i = n; i >= 1; i--) text += `  r${i}:\n    inputs: f${i - 1}\n    outputs: f${i}\n    run: cp {input} {output}\n`;
    const g = graphOf(text, [`f${n}`], new FakeFileSystem().write('f0'));
    assert.equal(g.jobs.length, n);
    assert.equal(g.jobs[n - 1]!.name, 'f1');
  });
});

describe('default targets', () => {
  test('default: wins, else the first rule', () => {
    assert.deepEqual(defaultTargets(projectFrom('default: [b]\nrules:\n  a: {run: "true"}\n  b: {run: "true"}\n')), ['b']);
    assert.deepEqual(defaultTargets(projectFrom('rules:\n  a: {run: "true"}\n  b: {run: "true"}\n')), ['a']);
  });

  test('a first rule with wildcards cannot be the default', () => {
    const p = projectFrom('rules:\n  a:\n    outputs: "{x}.txt"\n    run: touch {output}\n');
    assert.match(errorOf(() => defaultTargets(p)), /first rule 'a' has wildcards/);
  });
});

describe('the default target with included rules (SPEC §1)', () => {
  /** A project whose Rulefile includes `more.yaml`. */
  function withInclude(rulefile: string, included: string): Project {
    const dir = mkdtempSync(join(tmpdir(), 'rules-default-'));
    try {
      writeFileSync(join(dir, 'Rulefile'), rulefile);
      writeFileSync(join(dir, 'more.yaml'), included);
      return loadProject({ cwd: dir });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const included = 'rules:\n  inc: {run: "true"}\n';

  test('an include written before the rules never gives the default', () => {
    const p = withInclude('include: [more.yaml]\nrules:\n  own: {run: "true"}\n  second: {run: "true"}\n', included);
    assert.equal(p.rules[0]!.name, 'inc');
    assert.deepEqual(defaultTargets(p), ['own']);
  });

  test('an include written after the rules does not either', () => {
    const p = withInclude('rules:\n  own: {run: "true"}\ninclude: [more.yaml]\n', included);
    assert.deepEqual(defaultTargets(p), ['own']);
  });

  test('a Rulefile without rules of its own needs a target or default:', () => {
    const p = withInclude('include: [more.yaml]\n', included);
    assert.match(errorOf(() => defaultTargets(p)), /has no rules of its own .*name a target, or set 'default:'/);
    assert.deepEqual(defaultTargets(withInclude('include: [more.yaml]\ndefault: inc\n', included)), ['inc']);
  });
});

describe('big inputs', () => {
  test('a glob and an expand over 150,000 files (no argument-count limits)', () => {
    const fs = new FakeFileSystem();
    const n = 150_000;
    for (let i = 0; i < n; i++) fs.write(`src/f${i}.txt`);
    const r = yaml`
      rules:
        all:
          inputs:
            - "src/*.txt"
            - expand: "src/{x}.txt"
              x: { glob: "src/{x}.txt" }
    `;
    const g = graphOf(r, ['all'], fs);
    assert.equal(g.jobs[0]!.inputs.length, n);
  });
});

describe('a mistyped target', () => {
  test('names the rule it is closest to, after the message of SPEC', () => {
    const r = yaml`
      rules:
        all:
          inputs: a.txt
        make_a:
          outputs: a.txt
          run: touch {output}
    `;
    assert.equal(errorOf(() => graphOf(r, ['alll'], new FakeFileSystem())), "no rule to make 'alll'\ndid you mean the rule 'all'?");
    assert.equal(errorOf(() => graphOf(r, ['zzz'], new FakeFileSystem())), "no rule to make 'zzz'");
  });
});
