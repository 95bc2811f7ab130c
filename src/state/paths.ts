// Where the engine keeps its state: everything under <root>/.rules/.

import { mkdirSync, readdirSync, renameSync, rmdirSync, statSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { stateWriteError } from './io.js';

export const STATE_DIR = '.rules';

export function stateDir(root: string): string {
  return `${root}/${STATE_DIR}`;
}

/** Job scripts and logs of jobs run on SLURM. */
export function slurmDir(root: string): string {
  return `${stateDir(root)}/slurm`;
}

/** The event log every build appends to (JSON lines). */
export function eventLogPath(root: string): string {
  return `${stateDir(root)}/logs/events.jsonl`;
}

/** The event log is rotated once it grows past this size: one older generation is kept. */
export const EVENT_LOG_MAX_BYTES = 16 * 1024 * 1024;

/** Moves a grown event log aside (to events.1.jsonl), so the log never grows without bound. */
export function rotateEventLog(root: string, maxBytes = EVENT_LOG_MAX_BYTES): void {
  const path = eventLogPath(root);
  try {
    const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    if (size > maxBytes) renameSync(path, path.replace(/\.jsonl$/, '.1.jsonl'));
  } catch (e) {
    throw stateWriteError('the event log', `${STATE_DIR}/logs/events.jsonl`, e);
  }
}

/** What each entry rules keeps under .rules/ must be; anything else there is left alone. */
const LAYOUT: [string, 'file' | 'dir'][] = [
  ['log', 'file'],
  ['log.tmp', 'file'],
  ['uptodate', 'file'],
  ['logs', 'dir'],
  ['logs/events.jsonl', 'file'],
  ['logs/events.1.jsonl', 'file'],
  ['slurm', 'dir'],
  ['started', 'dir'],
  ['output', 'dir'],
];

/** Makes .rules/ if needed; a file in its place is the user's to move. */
export function makeStateDir(root: string): void {
  const dir = stateDir(root);
  const st = statSync(dir, { throwIfNoEntry: false });
  if (st !== undefined && !st.isDirectory()) {
    throw new UserError(`${STATE_DIR} is a file, but rules keeps its state in a directory of that name: move the file away`);
  }
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw stateWriteError('its state directory', STATE_DIR, e);
  }
}

/**
 * Checks that what rules keeps under .rules/ has the kind it must have, before
 * a build writes there: an empty directory where a file belongs (nothing in
 * it to lose) is removed; anything else is reported, never deleted.
 */
export function checkStateLayout(root: string): void {
  for (const [rel, kind] of LAYOUT) {
    const path = `${stateDir(root)}/${rel}`;
    let st;
    try {
      st = statSync(path, { throwIfNoEntry: false });
    } catch {
      continue; // Its directory is of the wrong kind: reported for that entry.
    }
    if (st === undefined || (kind === 'dir' ? st.isDirectory() : st.isFile())) continue;
    if (kind === 'file' && st.isDirectory() && readdirSync(path).length === 0) {
      try {
        rmdirSync(path);
        continue;
      } catch {
        // Reported below.
      }
    }
    const what = st.isDirectory() ? 'a directory' : st.isFile() ? 'a file' : 'not a regular file';
    throw new UserError(`${STATE_DIR}/${rel} is ${what}, but rules keeps ${kind === 'dir' ? 'a directory' : 'a file'} there: move it away`);
  }
}
