// Fills a job's templates: its shell command (every substituted word quoted),
// its params and its environment. `{resources.NAME}` is what a resolver says:
// the request by default, what the job is granted when it runs, and the
// placeholder itself in the signature (resources are never part of it).

import { configWords } from '../rulefile/config.js';
import type { Project } from '../rulefile/model.js';
import { lookupWords } from '../rulefile/lookup.js';
import { renderTemplate, type Placeholder } from '../rulefile/template.js';
import { shellQuote } from '../util/strings.js';
import type { Job } from './model.js';

/** The value `{resources.NAME}` stands for in a job's templates. */
export type ResourceValues = (job: Job, name: string) => string;

/** What the rule asks for. */
export const requestedResources: ResourceValues = (job, name) => String(job.rule.resources.get(name) ?? '');

/** The placeholder itself: what the signature is made of, so that no resource value is part of it. */
export const unresolvedResources: ResourceValues = (_job, name) => `{resources.${name}}`;

/** Words a placeholder stands for, before quoting; undefined for params (handled by the caller). */
function words(project: Project, job: Job, ph: Placeholder, resources: ResourceValues): string[] {
  // `{tables.NAME.COL}`, `{config.a[NAME]}` (SPEC §7): the graph made sure each has a value for the job.
  if (ph.lookup !== undefined) return lookupWords(ph.lookup, (n) => job.wildcards[n]) ?? [];
  const [head, ...rest] = ph.path;
  switch (head) {
    case 'input':
    case 'inputs':
      return rest.length === 0 ? job.inputs : (job.namedInputs.get(rest[0]!) ?? []);
    case 'output':
    case 'outputs':
      return rest.length === 0 ? job.outputs : (job.namedOutputs.get(rest[0]!) ?? []);
    case 'log':
      return job.log === undefined ? [] : [job.log];
    case 'config':
      return configWords(project.config.get(rest)!);
    case 'resources':
      return [resources(job, rest[0]!)];
    case 'wildcards':
      return [job.wildcards[rest[0]!]!];
    default:
      return [job.wildcards[head!]!];
  }
}

/** The job's params: name → words (one word unless the param is a list). */
export function renderParams(project: Project, job: Job, resources = requestedResources): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const p of job.rule.params) {
    out.set(
      p.name,
      p.items.map((t) => renderTemplate(t, (ph) => words(project, job, ph, resources).join(' '))),
    );
  }
  return out;
}

/**
 * The shell command of a job, or undefined when it has none (a phony rule
 * without `run`). A `script:` job's is its interpreter and the script, once
 * the interpreter is known (the scheduler reads a made script's `#!` line).
 */
export function renderCommand(
  project: Project,
  job: Job,
  resources = requestedResources,
  params = renderParams(project, job, resources),
): string | undefined {
  if (job.script !== undefined) {
    const { interpreter, path } = job.script;
    if (interpreter === undefined) throw new Error(`the interpreter of script '${path}' is not known yet`);
    return [...interpreter, path].map(shellQuote).join(' ');
  }
  const run = job.rule.run;
  if (run === undefined) return undefined;
  return renderTemplate(run, (ph) => {
    const [head, ...rest] = ph.path;
    if (head === 'raw') {
      if (rest[0] === 'params') return (params.get(rest[1]!) ?? []).join(' ');
      if (ph.lookup !== undefined) return words(project, job, ph, resources).join(' ');
      return configWords(project.config.get(rest.slice(1))!).join(' ');
    }
    if (head === 'params') return (params.get(rest[0]!) ?? []).map(shellQuote).join(' ');
    return words(project, job, ph, resources).map(shellQuote).join(' ');
  });
}

/** Extra environment for the job: the Rulefile's `env`, then the rule's. */
export function renderEnv(project: Project, job: Job): Record<string, string> {
  const env: Record<string, string> = { ...project.env };
  // Only wildcards and config are allowed in `env` (the loader checks).
  for (const { name, value } of job.rule.env) env[name] = renderTemplate(value, (ph) => words(project, job, ph, requestedResources).join(' '));
  return env;
}

/**
 * What a `script:` job reads from the file `$RULES_JOB` names (SPEC §6): its
 * paths relative to the project root (its working directory). `inputs` and
 * `outputs` list every path in declaration order, so that one input is
 * `job["inputs"][0]`; `named_inputs`/`named_outputs` hold the named groups,
 * each a list. Params are strings (a list param: a list of strings).
 */
export function jobDescription(project: Project, job: Job, resources = requestedResources): string {
  const params: Record<string, string | string[]> = {};
  for (const [name, words] of renderParams(project, job, resources)) {
    const p = job.rule.params.find((x) => x.name === name)!;
    params[name] = p.list ? words : (words[0] ?? '');
  }
  return JSON.stringify({
    rule: job.rule.name,
    inputs: job.inputs,
    named_inputs: Object.fromEntries(job.namedInputs),
    outputs: job.outputs,
    named_outputs: Object.fromEntries(job.namedOutputs),
    implicit_inputs: job.implicitInputs,
    params,
    wildcards: job.wildcards,
    // What the job gets (`cpus` capped at -j on this machine), as `{resources.NAME}` says.
    resources: Object.fromEntries([...job.rule.resources.keys()].map((name) => [name, Number(resources(job, name))])),
    log: job.log ?? null,
    config: project.config.values,
  });
}
