// `rules config`: the effective configuration, each value with where it came from.

import { stringify } from 'yaml';
import type { Config, ConfigValue } from '../rulefile/config.js';

function inline(v: ConfigValue): string {
  return stringify(v, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();
}

export function formatConfigText(config: Config): string {
  const leaves = config.leaves();
  if (leaves.length === 0) return '(no configuration)\n';
  const rows = leaves.map((l) => [`${l.path}: ${inline(l.value)}`, l.origin] as const);
  const width = Math.min(60, Math.max(...rows.map((r) => r[0].length)));
  return rows.map(([kv, origin]) => `${kv.padEnd(width)}  # ${origin}\n`).join('');
}

export function formatConfigJson(config: Config): string {
  const origins: Record<string, string> = {};
  for (const l of config.leaves()) origins[l.path] = l.origin;
  return JSON.stringify({ config: config.values, origins }, null, 2) + '\n';
}
