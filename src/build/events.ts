// Every build that takes the lock appends its events to the event log under
// .rules/logs/ (SPEC §3), a no-op too: the caller's reporter and the log hear
// the same events. The JSON reporter is loaded only here.

import { MultiReporter } from '../run/events.js';
import { eventLogPath, rotateEventLog } from '../state/paths.js';
import type { UserError } from '../util/errors.js';
import type { ReportRequest } from './request.js';

/** `onError` hears a failure to write the event log as it happens (else `close` throws it). */
export async function eventLog(report: ReportRequest, root: string, onError?: (e: UserError) => void): Promise<MultiReporter> {
  const own = await report.open();
  const { JsonReporter } = await import('../report/json.js');
  rotateEventLog(root);
  return new MultiReporter([own, JsonReporter.toEventLog(eventLogPath(root), { pid: process.pid }, onError)]);
}
