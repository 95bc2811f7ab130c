// Where a job's output goes when it is too long to keep in memory
// (run/output.ts): one file per job under .rules/output/. Each build that runs
// jobs starts with an empty directory, so the files left are those of the last
// build, and the disk they take is bounded by what one build printed.

import { rmSync } from 'node:fs';
import { quickHash } from '../util/hash.js';
import { outputDir } from './paths.js';

/** The spill file of a job: its rule's name (for people) and a hash of the job's name (one file per job). */
export function outputSpillPath(root: string, rule: string, jobName: string): string {
  const readable = rule.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
  // 48 bits of a fast hash, as 12 hex digits: names of one build's jobs do not collide.
  const hash = quickHash(jobName).toString(16).padStart(14, '0').slice(-12);
  return `${outputDir(root)}/${readable}-${hash}.log`;
}

/** Removes the spill files of earlier builds; called under the build lock. */
export function clearOutputDir(root: string): void {
  rmSync(outputDir(root), { recursive: true, force: true });
}
