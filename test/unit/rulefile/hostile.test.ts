// Hostile Rulefiles: alias bombs, recursive aliases, catastrophic wildcard
// regexes and floods of mistakes each end in a clear error, quickly.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Config, layerFromValues, type ConfigMap } from '../../../src/rulefile/config.js';
import { MAX_DIAGNOSTICS_PER_FILE, parseConfigOverride } from '../../../src/rulefile/load.js';
import { OutputIndex } from '../../../src/graph/match.js';
import { UserError } from '../../../src/util/errors.js';
import { errorsOf, expectOnlyError, load, yaml } from './helpers.js';

/** Runs `f`, and fails if it took longer than `ms` (generous bounds: the machine may be loaded). */
function within<T>(ms: number, f: () => T): T {
  const start = performance.now();
  const out = f();
  const took = performance.now() - start;
  assert.ok(took < ms, `took ${Math.round(took)} ms, more than ${ms} ms`);
  return out;
}

/** Ten levels of ten aliases each: 10^10 nodes if expanded. */
function billionLaughs(indent: string): string[] {
  const lines = [`${indent}l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]`];
  for (let i = 1; i < 10; i++) lines.push(`${indent}l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]`);
  return lines;
}

const ALIAS_LIMIT = /too many aliases \(YAML alias expansion limit\)/;

describe('alias bombs', () => {
  test('billion laughs in config is rejected at an alias, quickly', () => {
    const d = within(3000, () => expectOnlyError(yaml('config:', ...billionLaughs('  '), 'rules:', '  a: {run: x}'), { message: ALIAS_LIMIT }));
    assert.equal(d.loc?.file, 'Rulefile');
    assert.ok(d.loc!.line >= 2 && d.loc!.line <= 11, `points into the bomb, not at line ${d.loc!.line}`);
  });

  test('a 2^24 merge-key bomb is rejected, quickly', () => {
    const lines = ['config:', '  m0: &m0 {k: v}'];
    for (let i = 1; i <= 24; i++) lines.push(`  m${i}: &m${i} {<<: [*m${i - 1}, *m${i - 1}], k${i}: ${i}}`);
    within(3000, () => expectOnlyError(yaml(...lines, 'rules:', '  a: {run: x}'), { message: ALIAS_LIMIT }));
  });

  test('a bomb in params is rejected, quickly', () => {
    const ls = billionLaughs('      ').map((l) => l.replace(/^(\s*)l(\d+):/, '$1p$2:'));
    within(3000, () => expectOnlyError(yaml('rules:', '  a:', '    params:', ...ls, '    run: echo {params.p9}'), { message: ALIAS_LIMIT }));
  });

  test('a bomb in inputs is rejected, quickly', () => {
    const lines = ['      - &i0 [a, a, a, a, a, a, a, a, a, a]'];
    for (let i = 1; i < 10; i++) lines.push(`      - &i${i} [${Array(10).fill(`*i${i - 1}`).join(', ')}]`);
    within(3000, () => expectOnlyError(yaml('rules:', '  a:', '    inputs:', ...lines, '    run: x'), { message: ALIAS_LIMIT }));
  });

  test('a bomb in a --configfile is rejected with its place', () => {
    const bomb = yaml(...billionLaughs(''));
    const ds = within(3000, () => errorsOf({ Rulefile: yaml('rules:', '  a: {run: x}'), 'c.yaml': bomb }, { configFiles: ['c.yaml'] }));
    assert.equal(ds.length, 1);
    assert.match(ds[0]!.message, ALIAS_LIMIT);
    assert.equal(ds[0]!.loc?.file, 'c.yaml');
  });

  test('a bomb in a --config value is a user error', () => {
    const value = 'a=' + '{l0: &l0 [x, x, x, x, x, x, x, x, x, x], ' + Array.from({ length: 9 }, (_, i) => `l${i + 1}: &l${i + 1} [${Array(10).fill(`*l${i}`).join(', ')}]`).join(', ') + '}';
    assert.throws(() => within(3000, () => parseConfigOverride(value)), (e) => e instanceof UserError && ALIAS_LIMIT.test(e.message));
  });

  test('ordinary aliases and merge keys still load', () => {
    const p = load(
      yaml(
        'config:',
        '  base: &base {n: 1, list: &l [a, b]}',
        '  more: {<<: *base, m: 2, again: *l}',
        'rules:',
        '  a:',
        '    params: {p: *l, q: {<<: *base}}',
        '    run: echo {params.p} {params.q} {config.more.n} {config.more.again}',
      ),
    );
    assert.deepEqual(p.config.get(['more']), { m: 2, again: ['a', 'b'], n: 1, list: ['a', 'b'] });
    const q = p.rulesByName.get('a')!.params.find((x) => x.name === 'q')!;
    assert.equal(q.items[0]!.parts[0], '{"n":1,"list":["a","b"]}');
  });
});

