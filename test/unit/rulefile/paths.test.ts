// Outputs and logs must name files strictly inside the project root: anything
// a job could delete outside it, the root itself or .rules/ is a load-time
// error at the place it is written. Inputs may point outside, but must be
// paths at all (no NUL byte, no name over 255 bytes).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectOnlyError, load, yaml } from './helpers.js';

function withOutput(output: string): string {
  return yaml('rules:', '  bad:', `    outputs: ${output}`, '    run: make it');
}

describe('outputs that are not files inside the root', () => {
  const cases: [string, string][] = [
    ['"."', "output '.' of rule 'bad' is the project root itself"],
    ['""', "output '' of rule 'bad' is the project root itself"],
    ['keep/..', "output 'keep/..' of rule 'bad' is the project root itself"],
    ['./a/../', "output './a/../' of rule 'bad' is the project root itself"],
    ['..', "output '..' of rule 'bad' is outside the project root"],
    ['../report.txt', "output '../report.txt' of rule 'bad' is outside the project root"],
    ['a/../../report.txt', "output 'a/../../report.txt' of rule 'bad' is outside the project root"],
    ['/tmp/report.txt', "output '/tmp/report.txt' of rule 'bad' is an absolute path: it must be inside the project root"],
    ['.rules', "output '.rules' of rule 'bad' is inside .rules/, where rules keeps its state"],
    ['.rules/log', "output '.rules/log' of rule 'bad' is inside .rules/"],
    ['./.Rules/x', "output './.Rules/x' of rule 'bad' is inside .rules/"],
    // A trailing '/' declares a directory output (SPEC §6): it may be none of these either.
    ['/', "output '/' of rule 'bad' is the project root itself"],
    ['./', "output './' of rule 'bad' is the project root itself"],
    ['a/../', "output 'a/../' of rule 'bad' is the project root itself"],
    ['.rules/', "output '.rules/' of rule 'bad' is inside .rules/, where rules keeps its state"],
    ['../out/', "output '../out/' of rule 'bad' is outside the project root"],
    ['"../{name}/"', "output '../{name}/' of rule 'bad' is outside the project root"],
    ['"a\\0b.txt"', "output 'a\\0b.txt' of rule 'bad' contains a NUL byte"],
    [`out/${'n'.repeat(256)}.txt`, "has a component of 260 bytes"],
    [`"${'é'.repeat(128)}"`, 'has a component of 256 bytes'],
  ];
  for (const [output, message] of cases) {
    test(`outputs: ${output.length > 40 ? output.slice(0, 40) + '…' : output}`, () => {
      expectOnlyError(withOutput(output), { message, line: 3, col: 14 });
    });
  }

  test('a pattern output whose literal part leaves the root, whatever its wildcards', () => {
    expectOnlyError(withOutput('"../{name}.txt"'), { message: "output '../{name}.txt' of rule 'bad' is outside the project root", line: 3, col: 14 });
    expectOnlyError(withOutput('"/abs/{name}.txt"'), { message: "output '/abs/{name}.txt' of rule 'bad' is an absolute path", line: 3, col: 14 });
    expectOnlyError(withOutput('".rules/{name}"'), { message: "output '.rules/{name}' of rule 'bad' is inside .rules/", line: 3, col: 14 });
  });

  test('a pattern output not in normal form (it would never match a target or input) is one error, not a cascade', () => {
    // `{output}` in run: the rule is still not phony, so its run does not also fail "the rule has no outputs".
    const text = yaml('rules:', '  bad:', '    outputs: "./out//{n}.txt"', '    run: make {output}');
    expectOnlyError(text, { message: "output './out//{n}.txt' of rule 'bad' is not in normal form: write it without './', '//' or '..' (paths are matched as 'out/{n}.txt' would be)", line: 3, col: 14 });
    expectOnlyError(yaml('rules:', '  bad:', '    outputs: "a/../{n}.txt"', '    run: make {output}'), { message: "output 'a/../{n}.txt' of rule 'bad' is not in normal form", line: 3, col: 14 });
    expectOnlyError(yaml('rules:', '  bad:', '    outputs: "../{n}.txt"', '    run: make {output}'), { message: "output '../{n}.txt' of rule 'bad' is outside the project root", line: 3, col: 14 });
  });

  test('one bad output of a list is named at its own place', () => {
    const text = yaml('rules:', '  bad:', '    outputs:', '      - good.txt', '      - ../bad.txt', '    run: make it');
    expectOnlyError(text, { message: "output '../bad.txt' of rule 'bad' is outside the project root", line: 5, col: 9 });
  });

  test('a config value that takes an output outside the root (--config)', () => {
    const text = yaml('config:', '  dir: out', 'rules:', '  bad:', '    outputs: "{config.dir}/a.txt"', '    run: make it');
    assert.deepEqual(load(text).rulesByName.get('bad')!.outputs[0]!.literal, 'out/a.txt');
    expectOnlyError(text, { message: "output '../a.txt' of rule 'bad' is outside the project root", line: 5, col: 14 }, { configOverrides: ['dir=..'] });
    expectOnlyError(text, { message: "output '/a.txt' of rule 'bad' is an absolute path", line: 5, col: 14 }, { configOverrides: ['dir=""'] });
  });

  test('outputs that stay inside the root are accepted, and literal ones are kept in normal form', () => {
    const q = load(yaml('rules:', '  ok:', '    outputs: [./out//a.txt, b/../c.txt, .rulesx/d.txt]', '    run: make it'));
    assert.deepEqual(
      q.rulesByName.get('ok')!.outputs.map((o) => o.literal),
      ['out/a.txt', 'c.txt', '.rulesx/d.txt'],
    );
  });
});

