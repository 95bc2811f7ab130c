// The shape of the source, as docs/architecture.md draws it: the command line
// stays in cli/, watch mode and the CLI meet only in the builder.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';

const SRC = new URL('../../../src/', import.meta.url).pathname;

/** Every .ts file under src/, with the folder-relative module paths it imports. */
function modules(): { file: string; imports: string[] }[] {
  const out: { file: string; imports: string[] }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        const text = readFileSync(p, 'utf8');
        const imports = [...text.matchAll(/(?:from\s+|import\s*\()\s*'(\.[^']+)'/g)].map((m) => relative(SRC, join(dir, m[1]!)));
        out.push({ file: relative(SRC, p), imports });
      }
    }
  };
  walk(SRC);
  return out;
}

const folder = (path: string) => path.split('/')[0]!;

describe('source structure', () => {
  const all = modules();

  test('the sources are found (the test looks at something)', () => {
    assert.ok(all.length > 40, `${all.length} modules`);
    assert.ok(all.some((m) => m.file === 'build/builder.ts'));
  });

  test('cli/ and watch/ do not import each other', () => {
    const bad = all.filter((m) => (folder(m.file) === 'cli' && m.imports.some((i) => folder(i) === 'watch')) || (folder(m.file) === 'watch' && m.imports.some((i) => folder(i) === 'cli')));
    // The CLI may load watch mode lazily (a dynamic import) only through the builder's request: not even that.
    assert.deepEqual(
      bad.map((m) => m.file),
      [],
    );
  });

  test('no module outside cli/ imports anything from cli/ (the parsed command line stays there)', () => {
    const bad = all.filter((m) => folder(m.file) !== 'cli' && m.imports.some((i) => folder(i) === 'cli'));
    assert.deepEqual(
      bad.map((m) => `${m.file} -> ${m.imports.filter((i) => folder(i) === 'cli').join(', ')}`),
      [],
    );
  });

  test("SPEC §2's reason phrases are written only in report/ (everything else passes typed reasons)", () => {
    const phrases = ['output missing', 'no record: input newer', 'input newer than output', 'params changed', 'env changed', 'inputs changed', 'outputs changed', 'command changed', 'input changed', 'output modified', 'upstream will run', 'incomplete: previous run'];
    const bad: string[] = [];
    for (const m of all) {
      if (folder(m.file) === 'report') continue;
      const text = readFileSync(join(SRC, m.file), 'utf8');
      for (const p of phrases) if (text.includes(`'${p}`) || text.includes(`\`${p}`) || text.includes(`"${p}`)) bad.push(`${m.file}: ${p}`);
    }
    assert.deepEqual(bad, []);
  });
});
