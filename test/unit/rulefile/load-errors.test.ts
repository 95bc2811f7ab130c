// Every kind of error loadProject reports: message, file, line and column.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadProject, parseConfigOverride } from '../../../src/rulefile/load.js';
import { UserError } from '../../../src/util/errors.js';
import { assertDiagnostic, errorsIn, errorsOf, expectError, expectOnlyError, makeProject, yaml } from './helpers.js';

describe('finding the Rulefile', () => {
  test('no Rulefile in the directory', () => {
    const [d] = errorsOf({ 'README.md': 'hi' });
    assert.match(d!.message, /no Rulefile here \(looked for Rulefile, Rulefile\.yaml, Rulefile\.yml in .*\)/);
    assert.equal(d!.loc, undefined);
  });

  test('a Rulefile in a parent directory is not used', () => {
    const dir = makeProject({ Rulefile: yaml('rules:', '  a: {run: x}'), 'sub/keep': '' });
    const [d] = errorsIn(path.join(dir, 'sub'));
    assert.match(d!.message, /no Rulefile here/);
  });

  test('-f names a file that does not exist', () => {
    const [d] = errorsOf({ Rulefile: yaml('rules:', '  a: {run: x}') }, { rulefile: 'other.yaml' });
    assert.equal(d!.message, "no such Rulefile: 'other.yaml'");
  });
});

describe('YAML and top-level structure', () => {
  test('YAML syntax error names line and column', () => {
    expectOnlyError(yaml('rules:', '\ta:', '    run: x'), { message: /^YAML syntax error: .*[Tt]ab/, line: 2, col: 1 });
  });

  test('YAML syntax error: unclosed flow sequence', () => {
    const ds = errorsOf(yaml('config:', '  frames: [a, b', 'rules:', '  a: {run: x}'));
    assertDiagnostic(ds[0]!, { message: /^YAML syntax error: / });
    assert.ok(ds[0]!.loc && ds[0]!.loc.line >= 2, 'points at or after the opening bracket');
  });

  test('YAML syntax error: a nested mapping in a compact mapping', () => {
    expectError(yaml('rules:', '  a:', '    run: echo a: b: c'), { message: /^YAML syntax error: /, line: 3 });
  });

  test('empty Rulefile', () => {
    expectOnlyError('', { message: "the Rulefile is empty: it needs at least a 'rules:' map", line: 1, col: 1 });
  });

  test('a Rulefile holding only comments is empty', () => {
    expectOnlyError(yaml('# nothing here', '# still nothing'), { message: 'the Rulefile is empty', line: 1, col: 1 });
  });

  test('top level is a list', () => {
    expectOnlyError(yaml('- a', '- b'), {
      message: 'the Rulefile must be a map with keys config, include, default, shell, env, rules, not a list',
      line: 1,
      col: 1,
    });
  });

  test('top level is a string', () => {
    expectOnlyError(yaml('', 'hello'), { message: /must be a map .*, not a string$/, line: 2, col: 1 });
  });

  test('unknown top-level key suggests the right one', () => {
    expectOnlyError(yaml('config: {}', 'rule:', '  a: {run: x}'), {
      message: "unknown top-level key 'rule' (did you mean 'rules'?); allowed: config, include, default, shell, env, rules",
      line: 2,
      col: 1,
    });
  });

  test('unknown top-level key without a close match has no suggestion', () => {
    const d = expectOnlyError(yaml('rules:', '  a: {run: x}', 'targets: [a]'), { message: "unknown top-level key 'targets'; allowed:", line: 3, col: 1 });
    assert.doesNotMatch(d.message, /did you mean/);
  });

  test('more top-level typos: confg, includes, defaults', () => {
    const ds = errorsOf(yaml('confg: {a: 1}', 'includes: []', 'defaults: a', 'rules:', '  a: {run: x}'));
    assert.equal(ds.length, 3);
    assertDiagnostic(ds[0]!, { message: "'confg' (did you mean 'config'?)", line: 1, col: 1 });
    assertDiagnostic(ds[1]!, { message: "'includes' (did you mean 'include'?)", line: 2, col: 1 });
    assertDiagnostic(ds[2]!, { message: "'defaults' (did you mean 'default'?)", line: 3, col: 1 });
  });

  test('no rules at all', () => {
    expectOnlyError(yaml('config: {a: 1}'), { message: "the Rulefile defines no rules: add a 'rules:' map", line: 1, col: 1 });
  });

  test('an empty rules: key', () => {
    // Either "defines no rules" or "'rules' must be a map ..., not nothing (null)" is a fair message.
    expectOnlyError(yaml('config: {a: 1}', 'rules:'), { message: /the Rulefile defines no rules|'rules' must be a map of rule names to rules, not nothing \(null\)/, line: 2 });
  });

  test("'rules' is a list", () => {
    expectOnlyError(yaml('rules:', '  - a', '  - b'), { message: "'rules' must be a map of rule names to rules, not a list", line: 2, col: 3 });
  });

  test("'rules' is a string", () => {
    expectOnlyError(yaml('rules: all'), { message: "'rules' must be a map of rule names to rules, not a string", line: 1, col: 8 });
  });

  test("'config' is not a map", () => {
    expectOnlyError(yaml('config: [a, b]', 'rules:', '  a: {run: x}'), { message: "'config' must be a map of NAME: VALUE, not a list", line: 1, col: 9 });
  });

  test("'default' of the wrong type", () => {
    expectOnlyError(yaml('default: 5', 'rules:', '  a: {run: x}'), { message: "'default' must be a target name or a list of them, not a number", line: 1, col: 10 });
    expectOnlyError(yaml('default: [a, {b: 1}]', 'rules:', '  a: {run: x}'), { message: "'default' must be a target name or a list of them, not a map", line: 1, col: 14 });
    expectOnlyError(yaml('default: ""', 'rules:', '  a: {run: x}'), { message: "'default' must be a target name", line: 1, col: 10 });
  });

  test("'shell' of the wrong type, or blank", () => {
    expectOnlyError(yaml('shell: [bash, -c]', 'rules:', '  a: {run: x}'), { message: `'shell' must be a command line such as "bash -euo pipefail -c", not a list`, line: 1, col: 8 });
    expectOnlyError(yaml('shell: "   "', 'rules:', '  a: {run: x}'), { message: "'shell' must be a command line", line: 1, col: 8 });
    expectOnlyError(yaml('shell: 5', 'rules:', '  a: {run: x}'), { message: "'shell' must be a command line", line: 1, col: 8 });
  });

  test("top-level 'env' of the wrong type", () => {
    expectOnlyError(yaml('env: [A=1]', 'rules:', '  a: {run: x}'), { message: "'env' must be a map of NAME: VALUE, not a list", line: 1, col: 6 });
    expectOnlyError(yaml('env:', '  A: [1]', 'rules:', '  a: {run: x}'), { message: "env 'A' must be a string or number, not a list", line: 2, col: 6 });
    expectOnlyError(yaml('env:', '  A: {x: 1}', 'rules:', '  a: {run: x}'), { message: "env 'A' must be a string or number, not a map", line: 2, col: 6 });
    expectOnlyError(yaml('env:', '  A:', 'rules:', '  a: {run: x}'), { message: "env 'A' must be a string or number, not nothing (null)", line: 2 });
  });
});

