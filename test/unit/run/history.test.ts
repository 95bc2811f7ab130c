// What the scheduler keeps of each run (SPEC §9): the lane each job ran in
// (for a timeline), and the run's wall time and usage in the job's record,
// newest first, carried from record to record.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BuildEvent } from '../../../src/run/events.js';
import type { JobOutcome } from '../../../src/run/executor.js';
import { MemoryState } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { startGated } from '../../support/gated.js';
import { projectFrom, yaml } from '../../support/project.js';

const WIDE = yaml`
  rules:
    all:
      inputs: { expand: "out/{n}.txt", n: [1, 2, 3, 4, 5] }
    make:
      inputs: "in/{n}.txt"
      outputs: "out/{n}.txt"
      run: make {n}
`;

function sources(fs: FakeFileSystem, v = ''): void {
  for (let n = 1; n <= 5; n++) fs.put(`in/${n}.txt`, `${n}${v}`);
}

function ok(usage?: JobOutcome['usage']): JobOutcome {
  return { ok: true, exitCode: 0, signal: null, output: '', ...(usage ? { usage } : {}) };
}

describe('lanes', () => {
  test('each running job holds its own lane, the lowest free one, below -j', async () => {
    const fs = new FakeFileSystem();
    sources(fs);
    const b = startGated(projectFrom(WIDE), ['all'], fs, new MemoryState(), { jobs: 2 });
    const laneOf = (name: string) => {
      const e = b.events.events.findLast((x): x is Extract<BuildEvent, { type: 'job-start' }> => x.type === 'job-start' && x.job.name === name);
      return e?.lane;
    };
    await b.gate.until('two running', () => b.gate.runningNow().length === 2);
    const [first, second] = b.gate.runningNow();
    assert.deepEqual([laneOf(first!), laneOf(second!)], [0, 1]);
    // The job in lane 1 ends: the next job takes lane 1, while lane 0 is still held.
    b.gate.finish(second!, 'ok');
    await b.gate.until('a third job', () => b.gate.started.length === 3);
    assert.equal(laneOf(b.gate.started[2]!), 1);
    b.gate.finish(first!, 'ok');
    await b.gate.until('a fourth job', () => b.gate.started.length === 4);
    assert.equal(laneOf(b.gate.started[3]!), 0);
    while (b.gate.runningNow().length > 0) {
      b.gate.finish(b.gate.runningNow()[0]!, 'ok');
      await Promise.resolve();
      await b.gate.until('the next job or the end', () => b.gate.runningNow().length > 0 || b.gate.started.length === 5);
    }
    assert.equal((await b.done).ok, true);
    const lanes = b.events.events.flatMap((e) => (e.type === 'job-start' && e.job.rule.name === 'make' ? [e.lane] : []));
    assert.equal(lanes.length, 5);
    for (const lane of lanes) assert.ok(lane === 0 || lane === 1, `lane ${lane}`);
  });
});

describe('runs in the record', () => {
  const ONE = yaml`
    rules:
      make:
        inputs: in.txt
        outputs: out.txt
        run: make it
  `;

  test("a run's usage is kept in its job's record, newest first; a failed run adds none", async () => {
    const fs = new FakeFileSystem();
    fs.put('in.txt', '1');
    const state = new MemoryState();
    const project = projectFrom(ONE);
    let b = startGated(project, ['out.txt'], fs, state);
    await b.gate.until('running', () => b.gate.runningNow().length === 1);
    b.gate.finish(b.gate.runningNow()[0]!, ok({ cpuMs: 70, maxRssKb: 300, source: 'exact' }));
    await b.done;
    let runs = state.log().records.get('out.txt')?.runs;
    assert.equal(runs?.length, 1);
    assert.deepEqual([runs![0]!.cpuMs, runs![0]!.maxRssKb], [70, 300]);
    assert.ok(runs![0]!.wallMs >= 0 && runs![0]!.at > 1_700_000_000_000);

    // The cluster's own figure for the run's time wins over the build's clock.
    fs.put('in.txt', '2');
    b = startGated(project, ['out.txt'], fs, state);
    await b.gate.until('running', () => b.gate.runningNow().length === 1);
    b.gate.finish(b.gate.runningNow()[0]!, ok({ wallMs: 123_456, source: 'sacct' }));
    await b.done;
    runs = state.log().records.get('out.txt')?.runs;
    assert.deepEqual(runs?.map((r) => r.wallMs)[0], 123_456);
    assert.equal(runs?.length, 2);
    assert.equal(runs![1]!.cpuMs, 70);

    fs.put('in.txt', '3');
    b = startGated(project, ['out.txt'], fs, state);
    await b.gate.until('running', () => b.gate.runningNow().length === 1);
    b.gate.finish(b.gate.runningNow()[0]!, 'fail');
    await b.done;
    // A failed run leaves no record; the next success carries the history on.
    b = startGated(project, ['out.txt'], fs, state);
    await b.gate.until('running', () => b.gate.runningNow().length === 1);
    b.gate.finish(b.gate.runningNow()[0]!, ok());
    await b.done;
    runs = state.log().records.get('out.txt')?.runs;
    assert.equal(runs?.length, 3);
    assert.equal('cpuMs' in runs![0]!, false);
    assert.equal(runs![1]!.wallMs, 123_456);
  });
});
