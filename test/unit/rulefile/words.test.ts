// The words of `run` that may name files (SPEC §6): split as a shell splits
// them, never expanded; the loader's keys for it (`implicit_inputs`,
// `script`), and the warning for a word naming another rule's output.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTemplate } from '../../../src/rulefile/template.js';
import { commandWords } from '../../../src/rulefile/words.js';
import { assertDiagnostic, errorsOf, load, yaml } from './helpers.js';

const words = (run: string) => commandWords(parseTemplate(run)).map((w) => w.text);

describe('the words of a command', () => {
  test('split at whitespace, quotes and = < > | ; & ( ); the command name looked up in PATH is no word', () => {
    assert.deepEqual(words('python scripts/fit.py --config=cfg/a.yaml <tables/x.csv'), ['scripts/fit.py', 'cfg/a.yaml', 'tables/x.csv']);
    assert.deepEqual(words("cat 'my file.txt' \"b.txt\"|sort;(head c.txt)&& wc d.txt"), ['my file.txt', 'b.txt', 'c.txt', 'd.txt']);
    assert.deepEqual(words('./tool a.txt'), ['./tool', 'a.txt']);
    assert.deepEqual(words('MODE=cfg/m.yaml env FOO=1 python s.py'), ['cfg/m.yaml', '1', 's.py']);
  });

  test('never a word right after an output redirection, nor the descriptor before it', () => {
    assert.deepEqual(words('run a.txt > out.txt'), ['a.txt']);
    assert.deepEqual(words('run a.txt >> log.txt 2> err.txt'), ['a.txt']);
    assert.deepEqual(words('run a.txt >|o1 &>o2 &>>o3 1>o4 2>>o5 2>&1 b.txt'), ['a.txt', 'b.txt']);
    assert.deepEqual(words('run a.txt > "out file.txt"; cat b.txt'), ['a.txt', 'b.txt']);
    assert.deepEqual(words('cat <<EOF b.txt'), ['b.txt']);
  });

  test('a placeholder, or a word glued to one, is no literal word; {{ }} are literal', () => {
    assert.deepEqual(words('python scripts/{name}.py {input} -o {output} lut.csv'), ['lut.csv']);
    assert.deepEqual(words("tool '{params.x}' \"a{input}\" x{{1}}.txt"), ['x{1}.txt']);
  });

  test('options, shell expansions and comments name no file', () => {
    assert.deepEqual(words('tool -v --fast $HOME/a.txt ~/b.txt c*.txt `x.txt` d.txt # e.txt\ncat f.txt'), ['d.txt', 'f.txt']);
  });

  test('each word knows where it starts in the template', () => {
    const w = commandWords(parseTemplate('python scripts/fit.py {input}'));
    assert.deepEqual(w, [{ text: 'scripts/fit.py', offset: 7 }]);
  });
});

describe('implicit_inputs and script in the Rulefile', () => {
  test('implicit_inputs at the top level and on a rule: the rule wins', () => {
    const p = load(yaml('implicit_inputs: false', 'rules:', '  a:', '    run: python a.py', '  b:', '    implicit_inputs: true', '    run: python b.py'));
    assert.equal(p.rulesByName.get('a')!.implicitInputs, false);
    assert.equal(p.rulesByName.get('b')!.implicitInputs, true);
    const q = load(yaml('rules:', '  a:', '    implicit_inputs: false', '    run: python a.py', '  b:', '    run: python b.py'));
    assert.equal(q.rulesByName.get('a')!.implicitInputs, false);
    assert.equal(q.rulesByName.get('b')!.implicitInputs, true);
  });

  test('implicit_inputs must be a boolean; a typo of it gets a suggestion', () => {
    const [d] = errorsOf(yaml('rules:', '  a:', '    implicit_inputs: "no"', '    run: x'));
    assertDiagnostic(d!, { message: "'implicit_inputs' of rule 'a' must be true or false, not a string", line: 3, col: 22 });
    const [e] = errorsOf(yaml('rules:', '  a:', '    implicit_input: false', '    run: x'));
    assertDiagnostic(e!, { message: "unknown key 'implicit_input' in rule 'a' (did you mean 'implicit_inputs'?)", line: 3, col: 5 });
    const [f] = errorsOf(yaml('implicit_inputs: 0', 'rules:', '  a:', '    run: x'));
    assertDiagnostic(f!, { message: "'implicit_inputs' must be true or false, not a number", line: 1, col: 18 });
  });

  test('script: a plain path; with run it is an error with a place; outputs with script need no run', () => {
    const p = load(yaml('rules:', '  a:', '    outputs: out.txt', '    script: ./scripts/make.py'));
    assert.deepEqual(p.rulesByName.get('a')!.script?.path, 'scripts/make.py');
    const [d] = errorsOf(yaml('rules:', '  a:', '    outputs: out.txt', '    run: x', '    script: s.py'));
    assertDiagnostic(d!, { message: "rule 'a' has both 'run' and 'script': give one of them", line: 5, col: 5 });
    const [e] = errorsOf(yaml('rules:', '  a:', '    outputs: "out/{x}.txt"', '    script: "s/{x}.py"'));
    assertDiagnostic(e!, { message: "'script' of rule 'a' must be a plain path", line: 4, col: 16 });
  });

  test("a literal word naming another rule's output that the rule does not declare is a warning at the word", () => {
    const p = load(
      yaml(
        'rules:',
        '  make_table:',
        '    outputs: tables/lut.csv',
        '    run: touch {output}',
        '  use:',
        '    outputs: out.txt',
        '    run: python fit.py tables/lut.csv > {output}',
        '  block:',
        '    outputs: out2.txt',
        '    run: |',
        '      echo start',
        '      python fit.py  tables/lut.csv > {output}',
        '  declared:',
        '    inputs: tables/lut.csv',
        '    outputs: out3.txt',
        '    run: python fit.py tables/lut.csv > {output}',
      ),
    );
    assert.equal(p.warnings.length, 2, p.warnings.map((w) => w.message).join('\n'));
    assertDiagnostic(p.warnings[0]!, { message: "rule 'use' runs 'tables/lut.csv', which rule 'make_table' makes, but does not declare it as an input", line: 7, col: 24 });
    assertDiagnostic(p.warnings[1]!, { message: "rule 'block' runs 'tables/lut.csv'", line: 12, col: 22 });
  });
});
