// What loadProject builds from a valid Rulefile.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { findRulefile, loadProject } from '../../../src/rulefile/load.js';
import type { InputGroup, Project, Rule } from '../../../src/rulefile/model.js';
import type { Placeholder, Template } from '../../../src/rulefile/template.js';
import { load, makeProject, yaml } from './helpers.js';

function rule(p: Project, name: string): Rule {
  const r = p.rulesByName.get(name);
  assert.ok(r, `rule '${name}' exists`);
  return r;
}

/** Input groups as { name, sources } for easy comparison. */
function inputs(groups: InputGroup[]): { name?: string; items: string[] }[] {
  return groups.map((g) => (g.name === undefined ? { items: g.items.map((i) => i.template.source) } : { name: g.name, items: g.items.map((i) => i.template.source) }));
}

function placeholderTexts(t: Template | undefined): string[] {
  return (t?.placeholders ?? []).map((p: Placeholder) => p.text);
}

describe('finding the Rulefile', () => {
  test('Rulefile, then Rulefile.yaml, then Rulefile.yml', () => {
    const all = makeProject({ Rulefile: yaml('rules:', '  one: {run: x}'), 'Rulefile.yaml': yaml('rules:', '  two: {run: x}'), 'Rulefile.yml': yaml('rules:', '  three: {run: x}') });
    assert.deepEqual(loadProject({ cwd: all }).rules.map((r) => r.name), ['one']);
    const yamlYml = makeProject({ 'Rulefile.yaml': yaml('rules:', '  two: {run: x}'), 'Rulefile.yml': yaml('rules:', '  three: {run: x}') });
    const p = loadProject({ cwd: yamlYml });
    assert.deepEqual(p.rules.map((r) => r.name), ['two']);
    assert.equal(p.rulefile, 'Rulefile.yaml');
    const yml = makeProject({ 'Rulefile.yml': yaml('rules:', '  three: {run: x}') });
    assert.equal(loadProject({ cwd: yml }).rulefile, 'Rulefile.yml');
    assert.equal(findRulefile(yml), path.join(yml, 'Rulefile.yml'));
  });

  test('the project root is the directory of the Rulefile', () => {
    const dir = makeProject(yaml('rules:', '  a: {run: x}'));
    const p = loadProject({ cwd: dir });
    assert.equal(p.root, dir);
    assert.equal(p.rulefile, 'Rulefile');
    assert.deepEqual(p.files, [path.join(dir, 'Rulefile')]);
  });

  test('-f FILE: the root is that file’s directory', () => {
    const dir = makeProject({ 'pipe/My.rules': yaml('rules:', '  a: {run: x}'), Rulefile: yaml('rules:', '  other: {run: x}') });
    const p = loadProject({ cwd: dir, rulefile: 'pipe/My.rules' });
    assert.equal(p.root, path.join(dir, 'pipe'));
    assert.equal(p.rulefile, 'pipe/My.rules');
    assert.deepEqual(p.rules.map((r) => r.name), ['a']);
  });
});

describe('inputs', () => {
  test('a string', () => {
    const r = rule(load(yaml('rules:', '  a:', '    inputs: data/in.txt')), 'a');
    assert.deepEqual(inputs(r.inputs), [{ items: ['data/in.txt'] }]);
    const item = r.inputs[0]!.items[0]!;
    assert.equal(item.glob, false);
    assert.equal(item.expand, undefined);
    assert.deepEqual(item.loc, { file: 'Rulefile', line: 3, col: 13 });
  });

  test('a list', () => {
    const r = rule(load(yaml('rules:', '  a:', '    inputs:', '      - one.txt', '      - "raw/bias_*.fits"', '      - "src/**/*.c"', '      - "x/[ab].txt"')), 'a');
    assert.deepEqual(inputs(r.inputs), [{ items: ['one.txt', 'raw/bias_*.fits', 'src/**/*.c', 'x/[ab].txt'] }]);
    assert.deepEqual(r.inputs[0]!.items.map((i) => i.glob), [false, true, true, true]);
    assert.deepEqual(r.inputs[0]!.items.map((i) => i.loc.line), [4, 5, 6, 7]);
  });

  test('a named map, with a list as one value (map of lists)', () => {
    const r = rule(
      load(yaml('rules:', '  a:', '    inputs:', '      sci: "raw/sci_{f}.fits"', '      flats: [flat1.fits, flat2.fits]', '      bias: calib/bias.fits', '    outputs: "out/{f}.fits"', '    run: x {inputs.sci} {inputs.flats} {inputs.bias} {inputs} {input}')),
      'a',
    );
    assert.deepEqual(inputs(r.inputs), [
      { name: 'sci', items: ['raw/sci_{f}.fits'] },
      { name: 'flats', items: ['flat1.fits', 'flat2.fits'] },
      { name: 'bias', items: ['calib/bias.fits'] },
    ]);
    assert.equal(r.inputs[0]!.items[0]!.glob, false);
    assert.deepEqual(placeholderTexts(r.run), ['inputs.sci', 'inputs.flats', 'inputs.bias', 'inputs', 'input']);
  });

  test('a map of lists only', () => {
    const r = rule(load(yaml('rules:', '  a:', '    inputs:', '      left: [l1, l2]', '      right: [r1]')), 'a');
    assert.deepEqual(inputs(r.inputs), [
      { name: 'left', items: ['l1', 'l2'] },
      { name: 'right', items: ['r1'] },
    ]);
  });

  test('order_only is parsed like inputs, separately', () => {
    const r = rule(load(yaml('rules:', '  a:', '    inputs: a.txt', '    order_only: [dirs.stamp, "tools/*"]')), 'a');
    assert.deepEqual(inputs(r.inputs), [{ items: ['a.txt'] }]);
    assert.deepEqual(inputs(r.orderOnly), [{ items: ['dirs.stamp', 'tools/*'] }]);
    assert.equal(r.orderOnly[0]!.items[1]!.glob, true);
  });

  test('no inputs', () => {
    const r = rule(load(yaml('rules:', '  a: {run: x}')), 'a');
    assert.deepEqual(r.inputs, []);
    assert.deepEqual(r.orderOnly, []);
  });
});

