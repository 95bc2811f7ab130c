// YAML mistakes as a Rulefile's author reads them (the line, a caret, a
// hint per error code), and the load-time warnings on `run`: a command cut
// by ` #`, a placeholder quoted twice.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LineCounter, parseDocument } from 'yaml';
import { codeFrame, syntaxHint } from '../../../src/rulefile/syntax.js';
import { quotedPlaceholders } from '../../../src/rulefile/rules.js';
import { parseTemplate } from '../../../src/rulefile/template.js';
import { formatDiagnostic, type Diagnostic } from '../../../src/util/errors.js';
import { errorsOf, load, yaml } from './helpers.js';

/** The only diagnostic of a Rulefile that fails to load. */
function only(text: string): Diagnostic {
  const ds = errorsOf(text);
  assert.equal(ds.length, 1, ds.map(formatDiagnostic).join('\n'));
  return ds[0]!;
}

function warnings(text: string): Diagnostic[] {
  return load(text).warnings;
}

describe('YAML syntax errors: place, code frame, hint', () => {
  test('": " in an unquoted run: the line, a caret under the colon, and the quoted value as the fix', () => {
    const d = only(yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo time: now > a.txt'));
    assert.deepEqual(d.loc, { file: 'Rulefile', line: 4, col: 10 });
    assert.match(d.message, /^YAML syntax error: Nested mappings are not allowed in compact mappings$/);
    const [line, caret, hint] = d.detail!.split('\n');
    assert.equal(line, '      run: echo time: now > a.txt');
    assert.equal(caret, '           ^');
    assert.match(hint!, /^ {2}hint: .*run: "echo time: now > a\.txt", or write it as a block \(run: \|/);
    // The place comes first, then the frame and hint, as printed.
    assert.match(formatDiagnostic(d), /^Rulefile:4:10: YAML syntax error: .*\n {6}run: echo time/);
  });

  test('an unquoted {name}.txt: the hint says YAML read a map, and to quote the template', () => {
    const d = only(yaml('rules:', '  a:', '    outputs: {name}.txt', '    run: touch {output}'));
    assert.equal(d.loc?.line, 3);
    assert.match(d.detail!, /outputs: \{name\}\.txt\n {21}\^/);
    assert.match(d.detail!, /hint: a value that starts with '\{' is read as a YAML map.*must be quoted \("\{name\}\.txt"\)/);
  });

  test('a tab as indentation: the hint says spaces only', () => {
    const d = errorsOf(yaml('rules:', '  a:', '\toutputs: a.txt', '    run: x'))[0]!;
    assert.deepEqual(d.loc, { file: 'Rulefile', line: 3, col: 1 });
    assert.match(d.detail!, /hint: YAML indents with spaces only/);
  });

  test('keys of one map out of line: the previous line is shown too, and the hint says to line them up', () => {
    const d = only(yaml('rules:', '  a:', '    outputs: a.txt', '   run: x'));
    assert.equal(d.loc?.line, 4);
    assert.match(d.detail!, /^ {6}outputs: a\.txt\n {5}run: x\n {2}\^\n {2}hint: the keys of one map .* same column/);
  });

  test('an unclosed quote and an unclosed list each get a hint', () => {
    assert.match(only(yaml('rules:', '  a:', '    outputs: "a.txt', '    run: x')).detail!, /hint: a value that starts with " must end with "/);
    assert.match(only(yaml('rules:', '  a:', '    outputs: [a.txt', '    run: x')).detail!, /hint: a list opened with '\[' must be closed with '\]'/);
  });

  test('a backslash escape YAML does not know, in double quotes', () => {
    const d = only(yaml('rules:', '  a:', '    run: "grep \\d x"'));
    assert.match(d.message, /Invalid escape sequence/);
    assert.match(d.detail!, /hint: inside double quotes a backslash starts an escape.*use single quotes/);
  });

  test('an unquoted glob starting with * is an alias: the hint says to quote it', () => {
    const d = only(yaml('rules:', '  a:', '    inputs: *.fits', '    run: x'));
    assert.match(d.message, /quote a glob, "\*\.fits"/);
  });

  test('every error code the yaml library has is known to syntaxHint (a hint, or deliberately none)', () => {
    // The codes a Rulefile author can meet, each with its hint.
    const withHint = ['BLOCK_AS_IMPLICIT_KEY', 'MULTILINE_IMPLICIT_KEY', 'TAB_AS_INDENT', 'BAD_INDENT', 'UNEXPECTED_TOKEN', 'BLOCK_IN_FLOW', 'BAD_DQ_ESCAPE', 'BAD_SCALAR_START', 'BAD_DIRECTIVE', 'BAD_ALIAS', 'ALIAS_PROPS', 'MULTIPLE_ANCHORS', 'MULTIPLE_TAGS', 'BAD_PROP_ORDER', 'TAG_RESOLVE_FAILED', 'MULTIPLE_DOCS', 'KEY_OVER_1024_CHARS', 'DUPLICATE_KEY'] as const;
    for (const code of withHint) assert.ok(syntaxHint({ code, message: 'x' }, '    run: x') !== undefined, code);
    // The library's own bugs and limits: its message is all there is to say.
    for (const code of ['IMPOSSIBLE', 'RESOURCE_EXHAUSTION'] as const) assert.equal(syntaxHint({ code, message: 'x' }, 'a: b'), undefined);
  });

  test('a second document and a value starting with a reserved character are explained', () => {
    assert.match(only(yaml('rules:', '  a: {run: x}', '---', 'rules: {}')).detail!, /one YAML document/);
    assert.match(only(yaml('rules:', '  a:', '    run: `date`')).detail!, /must be quoted: run: "`date`"/);
  });

  test('one syntax error per line: the echoes of the first are left out', () => {
    const ds = errorsOf(yaml('rules:', '  a:', '    outputs: x.txt', '    run: {input} > x'));
    assert.deepEqual(
      ds.filter((d) => d.loc?.line === 4).map((d) => d.message),
      ['YAML syntax error: Missing , or : between flow map items'],
    );
  });

  test('an unquoted template that is a placeholder alone (a YAML map of one key): one error, with the quoted fix', () => {
    const d = only(yaml('rules:', '  a:', '    outputs: {name}', '    run: touch {output}'));
    assert.deepEqual(d.loc, { file: 'Rulefile', line: 3, col: 14 });
    assert.equal(d.message, `'outputs' of rule 'a' is {name}, which YAML reads as a map, not as a template: a value that starts with '{' must be quoted ("{name}")`);
    assert.match(only(yaml('rules:', '  a:', '    outputs: x.txt', '    run: {input}')).message, /^'run' of rule 'a' is \{input\}, which YAML reads as a map/);
    const [entry] = errorsOf(yaml('rules:', '  a:', '    inputs: [{sample}, b]', '    outputs: "{sample}.txt"', '    run: touch {output}'));
    assert.match(entry!.message, /^'inputs' entry \{sample\} of rule 'a' is read by YAML as a map/);
    // A map of inputs by name is no template.
    load(yaml('rules:', '  a:', '    inputs: {x: a.txt}', '    run: echo {inputs.x}'));
  });

  test('the code frame cuts a long line around the caret', () => {
    const text = 'x'.repeat(200) + '\n';
    const lc = new LineCounter();
    parseDocument(text, { lineCounter: lc });
    const [line, caret] = codeFrame(text, lc, 150)!.split('\n');
    assert.ok(line!.length <= 82, line);
    assert.equal(line![caret!.indexOf('^')], 'x');
    assert.ok(line!.includes('…'));
  });
});

describe("a plain 'run' cut by ' #'", () => {
  test('is a warning at the #, naming what was cut and the fix', () => {
    const ws = warnings(yaml('rules:', '  a:', '    run: echo hi # there > a.txt'));
    assert.equal(ws.length, 1);
    assert.deepEqual(ws[0]!.loc, { file: 'Rulefile', line: 3, col: 18 });
    assert.match(ws[0]!.message, /'run' of rule 'a' is cut at ' #': YAML reads '# there > a\.txt' as a comment, so the command is 'echo hi'/);
    assert.match(ws[0]!.message, /quote the whole value \(run: "echo hi # there > a\.txt"\) or write it as a block \(run: \|/);
  });

  test('a quoted run, a block run, and a # inside a word are not warned about', () => {
    assert.deepEqual(warnings(yaml('rules:', '  a:', '    run: "echo hi # there"')), []);
    assert.deepEqual(warnings(yaml('rules:', '  a:', '    run: |', '      echo hi # there')), []);
    assert.deepEqual(warnings(yaml('rules:', '  a:', '    run: echo a#b')), []);
    assert.deepEqual(warnings(yaml('rules:', '  a:', '    # a comment of its own', '    run: echo hi')), []);
  });

  test('a comment after a plain run in a flow map is warned about too', () => {
    const ws = warnings(yaml('rules:', '  a: {run: echo hi # there', '  }'));
    assert.equal(ws.length, 1);
    assert.equal(ws[0]!.loc?.line, 2);
  });
});

describe('a placeholder the Rulefile quotes itself', () => {
  test("'{params.rg}' and \"{input}\" are warned about at the placeholder, with the fix", () => {
    const run = `    run: grep -R '{params.rg}' "{input}"`;
    const ws = warnings(yaml('rules:', '  a:', '    inputs: in.txt', '    params: {rg: "a b"}', run));
    assert.equal(ws.length, 2);
    assert.deepEqual(ws[0]!.loc, { file: 'Rulefile', line: 5, col: run.indexOf('{params') + 1 });
    assert.match(ws[0]!.message, /'\{params\.rg\}' in 'run' of rule 'a' is inside single quotes, but rules already shell-quotes every value .* quoted twice.*Remove the quotes around it \(or \{raw\.params\.rg\}/);
    assert.deepEqual(ws[1]!.loc, { file: 'Rulefile', line: 5, col: run.indexOf('{input') + 1 });
    assert.match(ws[1]!.message, /'\{input\}' .* inside double quotes/);
  });

  test('which placeholders count as quoted', () => {
    const quoted = (s: string) => quotedPlaceholders(parseTemplate(s)).map((q) => q.ph.text);
    assert.deepEqual(quoted(`x '{a}' "{b}" "--t={c}" {d}`), ['a', 'b', 'c']);
    // Bare, raw, resources: not quoted twice.
    assert.deepEqual(quoted(`x {a} '{raw.params.p}' "{resources.cpus}"`), []);
    // A double-quoted command handed on to another shell quotes right; single quotes never do.
    assert.deepEqual(quoted(`bash -c "sort {a} > {b}"; sh -c 'cat {c}'`), ['c']);
    // An escaped quote and a comment open no quotes; literal braces are no placeholder.
    assert.deepEqual(quoted(`echo \\' {a} # it's {b}`), []);
    assert.deepEqual(quoted(`awk '{{print $1}}' {a}`), []);
  });
});
