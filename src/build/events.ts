// Every build that takes the lock appends its events to the event log under
// .rules/logs/ (SPEC §3), a no-op too: the caller's reporter and the log hear
// the same events. A build's timeline is recorded beside them (SPEC §9): in
// the build history when the build ran a job, and in the `--trace` file when
// one is asked for. The JSON reporter is loaded only here.

import { writeFileSync } from 'node:fs';
import { MultiReporter, type Reporter } from '../run/events.js';
import type { BuildTimeline } from '../state/history.js';
import { eventLogPath, rotateEventLog } from '../state/paths.js';
import { UserError } from '../util/errors.js';
import type { ReportRequest } from './request.js';

/** What a build records of itself besides its events. */
export interface BuildRecording {
  /** Write the build as Chrome trace events to this file: its absolute path, and as the user named it. */
  trace?: { path: string; shown: string };
  /** No job will run (the up-to-date stamp answered): no history to keep, only a trace if one is asked for. */
  nothingRuns?: boolean;
  /**
   * Whether a failure to write the history is worth a warning: not when the
   * build already stopped because its state could not be written (a full
   * disk), which it has said in one line.
   */
  historyWarnings?: () => boolean;
}

/** `onError` hears a failure to write the event log as it happens (else `close` throws it). */
export async function eventLog(report: ReportRequest, root: string, onError?: (e: UserError) => void, recording: BuildRecording = {}): Promise<MultiReporter> {
  const own = await report.open();
  const { JsonReporter } = await import('../report/json.js');
  rotateEventLog(root);
  const reporters: Reporter[] = [own, JsonReporter.toEventLog(eventLogPath(root), { pid: process.pid }, onError)];
  // Loaded only when there is something to keep: a no-op answered from the stamp pays nothing for them.
  if (recording.nothingRuns !== true || recording.trace !== undefined) {
    const [{ TimelineRecorder }, { recordBuild }, { traceOf }] = await Promise.all([import('../report/timeline.js'), import('../state/history.js'), import('../report/trace.js')]);
    reporters.push(new TimelineRecorder((t) => keep(t, root, report, recording, recordBuild, traceOf)));
  }
  return new MultiReporter(reporters);
}

/**
 * Keeps a finished build's timeline. The history is the user's to read, not
 * what decides a build: a failure to write it is a warning, and the build's
 * outcome stands.
 */
function keep(
  t: BuildTimeline,
  root: string,
  report: ReportRequest,
  recording: BuildRecording,
  recordBuild: (root: string, t: BuildTimeline) => void,
  traceOf: (t: BuildTimeline) => object,
): void {
  if (t.jobs.length > 0) {
    try {
      recordBuild(root, t);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      if (recording.historyWarnings?.() ?? true) report.warn(e.message);
    }
  }
  const trace = recording.trace;
  if (trace !== undefined) {
    try {
      writeFileSync(trace.path, JSON.stringify(traceOf(t)));
    } catch (e) {
      report.warn(`cannot write the trace ${trace.shown}: ${whyNotWritten(e)}`);
    }
  }
}

function whyNotWritten(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'its directory does not exist';
    case 'ENOTDIR':
      return 'a file stands where its directory should be';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'the file system is read-only';
    default:
      return (e as Error).message;
  }
}
