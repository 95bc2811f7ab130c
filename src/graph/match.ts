// Which rule makes a path: literal outputs by hash lookup, pattern outputs by
// a cheap prefix/suffix filter before the regex. The most literal characters win.

import type { OutputPattern, Rule } from '../rulefile/model.js';
import { formatLocation, UserError } from '../util/errors.js';

export interface OutputMatch {
  rule: Rule;
  output: OutputPattern;
  wildcards: Record<string, string>;
}

interface PatternEntry {
  rule: Rule;
  output: OutputPattern;
}

export class OutputIndex {
  private readonly literal = new Map<string, PatternEntry[]>();
  private readonly patterns: PatternEntry[] = [];

  constructor(rules: readonly Rule[]) {
    for (const rule of rules) {
      for (const output of rule.outputs) {
        if (output.literal !== undefined) {
          const list = this.literal.get(output.literal) ?? [];
          list.push({ rule, output });
          this.literal.set(output.literal, list);
        } else {
          this.patterns.push({ rule, output });
        }
      }
    }
  }

  /** The rule that makes `path`, or undefined for a source. Throws on a tie. */
  match(path: string): OutputMatch | undefined {
    let best: OutputMatch | undefined;
    let tied: OutputMatch[] | undefined;
    const consider = (m: OutputMatch) => {
      if (best === undefined || m.output.literalChars > best.output.literalChars) {
        best = m;
        tied = undefined;
      } else if (m.output.literalChars === best.output.literalChars && m.rule !== best.rule) {
        (tied ??= [best]).push(m);
      }
    };
    const lit = this.literal.get(path);
    if (lit) for (const e of lit) consider({ rule: e.rule, output: e.output, wildcards: {} });
    for (const e of this.patterns) {
      const o = e.output;
      if (o.literalChars < (best?.output.literalChars ?? 0)) continue;
      if (!path.startsWith(o.prefix) || !path.endsWith(o.suffix) || path.length <= o.literalChars) continue;
      const m = o.regex!.exec(path);
      if (!m) continue;
      const wildcards: Record<string, string> = {};
      for (const name of e.rule.wildcards) wildcards[name] = m.groups![name]!;
      consider({ rule: e.rule, output: o, wildcards });
    }
    if (tied) {
      const list = tied.map((m) => `rule '${m.rule.name}' (output '${m.output.template.source}')`).join(', ');
      const places = inWords(tied.map((m) => formatLocation(m.output.loc)));
      throw new UserError(`ambiguous: '${path}' can be made by ${list}, written at ${places}; make one output pattern more specific`);
    }
    return best;
  }
}

/** `a`, `a and b`, `a, b and c`. */
function inWords(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