describe('outputs', () => {
  test('a string: a literal output', () => {
    const r = rule(load(yaml('rules:', '  a:', '    outputs: calib/master_bias.fits', '    run: x > {output}')), 'a');
    assert.equal(r.phony, false);
    assert.equal(r.outputs.length, 1);
    const o = r.outputs[0]!;
    assert.equal(o.literal, 'calib/master_bias.fits');
    assert.equal(o.regex, undefined);
    assert.equal(o.literalChars, 'calib/master_bias.fits'.length);
    assert.equal(o.prefix, 'calib/master_bias.fits');
    assert.equal(o.name, undefined);
    assert.deepEqual(o.loc, { file: 'Rulefile', line: 3, col: 14 });
    assert.deepEqual(r.wildcards, []);
  });

  test('a named map, used as {outputs.NAME}', () => {
    const r = rule(load(yaml('rules:', '  a:', '    outputs:', '      table: "cat/{field}.csv"', '      plot: "plots/{field}.png"', '    run: mk --csv {outputs.table} --png {outputs.plot} {outputs}')), 'a');
    assert.deepEqual(r.outputs.map((o) => [o.name, o.template.source]), [
      ['table', 'cat/{field}.csv'],
      ['plot', 'plots/{field}.png'],
    ]);
    assert.deepEqual(r.wildcards, ['field']);
    assert.deepEqual(placeholderTexts(r.run), ['outputs.table', 'outputs.plot', 'outputs']);
  });

  test('a named output with a list of paths', () => {
    const r = rule(load(yaml('rules:', '  a:', '    outputs:', '      parts: [p1.txt, p2.txt]', '      index: idx.txt', '    run: x')), 'a');
    assert.deepEqual(r.outputs.map((o) => [o.name, o.literal]), [
      ['parts', 'p1.txt'],
      ['parts', 'p2.txt'],
      ['index', 'idx.txt'],
    ]);
  });

  test('literalChars, prefix and suffix of patterns', () => {
    const r = rule(load(yaml('rules:', '  a:', '    outputs:', '      - "calibrated/{frame}.fits"', '      - "{frame}"', '      - "x/{frame,[a-z]+}-{frame}.y"', '    run: x')), 'a');
    const [o1, o2, o3] = r.outputs;
    assert.equal(o1!.literalChars, 16);
    assert.equal(o1!.prefix, 'calibrated/');
    assert.equal(o1!.suffix, '.fits');
    assert.equal(o2!.literalChars, 0);
    assert.equal(o2!.prefix, '');
    assert.equal(o2!.suffix, '');
    assert.equal(o3!.literalChars, 5);
    assert.equal(o3!.prefix, 'x/');
    assert.equal(o3!.suffix, '.y');
  });

  test('a wildcard matches a non-empty string without /', () => {
    const o = rule(load(yaml('rules:', '  a:', '    outputs: "out/{n}.txt"', '    run: x')), 'a').outputs[0]!;
    assert.ok(o.regex);
    assert.equal(o.regex.exec('out/abc.txt')?.groups?.n, 'abc');
    assert.equal(o.regex.exec('out/a.b.txt')?.groups?.n, 'a.b');
    assert.equal(o.regex.test('out/.txt'), false);
    assert.equal(o.regex.test('out/a/b.txt'), false);
    assert.equal(o.regex.test('xout/a.txt'), false);
    assert.equal(o.regex.test('out/a.txt.bak'), false);
    assert.equal(o.regex.test('out/aXtxt'), false, 'the literal . is escaped');
  });

  test('{n,\\d{3}} compiles to a regex matching 007 but not 7a', () => {
    const r = rule(load(yaml('rules:', '  a:', "    outputs: 'out/{n,\\d{3}}.txt'", '    run: x')), 'a');
    const o = r.outputs[0]!;
    assert.deepEqual(r.wildcards, ['n']);
    assert.ok(o.regex);
    assert.equal(o.regex.exec('out/007.txt')?.groups?.n, '007');
    assert.equal(o.regex.test('out/7a.txt'), false);
    assert.equal(o.regex.test('out/0071.txt'), false);
    assert.equal(o.regex.test('out/07.txt'), false);
    assert.equal(o.literalChars, 'out/.txt'.length);
  });

  test('a regex may allow /', () => {
    const o = rule(load(yaml('rules:', '  a:', "    outputs: '{path,.+}/done.flag'", '    run: x')), 'a').outputs[0]!;
    assert.equal(o.regex!.exec('a/b/c/done.flag')?.groups?.path, 'a/b/c');
  });

  test('a regex with alternation stays inside its group', () => {
    const o = rule(load(yaml('rules:', '  a:', "    outputs: 'x_{band,g|r}.fits'", '    run: x')), 'a').outputs[0]!;
    assert.equal(o.regex!.test('x_g.fits'), true);
    assert.equal(o.regex!.test('x_r.fits'), true);
    assert.equal(o.regex!.test('x_g'), false);
    assert.equal(o.regex!.test('r.fits'), false);
  });

  test('a regex given once applies to every use of the wildcard, in every output', () => {
    const r = rule(load(yaml('rules:', '  a:', '    outputs:', "      - '{n,\\d+}.a'", '      - "{n}.b"', '    run: x')), 'a');
    assert.equal(r.outputs[1]!.regex!.test('12.b'), true);
    assert.equal(r.outputs[1]!.regex!.test('x.b'), false);
  });

  test('a repeated wildcard in one output must match the same value twice', () => {
    const o = rule(load(yaml('rules:', '  a:', '    outputs: "{x}/{x}.txt"', '    run: x')), 'a').outputs[0]!;
    assert.equal(o.regex!.exec('a/a.txt')?.groups?.x, 'a');
    assert.equal(o.regex!.test('ab/ab.txt'), true);
    assert.equal(o.regex!.test('a/b.txt'), false);
    assert.equal(o.regex!.test('ab/a.txt'), false);
  });

  test('regex metacharacters in literal text are matched literally', () => {
    const o = rule(load(yaml('rules:', '  a:', '    outputs: "r+s(1)^$|[{n}]?.txt"', '    run: x')), 'a').outputs[0]!;
    assert.equal(o.regex!.exec('r+s(1)^$|[v]?.txt')?.groups?.n, 'v');
    assert.equal(o.regex!.test('rrs1v.txt'), false);
  });

  test('rule.wildcards is the order of first appearance in the first output', () => {
    const r = rule(load(yaml('rules:', '  a:', '    outputs: ["{b}/{a}/{b}_{c}.txt", "{c}-{a}-{b}.log"]', '    run: x')), 'a');
    assert.deepEqual(r.wildcards, ['b', 'a', 'c']);
  });

  test('wildcards may be used in inputs, log, params, env and run', () => {
    const r = rule(
      load(yaml('rules:', '  a:', '    inputs: "raw/{f}.fits"', '    outputs: "cal/{f}.fits"', '    log: "logs/{f}.log"', '    params: {tag: "t_{f}"}', '    env: {FRAME: "{f}"}', '    run: cal {f} {wildcards.f} {params.tag} {log} > {output}')),
      'a',
    );
    assert.equal(r.log!.source, 'logs/{f}.log');
    assert.equal(r.params[0]!.items[0]!.source, 't_{f}');
    assert.equal(r.env[0]!.value.source, '{f}');
    assert.deepEqual(placeholderTexts(r.run), ['f', 'wildcards.f', 'params.tag', 'log', 'output']);
  });

  test('{{ and }} are literal braces in run', () => {
    const r = rule(load(yaml('rules:', '  a:', "    run: awk '{{print $1}}' {input}", '    inputs: x')), 'a');
    assert.deepEqual(placeholderTexts(r.run), ['input']);
    assert.equal(r.run!.parts[0], "awk '{print $1}' ");
  });
});

