// `rules why TARGET` (SPEC §8): from a target down to what changed, one line
// per job, `NAME: REASON`, each line's job the reason of the line above.

import type { Job } from '../graph/model.js';
import type { Plan } from '../plan/plan.js';
import { isInert } from '../plan/staleness.js';
import { reasonText } from './reason.js';

/** The chain of each target's job, in target order; '' when none will run. */
export function formatWhy(plan: Plan, targets: readonly Job[]): string {
  let out = '';
  const told = new Set<Job>();
  for (const target of targets) {
    for (let job: Job | undefined = target; job !== undefined && !told.has(job); job = cause(plan, job)) {
      const reason = plan.reasons.get(job);
      if (reason === undefined) break;
      told.add(job);
      out += `${job.name}: ${reasonText(reason)}\n`;
    }
  }
  return out;
}

/** The stale job that made `job` stale: the maker of the input row 8 names, or a phony grouping's first stale dep. */
function cause(plan: Plan, job: Job): Job | undefined {
  const reason = plan.reasons.get(job)!;
  if (reason.kind === 'upstream') {
    // A glob waiting for a directory output names it with its '/' (SPEC §7).
    const path = reason.path.endsWith('/') ? reason.path.slice(0, -1) : reason.path;
    // null: a source, which no job makes.
    return plan.graph.producers.get(path) ?? undefined;
  }
  if (isInert(job)) return job.deps.find((d) => plan.reasons.has(d));
  return undefined;
}
