// Sample sheets (SPEC §7): the top-level `tables:` map, and the CSV or TSV
// files it names, read whole at load time into rows by key. A table file is
// part of the project, like a config file: it is in `Project.read`, never an
// input of a job.

import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { isMap, isScalar } from 'yaml';
import type { Node } from 'yaml';
import { formatLocation, type Diagnostic, type SourceLocation } from '../util/errors.js';
import { sha256Hex } from '../util/hash.js';
import { didYouMean } from '../util/strings.js';
import type { Table, TableRow } from './model.js';
import { describeNode, type SourceFile } from './source.js';

export const TABLE_KEYS = ['file', 'key', 'sep'] as const;

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** The separator a file's extension implies. */
const SEPARATORS: Record<string, string> = { '.tsv': '\t', '.tab': '\t', '.csv': ',' };

/** A table as read, with the file's digest (the up-to-date stamp compares it). */
export interface LoadedTable {
  table: Table;
  digest: string;
}

/**
 * Reads the `tables:` node of the Rulefile: each entry's file, relative to
 * `root`, parsed. Problems go to `problems`; a table with one is left out,
 * and its name put in `failed` (its uses are then no further error).
 */
export function loadTables(src: SourceFile, node: Node, root: string, show: (abs: string) => string, problems: Diagnostic[], failed: Set<string>): LoadedTable[] {
  const map = src.resolve(node);
  if (!isMap(map)) {
    problems.push({ message: `'tables' must be a map of NAME: { file: PATH, key: COLUMN }, not ${describeNode(map)}`, loc: src.loc(map ?? node) });
    return [];
  }
  const out: LoadedTable[] = [];
  for (const e of src.entries(map)) {
    const name = e.key;
    const count = out.length;
    loadOne(e, name);
    if (out.length === count) failed.add(name);
  }
  return out;

  function loadOne(e: ReturnType<SourceFile['entries']>[number], name: string): void {
    const at = src.loc(e.keyNode);
    if (!TABLE_NAME.test(name)) {
      problems.push({ message: `invalid table name '${name}': use letters, digits, '_' and '-', starting with a letter or '_'`, loc: at });
      return;
    }
    const entry = src.resolve(e.value);
    if (!isMap(entry)) {
      problems.push({ message: `table '${name}' must be a map like { file: samples.tsv, key: sample }, not ${describeNode(entry)}`, loc: src.loc(entry ?? e.keyNode) });
      return;
    }
    const given = new Map<string, { value: Node | null; keyNode: Node }>();
    let ok = true;
    for (const k of src.entries(entry)) {
      if ((TABLE_KEYS as readonly string[]).includes(k.key)) given.set(k.key, { value: src.resolve(k.value), keyNode: k.keyNode });
      else {
        problems.push({ message: `unknown key '${k.key}' in table '${name}'${didYouMean(k.key, TABLE_KEYS)}; allowed: ${TABLE_KEYS.join(', ')}`, loc: src.loc(k.keyNode) });
        ok = false;
      }
    }
    const text = (k: string): { text: string; loc: SourceLocation } | undefined => {
      const v = given.get(k);
      if (v === undefined) {
        problems.push({ message: `table '${name}' needs '${k}:' (${k === 'file' ? 'the CSV or TSV file, relative to the project root' : 'the column whose values name the rows'})`, loc: at });
        return undefined;
      }
      if (isScalar(v.value) && typeof v.value.value === 'string' && v.value.value !== '') return { text: v.value.value, loc: src.loc(v.value) };
      problems.push({ message: `'${k}' of table '${name}' must be a string, not ${describeNode(v.value)}`, loc: src.loc(v.value ?? v.keyNode) });
      return undefined;
    };
    const file = text('file');
    const key = text('key');
    let sep: string | undefined;
    if (given.has('sep')) {
      const v = given.get('sep')!;
      if (isScalar(v.value) && typeof v.value.value === 'string' && v.value.value.length === 1 && v.value.value !== '"' && v.value.value !== '\n' && v.value.value !== '\r') {
        sep = v.value.value;
      } else {
        problems.push({ message: `'sep' of table '${name}' must be one character such as "\\t" or ",", not ${describeNode(v.value)}`, loc: src.loc(v.value ?? v.keyNode) });
        ok = false;
      }
    }
    if (file === undefined || key === undefined || !ok) return;
    if (sep === undefined) {
      sep = SEPARATORS[extname(file.text).toLowerCase()];
      if (sep === undefined) {
        problems.push({ message: `cannot tell the separator of table file '${file.text}' from its name (.csv: comma, .tsv or .tab: tab): add sep: "\\t" or sep: ","`, loc: file.loc });
        return;
      }
    }
    const abs = resolve(root, file.text);
    let bytes: Buffer;
    try {
      bytes = readFileSync(abs);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (code ?? 'unreadable');
      problems.push({ message: `cannot read the file of table '${name}', '${file.text}': ${why}`, loc: file.loc });
      return;
    }
    const table = parseTable(bytes.toString('utf8'), { name, display: show(abs), path: abs, key: key.text, sep, loc: at, keyLoc: key.loc }, problems);
    if (table !== undefined) out.push({ table, digest: sha256Hex(bytes) });
  }
}

