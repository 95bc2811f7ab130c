// The job DAG: what later stages (plan, run, report) work from.

import type { Rule } from '../rulefile/model.js';

export interface Job {
  /** Index in Graph.jobs; jobs are numbered in discovery order from the targets. */
  id: number;
  rule: Rule;
  /** Wildcard values, in the order the wildcards appear in the rule's first output. */
  wildcards: Record<string, string>;
  outputs: string[];
  namedOutputs: Map<string, string[]>;
  /** Inputs in declaration order (no duplicates); excludes order-only inputs. */
  inputs: string[];
  namedInputs: Map<string, string[]>;
  orderOnly: string[];
  log?: string;
  /** Jobs that make this job's inputs or order-only inputs, each once. */
  deps: Job[];
  /** For each dep, the first path through which this job needs it (parallel to deps). */
  depPaths: string[];
  /** Jobs that need this one. */
  dependents: Job[];
  /** `rule[name=value,...]`, or the rule name for a job without wildcards. */
  label: string;
  /** The first output, or the rule name of a phony job: how the job is named in messages. */
  name: string;
}

export interface Graph {
  jobs: Job[];
  /** The jobs asked for, in target order (sources given as targets have none). */
  targets: Job[];
  /** Input paths no rule makes, in discovery order. */
  sources: string[];
  /** Who makes each path: the job for outputs (and phony rule names), null for sources. */
  producers: Map<string, Job | null>;
}

export function jobLabel(rule: Rule, wildcards: Record<string, string>): string {
  const names = Object.keys(wildcards);
  if (names.length === 0) return rule.name;
  return `${rule.name}[${names.map((n) => `${n}=${wildcards[n]}`).join(',')}]`;
}
