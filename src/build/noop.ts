// The builder's first step: when the up-to-date stamp written by the last
// build still holds (see state/stamp.ts), the answer is "nothing to do",
// known without loading the Rulefile, the graph or the build log. Anything
// else returns undefined and the full build runs, or, when only the contents
// or times of some files changed, what changed: the full build may then take
// the incremental shortcut (build/shortcut.ts). This module loads only what
// that check needs.

import { dirname, resolve } from 'node:path';
import { findRulefile } from '../rulefile/find.js';
import { BuildLock } from '../state/lock.js';
import { JobIndex } from '../state/jobindex.js';
import { jobIndexPath } from '../state/paths.js';
import { checkPaths, checkStamp, fileIdentity, loadStamp, stampKey, type LoadedStamp, type StampCheck } from '../state/stamp.js';
import { anyStarted } from '../state/started.js';
import { UserError } from '../util/errors.js';
import { version } from '../util/version.js';
import type { BuildOutcome, BuildRequest } from './request.js';
import type { StampDelta } from './shortcut.js';

/** What a build's answer depends on besides the files: the stamp is only good for the same. */
export function buildKey(request: BuildRequest, rulefile: string): string {
  const { cwd } = request.project;
  return stampKey({
    version: version(),
    cwd,
    rulefile,
    configfiles: configFilesOf(request),
    config: request.project.configOverrides,
    targets: request.targets,
    check: request.check,
  });
}

/** Config files of the request, as absolute paths. */
function configFilesOf(request: BuildRequest): string[] {
  return request.project.configFiles.map((f) => resolve(request.project.cwd, f));
}

export async function fastNoop(request: BuildRequest): Promise<BuildOutcome | StampDelta | undefined> {
  // Forced jobs are stale whatever the stamp says.
  if (request.force || (request.forceRules?.length ?? 0) > 0) return undefined;
  let rulefile: string;
  try {
    rulefile = findRulefile(request.project.cwd, request.project.rulefile);
  } catch (e) {
    if (e instanceof UserError) return undefined; // the full path reports it
    throw e;
  }
  const root = dirname(rulefile);
  const start = Date.now();
  const stamp = loadStamp(root, buildKey(request, rulefile), request.kept?.stamp);
  if (!stamp) return undefined;
  // A build died while jobs ran: their outputs may be half-written, whatever the stamp says.
  if (anyStarted(root)) return undefined;
  const { header } = stamp;
  const answer: BuildOutcome = { exitCode: 0, diagnostics: [], stamp: { files: header.files ?? header.count, dryText: header.dryText, dryJson: header.dryJson } };
  if (request.dryRun) {
    // A dry run reports nothing as it goes: its answer is what it prints at the end.
    const [check, index] = await compare(request, stamp, root);
    return check.holds ? answer : check.changed && { stamp, changed: check.changed, index };
  }
  // As in a full build: no answer while another build holds the lock.
  const lock = BuildLock.acquire(root);
  try {
    const [check, index] = await compare(request, stamp, root);
    if (!check.holds) return check.changed && { stamp, changed: check.changed, index };
    if (request.signal.aborted) return undefined;
    const { eventLog } = await import('./events.js');
    const reporter = await eventLog(request.report, root, undefined, { nothingRuns: true, ...(request.trace !== undefined ? { trace: request.trace } : {}) });
    reporter.emit({ type: 'stamp-holds', files: header.files ?? header.count });
    reporter.emit({ type: 'build-start', total: 0, upToDate: header.upToDate });
    reporter.emit({ type: 'build-finish', ok: true, ran: 0, skipped: 0, failed: 0, notRun: 0, interrupted: false, durationMs: Date.now() - start });
    await reporter.close();
    return { ...answer, counts: { ran: 0, skipped: 0, failed: 0, notRun: 0, upToDate: header.upToDate } };
  } finally {
    lock.release();
  }
}

/**
 * The disk against the stamp: every path it holds, or in watch mode only the
 * paths the watcher reported (found through the job index, which then goes
 * on to the shortcut). A reported path the stamp does not hold is new to the
 * build: the full path decides.
 */
async function compare(request: BuildRequest, stamp: LoadedStamp, root: string): Promise<[StampCheck, JobIndex | undefined]> {
  if (request.changed === undefined) return [await checkStamp(stamp, root, true), undefined];
  const index = jobIndexFor(request, stamp, root);
  if (index === undefined) return [{ holds: false }, undefined];
  const paths: { k: number; path: string }[] = [];
  for (const p of request.changed) {
    const path = p.startsWith(`${root}/`) ? p.slice(root.length + 1) : p;
    const k = index.find(path);
    if (k === undefined) return [{ holds: false }, undefined];
    paths.push({ k, path });
  }
  return [checkPaths(stamp, root, paths), index];
}

/** The job index that goes with `stamp`: the one a watch session keeps while its file is unchanged, else read. */
function jobIndexFor(request: BuildRequest, stamp: LoadedStamp, root: string): JobIndex | undefined {
  const { header } = stamp;
  if (header.index === undefined) return undefined;
  const kept = request.kept?.index;
  const identity = fileIdentity(jobIndexPath(root));
  if (kept !== undefined && kept.index.header.id === header.index && kept.identity === identity) return kept.index;
  const index = JobIndex.load(root, header.index, { bytes: new Uint8Array(stamp.buffer), start: stamp.pathsStart }, header.count, header.pathBytes);
  if (index !== undefined && request.kept !== undefined && identity !== undefined) request.kept.index = { index, identity };
  return index;
}
