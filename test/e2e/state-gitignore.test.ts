// .rules/ keeps itself out of git: the build that makes it writes
// .rules/.gitignore (`*`), and later builds leave that file as it is.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { test } from 'node:test';
import { project, show, yaml } from './helpers.js';

const RULEFILE = yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo a > {output}');

test('the first build writes .rules/.gitignore; git then sees none of .rules/', (t) => {
  const p = project(t, { Rulefile: RULEFILE });
  assert.equal(p.run(['build', '-n']).status, 0);
  assert.equal(p.exists('.rules'), false, 'a dry run makes no .rules/');
  const r = p.run(['build']);
  assert.equal(r.status, 0, show(r));
  assert.equal(p.read('.rules/.gitignore'), '*\n');

  const git = (...args: string[]) => spawnSync('git', args, { cwd: p.dir, encoding: 'utf8' });
  if (git('--version').status !== 0) return t.skip('git is not installed');
  assert.equal(git('init', '-q').status, 0);
  assert.equal(git('status', '--porcelain', '--untracked-files=all').stdout, '?? Rulefile\n?? a.txt\n');
});

test('a .gitignore the user changed or removed stays so: it is written only when .rules/ is made', (t) => {
  const p = project(t, { Rulefile: RULEFILE });
  assert.equal(p.run(['build']).status, 0);
  p.write({ '.rules/.gitignore': '*\n!notes.txt\n' });
  assert.equal(p.run(['build', '-B']).status, 0);
  assert.equal(p.read('.rules/.gitignore'), '*\n!notes.txt\n');
  fs.rmSync(p.path('.rules/.gitignore'));
  assert.equal(p.run(['build', '-B']).status, 0);
  assert.equal(p.exists('.rules/.gitignore'), false);
});
