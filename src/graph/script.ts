// How a `script:` rule runs its script (SPEC §6): with the interpreter its
// extension names, else the program of its `#!` line.

import { posix } from 'node:path';

/** The interpreter of each known script extension. */
export const INTERPRETERS: ReadonlyMap<string, readonly string[]> = new Map([
  ['.py', ['python3']],
  ['.R', ['Rscript']],
  ['.jl', ['julia']],
  ['.sh', ['bash']],
  ['.js', ['node']],
  ['.mjs', ['node']],
]);

/** How many bytes of a script are read to find its `#!` line. */
export const SHEBANG_BYTES = 512;

/** The interpreter its extension names, or undefined. */
export function interpreterByExtension(path: string): readonly string[] | undefined {
  return INTERPRETERS.get(posix.extname(path));
}

/** The program and arguments of a `#!` line at the start of `head`, or undefined when there is none. */
export function interpreterByShebang(head: string): string[] | undefined {
  if (!head.startsWith('#!')) return undefined;
  const nl = head.indexOf('\n');
  const words = head
    .slice(2, nl < 0 ? undefined : nl)
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  return words.length > 0 ? words : undefined;
}

/** Why a script cannot be run, in words for the user. */
export function noInterpreterMessage(label: string, path: string): string {
  const known = [...INTERPRETERS.keys()].join(', ');
  return `${label}: cannot tell how to run script '${path}': its extension is none of ${known}, and it has no '#!' line`;
}
