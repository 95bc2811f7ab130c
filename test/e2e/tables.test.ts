// Sample sheets (SPEC §7) through the real CLI: a job depends on its own row
// of a 1,000-row sheet and no other; the sheet is part of the project (the
// up-to-date stamp and `rules watch` see it change); its problems exit 2.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nonEmptyLines, project, show, waitFor, within, yaml, type AsyncRun, type Files } from './helpers.js';

const RULEFILE = yaml(
  'tables:',
  '  samples: { file: meta/samples.tsv, key: sample }',
  'rules:',
  '  all:',
  '    inputs:',
  '      - expand: "out/{sample}.txt"',
  '        sample: { table: samples }',
  '  align:',
  '    inputs: "{tables.samples.fq}"',
  '    outputs: "out/{sample}.txt"',
  '    run: cp {input} {output}; echo {tables.samples.lane} >> {output}; echo {sample} >> ran.log',
);

const name = (i: number) => `S${String(i).padStart(4, '0')}`;

/** A sheet of `n` samples, each with its own source file, and (when `made`) its output already made. */
function sheet(n: number, made: boolean): Files {
  const rows = ['sample\tfq\tlane\tnote'];
  const files: Files = { Rulefile: RULEFILE };
  for (let i = 1; i <= n; i++) {
    rows.push(`${name(i)}\traw/${name(i)}.fq\tL${i % 4}\t`);
    files[`raw/${name(i)}.fq`] = `${name(i)}\n`;
    if (made) files[`out/${name(i)}.txt`] = `${name(i)}\nL${i % 4}\n`;
  }
  files['meta/samples.tsv'] = rows.join('\n') + '\n';
  return files;
}

