// Sample sheets and lookups (SPEC §7) as the loader reads them: `tables:`,
// CSV/TSV parsing, `{ table: NAME }` and config-map keys as expand values,
// `{tables.NAME.COL}` and `{config.a[NAME]}` checked at load time.

import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { ExpandSource, Project } from '../../../src/rulefile/model.js';
import { parseTable } from '../../../src/rulefile/tables.js';
import type { Diagnostic } from '../../../src/util/errors.js';
import { errorsOf, expectError, expectOnlyError, load, makeProject, yaml } from './helpers.js';
import { loadProject } from '../../../src/rulefile/load.js';

const SPEC = { name: 'samples', display: 'samples.csv', path: '/p/samples.csv', key: 'sample', sep: ',', loc: { file: 'Rulefile', line: 2, col: 3 }, keyLoc: { file: 'Rulefile', line: 2, col: 40 } };

function parse(text: string, sep = ','): { rows: [string, number, string[]][]; columns: string[] } {
  const problems: Diagnostic[] = [];
  const t = parseTable(text, { ...SPEC, sep }, problems);
  assert.deepEqual(problems, []);
  assert.ok(t);
  return { columns: t.columns, rows: t.keys.map((k) => [k, t.rows.get(k)!.line, t.rows.get(k)!.values]) };
}

function problemsOf(text: string, sep = ','): string[] {
  const problems: Diagnostic[] = [];
  assert.equal(parseTable(text, { ...SPEC, sep }, problems), undefined);
  return problems.map((d) => `${d.loc!.file}:${d.loc!.line}${d.loc!.col > 0 ? `:${d.loc!.col}` : ''}: ${d.message}`);
}

/** The values of the first expand name of the first input item of `rule`. */
function expandValues(p: Project, rule: string): string[] {
  const source: ExpandSource = p.rulesByName.get(rule)!.inputs[0]!.items[0]!.expand![0]!.source;
  assert.equal(source.kind, 'list');
  return source.kind === 'list' ? source.values : [];
}

describe('table files', () => {
  test('a header row, then rows keyed by the key column, in file order', () => {
    assert.deepEqual(parse('sample,fq\nB,b.fq\nA,a.fq\n'), {
      columns: ['sample', 'fq'],
      rows: [
        ['B', 2, ['B', 'b.fq']],
        ['A', 3, ['A', 'a.fq']],
      ],
    });
  });

  test('RFC 4180 quoting: doubled quotes, separators and newlines inside quotes', () => {
    const t = parse('sample,note,fq\n"A","say ""hi"", twice","a 1.fq"\nB,"two\nlines",b.fq\nC,,c.fq\n');
    assert.deepEqual(t.rows, [
      ['A', 2, ['A', 'say "hi", twice', 'a 1.fq']],
      ['B', 3, ['B', 'two\nlines', 'b.fq']],
      ['C', 5, ['C', '', 'c.fq']],
    ]);
  });

  test('a BOM, CRLF line ends, no last newline and blank lines are taken in stride', () => {
    const t = parse('\uFEFFsample\tfq\r\n\r\nA\ta.fq\r\n\nB\t"b\r\nq"\r\nC\tc.fq', '\t');
    assert.deepEqual(t.columns, ['sample', 'fq']);
    assert.deepEqual(t.rows, [
      ['A', 3, ['A', 'a.fq']],
      ['B', 5, ['B', 'b\r\nq']],
      ['C', 7, ['C', 'c.fq']],
    ]);
  });

  test('a duplicate key names both lines', () => {
    assert.deepEqual(problemsOf('sample,fq\nA1,x\nB,y\nA1,z\n'), ["samples.csv:4: key 'A1' appears again (first on line 2): each row of table 'samples' needs a 'sample' of its own"]);
  });

  test('a ragged row, an empty key, a missing key column', () => {
    assert.deepEqual(problemsOf('sample,fq\nA\nB,b,c\n,x\n'), [
      "samples.csv:2: a row of 1 field in table 'samples', whose header has 2",
      "samples.csv:3: a row of 3 fields in table 'samples', whose header has 2",
      "samples.csv:4: a row of table 'samples' has an empty key ('sample')",
    ]);
    assert.deepEqual(problemsOf('id,fq\nA,x\n'), ["samples.csv:1: no column 'sample' (columns: id, fq): it is the key of table 'samples' at Rulefile:2:40"]);
  });

  test('an empty file, an unclosed quote, text after a closing quote', () => {
    assert.deepEqual(problemsOf(''), ["samples.csv:1: table 'samples' has no header row: its first line names the columns"]);
    assert.deepEqual(problemsOf('sample,fq\nA,"x\n'), [`samples.csv:2:3: a quoted field opened here is not closed (a '"' inside a quoted field is written '""')`]);
    assert.deepEqual(problemsOf('sample,fq\nA,"x"y\n'), [`samples.csv:2:6: text after the closing quote of a quoted field (a '"' inside a quoted field is written '""')`]);
  });
});

