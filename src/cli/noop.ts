// The no-op fast path of `rules build`: when the up-to-date stamp written by
// the last build still holds (see state/stamp.ts), print what a build that
// finds nothing to do prints, without loading the Rulefile, the graph or the
// build log. Anything else returns undefined and the full build runs.

import { dirname, resolve } from 'node:path';
import { findRulefile } from '../rulefile/find.js';
import { BuildLock } from '../state/lock.js';
import { loadStamp, stampHolds, stampKey } from '../state/stamp.js';
import { anyStarted } from '../state/started.js';
import { UserError } from '../util/errors.js';
import { flag, value, values, type ParsedArgs } from './args.js';
import type { BuildOptions } from './options.js';
import { buildReporter } from './reporters.js';
import { version } from './version.js';

/** What a build's answer depends on besides the files: the stamp is only good for the same. */
export function buildKey(args: ParsedArgs, opts: BuildOptions, rulefile: string): string {
  return stampKey({
    version: version(),
    cwd: process.cwd(),
    rulefile,
    configfiles: values(args, 'configfile').map((f) => resolve(process.cwd(), f)),
    config: values(args, 'config'),
    targets: args.positionals,
    check: opts.check,
  });
}

export async function noopFastPath(args: ParsedArgs, opts: BuildOptions): Promise<number | undefined> {
  if (opts.force) return undefined;
  let rulefile: string;
  try {
    rulefile = findRulefile(process.cwd(), value(args, 'file'));
  } catch (e) {
    if (e instanceof UserError) return undefined; // the full path reports it
    throw e;
  }
  const root = dirname(rulefile);
  const key = buildKey(args, opts, rulefile);
  const start = Date.now();
  const stamp = loadStamp(root, key);
  if (!stamp) return undefined;
  // A build died while jobs ran: their outputs may be half-written, whatever the stamp says.
  if (anyStarted(root)) return undefined;
  const { header } = stamp;
  const said = () => {
    if (flag(args, 'verbose') && !opts.json) process.stderr.write(`rules: all ${header.count} files as the last build left them\n`);
  };
  if (opts.dryRun) {
    if (!(await stampHolds(stamp, root))) return undefined;
    said();
    process.stdout.write(opts.planJson ? header.dryJson : header.dryText);
    if (!opts.planJson && header.dryText === '') process.stderr.write('rules: nothing to do\n');
    return 0;
  }
  // As in a full build: no answer while another build holds the lock.
  const lock = BuildLock.acquire(root);
  try {
    if (!(await stampHolds(stamp, root))) return undefined;
    said();
    const reporter = await buildReporter(args, opts.json, root);
    reporter.emit({ type: 'build-start', total: 0, upToDate: header.upToDate });
    reporter.emit({ type: 'build-finish', ok: true, ran: 0, skipped: 0, failed: 0, notRun: 0, interrupted: false, durationMs: Date.now() - start });
    await reporter.close();
    return 0;
  } finally {
    lock.release();
  }
}