describe('expand items', () => {
  test('with a list of values (numbers become strings)', () => {
    const r = rule(load(yaml('rules:', '  all:', '    inputs:', '      - expand: "phot/{frame}_{band}.csv"', '        frame: [f1, f2]', '        band: [1, 2]')), 'all');
    const item = r.inputs[0]!.items[0]!;
    assert.equal(item.template.source, 'phot/{frame}_{band}.csv');
    assert.deepEqual(item.expand, [
      { name: 'frame', source: { kind: 'list', values: ['f1', 'f2'] } },
      { name: 'band', source: { kind: 'list', values: ['1', '2'] } },
    ]);
    assert.equal(item.glob, false);
    assert.deepEqual(item.loc, { file: 'Rulefile', line: 4, col: 9 });
  });

  test('an expand item directly as the inputs map', () => {
    const r = rule(load(yaml('rules:', '  all:', '    inputs: {expand: "o/{x}.txt", x: [a, b]}')), 'all');
    assert.equal(r.inputs.length, 1);
    assert.equal(r.inputs[0]!.name, undefined);
    assert.deepEqual(r.inputs[0]!.items[0]!.expand, [{ name: 'x', source: { kind: 'list', values: ['a', 'b'] } }]);
  });

  test('an expand item inside a named input', () => {
    const r = rule(load(yaml('rules:', '  all:', '    inputs:', '      tables:', '        expand: "t/{x}.csv"', '        x: [a]', '    run: cat {inputs.tables}')), 'all');
    assert.equal(r.inputs[0]!.name, 'tables');
    assert.deepEqual(r.inputs[0]!.items[0]!.expand, [{ name: 'x', source: { kind: 'list', values: ['a'] } }]);
  });

  test('with {config: frames}', () => {
    const r = rule(load(yaml('config:', '  frames: [f1, f2, 3]', 'rules:', '  all:', '    inputs:', '      - expand: "phot/{frame}.csv"', '        frame: {config: frames}')), 'all');
    assert.deepEqual(r.inputs[0]!.items[0]!.expand, [{ name: 'frame', source: { kind: 'list', values: ['f1', 'f2', '3'] } }]);
  });

  test('with {config: a.b} nested, overridden by --config', () => {
    const p = load(yaml('config:', '  obs: {frames: [f1]}', 'rules:', '  all:', '    inputs:', '      - expand: "phot/{frame}.csv"', '        frame: {config: obs.frames}'), {
      configOverrides: ['obs.frames=[g1, g2]'],
    });
    assert.deepEqual(rule(p, 'all').inputs[0]!.items[0]!.expand, [{ name: 'frame', source: { kind: 'list', values: ['g1', 'g2'] } }]);
  });

  test('with {glob: ...}', () => {
    const r = rule(load(yaml('rules:', '  all:', '    inputs:', '      - expand: "phot/{frame}.csv"', '        frame: {glob: "raw/sci_{frame}.fits"}')), 'all');
    const src = r.inputs[0]!.items[0]!.expand![0]!;
    assert.equal(src.name, 'frame');
    assert.equal(src.source.kind, 'glob');
    assert.ok(src.source.kind === 'glob');
    assert.equal(src.source.pattern.source, 'raw/sci_{frame}.fits');
  });

  test('in a pattern rule, the template may use the rule’s own wildcards; only listed names expand', () => {
    const r = rule(load(yaml('rules:', '  merge:', '    inputs:', '      - expand: "reps/{sample}_{rep}.txt"', '        rep: [1, 2, 3]', '    outputs: "merged/{sample}.txt"', '    run: cat {inputs} > {output}')), 'merge');
    const item = r.inputs[0]!.items[0]!;
    assert.deepEqual(item.expand, [{ name: 'rep', source: { kind: 'list', values: ['1', '2', '3'] } }]);
    assert.deepEqual(placeholderTexts(item.template), ['sample', 'rep']);
  });

  test('a glob source in a pattern rule may use the rule’s wildcards', () => {
    const r = rule(load(yaml('rules:', '  merge:', '    inputs:', '      - expand: "reps/{sample}_{rep}.txt"', '        rep: {glob: "raw/{sample}_{rep}.fq"}', '    outputs: "merged/{sample}.txt"', '    run: x')), 'merge');
    assert.equal(r.inputs[0]!.items[0]!.expand![0]!.source.kind, 'glob');
  });
});

