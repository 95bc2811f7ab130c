// The literal words of a `run` command that may name files (SPEC §6, "Files
// the command names"): split as a shell would split them, without expanding
// anything. Done once per rule at load time.

import type { Diagnostic } from '../util/errors.js';
import { normalizePath, showPath, writablePathProblem } from '../util/paths.js';
import type { OutputPattern, Rule } from './model.js';
import { literalText, type Template } from './template.js';

export interface CommandWord {
  /** The word as the shell would pass it (quotes removed). */
  text: string;
  /** Offset of the word's first character in the template source. */
  offset: number;
}

/** Characters that end a word besides whitespace and quotes. */
const SEPARATORS = new Set(['=', '<', '>', '|', ';', '&', '(', ')']);
/** A word holding one of these is expanded by the shell: it names no file as written. */
const EXPANDED = /[$`*?[~]/;

/** Words after which the next word is a command again. */
const PREFIXES = new Set(['if', 'then', 'do', 'else', 'elif', 'while', 'until', '!', 'time', 'exec', 'command', 'nice', 'nohup', 'env', 'xargs', '{', '}']);

/**
 * The words of `run` that are literal text: no placeholder in or glued to
 * them, not right after an output redirection, not a file descriptor number
 * of a redirection, not an option (`-x`), not inside a comment, and not a
 * command name without a `/` (the shell looks that up in PATH, never in the
 * project: `python` in `python scripts/fit.py` names no file).
 */
export function commandWords(t: Template): CommandWord[] {
  const src = t.source;
  // Where each placeholder starts in the source, and where it ends.
  const holes = new Map<number, number>();
  for (const p of t.placeholders) holes.set(p.offset, p.offset + p.text.length + 2);
  const out: CommandWord[] = [];
  let word = '';
  let start = -1;
  let tainted = false;
  /** Set by an output redirection: the next word is what it writes to. */
  let redirected = false;
  /** Set by `<<`: the next word is a here-document's delimiter. */
  let heredoc = false;
  /** The next word is in command position (a command name, or an assignment before one). */
  let command = true;
  /** The word before was `NAME=` in command position: this one is its value. */
  let assigning = false;
  let lastOp = '';

  /** Ends the word; `next` is the character that ends it. */
  const end = (next = ' ') => {
    if (start >= 0) {
      if (redirected || heredoc) {
        redirected = heredoc = false;
      } else if (command && next === '=' && !tainted) {
        // `NAME=value cmd`: an assignment; its value may name a file, the command comes after it.
        assigning = true;
      } else if (assigning) {
        assigning = false;
        if (!tainted && word !== '' && !EXPANDED.test(word)) out.push({ text: word, offset: start });
      } else if (command) {
        command = !tainted && PREFIXES.has(word);
        if (!tainted && word.includes('/') && !EXPANDED.test(word)) out.push({ text: word, offset: start });
      } else if (!tainted && word !== '' && !word.startsWith('-') && !EXPANDED.test(word)) {
        out.push({ text: word, offset: start });
      }
    }
    word = '';
    start = -1;
    tainted = false;
  };
  const add = (c: string, at: number) => {
    if (start < 0) start = at;
    word += c;
  };

  let i = 0;
  while (i < src.length) {
    const hole = holes.get(i);
    if (hole !== undefined) {
      if (start < 0) start = i;
      tainted = true;
      lastOp = '';
      i = hole;
      continue;
    }
    const c = src[i]!;
    if ((c === '{' && src[i + 1] === '{') || (c === '}' && src[i + 1] === '}')) {
      add(c, i);
      lastOp = '';
      i += 2;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      end();
      if (c === '\n') command = true;
      lastOp = '';
      i++;
      continue;
    }
    if (c === '#' && start < 0) {
      // A comment runs to the end of the line.
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '\\') {
      if (src[i + 1] === '\n') {
        end();
        i += 2;
        continue;
      }
      if (i + 1 < src.length) add(src[i + 1]!, i);
      lastOp = '';
      i += 2;
      continue;
    }
    if (c === "'" || c === '"') {
      // A quoted piece is a word of its own: the quotes split, the spaces inside do not.
      end(c);
      const close = src.indexOf(c, i + 1);
      const stop = close < 0 ? src.length : close;
      start = i + 1;
      for (let j = i + 1; j < stop; j++) {
        if (holes.has(j)) {
          tainted = true;
          j = holes.get(j)! - 1;
        } else if (c === '"' && src[j] === '\\' && j + 1 < stop) {
          word += src[++j];
        } else {
          word += src[j];
        }
      }
      end(src[stop + 1]);
      lastOp = '';
      i = stop + 1;
      continue;
    }
    if (SEPARATORS.has(c)) {
      // `2>`, `1>>`: the digits before a redirection are a file descriptor, not a word.
      if ((c === '>' || c === '<') && start >= 0 && !tainted && /^\d+$/.test(word)) {
        word = '';
        start = -1;
      }
      end(c);
      if (c === '>') redirected = true;
      else if (c === '<' && lastOp === '<') heredoc = true;
      // `>|`, `>&`, `&>`: still the same redirection.
      else if (!(redirected && lastOp === '>' && (c === '|' || c === '&'))) {
        if (c !== '&' || src[i + 1] !== '>') redirected = false;
      }
      // After `;`, `|`, `&&`, `(` comes a command (not after `>|` or `>&`).
      if ((c === ';' || c === '|' || c === '(' || c === ')' || (c === '&' && src[i + 1] !== '>')) && lastOp !== '>') command = true;
      lastOp = c;
      i++;
      continue;
    }
    add(c, i);
    lastOp = '';
    i++;
  }
  end();
  return out;
}

/**
 * A load-time warning for each literal word of a rule's `run` that names an
 * output of another rule which the rule does not declare as an input or
 * order-only input: its job may run before that file is made. Once per rule
 * and word, at the word.
 */
export function undeclaredOutputWarnings(rules: readonly Rule[]): Diagnostic[] {
  const literal = new Map<string, Rule>();
  const patterns: { rule: Rule; output: OutputPattern }[] = [];
  for (const rule of rules) {
    for (const o of rule.outputs) {
      if (o.literal !== undefined) {
        if (!literal.has(o.literal)) literal.set(o.literal, rule);
      } else patterns.push({ rule, output: o });
    }
  }
  const warnings: Diagnostic[] = [];
  for (const rule of rules) {
    if (rule.commandWords === undefined) continue;
    const warned = new Set<string>();
    let declared: ((path: string) => boolean) | undefined;
    for (const w of rule.commandWords) {
      const path = normalizePath(w.text);
      if (warned.has(path) || writablePathProblem(path) !== undefined) continue;
      let maker = literal.get(path);
      if (maker === rule) continue;
      if (maker === undefined) {
        for (const { rule: r, output: o } of patterns) {
          if (r !== rule && path.startsWith(o.prefix) && path.endsWith(o.suffix) && path.length > o.literalChars && o.regex!.test(path)) {
            maker = r;
            break;
          }
        }
      }
      if (maker === undefined) continue;
      declared ??= declaredMatcher(rule);
      if (declared(path)) continue;
      warned.add(path);
      warnings.push({
        message: `rule '${rule.name}' runs '${showPath(w.text)}', which rule '${maker.name}' makes, but does not declare it as an input: its job may run before that file is made (add it to 'inputs' or 'order_only')`,
        loc: w.loc,
      });
    }
  }
  return warnings;
}

/** Whether a path is one a rule's `inputs` or `order_only` entries may name (a wildcard standing for anything). */
function declaredMatcher(rule: Rule): (path: string) => boolean {
  const tests: ((path: string) => boolean)[] = [];
  for (const group of [...rule.inputs, ...rule.orderOnly]) {
    for (const item of group.items) {
      const t = item.template;
      if (t.placeholders.length === 0 && !item.glob) {
        const lit = normalizePath(literalText(t));
        tests.push((p) => p === lit);
        continue;
      }
      let re = '';
      for (const part of t.parts) {
        if (typeof part !== 'string') re += '.+';
        else if (item.glob) re += part.replace(/[.+^${}()|\\/]/g, '\\$&').replace(/\*\*/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\u0000/g, '.*');
        else re += part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      }
      const regex = new RegExp(`^${re}$`, 'u');
      tests.push((p) => regex.test(p));
    }
  }
  return (path) => tests.some((t) => t(path));
}