describe('rule structure and keys', () => {
  test('a rule that is not a map', () => {
    expectOnlyError(yaml('rules:', '  a: hello'), { message: "rule 'a' must be a map of keys (inputs, outputs, run, ...), not a string", line: 2, col: 6 });
    expectOnlyError(yaml('rules:', '  a: [x, y]'), { message: "rule 'a' must be a map of keys (inputs, outputs, run, ...), not a list", line: 2, col: 6 });
    expectOnlyError(yaml('rules:', '  a: 3'), { message: 'not a number', line: 2, col: 6 });
  });

  test('a rule with no value', () => {
    expectOnlyError(yaml('rules:', '  a:', '  b: {run: x}'), { message: "rule 'a' must be a map of keys (inputs, outputs, run, ...), not nothing (null)", line: 2 });
  });

  test('an invalid rule name', () => {
    expectOnlyError(yaml('rules:', '  "a b": {run: x}'), { message: "invalid rule name 'a b'", line: 2, col: 3 });
    expectOnlyError(yaml('rules:', '  1st: {run: x}'), { message: "invalid rule name '1st'", line: 2, col: 3 });
  });

  test('a rule name starting with - is invalid', () => {
    expectOnlyError(yaml('rules:', '  -rf: {run: x}'), { message: "invalid rule name '-rf': use letters, digits, '_' and '-', starting with a letter or '_'", line: 2, col: 3 });
  });

  test('rule names may use - and _', () => {
    // Loads fine (see load.test.ts for the positive side); here: no error about names.
    const dir = makeProject(yaml('rules:', '  make-all_2: {run: x}', '  _private: {run: y}'));
    assert.deepEqual(
      loadProject({ cwd: dir }).rules.map((r) => r.name),
      ['make-all_2', '_private'],
    );
  });

  test('unknown rule keys suggest the right one', () => {
    const ds = errorsOf(yaml('rules:', '  a:', '    ouputs: x.txt', '    input: y.txt', '    run: cp {input} x.txt'));
    assert.equal(ds.length, 2);
    assertDiagnostic(ds[0]!, { message: "unknown key 'ouputs' in rule 'a' (did you mean 'outputs'?)", line: 3, col: 5 });
    assertDiagnostic(ds[1]!, { message: "unknown key 'input' in rule 'a' (did you mean 'inputs'?)", line: 4, col: 5 });
  });

  test('unknown rule keys: more typos', () => {
    const ds = errorsOf(yaml('rules:', '  a:', '    descripton: x', '    retry: 1', '    orderonly: [x]', '    cmd: echo'));
    assert.equal(ds.length, 4);
    assertDiagnostic(ds[0]!, { message: "unknown key 'descripton' in rule 'a' (did you mean 'description'?)", line: 3, col: 5 });
    assertDiagnostic(ds[1]!, { message: "unknown key 'retry' in rule 'a'", line: 4, col: 5 });
    assertDiagnostic(ds[2]!, { message: "unknown key 'orderonly' in rule 'a' (did you mean 'order_only'?)", line: 5, col: 5 });
    assertDiagnostic(ds[3]!, { message: "unknown key 'cmd' in rule 'a'", line: 6, col: 5 });
  });

  test('a rule with outputs but no run', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: x.txt'), { message: "rule 'a' has outputs but no 'run' command to make them", line: 2, col: 3 });
  });

  test('a rule with outputs and an empty run:', () => {
    expectError(yaml('rules:', '  a:', '    outputs: x.txt', '    run:'), { message: "rule 'a' has outputs but no 'run' command", line: 2, col: 3 });
  });
});

describe('one typo, one error', () => {
  test('a misspelled outputs key is read as outputs, so its wildcards and {output} raise nothing more', () => {
    expectOnlyError(yaml('rules:', '  count:', '    inputs: "texts/{name}.txt"', '    ouputs: "counts/{name}.txt"', '    run: wc -w < {input} > {output}'), {
      message: "unknown key 'ouputs' in rule 'count' (did you mean 'outputs'?)",
      line: 4,
      col: 5,
    });
  });
});

