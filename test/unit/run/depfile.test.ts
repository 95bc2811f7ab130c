// Depfiles in Make's syntax as compilers write them (`cc -MD -MF`, `-MMD -MP`):
// what the parser takes from each, what it refuses, and how each path it finds
// is named relative to the project root.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { depPath, parseDepfile } from '../../../src/run/depfile.js';

/** Depfile text → the dependencies found, in order, each once. */
const CASES: [string, string, string[]][] = [
  ['one rule', 'a.o: a.c a.h\n', ['a.c', 'a.h']],
  ['no newline at the end', 'a.o: a.c a.h', ['a.c', 'a.h']],
  ['continuation lines, as gcc writes them', 'obj/a.o: src/a.c include/a.h \\\n  include/common.h \\\n /usr/include/stdio.h\n', ['src/a.c', 'include/a.h', 'include/common.h', '/usr/include/stdio.h']],
  ['a continuation right after the colon', 'a.o: \\\n a.c \\\n a.h\n', ['a.c', 'a.h']],
  ['an escaped space is part of the name', 'a.o: my\\ dir/a\\ b.h c.h\n', ['my dir/a b.h', 'c.h']],
  ['2N+1 backslashes and a space: N backslashes and a space', 'a.o: x\\\\\\ y.h\n', ['x\\ y.h']],
  ['2N backslashes and a space: the backslashes, and the name ends', 'a.o: x\\\\ y.h\n', ['x\\\\', 'y.h']],
  ['a backslash before anything else is a backslash', 'a.o: dir\\a.h\n', ['dir\\a.h']],
  ['$$ is one $', 'a.o: cost$$1.h pay$$$$.h\n', ['cost$1.h', 'pay$$.h']],
  ['\\# is a #, not a comment', 'a.o: issue\\#3.h b.h\n', ['issue#3.h', 'b.h']],
  ['CRLF line ends', 'a.o: a.c \\\r\n a.h\r\nb.o: b.c\r\n', ['a.c', 'a.h', 'b.c']],
  ['several targets on one rule', 'a.o a.d: a.c a.h\n', ['a.c', 'a.h']],
  ['several rules: every dependency of every rule, each once', 'a.o: a.c x.h\nb.o: b.c x.h y.h\n', ['a.c', 'x.h', 'b.c', 'y.h']],
  ['-MP: empty rules for each header are no dependencies', 'a.o: a.c a.h b.h\n\na.h:\n\nb.h:\n', ['a.c', 'a.h', 'b.h']],
  ['blank lines and comments', '# made by cc\n\na.o: a.c # the source\n  \n# a.h: nothing\n', ['a.c']],
  ['a comment continued on the next line by a backslash', '# one \\\n two: three\na.o: a.c\n', ['a.c']],
  ['tabs separate like spaces', 'a.o:\ta.c\ta.h\n', ['a.c', 'a.h']],
  ['a colon inside a name (not ending a word) is part of it', 'a.o: x:y.h\n', ['x:y.h']],
  ['an empty file names nothing', '', []],
  ['only blank lines and comments', '\n# nothing\n\n', []],
];

describe('depfile: what the parser takes', () => {
  for (const [what, text, deps] of CASES) {
    test(what, () => {
      assert.deepEqual(parseDepfile(text), { ok: true, deps });
    });
  }
});

describe('depfile: what it refuses, and the line at fault', () => {
  test("a line with no ':' after its targets", () => {
    assert.deepEqual(parseDepfile('a.o: a.c\nnonsense here\n'), { ok: false, problem: { kind: 'no-separator', line: 2 } });
    assert.deepEqual(parseDepfile('just words'), { ok: false, problem: { kind: 'no-separator', line: 1 } });
  });

  test("a colon glued to the next word does not separate (Ninja reads it so too)", () => {
    assert.deepEqual(parseDepfile('a.o:a.c\n'), { ok: false, problem: { kind: 'no-separator', line: 1 } });
  });

  test('a rule continued over lines is named by the line it starts on', () => {
    assert.deepEqual(parseDepfile('a.o: a.c\n\nb.o \\\n c.o \\\n d.o\n'), { ok: false, problem: { kind: 'no-separator', line: 3 } });
  });

  test('a backslash at the very end of the file: an unterminated escape', () => {
    assert.deepEqual(parseDepfile('a.o: a.c \\'), { ok: false, problem: { kind: 'unterminated-escape', line: 1 } });
    assert.deepEqual(parseDepfile('a.o: a.c \\\n a.h \\\\'), { ok: false, problem: { kind: 'unterminated-escape', line: 2 } });
  });
});

describe('depfile: paths as the engine names them', () => {
  const ROOT = '/home/u/proj';
  const PATHS: [string, string | undefined][] = [
    ['src/a.h', 'src/a.h'],
    ['./src/a.h', 'src/a.h'],
    ['src/../include/a.h', 'include/a.h'],
    ['src//a.h', 'src/a.h'],
    ['/home/u/proj/include/a.h', 'include/a.h'],
    ['/home/u/proj/./include/../src/a.h', 'src/a.h'],
    ['/usr/include/stdio.h', '/usr/include/stdio.h'],
    ['/usr/lib/gcc/../../include/x.h', '/usr/include/x.h'],
    ['/home/u/project2/x.h', '/home/u/project2/x.h'],
    ['../lib/x.h', '/home/u/lib/x.h'],
    ['../proj/src/a.h', 'src/a.h'],
    ['.', undefined],
    ['/home/u/proj', undefined],
  ];
  for (const [raw, named] of PATHS) {
    test(`${raw} -> ${named ?? '(nothing)'}`, () => {
      assert.equal(depPath(ROOT, raw), named);
    });
  }
});