describe('config bound into paths at load time', () => {
  const text = yaml(
    'config:',
    '  version: v2',
    '  dir: "odd{dir}"',
    'rules:',
    '  a:',
    '    inputs: "data/{config.version}/{n}.csv"',
    '    outputs: "out/{config.version}/{n}.txt"',
    '    log: "logs/{config.version}.log"',
    '    run: proc --v {config.version} {input} > {output}',
    '  b:',
    '    outputs: "{config.dir}/x.txt"',
    '    run: x',
  );

  test('{config.x} in inputs, outputs and log is replaced by its value', () => {
    const r = rule(load(text), 'a');
    assert.equal(r.inputs[0]!.items[0]!.template.source, 'data/v2/{n}.csv');
    assert.equal(r.outputs[0]!.template.source, 'out/v2/{n}.txt');
    assert.equal(r.outputs[0]!.literalChars, 'out/v2/.txt'.length);
    assert.equal(r.outputs[0]!.regex!.exec('out/v2/k.txt')?.groups?.n, 'k');
    assert.deepEqual(r.wildcards, ['n']);
    assert.equal(r.log!.source, 'logs/v2.log');
    assert.deepEqual(r.log!.placeholders, []);
    // run keeps the placeholder: it is quoted when the command is rendered.
    assert.deepEqual(placeholderTexts(r.run), ['config.version', 'input', 'output']);
  });

  test('the value given with --config is the one bound', () => {
    const r = rule(load(text, { configOverrides: ['version=v3'] }), 'a');
    assert.equal(r.outputs[0]!.template.source, 'out/v3/{n}.txt');
    assert.equal(r.outputs[0]!.regex!.test('out/v3/k.txt'), true);
    assert.equal(r.outputs[0]!.regex!.test('out/v2/k.txt'), false);
  });

  test('braces in a bound config value are literal', () => {
    const o = rule(load(text), 'b').outputs[0]!;
    assert.equal(o.literal, 'odd{dir}/x.txt');
    assert.deepEqual(o.template.placeholders, []);
  });
});