describe('types of rule keys', () => {
  test('inputs as a number', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs: 5'), { message: "'inputs' entry of rule 'a' must be a string, not a number", line: 3, col: 13 });
  });

  test('a number inside a list of inputs', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs: [a.txt, 7]'), { message: "'inputs' entry of rule 'a' must be a string, not a number", line: 3, col: 21 });
  });

  test('a boolean inside a named input list', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs:', '      sci: [a.txt, true]'), { message: 'must be a string, not a boolean', line: 4, col: 20 });
  });

  test('an input name that is not an identifier', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs: {"my input": x.txt}'), { message: "input name 'my input' must be an identifier", line: 3, col: 14 });
  });

  test('order_only of the wrong type', () => {
    expectOnlyError(yaml('rules:', '  a:', '    order_only: 3'), { message: "'order_only' entry of rule 'a' must be a string, not a number", line: 3, col: 17 });
  });

  test('outputs as a map of numbers', () => {
    const ds = errorsOf(yaml('rules:', '  a:', '    outputs: {x: 1, y: 2}', '    run: r'));
    assert.equal(ds.length, 2);
    assertDiagnostic(ds[0]!, { message: "output of rule 'a' must be a string, not a number", line: 3, col: 18 });
    assertDiagnostic(ds[1]!, { message: "output of rule 'a' must be a string, not a number", line: 3, col: 24 });
  });

  test('a named output with no value is an error, not silently dropped', () => {
    expectError(yaml('rules:', '  a:', '    outputs: {table}', '    run: make {output}'), { message: /output/, line: 3 });
  });

  test('an expand item whose template is missing (flow map) is located at the item', () => {
    expectError(yaml('rules:', '  a:', '    inputs: [{expand, a: [1]}]'), { message: "'expand' template of rule 'a' must be a string, not nothing (null)", line: 3 });
  });

  test('outputs as a number', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: 42', '    run: r'), { message: "output of rule 'a' must be a string, not a number", line: 3, col: 14 });
  });

  test('an output name that is not an identifier', () => {
    expectError(yaml('rules:', '  a:', '    outputs: {"x-y": a.txt}', '    run: r'), { message: "output name 'x-y' must be an identifier", line: 3, col: 15 });
  });

  test('run as a list', () => {
    expectOnlyError(yaml('rules:', '  a:', '    run: [echo, hi]'), { message: "'run' of rule 'a' must be a string, not a list", line: 3, col: 10 });
  });

  test('run as a number', () => {
    expectOnlyError(yaml('rules:', '  a:', '    run: 5'), { message: "'run' of rule 'a' must be a string, not a number", line: 3, col: 10 });
  });

  test('params not a map', () => {
    expectOnlyError(yaml('rules:', '  a:', '    params: [a, b]'), { message: "'params' of rule 'a' must be a map of NAME: VALUE, not a list", line: 3, col: 13 });
    expectOnlyError(yaml('rules:', '  a:', '    params: fast'), { message: "'params' of rule 'a' must be a map of NAME: VALUE, not a string", line: 3, col: 13 });
  });

  test('a param without a value, and a param name that is not an identifier', () => {
    const ds = errorsOf(yaml('rules:', '  a:', '    params:', '      p:', '      "q r": 1'));
    assert.equal(ds.length, 2);
    assertDiagnostic(ds[0]!, { message: "param 'p' of rule 'a' has no value", line: 4 });
    assertDiagnostic(ds[1]!, { message: "param name 'q r' must be an identifier", line: 5, col: 7 });
  });

  test('resources with a string', () => {
    expectOnlyError(yaml('rules:', '  a:', '    resources: {cpus: two}'), { message: "resource 'cpus' of rule 'a' must be a number, not a string", line: 3, col: 23 });
  });

  test('a resource with no value (flow map) is located at the resource', () => {
    expectOnlyError(yaml('rules:', '  a:', '    resources: {gpu}'), { message: "resource 'gpu' of rule 'a' must be a number, not nothing (null)", line: 3 });
  });

  test('resources as a string', () => {
    expectOnlyError(yaml('rules:', '  a:', '    resources: gpu'), { message: "'resources' of rule 'a' must be a map of NAME: NUMBER, not a string", line: 3, col: 16 });
  });

  test('negative resources and fractional cpus', () => {
    const ds = errorsOf(yaml('rules:', '  a:', '    resources:', '      mem_mb: -5', '      cpus: 1.5', '      gpu: 0.5'));
    assert.equal(ds.length, 2);
    assertDiagnostic(ds[0]!, { message: "resource 'mem_mb' of rule 'a' must be a number >= 0", line: 4, col: 15 });
    assertDiagnostic(ds[1]!, { message: "resource 'cpus' of rule 'a' must be a whole number >= 0", line: 5, col: 13 });
  });

  test('retries negative', () => {
    expectOnlyError(yaml('rules:', '  a:', '    retries: -1'), { message: "'retries' of rule 'a' must be a whole number >= 0", line: 3, col: 14 });
  });

  test('retries fractional', () => {
    expectOnlyError(yaml('rules:', '  a:', '    retries: 1.5'), { message: "'retries' of rule 'a' must be a whole number >= 0", line: 3, col: 14 });
  });

  test('retries as a string', () => {
    expectOnlyError(yaml('rules:', '  a:', '    retries: twice'), { message: "'retries' of rule 'a' must be a number, not a string", line: 3, col: 14 });
  });

  test('always as a string', () => {
    expectOnlyError(yaml('rules:', '  a:', '    always: "yes"'), { message: "'always' of rule 'a' must be true or false, not a string", line: 3, col: 13 });
    // YAML 1.2: a bare yes is a string, not a boolean.
    expectOnlyError(yaml('rules:', '  a:', '    always: yes'), { message: "'always' of rule 'a' must be true or false, not a string", line: 3, col: 13 });
  });

  test('always as a number', () => {
    expectOnlyError(yaml('rules:', '  a:', '    always: 1'), { message: "'always' of rule 'a' must be true or false, not a number", line: 3, col: 13 });
  });

  test('env as a list', () => {
    expectOnlyError(yaml('rules:', '  a:', '    env: [A=1]'), { message: "'env' of rule 'a' must be a map of NAME: VALUE, not a list", line: 3, col: 10 });
  });

  test('an env value that is a list', () => {
    expectOnlyError(yaml('rules:', '  a:', '    env: {A: [1]}'), { message: "env 'A' of rule 'a' must be a string or number, not a list", line: 3, col: 14 });
  });

  test('description as a number', () => {
    expectOnlyError(yaml('rules:', '  a:', '    description: 5'), { message: "'description' of rule 'a' must be a string, not a number", line: 3, col: 18 });
  });

  test('log as a list', () => {
    expectOnlyError(yaml('rules:', '  a:', '    log: [a.log]'), { message: "'log' of rule 'a' must be a string, not a list", line: 3, col: 10 });
  });
});

