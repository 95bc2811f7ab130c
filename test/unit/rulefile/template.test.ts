import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { literalText, parseTemplate, renderTemplate, TemplateSyntaxError, type Placeholder } from '../../../src/rulefile/template.js';

function syntaxError(source: string): TemplateSyntaxError {
  try {
    parseTemplate(source);
  } catch (e) {
    assert.ok(e instanceof TemplateSyntaxError, `expected TemplateSyntaxError, got ${String(e)}`);
    return e;
  }
  assert.fail(`parseTemplate(${JSON.stringify(source)}) should throw`);
}

describe('parseTemplate', () => {
  test('plain text has no placeholders', () => {
    const t = parseTemplate('calib/master_bias.fits');
    assert.deepEqual(t.parts, ['calib/master_bias.fits']);
    assert.deepEqual(t.placeholders, []);
    assert.equal(t.source, 'calib/master_bias.fits');
  });

  test('the empty string', () => {
    const t = parseTemplate('');
    assert.deepEqual(t.parts, []);
    assert.equal(renderTemplate(t, () => 'X'), '');
  });

  test('{name} placeholders split the text, with offsets of their opening brace', () => {
    const t = parseTemplate('raw/{frame}_{band}.fits');
    assert.equal(t.parts.length, 5);
    assert.equal(t.parts[0], 'raw/');
    assert.equal(t.parts[2], '_');
    assert.equal(t.parts[4], '.fits');
    assert.deepEqual(
      t.placeholders.map((p) => ({ text: p.text, path: p.path, offset: p.offset, regex: p.regex })),
      [
        { text: 'frame', path: ['frame'], offset: 4, regex: undefined },
        { text: 'band', path: ['band'], offset: 12, regex: undefined },
      ],
    );
    assert.ok(!('regex' in t.placeholders[0]!), 'no regex property without a comma');
    assert.equal(t.parts[1], t.placeholders[0]);
  });

  test('dotted names are split into a path', () => {
    const t = parseTemplate('{a.b.c} {inputs.sci} {config.fit.order} {inputs.my-name}');
    assert.deepEqual(t.placeholders.map((p) => p.path), [['a', 'b', 'c'], ['inputs', 'sci'], ['config', 'fit', 'order'], ['inputs', 'my-name']]);
  });

  test('{name,REGEX} gives a regex, which may hold balanced braces', () => {
    const t = parseTemplate('out/{n,\\d{3}}.txt');
    assert.equal(t.placeholders.length, 1);
    const p = t.placeholders[0]!;
    assert.equal(p.text, 'n,\\d{3}');
    assert.deepEqual(p.path, ['n']);
    assert.equal(p.regex, '\\d{3}');
    assert.equal(p.offset, 4);
    assert.deepEqual(t.parts, ['out/', p, '.txt']);
  });

  test('regex with several brace groups and a comma inside', () => {
    const t = parseTemplate('{id,[a-z]{2,4}-\\d{1,}}/x');
    assert.equal(t.placeholders[0]!.regex, '[a-z]{2,4}-\\d{1,}');
    assert.deepEqual(t.parts.slice(1), ['/x']);
  });

  test('a backslash-escaped brace in a regex does not count', () => {
    const t = parseTemplate('{n,a\\}b}.txt');
    assert.equal(t.placeholders[0]!.regex, 'a\\}b');
    assert.deepEqual(t.parts.slice(1), ['.txt']);
  });

  test('a regex may allow /', () => {
    const t = parseTemplate('{path,.+}/done');
    assert.equal(t.placeholders[0]!.regex, '.+');
  });

  test('{{ and }} are literal braces', () => {
    const t = parseTemplate('awk {{print $1}} {input}');
    assert.equal(t.parts[0], 'awk {print $1} ');
    assert.equal(t.placeholders.length, 1);
    assert.equal(t.placeholders[0]!.text, 'input');
    assert.equal(t.placeholders[0]!.offset, 17);
    assert.deepEqual(parseTemplate('{{x}}').parts, ['{x}']);
    assert.deepEqual(parseTemplate('}}').parts, ['}']);
    assert.deepEqual(parseTemplate('{{').parts, ['{']);
  });

  test('a placeholder between literal braces: {{{a}}}', () => {
    const t = parseTemplate('{{{a}}}');
    assert.equal(t.parts.length, 3);
    assert.equal(t.parts[0], '{');
    assert.equal((t.parts[1] as Placeholder).text, 'a');
    assert.equal((t.parts[1] as Placeholder).offset, 2);
    assert.equal(t.parts[2], '}');
  });

  test('adjacent placeholders', () => {
    const t = parseTemplate('{a}{b}');
    assert.equal(t.parts.length, 2);
    assert.deepEqual(t.placeholders.map((p) => p.offset), [0, 3]);
  });

  test('unclosed { throws with its offset', () => {
    for (const [src, offset] of [
      ['{a', 0],
      ['echo {input', 5],
      ['x {n,\\d{3}', 2],
      ['{{ {a', 3],
      ['{a\\', 0],
    ] as const) {
      const e = syntaxError(src);
      assert.match(e.message, /unclosed '\{'/);
      assert.match(e.message, /\{\{/);
      assert.equal(e.offset, offset, src);
    }
  });

  test('a stray } throws with its offset', () => {
    for (const [src, offset] of [
      ['a}b', 1],
      ['{a}}', 3],
      ['echo }', 5],
    ] as const) {
      const e = syntaxError(src);
      assert.match(e.message, /unmatched '\}'/);
      assert.equal(e.offset, offset, src);
    }
  });

  test('invalid placeholder names throw', () => {
    for (const src of ['{}', '{ a }', '{1a}', '{a..b}', '{a.}', '{.a}', '{a b}', '{-x}', '{a/b}', '{,x}', 'x {$HOME}']) {
      const e = syntaxError(src);
      assert.match(e.message, /invalid placeholder/, src);
      assert.equal(e.offset, src.indexOf('{'), src);
    }
  });

  test('TemplateSyntaxError is an Error', () => {
    const e = syntaxError('{');
    assert.ok(e instanceof Error);
  });
});

describe('renderTemplate', () => {
  test('joins literal parts and resolved placeholders', () => {
    const t = parseTemplate('python fit.py {inputs.sci} -o {output} --n {n,\\d+}');
    const seen: string[] = [];
    const out = renderTemplate(t, (p) => {
      seen.push(p.text);
      return `<${p.path.join('.')}>`;
    });
    assert.equal(out, 'python fit.py <inputs.sci> -o <output> --n <n>');
    assert.deepEqual(seen, ['inputs.sci', 'output', 'n,\\d+']);
  });

  test('a literal-only template never calls resolve', () => {
    const t = parseTemplate('echo {{done}}');
    assert.equal(
      renderTemplate(t, () => assert.fail('resolve called')),
      'echo {done}',
    );
  });

  test('a placeholder-only template', () => {
    assert.equal(renderTemplate(parseTemplate('{x}'), () => 'value'), 'value');
  });
});

describe('literalText', () => {
  test('literalText drops placeholders', () => {
    assert.equal(literalText(parseTemplate('raw/{frame}_*.fits')), 'raw/_*.fits');
    assert.equal(literalText(parseTemplate('{a}{b}')), '');
    assert.equal(literalText(parseTemplate('a{{b}}c')), 'a{b}c');
  });
});