describe('other rule keys', () => {
  test('description, params, resources, log, retries, env, always', () => {
    const r = rule(
      load(
        yaml(
          'rules:',
          '  a:',
          '    description: Median-combine bias frames',
          '    outputs: "o/{n}.txt"',
          '    params:',
          '      threshold: "{config.t}"',
          '      n: 3',
          '      fast: true',
          '      words: [a, "{n}"]',
          '      opts: {x: 1}',
          '    resources: {cpus: 4, mem_mb: 2000, gpu: 0.5}',
          '    log: "logs/{n}.log"',
          '    retries: 2',
          '    env: {OMP_NUM_THREADS: 1, MODE: "m_{n}"}',
          '    always: true',
          '    run: x {params.threshold} {params.n} {resources.gpu} {resources.cpus} {log} > {output}',
          'config: {t: 3.5}',
        ),
      ),
      'a',
    );
    assert.equal(r.description, 'Median-combine bias frames');
    assert.deepEqual(
      r.params.map((p) => ({ name: p.name, list: p.list, items: p.items.map((t) => t.source) })),
      [
        { name: 'threshold', list: false, items: ['{config.t}'] },
        { name: 'n', list: false, items: ['3'] },
        { name: 'fast', list: false, items: ['true'] },
        { name: 'words', list: true, items: ['a', '{n}'] },
        { name: 'opts', list: false, items: ['{{"x":1}}'] },
      ],
    );
    assert.deepEqual(r.params[4]!.items[0]!.placeholders, []);
    assert.deepEqual([...r.resources.entries()], [
      ['cpus', 4],
      ['mem_mb', 2000],
      ['gpu', 0.5],
    ]);
    assert.equal(r.log!.source, 'logs/{n}.log');
    assert.equal(r.retries, 2);
    assert.deepEqual(r.env.map((e) => [e.name, e.value.source]), [
      ['OMP_NUM_THREADS', '1'],
      ['MODE', 'm_{n}'],
    ]);
    assert.equal(r.always, true);
    assert.equal(r.phony, false);
  });

  test('defaults: cpus 1, retries 0, always false, no log, no description', () => {
    const r = rule(load(yaml('rules:', '  a: {run: x}')), 'a');
    assert.deepEqual([...r.resources.entries()], [['cpus', 1]]);
    assert.equal(r.retries, 0);
    assert.equal(r.always, false);
    assert.equal(r.log, undefined);
    assert.equal(r.description, undefined);
    assert.deepEqual(r.params, []);
    assert.deepEqual(r.env, []);
    assert.equal(r.phony, true);
    assert.deepEqual(r.outputs, []);
  });

  test('{resources.cpus} is always known', () => {
    const r = rule(load(yaml('rules:', '  a: {run: "make -j{resources.cpus}"}')), 'a');
    assert.deepEqual(placeholderTexts(r.run), ['resources.cpus']);
  });

  test('a phony rule needs no run', () => {
    const r = rule(load(yaml('rules:', '  all:', '    inputs: [a, b]')), 'all');
    assert.equal(r.phony, true);
    assert.equal(r.run, undefined);
  });

  test('rule location and index', () => {
    const p = load(yaml('rules:', '  first: {run: x}', '', '  second:', '    run: y'));
    assert.deepEqual(rule(p, 'first').loc, { file: 'Rulefile', line: 2, col: 3 });
    assert.deepEqual(rule(p, 'second').loc, { file: 'Rulefile', line: 4, col: 3 });
    assert.deepEqual(p.rules.map((r) => r.index), [0, 1]);
  });
});

