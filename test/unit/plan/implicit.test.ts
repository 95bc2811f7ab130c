// Files the command names (SPEC §6) on the fake file system: which words
// become inputs, how they are checked in both modes, and a file the job
// changes itself dropped for good.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import type { Plan } from '../../../src/plan/plan.js';
import { formatPlanJson } from '../../../src/report/plan.js';
import { reasonText } from '../../../src/report/reason.js';
import type { Project } from '../../../src/rulefile/model.js';
import type { Executor, JobSpec, RunningJob } from '../../../src/run/executor.js';
import { runPlan } from '../../../src/run/scheduler.js';
import { UserError } from '../../../src/util/errors.js';
import { buildOnce, EventLog, FakeExecutor, MemoryState, planOf } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

const PIPELINE = yaml`
  rules:
    fit:
      inputs: "data/{s}.csv"
      outputs: "fit/{s}.txt"
      run: python scripts/fit.py {input} --lut=tables/lut.csv --made made/x.txt .rules/log < cfg/a.yaml > {output}
    table:
      outputs: made/x.txt
      run: touch {output}
`;

function lines(p: Plan): string[] {
  return p.order.map((j) => `${j.label} ${j.name}: ${reasonText(p.reasons.get(j)!)}`);
}

function tree(): FakeFileSystem {
  return new FakeFileSystem().write('data/a.csv', 'data/b.csv', 'scripts/fit.py', 'tables/lut.csv', 'cfg/a.yaml', 'made/x.txt', '.rules/log');
}

describe('the files a command names', () => {
  test('are the inputs of every job of the rule, after the declared ones, never in inputs or the signature', () => {
    const fs = tree();
    const project = projectFrom(PIPELINE);
    const g = buildGraph(project, ['fit/a.txt', 'fit/b.txt'], fs);
    const [a, b] = g.jobs;
    assert.deepEqual(a!.implicitInputs, ['scripts/fit.py', 'tables/lut.csv', 'cfg/a.yaml']);
    assert.deepEqual(a!.inputs, ['data/a.csv']);
    // Decided once per rule: the jobs share the list.
    assert.equal(a!.implicitInputs, b!.implicitInputs);
    const json = JSON.parse(formatPlanJson(planOf(project, ['fit/a.txt'], fs, new MemoryState().log()))) as { jobs: { inputs: string[] }[] };
    assert.deepEqual(json.jobs[0]!.inputs, ['data/a.csv', 'scripts/fit.py', 'tables/lut.csv', 'cfg/a.yaml']);
  });

  test('a file the rule declares is not implicit too; a missing one is none', () => {
    const fs = new FakeFileSystem().write('data/a.csv', 'scripts/fit.py');
    const g = buildGraph(projectFrom(yaml`
      rules:
        fit:
          inputs: ["data/{s}.csv", scripts/fit.py]
          outputs: "fit/{s}.txt"
          run: python scripts/fit.py {input} tables/none.csv > {output}
    `), ['fit/a.txt'], fs);
    assert.deepEqual(g.jobs[0]!.implicitInputs, []);
  });

  test('implicit_inputs: false on the rule or at the top level turns it off', () => {
    const fs = tree();
    const off = (rulefile: string) => buildGraph(projectFrom(rulefile), ['fit/a.txt'], fs).jobs[0]!.implicitInputs;
    assert.deepEqual(off(PIPELINE.replace('  fit:\n', '  fit:\n    implicit_inputs: false\n')), []);
    assert.deepEqual(off(`implicit_inputs: false\n${PIPELINE}`), []);
    assert.deepEqual(off(`implicit_inputs: false\n${PIPELINE.replace('  fit:\n', '  fit:\n    implicit_inputs: true\n')}`).length, 3);
  });

  test('an edit is `input changed` in both check modes; a touch only under --check mtime', async () => {
    const fs = tree();
    const project = projectFrom(PIPELINE);
    const state = new MemoryState();
    assert.equal((await buildOnce(project, ['fit/a.txt', 'fit/b.txt'], fs, state)).result.ok, true);
    assert.deepEqual(lines(planOf(project, ['fit/a.txt', 'fit/b.txt'], fs, state.log())), []);
    fs.touch('tables/lut.csv');
    assert.deepEqual(lines(planOf(project, ['fit/a.txt'], fs, state.log())), []);
    assert.deepEqual(lines(planOf(project, ['fit/a.txt'], fs, state.log(), { check: 'mtime' })), ['fit[s=a] fit/a.txt: input changed: tables/lut.csv']);
    fs.put('scripts/fit.py', 'print(2)');
    const expected = ['fit[s=a] fit/a.txt: input changed: scripts/fit.py', 'fit[s=b] fit/b.txt: input changed: scripts/fit.py'];
    assert.deepEqual(lines(planOf(project, ['fit/a.txt', 'fit/b.txt'], fs, state.log())), expected);
    assert.deepEqual(lines(planOf(project, ['fit/a.txt', 'fit/b.txt'], fs, state.log(), { check: 'mtime' })), expected);
  });

  test('declared inputs are checked first', async () => {
    const fs = tree();
    const project = projectFrom(PIPELINE);
    const state = new MemoryState();
    await buildOnce(project, ['fit/a.txt'], fs, state);
    fs.put('scripts/fit.py', 'print(2)').put('data/a.csv', 'new');
    assert.deepEqual(lines(planOf(project, ['fit/a.txt'], fs, state.log())), ['fit[s=a] fit/a.txt: input changed: data/a.csv']);
  });

  test('turning the feature on is no signature change: an unknown implicit input is adopted, or a change by Make\'s rule', async () => {
    const fs = tree();
    const off = projectFrom(`implicit_inputs: false\n${PIPELINE}`);
    const on = projectFrom(PIPELINE);
    const state = new MemoryState();
    await buildOnce(off, ['fit/a.txt'], fs, state);
    // Older than the output: adopted, and recorded by the next build.
    assert.deepEqual(lines(planOf(on, ['fit/a.txt'], fs, state.log())), []);
    await buildOnce(on, ['fit/a.txt'], fs, state);
    fs.put('scripts/fit.py', 'print(3)');
    assert.deepEqual(lines(planOf(on, ['fit/a.txt'], fs, state.log())), ['fit[s=a] fit/a.txt: input changed: scripts/fit.py']);
    // Newer than the output and unknown to the record: Make's rule.
    const state2 = new MemoryState();
    const fs2 = tree();
    await buildOnce(off, ['fit/a.txt'], fs2, state2);
    fs2.put('tables/lut.csv', 'new');
    assert.deepEqual(lines(planOf(on, ['fit/a.txt'], fs2, state2.log())), ['fit[s=a] fit/a.txt: input changed: tables/lut.csv']);
    assert.deepEqual(lines(planOf(off, ['fit/a.txt'], fs2, state2.log())), []);
  });

  test('a file the job changes while it runs is dropped from its inputs for good', async () => {
    const fs = new FakeFileSystem().write('data/a.csv', 'notes.txt');
    const project: Project = projectFrom(yaml`
      rules:
        step:
          inputs: data/a.csv
          outputs: out.txt
          run: cp {input} {output}; echo done | tee -a notes.txt
    `);
    const state = new MemoryState();
    const appending: Executor = {
      start(spec: JobSpec): RunningJob {
        fs.put('notes.txt', `${fs.read('notes.txt')}done\n`);
        return new FakeExecutor(fs).start(spec);
      },
    };
    const run = async () => {
      const log = state.log();
      const plan = planOf(project, ['out.txt'], fs, log);
      const result = await runPlan(plan, appending, new EventLog(), { jobs: 1, keepGoing: false, resources: new Map() }, new AbortController().signal);
      log.close();
      return { plan, result };
    };
    const first = await run();
    assert.equal(first.result.ran, 1);
    assert.deepEqual(first.plan.graph.jobs[0]!.implicitInputs, [], 'dropped as soon as the job changed it');
    assert.deepEqual(state.log().records.get('out.txt')!.dropped, ['notes.txt']);
    assert.equal(state.log().records.get('out.txt')!.inputs.has('notes.txt'), false);
    assert.deepEqual(lines(planOf(project, ['out.txt'], fs, state.log())), []);
    // Carried forward by later records.
    fs.put('data/a.csv', 'changed');
    assert.equal((await run()).result.ran, 1);
    assert.deepEqual(state.log().records.get('out.txt')!.dropped, ['notes.txt']);
    fs.put('notes.txt', 'edited by hand');
    assert.deepEqual(lines(planOf(project, ['out.txt'], fs, state.log())), []);
  });
});

