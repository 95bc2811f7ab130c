// Where the Rulefile is: kept apart from the loader so that the no-op fast
// path can find the project without loading the YAML parser.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../util/errors.js';

export const RULEFILE_NAMES = ['Rulefile', 'Rulefile.yaml', 'Rulefile.yml'];

export function findRulefile(cwd: string, given?: string): string {
  if (given !== undefined) {
    const p = resolve(cwd, given);
    if (!existsSync(p)) throw new UserError(`no such Rulefile: '${given}'`);
    return p;
  }
  for (const name of RULEFILE_NAMES) {
    const p = resolve(cwd, name);
    if (existsSync(p)) return p;
  }
  throw new UserError(`no Rulefile here (looked for ${RULEFILE_NAMES.join(', ')} in ${cwd}); write one, or name it with -f FILE`);
}