describe('includes and rule order', () => {
  const files = (includeFirst: boolean) => ({
    Rulefile: includeFirst ? yaml('include: ["rules/*.yaml"]', 'rules:', '  main1: {run: x}', '  main2: {run: x}') : yaml('rules:', '  main1: {run: x}', '  main2: {run: x}', 'include: ["rules/*.yaml"]'),
    'rules/b.yaml': yaml('rules:', '  b1: {run: x}'),
    'rules/a.yaml': yaml('rules:', '  a1: {run: x}', '  a2: {run: x}'),
  });

  test('include placed before rules: included rules come first (includes sorted by name)', () => {
    const p = load(files(true));
    assert.deepEqual(p.rules.map((r) => r.name), ['a1', 'a2', 'b1', 'main1', 'main2']);
    assert.deepEqual(p.rules.map((r) => r.index), [0, 1, 2, 3, 4]);
    assert.deepEqual(p.files.map((f) => path.relative(p.root, f)), ['Rulefile', 'rules/a.yaml', 'rules/b.yaml']);
    assert.deepEqual(rule(p, 'b1').loc, { file: 'rules/b.yaml', line: 2, col: 3 });
  });

  test('include placed after rules: the Rulefile’s rules come first', () => {
    const p = load(files(false));
    assert.deepEqual(p.rules.map((r) => r.name), ['main1', 'main2', 'a1', 'a2', 'b1']);
    assert.deepEqual(p.rules.map((r) => r.index), [0, 1, 2, 3, 4]);
  });

  test('include as a single string, and literal paths keep their listed order', () => {
    const p = load({
      Rulefile: yaml('include: [z.yaml, a.yaml]', 'rules:', '  m: {run: x}'),
      'z.yaml': yaml('rules:', '  z: {run: x}'),
      'a.yaml': yaml('rules:', '  a: {run: x}'),
    });
    assert.deepEqual(p.rules.map((r) => r.name), ['z', 'a', 'm']);
    const q = load({ Rulefile: yaml('include: one.yaml', 'rules:', '  m: {run: x}'), 'one.yaml': yaml('rules:', '  o: {run: x}') });
    assert.deepEqual(q.rules.map((r) => r.name), ['o', 'm']);
  });

  test('a file included twice, or the Rulefile itself, is read once', () => {
    const p = load({
      Rulefile: yaml('include: [a.yaml, "*.yaml", Rulefile]', 'rules:', '  m: {run: x}'),
      'a.yaml': yaml('rules:', '  a: {run: x}'),
    });
    assert.deepEqual(p.rules.map((r) => r.name), ['a', 'm']);
    assert.equal(p.files.length, 2);
  });

  test('a project whose rules all come from includes', () => {
    const p = load({ Rulefile: yaml('include: ["rules/*.yaml"]'), 'rules/x.yaml': yaml('rules:', '  x: {run: x}') });
    assert.deepEqual(p.rules.map((r) => r.name), ['x']);
  });

  test('an include glob skips a dangling link, with a warning where the glob is', () => {
    const dir = makeProject({ Rulefile: yaml('include: ["rules/*.yaml"]', 'rules:', '  m: {run: x}'), 'rules/x.yaml': yaml('rules:', '  x: {run: x}') });
    fs.symlinkSync('moved-away.yaml', path.join(dir, 'rules/old.yaml'));
    const p = loadProject({ cwd: dir });
    assert.deepEqual(p.rules.map((r) => r.name), ['x', 'm']);
    assert.deepEqual(p.globs.get('rules/*.yaml'), ['rules/x.yaml']);
    assert.deepEqual(p.warnings, [
      { message: "the glob 'rules/*.yaml' skips 'rules/old.yaml': a symbolic link to nothing", loc: { file: 'Rulefile', line: 1, col: 11 } },
    ]);
    assert.deepEqual(load({ Rulefile: yaml('include: ["rules/*.yaml"]'), 'rules/x.yaml': yaml('rules:', '  x: {run: x}') }).warnings, []);
  });

  test('an included file may hold only config', () => {
    const p = load({ Rulefile: yaml('include: defaults.yaml', 'rules:', '  a: {run: "echo {config.k}"}'), 'defaults.yaml': yaml('config:', '  k: 1') });
    assert.equal(p.config.get(['k']), 1);
  });

  test('an empty included file is fine', () => {
    const p = load({ Rulefile: yaml('include: empty.yaml', 'rules:', '  a: {run: x}'), 'empty.yaml': '' });
    assert.deepEqual(p.rules.map((r) => r.name), ['a']);
  });
});