describe('placeholders', () => {
  test('unknown placeholder in run suggests the right one (phony rule)', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs: x.txt', '    run: cat {inptus}'), {
      message: /unknown placeholder '\{inptus\}' in 'run' of rule 'a'.*\(did you mean 'inputs?'\?\)/,
      line: 4,
      col: 14,
    });
  });

  test('unknown placeholder in run suggests the right one (pattern rule)', () => {
    expectError(yaml('rules:', '  a:', '    inputs: "{n}.in"', '    outputs: "{n}.out"', '    run: cp {inptus} {output}'), {
      message: /'\{inptus\}' in 'run' of rule 'a'.*\(did you mean 'inputs?'\?\)/,
      line: 5,
      col: 13,
    });
  });

  test('an unknown dotted placeholder suggests the right one', () => {
    expectOnlyError(yaml('rules:', '  a:', '    params: {x: 1}', '    run: echo {param.x}'), {
      message: "unknown placeholder '{param.x}' in 'run' of rule 'a' (did you mean 'params'?)",
      line: 4,
      col: 15,
    });
  });

  test('an unknown placeholder without a close match', () => {
    const d = expectOnlyError(yaml('rules:', '  a:', '    run: echo {foo.bar}'), { message: "unknown placeholder '{foo.bar}' in 'run' of rule 'a'", line: 3, col: 15 });
    assert.doesNotMatch(d.message, /did you mean/);
  });

  test('{params} alone is rejected without suggesting itself', () => {
    const d = expectOnlyError(yaml('rules:', '  a:', '    params: {x: 1}', '    run: echo {params}'), { message: "'{params}'", line: 4, col: 15 });
    assert.doesNotMatch(d.message, /did you mean 'params'/, 'suggesting the very name that was rejected does not help');
  });

  test('{inputs.NAME} with an unknown name', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs: {sci: x.fits, bias: b.fits}', '    run: echo {inputs.scj}'), {
      message: "unknown placeholder '{inputs.scj}' in 'run' of rule 'a': no input named 'scj' (did you mean 'sci'?)",
      line: 4,
      col: 15,
    });
  });

  test('{inputs.NAME} when inputs are unnamed', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs: [x.fits]', '    run: echo {inputs.sci}'), { message: "no input named 'sci'", line: 4, col: 15 });
  });

  test('{outputs.NAME} with an unknown name', () => {
    expectError(yaml('rules:', '  a:', '    outputs: {table: t.csv, plot: p.png}', '    run: echo {outputs.tabl}'), {
      message: "unknown placeholder '{outputs.tabl}' in 'run' of rule 'a': no output named 'tabl' (did you mean 'table'?)",
      line: 4,
      col: 15,
    });
  });

  test('{params.x} unknown', () => {
    expectOnlyError(yaml('rules:', '  a:', '    params: {threshold: 3}', '    run: echo {params.x}'), {
      message: "unknown placeholder '{params.x}' in 'run' of rule 'a': no param named 'x'",
      line: 4,
      col: 15,
    });
  });

  test('{params.NAME} misspelled gets a suggestion', () => {
    expectOnlyError(yaml('rules:', '  a:', '    params: {threshold: 3}', '    run: echo {params.treshold}'), {
      message: "no param named 'treshold' (did you mean 'threshold'?)",
      line: 4,
      col: 15,
    });
  });

  test('a param may not refer to another param', () => {
    expectOnlyError(yaml('rules:', '  a:', '    params: {x: 1, y: "{params.x}"}', '    run: echo'), { message: "'{params.x}': params cannot refer to other params", line: 3, col: 24 });
  });

  test('{resources.gpu} not declared', () => {
    expectOnlyError(yaml('rules:', '  a:', '    resources: {mem_mb: 100}', '    run: echo {resources.gpu}'), {
      message: "unknown placeholder '{resources.gpu}' in 'run' of rule 'a': no resource named 'gpu'",
      line: 4,
      col: 15,
    });
  });

  test('{log} without a log', () => {
    expectOnlyError(yaml('rules:', '  a:', '    run: echo hi > {log}'), { message: "'{log}' in 'run' of rule 'a': the rule has no 'log'", line: 3, col: 20 });
  });

  test('{output} in a phony rule', () => {
    expectOnlyError(yaml('rules:', '  a:', '    run: touch {output}'), { message: "'{output}' in 'run' of rule 'a': the rule has no outputs", line: 3, col: 16 });
  });

  test('{outputs} in a phony rule', () => {
    expectOnlyError(yaml('rules:', '  a:', '    run: "touch {outputs}"'), { message: "'{outputs}' in 'run' of rule 'a': the rule has no outputs", line: 3, col: 17 });
  });

  test('{inputs} in inputs is not allowed', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs: "x/{inputs}"', '    run: x'), {
      message: "unknown placeholder '{inputs}' in inputs of rule 'a': only wildcards and {config.KEY} are allowed here",
      line: 3,
      col: 16,
    });
  });

  test('{output} in log is not allowed', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: x', '    log: "{output}.log"', '    run: x'), { message: "unknown placeholder '{output}' in 'log' of rule 'a'", line: 4, col: 11 });
  });

  test('{input} in outputs is not allowed', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: "{input}.out"', '    run: x'), { message: "'{input}' cannot be used in outputs: only wildcards and {config.KEY}", line: 3, col: 15 });
  });

  test('{wildcards.x} in outputs is not allowed', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: "{wildcards.x}.out"', '    run: x'), { message: "'{wildcards.x}': a wildcard in outputs is written {NAME}", line: 3, col: 15 });
  });

  test('{config}, {wildcards} and {raw.x} misuse', () => {
    const ds = errorsOf(yaml('rules:', '  a:', '    log: "{raw.params.p}.log"', '    run: echo {config} {wildcards} {raw.foo}'));
    assert.equal(ds.length, 4);
    assertDiagnostic(ds[0]!, { message: "'{raw.params.p}' can only be used in 'run'", line: 3, col: 11 });
    assertDiagnostic(ds[1]!, { message: "'{config}' needs a key, e.g. {config.threshold}", line: 4, col: 15 });
    assertDiagnostic(ds[2]!, { message: "'{wildcards}': use {wildcards.NAME}", line: 4, col: 24 });
    assertDiagnostic(ds[3]!, { message: "'{raw.foo}': use {raw.params.NAME} or {raw.config.KEY}", line: 4, col: 36 });
  });

  test('{raw.params.x} checks the param exists', () => {
    expectOnlyError(yaml('rules:', '  a:', '    run: echo {raw.params.x}'), { message: "no param named 'x'", line: 3, col: 15 });
  });

  test('a placeholder in a single-quoted run is located inside the quotes', () => {
    expectOnlyError(yaml('rules:', '  a:', "    run: 'echo {nope.x}'"), { message: "'{nope.x}'", line: 3, col: 16 });
  });

  test('a placeholder in a double-quoted string with escapes is located exactly', () => {
    // col 10 is the opening quote; the value's \" escapes take two characters each in the file.
    expectOnlyError(yaml('rules:', '  a:', '    run: "echo \\"x\\" {nope.x}"'), { message: "'{nope.x}'", line: 3, col: 22 });
  });

  test("a placeholder in a single-quoted string with '' escapes is located exactly", () => {
    expectOnlyError(yaml('rules:', '  a:', "    run: 'it''s {nope.x}'"), { message: "'{nope.x}'", line: 3, col: 17 });
  });

  test('a placeholder in a folded block scalar is reported on the rule line of the scalar', () => {
    const d = expectOnlyError(yaml('rules:', '  a:', '    run: >', '      echo', '      {nope.x}'), { message: "'{nope.x}'" });
    assert.ok(d.loc && d.loc.line >= 3 && d.loc.line <= 5, `line ${d.loc?.line}`);
  });
});

