// Which wildcard regular expressions are refused as unsafe to match.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { unsafeRegexReason } from '../../../src/rulefile/regex.js';

describe('unsafeRegexReason', () => {
  const safe = ['[a-z]+', '\\d{3}', '[^/]+', '(sci|cal)', '(sci|cal)?', '(ab)+', '(?:ab){2,5}', '(a+)?', 'a+b+c*', '[(+)]+', '\\(a+\\)+', '\\p{L}+', '(?<x>[0-9]+)', '.*'];
  for (const re of safe) {
    test(`accepts ${re}`, () => assert.equal(unsafeRegexReason(re), undefined));
  }

  const unsafe: [string, RegExp][] = [
    ['(a+)+$', /repeated group '\(a\+\)\+' contains a quantifier/],
    ['(a*)*', /contains a quantifier/],
    ['(?:a|aa)+', /contains an alternation/],
    ['(a|b)*', /contains an alternation/],
    ['(a?){20}', /contains a quantifier/],
    ['((ab)*c)+', /contains a quantifier/],
    ['(x(a|b))+', /contains an alternation/],
    ['(.*a){12,}', /contains a quantifier/],
    ['(a+)+?', /contains a quantifier/],
    ['(a)\\1', /backreferences/],
    ['(?<n>a)\\k<n>', /backreferences/],
    ['a(?=b)', /lookahead and lookbehind/],
    ['(?<!a)b', /lookahead and lookbehind/],
  ];
  for (const [re, why] of unsafe) {
    test(`refuses ${re}`, () => assert.match(unsafeRegexReason(re) ?? 'accepted', why));
  }

  test('refused patterns really are slow, accepted ones are not (the reason for the rule)', () => {
    const path = 'a'.repeat(24) + '!';
    const time = (re: string) => {
      const start = performance.now();
      new RegExp(`^(?<s>${re})$`, 'u').exec(path);
      return performance.now() - start;
    };
    assert.ok(time('a+') < 50);
    assert.ok(time('(a+)+') > 5 * Math.max(1, time('a+')), 'the nested quantifier backtracks exponentially');
  });
});
