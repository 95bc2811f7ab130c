// Who hears a build on the command line: the console always, JSON on stderr
// with `--log-format json`. (The builder adds the event log under .rules/logs/.)
// The JSON reporter is loaded only when needed.

import type { ReportRequest } from '../build/request.js';
import { ConsoleReporter } from '../report/console.js';
import { styles } from '../report/style.js';
import { MultiReporter, type Reporter } from '../run/events.js';
import { flag, type ParsedArgs } from './args.js';
import { colorOn, cursorOn, stderr, stdout, writeFailed } from './stdio.js';

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
