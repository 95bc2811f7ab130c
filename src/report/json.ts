// Structured events through pino: `--log-format json` on stderr, and the
// per-build event log under .rules/logs/.

import pino from 'pino';
import type { Job } from '../graph/model.js';
import type { BuildEvent, Reporter } from '../run/events.js';

function jobFields(job: Job) {
  return { job: job.label, rule: job.rule.name, wildcards: job.wildcards, outputs: job.outputs };
}

export class JsonReporter implements Reporter {
  private readonly log: pino.Logger;
  private readonly dest: ReturnType<typeof pino.destination>;
  private readonly ownsFile: boolean;
  /** A write failed (stderr closed under us): nothing more is written, not even at close. */
  private broken = false;

  /** `target` is a file descriptor (2 for stderr) or a file path appended to; `onError` hears a failed write. */
  constructor(target: number | string, extra: Record<string, unknown> = {}, onError?: (e: NodeJS.ErrnoException) => void) {
    this.dest =
      typeof target === 'number'
        ? pino.destination({ fd: target, sync: true })
        : pino.destination({ dest: target, append: true, mkdir: true, sync: true, minLength: 4096 });
    this.ownsFile = typeof target === 'string';
    this.dest.on('error', (e: NodeJS.ErrnoException) => {
      this.broken = true;
      onError?.(e);
    });
    this.log = pino({ base: extra, timestamp: pino.stdTimeFunctions.isoTime, messageKey: 'msg' }, this.dest);
  }

  emit(e: BuildEvent): void {
    if (this.broken) return;
    switch (e.type) {
      case 'build-start':
        this.log.info({ event: 'build-started', jobs: e.total, upToDate: e.upToDate }, 'build started');
        break;
      case 'job-start':
        this.log.info({ event: 'job-started', ...jobFields(e.job), reason: e.reason, attempt: e.attempt, command: e.command }, `started ${e.job.label}`);
        break;
      case 'job-finish':
        this.log.info({ event: 'job-finished', ...jobFields(e.job), durationMs: e.durationMs }, `finished ${e.job.label}`);
        break;
      case 'job-skip':
        this.log.info({ event: 'job-skipped', ...jobFields(e.job), why: e.why }, `skipped ${e.job.label}: ${e.why}`);
        break;
      case 'job-fail':
        this.log.error(
          { event: 'job-failed', ...jobFields(e.job), durationMs: e.durationMs, error: e.error, willRetry: e.willRetry, output: e.output, outputCut: e.cut },
          `failed ${e.job.label}: ${e.error}`,
        );
        break;
      case 'watch-idle':
        this.log.info({ event: 'watch-waiting', files: e.files, dirs: e.dirs }, 'watching for changes');
        break;
      case 'watch-change':
        this.log.info({ event: 'watch-changed', paths: e.paths }, `changed: ${e.paths.length} path${e.paths.length === 1 ? '' : 's'}`);
        break;
      case 'build-finish':
        this.log[e.ok ? 'info' : 'error'](
          { event: 'build-finished', ok: e.ok, ran: e.ran, skipped: e.skipped, failed: e.failed, notRun: e.notRun, interrupted: e.interrupted, durationMs: e.durationMs },
          e.ok ? 'build finished' : 'build failed',
        );
        break;
    }
  }

  close(): void {
    // Flushing a destination that failed would retry for ever.
    if (!this.broken) this.dest.flushSync();
    // A file it opened is closed (a watch session builds many times); stderr stays open.
    if (this.ownsFile) this.dest.destroy();
  }
}
