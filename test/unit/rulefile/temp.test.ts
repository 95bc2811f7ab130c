// `temp:` (SPEC §7): which outputs of a rule are temporary, and the mistakes a user can make writing it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectOnlyError, load, yaml } from './helpers.js';

function temps(text: string, rule: string): number[] | undefined {
  const r = load(text).rulesByName.get(rule)!;
  return r.temp === undefined ? undefined : [...r.temp.outputs].sort();
}

describe('temp', () => {
  test('true marks every output; false or absent, none', () => {
    assert.deepEqual(temps(yaml('rules:', '  a:', '    outputs: [x.tmp, y.tmp]', '    temp: true', '    run: make'), 'a'), [0, 1]);
    assert.equal(temps(yaml('rules:', '  a:', '    outputs: x.tmp', '    temp: false', '    run: make'), 'a'), undefined);
    assert.equal(temps(yaml('rules:', '  a:', '    outputs: x.tmp', '    run: make'), 'a'), undefined);
  });

  test('a list names outputs of a map by name, outputs of a list by their template as written', () => {
    const named = yaml('rules:', '  a:', '    outputs: { big: "big/{s}.bam", small: "small/{s}.txt" }', '    temp: [big]', '    run: make');
    assert.deepEqual(temps(named, 'a'), [0]);
    const listed = yaml('rules:', '  a:', '    outputs: ["big/{s}.bam", "small/{s}.txt"]', '    temp: ["small/{s}.txt"]', '    run: make');
    assert.deepEqual(temps(listed, 'a'), [1]);
  });

  test('a directory output may be temporary, named with or without its slash', () => {
    assert.deepEqual(temps(yaml('rules:', '  a:', '    outputs: ["chunks/{s}/", "n/{s}.txt"]', '    temp: ["chunks/{s}/"]', '    run: make'), 'a'), [0]);
    assert.deepEqual(temps(yaml('rules:', '  a:', '    outputs: ["chunks/{s}/", "n/{s}.txt"]', '    temp: ["chunks/{s}"]', '    run: make'), 'a'), [0]);
  });

  test('a name that is no output is an error at its place, with a suggestion', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: { big: x.bam, small: y.txt }', '    temp: [bigg]', '    run: make'), {
      message: "'temp' of rule 'a' names 'bigg', which is not one of its outputs (did you mean 'big'?)",
      line: 4,
      col: 12,
    });
  });

  test('a phony rule has nothing to be temporary', () => {
    expectOnlyError(yaml('rules:', '  all:', '    inputs: x', '    temp: true'), {
      message: "'temp' of rule 'all': the rule has no outputs to be temporary",
      line: 4,
      col: 11,
    });
  });

  test('a value of another type is an error', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: x', '    temp: 3', '    run: make'), {
      message: /^'temp' of rule 'a' must be true, false or a list of its outputs/,
      line: 4,
      col: 11,
    });
  });

  test('a misspelled key is suggested', () => {
    expectOnlyError(yaml('rules:', '  a:', '    outputs: x', '    tmp: true', '    run: make'), { message: "unknown key 'tmp' in rule 'a' (did you mean 'temp'?)", line: 4, col: 5 });
  });
});
