// A job's signature: what its run was made of besides file contents. One
// place defines it; a change is named by its first differing part.

import { renderCommand, renderEnv, renderParams, unresolvedResources } from '../graph/command.js';
import type { Job } from '../graph/model.js';
import type { Project, Rule } from '../rulefile/model.js';
import type { Signature } from '../state/log.js';
import { quickHash, quickHashList } from '../util/hash.js';
import type { StaleReason } from './reason.js';

export function jobSignature(project: Project, job: Job): Signature {
  const rule = job.rule;
  // No resource value is part of it (SPEC §1): changing a request or `-j` makes nothing stale.
  const params = rule.params.length === 0 ? NO_PARAMS : renderParams(project, job, unresolvedResources);
  // A script job is its script's path (its content is an input): the interpreter a `#!` line names is part of that content.
  const command = rule.script !== undefined ? `script ${rule.script.path}` : (renderCommand(project, job, unresolvedResources, params) ?? '');
  const signature: Signature = {
    // A depfile is part of how the command runs: adding one makes the job run, so its dependencies become known.
    command: quickHashList(job.depfile === undefined ? [shellKey(project), command] : [shellKey(project), command, job.depfile]),
    inputs: quickHashList(job.inputs),
    outputs: quickHashList(job.outputs),
    params: rule.params.length === 0 ? [] : [...params].map(([name, words]) => [name, quickHashList(words)]),
    env: envHashes(project, job),
  };
  if (rule.tableRows !== undefined) signature.tables = tableHashes(rule.tableRows, job);
  return signature;
}

/**
 * SPEC §7: a job depends on its own row of each table its rule reads, not on
 * the other rows: per table, the values of the columns the rule reads (by
 * name, so reading another column is a change too).
 */
function tableHashes(rows: NonNullable<Rule['tableRows']>, job: Job): [string, number][] {
  return rows.map(({ table, columns }): [string, number] => {
    const row = table.rows.get(job.wildcards[table.key]!);
    const parts: string[] = [];
    for (const c of columns) parts.push(table.columns[c]!, row?.values[c] ?? '');
    return [table.name, quickHashList(parts)];
  });
}

const NO_PARAMS = new Map<string, string[]>();
const shells = new WeakMap<Project, string>();
const constantEnv = new WeakMap<Rule, [string, number][]>();

function shellKey(project: Project): string {
  let key = shells.get(project);
  if (key === undefined) shells.set(project, (key = project.shell.join(' ')));
  return key;
}

/** The env part: the same for every job of a rule unless its env uses wildcards. */
function envHashes(project: Project, job: Job): [string, number][] {
  const rule = job.rule;
  const cached = constantEnv.get(rule);
  if (cached) return cached;
  const hashes = Object.entries(renderEnv(project, job)).map(([name, value]): [string, number] => [name, quickHash(value)]);
  if (rule.env.every((e) => e.value.placeholders.every((p) => p.path[0] === 'config' && p.lookup === undefined))) constantEnv.set(rule, hashes);
  return hashes;
}

/** The first part of the signature that changed, as a reason (SPEC §2, row 5). */
export function signatureChange(before: Signature, now: Signature): StaleReason | undefined {
  const param = changedName(before.params, now.params);
  if (param !== undefined) return { kind: 'params-changed', name: param };
  const env = changedName(before.env, now.env);
  if (env !== undefined) return { kind: 'env-changed', name: env };
  if (before.tables !== undefined || now.tables !== undefined) {
    const table = changedName(before.tables ?? [], now.tables ?? []);
    if (table !== undefined) return { kind: 'table-changed', name: table };
  }
  if (before.inputs !== now.inputs) return { kind: 'inputs-changed' };
  if (before.outputs !== now.outputs) return { kind: 'outputs-changed' };
  if (before.command !== now.command) return { kind: 'command-changed' };
  return undefined;
}

/** The first name (current declaration order, then removed ones) whose value differs. */
function changedName(before: [string, number][], now: [string, number][]): string | undefined {
  const old = new Map(before);
  for (const [name, value] of now) if (old.get(name) !== value) return name;
  const current = new Set(now.map(([n]) => n));
  for (const [name] of before) if (!current.has(name)) return name;
  return undefined;
}
