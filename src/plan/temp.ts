// Temporary outputs made again (SPEC §7): a job that must run needs its
// temporary inputs on disk, so the producer of one that is gone runs first,
// stale for its missing output (row 2); and so, up a chain of temporary outputs, do
// the producers of its own. Decided in the plan, so a dry run lists them.

import type { Job } from '../graph/model.js';
import { neededTemps } from '../graph/temp.js';
import type { StaleReason } from './reason.js';
import { isInert, staleReason, type StalenessContext } from './staleness.js';

/**
 * Whether the scheduler may take a reason back (early cutoff, run/scheduler.ts
 * `madeUpstream`): a producer with one may not run, so it cannot be counted on.
 */
function mayBeCutOff(ctx: StalenessContext, reason: StaleReason, reasons: Map<Job, StaleReason>): boolean {
  if (reason.kind === 'upstream') return true;
  if (reason.kind !== 'input-changed') return false;
  const producer = ctx.graph.producers.get(reason.path);
  return producer ? reasons.has(producer) : false;
}

/**
 * Adds to `reasons` the producers of the missing temporary inputs of the jobs
 * that will run (`topo`: every job, in dependency order), until none is left;
 * the jobs downstream of a producer added are decided again (they wait for it).
 * Returns the jobs it made stale.
 */
export function remakeTemps(ctx: StalenessContext, reasons: Map<Job, StaleReason>, topo: readonly Job[]): Job[] {
  const fs = ctx.files.fs;
  const made: Job[] = [];
  for (;;) {
    const added: Job[] = [];
    // Consumers before their producers: a chain of temporary outputs is walked up in one pass.
    for (let i = topo.length - 1; i >= 0; i--) {
      const job = topo[i]!;
      if (!reasons.has(job) || isInert(job)) continue;
      neededTemps(ctx.graph, job, (producer) => {
        const before = reasons.get(producer);
        if (before !== undefined && !mayBeCutOff(ctx, before, reasons)) return;
        // Named as row 2 names it: the first declared output that is missing.
        const missing = producer.outputs.find((o) => producer.tempOutputs!.has(o) && fs.stat(o) === undefined);
        if (missing === undefined) return;
        reasons.set(producer, { kind: 'output-missing', path: missing });
        ctx.needsRecord.delete(producer);
        if (before === undefined) added.push(producer);
      });
    }
    if (added.length === 0) return made;
    made.push(...added);
    for (const job of topo) {
      if (reasons.has(job) || !job.deps.some((d) => reasons.has(d))) continue;
      const reason = staleReason(job, ctx);
      if (reason === undefined) continue;
      reasons.set(job, reason);
      ctx.needsRecord.delete(job);
      made.push(job);
    }
  }
}
