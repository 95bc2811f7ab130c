// The dry run's text and `--json`, written a chunk at a time: the same bytes
// as the whole plan made as one string, and every chunk whole lines.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderCommand } from '../../../src/graph/command.js';
import { allInputs } from '../../../src/graph/model.js';
import type { Plan } from '../../../src/plan/plan.js';
import { formatPlanJson, formatPlanText, writePlanJson, writePlanText } from '../../../src/report/plan.js';
import { reasonText } from '../../../src/report/reason.js';
import { MemoryState, planOf } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

/** `--json` as one JSON.stringify of the whole plan. */
function wholeJson(plan: Plan): string {
  const jobs = plan.order.map((job) => ({
    rule: job.rule.name,
    wildcards: job.wildcards,
    outputs: job.outputs,
    inputs: allInputs(job),
    reason: reasonText(plan.reasons.get(job)!),
    command: renderCommand(plan.context.project, job) ?? null,
    ...(job.tempOutputs !== undefined ? { temp: job.outputs.filter((o) => job.tempOutputs!.has(o)) } : {}),
  }));
  const pending: { glob: string; after: string }[] = [];
  for (const job of plan.order) for (const g of job.pending ?? []) if (plan.reasons.has(g.producer)) pending.push({ glob: g.pattern, after: g.producer.label });
  return JSON.stringify(pending.length > 0 ? { jobs, pending } : { jobs }, null, 2) + '\n';
}

/** The text as one line per job, joined. */
function wholeText(plan: Plan): string {
  return plan.order.map((job) => `${job.label}${job.rule.phony ? '' : ` ${job.name}`}: ${reasonText(plan.reasons.get(job)!)}\n`).join('');
}

function chunks(plan: Plan, write: (plan: Plan, w: (text: string) => void) => void): string[] {
  const out: string[] = [];
  write(plan, (t) => out.push(t));
  return out;
}

function same(plan: Plan): void {
  assert.equal(formatPlanJson(plan), wholeJson(plan));
  assert.equal(chunks(plan, writePlanJson).join(''), wholeJson(plan));
  assert.equal(formatPlanText(plan), wholeText(plan));
  assert.equal(chunks(plan, writePlanText).join(''), wholeText(plan));
}

describe('the dry-run plan, written in chunks', () => {
  test('a plan with temporary outputs, names to escape and a phony job: the bytes of the whole', () => {
    const project = projectFrom(yaml`
      rules:
        all:
          inputs:
            - expand: "m/{f}.txt"
              f: { glob: "raw/{f}.txt" }
        calibrate:
          inputs: raw/{f}.txt
          outputs: ["cal/{f}.txt", "cal/{f}.log"]
          temp: true
          run: cal {input}
        measure:
          inputs: cal/{f}.txt
          outputs: m/{f}.txt
          run: measure {input}
    `);
    const fs = new FakeFileSystem().put('raw/a.txt', '1').put('raw/q"uote\\d.txt', '2').put('raw/new\nline.txt', '3').put('raw/é\u2028ü.txt', '4');
    const plan = planOf(project, ['all'], fs, new MemoryState().log());
    assert.equal(plan.order.length, 9);
    same(plan);
  });

  test('globs waiting for a directory a job will make are listed after the jobs', () => {
    const project = projectFrom(yaml`
      rules:
        all:
          inputs:
            - expand: "merged/{s}.txt"
              s: [a, b]
        split:
          inputs: "cat/{s}.txt"
          outputs: "chunks/{s}/"
          run: SPLIT {input}
        merge:
          inputs:
            - expand: "chunks/{s}/{c}.txt"
              c: { glob: "chunks/{s}/{c}.txt" }
          outputs: "merged/{s}.txt"
          run: merge {inputs}
    `);
    const plan = planOf(project, ['all'], new FakeFileSystem().put('cat/a.txt', 'x').put('cat/b.txt', 'y'), new MemoryState().log());
    assert.match(formatPlanJson(plan), /"pending": \[\n {4}\{\n {6}"glob": "chunks\/a\/\*\.txt"/);
    same(plan);
  });

  test('an empty plan', () => {
    const project = projectFrom(yaml`
      rules:
        all:
          inputs: [a.txt]
    `);
    const plan = planOf(project, ['all'], new FakeFileSystem().put('a.txt', 'a'), new MemoryState().log());
    assert.equal(plan.order.length, 0);
    assert.equal(formatPlanJson(plan), '{\n  "jobs": []\n}\n');
    assert.deepEqual(chunks(plan, writePlanText), []);
    same(plan);
  });

  test('a long plan comes in several chunks, each of whole lines', () => {
    const project = projectFrom(yaml`
      rules:
        all:
          inputs:
            - expand: "out/{x}.txt"
              x: { glob: "src/{x}.txt" }
        copy:
          inputs: src/{x}.txt
          outputs: out/{x}.txt
          run: cp {input} {output}
    `);
    const fs = new FakeFileSystem();
    for (let i = 0; i < 3000; i++) fs.put(`src/${String(i).padStart(40, 'n')}.txt`, 'x');
    const plan = planOf(project, ['all'], fs, new MemoryState().log());
    const text = chunks(plan, writePlanText);
    assert.ok(text.length > 3, `${text.length} chunks`);
    for (const c of text) assert.ok(c.endsWith('\n'));
    assert.ok(chunks(plan, writePlanJson).length > 3);
    same(plan);
  });

  test('-p: each command under its line, every line of it indented 4 spaces (a blank line left blank); none for a phony job without one', () => {
    const project = projectFrom(yaml`
      rules:
        all:
          inputs: [out/a.txt]
        copy:
          inputs: src/{x}.txt
          outputs: out/{x}.txt
          run: |
            echo {x}

            cp {input} {output}
    `);
    const plan = planOf(project, ['all'], new FakeFileSystem().put('src/a.txt', 'x'), new MemoryState().log());
    assert.equal(
      chunks(plan, (p, w) => writePlanText(p, w, true)).join(''),
      'copy[x=a] out/a.txt: output missing: out/a.txt\n    echo a\n\n    cp src/a.txt out/a.txt\nall: always\n',
    );
  });
});