describe('logs that are not files inside the root', () => {
  function withLog(log: string): string {
    return yaml('rules:', '  bad:', '    outputs: "out/{name}.txt"', `    log: ${log}`, '    run: make it');
  }

  test('outside, the root, .rules/ or absolute', () => {
    expectOnlyError(withLog('../run.log'), { message: "log '../run.log' of rule 'bad' is outside the project root", line: 4, col: 10 });
    expectOnlyError(withLog('"logs/../../{name}.log"'), { message: "log 'logs/../../{name}.log' of rule 'bad' is outside the project root", line: 4, col: 10 });
    expectOnlyError(withLog('"."'), { message: "log '.' of rule 'bad' is the project root itself", line: 4, col: 10 });
    expectOnlyError(withLog('.rules/x.log'), { message: "log '.rules/x.log' of rule 'bad' is inside .rules/", line: 4, col: 10 });
    expectOnlyError(withLog('/var/log/x.log'), { message: "log '/var/log/x.log' of rule 'bad' is an absolute path", line: 4, col: 10 });
    expectOnlyError(withLog('logs/'), { message: "log 'logs/' of rule 'bad' ends with '/'", line: 4, col: 10 });
  });

  test('a log inside the root is accepted', () => {
    const p = load(withLog('"logs/{name}.log"'));
    assert.equal(p.rulesByName.get('bad')!.log!.source, 'logs/{name}.log');
    assert.deepEqual(p.rulesByName.get('bad')!.logLoc, { file: 'Rulefile', line: 4, col: 10 });
  });
});

describe('inputs that cannot be paths', () => {
  test('a NUL byte in an input', () => {
    const text = yaml('rules:', '  bad:', '    inputs: "a\\0b"', '    outputs: x.txt', '    run: make it');
    expectOnlyError(text, { message: "'inputs' entry 'a\\0b' of rule 'bad' contains a NUL byte", line: 3, col: 13 });
  });

  test('a name over 255 bytes in an expand template', () => {
    const text = yaml('rules:', '  bad:', '    inputs:', `      expand: "{s}/${'x'.repeat(300)}"`, '      s: [a]', '    outputs: x.txt', '    run: make it');
    expectOnlyError(text, { message: "'expand' template", line: 4, col: 15 });
  });

  test('an input outside the root is a source like any other', () => {
    const p = load(yaml('rules:', '  ok:', '    inputs: [../data/raw.txt, /data/ref.txt]', '    outputs: x.txt', '    run: make it'));
    assert.equal(p.rulesByName.get('ok')!.inputs[0]!.items.length, 2);
  });
});