describe('recursive and dangling aliases', () => {
  test('a map that merges itself', () => {
    expectOnlyError(yaml('config: &c {<<: *c}', 'rules:', '  a: {run: x}'), {
      message: "alias '*c' is inside the value it refers to (anchor '&c' at line 1, column 12)",
      line: 1,
      col: 17,
    });
  });

  test('a list that holds itself', () => {
    expectOnlyError(yaml('config:', '  l: &l [1, *l]', 'rules:', '  a: {run: x}'), { message: "alias '*l' is inside the value it refers to", line: 2, col: 13 });
  });

  test('a recursive alias in a block map of a rule', () => {
    expectOnlyError(yaml('rules:', '  a: &r', '    run: x', '    params: {me: *r}'), { message: "alias '*r' is inside", line: 4, col: 18 });
  });

  test('an alias without an anchor', () => {
    expectOnlyError(yaml('rules:', '  a: {inputs: [*nope], run: x}'), { message: "alias '*nope' has no anchor '&nope' before it", line: 2, col: 16 });
  });

  test('an alias before its anchor', () => {
    expectOnlyError(yaml('config: {a: *x, b: &x 1}', 'rules:', '  a: {run: x}'), { message: "alias '*x' has no anchor '&x' before it", line: 1, col: 13 });
  });

  test('recursion in a --configfile and in --config', () => {
    const ds = errorsOf({ Rulefile: yaml('rules:', '  a: {run: x}'), 'c.yaml': yaml('a: &a', '  b: *a') }, { configFiles: ['c.yaml'] });
    assert.equal(ds.length, 1);
    assert.match(ds[0]!.message, /alias '\*a' is inside/);
    assert.deepEqual(ds[0]!.loc, { file: 'c.yaml', line: 2, col: 6 });
    assert.throws(() => parseConfigOverride('a=&l [1, *l]'), (e) => e instanceof UserError && /--config a: alias '\*l' is inside/.test(e.message));
  });
});

describe('wildcard regular expressions', () => {
  test('a catastrophic pattern is refused at its place, within a second', () => {
    within(1000, () =>
      expectOnlyError(yaml('rules:', '  a:', '    outputs: "out/{s,(a+)+$}.txt"', '    run: x'), {
        message: "unsafe regular expression in '{s,(a+)+$}': the repeated group '(a+)+' contains a quantifier",
        line: 3,
        col: 19,
      }),
    );
  });

  test('backreferences and lookarounds are refused', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: "{s,(a)\\\\1}.txt"', '    run: x'), { message: 'backreferences are not allowed', line: 3 });
    expectOnlyError(yaml('rules:', '  a:', '    outputs: "{s,(?=a)a+}.txt"', '    run: x'), { message: 'lookahead and lookbehind are not allowed', line: 3 });
  });

  test('ordinary patterns still match', () => {
    const p = load(yaml('rules:', '  a:', '    outputs: "{s,[a-z]+(_v\\\\d+)?}/{n,\\\\d{3}}.{e,(txt|csv)}"', '    run: x'));
    const m = new OutputIndex(p.rules).match('abc_v2/007.csv');
    assert.deepEqual(m?.wildcards, { s: 'abc_v2', n: '007', e: 'csv' });
  });

  test('tens of thousands of wildcards in one output are an error, not a crash', () => {
    const out = Array.from({ length: 80_000 }, (_, i) => `{w${i}}`).join('');
    const d = within(15_000, () => expectOnlyError(yaml('rules:', '  a:', `    outputs: "${out}"`, '    run: x'), { message: /^a path of \d+ characters: paths are at most 4096 characters$/, line: 3 }));
    assert.ok(d.message.length < 400, 'the message does not quote the pattern');
  });
});

