// Wildcard regular expressions (`{name,REGEX}`) are matched by a backtracking
// engine against every target path: those whose matching time can explode
// with the length of a path are refused when the Rulefile is loaded.

/**
 * Why `source` (already known to be a valid `u` regular expression) is not
 * accepted as a wildcard's constraint, or undefined when it is.
 *
 * Refused: a repeated group holding a quantifier or an alternation (`(a+)+`,
 * `(a|ab)*`, `(a?){20}`: exponential backtracking), backreferences and
 * lookarounds (which take matching out of the regular languages). Any
 * quantifier on a single character, class or escape is fine, as is a repeated
 * group of plain characters (`(ab)+`) and `?` on any group.
 */
export function unsafeRegexReason(source: string): string | undefined {
  interface Group {
    start: number;
    quantified: boolean;
    alternation: boolean;
  }
  const stack: Group[] = [{ start: 0, quantified: false, alternation: false }];
  // What a quantifier right here applies to: a closed group, another atom, or nothing.
  let last: Group | 'atom' | undefined;
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    const top = stack[stack.length - 1]!;
    if (c === '\\') {
      const n = source[i + 1];
      if (n !== undefined && ((n >= '1' && n <= '9') || n === 'k')) return 'backreferences are not allowed';
      i += 2;
      if ((n === 'u' || n === 'p' || n === 'P') && source[i] === '{') i = closing(source, i, '}');
      last = 'atom';
    } else if (c === '[') {
      i = classEnd(source, i);
      last = 'atom';
    } else if (c === '(') {
      if (source.startsWith('(?=', i) || source.startsWith('(?!', i) || source.startsWith('(?<=', i) || source.startsWith('(?<!', i)) {
        return 'lookahead and lookbehind are not allowed';
      }
      stack.push({ start: i, quantified: false, alternation: false });
      i += source.startsWith('(?:', i) ? 3 : source.startsWith('(?<', i) ? closing(source, i, '>') - i : 1;
      last = undefined;
    } else if (c === ')') {
      const g = stack.length > 1 ? stack.pop()! : top;
      const parent = stack[stack.length - 1]!;
      parent.quantified ||= g.quantified;
      parent.alternation ||= g.alternation;
      i++;
      last = g;
    } else if (c === '|') {
      top.alternation = true;
      i++;
      last = undefined;
    } else if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(source.slice(i, i + 24)))) {
      const q = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i))! : undefined;
      const end = q ? i + q[0].length : i + 1;
      const max = c === '*' || c === '+' ? Infinity : c === '?' ? 1 : q![2] === undefined ? Number(q![1]) : q![3] === '' ? Infinity : Number(q![3]);
      if (typeof last === 'object' && max > 1 && (last.quantified || last.alternation)) {
        const what = last.quantified ? 'a quantifier' : "an alternation ('|')";
        return `the repeated group '${source.slice(last.start, end)}' contains ${what}, which can take exponential time to match; write it without nesting (e.g. '[ab]+' for '(a|b)+', 'a+' for '(a+)+')`;
      }
      top.quantified = true;
      i = source[end] === '?' ? end + 1 : end;
      last = undefined;
    } else {
      i++;
      last = 'atom';
    }
  }
  return undefined;
}

/** Index just past the `close` character from `i` on. */
function closing(s: string, i: number, close: string): number {
  const j = s.indexOf(close, i);
  return j < 0 ? s.length : j + 1;
}

/** Index just past the character class starting at `i` (`[...]`, with escapes). */
function classEnd(s: string, i: number): number {
  let j = i + 1;
  if (s[j] === '^') j++;
  while (j < s.length && s[j] !== ']') j += s[j] === '\\' ? 2 : 1;
  return j + 1;
}
