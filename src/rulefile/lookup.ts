// Values looked up per job (SPEC §7): `{tables.NAME.COL}`, the job's row's
// value of a column, and `{config.a[NAME]}`, the config value under the key
// a wildcard holds. The loader checks and binds them; this renders them.

import { configWords, isConfigMap, type ConfigValue } from './config.js';
import type { Lookup, Placeholder } from './template.js';

/** The values of the names a lookup is keyed by: a job's wildcards, and in an `expand` template its names. */
export type NameValues = (name: string) => string | undefined;

/** The words a lookup stands for, or undefined when the job's row (or config key) does not exist. */
export function lookupWords(lookup: Lookup, value: NameValues): string[] | undefined {
  if (lookup.kind === 'table') {
    const key = value(lookup.table.key);
    const row = key === undefined ? undefined : lookup.table.rows.get(key);
    return row === undefined ? undefined : [row.values[lookup.column]!];
  }
  let v: ConfigValue = lookup.root;
  for (const step of lookup.steps) {
    const key = 'key' in step ? step.key : value(step.name);
    if (key === undefined || !isConfigMap(v) || !Object.prototype.hasOwnProperty.call(v, key)) return undefined;
    v = v[key]!;
  }
  return configWords(v);
}

/** The text a placeholder of a path template (inputs, log) stands for: a wildcard's value, or a lookup's words. */
export function pathValue(ph: Placeholder, wildcards: Record<string, string>): string {
  if (ph.lookup === undefined) return wildcards[ph.path[ph.path.length - 1]!]!;
  return (lookupWords(ph.lookup, (n) => wildcards[n]) ?? []).join(' ');
}

/** Why a lookup has no value for these names (lookupWords gave undefined), in words for an error. */
export function missingLookup(lookup: Lookup, value: NameValues): string {
  if (lookup.kind === 'table') {
    const t = lookup.table;
    return `${t.display}: no row with ${t.key} '${value(t.key) ?? ''}' in table '${t.name}'`;
  }
  let v: ConfigValue = lookup.root;
  const path: string[] = [];
  for (const step of lookup.steps) {
    const key = 'key' in step ? step.key : value(step.name)!;
    const at = path.length === 0 ? 'the config' : `config key '${path.join('.')}'`;
    if (!isConfigMap(v)) return `${at} is not a map, so it has no key '${key}'${'name' in step ? ` (the value of {${step.name}})` : ''} (in ${lookup.shown})`;
    if (!Object.prototype.hasOwnProperty.call(v, key)) {
      return `${at} has no key '${key}'${'name' in step ? ` (the value of {${step.name}})` : ''}, which ${lookup.shown} looks up`;
    }
    v = v[key]!;
    path.push(key);
  }
  return `${lookup.shown} has no value`;
}
