import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compareCodePoints, didYouMean, editDistance, shellQuote, suggest } from '../../../src/util/strings.js';

/** Runs `/bin/sh -c 'set -- WORDS; ...'` and returns the arguments the shell saw. */
function shellWords(quoted: string[], cwd: string): string[] {
  const script = `set -- ${quoted.join(' ')}\nfor a in "$@"; do printf '%s\\001' "$a"; done`;
  const out = execFileSync('/bin/sh', ['-c', script], { cwd, encoding: 'utf8', env: { ...process.env, HOME: '/nonexistent-home' } });
  const parts = out.split('\u0001');
  assert.equal(parts.pop(), '', 'output ends with the separator');
  return parts;
}

describe('shellQuote', () => {
  const nasty = [
    'a b;rm -rf ~.fits',
    "it's",
    "'",
    "''",
    "a'b'c",
    'say "hi"',
    '"',
    '$HOME',
    '${HOME}',
    '$(touch PWNED)',
    '`touch PWNED`',
    'line1\nline2',
    '\n',
    '',
    ' ',
    '\t',
    '~',
    '~/x',
    '*',
    'raw/*.fits',
    '?',
    '[a]',
    '{a,b}',
    'a&b',
    'a|b',
    'a>b',
    'a<b',
    '(x)',
    '#comment',
    '!',
    'back\\slash',
    '-n',
    'ünïcödé file.txt',
    '\u{1F600}.txt',
    'a=b',
  ];

  test('every word comes back from /bin/sh as exactly one, unchanged argument', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-test-'));
    try {
      const got = shellWords(nasty.map(shellQuote), dir);
      assert.deepEqual(got, nasty);
      // Nothing was executed or deleted by the shell.
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a file named `a b;rm -rf ~.fits` is passed as one harmless argument', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-test-'));
    try {
      const name = 'a b;rm -rf ~.fits';
      fs.writeFileSync(path.join(dir, name), 'data');
      fs.writeFileSync(path.join(dir, '~.fits'), 'keep me');
      const out = execFileSync('/bin/sh', ['-c', `cat ${shellQuote(name)}`], { cwd: dir, encoding: 'utf8' });
      assert.equal(out, 'data');
      assert.equal(fs.readFileSync(path.join(dir, '~.fits'), 'utf8'), 'keep me');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('printf "%s\\n" + quoted word prints the word exactly', () => {
    for (const w of ['a b;rm -rf ~.fits', "it's", 'say "hi"', '$HOME', '`id`', 'two\nlines']) {
      const out = execFileSync('/bin/sh', ['-c', 'printf "%s\\n" ' + shellQuote(w)], { encoding: 'utf8' });
      assert.equal(out, w + '\n', JSON.stringify(w));
    }
  });

  test('random words round-trip through the shell', () => {
    const alphabet = [...'abcXYZ019 \t\n\'"`$\\;&|<>(){}[]*?~#!=%+,:./@-_^', 'é', '\u{1F600}'];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const words: string[] = [];
    for (let i = 0; i < 300; i++) {
      let w = '';
      const len = rand(12);
      for (let j = 0; j < len; j++) w += alphabet[rand(alphabet.length)];
      words.push(w);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-test-'));
    try {
      assert.deepEqual(shellWords(words.map(shellQuote), dir), words);
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('plain path-like words are left as they are', () => {
    for (const w of ['calibrated/f1.fits', 'a-b_c.d', 'x=1', 'user@host:path', '50%', 'a+b,c']) {
      assert.equal(shellQuote(w), w);
    }
  });

  test('the empty string becomes an empty quoted word', () => {
    assert.equal(shellQuote(''), "''");
  });

  test('single quotes are closed, escaped and reopened', () => {
    assert.equal(shellQuote("it's"), "'it'\\''s'");
    assert.equal(shellQuote('a b'), "'a b'");
  });
});

/** Reference: compare arrays of code points lexicographically. */
function refCompare(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0)!);
  const y = [...b].map((c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

describe('compareCodePoints', () => {
  test('astral characters sort after BMP characters above U+D800 (unlike <)', () => {
    const astral = '\u{1F600}'; // U+1F600, UTF-16 D83D DE00
    const fullwidth = '\uFF5E'; // U+FF5E
    assert.ok(astral < fullwidth, 'code-unit order puts the astral character first');
    assert.ok(compareCodePoints(astral, fullwidth) > 0);
    assert.ok(compareCodePoints(fullwidth, astral) < 0);
    assert.ok(compareCodePoints('\u{10000}', '\uE000') > 0);
    assert.ok(compareCodePoints('x\u{1F600}', 'x\uFF5E') > 0);
  });

  test('sorts a list by code point', () => {
    const list = ['\u{1F600}', '\uFF5E', 'b', 'a', '', 'Z', 'ab', '\u{1F601}', '\uD7FF', 'a\u{1F600}', 'a\uFFFF'];
    assert.deepEqual([...list].sort(compareCodePoints), ['', 'Z', 'a', 'ab', 'a\uFFFF', 'a\u{1F600}', 'b', '\uD7FF', '\uFF5E', '\u{1F600}', '\u{1F601}']);
  });

  test('equal strings compare 0, prefixes come first', () => {
    assert.equal(compareCodePoints('abc', 'abc'), 0);
    assert.equal(compareCodePoints('', ''), 0);
    assert.ok(compareCodePoints('ab', 'abc') < 0);
    assert.ok(compareCodePoints('abc', 'ab') > 0);
    assert.ok(compareCodePoints('a', 'b') < 0);
    assert.ok(compareCodePoints('B', 'a') < 0);
  });

  test('agrees in sign with a reference implementation on random strings', () => {
    const pool = ['a', 'b', 'z', '\u00e9', '\uD7FF', '\uE000', '\uFF5E', '\uFFFF', '\u{10000}', '\u{1F600}', '\u{1F601}', '\u{10FFFF}'];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const word = () => {
      let w = '';
      for (let i = rand(5); i > 0; i--) w += pool[rand(pool.length)];
      return w;
    };
    for (let i = 0; i < 2000; i++) {
      const a = word();
      const b = word();
      assert.equal(Math.sign(compareCodePoints(a, b)), Math.sign(refCompare(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
  });
});

describe('editDistance', () => {
  test('classic examples', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('flaw', 'lawn'), 2);
    assert.equal(editDistance('ouputs', 'outputs'), 1);
    assert.equal(editDistance('input', 'inputs'), 1);
    assert.equal(editDistance('rule', 'rules'), 1);
    assert.equal(editDistance('inptus', 'inputs'), 2);
  });

  test('empty strings and identity', () => {
    assert.equal(editDistance('', ''), 0);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('abc', ''), 3);
    assert.equal(editDistance('same', 'same'), 0);
  });

  test('is symmetric', () => {
    const words = ['', 'a', 'ab', 'abc', 'outputs', 'inputs', 'params', 'paramz', 'resources'];
    for (const a of words) for (const b of words) assert.equal(editDistance(a, b), editDistance(b, a));
  });
});

describe('suggest / didYouMean', () => {
  const TOP = ['config', 'include', 'default', 'shell', 'env', 'rules'];
  const RULE = ['inputs', 'outputs', 'run', 'params', 'resources', 'log', 'retries', 'env', 'description', 'order_only', 'always'];

  test('suggests the closest candidate for a typo', () => {
    assert.equal(suggest('rule', TOP), 'rules');
    assert.equal(suggest('ouputs', RULE), 'outputs');
    assert.equal(suggest('input', RULE), 'inputs');
    assert.equal(suggest('descripton', RULE), 'description');
    assert.equal(suggest('retry', RULE), undefined); // 3 edits: too far for a 5-letter word
    assert.equal(suggest('confg', TOP), 'config');
  });

  test('is case-insensitive but returns the candidate as spelled', () => {
    assert.equal(suggest('RULES', TOP), 'rules');
    assert.equal(suggest('Outputs', RULE), 'outputs');
  });

  test('suggests nothing when no candidate is close', () => {
    assert.equal(suggest('banana', TOP), undefined);
    assert.equal(suggest('xy', ['abcd']), undefined);
    assert.equal(suggest('rule', []), undefined);
  });

  test('the allowed distance grows with the word length', () => {
    // length 3..5: distance 1; length 6..8: distance 2.
    assert.equal(suggest('abc', ['abd']), 'abd');
    assert.equal(suggest('abc', ['aXY']), undefined);
    assert.equal(suggest('abcdef', ['abcdXY']), 'abcdXY');
    assert.equal(suggest('abcdef', ['abcXYZ']), undefined);
  });

  test('didYouMean formats the hint, or nothing', () => {
    assert.equal(didYouMean('rule', TOP), " (did you mean 'rules'?)");
    assert.equal(didYouMean('banana', TOP), '');
  });
});