describe('wildcards', () => {
  test('a wildcard used in inputs but missing from outputs', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: "{n}.o"', '    inputs: "{m}.i"', '    run: x'), {
      message: "wildcard '{m}' in inputs of rule 'a' does not appear in its outputs",
      line: 4,
      col: 14,
    });
  });

  test('a wildcard used in log but missing from outputs', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: "{n}.o"', '    log: "logs/{frame}.log"', '    run: x'), {
      message: "wildcard '{frame}' in 'log' of rule 'a' does not appear in its outputs",
      line: 4,
      col: 16,
    });
  });

  test('a wildcard used in params but missing from outputs', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: "{n}.o"', '    params: {p: "{m}"}', '    run: x'), {
      message: "wildcard '{m}' in 'params' of rule 'a' does not appear in its outputs",
      line: 4,
      col: 18,
    });
  });

  test('a misspelled wildcard gets a suggestion', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: "out/{frame}.o"', '    inputs: "raw/{fram}.i"', '    run: x'), {
      message: "wildcard '{fram}' in inputs of rule 'a' does not appear in its outputs (did you mean 'frame'?)",
      line: 4,
      col: 18,
    });
  });

  test('{wildcards.NAME} in run must name a wildcard', () => {
    expectError(yaml('rules:', '  a:', '    outputs: "{n}.o"', '    run: echo {wildcards.m} > {output}'), { message: "wildcard '{wildcards.m}' in 'run' of rule 'a' does not appear in its outputs", line: 4, col: 15 });
  });

  test('a wildcard in the inputs of a phony rule', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs: "raw/{frame}.fits"'), {
      message: "unknown placeholder '{frame}' in inputs of rule 'a': a rule without outputs has no wildcards",
      line: 3,
      col: 18,
    });
  });

  test('outputs with different wildcard sets: a wildcard missing', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: ["a/{x}.txt", "b/{y}.txt"]', '    run: x'), {
      message: "output 'b/{y}.txt' of rule 'a' lacks {x}: every output of a rule must use the same wildcards",
      line: 3,
      col: 28,
    });
  });

  test('outputs with different wildcard sets: an extra wildcard', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs:', '      - "a/{x}.txt"', '      - "b/{x}_{y}.txt"', '    run: x'), {
      message: "output 'b/{x}_{y}.txt' of rule 'a' has {y}, which the first output lacks",
      line: 5,
      col: 9,
    });
  });

  test('named outputs: a literal output next to a pattern', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: {data: "d/{n}.csv", plot: p.png}', '    run: x'), { message: "output 'p.png' of rule 'a' lacks {n}", line: 3, col: 40 });
  });

  test('a regex given only in inputs', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: "{n}.o"', "    inputs: '{n,\\d+}.i'", '    run: x'), {
      message: "'{n,\\d+}': a wildcard's regular expression can only be given in outputs",
      line: 4,
      col: 14,
    });
  });

  test('a regex given in run', () => {
    expectError(yaml('rules:', '  a:', '    outputs: "{n}.o"', '    run: echo {n,[0-9]+}'), { message: "a wildcard's regular expression can only be given in outputs", line: 4, col: 15 });
  });

  test('an invalid regex', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: "x/{n,(}.txt"', '    run: x'), { message: "invalid regular expression in '{n,(}'", line: 3, col: 17 });
  });

  test('an invalid regex after a {config.x} in the same output is located correctly', () => {
    expectOnlyError(yaml('config:', '  dir: a_rather_long_directory_name', 'rules:', '  a:', '    outputs: "{config.dir}/{n,(}.txt"', '    run: x'), {
      message: "invalid regular expression in '{n,(}'",
      line: 5,
      col: 28,
    });
  });

  test('a regex valid for RegExp but not in unicode mode is reported, not thrown', () => {
    // \- is an identity escape that only non-unicode regexes accept.
    const dir = makeProject(yaml('rules:', '  a:', '    outputs: "id/{id,\\\\w+\\\\-\\\\d+}.txt"', '    run: x'));
    let p;
    try {
      p = loadProject({ cwd: dir });
    } catch (e) {
      assert.ok(e instanceof UserError, `loadProject threw ${(e as Error).name}: ${(e as Error).message}`);
      assertDiagnostic(e.diagnostics[0]!, { message: /regular expression/, line: 3 });
      return;
    }
    // Accepted: then it must work.
    assert.ok(p.rules[0]!.outputs[0]!.regex!.test('id/ab-12.txt'));
  });

  test('two different regexes for one wildcard', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: ["{n,\\\\d+}.a", "{n,\\\\w+}.b"]', '    run: x'), {
      message: "wildcard '{n}' is given two different regular expressions in rule 'a'",
      line: 3,
      col: 30,
    });
  });

  test('unclosed { in run', () => {
    expectOnlyError(yaml('rules:', '  a:', '    run: echo {a'), { message: "unclosed '{' (write '{{' for a literal brace)", line: 3, col: 15 });
  });

  test('stray } in run', () => {
    expectOnlyError(yaml('rules:', '  a:', '    run: echo a}b'), { message: "unmatched '}' (write '}}' for a literal brace)", line: 3, col: 16 });
  });

  test('unclosed { in a double-quoted output', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: "x/{n.txt"', '    run: x'), { message: "unclosed '{'", line: 3, col: 17 });
  });

  test('stray } in inputs', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs: [ok.txt, "x}.txt"]'), { message: "unmatched '}'", line: 3, col: 24 });
  });

  test('invalid placeholder (awk braces) in run', () => {
    expectOnlyError(yaml('rules:', '  a:', "    run: awk '{print $1}' x"), { message: "invalid placeholder '{print $1}' (write '{{' and '}}' for literal braces)", line: 3, col: 15 });
  });
});

