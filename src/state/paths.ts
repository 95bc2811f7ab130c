// Where the engine keeps its state: everything under <root>/.rules/.

import { renameSync, statSync } from 'node:fs';

export const STATE_DIR = '.rules';

export function stateDir(root: string): string {
  return `${root}/${STATE_DIR}`;
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
  const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  if (size > maxBytes) renameSync(path, path.replace(/\.jsonl$/, '.1.jsonl'));
}
