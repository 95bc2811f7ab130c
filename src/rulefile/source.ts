// A parsed YAML file that remembers where every node came from, so every
// diagnostic can name FILE:LINE:COL.

import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isAlias, isCollection, isMap, isPair, isScalar, isSeq, Scalar, visit } from 'yaml';
import type { Alias, Document, Node, YAMLError, YAMLMap } from 'yaml';
import { UserError, type Diagnostic, type SourceLocation } from '../util/errors.js';
import { sha256Hex } from '../util/hash.js';
import { setKey } from './config.js';
import { codeFrame, syntaxHint } from './syntax.js';

/**
 * How many YAML nodes the aliases of one file may bring in, in all, before
 * loading stops: a few aliases of ordinary size are far below it, while an
 * "alias bomb" (aliases of aliases, each level multiplying the size) reaches
 * it after a bounded amount of work.
 */
export const ALIAS_EXPANSION_LIMIT = 100_000;

/** YAML syntax errors reported per file: after the first few, the rest are mostly echoes. */
const MAX_SYNTAX_ERRORS = 20;

export class SourceFile {
  readonly doc: Document.Parsed;
  private readonly lines: LineCounter;
  /** Each alias and the node it stands for (null when it has none, or would contain itself). */
  private readonly targets = new Map<Alias, Node | null>();
  /** Node counts of alias targets, computed once each. */
  private readonly sizes = new Map<Node, number>();
  /** Nodes brought in through aliases so far (see ALIAS_EXPANSION_LIMIT). */
  private expanded = 0;
  /** Aliases without an anchor before them, and aliases inside their own anchor. */
  readonly aliasProblems: Diagnostic[] = [];
  /** The SHA-256 of the file's bytes as read (`SourceFile.read`): what the project was made from. */
  digest: string | undefined;
  /** Where quoted scalars' value characters start in the raw text (see locIn), built on first use. */
  private readonly rawOffsets = new WeakMap<Node, Int32Array | null>();

  /** `display` is the path shown in messages (relative to the working directory when possible). */
  constructor(
    readonly display: string,
    readonly text: string,
  ) {
    this.lines = new LineCounter();
    // The yaml library makes an Error (with a stack trace, which is costly) per syntax error,
    // and a mangled file can hold hundreds of thousands of them; their stacks are never shown.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: false, merge: true });
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
    this.indexAliases();
  }

  /**
   * Finds every alias's anchor in one pass, in document order (the last
   * anchor of that name before the alias, as YAML says). The yaml library's
   * own `Alias.resolve` searches the whole document on each call, and its
   * alias limit only guards `toJS`, which the loader does not use.
   */
  private indexAliases(): void {
    const anchors = new Map<string, Node>();
    visit(this.doc, {
      Node: (_key, node) => {
        if (isAlias(node)) {
          const target = anchors.get(node.source);
          if (target === undefined) {
            this.targets.set(node, null);
            this.aliasProblems.push({ message: `alias '*${node.source}' has no anchor '&${node.source}' before it (a value starting with '*' is a YAML alias: quote a glob, "*${node.source}")`, loc: this.loc(node) });
          } else if (encloses(target, node)) {
            this.targets.set(node, null);
            const l = this.loc(target);
            this.aliasProblems.push({
              message: `alias '*${node.source}' is inside the value it refers to (anchor '&${node.source}' at line ${l.line}, column ${l.col}): a recursive alias has no finite value`,
              loc: this.loc(node),
            });
          } else {
            this.targets.set(node, target);
          }
        } else if (node.anchor) {
          anchors.set(node.anchor, node);
        }
      },
    });
  }

  /** How many nodes `node` holds, counting an alias in it as one (its expansion is charged when it is resolved). */
  private size(node: Node): number {
    let n = this.sizes.get(node);
    if (n !== undefined) return n;
    n = 0;
    const stack: unknown[] = [node];
    while (stack.length > 0) {
      const x = stack.pop();
      if (isPair(x)) {
        stack.push(x.key, x.value);
      } else if (isCollection(x)) {
        n++;
        for (const item of x.items) stack.push(item);
      } else if (x !== null && x !== undefined) {
        n++;
      }
    }
    this.sizes.set(node, n);
    return n;
  }