describe('config keys', () => {
  test('a missing {config.x} in run names the rule and the key', () => {
    expectOnlyError(yaml('rules:', '  calibrate:', '    run: calib --thr {config.threshold}'), {
      message: "rule 'calibrate' uses config key 'threshold', which is not set (set it under 'config:', in a --configfile, or with --config threshold=VALUE)",
      line: 3,
      col: 22,
    });
  });

  test('a missing nested {config.a.b}', () => {
    expectOnlyError(yaml('config:', '  fit: {degree: 2}', 'rules:', '  a:', '    run: fit --order {config.fit.order}'), {
      message: "rule 'a' uses config key 'fit.order', which is not set",
      line: 5,
      col: 22,
    });
  });

  test('a missing {config.x} in inputs, outputs, log and params', () => {
    const ds = errorsOf(
      yaml('rules:', '  a:', '    inputs: "{config.raw}/x"', '    outputs: "{config.out}/{n}"', '    log: "{config.logs}/a.log"', '    params: {p: "{config.p}"}', '    run: x'),
    );
    assert.equal(ds.length, 4);
    // Reported in file order.
    assertDiagnostic(ds[0]!, { message: "rule 'a' uses config key 'raw'", line: 3, col: 14 });
    assertDiagnostic(ds[1]!, { message: "rule 'a' uses config key 'out'", line: 4, col: 15 });
    assertDiagnostic(ds[2]!, { message: "rule 'a' uses config key 'logs'", line: 5, col: 11 });
    assertDiagnostic(ds[3]!, { message: "rule 'a' uses config key 'p'", line: 6, col: 18 });
  });

  test('a config key given with --config satisfies the check', () => {
    const dir = makeProject(yaml('rules:', '  a:', '    run: echo {config.threshold}'));
    assert.equal(loadProject({ cwd: dir, configOverrides: ['threshold=2'] }).rules.length, 1);
  });
});

describe('expand items', () => {
  test('a name not used in the template', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs:', '      - expand: "x/{a}.txt"', '        a: [1]', '        b: [2]'), {
      message: "expand name 'b' is not used in the template 'x/{a}.txt'",
      line: 6,
      col: 9,
    });
  });

  test('an expand without values', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs:', '      - expand: "x.txt"'), { message: "expand item in rule 'a' names no values to expand: add e.g. NAME: [a, b]", line: 4, col: 9 });
  });

  test('an expand without values in a pattern rule (template uses only the rule wildcard)', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: "m/{s}.txt"', '    inputs:', '      - expand: "r/{s}.txt"', '    run: x'), { message: 'names no values to expand', line: 5, col: 9 });
  });

  test('an expand template using a name it does not list (phony rule)', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs:', '      - expand: "x/{a}_{b}.txt"', '        a: [1]'), { message: "unknown placeholder '{b}' in inputs of rule 'a'", line: 4, col: 24 });
  });

  test('expand {config: key} where the key is missing', () => {
    expectError(yaml('rules:', '  a:', '    inputs:', '      - expand: "x/{a}.txt"', '        a: {config: frames}'), {
      message: "rule 'a' uses config key 'frames', which is not set",
      line: 5,
      col: 21,
    });
  });

  // SPEC §7 made a map valid (its keys are the values): a scalar is the error now.
  test('expand {config: key} where the key is a scalar', () => {
    expectError(yaml('config:', '  frames: 5', 'rules:', '  a:', '    inputs:', '      - expand: "x/{a}.txt"', '        a: {config: frames}'), {
      message: "config key 'frames' used for the values of 'a' in rule 'a' must be a list or a map (its keys), not the number 5",
      line: 7,
      col: 21,
    });
  });

  test('expand {config: key} where the key is not a string', () => {
    expectError(yaml('rules:', '  a:', '    inputs:', '      - expand: "x/{a}.txt"', '        a: {config: [frames]}'), { message: "config key for 'a' must be a string, not a list", line: 5, col: 21 });
  });

  test('{glob: ...} without {NAME}', () => {
    expectError(yaml('rules:', '  a:', '    inputs:', '      - expand: "x/{a}.txt"', '        a: {glob: "raw/*.fits"}'), {
      message: "the glob for 'a' must contain {a} to say where its values are",
      line: 5,
      col: 19,
    });
  });

  test('a bad value source is reported once, without a misleading "names no values"', () => {
    const ds = errorsOf(yaml('rules:', '  a:', '    inputs:', '      - expand: "x/{a}.txt"', '        a: {config: frames}'));
    assert.equal(ds.length, 1, ds.map((d) => d.message).join('\n'));
  });

  test('values of the wrong type', () => {
    expectError(yaml('rules:', '  a:', '    inputs:', '      - expand: "x/{a}.txt"', '        a: 5'), {
      message: "values of 'a' in an expand item of rule 'a' must be a list, { glob: PATTERN } or { config: KEY }, not a number",
      line: 5,
      col: 12,
    });
  });

  test('values given as a map of the wrong shape', () => {
    expectError(yaml('rules:', '  a:', '    inputs:', '      - expand: "x/{a}.txt"', '        a: {files: "*.txt"}'), {
      message: "values of 'a' in an expand item of rule 'a' must be a list, { glob: PATTERN } or { config: KEY }",
      line: 5,
      col: 12,
    });
  });

  test('a value list holding a map', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs:', '      - expand: "x/{a}.txt"', '        a: [1, {b: 2}]'), { message: 'must be strings or numbers, not a map', line: 5, col: 16 });
  });

  test('a reserved expand name', () => {
    expectError(yaml('rules:', '  a:', '    inputs:', '      - expand: "x/{a}.txt"', '        a: [1]', '        output: [2]'), { message: "'output' cannot be an expand name", line: 6, col: 9 });
  });

  test('a map in inputs that is not an expand item', () => {
    expectOnlyError(yaml('rules:', '  a:', '    inputs:', '      - {file: x.txt}'), { message: "a map in 'inputs' of rule 'a' must be an expand item: { expand: TEMPLATE, NAME: VALUES }", line: 4, col: 9 });
  });
});

