// Helpers shared by the staleness, crash and clean end-to-end tests.

import assert from 'node:assert/strict';
import { nonEmptyLines, show, waitFor, type Project, type RunResult } from './helpers.js';

/** Runs `rules build -n ARGS`, asserts exit 0, and returns the plan lines. */
export function plan(p: Project, ...args: string[]): string[] {
  const r = p.run(['build', '-n', ...args]);
  assert.equal(r.status, 0, show(r));
  return nonEmptyLines(r.stdout);
}

/** Runs `rules build ARGS`, asserts exit 0, and returns the ran.log lines this build added. */
export function build(p: Project, ...args: string[]): { added: string[]; r: RunResult } {
  const before = p.lines().length;
  const r = p.run(['build', ...args]);
  assert.equal(r.status, 0, show(r));
  return { added: p.lines().slice(before), r };
}

/** Kills a whole process group, ignoring errors (it may be gone already). */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Gone.
  }
}

/** A PID written by a job into a file, once the file holds a whole line. */
export async function pidFrom(p: Project, rel: string): Promise<number> {
  await waitFor(() => p.exists(rel) && p.read(rel).endsWith('\n'), `${rel} to be written`);
  const pid = Number(p.read(rel).trim());
  assert.ok(Number.isInteger(pid) && pid > 0, `a PID in ${rel}`);
  return pid;
}