  static read(absPath: string, display: string, at?: SourceLocation): SourceFile {
    let bytes: Buffer;
    try {
      bytes = readFileSync(absPath);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String((e as Error).message);
      throw new UserError([{ message: `cannot read '${display}': ${why}`, loc: at }]);
    }
    const src = new SourceFile(display, bytes.toString('utf8'));
    src.digest = sha256Hex(bytes);
    // The errors after the first on a line are mostly its echoes: one per line says it.
    const lines = new Set<number>();
    const errors = src.doc.errors.filter((err) => {
      const line = src.at(err.pos[0]).line;
      if (lines.has(line)) return false;
      lines.add(line);
      return true;
    });
    const problems: Diagnostic[] = errors.slice(0, MAX_SYNTAX_ERRORS).map((err) => src.syntaxError(err));
    if (errors.length > MAX_SYNTAX_ERRORS) {
      problems.push({ message: `... and ${errors.length - MAX_SYNTAX_ERRORS} more YAML syntax errors`, loc: src.at(errors[MAX_SYNTAX_ERRORS]!.pos[0]) });
    }
    if (problems.length === 0) problems.push(...src.aliasProblems);
    // YAML allows a NUL only escaped ("\0"); the yaml library lets a raw one through.
    const nul = src.text.indexOf('\0');
    if (problems.length === 0 && nul >= 0) problems.push({ message: 'YAML syntax error: a raw NUL character is not allowed', loc: src.at(nul) });
    if (problems.length > 0) throw new UserError(problems);
    return src;
  }

  /** A YAML syntax error at its place, with the line and a caret under it, and a hint on the fix. */
  syntaxError(err: YAMLError): Diagnostic {
    const offset = err.pos[0];
    const loc = this.at(offset);
    const lineText = this.text.slice(this.lines.lineStarts[loc.line - 1], this.lines.lineStarts[loc.line] ?? this.text.length);
    const hint = syntaxHint(err, lineText.replace(/[\r\n]+$/, ''));
    const frame = codeFrame(this.text, this.lines, offset);
    const detail = [frame, hint === undefined ? undefined : `  hint: ${hint}`].filter((l) => l !== undefined).join('\n');
    return { message: `YAML syntax error: ${firstLine(err.message)}`, loc, ...(detail === '' ? {} : { detail }) };
  }

  at(offset: number): SourceLocation {
    const p = this.lines.linePos(offset);
    return { file: this.display, line: p.line, col: p.col };
  }

  loc(node: Node | null | undefined): SourceLocation {
    return this.at(node?.range?.[0] ?? 0);
  }

  /** The location of character `index` of a scalar's value: exact for one-line scalars, block scalars and plain ones. */
  locIn(node: Node, index: number): SourceLocation {
    const start = node.range?.[0] ?? 0;
    if (isScalar(node) && node.type === Scalar.PLAIN) {
      if (this.rawOffsetsOf(node) !== null) return this.at(start + index);
      return this.at(start + this.spreadOffset(node, index));
    } else if (isScalar(node) && (node.type === Scalar.QUOTE_SINGLE || node.type === Scalar.QUOTE_DOUBLE)) {
      const offsets = this.rawOffsetsOf(node);
      if (offsets !== null) return this.at(start + 1 + offsets[Math.min(index, offsets.length - 1)]!);
    } else if (isScalar(node) && (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED)) {
      return this.at(start + this.spreadOffset(node, index));
    }
    return this.at(start);
  }

  /**
   * For a scalar spread over lines without escapes (a block scalar, `run: |`,
   * or a plain one), the raw offset of value character `index`: the value's
   * non-blank characters are the raw text's, in order; only indentation and
   * line folding differ. A block scalar's header line is skipped.
   */
  private spreadOffset(node: Scalar, index: number): number {
    const start = node.range?.[0] ?? 0;
    const raw = this.text.slice(start, node.range?.[1] ?? start);
    const value = String(node.value);
    let r = node.type === Scalar.PLAIN ? 0 : raw.indexOf('\n') + 1;
    if (r < 0) return 0;
    for (let v = 0; v < value.length && v <= index; v++) {
      const c = value[v]!;
      if (c === ' ' || c === '\t' || c === '\n') continue;
      const at = raw.indexOf(c, r);
      if (at < 0) return 0;
      if (v === index) return at;
      r = at + 1;
    }
    return r;
  }

  /**
   * For a one-line scalar, the raw offset of each value character (computed
   * once per node, so a template with many placeholders is located in linear
   * time); null for a multi-line one, where only its start is exact.
   */
  private rawOffsetsOf(node: Scalar): Int32Array | null {
    const cached = this.rawOffsets.get(node);
    if (cached !== undefined) return cached;
    const start = node.range?.[0] ?? 0;
    const raw = this.text.slice(start, node.range?.[1] ?? start);
    let offsets: Int32Array | null = null;
    if (!raw.includes('\n')) {
      offsets = node.type === Scalar.PLAIN ? new Int32Array(0) : rawOffsets(raw.slice(1), node.type === Scalar.QUOTE_DOUBLE);
    }
    this.rawOffsets.set(node, offsets);
    return offsets;
  }

