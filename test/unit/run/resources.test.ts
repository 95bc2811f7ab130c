// `{resources.NAME}` (SPEC §1): what the job gets, capped at `-j` for `cpus`
// on this machine; and no resource value is part of a job's signature.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runPlan } from '../../../src/run/scheduler.js';
import type { JobSpec } from '../../../src/run/executor.js';
import { buildOnce, EventLog, FakeExecutor, MemoryState, planOf } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

function rulefile(cpus: number, mem: number): string {
  return yaml`
    rules:
      align:
        inputs: reads.fq
        outputs: out.bam
        resources: { cpus: ${cpus}, mem_mb: ${mem} }
        params: { threads: "{resources.cpus}" }
        run: bwa mem -t {resources.cpus} -p {params.threads} -m {resources.mem_mb} {input} > {output}
  `;
}

/** A fake executor that remembers what it was asked to run. */
class Recording extends FakeExecutor {
  readonly specs: JobSpec[] = [];
  override start(spec: JobSpec) {
    this.specs.push(spec);
    return super.start(spec);
  }
}

describe('{resources.cpus} is what the job gets', () => {
  test('a request above -j is capped at -j in the command and params', async () => {
    const fs = new FakeFileSystem().put('reads.fq', 'r');
    const plan = planOf(projectFrom(rulefile(8, 100)), ['out.bam'], fs, new MemoryState().log());
    const executor = new Recording(fs);
    await runPlan(plan, executor, new EventLog(), { jobs: 2, keepGoing: false, resources: new Map() }, new AbortController().signal);
    assert.equal(executor.specs[0]!.command, 'bwa mem -t 2 -p 2 -m 100 reads.fq > out.bam');
  });

  test('a request within -j is given whole', async () => {
    const fs = new FakeFileSystem().put('reads.fq', 'r');
    const plan = planOf(projectFrom(rulefile(3, 100)), ['out.bam'], fs, new MemoryState().log());
    const executor = new Recording(fs);
    await runPlan(plan, executor, new EventLog(), { jobs: 4, keepGoing: false, resources: new Map() }, new AbortController().signal);
    assert.equal(executor.specs[0]!.command, 'bwa mem -t 3 -p 3 -m 100 reads.fq > out.bam');
  });

  test('an executor that grants the request (a cluster) gets it whole, whatever -j says', async () => {
    const fs = new FakeFileSystem().put('reads.fq', 'r');
    const plan = planOf(projectFrom(rulefile(8, 100)), ['out.bam'], fs, new MemoryState().log());
    const executor = new (class extends Recording {
      readonly grantsRequest = true;
    })(fs);
    await runPlan(plan, executor, new EventLog(), { jobs: 2, keepGoing: false, resources: new Map() }, new AbortController().signal);
    assert.equal(executor.specs[0]!.command, 'bwa mem -t 8 -p 8 -m 100 reads.fq > out.bam');
  });
});

describe('resources are not dependencies', () => {
  test('changing a request makes nothing stale: not cpus, not another resource', async () => {
    const fs = new FakeFileSystem().put('reads.fq', 'r');
    const state = new MemoryState();
    const first = await buildOnce(projectFrom(rulefile(8, 100)), ['out.bam'], fs, state);
    assert.deepEqual(first.ran, ['out.bam']);
    for (const [cpus, mem] of [[4, 100], [4, 9000], [1, 1]] as const) {
      const again = await buildOnce(projectFrom(rulefile(cpus, mem)), ['out.bam'], fs, state);
      assert.deepEqual(again.plan.order, [], `cpus ${cpus}, mem_mb ${mem}: nothing is stale`);
    }
  });

  test('the rest of the command still is: a changed word next to a resource is a command change', async () => {
    const fs = new FakeFileSystem().put('reads.fq', 'r');
    const state = new MemoryState();
    await buildOnce(projectFrom(rulefile(8, 100)), ['out.bam'], fs, state);
    const changed = rulefile(8, 100).replace('bwa mem', 'bwa mem2');
    const again = await buildOnce(projectFrom(changed), ['out.bam'], fs, state);
    assert.deepEqual(again.events.started(), ['align: command changed']);
  });
});
