// The dry run: one line per job that would run, in run order, with its reason.
// Written a chunk at a time: the plan of a million jobs is tens of megabytes
// of text, never held whole by the command that prints it.

import { renderCommand } from '../graph/command.js';
import { allInputs, type Job } from '../graph/model.js';
import type { Plan } from '../plan/plan.js';
import { reasonText } from './reason.js';

/** About how many characters are handed to `write` at a time. */
const CHUNK = 1 << 16;

/**
 * The dry run's lines, handed to `write` in order, a chunk of whole lines at a
 * time; with `commands` (`-p`), each job's command under its line, every line
 * of it indented 4 spaces.
 */
export function writePlanText(plan: Plan, write: (text: string) => void, commands = false): void {
  let out = '';
  for (const job of plan.order) {
    const reason = reasonText(plan.reasons.get(job)!);
    out += job.rule.phony ? `${job.label}: ${reason}\n` : `${job.label} ${job.name}: ${reason}\n`;
    const command = commands ? planCommand(plan, job) : undefined;
    if (command !== undefined) out += command.replace(/\n+$/, '').replace(/^(?=.)/gm, '    ') + '\n';
    if (out.length >= CHUNK) {
      write(out);
      out = '';
    }
  }
  if (out !== '') write(out);
}

export function formatPlanText(plan: Plan): string {
  let text = '';
  writePlanText(plan, (t) => (text += t));
  return text;
}

/**
 * `rules build -n --json`, handed to `write` a chunk at a time: the text
 * `JSON.stringify({ jobs, pending }, null, 2)` gives, made one job at a time.
 */
export function writePlanJson(plan: Plan, write: (text: string) => void): void {
  let out = '{\n  "jobs": [';
  for (let i = 0; i < plan.order.length; i++) {
    // A job's object two levels in: a newline in the text is one between its lines (one in a string is written `\n`).
    out += (i === 0 ? '\n    ' : ',\n    ') + JSON.stringify(jobJson(plan, plan.order[i]!), null, 2).replace(/\n/g, '\n    ');
    if (out.length >= CHUNK) {
      write(out);
      out = '';
    }
  }
  out += plan.order.length === 0 ? ']' : '\n  ]';
  // Globs that wait for a directory a job of the plan will make (SPEC §7): what they yield is not known yet.
  const pending: { glob: string; after: string }[] = [];
  for (const job of plan.order) for (const g of job.pending ?? []) if (plan.reasons.has(g.producer)) pending.push({ glob: g.pattern, after: g.producer.label });
  if (pending.length > 0) out += ',\n  "pending": ' + JSON.stringify(pending, null, 2).replace(/\n/g, '\n  ');
  write(out + '\n}\n');
}

export function formatPlanJson(plan: Plan): string {
  let text = '';
  writePlanJson(plan, (t) => (text += t));
  return text;
}

/** A job of the plan as `--json` lists it. */
function jobJson(plan: Plan, job: Job): object {
  return {
    rule: job.rule.name,
    wildcards: job.wildcards,
    outputs: job.outputs,
    // The files the command names follow the declared inputs (SPEC §6).
    inputs: allInputs(job),
    reason: reasonText(plan.reasons.get(job)!),
    // null for a phony rule without `run` (SPEC §8: always there).
    command: planCommand(plan, job) ?? null,
    // Its temporary outputs (SPEC §7), when it has any.
    ...(job.tempOutputs !== undefined ? { temp: job.outputs.filter((o) => job.tempOutputs!.has(o)) } : {}),
  };
}

/**
 * The command a job of the plan would run, as the build would render it with
 * the resources it asks for; a `script:` that a job of the build will make
 * yet is shown by its path (its `#!` line names the interpreter).
 */
function planCommand(plan: Plan, job: Job): string | undefined {
  if (job.script !== undefined && job.script.interpreter === undefined) return job.script.path;
  return renderCommand(plan.context.project, job);
}
