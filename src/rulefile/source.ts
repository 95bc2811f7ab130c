// A parsed YAML file that remembers where every node came from, so every
// diagnostic can name FILE:LINE:COL.

import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isAlias, isMap, isScalar, isSeq, Scalar } from 'yaml';
import type { Document, Node, YAMLMap } from 'yaml';
import { UserError, type Diagnostic, type SourceLocation } from '../util/errors.js';

export class SourceFile {
  readonly doc: Document.Parsed;
  private readonly lines: LineCounter;

  /** `display` is the path shown in messages (relative to the working directory when possible). */
  constructor(
    readonly display: string,
    readonly text: string,
  ) {
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: false, merge: true });
  }

  static read(absPath: string, display: string, at?: SourceLocation): SourceFile {
    let text: string;
    try {
      text = readFileSync(absPath, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String((e as Error).message);
      throw new UserError([{ message: `cannot read '${display}': ${why}`, loc: at }]);
    }
    const src = new SourceFile(display, text);
    const problems: Diagnostic[] = src.doc.errors.map((err) => ({
      message: `YAML syntax error: ${firstLine(err.message)}`,
      loc: src.at(err.pos[0]),
    }));
    if (problems.length > 0) throw new UserError(problems);
    return src;
  }

  at(offset: number): SourceLocation {
    const p = this.lines.linePos(offset);
    return { file: this.display, line: p.line, col: p.col };
  }

  loc(node: Node | null | undefined): SourceLocation {
    return this.at(node?.range?.[0] ?? 0);
  }

  /** The location of character `index` of a scalar's value, exact for one-line scalars. */
  locIn(node: Node, index: number): SourceLocation {
    const start = node.range?.[0] ?? 0;
    if (isScalar(node)) {
      const raw = this.text.slice(start, node.range?.[1] ?? start);
      if (!raw.includes('\n')) {
        if (node.type === Scalar.PLAIN) return this.at(start + index);
        if (node.type === Scalar.QUOTE_SINGLE || node.type === Scalar.QUOTE_DOUBLE) {
          return this.at(start + 1 + rawOffset(raw.slice(1), index, node.type === Scalar.QUOTE_DOUBLE));
        }
      }
    }
    return this.at(start);
  }

  resolve(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null) ?? null;
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
      const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
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

/** A missing value: nothing, or a YAML null (`key:` with nothing after it). */
export function isEmpty(node: unknown): boolean {
  return node === null || node === undefined || (isScalar(node) && node.value === null);
}

/** Offset in the raw text of a quoted scalar (after its opening quote) of the value's character `index`. */
function rawOffset(raw: string, index: number, doubleQuoted: boolean): number {
  let i = 0;
  for (let v = 0; v < index && i < raw.length; v++) {
    if (doubleQuoted && raw[i] === '\\') {
      const c = raw[i + 1];
      i += c === 'x' ? 4 : c === 'u' ? 6 : c === 'U' ? 10 : 2;
    } else if (!doubleQuoted && raw[i] === "'" && raw[i + 1] === "'") {
      i += 2;
    } else {
      i += 1;
    }
  }
  return i;
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