describe('configuration precedence', () => {
  const files = {
    Rulefile: yaml(
      'include: ["conf/*.yaml"]', //   1
      'config:', //                    2
      '  threshold: 3', //             3
      '  fit:', //                     4
      '    order: 2', //               5
      '  frames: [f1, f2]', //         6
      'rules:', //                     7
      '  a: {run: "x {config.threshold}"}', // 8
    ),
    'conf/a.yaml': yaml(
      'config:', //                    1
      '  threshold: 1', //             2
      '  fit:', //                     3
      '    order: 1', //               4
      '    method: lsq', //            5
      '  frames: [x, y, z]', //        6
      '  only_a: a', //                7
      '  shared: from_a', //           8
    ),
    'conf/b.yaml': yaml('config:', '  threshold: 2', '  shared: from_b'),
    'c1.yaml': yaml('threshold: 4', 'fit:', '  tol: 0.1'),
    'c2.json': JSON.stringify({ threshold: 5, frames: ['j1'], fit: { order: 7 } }),
  };

  test('include config < Rulefile config; later include wins; maps merge deeply; lists replaced', () => {
    const p = load(files);
    assert.deepEqual(p.config.values, {
      threshold: 3,
      fit: { order: 2, method: 'lsq' },
      frames: ['f1', 'f2'],
      only_a: 'a',
      shared: 'from_b',
    });
    const origins = Object.fromEntries(p.config.leaves().map((l) => [l.path, l.origin]));
    assert.deepEqual(origins, {
      threshold: 'Rulefile:3',
      'fit.order': 'Rulefile:5',
      'fit.method': 'conf/a.yaml:5',
      frames: 'Rulefile:6',
      only_a: 'conf/a.yaml:7',
      shared: 'conf/b.yaml:3',
    });
  });

  test('--configfile (YAML and JSON) overrides the Rulefile; the later file wins', () => {
    const p = load(files, { configFiles: ['c1.yaml', 'c2.json'] });
    assert.deepEqual(p.config.values, {
      threshold: 5,
      fit: { order: 7, method: 'lsq', tol: 0.1 },
      frames: ['j1'],
      only_a: 'a',
      shared: 'from_b',
    });
    const origins = Object.fromEntries(p.config.leaves().map((l) => [l.path, l.origin]));
    assert.equal(origins.threshold, '--configfile c2.json');
    assert.equal(origins['fit.order'], '--configfile c2.json');
    assert.equal(origins['fit.tol'], '--configfile c1.yaml');
    assert.equal(origins['fit.method'], 'conf/a.yaml:5');
    assert.equal(origins.frames, '--configfile c2.json');

    const q = load(files, { configFiles: ['c2.json', 'c1.yaml'] });
    assert.equal(q.config.get(['threshold']), 4);
    assert.equal(q.config.get(['fit', 'order']), 7);
  });

  test('--config overrides everything; its value is parsed as YAML', () => {
    const p = load(files, {
      configFiles: ['c1.yaml', 'c2.json'],
      configOverrides: ['threshold=6.5', 'n=5', 'frames=[a,b]', 'fit.order=9', 'name=hello world', 'flag=true', 's="5"', 'empty=', 'm={k: v}'],
    });
    assert.equal(p.config.get(['threshold']), 6.5);
    assert.equal(p.config.get(['n']), 5);
    assert.deepEqual(p.config.get(['frames']), ['a', 'b']);
    assert.deepEqual(p.config.get(['fit']), { order: 9, method: 'lsq', tol: 0.1 });
    assert.equal(p.config.get(['name']), 'hello world');
    assert.equal(p.config.get(['flag']), true);
    assert.equal(p.config.get(['s']), '5');
    assert.equal(p.config.get(['empty']), null);
    assert.deepEqual(p.config.get(['m']), { k: 'v' });
    const origins = Object.fromEntries(p.config.leaves().map((l) => [l.path, l.origin]));
    assert.equal(origins.threshold, '--config');
    assert.equal(origins['fit.order'], '--config');
    assert.equal(origins['fit.tol'], '--configfile c1.yaml');
    assert.equal(origins['m.k'], '--config');
    assert.equal(origins.frames, '--config');
  });

  test('a later --config wins over an earlier one', () => {
    const p = load(files, { configOverrides: ['threshold=1', 'threshold=2'] });
    assert.equal(p.config.get(['threshold']), 2);
  });

  test('--config replacing a map with a scalar drops the map’s leaves', () => {
    const p = load(files, { configOverrides: ['fit=none'] });
    assert.equal(p.config.get(['fit']), 'none');
    const leaves = p.config.leaves().filter((l) => l.path.startsWith('fit'));
    assert.deepEqual(leaves, [{ path: 'fit', value: 'none', origin: '--config' }]);
  });

  test('config leaves are listed with value and origin', () => {
    const p = load(files);
    assert.deepEqual(p.config.leaves()[0], { path: 'threshold', value: 3, origin: 'Rulefile:3' });
  });

  test('parseConfigOverride returns a layer', async () => {
    const { parseConfigOverride } = await import('../../../src/rulefile/load.js');
    const l = parseConfigOverride('a.b=[1, 2]');
    assert.deepEqual(l.values, { a: { b: [1, 2] } });
    assert.deepEqual([...l.origins.entries()], [['a.b', '--config']]);
    assert.deepEqual(parseConfigOverride('x=a=b').values, { x: 'a=b' });
    assert.deepEqual(parseConfigOverride('my-key_2=1').values, { 'my-key_2': 1 });
  });

  test('a --configfile given relative to cwd', () => {
    const dir = makeProject({ 'proj/Rulefile': yaml('rules:', '  a: {run: x}'), 'c.yaml': yaml('k: 1') });
    const p = loadProject({ cwd: dir, rulefile: 'proj/Rulefile', configFiles: ['c.yaml'] });
    assert.equal(p.config.get(['k']), 1);
  });
});

