// schema/rulefile.schema.json is kept in step with the loader: it names
// exactly the keys the loader accepts, and every Rulefile of the repository
// and of the docs is valid under it.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap } from 'yaml';
import { INCLUDE_KEYS, loadProject, TOP_KEYS } from '../../../src/rulefile/load.js';
import { RULE_KEYS, SLURM_KEYS } from '../../../src/rulefile/rules.js';
import { SourceFile } from '../../../src/rulefile/source.js';
import { TABLE_KEYS } from '../../../src/rulefile/tables.js';
import { unknownKeywords, validate, type Schema } from '../../support/jsonschema.js';

/** The repository root (this file compiles to dist/test/unit/rulefile). */
const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const schema = JSON.parse(fs.readFileSync(path.join(REPO, 'schema/rulefile.schema.json'), 'utf8')) as Record<string, any>;

/** A YAML text as the loader reads it (merge keys applied, aliases resolved). */
function valueOf(text: string, name: string): unknown {
  const src = new SourceFile(name, text);
  assert.deepEqual(src.doc.errors, [], `${name} is valid YAML`);
  return src.toValue(src.doc.contents);
}

function assertValid(value: unknown, name: string): void {
  assert.deepEqual(validate(value, schema as Schema), [], `${name} is valid under the schema`);
}

/** Every file named Rulefile* in the repository, outside what is built or installed. */
function repoRulefiles(dir = REPO): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', '.git', '.rules'].includes(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...repoRulefiles(p));
    else if (/^Rulefile(\.ya?ml|\.example)?$/.test(e.name)) out.push(p);
  }
  return out;
}

/** The ```yaml blocks of a Markdown text (indented ones too), each with the line it starts on. */
function yamlBlocks(markdown: string): { text: string; line: number }[] {
  const lines = markdown.split('\n');
  const out: { text: string; line: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```ya?ml\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push(lines[j]!.slice(indent));
    out.push({ text: body.join('\n') + '\n', line: i + 2 });
    i = j;
  }
  return out;
}

describe('the Rulefile schema', () => {
  test('uses only the JSON Schema keywords the test validator checks', () => {
    assert.deepEqual(unknownKeywords(schema as Schema), []);
  });

  test('names exactly the keys the loader accepts: top level, rule, slurm, table', () => {
    const keys = (o: Record<string, unknown>) => Object.keys(o).sort();
    assert.deepEqual(keys(schema.properties), [...TOP_KEYS].sort());
    assert.ok(INCLUDE_KEYS.every((k) => TOP_KEYS.includes(k)), 'an included file holds a subset of the top-level keys');
    assert.deepEqual(keys(schema.definitions.rule.properties), [...RULE_KEYS].sort());
    assert.deepEqual(keys(schema.definitions.rule.properties.slurm.properties), [...SLURM_KEYS].sort());
    assert.deepEqual(keys(schema.properties.tables.additionalProperties.properties), [...TABLE_KEYS].sort());
  });

  test('rejects what the loader rejects: an unknown key, a misspelled rule key, a wrong type', () => {
    const problems = (text: string) => validate(valueOf(text, 'snippet'), schema as Schema);
    assert.match(problems('rule:\n  a: {run: x}\n').join('\n'), /'rule' is not allowed/);
    assert.match(problems('rules:\n  a: {ouputs: x.txt, run: x}\n').join('\n'), /\/rules\/a: 'ouputs' is not allowed/);
    assert.match(problems('rules:\n  a: {retries: -1, run: x}\n').join('\n'), /\/rules\/a\/retries: -1 is less than 0/);
    assert.match(problems('rules:\n  a: {always: "yes", run: x}\n').join('\n'), /\/rules\/a\/always: expected boolean, got string/);
    assert.notDeepEqual(problems('rules:\n  a: {inputs: [{expand: "x/{n}", n: {glob: "a", config: "b"}}], run: x}\n'), []);
    assert.deepEqual(problems('rules:\n  a: {inputs: [{expand: "x/{n}", n: {glob: "a/{n}"}}], run: x}\n'), []);
  });

  test('every Rulefile of the repository, and every file it includes, is valid', () => {
    const files = repoRulefiles();
    assert.ok(files.length > 0, 'the repository has Rulefiles');
    let checked = 0;
    for (const file of files) {
      const project = loadProject({ cwd: path.dirname(file), rulefile: file });
      for (const f of project.files) {
        assertValid(valueOf(fs.readFileSync(f, 'utf8'), path.relative(REPO, f)), path.relative(REPO, f));
        checked++;
      }
    }
    assert.ok(checked > files.length, 'included files were checked too');
  });

  test('every Rulefile snippet of README.md and docs/ (a YAML block with rules:) is valid', () => {
    const docs = ['README.md', ...fs.readdirSync(path.join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    let checked = 0;
    for (const doc of docs) {
      for (const block of yamlBlocks(fs.readFileSync(path.join(REPO, doc), 'utf8'))) {
        const name = `${doc}:${block.line}`;
        const src = new SourceFile(name, block.text);
        // A snippet that is not a whole Rulefile (a fragment, a config file) is not one to check.
        if (src.doc.errors.length > 0 || !isMap(src.doc.contents) || !src.doc.contents.has('rules')) continue;
        assertValid(src.toValue(src.doc.contents), name);
        checked++;
      }
    }
    assert.ok(checked >= 3, `Rulefile snippets were found in the docs (${checked})`);
  });
});
