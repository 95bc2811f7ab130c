// Which rule makes a path: literal outputs by hash lookup, pattern outputs by
// a cheap prefix/suffix filter before the regex. The most literal characters win.
// Whether any rule makes it (`canProduce`) tells the build log which records
// are of jobs that no longer exist.

import type { OutputPattern, Project, Rule } from '../rulefile/model.js';
import { formatLocation, UserError } from '../util/errors.js';

export interface OutputMatch {
  rule: Rule;
  output: OutputPattern;
  wildcards: Record<string, string>;
}

interface PatternEntry {
  rule: Rule;
  output: OutputPattern;
  /** The rule's wildcards, each '', in order: a job's are a copy (see `blankWildcards`). */
  blank?: Record<string, string>;
}

export class OutputIndex {
  private readonly literal = new Map<string, PatternEntry[]>();
  private readonly patterns: PatternEntry[] = [];
  /** The patterns for `makes`, made on its first use. */
  private byFirstDir: ReturnType<typeof groupByFirstDir> | undefined;
  /** Whether some rule has a directory output: only then can a path be made as part of one. */
  readonly hasDirectories: boolean = false;

  constructor(rules: readonly Rule[]) {
    for (const rule of rules) {
      for (const output of rule.outputs) {
        if (output.directory) this.hasDirectories = true;
        if (output.literal !== undefined) {
          const list = this.literal.get(output.literal) ?? [];
          list.push({ rule, output });
          this.literal.set(output.literal, list);
        } else {
          this.patterns.push({ rule, output, blank: blankWildcards(rule) });
        }
      }
    }
  }

  /** The rule that makes `path`, or undefined for a source. Throws on a tie. */
  match(path: string): OutputMatch | undefined {
    // Asked for every path of the graph: no closure, no result made for a pattern that does not match.
    let best: OutputMatch | undefined;
    let tied: OutputMatch[] | undefined;
    const lit = this.literal.get(path);
    if (lit) {
      for (const e of lit) {
        const m = { rule: e.rule, output: e.output, wildcards: {} };
        const r = rank(best, m);
        if (r > 0) {
          best = m;
          tied = undefined;
        } else if (r === 0) (tied ??= [best!]).push(m);
      }
    }
    const patterns = this.patterns;
    for (let i = 0; i < patterns.length; i++) {
      const e = patterns[i]!;
      const o = e.output;
      if (o.literalChars < (best?.output.literalChars ?? 0)) continue;
      if (!mayMatch(o, path)) continue;
      const found = o.regex!.exec(path);
      if (!found) continue;
      const wildcards = { ...e.blank! };
      for (const name of e.rule.wildcards) wildcards[name] = found.groups![name]!;
      const m = { rule: e.rule, output: o, wildcards };
      const r = rank(best, m);
      if (r > 0) {
        best = m;
        tied = undefined;
      } else if (r === 0) (tied ??= [best!]).push(m);
    }
    if (tied) {
      const list = tied.map((m) => `rule '${m.rule.name}' (output '${m.output.template.source}')`).join(', ');
      const places = inWords(tied.map((m) => formatLocation(m.output.loc)));
      throw new UserError(`ambiguous: '${path}' can be made by ${list}, written at ${places}; make one output pattern more specific`);
    }
    return best;
  }

  /**
   * The directory output that `path` lies inside (its nearest enclosing
   * directory some rule declares as a directory output), or undefined. Throws on a tie.
   */
  matchInside(path: string): (OutputMatch & { dir: string }) | undefined {
    if (!this.hasDirectories) return undefined;
    const slash = path.lastIndexOf('/');
    if (slash <= 0) return undefined;
    // The answer depends only on the directory holding `path`: the files of one directory (a glob's 10,000 matches) share it.
    const parent = path.slice(0, slash);
    const known = this.inside.get(parent);
    if (known !== undefined) return known ?? undefined;
    const m = this.match(parent);
    const found = m?.output.directory ? { ...m, dir: parent } : this.matchInside(parent);
    this.inside.set(parent, found ?? null);
    return found;
  }
  /** Directory → the directory output it is or lies in (null: none), for `matchInside`. */
  private readonly inside = new Map<string, (OutputMatch & { dir: string }) | null>();