describe('default, shell and env', () => {
  test('default as a string', () => {
    assert.deepEqual(load(yaml('default: all', 'rules:', '  all: {run: x}')).defaultTargets, ['all']);
  });

  test('default as a list', () => {
    assert.deepEqual(load(yaml('default: [a, out/b.txt]', 'rules:', '  a: {run: x}')).defaultTargets, ['a', 'out/b.txt']);
  });

  test('no default', () => {
    assert.equal(load(yaml('rules:', '  a: {run: x}')).defaultTargets, undefined);
  });

  test('shell is split into argv; default /bin/sh -c', () => {
    assert.deepEqual(load(yaml('shell: bash -euo pipefail -c', 'rules:', '  a: {run: x}')).shell, ['bash', '-euo', 'pipefail', '-c']);
    assert.deepEqual(load(yaml('shell: "  zsh   -c  "', 'rules:', '  a: {run: x}')).shell, ['zsh', '-c']);
    assert.deepEqual(load(yaml('rules:', '  a: {run: x}')).shell, ['/bin/sh', '-c']);
  });

  test('top-level env: strings, and numbers/booleans as strings', () => {
    const p = load(yaml('env: {OMP_NUM_THREADS: 1, LANG: C.UTF-8, DEBUG: true, RATIO: 0.5}', 'rules:', '  a: {run: x}'));
    assert.deepEqual(p.env, { OMP_NUM_THREADS: '1', LANG: 'C.UTF-8', DEBUG: 'true', RATIO: '0.5' });
  });

  test('no env', () => {
    assert.deepEqual(load(yaml('rules:', '  a: {run: x}')).env, {});
  });
});

describe('YAML features', () => {
  test('anchors and aliases for whole values', () => {
    const p = load(yaml('rules:', '  a:', '    inputs: &ins [x.txt, y.txt]', '    run: cat {inputs}', '  b:', '    inputs: *ins', '    run: wc {inputs}'));
    assert.deepEqual(inputs(rule(p, 'b').inputs), [{ items: ['x.txt', 'y.txt'] }]);
  });

  test('a whole rule given as an alias', () => {
    const p = load(yaml('rules:', '  a: &r', '    run: echo hi', '  b: *r'));
    assert.deepEqual(p.rules.map((r) => r.name), ['a', 'b']);
    assert.equal(rule(p, 'b').run!.source, 'echo hi');
  });

  test('merge keys (<<: *common) in rules', () => {
    const p = load(
      yaml(
        'rules:',
        '  base: &common',
        '    resources: {cpus: 2}',
        '    retries: 1',
        '    run: echo base',
        '  fit:',
        '    <<: *common',
        '    outputs: fit.txt',
        '    run: fit > {output}',
      ),
    );
    const r = rule(p, 'fit');
    assert.equal(r.retries, 1);
    assert.equal(r.resources.get('cpus'), 2);
    assert.equal(r.run!.source, 'fit > {output}', 'the rule’s own key wins over the merged one');
    assert.equal(r.outputs[0]!.literal, 'fit.txt');
  });

  test('merge keys with a list of maps', () => {
    const p = load(yaml('rules:', '  a: &x {retries: 1, run: one}', '  b: &y {always: true, run: two}', '  c:', '    <<: [*x, *y]', '    description: merged'));
    const r = rule(p, 'c');
    assert.equal(r.retries, 1);
    assert.equal(r.always, true);
    assert.equal(r.run!.source, 'one', 'the first map in the merge list wins');
  });

  test('merge keys in config', () => {
    const p = load(yaml('config:', '  base: &b {order: 1, tol: 0.1}', '  fit:', '    <<: *b', '    order: 2', 'rules:', '  a: {run: "x {config.fit.tol}"}'));
    assert.deepEqual(p.config.get(['fit']), { order: 2, tol: 0.1 });
  });
});

describe('empty keys', () => {
  test('config: with every entry commented out is no config', () => {
    const p = load(yaml('config:', '  # threshold: 3', 'rules:', '  a: {run: x}'));
    assert.deepEqual(p.config.values, {});
  });

  test('an empty include: includes nothing', () => {
    const p = load(yaml('include:', 'rules:', '  a: {run: x}'));
    assert.equal(p.files.length, 1);
  });

  test('an empty env: is no env', () => {
    assert.deepEqual(load(yaml('env:', 'rules:', '  a: {run: x}')).env, {});
  });

  test('an empty rule key (inputs:) is treated as absent', () => {
    const r = rule(load(yaml('rules:', '  a:', '    inputs:', '    run: x')), 'a');
    assert.deepEqual(r.inputs, []);
  });
});