interface TableSpec {
  name: string;
  display: string;
  path: string;
  key: string;
  sep: string;
  /** Where the table and its key are written in the Rulefile. */
  loc: SourceLocation;
  keyLoc: SourceLocation;
}

/**
 * Parses a table's text: a header row, then one row per record. Fields are
 * RFC 4180: a field that starts with `"` is quoted (`""` is a quote; the
 * separator and line ends are part of it). A UTF-8 BOM, CRLF line ends, a
 * missing last newline and blank lines are taken in stride.
 */
export function parseTable(text: string, spec: TableSpec, problems: Diagnostic[]): Table | undefined {
  const before = problems.length;
  const at = (line: number, col = 0): SourceLocation => ({ file: spec.display, line, col });
  const records = splitRecords(text, spec.sep, (message, line, col) => problems.push({ message, loc: at(line, col) }));
  if (problems.length > before) return undefined;
  const header = records[0];
  if (header === undefined) {
    problems.push({ message: `table '${spec.name}' has no header row: its first line names the columns`, loc: at(1) });
    return undefined;
  }
  const columns = header.fields;
  const seen = new Map<string, number>();
  columns.forEach((c, i) => {
    if (seen.has(c)) problems.push({ message: `column '${c}' appears twice in the header of table '${spec.name}'`, loc: at(header.line) });
    seen.set(c, i);
  });
  const keyIndex = columns.indexOf(spec.key);
  if (keyIndex < 0) {
    problems.push({
      message: `no column '${spec.key}' (columns: ${columns.join(', ')}): it is the key of table '${spec.name}' at ${formatLocation(spec.keyLoc)}${didYouMean(spec.key, columns)}`,
      loc: at(header.line),
    });
  }
  if (problems.length > before) return undefined;
  const rows = new Map<string, TableRow>();
  const keys: string[] = [];
  for (let r = 1; r < records.length; r++) {
    const { fields, line } = records[r]!;
    if (fields.length !== columns.length) {
      problems.push({ message: `a row of ${fields.length} field${fields.length === 1 ? '' : 's'} in table '${spec.name}', whose header has ${columns.length}`, loc: at(line) });
      continue;
    }
    const key = fields[keyIndex]!;
    if (key === '') {
      problems.push({ message: `a row of table '${spec.name}' has an empty key ('${spec.key}')`, loc: at(line) });
      continue;
    }
    const first = rows.get(key);
    if (first !== undefined) {
      problems.push({ message: `key '${key}' appears again (first on line ${first.line}): each row of table '${spec.name}' needs a '${spec.key}' of its own`, loc: at(line) });
      continue;
    }
    rows.set(key, { line, values: fields });
    keys.push(key);
  }
  if (problems.length > before) return undefined;
  return { name: spec.name, display: spec.display, path: spec.path, key: spec.key, columns, rows, keys, loc: spec.loc };
}

/** The records of a CSV/TSV text, each with the line it starts on; blank lines are skipped. */
function splitRecords(text: string, sep: string, problem: (message: string, line: number, col: number) => void): { fields: string[]; line: number }[] {
  const out: { fields: string[]; line: number }[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let lineStart = i;
  const n = text.length;
  while (i < n) {
    const recordLine = line;
    // A blank line (LF or CRLF) is no record.
    if (text[i] === '\n' || (text[i] === '\r' && (text[i + 1] === '\n' || i + 1 === n))) {
      i += text[i] === '\r' ? 2 : 1;
      line++;
      lineStart = i;
      continue;
    }
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        const openLine = line;
        const openCol = i - lineStart + 1;
        i++;
        for (;;) {
          if (i >= n) {
            problem(`a quoted field opened here is not closed (a '"' inside a quoted field is written '""')`, openLine, openCol);
            return out;
          }
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') {
            line++;
            lineStart = i + 1;
          }
          field += c;
          i++;
        }
        if (i < n && text[i] !== sep && text[i] !== '\n' && !(text[i] === '\r' && (i + 1 === n || text[i + 1] === '\n'))) {
          problem(`text after the closing quote of a quoted field (a '"' inside a quoted field is written '""')`, line, i - lineStart + 1);
          return out;
        }
      } else {
        const start = i;
        while (i < n && text[i] !== sep && text[i] !== '\n' && !(text[i] === '\r' && (i + 1 === n || text[i + 1] === '\n'))) i++;
        field = text.slice(start, i);
      }
      fields.push(field);
      if (i < n && text[i] === sep) {
        i++;
        continue;
      }
      // End of the record: a line end (CRLF or LF), or the end of the text.
      if (text[i] === '\r') i++;
      if (text[i] === '\n') {
        i++;
        line++;
        lineStart = i;
      }
      break;
    }
    out.push({ fields, line: recordLine });
  }
  return out;
}
