// How the command line adapts to where it writes: colours (NO_COLOR,
// FORCE_COLOR, TERM=dumb), cursor escapes, and help laid out for the
// terminal's width.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { commandHelp, COMMANDS, helpWidth, layoutHelp, mainHelp } from '../../../src/cli/args.js';
import { colorOn, cursorOn } from '../../../src/cli/reporters.js';

const TTY = { isTTY: true };
const PIPE = { isTTY: false };

describe('colours and cursor escapes', () => {
  test('colour on a terminal, not on a pipe', () => {
    assert.equal(colorOn(TTY, { TERM: 'xterm-256color' }), true);
    assert.equal(colorOn(PIPE, { TERM: 'xterm-256color' }), false);
    assert.equal(colorOn({}, { TERM: 'xterm-256color' }), false);
  });

  test('NO_COLOR and TERM=dumb turn colour off', () => {
    assert.equal(colorOn(TTY, { TERM: 'xterm', NO_COLOR: '1' }), false);
    assert.equal(colorOn(TTY, { TERM: 'dumb' }), false);
  });

  test('CI set (a CI service Node does not know) means no colour, as Node says; FORCE_COLOR still turns it on', () => {
    assert.equal(colorOn(TTY, { TERM: 'xterm-256color', CI: 'true' }), false);
    assert.equal(colorOn(TTY, { TERM: 'xterm-256color', CI: 'true', GITHUB_ACTIONS: 'true' }), true);
    assert.equal(colorOn(TTY, { TERM: 'xterm-256color', CI: 'true', FORCE_COLOR: '1' }), true);
  });

  test('FORCE_COLOR as Node says: on even on a pipe, off with 0', () => {
    assert.equal(colorOn(PIPE, { FORCE_COLOR: '1' }), true);
    assert.equal(colorOn(TTY, { TERM: 'xterm', FORCE_COLOR: '0' }), false);
  });

  test('the status line is rewritten in place only on a terminal that is not dumb', () => {
    assert.equal(cursorOn(TTY, { TERM: 'xterm' }), true);
    assert.equal(cursorOn(TTY, { TERM: 'dumb' }), false);
    assert.equal(cursorOn(PIPE, { TERM: 'xterm' }), false);
  });
});

describe('help laid out for the terminal', () => {
  test("the terminal's width, else 80 columns", () => {
    assert.equal(helpWidth({ isTTY: true, columns: 120 }), 120);
    assert.equal(helpWidth({ isTTY: false, columns: 120 }), 80);
    assert.equal(helpWidth({ isTTY: true }), 80);
    assert.equal(helpWidth({ isTTY: true, columns: 10 }), 40, 'a very narrow terminal still gets a usable layout');
  });

  test('descriptions in one column, wrapped with a hanging indent; no line longer than the width', () => {
    const text = layoutHelp(['Options:', '  -a, --all\tdo every single thing there is to do, now', '  --b\tshort', ''], 40);
    assert.equal(text, ['Options:', '  -a, --all  do every single thing', '             there is to do, now', '  --b        short', ''].join('\n'));
  });

  test('paragraphs are joined and wrapped; a heading stands alone', () => {
    assert.equal(layoutHelp(['Exit status: 0 success,', '1 failure.', '', 'Commands:', '  x\ty'], 30), 'Exit status: 0 success, 1\nfailure.\n\nCommands:\n  x  y');
  });

  test('too narrow for a column beside the names: each description under its name', () => {
    assert.equal(layoutHelp(['  --a-long-option VALUE\tthe help of it'], 50), '  --a-long-option VALUE  the help of it');
    assert.equal(layoutHelp(['  --a-long-option VALUE\tthe help of it'], 44), '  --a-long-option VALUE\n        the help of it');
  });

  for (const width of [40, 60, 80, 132]) {
    test(`rules --help and each command's help fit in ${width} columns, every flag still listed`, () => {
      for (const text of [mainHelp('1.0', width), ...COMMANDS.map((c) => commandHelp(c, width))]) {
        for (const line of text.split('\n')) assert.ok(line.length < width, `${JSON.stringify(line)} is ${line.length} wide`);
      }
      const help = mainHelp('1.0', width);
      for (const flag of ['--jobs', '--keep-going', '--slurm-output-wait', '--version']) assert.match(help, new RegExp(`${flag}\\b`));
      // The descriptions of a table start in one column.
      const starts = new Set(help.split('\n').filter((l) => /^ {2}-[a-zA-Z], --/.test(l)).map((l) => l.search(/\S/g) + l.slice(2).search(/ {2}\S/) + 4));
      if (width >= 80) assert.equal(starts.size, 1, `columns ${[...starts].join(', ')}`);
    });
  }
});