describe('tables: in the Rulefile', () => {
  const rules = yaml('rules:', '  all:', '    inputs:', '      - expand: "out/{s}.txt"', '        s: { table: samples }');

  test('{ table: NAME } gives the key column in file order; the file is part of the project', () => {
    const dir = makeProject({ Rulefile: yaml('tables:', '  samples: { file: meta/samples.tsv, key: sample }') + rules, 'meta/samples.tsv': 'sample\tx\nS10\t1\nS2\t2\nS1\t3\n' });
    const p = loadProject({ cwd: dir });
    assert.deepEqual(expandValues(p, 'all'), ['S10', 'S2', 'S1']);
    const abs = path.join(dir, 'meta/samples.tsv');
    assert.ok(p.read.includes(abs), 'the table file is read by the loader');
    assert.match(p.digests.get(abs)!, /^[0-9a-f]{64}$/);
    assert.equal(p.tables.get('samples')!.display, 'meta/samples.tsv');
    assert.ok(!p.files.includes(abs), 'a table is not a rule file');
  });

  test('sep overrides the extension; an unknown extension needs it', () => {
    const p = load({ Rulefile: yaml('tables:', '  samples: { file: s.txt, key: sample, sep: ";" }') + rules, 's.txt': 'sample;x\nA;1\n' });
    assert.deepEqual(expandValues(p, 'all'), ['A']);
    expectOnlyError({ Rulefile: yaml('tables:', '  samples: { file: s.txt, key: sample }') + rules, 's.txt': 'sample;x\nA;1\n' }, {
      message: "cannot tell the separator of table file 's.txt' from its name (.csv: comma, .tsv or .tab: tab)",
      line: 2,
      col: 20,
    });
  });

  test('unknown keys get a suggestion; file and key are required', () => {
    const ds = errorsOf({ Rulefile: yaml('tables:', '  samples: { file: s.csv, keys: sample }') + rules, 's.csv': 'sample\nA\n' });
    assert.deepEqual(
      ds.map((d) => [d.message, d.loc?.line, d.loc?.col]),
      [
        ["table 'samples' needs 'key:' (the column whose values name the rows)", 2, 3],
        ["unknown key 'keys' in table 'samples' (did you mean 'key'?); allowed: file, key, sep", 2, 27],
      ],
    );
  });

  test('a missing table file is an error at its file: value; its uses are no further error', () => {
    expectOnlyError(yaml('tables:', '  samples: { file: nope.csv, key: sample }') + rules, { message: "cannot read the file of table 'samples', 'nope.csv': no such file", line: 2, col: 20 });
  });

  test('a problem in the table file is reported at its line', () => {
    expectOnlyError({ Rulefile: yaml('tables:', '  samples: { file: s.csv, key: sample }') + rules, 's.csv': 'sample,fq\nA,1\nB,2\nA,3\n' }, {
      message: "key 'A' appears again (first on line 2)",
      file: 's.csv',
      line: 4,
      col: 0,
    });
  });

  test("'tables' only in the main Rulefile, and an unknown table is named", () => {
    expectError({ Rulefile: yaml('include: [more.yaml]', 'rules:', '  a: { run: x }'), 'more.yaml': yaml('tables: {}') }, { message: "key 'tables' is not allowed in an included file ('tables' belongs in the main Rulefile)" });
    expectOnlyError({ Rulefile: yaml('tables:', '  samples: { file: s.csv, key: sample }') + rules.replace('table: samples', 'table: sample'), 's.csv': 'sample\nA\n' }, {
      message: "unknown table 'sample' for the values of 's' in rule 'all' (did you mean 'samples'?)",
      line: 7,
      col: 21,
    });
  });
});

describe('expand over a config map', () => {
  test('its keys in file order, integer-like keys too', () => {
    const p = load(yaml('config:', '  units: { "10": x, "2": y, b: z, a: w }', 'rules:', '  all:', '    inputs:', '      - expand: "u/{u}.txt"', '        u: { config: units }'));
    assert.deepEqual(expandValues(p, 'all'), ['10', '2', 'b', 'a']);
  });

  test("after layers merge: the earlier layer's keys first, then new ones", () => {
    const p = load(
      { Rulefile: yaml('config:', '  units: { "10": x, b: z }', 'rules:', '  all:', '    inputs:', '      - expand: "u/{u}.txt"', '        u: { config: units }'), 'more.json': '{"units": {"3": 1, "10": 2, "a": 3}}' },
      { configFiles: ['more.json'], configOverrides: ['units.1=q'] },
    );
    assert.deepEqual(expandValues(p, 'all'), ['10', 'b', '3', 'a', '1']);
  });

  test('a list works as before; a scalar is an error at its place', () => {
    const p = load(yaml('config:', '  units: [b, a]', 'rules:', '  all:', '    inputs:', '      - expand: "u/{u}.txt"', '        u: { config: units }'));
    assert.deepEqual(expandValues(p, 'all'), ['b', 'a']);
    expectOnlyError(yaml('config:', '  units: b', 'rules:', '  all:', '    inputs:', '      - expand: "u/{u}.txt"', '        u: { config: units }'), {
      message: "config key 'units' used for the values of 'u' in rule 'all' must be a list or a map (its keys), not the string \"b\"",
      line: 7,
      col: 22,
    });
  });
});

