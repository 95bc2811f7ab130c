// Sample sheets and lookups (SPEC §7) in the graph and in staleness: a job's
// inputs, log and command from its own row; a missing row or key refused with
// the rule's place; a job depends on its own row only (`table changed: NAME`).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import { renderCommand, renderEnv, renderParams } from '../../../src/graph/command.js';
import type { Plan } from '../../../src/plan/plan.js';
import { jobSignature } from '../../../src/plan/signature.js';
import { reasonText } from '../../../src/report/reason.js';
import type { Project } from '../../../src/rulefile/model.js';
import { BuildLog, MemoryLogStorage } from '../../../src/state/log.js';
import { MemoryMarkerStorage } from '../../../src/state/started.js';
import { buildOnce, MemoryState, planOf } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { graphProblems, projectFrom, yaml } from '../../support/project.js';

const RULEFILE = yaml`
  tables:
    samples: { file: samples.tsv, key: sample }
  config:
    ref: { A: hg19, B: hg38, C: hg38, D: hg19 }
  rules:
    all:
      inputs:
        - expand: "counts/{sample}.txt"
          sample: { table: samples }
    align:
      inputs: { r1: "{tables.samples.fq1}", ref: "refs/{config.ref[sample]}.fa" }
      outputs: "bam/{sample}.bam"
      log: "logs/{tables.samples.lane}/{sample}.log"
      run: align {inputs.r1} {tables.samples.fq2} --rg {raw.tables.samples.rg} > {output}
    count:
      inputs: "bam/{sample}.bam"
      outputs: "counts/{sample}.txt"
      run: count {input} > {output}
`;

const SHEET = 'sample\tfq1\tfq2\tlane\trg\tnote\nA\traw/A_1.fq\traw/A 2.fq\tL1\tID:A\tfirst\nB\traw/B_1.fq\traw/B_2.fq\tL2\tID:B\t\nC\traw/C_1.fq\traw/C_2.fq\tL1\tID:C\t\n';

const project = (sheet = SHEET, rulefile = RULEFILE) => projectFrom(rulefile, [], { 'samples.tsv': sheet });

function sources(): FakeFileSystem {
  return new FakeFileSystem().write('raw/A_1.fq', 'raw/B_1.fq', 'raw/C_1.fq', 'raw/X_1.fq', 'refs/hg19.fa', 'refs/hg38.fa');
}

function lines(p: Plan): string[] {
  return p.order.map((j) => (j.rule.phony ? `${j.label}: ${reasonText(p.reasons.get(j)!)}` : `${j.label} ${j.name}: ${reasonText(p.reasons.get(j)!)}`));
}

describe('lookups in the graph', () => {
  test("each job's inputs, log, command and env come from its own row", () => {
    const p = project();
    const graph = buildGraph(p, ['all'], sources());
    const a = graph.jobs.find((j) => j.label === 'align[sample=A]')!;
    assert.deepEqual(a.inputs, ['raw/A_1.fq', 'refs/hg19.fa']);
    assert.equal(a.log, 'logs/L1/A.log');
    // Table values are quoted like any other value; {raw.…} is inserted verbatim.
    assert.equal(renderCommand(p, a), "align raw/A_1.fq 'raw/A 2.fq' --rg ID:A > bam/A.bam");
    const b = graph.jobs.find((j) => j.label === 'align[sample=B]')!;
    assert.deepEqual(b.inputs, ['raw/B_1.fq', 'refs/hg38.fa']);
    assert.equal(b.log, 'logs/L2/B.log');
  });

  test('params and env look up too', () => {
    const p = project(SHEET, RULEFILE.replace('    run: align', '    params: { ref: "{config.ref[sample]}", fq2: "{tables.samples.fq2}" }\n    env: { LANE: "{tables.samples.lane}" }\n    run: align'));
    const graph = buildGraph(p, ['all'], sources());
    const c = graph.jobs.find((j) => j.label === 'align[sample=C]')!;
    assert.deepEqual([...renderParams(p, c)], [
      ['ref', ['hg38']],
      ['fq2', ['raw/C_2.fq']],
    ]);
    assert.equal(renderEnv(p, c).LANE, 'L1');
  });

  test('a job whose key has no row, or no config key: an error at the lookup, naming the table file', () => {
    const p = project();
    const problems = graphProblems(p, ['counts/X.txt'], sources());
    assert.deepEqual(
      problems.map((d) => `${d.loc?.line}:${d.loc?.col}: ${d.message}`),
      [
        "11:20: samples.tsv: no row with sample 'X' in table 'samples' (needed by align[sample=X])",
        "11:54: config key 'ref' has no key 'X' (the value of {sample}), which {config.ref[sample]} looks up (needed by align[sample=X])",
      ],
    );
  });

  test('an expand keyed by its own name reads each row', () => {
    const p = project(SHEET, RULEFILE.replace('"counts/{sample}.txt"', '"{tables.samples.fq1}"'));
    const graph = buildGraph(p, ['all'], sources());
    assert.deepEqual(graph.jobs[0]!.inputs, ['raw/A_1.fq', 'raw/B_1.fq', 'raw/C_1.fq']);
  });

  test('the table file is never an implicit input, even when the command names it', () => {
    const p = project(SHEET, RULEFILE.replace('count {input}', 'count samples.tsv {input}'));
    const fs = sources().write('samples.tsv');
    const graph = buildGraph(p, ['all'], fs);
    assert.deepEqual(graph.jobs.find((j) => j.label === 'count[sample=A]')!.implicitInputs, []);
  });
});

