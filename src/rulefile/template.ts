// Templates: strings with `{placeholder}` parts, parsed once at load time so
// that rendering a job's command is a join, and unknown names are caught early.

import type { ConfigMap } from './config.js';
import type { Table } from './model.js';

export interface Placeholder {
  /** The text between the braces, e.g. `inputs.sci` or `frame,[a-z]+`. */
  text: string;
  /** Dotted name split on `.`, e.g. ['inputs', 'sci']. */
  path: string[];
  /** A `{name,REGEX}` constraint (only meaningful in outputs). */
  regex?: string;
  /** Offset of the opening brace in the template source. */
  offset: number;
  /**
   * A value looked up per job (SPEC §7): `{tables.NAME.COL}`, or a config
   * path with a `[WILDCARD]` part (`{config.a[sample]}`, whose `path` holds
   * the part as `[sample]`). Set by the loader once the lookup is checked.
   */
  lookup?: Lookup;
}

export type TemplatePart = string | Placeholder;

/** What a lookup placeholder reads (rulefile/lookup.ts renders it). */
export type Lookup =
  /** Row of `table` whose key is the value of the name `table.key`; column `column`. */
  | { kind: 'table'; table: Table; column: number }
  /** From the config's root, each step a key or the value of a name (a wildcard, or an expand name). */
  | { kind: 'config'; root: ConfigMap; steps: ({ key: string } | { name: string })[]; shown: string };

export interface Template {
  source: string;
  parts: TemplatePart[];
  placeholders: Placeholder[];
}

export class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const NAME_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+|\[[A-Za-z_][A-Za-z0-9_]*\])*$/;
/** `a.b[name].c` → ['a', 'b', '[name]', 'c']. */
const PATH_PART = /[^.[]+|\[[^\]]*\]/g;

/** Parses `source`; `{{` and `}}` are literal braces. Throws TemplateSyntaxError. */
export function parseTemplate(source: string): Template {
  const parts: TemplatePart[] = [];
  const placeholders: Placeholder[] = [];
  let literal = '';
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '{') {
      if (source[i + 1] === '{') {
        literal += '{';
        i += 2;
        continue;
      }
      // Find the matching brace; a regex may itself contain balanced braces.
      let depth = 1;
      let j = i + 1;
      while (j < source.length && depth > 0) {
        if (source[j] === '\\') j++;
        else if (source[j] === '{') depth++;
        else if (source[j] === '}') depth--;
        j++;
      }
      if (depth > 0) throw new TemplateSyntaxError(`unclosed '{' (write '{{' for a literal brace)`, i);
      const text = source.slice(i + 1, j - 1);
      const comma = text.indexOf(',');
      const name = comma < 0 ? text : text.slice(0, comma);
      if (!NAME_PATH.test(name)) {
        throw new TemplateSyntaxError(`invalid placeholder '{${text}}' (write '{{' and '}}' for literal braces)`, i);
      }
      const ph: Placeholder = { text, path: name.includes('[') ? name.match(PATH_PART)! : name.split('.'), offset: i };
      if (comma >= 0) ph.regex = text.slice(comma + 1);
      if (literal) parts.push(literal);
      literal = '';
      parts.push(ph);
      placeholders.push(ph);
      i = j;
    } else if (c === '}') {
      if (source[i + 1] === '}') {
        literal += '}';
        i += 2;
        continue;
      }
      throw new TemplateSyntaxError(`unmatched '}' (write '}}' for a literal brace)`, i);
    } else {
      literal += c;
      i++;
    }
  }
  if (literal) parts.push(literal);
  return { source, parts, placeholders };
}

/** Renders a template; `resolve` maps each placeholder to its text. */
export function renderTemplate(t: Template, resolve: (p: Placeholder) => string): string {
  const parts = t.parts;
  if (parts.length === 1 && typeof parts[0] === 'string') return parts[0];
  let out = '';
  for (const p of parts) out += typeof p === 'string' ? p : resolve(p);
  return out;
}

/** The literal characters of a template, e.g. for glob detection. */
export function literalText(t: Template): string {
  let out = '';
  for (const p of t.parts) if (typeof p === 'string') out += p;
  return out;
}
