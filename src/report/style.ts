// Colours on the console, kept modest: errors red, warnings yellow, job labels
// bold. Through Node's own `util.styleText`; whether to colour at all is the
// command line's choice (cli/reporters.ts), so these never look at a stream.

import { styleText } from 'node:util';

export interface Styles {
  error(text: string): string;
  warning(text: string): string;
  label(text: string): string;
}

const same = (text: string) => text;

/** No colour: every text as it is. */
export const PLAIN: Styles = { error: same, warning: same, label: same };

/** ANSI colours. */
export const COLORED: Styles = {
  // Node 20.20 and later check process.stdout unless told not to; before that the option is ignored and escapes are always written.
  error: (text) => styleText('red', text, { validateStream: false }),
  warning: (text) => styleText('yellow', text, { validateStream: false }),
  label: (text) => styleText('bold', text, { validateStream: false }),
};

export function styles(color: boolean): Styles {
  return color ? COLORED : PLAIN;
}
