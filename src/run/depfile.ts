// Depfiles (SPEC §6): the dependencies a job's command discovered while it
// ran, in Make's syntax as `cc -MD -MF` (or `-MMD -MP`) writes it. Read after
// a successful run, kept in the job's record, then deleted.

import { posix } from 'node:path';
import type { Job } from '../graph/model.js';
import type { FileOracle } from '../state/files.js';
import type { FileInfo } from '../state/log.js';
import { normalizePath } from '../util/paths.js';
import type { JobFailure } from './failure.js';

/** Why a depfile is not in Make's syntax; `line` counts from 1. */
export type DepfileSyntaxProblem =
  /** A rule whose targets are not followed by a `:` that ends a word. */
  | { kind: 'no-separator'; line: number }
  /** A `\` with nothing after it: the file was cut short. */
  | { kind: 'unterminated-escape'; line: number };

export type ParsedDepfile = { ok: true; deps: string[] } | { ok: false; problem: DepfileSyntaxProblem };

/**
 * The dependencies of every rule of a depfile, each once, in the order first
 * named; targets are not dependencies. Make's syntax as compilers write it:
 * `targets: deps` rules (several per file, several targets per rule, none
 * after `-MP`'s `header.h:`), `\`-newline continuations, `\ ` for a space in
 * a name (`\\\ `: a backslash and a space), `\#` for `#`, `$$` for `$`,
 * `#` comments, blank lines, CRLF line ends. A backslash before any other
 * character is a plain backslash.
 */
export function parseDepfile(text: string): ParsedDepfile {
  const deps: string[] = [];
  const seen = new Set<string>();
  const n = text.length;
  let line = 1;
  /** The line the current rule started on. */
  let ruleLine = 1;
  let inTargets = true;
  let targets = 0;
  let word = '';

  const endWord = () => {
    if (word === '') return;
    if (inTargets) targets++;
    else if (!seen.has(word)) {
      seen.add(word);
      deps.push(word);
    }
    word = '';
  };
  /** The end of a rule (a newline, or the end of the text): its targets must have met their `:`. */
  const endRule = (): boolean => {
    endWord();
    if (inTargets && targets > 0) return false;
    inTargets = true;
    targets = 0;
    return true;
  };
  /** The length of a line end at `at` ("\n" or "\r\n"), or 0. */
  const lineEnd = (at: number) => (text[at] === '\n' ? 1 : text[at] === '\r' && text[at + 1] === '\n' ? 2 : 0);

  let i = 0;
  while (i < n) {
    const c = text[i]!;
    if (c === '\\') {
      let k = 1;
      while (text[i + k] === '\\') k++;
      const after = i + k;
      if (after >= n) return { ok: false, problem: { kind: 'unterminated-escape', line } };
      const next = text[after]!;
      const eol = lineEnd(after);
      if (eol > 0 && k % 2 === 1) {
        // A continuation: the rule goes on on the next line.
        word += '\\'.repeat(k - 1);
        endWord();
        i = after + eol;
        line++;
        continue;
      }
      if ((next === ' ' || next === '\t' || next === '#') && k % 2 === 1) {
        // 2N+1 backslashes and a space (or '#'): N backslashes and the character, in the name.
        word += '\\'.repeat((k - 1) / 2) + next;
        i = after + 1;
        continue;
      }
      // 2N backslashes before a space end the name with them; before anything else they are plain.
      word += '\\'.repeat(k);
      i = after;
      continue;
    }
    if (c === '$') {
      word += '$';
      i += text[i + 1] === '$' ? 2 : 1;
      continue;
    }
    const eol = lineEnd(i);
    if (eol > 0) {
      if (!endRule()) return { ok: false, problem: { kind: 'no-separator', line: ruleLine } };
      i += eol;
      line++;
      ruleLine = line;
      continue;
    }
    if (c === '#') {
      // A comment runs to the end of the line, and past it when the line is continued.
      while (i < n && lineEnd(i) === 0) {
        const cont = text[i] === '\\' ? lineEnd(i + 1) : 0;
        if (cont > 0) {
          i += 1 + cont;
          line++;
        } else i++;
      }
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      endWord();
      i++;
      continue;
    }
    if (c === ':' && inTargets) {
      const next = text[i + 1];
      // A colon ending a word separates the targets from the dependencies (`a.o: a.c`, `a.h:`);
      // one inside a word is part of the name, as Ninja reads it.
      if (next === undefined || next === ' ' || next === '\t' || lineEnd(i + 1) > 0 || next === '\\') {
        endWord();
        inTargets = false;
        i++;
        continue;
      }
    }
    word += c;
    i++;
  }
  if (!endRule()) return { ok: false, problem: { kind: 'no-separator', line: ruleLine } };
  return { ok: true, deps };
}

/**
 * A dependency as the engine names it: relative to the project root when it
 * is inside it (`./a`, `a/../b` and absolute paths under the root made
 * relative), else absolute (`/usr/include/stdio.h`; `../lib/x.h` resolved).
 * Undefined for the root itself.
 */
export function depPath(root: string, raw: string): string | undefined {
  if (raw.startsWith('/')) {
    const p = posix.normalize(raw);
    const inside = p.startsWith(`${root}/`) ? p.slice(root.length + 1) : p === root ? '' : undefined;
    if (inside === undefined) return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
    return inside === '' ? undefined : normalizePath(inside);
  }
  const p = normalizePath(raw);
  if (p === '' || p === '.') return undefined;
  if (p === '..' || p.startsWith('../')) return depPath(root, posix.join(root, p));
  return p;
}

/**
 * Reads the depfile of a job that has just succeeded: its dependencies with
 * their stat and hash (the job's own outputs and declared inputs left out, and
 * any that do not exist), or the failure of the job. The depfile is left for
 * the caller to delete.
 */
export function readDepfile(job: Job, root: string, files: FileOracle): { deps: Map<string, FileInfo> } | { failure: JobFailure } {
  const path = job.depfile!;
  let text: string | undefined;
  try {
    text = files.fs.read(path);
  } catch (e) {
    return { failure: { kind: 'depfile', path, problem: { kind: 'unreadable', message: (e as Error).message } } };
  }
  if (text === undefined) return { failure: { kind: 'depfile', path, problem: { kind: 'missing' } } };
  const parsed = parseDepfile(text);
  if (!parsed.ok) return { failure: { kind: 'depfile', path, problem: parsed.problem } };
  const declared = new Set([...job.inputs, ...job.outputs, path]);
  const deps = new Map<string, FileInfo>();
  for (const raw of parsed.deps) {
    const dep = depPath(root, raw);
    if (dep === undefined || declared.has(dep) || deps.has(dep)) continue;
    // A name the job did not leave behind is not one it read (nothing to track); nor is a directory.
    const st = files.fs.stat(dep);
    if (st === undefined || st.isDirectory) continue;
    deps.set(dep, files.current(dep)!);
  }
  return { deps };
}
