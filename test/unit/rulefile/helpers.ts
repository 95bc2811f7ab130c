// Shared helpers for the Rulefile loader tests: temp projects, loading, and
// assertions on diagnostics (message + FILE:LINE:COL).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject, type LoadOptions } from '../../../src/rulefile/load.js';
import type { Project } from '../../../src/rulefile/model.js';
import { UserError, type Diagnostic } from '../../../src/util/errors.js';

/** File name (relative to the project dir) → content. A string is the Rulefile. */
export type Files = Record<string, string> | string;

const created: string[] = [];
process.on('exit', () => {
  for (const d of created) fs.rmSync(d, { recursive: true, force: true });
});

/** Joins lines with '\n' (and a trailing newline), so line N of a test's YAML is element N-1. */
export function yaml(...lines: string[]): string {
  return lines.join('\n') + '\n';
}

/** Creates a temp project directory holding `files`. */
export function makeProject(files: Files): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-test-'));
  created.push(dir);
  const map = typeof files === 'string' ? { Rulefile: files } : files;
  for (const [name, text] of Object.entries(map)) {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  }
  return dir;
}

/** Loads a project made from `files`; must succeed. */
export function load(files: Files, opts: Partial<LoadOptions> = {}): Project {
  const dir = makeProject(files);
  return loadProject({ cwd: dir, ...opts });
}

/** Loads a project made from `files`; must fail with a UserError, whose diagnostics are returned. */
export function errorsOf(files: Files, opts: Partial<LoadOptions> = {}): Diagnostic[] {
  const dir = makeProject(files);
  return errorsIn(dir, opts);
}

export function errorsIn(dir: string, opts: Partial<LoadOptions> = {}): Diagnostic[] {
  let thrown: unknown;
  try {
    loadProject({ cwd: dir, ...opts });
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) assert.fail('expected loadProject to throw a UserError, but it succeeded');
  if (!(thrown instanceof UserError)) {
    assert.fail(`expected a UserError, got ${(thrown as Error)?.name}: ${(thrown as Error)?.message}`);
  }
  assert.ok(thrown.diagnostics.length > 0, 'a UserError should carry at least one diagnostic');
  assert.equal(
    thrown.message,
    // A whole line (a row of a table file, column 0) is shown as FILE:LINE; a detail (code frame, hint) follows on lines of its own.
    thrown.diagnostics
      .map((d) => (d.loc ? `${d.loc.file}:${d.loc.line}${d.loc.col > 0 ? `:${d.loc.col}` : ''}: ${d.message}` : d.message) + (d.detail === undefined ? '' : `\n${d.detail}`))
      .join('\n'),
  );
  return thrown.diagnostics;
}

export interface Expected {
  /** A substring, or a regex, the message must match. */
  message: string | RegExp;
  line?: number;
  col?: number;
  /** Defaults to 'Rulefile' when line is given. */
  file?: string;
}

export function assertDiagnostic(d: Diagnostic, exp: Expected): void {
  if (typeof exp.message === 'string') {
    assert.ok(d.message.includes(exp.message), `message ${JSON.stringify(d.message)} should include ${JSON.stringify(exp.message)}`);
  } else {
    assert.match(d.message, exp.message);
  }
  if (exp.line !== undefined) {
    assert.ok(d.loc, `diagnostic ${JSON.stringify(d.message)} should have a location`);
    assert.equal(d.loc.file, exp.file ?? 'Rulefile', `file of ${JSON.stringify(d.message)}`);
    assert.equal(d.loc.line, exp.line, `line of ${JSON.stringify(d.message)}`);
    if (exp.col !== undefined) assert.equal(d.loc.col, exp.col, `column of ${JSON.stringify(d.message)}`);
  }
}

/** The project fails to load with exactly one diagnostic, matching `exp`. */
export function expectOnlyError(files: Files, exp: Expected, opts: Partial<LoadOptions> = {}): Diagnostic {
  const ds = errorsOf(files, opts);
  assert.equal(ds.length, 1, `expected exactly one diagnostic, got:\n${ds.map((d) => `  ${JSON.stringify(d)}`).join('\n')}`);
  assertDiagnostic(ds[0]!, exp);
  return ds[0]!;
}

/** The project fails to load with (at least) a diagnostic matching `exp`. */
export function expectError(files: Files, exp: Expected, opts: Partial<LoadOptions> = {}): Diagnostic[] {
  const ds = errorsOf(files, opts);
  const hit = ds.find((d) => (typeof exp.message === 'string' ? d.message.includes(exp.message) : exp.message.test(d.message)));
  assert.ok(hit, `no diagnostic matches ${String(exp.message)}; got:\n${ds.map((d) => `  ${JSON.stringify(d)}`).join('\n')}`);
  assertDiagnostic(hit, exp);
  return ds;
}