describe('a sample sheet through the CLI', () => {
  test("editing one row of a 1,000-row sheet makes that sample's job stale, and only it", (t) => {
    const p = project(t, sheet(1000, true));
    // Outputs newer than their inputs and no record: adopted, recorded, nothing run.
    const first = p.run(['build']);
    assert.equal(first.status, 0, show(first));
    assert.deepEqual(p.lines(), []);
    const noop = p.run(['build', '-n']);
    assert.equal(noop.stdout, '', show(noop));
    assert.match(noop.stderr, /nothing to do/);

    // A value the job reads (its command's {tables.samples.lane}).
    p.write({ 'meta/samples.tsv': p.read('meta/samples.tsv').replace('S0500\traw/S0500.fq\tL0', 'S0500\traw/S0500.fq\tL9') });
    const dry = p.run(['build', '-n']);
    assert.equal(dry.status, 0, show(dry));
    assert.deepEqual(nonEmptyLines(dry.stdout), ['align[sample=S0500] out/S0500.txt: table changed: samples', 'all: always']);

    // A value no rule reads: nothing to do.
    p.write({ 'meta/samples.tsv': p.read('meta/samples.tsv').replace('S0042\traw/S0042.fq\tL2\t', 'S0042\traw/S0042.fq\tL2\tresequenced') });
    assert.deepEqual(nonEmptyLines(p.run(['build', '-n']).stdout), ['align[sample=S0500] out/S0500.txt: table changed: samples', 'all: always']);

    const build = p.run(['build']);
    assert.equal(build.status, 0, show(build));
    assert.deepEqual(p.lines(), ['S0500']);
    assert.equal(p.read('out/S0500.txt'), 'S0500\nL9\n');
    const after = p.run(['build', '-n']);
    assert.equal(after.stdout, '', show(after));

    // The file a row names: the table first (SPEC §2 row 5 puts it before inputs).
    p.write({ 'raw/other.fq': 'other\n', 'meta/samples.tsv': p.read('meta/samples.tsv').replace('S0007\traw/S0007.fq', 'S0007\traw/other.fq') });
    assert.deepEqual(nonEmptyLines(p.run(['build', '-n']).stdout), ['align[sample=S0007] out/S0007.txt: table changed: samples', 'all: always']);
  });

  test('the up-to-date stamp does not hold once the sheet changed', (t) => {
    const p = project(t, sheet(3, false));
    assert.equal(p.run(['build']).status, 0);
    assert.deepEqual(p.lines().sort(), ['S0001', 'S0002', 'S0003']);
    // Answered by the stamp now.
    assert.match(p.run(['build', '-v']).stderr, /as the last build left them/);
    p.write({ 'meta/samples.tsv': p.read('meta/samples.tsv').replace('S0002\traw/S0002.fq\tL2', 'S0002\traw/S0002.fq\tL5') });
    const again = p.run(['build']);
    assert.equal(again.status, 0, show(again));
    assert.deepEqual(p.lines().sort(), ['S0001', 'S0002', 'S0002', 'S0003']);
    // A sample added: its job, and only it.
    p.write({ 'raw/S0004.fq': 'S0004\n', 'meta/samples.tsv': p.read('meta/samples.tsv') + 'S0004\traw/S0004.fq\tL0\t\n' });
    assert.equal(p.run(['build']).status, 0);
    assert.deepEqual(p.lines().sort(), ['S0001', 'S0002', 'S0002', 'S0003', 'S0004']);
  });

  test('a broken sheet: exit 2, naming the file and line', (t) => {
    const files = sheet(3, false);
    files['meta/samples.tsv'] = files['meta/samples.tsv']! + 'S0002\traw/x.fq\tL1\t\nS0009\traw/x.fq\n';
    const p = project(t, files);
    const r = p.run(['build']);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /^meta\/samples\.tsv:5: key 'S0002' appears again \(first on line 3\)/m);
    assert.match(r.stderr, /^meta\/samples\.tsv:6: a row of 2 fields in table 'samples', whose header has 4$/m);
    assert.deepEqual(p.lines(), []);

    const q = project(t, { ...sheet(2, false), Rulefile: RULEFILE.replace('{tables.samples.fq}', '{tables.samples.fastq}') });
    const missing = q.run(['build']);
    assert.equal(missing.status, 2, show(missing));
    assert.match(missing.stderr, /^meta\/samples\.tsv:1: no column 'fastq' \(columns: sample, fq, lane, note\)/m);
    assert.match(missing.stderr, /in inputs of rule 'align' at Rulefile:9:14$/m);

    const gone = project(t, { Rulefile: RULEFILE });
    const r3 = gone.run(['build']);
    assert.equal(r3.status, 2, show(r3));
    assert.match(r3.stderr, /^Rulefile:2:20: cannot read the file of table 'samples', 'meta\/samples\.tsv': no such file$/m);
  });

  test('a target whose sample has no row: exit 2, at the lookup', (t) => {
    const p = project(t, sheet(2, false));
    const r = p.run(['build', 'out/S0003.txt']);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /^Rulefile:9:14: meta\/samples\.tsv: no row with sample 'S0003' in table 'samples' \(needed by align\[sample=S0003\]\)$/m);
  });
});

describe('rules watch and the sheet', () => {
  const WATCHING = /^rules: watching \d+ files? in \d+ director(y|ies); Ctrl-C to stop$/gm;
  const builds = (run: AsyncRun) => (run.stdout().match(WATCHING) ?? []).length;

  test('an edited sheet is a change: the edited sample is rebuilt', async (t) => {
    const p = project(t, sheet(3, false));
    const run = p.start(['watch']);
    await waitFor(() => builds(run) === 1, `the first build\n${run.stdout()}${run.stderr()}`);
    assert.deepEqual(p.lines().sort(), ['S0001', 'S0002', 'S0003']);
    p.write({ 'meta/samples.tsv': p.read('meta/samples.tsv').replace('S0003\traw/S0003.fq\tL3', 'S0003\traw/S0003.fq\tL7') });
    await waitFor(() => builds(run) === 2, `a build after the sheet changed\n${run.stdout()}${run.stderr()}`);
    assert.match(run.stdout(), /^rules: changed: meta\/samples\.tsv; building$/m);
    assert.deepEqual(p.lines().sort(), ['S0001', 'S0002', 'S0003', 'S0003']);
    assert.equal(p.read('out/S0003.txt'), 'S0003\nL7\n');
    run.child.kill('SIGINT');
    const r = await within(run.done, 10_000, 'rules watch to stop');
    assert.equal(r.status, 130, show(r));
  });
});
