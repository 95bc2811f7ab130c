// Property, for graphs that grow during the build (SPEC §7): random catalogs
// split into one file per line by a step whose output count is known only
// when it runs, a job per chunk (sometimes temporary), merges over a waiting
// glob, a report over a glob starting above the directory outputs, and random
// edits (lines added, removed, changed; outputs deleted or edited by hand;
// commands changed). After every build, each file a from-scratch build makes
// is there with the same content, and a second build runs nothing — under
// both check modes. This is what proves the shortcut the scheduler takes when
// it plans the jobs a glob adds (plan.ts: upstreamNow).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CheckMode } from '../../../src/plan/staleness.js';
import type { Project } from '../../../src/rulefile/model.js';
import { runPlan } from '../../../src/run/scheduler.js';
import { formatPlanText } from '../../../src/report/plan.js';
import { EventLog, MemoryState, planOf } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom } from '../../support/project.js';
import { rng } from '../../support/rng.js';
import { SplitExecutor } from '../../support/split.js';

const SAMPLES = ['a', 'b', 'c'];
const NAMES = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'];

function rulefile(version: number, tempMeasure: boolean): string {
  return `
rules:
  all:
    inputs:
      - expand: "merged/{s}.txt"
        s: [${SAMPLES.join(', ')}]
      - report.txt
  split:
    inputs: "cat/{s}.txt"
    outputs: "chunks/{s}/"
    run: SPLIT {input}
  measure:
    inputs: "chunks/{s}/{c}.txt"
    outputs: "measured/{s}/{c}.txt"
    run: measure v${version} {input}${tempMeasure ? '\n    temp: true' : ''}
  merge:
    inputs:
      - expand: "measured/{s}/{c}.txt"
        c: { glob: "chunks/{s}/{c}.txt" }
      - expand: "norm/{c}.txt"
        c: { glob: "chunks/{s}/{c}.txt" }
    outputs: "merged/{s}.txt"
    run: merge {inputs}
  norm:
    inputs: "ref/{c}.txt"
    outputs: "norm/{c}.txt"
    run: norm {input}
  report:
    inputs:
      dirs: { expand: "chunks/{s}/", s: [${SAMPLES.join(', ')}] }
      files: "chunks/*/*.txt"
    outputs: report.txt
    run: report {inputs.files}
`;
}

async function build(project: Project, fs: FakeFileSystem, state: MemoryState, check: CheckMode, jobs: number) {
  const log = state.log();
  const plan = planOf(project, ['all'], fs, log, { check });
  const executor = new SplitExecutor(fs);
  const result = await runPlan(plan, executor, new EventLog(), { jobs, keepGoing: false, resources: new Map() }, new AbortController().signal);
  log.close();
  return { result, ran: executor.ran };
}

function catalogLines(r: () => number): string {
  return NAMES.filter(() => r() < 0.5).join('\n') + '\n';
}

test('random catalogs and edits in a growing graph: every build equals a from-scratch build, and the next does nothing', async () => {
  let builds = 0;
  let grown = 0;
  for (const check of ['hash', 'mtime'] as const) {
    for (let seed = 1; seed <= 25; seed++) {
      const r = rng(7000 + seed + (check === 'mtime' ? 100 : 0));
      const pick = (n: number) => Math.floor(r() * n);
      let version = 1;
      const tempMeasure = r() < 0.5;
      const fs = new FakeFileSystem();
      for (const s of SAMPLES) fs.put(`cat/${s}.txt`, catalogLines(r));
      // Jobs a grown glob adds whose inputs no stale job makes: decided in full when they join.
      for (const n of NAMES) fs.put(`ref/${n}.txt`, `ref ${n}`);
      const state = new MemoryState();
      for (let step = 0; step < 8; step++) {
        const project = projectFrom(rulefile(version, tempMeasure));
        const b = await build(project, fs, state, check, 1 + pick(3));
        builds++;
        grown += b.ran.filter((l) => l.startsWith('measure')).length;
        assert.equal(b.result.ok, true, `seed ${seed} step ${step} (${check})`);
        // From scratch: the same sources in a fresh tree.
        const scratch = new FakeFileSystem();
        for (const s of SAMPLES) scratch.put(`cat/${s}.txt`, fs.read(`cat/${s}.txt`)!);
        for (const n of NAMES) scratch.put(`ref/${n}.txt`, fs.read(`ref/${n}.txt`)!);
        await build(project, scratch, new MemoryState(), check, 2);
        for (const path of scratch.paths()) {
          assert.equal(fs.read(path), scratch.read(path), `seed ${seed} step ${step} (${check}): ${path}`);
        }
        const why = formatPlanText(planOf(project, ['all'], fs, state.log(), { check }));
        const again = await build(project, fs, state, check, 2);
        assert.deepEqual(again.ran, [], `seed ${seed} step ${step} (${check}): a second build runs nothing:\n${why}`);
        // A random edit.
        const s = SAMPLES[pick(SAMPLES.length)]!;
        switch (pick(8)) {
          case 6:
            fs.put(`ref/${NAMES[pick(NAMES.length)]!}.txt`, `ref ${r()}`);
            fs.put(`cat/${s}.txt`, catalogLines(r));
            break;
          case 7: {
            const outs = fs.paths().filter((p) => p.startsWith('norm/'));
            if (outs.length > 0) fs.rm(outs[pick(outs.length)]!);
            fs.put(`cat/${s}.txt`, catalogLines(r));
            break;
          }
          case 0:
          case 1:
            fs.put(`cat/${s}.txt`, catalogLines(r));
            break;
          case 2:
            version++;
            break;
          case 3: {
            const outs = fs.paths().filter((p) => p.startsWith('measured/') || p.startsWith('merged/') || p.startsWith('norm/'));
            if (outs.length > 0) fs.rm(outs[pick(outs.length)]!);
            break;
          }
          case 4: {
            // Under --check mtime an output edited by hand is newer than its inputs: Make's rule keeps it (SPEC §2).
            if (check === 'mtime') break;
            const outs = fs.paths().filter((p) => p.startsWith('merged/') || p === 'report.txt');
            if (outs.length > 0) fs.put(outs[pick(outs.length)]!, 'edited by hand');
            break;
          }
          default:
            fs.touch(`cat/${s}.txt`);
        }
      }
    }
  }
  assert.ok(builds >= 400 && grown > 100, `${builds} builds, ${grown} jobs of grown globs run`);
});