describe('floods of mistakes', () => {
  test('80,000 misplaced placeholders: a capped list of errors, in linear time', () => {
    const run = '{bad}'.repeat(80_000);
    const ds = within(8000, () => errorsOf(yaml('rules:', '  a:', `    run: "${run}"`)));
    assert.equal(ds.length, MAX_DIAGNOSTICS_PER_FILE + 1);
    assert.deepEqual(ds[0]!.loc, { file: 'Rulefile', line: 3, col: 11 });
    assert.deepEqual(ds[1]!.loc, { file: 'Rulefile', line: 3, col: 16 });
    assert.equal(ds[MAX_DIAGNOSTICS_PER_FILE]!.message, `... and ${80_000 - MAX_DIAGNOSTICS_PER_FILE} more problems in Rulefile (the first ${MAX_DIAGNOSTICS_PER_FILE} are shown)`);
  });

  test('placeholders located exactly after escapes in a double-quoted string', () => {
    const ds = errorsOf(yaml('rules:', '  a:', '    run: "\\t\\u00e9{bad} {worse}"'));
    assert.deepEqual(
      ds.map((d) => d.loc?.col),
      [19, 25],
    );
  });

  test('the cap counts each file on its own', () => {
    const bad = (n: number) => Array.from({ length: n }, (_, i) => `  r${i}: {run: 1}`);
    const ds = errorsOf({ Rulefile: yaml('include: [more.yaml]', 'rules:', ...bad(60)), 'more.yaml': yaml('rules:', ...bad(3).map((l) => l.replace('r', 's'))) });
    const files = ds.map((d) => d.loc?.file);
    assert.equal(files.filter((f) => f === 'more.yaml').length, 3);
    assert.equal(files.filter((f) => f === 'Rulefile').length, MAX_DIAGNOSTICS_PER_FILE + 1);
    assert.match(ds.find((d) => d.message.startsWith('...'))!.message, /^\.\.\. and 10 more problems in Rulefile/);
  });

  test('a config layer of 50,000 keys merges in linear time', () => {
    const values: ConfigMap = {};
    const origins = new Map<string, string>();
    for (let i = 0; i < 50_000; i++) {
      values[`k${i}`] = i % 2 === 0 ? i : { n: i };
      origins.set(i % 2 === 0 ? `k${i}` : `k${i}.n`, `Rulefile:${i}`);
    }
    const config = new Config();
    within(5000, () => {
      config.apply({ values, origins });
      config.apply(layerFromValues({ k5: 'five', k6: 'six' }, '--config'));
    });
    assert.equal(config.get(['k49999', 'n']), 49999);
    assert.equal(config.origins.get('k5'), '--config');
    assert.equal(config.origins.get('k5.n'), undefined, 'the replaced map leaves no origins behind');
    assert.equal(config.origins.get('k7.n'), 'Rulefile:7');
  });

  test('a config key named __proto__ is a key like any other', () => {
    const p = load(yaml('config: {__proto__: {a: 1}}', 'rules:', '  a: {run: "echo {config.__proto__.a}"}'));
    assert.deepEqual(Object.keys(p.config.values), ['__proto__']);
    assert.equal(p.config.get(['__proto__', 'a']), 1);
  });
});

describe('mangled YAML', () => {
  test('100,000 unclosed brackets: the first 20 syntax errors and a count, quickly', () => {
    const ds = within(10_000, () => errorsOf(yaml('rules:', `  a: {run: x, inputs: ${'['.repeat(100_000)}`)));
    assert.ok(ds.length <= 21, `${ds.length} diagnostics`);
    assert.match(ds[0]!.message, /^YAML syntax error: /);
  });
});

describe('characters and lengths no path can have (found by the fuzzer)', () => {
  test('a raw NUL in the Rulefile is a syntax error at its place', () => {
    expectOnlyError(yaml('default: a\0ll', 'rules:', '  all: {run: x}'), { message: 'YAML syntax error: a raw NUL character is not allowed', line: 1, col: 11 });
  });

  test('an escaped NUL in a path, a command or a default target is an error', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: "o/\\0{x}"', '    run: x'), { message: "output 'o/\\0{x}' of rule 'a' contains a NUL byte", line: 3 });
    expectOnlyError(yaml('rules:', '  a: {run: "echo \\0"}'), { message: "a NUL character ('\\0') cannot appear in 'run'", line: 2 });
    expectOnlyError(yaml('default: "a\\0"', 'rules:', '  a: {run: x}'), { message: "default target 'a\\0' contains a NUL byte", line: 1 });
  });

  test('a glob input of 200,000 characters is an error, not a stack overflow', () => {
    const glob = 'in/' + '*a '.repeat(70_000);
    const d = within(5000, () => expectOnlyError(yaml('rules:', '  a:', `    inputs: "${glob}"`, '    run: x'), { message: 'a path of 210003 characters: paths are at most 4096 characters', line: 3, col: 13 }));
    assert.ok(d);
  });
});

describe('more shapes found by the fuzzer', () => {
  test('a map as a key (with a merge of a non-map in it) is an unknown key, not a crash', () => {
    const ds = errorsOf(yaml('rules:', '  ? {<<: 1}', '  : {run: x}'));
    assert.match(ds[0]!.message, /'\(a map\)'/);
    assert.equal(ds[0]!.loc?.line, 2);
  });

  test('an include glob of 100,000 characters is an error at its place', () => {
    expectOnlyError(yaml(`include: ["${'x'.repeat(100_000)}*.yaml"]`, 'rules:', '  a: {run: x}'), { message: "an 'include' entry of 100006 characters", line: 1, col: 11 });
  });
});
