// The built CLI is what `npx rules` and an installed `rules` run: an
// executable file with a node shebang.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { CLI, REPO } from './helpers.js';

test('the CLI file is executable and runs by itself', () => {
  assert.ok((statSync(CLI).mode & 0o111) !== 0, `${CLI} is executable`);
  assert.match(readFileSync(CLI, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  const r = spawnSync(CLI, ['--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^rules \d+\.\d+\.\d+\n$/);
});

test('package.json names it as the `rules` bin', () => {
  const pkg = JSON.parse(readFileSync(`${REPO}/package.json`, 'utf8')) as { bin: Record<string, string> };
  assert.equal(pkg.bin['rules'], 'dist/bin/main.js');
});
