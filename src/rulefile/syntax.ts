// YAML syntax errors as a Rulefile's author reads them: the yaml library's
// message, the line with a caret under the place (the library's code frame),
// and a hint per error code that says how to fix it in a Rulefile.

import type { LineCounter, YAMLError } from 'yaml';

/** The widest source line a code frame shows; longer ones are cut around the caret, as the yaml library does. */
const FRAME_WIDTH = 80;

/**
 * The source line holding `offset`, and under it a caret at its column (the
 * line before too when the caret stands in the indentation, where the mistake
 * is often the line above). Each line is indented by two spaces.
 */
export function codeFrame(text: string, lines: LineCounter, offset: number): string | undefined {
  if (offset < 0 || offset > text.length) return undefined;
  const { line, col } = lines.linePos(offset);
  const starts = lines.lineStarts;
  const lineText = (n: number) => text.slice(starts[n - 1], starts[n] ?? text.length).replace(/[\r\n]+$/, '');
  let shown = lineText(line);
  let caret = col - 1;
  if (caret >= 60 && shown.length > FRAME_WIDTH) {
    const cut = Math.min(caret - 39, shown.length - (FRAME_WIDTH - 1));
    shown = '…' + shown.slice(cut);
    caret -= cut - 1;
  }
  if (shown.length > FRAME_WIDTH) shown = shown.slice(0, FRAME_WIDTH - 1) + '…';
  // The caret is drawn under the characters as shown: a tab keeps its width.
  const pad = shown.slice(0, caret).replace(/[^\t]/g, ' ');
  const out: string[] = [];
  if (line > 1 && /^[ \t]*$/.test(shown.slice(0, caret))) {
    let prev = lineText(line - 1);
    if (prev.length > FRAME_WIDTH) prev = prev.slice(0, FRAME_WIDTH - 1) + '…';
    out.push(prev);
  }
  out.push(shown, pad + '^');
  return out.map((l) => `  ${l}`.trimEnd()).join('\n');
}

/**
 * What to do about a YAML syntax error, in the words of a Rulefile: keyed by
 * the yaml library's error code, refined by its message and the line it is
 * on. Undefined where the library's message says enough.
 */
export function syntaxHint(err: Pick<YAMLError, 'code' | 'message'>, lineText: string): string | undefined {
  const value = valueOf(lineText);
  const startsFlow = value !== undefined && /^[[{]/.test(value.text);
  switch (err.code) {
    case 'BLOCK_AS_IMPLICIT_KEY':
      if (/compact mappings/.test(err.message)) {
        return `an unquoted value cannot hold ': ' (YAML reads it as the start of a nested map): ${quoteIt(value)}`;
      }
      return 'a list cannot be a key: is a ":" missing, or a "- " too many?';
    case 'MULTILINE_IMPLICIT_KEY':
      return `a key and its ':' must be on one line. If a value continues on this line, it cannot hold ': ' unless it is quoted or written as a block (key: |, then the text on the lines below, indented)`;
    case 'TAB_AS_INDENT':
      return 'YAML indents with spaces only: replace the tabs at the start of this line with spaces';
    case 'BAD_INDENT':
      if (/Flow (map|sequence)/.test(err.message)) return flowHint(false);
      if (/same column/.test(err.message)) return 'the keys of one map (and the items of one list) must start in the same column: indent this line like the ones before it';
      return 'check the indentation: a value on lines of its own is indented more than its key, with spaces';
    case 'MISSING_CHAR':
      if (/closing "quote/.test(err.message)) return 'a value that starts with " must end with " (write \\" for a quote inside it), or use single quotes';
      if (/closing 'quote/.test(err.message)) return "a value that starts with ' must end with ' (write '' for a quote inside it)";
      if (/white space/.test(err.message) && /Comments/.test(err.message)) return "a '#' that starts a comment needs a space before it; inside a value, quote the value";
      if (/followed by map values/.test(err.message)) return "a line in a map must be 'key: value', with a space after the ':'";
      if (/flow (map|sequence)|between|Missing ,/.test(err.message)) return flowHint(startsFlow);
      return undefined;
    case 'UNEXPECTED_TOKEN':
    case 'BLOCK_IN_FLOW':
      if (startsFlow) return flowHint(true);
      return `quote the value: ${quoteIt(value)}`;
    case 'BAD_DQ_ESCAPE':
      return 'inside double quotes a backslash starts an escape (\\n, \\t, \\\\, \\"): write \\\\ for a backslash, or use single quotes, which keep backslashes as they are';
    case 'BAD_SCALAR_START':
    case 'BAD_DIRECTIVE':
      return `a value starting with this character must be quoted: ${quoteIt(value)}`;
    case 'BAD_ALIAS':
    case 'ALIAS_PROPS':
    case 'MULTIPLE_ANCHORS':
    case 'MULTIPLE_TAGS':
    case 'BAD_PROP_ORDER':
    case 'TAG_RESOLVE_FAILED':
      return `a value starting with '*' (an alias), '&' (an anchor) or '!' (a tag) is YAML syntax; a glob such as *.txt must be quoted: ${quoteIt(value)}`;
    case 'MULTIPLE_DOCS':
      return "a Rulefile is one YAML document: remove the '---' (or '...') line, or merge what follows it into the one map";
    case 'KEY_OVER_1024_CHARS':
      return "a key is at most 1024 characters long: is a ':' or a closing quote missing before it?";
    case 'DUPLICATE_KEY':
      return 'each key may be given once in a map: merge the two, or rename one';
    default:
      return undefined;
  }
}

/** The hint for a value that starts with `{` or `[`, which YAML reads as a map or a list. */
function flowHint(startsFlow: boolean): string {
  return startsFlow
    ? "a value that starts with '{' is read as a YAML map, and one that starts with '[' as a list: a template such as {name}.txt must be quoted (\"{name}.txt\")"
    : "a list opened with '[' must be closed with ']', and a map opened with '{' with '}', with ', ' between items; a template that starts with '{' (such as {name}.txt) must be quoted";
}

/** `key: value` on a line (after an optional `- `): the key and the value's text. */
function valueOf(lineText: string): { key: string; text: string } | undefined {
  // A line too long to show whole gets a hint in words.
  if (lineText.length > 200) return undefined;
  const m = /^[ \t]*(?:-[ \t]+)?([^\s:#'"][^:#]*?):[ \t]+(\S.*)$/.exec(lineText);
  return m ? { key: m[1]!, text: m[2]!.trimEnd() } : undefined;
}

/** How to quote a line's value: as the fixed line where it can be shown, else in words. */
function quoteIt(value: { key: string; text: string } | undefined): string {
  const block = value === undefined ? 'key: |' : `${value.key}: |`;
  const orBlock = `or write it as a block (${block}, then the text on the next line, indented)`;
  if (value === undefined) return `put the whole value in quotes, ${orBlock}`;
  const t = value.text;
  const quoted = !/["\\]/.test(t) ? `"${t}"` : !t.includes("'") ? `'${t}'` : undefined;
  if (quoted === undefined || quoted.length > 70) return `put the whole value of '${value.key}' in quotes, ${orBlock}`;
  return `${value.key}: ${quoted}, ${orBlock}`;
}
