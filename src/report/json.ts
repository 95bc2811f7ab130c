// Structured events as JSON lines: `--log-format json` on stderr, and the
// per-build event log under .rules/logs/. Each line is one object in the
// shape pino writes (`level`, `time`, the fixed fields, the event's fields,
// `msg`), so tools made for pino's lines read ours.

import { writeSync } from 'node:fs';
import type { Job } from '../graph/model.js';
import type { BuildEvent, Reporter } from '../run/events.js';
import { AppendFile, stateWriteError } from '../state/io.js';
import { shownStatePath } from '../state/paths.js';
import type { UserError } from '../util/errors.js';
import { failureText } from './failure.js';
import { reasonText, skipText } from './reason.js';

function jobFields(job: Job) {
  return { job: job.label, rule: job.rule.name, wildcards: job.wildcards, outputs: job.outputs };
}

/**
 * The event log file: lines are gathered and appended
 * in whole pieces. A piece that cannot be written (a full disk) is a failure
 * told to `onError` once; the log then takes no more.
 */
class EventLogFile {
  private pending = '';
  private failure: UserError | undefined;
  private readonly file: AppendFile;

  constructor(
    path: string,
    private readonly onError: ((e: UserError) => void) | undefined,
  ) {
    this.file = new AppendFile(path);
    try {
      this.file.open();
    } catch (e) {
      throw stateWriteError('the event log', SHOWN, e);
    }
  }

  write(line: string): void {
    if (this.failure) return;
    this.pending += line;
    if (this.pending.length >= 4096) this.flush();
  }

  /** Appends what is gathered; returns the failure, if writing ever failed. */
  flush(): UserError | undefined {
    if (this.failure || this.pending === '') return this.failure;
    const text = this.pending;
    this.pending = '';
    try {
      this.file.append(text);
    } catch (e) {
      this.failure = stateWriteError('the event log', SHOWN, e);
      this.onError?.(this.failure);
    }
    return this.failure;
  }

  close(): UserError | undefined {
    const failure = this.flush();
    this.file.close();
    return failure;
  }
}

const SHOWN = shownStatePath('eventLog');

/** Where a reporter's lines go. */
interface Destination {
  write(line: string): void;
}

/**
 * A file descriptor (stderr), written to at once, line by line. A write that
 * fails (the reader closed the pipe, a full disk) is told to `onError`, and
 * nothing more is written.
 */
class DescriptorDestination implements Destination {
  private broken = false;

  constructor(
    private readonly fd: number,
    private readonly onError: ((e: NodeJS.ErrnoException) => void) | undefined,
  ) {}

  write(line: string): void {
    if (this.broken) return;
    const bytes = Buffer.from(line);
    try {
      for (let at = 0; at < bytes.length; ) {
        try {
          at += writeSync(this.fd, bytes, at);
        } catch (e) {
          // A pipe our own stream made non-blocking is full: wait for its reader.
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
          Atomics.wait(PAUSE, 0, 0, 1);
        }
      }
    } catch (e) {
      this.broken = true;
      this.onError?.(e as NodeJS.ErrnoException);
    }
  }
}

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

const LEVEL = { info: 30, error: 50 } as const;

export class JsonReporter implements Reporter {
  /** The fixed fields, as they follow `time` on every line (`,"pid":123`). */
  private readonly fixed: string;
  private readonly log: Record<keyof typeof LEVEL, (fields: object, msg: string) => void>;

  /** JSON events on a descriptor (2: stderr); a failed write is told to `onError` and ends the writing. */
  static toDescriptor(fd: number, extra: Record<string, unknown> = {}, onError?: (e: NodeJS.ErrnoException) => void): JsonReporter {
    return new JsonReporter(new DescriptorDestination(fd, onError), extra);
  }

  /** JSON events appended to the event log at `path`; a failure is told to `onError` when it happens, and thrown by `close`. */
  static toEventLog(path: string, extra: Record<string, unknown> = {}, onError?: (e: UserError) => void): JsonReporter {
    return new JsonReporter(new EventLogFile(path, onError), extra);
  }

  private constructor(
    private readonly dest: Destination,
    extra: Record<string, unknown>,
  ) {
    this.fixed = fieldsOf(extra);
    this.log = { info: (fields, msg) => this.line(LEVEL.info, fields, msg), error: (fields, msg) => this.line(LEVEL.error, fields, msg) };
  }

