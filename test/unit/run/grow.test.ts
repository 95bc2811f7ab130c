// The graph that grows during a build (SPEC §7): globs over another job's
// directory output wait for it, then the jobs they need are planned and run
// in the same build. In memory: fake file system, fake executor, no sleeps.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import type { Project } from '../../../src/rulefile/model.js';
import type { BuildEvent } from '../../../src/run/events.js';
import type { Executor } from '../../../src/run/executor.js';
import { runPlan } from '../../../src/run/scheduler.js';
import { formatPlanJson, formatPlanText } from '../../../src/report/plan.js';
import { formatGraph } from '../../../src/report/graph.js';
import { EventLog, MemoryState, planOf } from '../../support/build.js';
import { SplitExecutor } from '../../support/split.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

async function build(project: Project, targets: string[], fs: FakeFileSystem, state: MemoryState, opts: { keepGoing?: boolean; check?: 'hash' | 'mtime'; jobs?: number } = {}) {
  const log = state.log();
  const plan = planOf(project, targets, fs, log, { check: opts.check ?? 'hash' });
  const executor = new SplitExecutor(fs);
  const events = new EventLog();
  const result = await runPlan(plan, executor, events, { jobs: opts.jobs ?? 2, keepGoing: opts.keepGoing ?? false, resources: new Map() }, new AbortController().signal);
  log.close();
  return { plan, result, ran: executor.ran, events: events.events };
}

function grows(events: BuildEvent[]) {
  return events.flatMap((e) => (e.type === 'graph-grow' ? [{ job: e.job.label, added: e.added, total: e.total, matches: e.globs.map((g) => g.matches) }] : []));
}

const pipeline = yaml`
  rules:
    all:
      inputs:
        - expand: "merged/{s}.txt"
          s: [a, b]
    split:
      inputs: "cat/{s}.txt"
      outputs: "chunks/{s}/"
      run: SPLIT {input}
    measure:
      inputs: "chunks/{s}/{c}.txt"
      outputs: "measured/{s}/{c}.txt"
      run: measure {input}
    merge:
      inputs:
        - expand: "measured/{s}/{c}.txt"
          c: { glob: "chunks/{s}/{c}.txt" }
      outputs: "merged/{s}.txt"
      run: merge {inputs}
`;

function catalog(): FakeFileSystem {
  return new FakeFileSystem().put('cat/a.txt', 'x1\nx2\nx3\n').put('cat/b.txt', 'y1\n');
}

