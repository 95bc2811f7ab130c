// Where the engine keeps its state: everything under <root>/.rules/.

export const STATE_DIR = '.rules';

export function stateDir(root: string): string {
  return `${root}/${STATE_DIR}`;
}

/** The event log every build appends to (JSON lines). */
export function eventLogPath(root: string): string {
  return `${stateDir(root)}/logs/events.jsonl`;
}
