// Globs and symbolic links, through the built CLI: a bad entry in a globbed
// directory is skipped (with a warning when it could have matched), never the
// directory; `**` follows a link back up the tree without matching a file
// twice; a dangling link is never an input, and the build goes on without it.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { project, show, yaml, type Project } from './helpers.js';

const CAT_TXT = yaml(
  'rules:', //
  '  all:',
  '    inputs: "raw/*.txt"',
  '    outputs: out.txt',
  '    run: cat {inputs} > {output}',
);

const WARNING = "rules: warning: Rulefile:3:13: the glob 'raw/*.txt' skips 'raw/c.txt': a symbolic link to nothing\n";

function link(p: Project, rel: string, target: string): void {
  fs.symlinkSync(target, p.path(rel));
}

describe('globs over symbolic links', () => {
  test('a self-loop and a dangling loop in a globbed directory: the other files are still inputs', (t) => {
    const p = project(t, { Rulefile: CAT_TXT, 'raw/a.txt': 'alpha\n', 'raw/b.txt': 'beta\n' });
    link(p, 'raw/self', 'self');
    link(p, 'raw/ping', 'pong');
    link(p, 'raw/pong', 'ping');
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('out.txt'), 'alpha\nbeta\n');
    // The loops could not have matched `*.txt`: nothing to warn of.
    assert.doesNotMatch(r.stderr, /warning/, show(r));
  });

  test('** through a link to an ancestor: each file is an input once', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  all:', '    inputs: "data/**/*.csv"', '    outputs: list.txt', '    run: echo {inputs} > {output}'),
      'data/x.csv': '1\n',
      'data/sub/y.csv': '2\n',
    });
    link(p, 'data/sub/up', '..');
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('list.txt'), 'data/sub/y.csv data/x.csv\n');
    assert.doesNotMatch(r.stderr, /warning/, show(r));
  });

  test('a dangling link matching a glob is skipped with a warning on every build until it is fixed', (t) => {
    const p = project(t, { Rulefile: CAT_TXT, 'raw/a.txt': 'alpha\n', 'raw/b.txt': 'beta\n' });
    link(p, 'raw/c.txt', '../attic/c.txt');
    const dry = p.run(['build', '-n']);
    assert.equal(dry.status, 0, show(dry));
    assert.equal(dry.stdout, 'all out.txt: output missing: out.txt\n');
    assert.ok(dry.stderr.includes(WARNING), show(dry));

    const first = p.run(['build']);
    assert.equal(first.status, 0, show(first));
    assert.equal(p.read('out.txt'), 'alpha\nbeta\n');
    assert.equal(first.stderr.split(WARNING).length, 2, `the warning once:\n${show(first)}`);

    // Up to date, but the no-op answer from the stamp must not hide the warning.
    const again = p.run(['build', '-v']);
    assert.equal(again.status, 0, show(again));
    assert.ok(again.stderr.includes(WARNING), show(again));
    assert.doesNotMatch(again.stderr, /as the last build left them/, 'the full path answers');
    assert.equal(again.stdout, 'rules: nothing to do\n');

    // rules clean of a target builds its graph too: it warns the same way.
    const clean = p.run(['clean', '-n', 'all']);
    assert.equal(clean.status, 0, show(clean));
    assert.ok(clean.stderr.includes(WARNING), show(clean));
    assert.equal(clean.stdout, 'would remove out.txt\n');

    // The link leads somewhere again: it is an input like any file.
    p.write({ 'attic/c.txt': 'gamma\n' });
    const fixed = p.run(['build']);
    assert.equal(fixed.status, 0, show(fixed));
    assert.equal(p.read('out.txt'), 'alpha\nbeta\ngamma\n');
    assert.doesNotMatch(fixed.stderr, /warning/, show(fixed));
    const quiet = p.run(['build', '-v']);
    assert.equal(quiet.status, 0, show(quiet));
    assert.match(quiet.stderr, /^rules: all \d+ files as the last build left them$/m, 'the fast path answers again');
  });

  test('an include glob skips a dangling link with a warning; the rest loads', (t) => {
    const p = project(t, {
      Rulefile: yaml('include: ["rules/*.yaml"]', 'default: x'),
      'rules/x.yaml': yaml('rules:', '  x:', '    outputs: x.txt', '    run: echo x > {output}'),
    });
    link(p, 'rules/old.yaml', '../attic/old.yaml');
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('x.txt'), 'x\n');
    assert.ok(r.stderr.includes("rules: warning: Rulefile:1:11: the glob 'rules/*.yaml' skips 'rules/old.yaml': a symbolic link to nothing\n"), show(r));
  });
});
