// The job description a `script:` job reads (SPEC §6): a JSON file under
// .rules/jobs/ named by $RULES_JOB, written before the job starts and removed
// after it ends. Under the project root, so a SLURM job on a node of the
// cluster reads it on the shared file system.

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { stateWriteError } from './io.js';
import { jobsDir, shownStatePath } from './paths.js';
import { markerName } from './started.js';

/** Writes the job's description; returns its absolute path. */
export function writeJobFile(root: string, key: string, text: string): string {
  const dir = jobsDir(root);
  const path = `${dir}/${markerName(key)}.json`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, text);
  } catch (e) {
    throw stateWriteError('the job description', `${shownStatePath('jobs')}/${markerName(key)}.json`, e);
  }
  return path;
}

export function removeJobFile(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // Left behind: the next run of the job writes it afresh.
  }
}
