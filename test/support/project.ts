// Loads a Project from Rulefile text (written to a temp dir) for unit tests.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGraph } from '../../src/graph/build.js';
import { loadProject } from '../../src/rulefile/load.js';
import type { Project } from '../../src/rulefile/model.js';
import { UserError, type Diagnostic } from '../../src/util/errors.js';
import type { FileSystem } from '../../src/util/fs.js';

/** `files`: more files beside the Rulefile (a table the Rulefile names), by path relative to it. */
export function projectFrom(rulefile: string, configOverrides: string[] = [], files: Record<string, string> = {}): Project {
  const dir = mkdtempSync(join(tmpdir(), 'rules-unit-'));
  try {
    writeFileSync(join(dir, 'Rulefile'), rulefile);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return loadProject({ cwd: dir, configOverrides });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Dedents a template literal so Rulefiles can be written inline. */
export function yaml(strings: TemplateStringsArray, ...values: unknown[]): string {
  const text = strings.reduce((acc, s, i) => acc + s + (i < values.length ? String(values[i]) : ''), '');
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

/** The diagnostics of the UserError that building `targets` throws; fails the test if the graph is built. */
export function graphProblems(project: Project, targets: string[], fs: FileSystem): Diagnostic[] {
  try {
    buildGraph(project, targets, fs);
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    return e.diagnostics;
  }
  assert.fail('expected the graph to be refused');
}