  /** `{"level":30,"time":"…","pid":1,"event":"…",…,"msg":"…"}`: fields that are undefined are left out, as JSON.stringify does. */
  private line(level: number, fields: object, msg: string): void {
    this.dest.write(`{"level":${level},"time":"${new Date().toISOString()}"${this.fixed}${fieldsOf(fields)},"msg":${JSON.stringify(msg)}}\n`);
  }

  emit(e: BuildEvent): void {
    switch (e.type) {
      case 'shortcut':
        this.log.info({ event: 'shortcut', changed: e.changed, deciding: e.deciding, jobs: e.jobs }, `${e.changed} files changed since the last build`);
        break;
      case 'build-start':
        this.log.info({ event: 'build-started', jobs: e.total, upToDate: e.upToDate, ...(e.pending ? { pending: e.pending } : {}) }, 'build started');
        break;
      case 'graph-grow':
        this.log.info(
          { event: 'graph-grew', ...jobFields(e.job), globs: e.globs.map((g) => ({ glob: g.pattern, dir: g.dir, after: g.producer.label, matches: g.matches })), added: e.added, jobs: e.total, pending: e.pending, durationMs: e.durationMs },
          `graph grew: ${e.added} more job${e.added === 1 ? '' : 's'} for ${e.job.label}`,
        );
        break;
      case 'graph-problem':
        this.log.error({ event: 'graph-problem', ...jobFields(e.job), problems: e.diagnostics.map((d) => d.message) }, `${e.job.label} not run: the grown graph cannot be built`);
        break;
      case 'glob-abandoned':
        this.log.error({ event: 'glob-abandoned', ...jobFields(e.job), glob: e.pattern, after: e.producer.label }, `${e.job.label} not run: ${e.producer.label} failed`);
        break;
      case 'job-start':
        this.log.info({ event: 'job-started', ...jobFields(e.job), reason: reasonText(e.reason), attempt: e.attempt, command: e.command, lane: e.lane }, `started ${e.job.label}`);
        break;
      case 'job-finish':
        this.log.info({ event: 'job-finished', ...jobFields(e.job), durationMs: e.durationMs, cpuMs: e.usage?.cpuMs, maxRssKb: e.usage?.maxRssKb }, `finished ${e.job.label}`);
        break;
      case 'job-skip': {
        const why = skipText(e.why);
        this.log.info({ event: 'job-skipped', ...jobFields(e.job), why }, `skipped ${e.job.label}: ${why}`);
        break;
      }
      case 'job-fail': {
        const error = failureText(e.failure);
        this.log.error(
          { event: 'job-failed', ...jobFields(e.job), durationMs: e.durationMs, error, willRetry: e.willRetry, output: e.output, outputCut: e.cut, cpuMs: e.usage?.cpuMs, maxRssKb: e.usage?.maxRssKb },
          `failed ${e.job.label}: ${error}`,
        );
        break;
      }
      case 'watch-idle':
        this.log.info({ event: 'watch-waiting', files: e.files, dirs: e.dirs }, 'watching for changes');
        break;
      case 'watch-change':
        this.log.info({ event: 'watch-changed', paths: e.paths }, `changed: ${e.paths.length} path${e.paths.length === 1 ? '' : 's'}`);
        break;
      case 'build-finish':
        this.log[e.ok ? 'info' : 'error'](
          {
            event: 'build-finished',
            ok: e.ok,
            ran: e.ran,
            skipped: e.skipped,
            failed: e.failed,
            notRun: e.notRun,
            interrupted: e.interrupted,
            durationMs: e.durationMs,
            ...(e.freedFiles !== undefined ? { freedBytes: e.freedBytes, freedFiles: e.freedFiles } : {}),
          },
          e.ok ? 'build finished' : 'build failed',
        );
        break;
    }
  }

  close(): void {
    if (this.dest instanceof EventLogFile) {
      // A file it opened is closed (a watch session builds many times).
      const failure = this.dest.close();
      if (failure) throw failure;
    }
  }
}

/** An object's fields as they go inside a line: `,"a":1,"b":"x"`, or nothing for none. */
function fieldsOf(fields: object): string {
  const json = JSON.stringify(fields);
  return json.length > 2 ? `,${json.slice(1, -1)}` : '';
}