  /** Whether some rule makes `path`: `match` without picking the rule (so never a tie). */
  makes(path: string): boolean {
    if (this.literal.has(path)) return true;
    const { byDir, anywhere } = (this.byFirstDir ??= groupByFirstDir(this.patterns));
    const slash = path.indexOf('/');
    const candidates = slash > 0 ? byDir.get(path.slice(0, slash)) : undefined;
    if (candidates) for (const o of candidates) if (mayMatch(o, path) && o.regex!.test(path)) return true;
    for (const o of anywhere) if (mayMatch(o, path) && o.regex!.test(path)) return true;
    return false;
  }
}

/**
 * Pattern outputs by the first directory of their literal prefix (`stage3` for
 * `stage3/{sample}.out`), so that asking about a path tries only the patterns
 * that can match it; those whose first directory holds a wildcard are tried
 * for every path.
 */
function groupByFirstDir(patterns: readonly PatternEntry[]): { byDir: Map<string, OutputPattern[]>; anywhere: OutputPattern[] } {
  const byDir = new Map<string, OutputPattern[]>();
  const anywhere: OutputPattern[] = [];
  for (const { output } of patterns) {
    const slash = output.prefix.indexOf('/');
    if (slash <= 0) {
      anywhere.push(output);
      continue;
    }
    const dir = output.prefix.slice(0, slash);
    const list = byDir.get(dir);
    if (list) list.push(output);
    else byDir.set(dir, [output]);
  }
  return { byDir, anywhere };
}

/**
 * An object with the rule's wildcards as keys, in order, each ''. A copy of
 * an object JSON.parse made has room for exactly its keys, where one filled
 * in from `{}` has room for four at least: a graph of a million jobs keeps a
 * million wildcard objects.
 */
function blankWildcards(rule: Rule): Record<string, string> {
  return JSON.parse(JSON.stringify(Object.fromEntries(rule.wildcards.map((w) => [w, ''])))) as Record<string, string>;
}

/** 1 when `m` beats the best match so far (more literal characters), 0 when it ties with it (as many, another rule), else -1. */
function rank(best: OutputMatch | undefined, m: OutputMatch): number {
  if (best === undefined || m.output.literalChars > best.output.literalChars) return 1;
  return m.output.literalChars === best.output.literalChars && m.rule !== best.rule ? 0 : -1;
}

/** Whether a pattern output may match `path` by its literal prefix and suffix: a cheap filter before its regex. */
function mayMatch(o: OutputPattern, path: string): boolean {
  return path.startsWith(o.prefix) && path.endsWith(o.suffix) && path.length > o.literalChars;
}

/** The index of each project's outputs, made on first use: `canProduce` is asked once per record of the build log. */
const indexes = new WeakMap<Project, OutputIndex>();

/**
 * Whether a rule of the project can make the job named `name` (its first
 * output, or a phony rule's name; see Job.name): a job no rule makes any more
 * belongs to a rule that was removed or changed its outputs.
 */
export function canProduce(project: Project, name: string): boolean {
  let index = indexes.get(project);
  if (index === undefined) {
    index = new OutputIndex(project.rules);
    indexes.set(project, index);
  }
  return index.makes(name) || project.rulesByName.get(name)?.phony === true;
}

/** The rule that makes `name` (a job's first output), or undefined when none does or several could. */
export function ruleMaking(project: Project, name: string): Rule | undefined {
  canProduce(project, name);
  try {
    return indexes.get(project)!.match(name)?.rule;
  } catch {
    return undefined;
  }
}

/** The rule that makes `path`, or the directory output `path` lies in; undefined when none does or several could. */
export function ruleAround(project: Project, path: string): Rule | undefined {
  canProduce(project, path);
  try {
    const index = indexes.get(project)!;
    return (index.match(path) ?? index.matchInside(path))?.rule;
  } catch {
    return undefined;
  }
}

/** `a`, `a and b`, `a, b and c`. */
function inWords(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
