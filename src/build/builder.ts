// The builder: the one home of a build's orchestration, for `rules build`,
// `rules watch` and the commands that only look (graph). It takes a
// BuildRequest and gives a BuildOutcome (build/request.ts); it never prints.
//
// Its first step is the no-op fast path (build/noop.ts): an up-to-date tree
// is answered from the stamp the last build left, before the rest of rules is
// even loaded. Anything else is the full build (build/full.ts), which takes
// the incremental shortcut (build/shortcut.ts) when the stamp shows that only
// some files' contents changed.

import { UserError } from '../util/errors.js';
import { fastNoop } from './noop.js';
import type { BuildOutcome, BuildRequest, PlanRequest, WatchRequest } from './request.js';

export type { BuildOutcome, BuildRequest, PlanRequest, WatchRequest } from './request.js';

export async function build(request: BuildRequest): Promise<BuildOutcome> {
  let delta;
  try {
    const fast = await fastNoop(request);
    if (fast !== undefined && 'exitCode' in fast) return fast;
    delta = fast;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { exitCode: e.exitCode, diagnostics: e.diagnostics };
  }
  const { fullBuild } = await import('./full.js');
  return fullBuild(request, delta);
}

/** The plan of a build, decided from the project itself (never from the stamp): a dry run that keeps the graph. */
export async function plan(request: PlanRequest): Promise<BuildOutcome> {
  const { fullBuild } = await import('./full.js');
  // Nothing runs: no slots, limits or executor to speak of, and nothing to interrupt.
  const run = { jobs: 1, resources: new Map(), keepGoing: false, executor: { kind: 'local' } } as const;
  return fullBuild({ ...request, dryRun: true, run, signal: new AbortController().signal });
}

/**
 * `rules watch` (watch/watch.ts, loaded only for it). A whole build gives the
 * project and graph that say what to watch; a rebuild told which paths
 * changed may be answered by the stamp or the incremental shortcut, which
 * leave the graph as it was.
 */
export async function watch(request: WatchRequest): Promise<void> {
  const [{ watchLoop }, { fullBuild }] = await Promise.all([import('../watch/watch.js'), import('./full.js')]);
  // The stamp and job index the session's builds write are kept for the next rebuild (KeptState).
  const kept = {};
  return watchLoop(request, (r, whole) => (whole ? fullBuild({ ...r, kept }) : build({ ...r, kept })));
}
