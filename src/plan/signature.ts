// A job's signature: what its run was made of besides file contents. One
// place defines it; a change is named by its first differing part.

import { renderCommand, renderEnv, renderParams } from '../graph/command.js';
import type { Job } from '../graph/model.js';
import type { Project } from '../rulefile/model.js';
import type { Signature } from '../state/log.js';
import { quickHash } from '../util/hash.js';

export function jobSignature(project: Project, job: Job): Signature {
  const params = renderParams(project, job);
  const command = renderCommand(project, job, params) ?? '';
  const env = renderEnv(project, job);
  return {
    command: quickHash(`${project.shell.join(' ')}\0${command}`),
    inputs: quickHash(job.inputs.join('\0')),
    outputs: quickHash(job.outputs.join('\0')),
    params: [...params].map(([name, words]) => [name, quickHash(words.join('\0'))]),
    env: Object.entries(env).map(([name, value]) => [name, quickHash(value)]),
  };
}

/** The first part of the signature that changed, as a reason phrase (SPEC §2, row 5). */
export function signatureChange(before: Signature, now: Signature): string | undefined {
  const param = changedName(before.params, now.params);
  if (param !== undefined) return `params changed: ${param}`;
  const env = changedName(before.env, now.env);
  if (env !== undefined) return `env changed: ${env}`;
  if (before.inputs !== now.inputs) return 'inputs changed';
  if (before.outputs !== now.outputs) return 'outputs changed';
  if (before.command !== now.command) return 'command changed';
  return undefined;
}

/** The first name (current declaration order, then removed ones) whose value differs. */
function changedName(before: [string, string][], now: [string, string][]): string | undefined {
  const old = new Map(before);
  for (const [name, value] of now) if (old.get(name) !== value) return name;
  const current = new Set(now.map(([n]) => n));
  for (const [name] of before) if (!current.has(name)) return name;
  return undefined;
}
