// Who hears a build on the command line: the console always, JSON on stderr
// with `--log-format json`. (The builder adds the event log under .rules/logs/.)
// The JSON reporter is loaded only when needed. Whether to colour, and to
// rewrite a status line in place, is decided here from the streams.

import { WriteStream } from 'node:tty';
import type { ReportRequest } from '../build/request.js';
import { ConsoleReporter } from '../report/console.js';
import { styles } from '../report/style.js';
import { MultiReporter, type Reporter } from '../run/events.js';
import { flag, type ParsedArgs } from './args.js';
import { stderr, stdout, writeFailed } from './stdio.js';

/** The console (and JSON on stderr): a fresh reporter for each build. */
export function commandLineReport(args: ParsedArgs, json: boolean): ReportRequest {
  return {
    open: () => consoleReporter(args, json),
    warn: (text) => stderr.write(`rules: ${styles(colorOn(process.stderr)).warning('warning:')} ${text}\n`),
  };
}

export async function consoleReporter(args: ParsedArgs, json: boolean): Promise<MultiReporter> {
  const reporters: Reporter[] = [
    new ConsoleReporter(stdout, json ? stdout : stderr, {
      tty: !json && cursorOn(process.stdout),
      quiet: json || flag(args, 'quiet'),
      verbose: !json && flag(args, 'verbose'),
      columns: process.stdout.columns || 80,
      // Most of what is coloured (failures, warnings) goes to stderr; job labels to stdout.
      color: !json && colorOn(process.stdout) && colorOn(process.stderr),
    }),
  ];
  if (json) {
    const { JsonReporter } = await import('../report/json.js');
    reporters.push(JsonReporter.toDescriptor(2, {}, writeFailed));
  }
  return new MultiReporter(reporters);
}

/** What a stream is, for deciding how to write to it. */
export interface StreamKind {
  isTTY?: boolean;
}

/**
 * Whether to colour what goes to a stream: as Node's `hasColors()` says
 * (off for `NO_COLOR` and `TERM=dumb`, on or off for `FORCE_COLOR`), and
 * without `FORCE_COLOR` only on a terminal.
 */
export function colorOn(stream: StreamKind, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR === undefined && stream.isTTY !== true) return false;
  // hasColors reads only the environment it is given, so it answers for a pipe too.
  return WriteStream.prototype.hasColors.call(stream as WriteStream, 16, env);
}

/** Whether a stream is a terminal that takes cursor escapes: the status line is rewritten in place only there. */
export function cursorOn(stream: StreamKind, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && env.TERM !== 'dumb';
}
