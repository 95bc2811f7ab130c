// YAML mistakes as a user meets them through the CLI: the place first, the
// line with a caret, a hint; and the load-time warnings on `run`.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { project, show, yaml } from './helpers.js';

describe('YAML mistakes through the CLI', () => {
  test('`run: echo time: now`: place, the line, a caret, the fix; no stack trace; exit 2', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo time: now > a.txt') });
    const r = p.run(['build']);
    assert.equal(r.status, 2, show(r));
    assert.equal(
      r.stderr,
      [
        'Rulefile:4:10: YAML syntax error: Nested mappings are not allowed in compact mappings',
        '      run: echo time: now > a.txt',
        '           ^',
        `  hint: an unquoted value cannot hold ': ' (YAML reads it as the start of a nested map): run: "echo time: now > a.txt", or write it as a block (run: |, then the text on the next line, indented)`,
        '',
      ].join('\n'),
    );
  });

  test('an unquoted {name}.txt: told to quote it', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a:', '    outputs: {name}.txt', '    run: touch {output}') });
    const r = p.run(['build', '-n']);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /^Rulefile:3:20: YAML syntax error: .*\n {6}outputs: \{name\}\.txt\n {21}\^\n {2}hint: .*must be quoted \("\{name\}\.txt"\)\n$/);
  });

  test("a ' #' in a plain run: a warning naming what was cut; the build goes on with the cut command", (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo hi # there > a.txt', '  b:', '    outputs: b.txt', '    run: echo hi > b.txt') });
    const r = p.run(['build', 'a.txt']);
    assert.match(r.stderr, /^rules: warning: Rulefile:4:18: 'run' of rule 'a' is cut at ' #': YAML reads '# there > a\.txt' as a comment, so the command is 'echo hi'\./m, show(r));
    // The cut command made no a.txt: just what the warning foretold.
    assert.equal(r.status, 1, show(r));
  });

  test('a placeholder the Rulefile quotes itself: a warning with its place and the fix; the build runs', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  a:', '    inputs: in.txt', '    outputs: out.txt', `    run: cp "{input}" {output}`),
      'in.txt': 'x\n',
    });
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stderr, /rules: warning: Rulefile:5:14: '\{input\}' in 'run' of rule 'a' is inside double quotes, .*quoted twice.*Remove the quotes around it/);
    assert.equal(p.read('out.txt'), 'x\n');
  });
});
