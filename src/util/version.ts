// The version of rules, from its package.json: the nearest one above this
// file, which is the package's own whether this module runs as compiled
// (dist/src/util/) or bundled (dist/bin/).

import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function version(): string {
  if (cached !== undefined) return cached;
  cached = 'unknown';
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      cached = (JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { version: string }).version;
      break;
    } catch {
      // Not here: the directory above.
    }
    if (dir.pathname === '/') break;
  }
  return cached;
}