describe('includes', () => {
  test('a rule defined in the Rulefile and again in an included file (include first)', () => {
    const ds = errorsOf({
      Rulefile: yaml('include: [more.yaml]', 'rules:', '  a:', '    run: x'),
      'more.yaml': yaml('rules:', '  b: {run: y}', '  a:', '    run: y'),
    });
    assert.equal(ds.length, 1);
    assertDiagnostic(ds[0]!, { message: "rule 'a' is defined twice: here and at more.yaml:3:3", line: 3, col: 3 });
  });

  test('a rule defined in the Rulefile and again in an included file (include after rules)', () => {
    const ds = errorsOf({
      Rulefile: yaml('rules:', '  a:', '    run: x', 'include: [sub/more.yaml]'),
      'sub/more.yaml': yaml('rules:', '  a:', '    run: y'),
    });
    assert.equal(ds.length, 1);
    assertDiagnostic(ds[0]!, { message: "rule 'a' is defined twice: here and at Rulefile:2:3", file: 'sub/more.yaml', line: 2, col: 3 });
  });

  test('a rule defined in two included files', () => {
    const ds = errorsOf({
      Rulefile: yaml('include: ["rules/*.yaml"]', 'rules:', '  main: {run: x}'),
      'rules/a.yaml': yaml('rules:', '  dup: {run: y}'),
      'rules/b.yaml': yaml('# b', 'rules:', '  dup: {run: z}'),
    });
    assert.equal(ds.length, 1);
    assertDiagnostic(ds[0]!, { message: "rule 'dup' is defined twice: here and at rules/a.yaml:2:3", file: 'rules/b.yaml', line: 3, col: 3 });
  });

  test('include paths are relative to the project root, not the cwd', () => {
    const dir = makeProject({ 'proj/Rulefile': yaml('include: more.yaml', 'rules:', '  a: {run: x}'), 'proj/more.yaml': yaml('rules:', '  b:', '    ouputs: y'), 'more.yaml': yaml('rules:', '  c: {run: x}') });
    const ds = errorsIn(dir, { rulefile: 'proj/Rulefile' });
    assert.equal(ds.length, 1);
    assertDiagnostic(ds[0]!, { message: "unknown key 'ouputs' in rule 'b'", file: 'proj/more.yaml', line: 3, col: 5 });
  });

  test('a rule defined twice in the Rulefile itself names both places', () => {
    const ds = errorsOf(yaml('rules:', '  a:', '    run: x', '  a:', '    run: y'));
    assert.equal(ds.length, 1);
    assertDiagnostic(ds[0]!, { message: 'Rulefile:2:3', line: 4, col: 3 });
    assert.match(ds[0]!.message, /'a'/);
  });

  test("key 'shell' is not allowed in an included file", () => {
    expectOnlyError(
      {
        Rulefile: yaml('include: more.yaml', 'rules:', '  a: {run: x}'),
        'more.yaml': yaml('rules:', '  b: {run: y}', 'shell: bash -c'),
      },
      { message: "key 'shell' is not allowed in an included file ('shell' belongs in the main Rulefile); allowed: config, rules", file: 'more.yaml', line: 3, col: 1 },
    );
  });

  test('an unknown key in an included file suggests the right one', () => {
    expectOnlyError(
      {
        Rulefile: yaml('include: more.yaml', 'rules:', '  a: {run: x}'),
        'more.yaml': yaml('rule:', '  b: {run: y}'),
      },
      { message: "key 'rule' is not allowed in an included file (did you mean 'rules'?); allowed: config, rules", file: 'more.yaml', line: 1, col: 1 },
    );
  });

  test('an included file that is not a map', () => {
    expectOnlyError(
      { Rulefile: yaml('include: more.yaml', 'rules:', '  a: {run: x}'), 'more.yaml': yaml('- a') },
      { message: "an included file must be a map with 'rules' and/or 'config', not a list", file: 'more.yaml', line: 1, col: 1 },
    );
  });

  test('an include of a missing literal file', () => {
    expectOnlyError(yaml('include:', '  - missing.yaml', 'rules:', '  a: {run: x}'), { message: "cannot read 'missing.yaml': no such file", line: 2, col: 5 });
  });

  test('an include of a directory', () => {
    expectOnlyError({ Rulefile: yaml('include: [sub]', 'rules:', '  a: {run: x}'), 'sub/x.yaml': '' }, { message: "cannot read 'sub': is a directory", line: 1, col: 11 });
  });

  test('an include glob that matches nothing is fine', () => {
    const dir = makeProject(yaml('include: ["rules/*.yaml"]', 'rules:', '  a: {run: x}'));
    assert.equal(loadProject({ cwd: dir }).rules.length, 1);
  });

  test('an include entry that is not a string', () => {
    expectOnlyError(yaml('include: [5]', 'rules:', '  a: {run: x}'), { message: "'include' entries must be file paths or globs, not a number", line: 1, col: 11 });
  });

  test('a YAML syntax error in an included file names that file', () => {
    expectOnlyError({ Rulefile: yaml('include: more.yaml', 'rules:', '  a: {run: x}'), 'more.yaml': yaml('rules:', '\tb: x') }, { message: 'YAML syntax error', file: 'more.yaml', line: 2, col: 1 });
  });

  test('rule errors in an included file name that file', () => {
    expectOnlyError(
      { Rulefile: yaml('include: rules/x.yaml', 'rules:', '  a: {run: x}'), 'rules/x.yaml': yaml('rules:', '  b:', '    ouputs: y') },
      { message: "unknown key 'ouputs' in rule 'b' (did you mean 'outputs'?)", file: 'rules/x.yaml', line: 3, col: 5 },
    );
  });

  test("a missing {config.x} in an included rule", () => {
    expectOnlyError(
      { Rulefile: yaml('include: more.yaml', 'rules:', '  a: {run: x}'), 'more.yaml': yaml('rules:', '  b:', '    run: echo {config.nope}') },
      { message: "rule 'b' uses config key 'nope'", file: 'more.yaml', line: 3, col: 15 },
    );
  });
});

describe('--config and --configfile', () => {
  test('parseConfigOverride without =', () => {
    assert.throws(
      () => parseConfigOverride('threshold'),
      (e: unknown) => e instanceof UserError && e.message === "--config expects KEY=VALUE (e.g. --config threshold=5 or --config fit.order=3), got 'threshold'",
    );
  });

  test('parseConfigOverride with a bad key', () => {
    for (const bad of ['=5', 'a..b=1', 'a b=1', '.a=1', 'a.=1', 'a{b}=1']) {
      assert.throws(
        () => parseConfigOverride(bad),
        (e: unknown) => e instanceof UserError && e.message.includes('--config expects KEY=VALUE') && e.message.includes(`'${bad}'`),
        bad,
      );
    }
  });

  test('parseConfigOverride with a value that is not YAML', () => {
    assert.throws(
      () => parseConfigOverride('frames=[a, b'),
      (e: unknown) => e instanceof UserError && e.message.startsWith('--config frames: the value is not valid YAML'),
    );
  });

  test('a bad --config given to loadProject', () => {
    const ds = errorsOf(yaml('rules:', '  a: {run: x}'), { configOverrides: ['n=1', 'nope'] });
    assert.equal(ds.length, 1);
    assert.match(ds[0]!.message, /--config expects KEY=VALUE .* got 'nope'/);
    assert.equal(ds[0]!.loc, undefined);
  });

  test('a missing --configfile', () => {
    const ds = errorsOf(yaml('rules:', '  a: {run: x}'), { configFiles: ['nope.yaml'] });
    assert.equal(ds.length, 1);
    assert.equal(ds[0]!.message, "--configfile: cannot read 'nope.yaml'");
  });

  test('a --configfile with a JSON syntax error', () => {
    const ds = errorsOf({ Rulefile: yaml('rules:', '  a: {run: x}'), 'bad.json': '{\n  "a": 1,\n  "b": [1, 2\n}\n' }, { configFiles: ['bad.json'] });
    assert.equal(ds.length, 1);
    assertDiagnostic(ds[0]!, { message: /^--configfile: YAML\/JSON syntax error: /, file: 'bad.json' });
    assert.ok(ds[0]!.loc!.line >= 3, 'at or after the unclosed bracket');
  });

  test('a --configfile with a YAML syntax error', () => {
    const ds = errorsOf({ Rulefile: yaml('rules:', '  a: {run: x}'), 'bad.yaml': 'a: 1\n\tb: 2\n' }, { configFiles: ['bad.yaml'] });
    assertDiagnostic(ds[0]!, { message: /^--configfile: YAML\/JSON syntax error: /, file: 'bad.yaml', line: 2, col: 1 });
  });

  test('a --configfile that is not a map', () => {
    const ds = errorsOf({ Rulefile: yaml('rules:', '  a: {run: x}'), 'list.yaml': '- a\n- b\n' }, { configFiles: ['list.yaml'] });
    assertDiagnostic(ds[0]!, { message: "--configfile: 'list.yaml' must hold a map of NAME: VALUE", file: 'list.yaml', line: 1, col: 1 });
  });

  test('an empty --configfile is fine', () => {
    const dir = makeProject({ Rulefile: yaml('rules:', '  a: {run: x}'), 'empty.yaml': '' });
    assert.equal(loadProject({ cwd: dir, configFiles: ['empty.yaml'] }).rules.length, 1);
  });
});

