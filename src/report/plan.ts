// The dry run: one line per job that would run, in run order, with its reason.

import { allInputs } from '../graph/model.js';
import type { Plan } from '../plan/plan.js';
import { reasonText } from './reason.js';

export function formatPlanText(plan: Plan): string {
  let out = '';
  for (const job of plan.order) {
    const reason = reasonText(plan.reasons.get(job)!);
    out += job.rule.phony ? `${job.label}: ${reason}\n` : `${job.label} ${job.name}: ${reason}\n`;
  }
  return out;
}

export function formatPlanJson(plan: Plan): string {
  const jobs = plan.order.map((job) => ({
    rule: job.rule.name,
    wildcards: job.wildcards,
    outputs: job.outputs,
    // The files the command names follow the declared inputs (SPEC §6).
    inputs: allInputs(job),
    reason: reasonText(plan.reasons.get(job)!),
    // Its temporary outputs (SPEC §7), when it has any.
    ...(job.tempOutputs !== undefined ? { temp: job.outputs.filter((o) => job.tempOutputs!.has(o)) } : {}),
  }));
  // Globs that wait for a directory a job of the plan will make (SPEC §7): what they yield is not known yet.
  const pending: { glob: string; after: string }[] = [];
  for (const job of plan.order) for (const g of job.pending ?? []) if (plan.reasons.has(g.producer)) pending.push({ glob: g.pattern, after: g.producer.label });
  return JSON.stringify(pending.length > 0 ? { jobs, pending } : { jobs }, null, 2) + '\n';
}
