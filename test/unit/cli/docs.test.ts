// docs/cli.md is the reference of the command line: it names every command
// and every option of the table `rules --help` is made from, so an option
// added there without its documentation fails here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS, FLAGS } from '../../../src/cli/args.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const doc = fs.readFileSync(path.join(REPO, 'docs', 'cli.md'), 'utf8');

test('docs/cli.md has a section for every command', () => {
  const sections = [...doc.matchAll(/^## `rules (\w+)/gm)].map((m) => m[1]);
  for (const c of COMMANDS) assert.ok(sections.includes(c.name), `a '## \`rules ${c.name}' section`);
});

test('docs/cli.md names every option, by its long name and its short one', () => {
  for (const f of Object.values(FLAGS)) {
    assert.ok(doc.includes(`--${f.long}`), `--${f.long} is documented`);
    if (f.short) assert.ok(new RegExp(`\`-${f.short}[\` ]`).test(doc), `-${f.short} is documented`);
  }
});
