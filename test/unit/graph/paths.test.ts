// Wildcard values and config values substituted into outputs and logs can
// still aim a job at the root, outside it or at .rules/: the graph refuses to
// make such a job, naming the rule and the place of the output or log.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGraph, declaredFor } from '../../../src/graph/build.js';
import { OutputIndex } from '../../../src/graph/match.js';
import type { Diagnostic } from '../../../src/util/errors.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { graphProblems, projectFrom, yaml } from '../../support/project.js';

function diagnosticsOf(rulefile: string, targets: string[], fs = new FakeFileSystem(), config: string[] = []): Diagnostic[] {
  return graphProblems(projectFrom(rulefile, config), targets, fs);
}

function place(d: Diagnostic): string {
  return d.loc ? `${d.loc.file}:${d.loc.line}:${d.loc.col}` : '(none)';
}

const byDir = yaml`
  rules:
    gen:
      outputs: "{dir}/{name}.out"
      log: "{dir}/{name}.log"
      run: make {output}
`;

describe('wildcard values that leave the root', () => {
  test('a target whose wildcard takes the value ".." (rules build ../esc.out)', () => {
    const ds = diagnosticsOf(byDir, ['../esc.out']);
    assert.equal(ds[0]!.message, "output '{dir}/{name}.out' of rule 'gen' is '../esc.out' for gen[dir=..,name=esc], which is outside the project root");
    assert.equal(place(ds[0]!), 'Rulefile:3:14');
    assert.equal(ds[1]!.message, "log '{dir}/{name}.log' of rule 'gen' is '../esc.log' for gen[dir=..,name=esc], which is outside the project root");
    assert.equal(place(ds[1]!), 'Rulefile:4:10');
    assert.equal(ds.length, 2);
  });

  test('a target spelled to reach outside after normalization (a/../../esc.out)', () => {
    const ds = diagnosticsOf(byDir, ['a/../../esc.out']);
    assert.match(ds[0]!.message, /is '\.\.\/esc\.out' for gen\[dir=\.\.,name=esc\], which is outside the project root/);
  });

  test('a wildcard taking ".", ".." or ".rules" as the whole output', () => {
    const whole = yaml`
      rules:
        gen:
          outputs: "{name}"
          run: make {output}
    `;
    assert.match(diagnosticsOf(whole, ['.'])[0]!.message, /is '\.' for gen\[name=\.\], which is the project root itself/);
    assert.match(diagnosticsOf(whole, ['keep/..'])[0]!.message, /is '\.' for gen\[name=\.\], which is the project root itself/);
    assert.match(diagnosticsOf(whole, ['..'])[0]!.message, /which is outside the project root/);
    assert.match(diagnosticsOf(whole, ['.rules'])[0]!.message, /which is inside \.rules\//);
  });

  test('a wildcard with its own regex reaching an absolute path', () => {
    const any = yaml`
      rules:
        gen:
          outputs: "{path,.*}.out"
          run: make {output}
    `;
    const [d] = diagnosticsOf(any, ['/etc/esc.out']);
    assert.match(d!.message, /is '\/etc\/esc\.out' for gen\[path=\/etc\/esc\], which is an absolute path/);
  });

  test('an expand over a config list holding ".." (--config dirs=[..]) names the job that needs it', () => {
    const rules = yaml`
      config:
        dirs: [a, b]
      rules:
        all:
          inputs:
            expand: "{d}/f.out"
            d: { config: dirs }
        gen:
          outputs: "{dir}/{name}.out"
          run: make {output}
    `;
    assert.equal(buildGraph(projectFrom(rules), ['all'], new FakeFileSystem()).jobs.length, 3, 'the plain config builds');
    const ds = diagnosticsOf(rules, ['all'], new FakeFileSystem(), ['dirs=[a, ..]']);
    assert.equal(ds.length, 1);
    assert.equal(ds[0]!.message, "output '{dir}/{name}.out' of rule 'gen' is '../f.out' for gen[dir=..,name=f] (needed by 'all'), which is outside the project root");
    assert.equal(place(ds[0]!), 'Rulefile:9:14');
  });

  test('an input path reaching outside through a wildcard is a source, never a job', () => {
    const rules = yaml`
      rules:
        use:
          inputs: "../shared/{name}.txt"
          outputs: "out/{name}.txt"
          run: cp {input} {output}
    `;
    const g = buildGraph(projectFrom(rules), ['out/a.txt'], new FakeFileSystem().write('../shared/a.txt'));
    assert.deepEqual(g.sources, ['../shared/a.txt']);
    assert.deepEqual(g.jobs.map((j) => j.outputs), [['out/a.txt']]);
  });
});

describe('paths that cannot be paths', () => {
  test('a NUL byte in an expand value is an error at the input, not a crash', () => {
    const rules = yaml`
      rules:
        all:
          inputs:
            expand: "in/{s}.txt"
            s: ["a", "b\\0c"]
    `;
    const ds = diagnosticsOf(rules, ['all'], new FakeFileSystem().write('in/a.txt'));
    assert.equal(ds.length, 1);
    assert.equal(ds[0]!.message, "input 'in/b\\0c.txt' of all contains a NUL byte");
    assert.equal(place(ds[0]!), 'Rulefile:4:7');
  });

  test('a target with a name over 255 bytes is an error, quickly', () => {
    const rules = yaml`
      rules:
        gen:
          inputs: "{n}.in"
          outputs: "{n}.txt"
          run: cp {input} {output}
    `;
    const t0 = Date.now();
    const ds = diagnosticsOf(rules, [`${'x'.repeat(100_000)}.txt`]);
    assert.ok(Date.now() - t0 < 2000, 'a huge name costs no more than its length');
    assert.equal(ds.length, 1);
    assert.match(ds[0]!.message, /^target 'x{60}…x{26}\.txt' has a component of 100004 bytes/);
  });

  test('a default target with a NUL byte', () => {
    const rules = yaml`
      default: "a\\0b"
      rules:
        gen:
          outputs: "{n}.txt"
          run: make {output}
    `;
    // Refused where it is written, before any graph is built.
    assert.throws(() => projectFrom(rules), /Rulefile:1:10: default target 'a\\0b' contains a NUL byte/);
  });
});

describe('normal form', () => {
  test('a literal output written ./out//a.txt is the file an input out/a.txt needs', () => {
    const rules = yaml`
      rules:
        make_a:
          outputs: ./out//a.txt
          run: make {output}
        use:
          inputs: out/./a.txt
          outputs: b.txt
          run: cp {input} {output}
    `;
    const g = buildGraph(projectFrom(rules), ['b.txt'], new FakeFileSystem());
    assert.deepEqual(g.sources, []);
    assert.deepEqual(g.jobs.map((j) => j.outputs), [['b.txt'], ['out/a.txt']]);
    assert.deepEqual(buildGraph(projectFrom(rules), ['make_a'], new FakeFileSystem()).jobs[0]!.outputs, ['out/a.txt']);
  });

  test('clean never takes a recorded path that no job may write as declared', () => {
    const index = new OutputIndex(projectFrom(byDir).rules);
    assert.deepEqual(declaredFor(index, 'a/b.out'), { outputs: ['a/b.out'], log: 'a/b.log' });
    assert.equal(declaredFor(index, '../b.out'), undefined);
    assert.equal(declaredFor(index, '.rules/b.out'), undefined);
  });
});
