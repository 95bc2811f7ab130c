// Who hears a build's events: the console always, JSON on stderr with
// `--log-format json`, and the event log under .rules/logs/ when jobs run.
// The JSON reporters (and pino) are loaded only when needed.

import { ConsoleReporter } from '../report/console.js';
import { MultiReporter, type Reporter } from '../run/events.js';
import { eventLogPath, rotateEventLog } from '../state/paths.js';
import type { UserError } from '../util/errors.js';
import { flag, type ParsedArgs } from './args.js';
import { stderr, stdout, writeFailed } from './stdio.js';

/** `onEventLogError` hears a failure to write the event log as it happens (else `close` throws it). */
export async function buildReporter(
  args: ParsedArgs,
  json: boolean,
  eventLogRoot: string | undefined,
  onEventLogError?: (e: UserError) => void,
): Promise<MultiReporter> {
  const reporters: Reporter[] = [
    new ConsoleReporter(stdout, json ? stdout : stderr, {
      tty: !json && process.stdout.isTTY === true,
      quiet: json || flag(args, 'quiet'),
      verbose: !json && flag(args, 'verbose'),
      columns: process.stdout.columns ?? 80,
    }),
  ];
  if (json || eventLogRoot !== undefined) {
    const { JsonReporter } = await import('../report/json.js');
    if (json) reporters.push(JsonReporter.toDescriptor(2, {}, writeFailed));
    if (eventLogRoot !== undefined) {
      rotateEventLog(eventLogRoot);
      reporters.push(JsonReporter.toEventLog(eventLogPath(eventLogRoot), { pid: process.pid }, onEventLogError));
    }
  }
  return new MultiReporter(reporters);
}