  /**
   * The node an alias stands for (any other node is itself). Every resolution
   * is charged the size of what it brings in; past ALIAS_EXPANSION_LIMIT the
   * file is rejected, so no arrangement of aliases makes loading slow.
   */
  resolve(node: unknown): Node | null {
    if (!isAlias(node)) return (node as Node | null) ?? null;
    const target = this.targets.get(node) ?? null;
    if (target === null) return null;
    this.expanded += this.size(target);
    if (this.expanded > ALIAS_EXPANSION_LIMIT) {
      throw new UserError([
        {
          message: `too many aliases (YAML alias expansion limit): expanding '*${node.source}' here brings the nodes read through aliases past ${ALIAS_EXPANSION_LIMIT}`,
          loc: this.loc(node),
        },
      ]);
    }
    return target;
  }

  /** A node as a plain value (maps with merge keys applied, aliases resolved), for params. */
  toValue(raw: unknown): unknown {
    const node = this.resolve(raw);
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      for (const e of this.entries(node, true)) setKey(out, e.key, this.toValue(e.value));
      return out;
    }
    if (isSeq(node)) return node.items.map((item) => this.toValue(item));
    if (isScalar(node)) return node.value;
    return null;
  }

  /**
   * Key/value entries of a map node, with YAML merge keys (`<<`) applied.
   * A key given twice is a problem (in `problems`) unless `allowDuplicates`,
   * for callers that report duplicates in words of their own.
   */
  entries(map: YAMLMap, allowDuplicates = false): MapEntry[] {
    const out: MapEntry[] = [];
    const seen = new Map<string, Node>();
    const merged: MapEntry[] = [];
    for (const pair of map.items) {
      const keyNode = this.resolve(pair.key);
      const raw = isScalar(keyNode) ? keyNode.value : undefined;
      const value = this.resolve(pair.value);
      if (raw === '<<' || (typeof raw === 'symbol' && raw.description === '<<')) {
        const sources = isSeq(value) ? value.items.map((n) => this.resolve(n)) : [value];
        for (const s of sources) if (isMap(s)) merged.push(...this.entries(s, true));
        continue;
      }
      // A collection as a key is shown by its kind: printing it would expand its aliases and merges.
      const key = isScalar(keyNode) ? String(keyNode.value) : `(${describeNode(keyNode)})`;
      const first = seen.get(key);
      if (first && !allowDuplicates) {
        const l = this.loc(first);
        this.report({ message: `key '${key}' is given twice (first at line ${l.line}, column ${l.col})`, loc: this.loc(keyNode) });
        continue;
      }
      if (!first) seen.set(key, keyNode as Node);
      out.push({ key, keyNode: keyNode as Node, value: isEmpty(value) ? null : value });
    }
    for (const m of merged) {
      if (!seen.has(m.key)) {
        seen.set(m.key, m.keyNode);
        out.push(m);
      }
    }
    return out;
  }

  /** Problems found while reading maps (duplicate keys), each reported once. */
  readonly problems: Diagnostic[] = [];
  private readonly reported = new Set<string>();

  private report(d: Diagnostic): void {
    const k = `${d.loc?.line}:${d.loc?.col}:${d.message}`;
    if (this.reported.has(k)) return;
    this.reported.add(k);
    this.problems.push(d);
  }
}

/** Does `outer` contain `inner` in the text (an alias inside its own anchor's value)? */
function encloses(outer: Node, inner: Node): boolean {
  const o = outer.range;
  const i = inner.range;
  if (!o || !i) return false;
  return o[0] <= i[0] && i[0] < o[2];
}

/** A missing value: nothing, or a YAML null (`key:` with nothing after it). */
export function isEmpty(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

/**
 * Offsets in the raw text of a quoted scalar (after its opening quote) of each
 * of the value's characters, plus one past the last.
 */
function rawOffsets(raw: string, doubleQuoted: boolean): Int32Array {
  const out: number[] = [];
  let i = 0;
  while (i < raw.length) {
    out.push(i);
    if (doubleQuoted && raw[i] === '\\') {
      const c = raw[i + 1];
      i += c === 'x' ? 4 : c === 'u' ? 6 : c === 'U' ? 10 : 2;
    } else if (!doubleQuoted && raw[i] === "'" && raw[i + 1] === "'") {
      i += 2;
    } else {
      i += 1;
    }
  }
  out.push(i);
  return Int32Array.from(out);
}

export interface MapEntry {
  key: string;
  keyNode: Node;
  value: Node | null;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

export function describeNode(node: Node | null): string {
  if (node === null) return 'nothing (null)';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null) return 'nothing (null)';
    if (typeof v === 'string') return 'a string';
    if (typeof v === 'number') return 'a number';
    if (typeof v === 'boolean') return 'a boolean';
  }
  return 'a value of another kind';
}
