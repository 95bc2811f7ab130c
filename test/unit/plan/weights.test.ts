// The weighted critical path (SPEC §9): ready jobs ordered by the longest
// remaining path, each job weighing its last run's wall time (unknown: its
// rule's median, else the least weight). Times are chosen by writing them
// into the jobs' records after a first build.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import type { Job } from '../../../src/graph/model.js';
import { makePlan, MIN_WEIGHT_MS, weightOf, type Plan } from '../../../src/plan/plan.js';
import type { Project } from '../../../src/rulefile/model.js';
import { runPlan } from '../../../src/run/scheduler.js';
import { FileOracle } from '../../../src/state/files.js';
import { buildOnce, EventLog, FakeExecutor, MemoryState, planOf } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { startGated } from '../../support/gated.js';
import { SplitExecutor } from '../../support/split.js';
import { projectFrom, yaml } from '../../support/project.js';
import { rng } from '../../support/rng.js';

/** Gives each named job's record one run of the given wall time (ms); a name with no time loses its record's runs. */
function setTimes(state: MemoryState, times: Record<string, number | undefined>): void {
  const log = state.log();
  for (const [key, ms] of Object.entries(times)) {
    const rec = log.records.get(key);
    assert.ok(rec, `a record of ${key}`);
    const { runs: _runs, ...rest } = rec;
    log.done(ms === undefined ? rest : { ...rest, runs: [{ wallMs: ms, at: 1_700_000_000_000 }] });
  }
  log.close();
}

/** Builds once (recording every job), then sets the times. */
async function built(project: Project, fs: FakeFileSystem, times: Record<string, number | undefined>): Promise<MemoryState> {
  const state = new MemoryState();
  await buildOnce(project, ['all'], fs, state);
  setTimes(state, times);
  return state;
}

const names = (plan: Plan) => plan.order.map((j) => j.name);

// A long job at the head of a short chain, and a long chain of quick steps.
const longAndChain = yaml`
  rules:
    all:
      inputs: [long.txt, c3.txt]
    long:
      inputs: src.txt
      outputs: long.txt
      run: long
    c3:
      inputs: c2.txt
      outputs: c3.txt
      run: c3
    c2:
      inputs: c1.txt
      outputs: c2.txt
      run: c2
    c1:
      inputs: src.txt
      outputs: c1.txt
      run: c1
`;

