// Every path, wildcard value and param substituted into `run` is shell-quoted:
// hostile file names are passed as one harmless argument each.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nonEmptyLines, project, show, yaml } from './helpers.js';

const HOSTILE = [
  'a b;echo PWNED>pwned.txt',
  `it's $(touch pwned2.txt) "q"`,
  'back`touch pwned3.txt`tick & | x',
];

describe('shell quoting end to end', () => {
  test('glob inputs and wildcard values with spaces, quotes and ; are single arguments', (t) => {
    const files: Record<string, string> = {
      Rulefile: yaml(
        'default: all',
        'rules:',
        '  all:',
        '    inputs:',
        '      - list.txt',
        '      - expand: "out/{name}.txt"',
        '        name: { glob: "in/{name}.fits" }',
        '  list:',
        '    inputs: "in/*.fits"',
        '    outputs: list.txt',
        "    run: printf '[%s]\\n' {inputs} > {output}",
        '  convert:',
        '    inputs: "in/{name}.fits"',
        '    outputs: "out/{name}.txt"',
        "    run: cp {input} {output} && printf '<%s>\\n' {name} {wildcards.name} >> names.log",
      ),
    };
    for (const name of HOSTILE) files[`in/${name}.fits`] = `content of ${name}\n`;
    const p = project(t, files);

    const r = p.run(['build', '-j1']);
    assert.equal(r.status, 0, show(r));
    for (const f of ['pwned.txt', 'pwned2.txt', 'pwned3.txt']) assert.equal(p.exists(f), false, `${f} must not exist`);
    assert.match(r.stdout, /^\[\d\/4\] convert\[name=a b;echo PWNED>pwned\.txt\]$/m);

    const sorted = [...HOSTILE].sort();
    assert.deepEqual(nonEmptyLines(p.read('list.txt')), sorted.map((n) => `[in/${n}.fits]`));
    for (const name of HOSTILE) assert.equal(p.read(`out/${name}.txt`), `content of ${name}\n`);
    assert.deepEqual([...nonEmptyLines(p.read('names.log'))].sort(), sorted.flatMap((n) => [`<${n}>`, `<${n}>`]).sort());

    // The second build sees the same files as up to date.
    const again = p.run(['build']);
    assert.equal(again.status, 0, show(again));
    assert.match(again.stdout, /nothing to do/);
  });

  test('params and config values are quoted; {raw.params.X} is inserted verbatim', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'config:',
        '  greeting: "hi; touch pwned4.txt"',
        'default: all',
        'rules:',
        '  all:',
        '    inputs: [quoted.txt, raw.txt]',
        '  quoted:',
        '    outputs: quoted.txt',
        '    params: { msg: "hello $(touch pwned5.txt); touch pwned6.txt" }',
        "    run: printf '%s|' {params.msg} {config.greeting} > {output}",
        '  raw:',
        '    outputs: raw.txt',
        '    params: { redirect: "> raw.txt" }',
        '    run: echo verbatim {raw.params.redirect}',
      ),
    });
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    for (const f of ['pwned4.txt', 'pwned5.txt', 'pwned6.txt']) assert.equal(p.exists(f), false, `${f} must not exist`);
    assert.equal(p.read('quoted.txt'), 'hello $(touch pwned5.txt); touch pwned6.txt|hi; touch pwned4.txt|');
    assert.equal(p.read('raw.txt'), 'verbatim\n');
  });

  test('a file named with a leading dash and with unicode is one argument', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  copy:',
        '    inputs: "in/*.dat"',
        '    outputs: all.txt',
        "    run: printf '[%s]\\n' {inputs} > {output}",
      ),
      'in/-n é ü.dat': '',
      'in/plain.dat': '',
    });
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(nonEmptyLines(p.read('all.txt')), ['[in/-n é ü.dat]', '[in/plain.dat]']);
  });
});