describe('a graph that grows during the build', () => {
  test('a dry run lists what is known: the waiting job as upstream of its directory, not the jobs its glob will yield', () => {
    const project = projectFrom(pipeline);
    const plan = planOf(project, ['all'], catalog(), new MemoryState().log());
    assert.equal(
      formatPlanText(plan),
      [
        'split[s=a] chunks/a: output missing: chunks/a',
        'split[s=b] chunks/b: output missing: chunks/b',
        'merge[s=a] merged/a.txt: upstream will run: chunks/a/',
        'merge[s=b] merged/b.txt: upstream will run: chunks/b/',
        'all: always',
        '',
      ].join('\n'),
    );
    assert.deepEqual(JSON.parse(formatPlanJson(plan)).pending, [
      { glob: 'chunks/a/*.txt', after: 'split[s=a]' },
      { glob: 'chunks/b/*.txt', after: 'split[s=b]' },
    ]);
    assert.ok(!plan.graph.jobs.some((j) => j.rule.name === 'measure'), 'no job of the glob is known yet');
    const dot = formatGraph(plan, 'dot');
    assert.match(dot, /p0 \[label="chunks\/a\/\*\.txt\n\(known once split\[s=a\] has run\)", shape=folder, style=dashed\]/);
    assert.doesNotMatch(dot, /j\d+ -> j\d+;\n.*split/, 'the waiting job is joined to its producer through the dashed node');
  });

  test('one build brings everything up to date; the next has nothing to do', async () => {
    const project = projectFrom(pipeline);
    const fs = catalog();
    const state = new MemoryState();
    const first = await build(project, ['all'], fs, state);
    assert.equal(first.result.ok, true);
    assert.deepEqual(first.ran.filter((l) => l.startsWith('measure')).sort(), ['measure[s=a,c=x1]', 'measure[s=a,c=x2]', 'measure[s=a,c=x3]', 'measure[s=b,c=y1]']);
    assert.equal(first.result.ran, 8, '2 splits, 4 measures, 2 merges');
    assert.deepEqual(
      grows(first.events).map((g) => [g.job, g.added, g.matches]).sort(),
      [
        ['merge[s=a]', 3, [3]],
        ['merge[s=b]', 1, [1]],
      ],
    );
    assert.equal(Math.max(...grows(first.events).map((g) => g.total)), 8, 'the total grew to every job run');
    // The merge saw every chunk's measurement, in code-point order.
    assert.match(fs.read('merged/a.txt')!, /^merge measured\/a\/x1\.txt measured\/a\/x2\.txt measured\/a\/x3\.txt\n/);
    const second = await build(project, ['all'], fs, state);
    assert.deepEqual(second.ran, []);
    assert.equal(second.plan.order.length, 0);
    // Up to date: the glob was matched at plan time, so the dry run knows every job.
    assert.ok(second.plan.graph.jobs.some((j) => j.label === 'measure[s=a,c=x2]'));
  });

  test('an edit of the catalog reruns the split, the new chunk, and the merge; the other chunks are up to date after all', async () => {
    for (const check of ['hash', 'mtime'] as const) {
      const project = projectFrom(pipeline);
      const fs = catalog();
      const state = new MemoryState();
      await build(project, ['all'], fs, state, { check });
      fs.put('cat/a.txt', 'x1\nx4\n');
      const b = await build(project, ['all'], fs, state, { check });
      assert.equal(b.result.ok, true, check);
      const ranMeasures = b.ran.filter((l) => l.startsWith('measure'));
      // Under --check mtime there is no early cutoff: every chunk rewritten is measured again.
      assert.deepEqual(ranMeasures.sort(), check === 'hash' ? ['measure[s=a,c=x4]'] : ['measure[s=a,c=x1]', 'measure[s=a,c=x4]'], check);
      assert.ok(b.ran.includes('merge[s=a]') && !b.ran.includes('merge[s=b]'), check);
      assert.match(fs.read('merged/a.txt')!, /^merge measured\/a\/x1\.txt measured\/a\/x4\.txt\n/, check);
      const c = await build(project, ['all'], fs, state, { check });
      assert.deepEqual(c.ran, [], check);
    }
  });

  test('several levels deep: chunks of chunks', async () => {
    const project = projectFrom(yaml`
      rules:
        top:
          inputs:
            - expand: "sub/{c}/summary.txt"
              c: { glob: "chunks/{c}.txt" }
          outputs: top.txt
          run: top {inputs}
        split:
          inputs: cat.txt
          outputs: "chunks/"
          run: SPLIT {input}
        split2:
          inputs: "chunks/{c}.txt"
          outputs: "parts/{c}/"
          run: SPLIT {input}
        summary:
          inputs:
            - expand: "done/{c}/{p}.txt"
              p: { glob: "parts/{c}/{p}.txt" }
          outputs: "sub/{c}/summary.txt"
          run: summary {inputs}
        work:
          inputs: "parts/{c}/{p}.txt"
          outputs: "done/{c}/{p}.txt"
          run: work {input}
    `);
    const fs = new FakeFileSystem().put('cat.txt', 'k1\nk2\n');
    const state = new MemoryState();
    const first = await build(project, ['top.txt'], fs, state);
    assert.equal(first.result.ok, true);
    // Each chunk file holds its own name: split2 makes one part of the same name.
    assert.deepEqual(first.ran.filter((l) => l.startsWith('work')).sort(), ['work[c=k1,p=k1]', 'work[c=k2,p=k2]']);
    assert.equal(first.result.ran, 1 + 2 + 2 + 2 + 1);
    assert.match(fs.read('top.txt')!, /^top sub\/k1\/summary\.txt sub\/k2\/summary\.txt\n/);
    const second = await build(project, ['top.txt'], fs, state);
    assert.deepEqual(second.ran, []);
  });

  test('a plain glob in inputs waits as an expand glob does', async () => {
    const project = projectFrom(yaml`
      rules:
        split:
          inputs: cat.txt
          outputs: "chunks/"
          run: SPLIT {input}
        merge:
          inputs: "chunks/*.txt"
          outputs: merged.txt
          run: merge {inputs}
    `);
    const fs = new FakeFileSystem().put('cat.txt', 'q\np\n');
    const state = new MemoryState();
    const plan = planOf(project, ['merged.txt'], fs, state.log());
    assert.equal(formatPlanText(plan), 'split chunks: output missing: chunks\nmerge merged.txt: upstream will run: chunks/\n');
    const b = await build(project, ['merged.txt'], fs, state);
    assert.equal(b.result.ok, true);
    assert.equal(fs.read('merged.txt'), 'merge chunks/p.txt chunks/q.txt\npq');
  });

  test('a producer that writes no matching file: zero jobs, the merge runs with no inputs, and the event says it matched nothing', async () => {
    const project = projectFrom(pipeline);
    const fs = new FakeFileSystem().put('cat/a.txt', '').put('cat/b.txt', 'y1\n');
    const state = new MemoryState();
    const b = await build(project, ['all'], fs, state);
    assert.equal(b.result.ok, true);
    const a = grows(b.events).find((g) => g.job === 'merge[s=a]')!;
    assert.deepEqual([a.added, a.matches], [0, [0]]);
    assert.equal(fs.read('merged/a.txt'), 'merge \n');
  });

  test('a producer that fails: its waiting job never runs, and is named with why; -k builds the other branch', async () => {
    const project = projectFrom(pipeline);
    for (const keepGoing of [false, true]) {
      const fs = catalog();
      const state = new MemoryState();
      const log = state.log();
      const plan = planOf(project, ['all'], fs, log);
      const executor = new SplitExecutor(fs);
      const events = new EventLog();
      const failingExecutor: Executor = { start: (spec) => executor.start(spec.job.label === 'split[s=a]' ? { ...spec, command: `${spec.command} FAIL` } : spec) };
      const result = await runPlan(plan, failingExecutor, events, { jobs: 1, keepGoing, resources: new Map() }, new AbortController().signal);
      log.close();
      assert.equal(result.ok, false);
      assert.ok(!executor.ran.includes('merge[s=a]'));
      const abandoned = events.events.flatMap((e) => (e.type === 'glob-abandoned' ? [`${e.job.label} ${e.pattern} ${e.producer.label}`] : []));
      assert.deepEqual(abandoned, ['merge[s=a] chunks/a/*.txt split[s=a]'], `keepGoing=${keepGoing}`);
      if (keepGoing) assert.ok(executor.ran.includes('merge[s=b]') && fs.read('merged/b.txt') !== undefined, 'the other branch is built');
      assert.equal(fs.read('merged/a.txt'), undefined);
    }
  });

  test('a cycle that appears only once the graph grows: a graph problem, the job is not run, nothing of it is left', async () => {
    const project = projectFrom(yaml`
      rules:
        split:
          inputs: cat.txt
          outputs: "chunks/"
          run: SPLIT {input}
        merge:
          inputs:
            - expand: "m/{c}.txt"
              c: { glob: "chunks/{c}.txt" }
          outputs: merged.txt
          run: merge {inputs}
        m:
          inputs: ["chunks/{c}.txt", final.txt]
          outputs: "m/{c}.txt"
          run: m {inputs}
        final:
          inputs: merged.txt
          outputs: final.txt
          run: final {input}
    `);
    const fs = new FakeFileSystem().put('cat.txt', 'z\n');
    const state = new MemoryState();
    const b = await build(project, ['final.txt'], fs, state);
    assert.equal(b.result.ok, false);
    assert.equal(b.result.graphProblems?.length, 1);
    assert.match(b.result.graphProblems![0]!.message, /^dependency cycle .*: (merged\.txt -> m\/z\.txt -> final\.txt -> merged\.txt|m\/z\.txt -> final\.txt -> merged\.txt -> m\/z\.txt|final\.txt -> merged\.txt -> m\/z\.txt -> final\.txt)$/);
    assert.deepEqual(b.ran, ['split']);
    assert.equal(fs.read('merged.txt'), undefined);
    assert.equal(fs.read('final.txt'), undefined);
  });

  test('a missing source needed by a job the graph grew is a graph problem with its name', async () => {
    const project = projectFrom(yaml`
      rules:
        split:
          inputs: cat.txt
          outputs: "chunks/"
          run: SPLIT {input}
        merge:
          inputs:
            - expand: "m/{c}.txt"
              c: { glob: "chunks/{c}.txt" }
          outputs: merged.txt
          run: merge {inputs}
        m:
          inputs: ["chunks/{c}.txt", "ref/{c}.fa"]
          outputs: "m/{c}.txt"
          run: m {inputs}
    `);
    const fs = new FakeFileSystem().put('cat.txt', 'z\n');
    const b = await build(project, ['merged.txt'], fs, new MemoryState());
    assert.equal(b.result.ok, false);
    assert.deepEqual(b.result.graphProblems?.map((d) => d.message), ["no rule to make 'ref/z.fa' (needed by 'm/z.txt')"]);
  });

  test("a depfile of a job the graph grew that is another file of the build is a graph problem, as it is for any job", async () => {
    const project = projectFrom(yaml`
      rules:
        split:
          inputs: cat.txt
          outputs: "chunks/"
          run: SPLIT {input}
        merge:
          inputs:
            - expand: "m/{c}.txt"
              c: { glob: "chunks/{c}.txt" }
          outputs: merged.txt
          run: merge {inputs}
        m:
          inputs: "chunks/{c}.txt"
          outputs: "m/{c}.txt"
          depfile: merged.txt
          run: m {inputs}
    `);
    const b = await build(project, ['merged.txt'], new FakeFileSystem().put('cat.txt', 'z\n'), new MemoryState());
    assert.equal(b.result.ok, false);
    assert.match(b.result.graphProblems?.[0]?.message ?? '', /^depfile 'merged\.txt' of rule 'm' is 'merged\.txt' for m\[c=z\], which is an output of rule 'merge'/);
  });

  test('the same outputs at -j1 and -j4, and the same as when the directory was made by an earlier build', async () => {
    const outputs: string[] = [];
    for (const jobs of [1, 4]) {
      const project = projectFrom(pipeline);
      const fs = catalog();
      await build(project, ['all'], fs, new MemoryState(), { jobs });
      outputs.push(['merged/a.txt', 'merged/b.txt', 'measured/a/x2.txt'].map((p) => fs.read(p)).join('|'));
    }
    assert.equal(outputs[0], outputs[1]);
    // Built in two steps: the splits first, then everything with the globs matched at plan time.
    const project = projectFrom(pipeline);
    const fs = catalog();
    const state = new MemoryState();
    await build(project, ['chunks/a', 'chunks/b'], fs, state);
    const plan = planOf(project, ['all'], fs, state.log());
    assert.equal(plan.graph.jobs.filter((j) => j.rule.name === 'measure').length, 4, 'up-to-date producers: matched when planning');
    await build(project, ['all'], fs, state);
    assert.equal(['merged/a.txt', 'merged/b.txt', 'measured/a/x2.txt'].map((p) => fs.read(p)).join('|'), outputs[0]);
  });

  test('temporary outputs in a growing graph: the jobs it adds count as needing them; a directory a glob waits for is kept, with a warning', async () => {
    const project = projectFrom(
      pipeline
        .replace('outputs: "chunks/{s}/"\n', 'outputs: "chunks/{s}/"\n    temp: true\n')
        .replace('outputs: "measured/{s}/{c}.txt"\n', 'outputs: "measured/{s}/{c}.txt"\n    temp: true\n'),
    );
    const fs = catalog();
    const state = new MemoryState();
    const first = await build(project, ['all'], fs, state);
    assert.equal(first.result.ok, true);
    // The measurements were read by the merges that grew to need them, then deleted.
    assert.match(fs.read('merged/a.txt')!, /^merge measured\/a\/x1\.txt measured\/a\/x2\.txt measured\/a\/x3\.txt\nmeasure chunks\/a\/x1\.txt\nx1/);
    assert.equal(fs.read('measured/a/x1.txt'), undefined, 'a temporary output no job needs any more is gone');
    const finish = first.events.find((e) => e.type === 'build-finish');
    assert.equal(finish?.type === 'build-finish' && finish.freedFiles, 4);
    // The chunks are what the merge's glob matches: kept, and said so.
    assert.equal(fs.read('chunks/a/x2.txt'), 'x2');
    const warnings = buildGraph(project, ['all'], fs).warnings.map((w) => w.message);
    assert.deepEqual(warnings, ["temporary output 'chunks/a/' (and 1 more) of rule 'split' is a directory a glob waits for, so it is kept: what it holds decides which jobs the build has"]);
    const second = await build(project, ['all'], fs, state);
    assert.deepEqual(second.ran, [], 'gone measurements with their records make nothing stale');
    // A changed catalog: the gone measurement of a chunk whose merge must run is made again.
    fs.put('cat/a.txt', 'x1\nx2\nx3\nx4\n');
    const third = await build(project, ['all'], fs, state);
    assert.equal(third.result.ok, true);
    assert.match(fs.read('merged/a.txt')!, /^merge measured\/a\/x1\.txt measured\/a\/x2\.txt measured\/a\/x3\.txt measured\/a\/x4\.txt\n/);
    assert.deepEqual((await build(project, ['all'], fs, state)).ran, []);
  });

  test('a glob starting above the directory outputs (a star for the directory) waits for every job making one it can look inside', async () => {
    const project = projectFrom(yaml`
      rules:
        report:
          inputs:
            dirs: { expand: "chunks/{s}/", s: [a, b] }
            files: ["chunks/*/*.txt", "*.cfg"]
          run: report {inputs.files}
          outputs: report.txt
        split:
          inputs: "cat/{s}.txt"
          outputs: "chunks/{s}/"
          run: SPLIT {input}
        measure:
          inputs: "chunks/{s}/{c}.txt"
          outputs: "measured/{s}/{c}.txt"
          run: measure {input}
    `);
    const fs = new FakeFileSystem().put('cat/a.txt', 'x1\n').put('cat/b.txt', 'y1\n').put('run.cfg', 'c');
    const state = new MemoryState();
    const plan = planOf(project, ['report.txt'], fs, state.log());
    const report = plan.graph.jobs.find((j) => j.rule.name === 'report')!;
    assert.deepEqual(report.pending?.map((g) => [g.pattern, g.dir, g.producer.label]), [
      ['chunks/*/*.txt', 'chunks/a', 'split[s=a]'],
      ['chunks/*/*.txt', 'chunks/b', 'split[s=b]'],
    ]);
    assert.deepEqual(report.inputs, ['chunks/a', 'chunks/b', 'run.cfg'], 'a glob that cannot look inside a directory output is matched at once');
    assert.ok(!plan.graph.jobs.some((j) => j.rule.name === 'measure'));
    assert.equal(formatPlanText(plan).split('\n')[2], 'report report.txt: upstream will run: chunks/a/');
    // Without the jobs making the directories in the graph, nothing is waited for: the glob matches the disk.
    const alone = projectFrom(yaml`
      rules:
        report: { inputs: "chunks/*/*.txt", outputs: report.txt, run: "report {inputs}" }
        split: { inputs: "cat/{s}.txt", outputs: "chunks/{s}/", run: "SPLIT {input}" }
    `);
    assert.equal(planOf(alone, ['report.txt'], fs, state.log()).graph.jobs[0]!.pending, undefined);
    const b = await build(project, ['report.txt'], fs, state);
    assert.equal(b.result.ok, true);
    assert.deepEqual(grows(b.events).map((g) => [g.job, g.matches]), [['report', [2]]]);
    assert.match(fs.read('report.txt')!, /^report chunks\/a\/x1\.txt chunks\/b\/y1\.txt run\.cfg\n/);
    assert.equal(b.result.graphProblems, undefined);
    assert.deepEqual((await build(project, ['report.txt'], fs, state)).ran, []);
  });

  test('a graph built without a plan has its pending globs, each waiting on the producer', () => {
    const project = projectFrom(pipeline);
    const graph = buildGraph(project, ['all'], catalog());
    const merge = graph.jobs.find((j) => j.label === 'merge[s=a]')!;
    assert.deepEqual(merge.pending?.map((g) => [g.pattern, g.dir, g.producer.label]), [['chunks/a/*.txt', 'chunks/a', 'split[s=a]']]);
    assert.ok(merge.deps.some((d) => d.label === 'split[s=a]'));
    assert.deepEqual(merge.inputs, []);
    assert.equal(typeof graph.grow, 'function');
    // A graph without a glob over a directory output has nothing to grow.
    assert.equal(buildGraph(projectFrom(yaml`
      rules:
        a: { inputs: "*.in", outputs: out.txt, run: x }
    `), ['out.txt'], new FakeFileSystem().put('x.in', '')).grow, undefined);
  });
});