describe('script:', () => {
  const rulefile = (script: string) => yaml`
    rules:
      s:
        inputs: data/a.csv
        outputs: out.txt
        script: ${script}
  `;

  test('the script is an implicit input, run with the interpreter of its extension', () => {
    for (const [ext, program] of [['py', 'python3'], ['R', 'Rscript'], ['jl', 'julia'], ['sh', 'bash'], ['js', 'node'], ['mjs', 'node']]) {
      const fs = new FakeFileSystem().write('data/a.csv', `scripts/x.${ext}`);
      const job = buildGraph(projectFrom(rulefile(`scripts/x.${ext}`)), ['out.txt'], fs).jobs[0]!;
      assert.deepEqual(job.implicitInputs, [`scripts/x.${ext}`]);
      assert.deepEqual(job.inputs, ['data/a.csv']);
      assert.deepEqual(job.script, { path: `scripts/x.${ext}`, interpreter: [program] });
    }
  });

  test("else with its '#!' line; none is an error naming the job and the script", () => {
    const fs = new FakeFileSystem().write('data/a.csv').put('scripts/x', '#!/usr/bin/env python3 -u\nprint(1)\n').put('scripts/y', 'print(1)\n');
    const job = buildGraph(projectFrom(rulefile('scripts/x')), ['out.txt'], fs).jobs[0]!;
    assert.deepEqual(job.script?.interpreter, ['/usr/bin/env', 'python3', '-u']);
    assert.throws(
      () => buildGraph(projectFrom(rulefile('scripts/y')), ['out.txt'], fs),
      (e: unknown) => e instanceof UserError && /rule 's' \(s\): cannot tell how to run script 'scripts\/y'/.test(e.message) && /Rulefile:5:/.test(e.message),
    );
  });

  test('a missing script is a missing source; one a rule makes orders the job', () => {
    const fs = new FakeFileSystem().write('data/a.csv');
    assert.throws(() => buildGraph(projectFrom(rulefile('scripts/none.py')), ['out.txt'], fs), /no rule to make 'scripts\/none.py' \(needed by 'out.txt'\)/);
    const g = buildGraph(projectFrom(`${rulefile('gen/x.py')}  gen:\n    outputs: gen/x.py\n    run: touch {output}\n`), ['out.txt'], fs);
    const s = g.jobs.find((j) => j.rule.name === 's')!;
    assert.deepEqual(s.deps.map((d) => d.rule.name), ['gen']);
    assert.deepEqual(s.implicitInputs, ['gen/x.py']);
  });
});
