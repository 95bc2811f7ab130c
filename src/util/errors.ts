// Errors a user can cause carry a message written for them and, where known,
// the place in a Rulefile they come from. Anything else thrown is a bug.

export interface SourceLocation {
  file: string;
  line: number;
  /** 0 when the place is a whole line (a row of a table file): shown as `FILE:LINE`. */
  col: number;
}

export interface Diagnostic {
  message: string;
  loc?: SourceLocation;
  /** Lines shown under the message: the source line with a caret, a hint on how to fix it. */
  detail?: string;
}

/** `FILE:LINE:COL` (`FILE:LINE` for a whole line), as editors and terminals recognise a place. */
export function formatLocation(loc: SourceLocation): string {
  return loc.col > 0 ? `${loc.file}:${loc.line}:${loc.col}` : `${loc.file}:${loc.line}`;
}

export function formatDiagnostic(d: Diagnostic): string {
  const text = d.loc ? `${formatLocation(d.loc)}: ${d.message}` : d.message;
  return d.detail === undefined ? text : `${text}\n${d.detail}`;
}

/** A problem in the user's input: printed without a stack trace, exit status 2 by default. */
export class UserError extends Error {
  readonly diagnostics: Diagnostic[];
  readonly exitCode: number;

  constructor(diagnostics: Diagnostic[] | string, exitCode = 2) {
    const list = typeof diagnostics === 'string' ? [{ message: diagnostics }] : diagnostics;
    super(list.map(formatDiagnostic).join('\n'));
    this.name = 'UserError';
    this.diagnostics = list;
    this.exitCode = exitCode;
  }
}