describe('a job depends on its own row', () => {
  async function built() {
    const fs = sources();
    const state = new MemoryState();
    const first = await buildOnce(project(), ['all'], fs, state);
    assert.equal(first.result.ok, true);
    assert.equal(first.ran.length, 6);
    return { fs, state, dry: (p: Project) => lines(planOf(p, ['all'], fs, state.log())) };
  }

  test('a second build does nothing', async () => {
    const { dry } = await built();
    assert.deepEqual(dry(project()), []);
  });

  test("editing one row's value the rule reads reruns that sample's jobs only", async () => {
    const { dry } = await built();
    assert.deepEqual(dry(project(SHEET.replace('ID:B', 'ID:B2'))), ['align[sample=B] bam/B.bam: table changed: samples', 'count[sample=B] counts/B.txt: upstream will run: bam/B.bam', 'all: always']);
    // Read in inputs (fq1), and in the log: still the table, checked before inputs (SPEC §2 row 5).
    assert.deepEqual(dry(project(SHEET.replace('raw/A_1.fq', 'raw/X_1.fq')))[0], 'align[sample=A] bam/A.bam: table changed: samples');
    assert.deepEqual(dry(project(SHEET.replace('L2', 'L3')))[0], 'align[sample=B] bam/B.bam: table changed: samples');
  });

  test('a column no rule reads, other rows, the order of rows: no change', async () => {
    const { dry } = await built();
    assert.deepEqual(dry(project(SHEET.replace('first', 'changed note'))), []);
    const reordered = SHEET.split('\n');
    [reordered[1], reordered[3]] = [reordered[3]!, reordered[1]!];
    assert.deepEqual(dry(project(reordered.join('\n'))), []);
    // A new row is a new sample: its jobs, and the job expanding the key column.
    assert.deepEqual(dry(project(SHEET + 'D\traw/A_1.fq\tx\tL1\tID:D\t\n')), [
      'align[sample=D] bam/D.bam: output missing: bam/D.bam',
      'count[sample=D] counts/D.txt: output missing: counts/D.txt',
      'all: always',
    ]);
  });

  test('a value read in params is `params changed`: params come first in SPEC §2 row 5', async () => {
    const rulefile = RULEFILE.replace('    run: align', '    params: { rg: "{tables.samples.rg}" }\n    run: align');
    const fs = sources();
    const state = new MemoryState();
    await buildOnce(project(SHEET, rulefile), ['all'], fs, state);
    assert.deepEqual(lines(planOf(project(SHEET.replace('ID:C', 'ID:C2'), rulefile), ['all'], fs, state.log()))[0], 'align[sample=C] bam/C.bam: params changed: rg');
  });

  test('the row part of the signature survives the build log', async () => {
    const p = project();
    const graph = buildGraph(p, ['all'], sources());
    const a = graph.jobs.find((j) => j.label === 'align[sample=A]')!;
    const count = graph.jobs.find((j) => j.label === 'count[sample=A]')!;
    const sig = jobSignature(p, a);
    assert.equal(sig.tables?.length, 1);
    assert.equal(sig.tables![0]![0], 'samples');
    assert.equal(jobSignature(p, count).tables, undefined, 'a rule that reads no row has no row part');
    const storage = new MemoryLogStorage();
    const markers = new MemoryMarkerStorage();
    const log = BuildLog.load(storage, markers);
    log.done({ key: 'bam/A.bam', signature: sig, inputs: new Map(), outputs: new Map() });
    log.done({ key: 'counts/A.txt', signature: jobSignature(p, count), inputs: new Map(), outputs: new Map() });
    log.close();
    assert.match(storage.read(), /"r":\[\["samples",\d+\]\]/);
    const again = BuildLog.load(storage, markers);
    assert.deepEqual(again.records.get('bam/A.bam')!.signature, sig);
    assert.deepEqual(again.records.get('counts/A.txt')!.signature.tables, undefined);
  });
});