describe('lookups in templates', () => {
  const files = (rule: string[]) => ({
    Rulefile: yaml('tables:', '  samples: { file: s.csv, key: sample }', 'config:', '  ref: { A: hg38 }', 'rules:', ...rule),
    's.csv': 'sample,fq1,fq2\nA,a1.fq,a2.fq\n',
  });

  test('{tables.NAME.COL} and {config.a[NAME]} in inputs, params, log, run and env are accepted and bound', () => {
    const p = load(
      files([
        '  align:',
        '    inputs: { r1: "{tables.samples.fq1}", ref: "refs/{config.ref[sample]}.fa" }',
        '    outputs: "out/{sample}.bam"',
        '    params: { r2: "{tables.samples.fq2}" }',
        '    log: "logs/{config.ref[sample]}/{sample}.log"',
        '    env: { R2: "{tables.samples.fq2}" }',
        '    run: x {tables.samples.fq1} {raw.tables.samples.fq2} {config.ref[sample]} > {output}',
      ]),
    );
    const rule = p.rulesByName.get('align')!;
    assert.deepEqual(
      rule.lookups!.map((l) => `${l.placeholder.text}@${l.loc.line}:${l.loc.col}`),
      ['tables.samples.fq1@7:20', 'config.ref[sample]@7:54', 'config.ref[sample]@10:16', 'tables.samples.fq2@9:20', 'tables.samples.fq2@11:17', 'tables.samples.fq1@12:12', 'raw.tables.samples.fq2@12:33', 'config.ref[sample]@12:58'],
    );
    // The job's row: the columns the rule reads, in order of first use.
    assert.deepEqual(rule.tableRows!.map((r) => [r.table.name, r.columns.map((c) => r.table.columns[c])]), [['samples', ['fq1', 'fq2']]]);
  });

  test('a rule without lookups has none', () => {
    const rule = load(files(['  a:', '    outputs: "o/{sample}"', '    run: x {config.ref.A}'])).rulesByName.get('a')!;
    assert.equal(rule.lookups, undefined);
    assert.equal(rule.tableRows, undefined);
  });

  test('a table lookup needs a wildcard named like the key column', () => {
    expectOnlyError(files(['  a:', '    outputs: "o/{s}"', '    run: x {tables.samples.fq1}']), {
      message: "'{tables.samples.fq1}' in 'run' of rule 'a' reads the job's row of table 'samples', which needs a wildcard named like its key column, {sample} (its wildcards: s)",
      line: 8,
      col: 12,
    });
  });

  test('an expand name named like the key column reads that row; it is no part of the signature', () => {
    const rule = load(files(['  all:', '    inputs:', '      - expand: "{tables.samples.fq1}"', '        sample: { table: samples }'])).rulesByName.get('all')!;
    assert.equal(rule.lookups, undefined);
    assert.equal(rule.tableRows, undefined);
  });

  test('a missing column is reported at the header of the table file, naming where the Rulefile uses it', () => {
    const d = expectOnlyError(files(['  a:', '    outputs: "o/{sample}"', '    run: x {tables.samples.fq3}']), { message: "no column 'fq3' (columns: sample, fq1, fq2)", file: 's.csv', line: 1, col: 0 });
    assert.match(d.message, /\{tables\.samples\.fq3\} in 'run' of rule 'a' at Rulefile:8:12$/);
  });

  test('an unknown table, a lookup by something not a wildcard, a lookup where none can stand', () => {
    expectOnlyError(files(['  a:', '    outputs: "o/{sample}"', '    run: x {tables.sample.fq1}']), { message: "unknown table 'sample' in '{tables.sample.fq1}' of rule 'a' (did you mean 'samples'?)", line: 8, col: 12 });
    expectOnlyError(files(['  a:', '    outputs: "o/{sample}"', '    run: x {config.ref[smple]}']), {
      message: "'{config.ref[smple]}' in rule 'a' looks up the value of 'smple', which is not one of its wildcards (did you mean 'sample'?) (sample)",
      line: 8,
      col: 12,
    });
    expectOnlyError(files(['  a:', '    outputs: "o/{sample}/{config.ref[sample]}"', '    run: x']), { message: "'{config.ref[sample]}' cannot be used in outputs of rule 'a'", line: 7, col: 26 });
    expectOnlyError(files(['  a:', '    outputs: "o/{sample}"', '    run: x {params.a[sample]}']), { message: 'only a config value can be looked up by a wildcard', line: 8, col: 12 });
    expectOnlyError(files(['  a:', '    outputs: "o/{sample}"', '    run: x {config.nope[sample]}']), { message: "rule 'a' uses config key 'nope', which is not set", line: 8, col: 12 });
    expectOnlyError(files(['  a:', '    outputs: "o/{sample}"', '    run: x {config.ref.A[sample]}']), { message: "looks a key up in config key 'ref.A', which is not a map", line: 8, col: 12 });
  });
});
