// A build can only run a job whose resource requests fit the build's limits
// at all: a job that never fits would wait for ever. Checked when planning,
// before a build takes its lock or touches .rules/.

import type { Job } from '../graph/model.js';
import type { Rule } from '../rulefile/model.js';
import { UserError, type Diagnostic } from '../util/errors.js';

/** Throws, naming each rule (at its request in the Rulefile), if a job needs more of a resource than `limits` allow. */
export function checkResources(jobs: Iterable<Job>, limits: ReadonlyMap<string, number>): void {
  if (limits.size === 0) return;
  const seen = new Set<Rule>();
  const problems: Diagnostic[] = [];
  for (const job of jobs) {
    const rule = job.rule;
    if (seen.has(rule)) continue;
    seen.add(rule);
    for (const [name, limit] of limits) {
      const need = rule.resources.get(name) ?? 0;
      if (need > limit) {
        problems.push({
          message: `rule '${rule.name}' needs ${name}=${need}, more than --resources allows (${name}=${limit}); raise the limit or lower the rule's request`,
          loc: rule.resourceLocs?.get(name) ?? rule.loc,
        });
      }
    }
  }
  if (problems.length > 0) throw new UserError(problems);
}
