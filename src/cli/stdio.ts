// Our stdout and stderr may be pipes whose reader stops early
// (`rules build | head -1`). Node ignores SIGPIPE, so a write then fails with
// EPIPE: the reader has heard enough. As Make and Ninja do when SIGPIPE kills
// them, `rules` says nothing more, stops a running build as an interrupt would
// (jobs stopped, their outputs removed, the lock released) and exits 141
// (128 + SIGPIPE, what a shell reports for a process killed by SIGPIPE).
// Any other write error on them (a full disk under `> file`) only silences that stream.

import type { Writer } from '../report/console.js';
import { formatDiagnostic, type Diagnostic } from '../util/errors.js';

/** The exit status once our output has been closed under us. */
export const EXIT_OUTPUT_CLOSED = 141;

const closed = new AbortController();

/** Aborted when a reader closed our stdout or stderr. */
export const outputClosed: AbortSignal = closed.signal;

const silenced = new Set<NodeJS.WriteStream>();

/** Writes to a stream of ours, and nothing once our output is closed or that stream failed. */
function guarded(stream: NodeJS.WriteStream): Writer {
  return {
    write(text: string) {
      if (!closed.signal.aborted && !silenced.has(stream)) stream.write(text);
    },
  };
}

export const stdout: Writer = guarded(process.stdout);
export const stderr: Writer = guarded(process.stderr);

/** Installs the handlers: from then on a failed write to stdout or stderr never throws. */
export function guardStdio(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      silenced.add(stream);
      writeFailed(e);
    });
  }
}

/** A write to stdout or stderr failed, through a stream or straight to the descriptor (the JSON reporter's). */
export function writeFailed(e: NodeJS.ErrnoException): void {
  if (e.code !== 'EPIPE' || closed.signal.aborted) return;
  process.exitCode = EXIT_OUTPUT_CLOSED;
  closed.abort();
}

/** Errors as the user sees them: at their place in the Rulefile, else after `rules: `. */
export function printDiagnostics(diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) stderr.write(d.loc ? `${formatDiagnostic(d)}\n` : `rules: ${d.message}\n`);
}