describe('the weighted critical path', () => {
  test('a job with a long recorded time starts before a short one with a longer chain; without times, the chain first', async () => {
    const project = projectFrom(longAndChain);
    const fs = new FakeFileSystem().write('src.txt');
    assert.deepEqual(names(planOf(project, ['all'], fs, new MemoryState().log(), { force: true })), ['c1.txt', 'c2.txt', 'long.txt', 'c3.txt', 'all']);
    const state = await built(project, fs, { 'long.txt': 5000, 'c1.txt': 200, 'c2.txt': 200, 'c3.txt': 200 });
    const plan = planOf(project, ['all'], fs, state.log(), { force: true });
    assert.deepEqual(names(plan), ['long.txt', 'c1.txt', 'c2.txt', 'c3.txt', 'all']);
    // The phony `all` runs no command: the least weight. The paths are in ms.
    const byName = (n: string) => plan.graph.jobs.find((j) => j.name === n)!;
    assert.equal(plan.priority[byName('long.txt').id], weightOf(5000) + MIN_WEIGHT_MS);
    assert.equal(plan.priority[byName('c1.txt').id], 3 * weightOf(200) + MIN_WEIGHT_MS);
    // One slot: the long job starts first, though its chain is shorter.
    fs.put('src.txt', 'edited');
    const b = startGated(project, ['all'], fs, state, { jobs: 1 });
    await b.gate.until('a job runs', () => b.gate.runningNow().length === 1);
    assert.deepEqual(b.gate.runningNow(), ['long.txt']);
    for (const name of ['long.txt', 'c1.txt', 'c2.txt', 'c3.txt']) {
      await b.gate.whenRunning(name);
      b.gate.finish(name);
    }
    assert.ok((await b.done).ok);
  });

  test('the scale of weights: powers of two from 0.34 s, each weighing its middle; below, the least weight', () => {
    const step = (k: number) => 340 * 2 ** k * Math.SQRT2;
    assert.deepEqual([0, 1, 339, 340, 500, 679, 680, 1000, 1359, 1360, 2000, 3000, 5000, 10_000].map(weightOf), [120, 120, 120, step(0), step(0), step(0), step(1), step(1), step(1), step(2), step(2), step(3), step(3), step(4)]);
    assert.equal(MIN_WEIGHT_MS, 120);
  });

  test('times under the least weight count as it: quick jobs keep the unweighted order', async () => {
    const project = projectFrom(longAndChain);
    const fs = new FakeFileSystem().write('src.txt');
    const state = await built(project, fs, { 'long.txt': 30, 'c1.txt': 2, 'c2.txt': 7, 'c3.txt': 0 });
    assert.deepEqual(names(planOf(project, ['all'], fs, state.log(), { force: true })), ['c1.txt', 'c2.txt', 'long.txt', 'c3.txt', 'all']);
  });

  const samples = yaml`
    rules:
      all:
        inputs: [{ expand: "s/{n}.txt", n: [1, 2, 3] }, chain.txt]
      chain:
        inputs: mid.txt
        outputs: chain.txt
        run: chain
      mid:
        inputs: src.txt
        outputs: mid.txt
        run: mid
      slow:
        inputs: src.txt
        outputs: "s/{n}.txt"
        run: slow {n}
  `;

  test("a job of unknown time takes the median of its rule's known times", async () => {
    const project = projectFrom(samples);
    const fs = new FakeFileSystem().write('src.txt');
    const state = await built(project, fs, { 's/1.txt': 2000, 's/2.txt': 8000, 's/3.txt': undefined, 'mid.txt': 500, 'chain.txt': 500 });
    const plan = planOf(project, ['all'], fs, state.log(), { force: true });
    const s3 = plan.graph.jobs.find((j) => j.name === 's/3.txt')!;
    assert.equal(plan.expectedMs?.[s3.id], 5000);
    // s/3 (5000, unknown) before s/1 (2000) and the chain's head (500 + 500), which an unweighted plan runs first.
    assert.deepEqual(names(plan), ['s/2.txt', 's/3.txt', 's/1.txt', 'mid.txt', 'chain.txt', 'all']);
  });

  test("a rule with no known time among the jobs to run: the median of the history of builds, else the least weight", async () => {
    const project = projectFrom(samples);
    const fs = new FakeFileSystem().write('src.txt');
    const state = await built(project, fs, { 's/1.txt': undefined, 's/2.txt': undefined, 's/3.txt': undefined, 'mid.txt': 1000, 'chain.txt': 1000 });
    const plan = (ruleTimes?: Map<string, number>) => {
      const log = state.log();
      const graph = buildGraph(project, ['all'], fs);
      return makePlan({ project, graph, files: new FileOracle(fs, log, true), log, options: { force: true, check: 'hash' }, ...(ruleTimes ? { ruleTimes: () => ruleTimes } : {}) });
    };
    assert.deepEqual(names(plan(new Map([['slow', 5000]]))), ['s/1.txt', 's/2.txt', 's/3.txt', 'mid.txt', 'chain.txt', 'all']);
    assert.deepEqual(names(plan()), ['mid.txt', 'chain.txt', 's/1.txt', 's/2.txt', 's/3.txt', 'all']);
  });

  test('equal weights fall back to rule order, then discovery order; times within one step of the scale weigh the same', async () => {
    const project = projectFrom(yaml`
      rules:
        all:
          inputs: [a.txt, b1.txt, b2.txt]
        b:
          inputs: src.txt
          outputs: "b{n}.txt"
          run: b {n}
        a:
          inputs: src.txt
          outputs: a.txt
          run: a
    `);
    const fs = new FakeFileSystem().write('src.txt');
    const state = await built(project, fs, { 'a.txt': 700, 'b1.txt': 700, 'b2.txt': 700 });
    assert.deepEqual(names(planOf(project, ['all'], fs, state.log(), { force: true })), ['b1.txt', 'b2.txt', 'a.txt', 'all']);
    // Run to run noise: 700 and 1300 ms are one weight.
    setTimes(state, { 'a.txt': 1300 });
    assert.deepEqual(names(planOf(project, ['all'], fs, state.log(), { force: true })), ['b1.txt', 'b2.txt', 'a.txt', 'all']);
    setTimes(state, { 'a.txt': 1400 });
    assert.deepEqual(names(planOf(project, ['all'], fs, state.log(), { force: true })), ['a.txt', 'b1.txt', 'b2.txt', 'all']);
  });

  test('random graphs and times: the weighted order never puts a job before a dep, and a one-slot build runs exactly plan.order', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const next = rng(seed);
      const int = (k: number) => Math.floor(next() * k);
      const n = 3 + int(15);
      const rules: string[] = [];
      for (let i = 0; i < n; i++) {
        const inputs = ['src.txt'];
        for (let j = 0; j < i; j++) if (int(4) === 0) inputs.push(`f${j}.txt`);
        rules.push(`  r${i}:\n    inputs: [${inputs.join(', ')}]\n    outputs: f${i}.txt\n    run: r${i}\n`);
      }
      const all = `  all:\n    inputs: [${Array.from({ length: n }, (_, i) => `f${i}.txt`).join(', ')}]\n`;
      const project = projectFrom(`rules:\n${all}${rules.join('')}`);
      const fs = new FakeFileSystem().write('src.txt');
      const times: Record<string, number | undefined> = {};
      // Some jobs without a time (their rule has no other job: the least weight), some with equal times.
      for (let i = 0; i < n; i++) times[`f${i}.txt`] = int(5) === 0 ? undefined : [10, 60, 500, 500, 3000][int(5)]!;
      const state = await built(project, fs, times);
      const log = state.log();
      const plan = planOf(project, ['all'], fs, log, { force: true });
      const at = new Map<Job, number>(plan.order.map((j, i) => [j, i]));
      for (const job of plan.order) for (const d of job.deps) assert.ok(at.get(d)! < at.get(job)!, `seed ${seed}: ${d.name} before ${job.name}`);
      const executor = new FakeExecutor(fs);
      const result = await runPlan(plan, executor, new EventLog(), { jobs: 1, keepGoing: false, resources: new Map() }, new AbortController().signal);
      log.close();
      assert.ok(result.ok);
      assert.deepEqual(executor.ran, plan.order.filter((j) => j.rule.run !== undefined).map((j) => j.name), `seed ${seed}`);
    }
  });

  test('jobs a glob adds during the build are weighed too: the longest measured first', async () => {
    const project = projectFrom(yaml`
      rules:
        merge:
          inputs:
            - expand: "measured/{c}.txt"
              c: { glob: "chunks/{c}.txt" }
          outputs: merged.txt
          run: merge {inputs}
        split:
          inputs: cat.txt
          outputs: "chunks/"
          run: SPLIT {input}
        measure:
          inputs: "chunks/{c}.txt"
          outputs: "measured/{c}.txt"
          run: measure {input}
    `);
    const fs = new FakeFileSystem().put('cat.txt', 'x1\nx2\nx3\n');
    const run = async (state: MemoryState, force: boolean) => {
      const log = state.log();
      const plan = planOf(project, ['merged.txt'], fs, log, { force });
      const executor = new SplitExecutor(fs);
      const result = await runPlan(plan, executor, new EventLog(), { jobs: 1, keepGoing: false, resources: new Map() }, new AbortController().signal);
      log.close();
      assert.ok(result.ok);
      return executor.ran.filter((l) => l.startsWith('measure'));
    };
    const state = new MemoryState();
    assert.deepEqual(await run(state, false), ['measure[c=x1]', 'measure[c=x2]', 'measure[c=x3]']);
    setTimes(state, { 'measured/x1.txt': 100, 'measured/x2.txt': 900, 'measured/x3.txt': 5000 });
    assert.deepEqual(await run(state, true), ['measure[c=x3]', 'measure[c=x2]', 'measure[c=x1]']);
  });

  test('job-start events carry the expected time and the path to the end; build-start the work in all', async () => {
    const project = projectFrom(longAndChain);
    const fs = new FakeFileSystem().write('src.txt');
    const state = await built(project, fs, { 'long.txt': 5000, 'c1.txt': 200, 'c2.txt': 200, 'c3.txt': 200 });
    const b = await buildOnce(project, ['all'], fs, state, { force: true });
    const start = b.events.events.find((e) => e.type === 'build-start');
    assert.equal(start?.type === 'build-start' ? start.expectedMs : undefined, 5600);
    const long = b.events.events.find((e) => e.type === 'job-start' && e.job.name === 'long.txt');
    assert.deepEqual(long?.type === 'job-start' ? [long.expectedMs, long.pathMs] : [], [5000, weightOf(5000) + MIN_WEIGHT_MS]);
    // Without any time known: no estimate on the events.
    const first = await buildOnce(project, ['all'], new FakeFileSystem().write('src.txt'), new MemoryState());
    const none = first.events.events.find((e) => e.type === 'build-start');
    assert.equal(none?.type === 'build-start' ? none.expectedMs : 0, undefined);
  });
});
