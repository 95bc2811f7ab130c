// Why a job must run, in the words users grep for (SPEC §2). This is the one
// place that decides staleness; the build log will add its reasons here.

import type { Graph, Job } from '../graph/model.js';
import type { FileSystem } from '../util/fs.js';

export type CheckMode = 'hash' | 'mtime';

export interface StalenessOptions {
  force: boolean;
  check: CheckMode;
}

export interface StalenessContext {
  graph: Graph;
  fs: FileSystem;
  options: StalenessOptions;
  /** Whether a job will run in this build (decided before, in dependency order). */
  willRun(job: Job): boolean;
}

/** A job whose running changes nothing downstream: a phony rule without a command. */
export function isInert(job: Job): boolean {
  return job.rule.phony && job.rule.run === undefined;
}

/** The reason `job` must run, or undefined when it is up to date. */
export function staleReason(job: Job, ctx: StalenessContext): string | undefined {
  const { fs, options, graph } = ctx;
  if (options.force) return 'forced';
  if (job.rule.always || job.rule.phony) return 'always';

  let oldest = Infinity;
  for (const out of job.outputs) {
    const st = fs.stat(out);
    if (st === undefined) return `output missing: ${out}`;
    if (st.mtimeMs < oldest) oldest = st.mtimeMs;
  }

  // Without a build record, Make's rule: an input newer than the oldest output.
  for (const input of job.inputs) {
    const producer = graph.producers.get(input);
    if (producer?.rule.phony) continue;
    const st = fs.stat(input);
    if (st !== undefined && st.mtimeMs > oldest) return `no record: input newer than output: ${input}`;
  }

  for (const input of job.inputs) {
    const producer = graph.producers.get(input);
    if (producer && !isInert(producer) && ctx.willRun(producer)) return `upstream will run: ${input}`;
  }
  return undefined;
}