describe('many errors at once', () => {
  test('several errors in one file are all reported in one UserError', () => {
    const text = yaml(
      'env: {A: [1]}', //                                        1  bad env value
      '# comment', //                                            2
      'default: 5', //                                           3  bad default
      'shell: [sh]', //                                          4  bad shell
      'rules:', //                                               5
      '  a:', //                                                 6
      '    ouputs: x.txt', //                                    7  unknown key
      '    run: echo {inptus}', //                               8  unknown placeholder
      '  b:', //                                                 9
      '    outputs: "{n}.o"', //                                 10
      '    inputs: "{m}.i"', //                                  11 wildcard missing from outputs
      '    retries: -2', //                                      12 retries negative
      '    run: cp {input} {output}', //                         13
      '  c: [oops]', //                                          14 rule not a map
      '  d:', //                                                 15
      '    run: echo {config.missing}', //                       16 missing config key
      '  e:', //                                                 17
      '    outputs: e.txt', //                                   18 outputs but no run (rule line 17)
    );
    const dir = makeProject(text);
    let err: UserError | undefined;
    try {
      loadProject({ cwd: dir });
    } catch (e) {
      assert.ok(e instanceof UserError);
      err = e;
    }
    assert.ok(err, 'loadProject should throw');
    const lines = err.diagnostics.map((d) => d.loc?.line);
    const expected: [number, string][] = [
      [1, "env 'A' must be a string or number"],
      [7, "unknown key 'ouputs' in rule 'a' (did you mean 'outputs'?)"],
      [8, "'{inptus}'"],
      [12, "'retries' of rule 'b' must be a whole number >= 0"],
      [11, "wildcard '{m}' in inputs of rule 'b'"],
      [14, "rule 'c' must be a map"],
      [16, "rule 'd' uses config key 'missing'"],
      [17, "rule 'e' has outputs but no 'run'"],
      [3, "'default' must be a target name"],
      [4, "'shell' must be a command line"],
    ];
    for (const [line, message] of expected) {
      const d = err.diagnostics.find((x) => x.message.includes(message));
      assert.ok(d, `missing diagnostic ${message}; got lines ${lines.join(',')}:\n${err.message}`);
      assertDiagnostic(d, { message, line });
    }
    assert.equal(err.diagnostics.length, expected.length, err.message);
    // The message is one FILE:LINE:COL line per diagnostic.
    const msgLines = err.message.split('\n');
    assert.equal(msgLines.length, expected.length);
    for (const l of msgLines) assert.match(l, /^Rulefile:\d+:\d+: /);
    assert.ok(msgLines.includes("Rulefile:7:5: unknown key 'ouputs' in rule 'a' (did you mean 'outputs'?)"));
    assert.equal(err.exitCode, 2);
  });

  test('errors in the Rulefile and in included files are reported together', () => {
    const ds = errorsOf({
      Rulefile: yaml('include: more.yaml', 'rules:', '  a:', '    retries: x'),
      'more.yaml': yaml('rules:', '  b:', '    always: maybe'),
    });
    assert.equal(ds.length, 2);
    assertDiagnostic(ds.find((d) => d.loc?.file === 'more.yaml')!, { message: "'always' of rule 'b'", file: 'more.yaml', line: 3, col: 13 });
    assertDiagnostic(ds.find((d) => d.loc?.file === 'Rulefile')!, { message: "'retries' of rule 'a' must be a number", line: 4, col: 14 });
  });

  test('a bad run in a rule with outputs is reported once (no extra "no run" error)', () => {
    const ds = errorsOf(yaml('rules:', '  a:', '    outputs: x.txt', '    run: echo {nope.x} > {output}'));
    assert.equal(ds.length, 1, ds.map((d) => d.message).join('\n'));
    assertDiagnostic(ds[0]!, { message: "'{nope.x}'", line: 4, col: 15 });
  });
});

describe('display paths', () => {
  test('-f in a subdirectory: messages name the file as given relative to cwd', () => {
    const dir = makeProject({ 'sub/My.yaml': yaml('rules:', '  a:', '    ouputs: x') });
    const ds = errorsIn(dir, { rulefile: 'sub/My.yaml' });
    assertDiagnostic(ds[0]!, { message: "unknown key 'ouputs'", file: 'sub/My.yaml', line: 3, col: 5 });
  });

  test('-f outside the cwd: messages use the absolute path', () => {
    const other = makeProject({ 'R.yaml': yaml('rules:', '  a:', '    ouputs: x') });
    const cwd = makeProject({ 'x.txt': '' });
    const ds = errorsIn(cwd, { rulefile: path.join(other, 'R.yaml') });
    assertDiagnostic(ds[0]!, { message: "unknown key 'ouputs'", file: path.join(other, 'R.yaml'), line: 3, col: 5 });
  });

  test('Rulefile.yaml is named as such', () => {
    const ds = errorsOf({ 'Rulefile.yaml': yaml('rules:', '  a:', '    ouputs: x') });
    assertDiagnostic(ds[0]!, { message: "unknown key 'ouputs'", file: 'Rulefile.yaml', line: 3, col: 5 });
  });
});

