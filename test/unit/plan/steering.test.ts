// SPEC §8 in the core, against an in-memory file system and build log:
// `-R RULE` (forced, and row 8 downstream), `--touch` (records written as if
// the jobs had run, no command run), and `rules why` (the chain of reasons).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Plan } from '../../../src/plan/plan.js';
import { reasonText } from '../../../src/report/reason.js';
import { formatWhy } from '../../../src/report/why.js';
import { buildOnce, MemoryState, planOf } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

const project = projectFrom(yaml`
  rules:
    all:
      inputs: catalog.csv
    calibrate:
      inputs: "raw/{frame}.fits"
      outputs: "cal/{frame}.fits"
      run: calibrate {input} > {output}
    catalog:
      inputs: [cal/f1.fits, cal/f2.fits]
      outputs: catalog.csv
      run: merge {input} > {output}
`);

function lines(p: Plan): string[] {
  return p.order.map((j) => (j.rule.phony ? `${j.label}: ${reasonText(p.reasons.get(j)!)}` : `${j.label} ${j.name}: ${reasonText(p.reasons.get(j)!)}`));
}

async function built() {
  const fs = new FakeFileSystem().write('raw/f1.fits', 'raw/f2.fits');
  const state = new MemoryState();
  assert.equal((await buildOnce(project, ['all'], fs, state)).result.ok, true);
  return { fs, state };
}

describe('-R RULE', () => {
  test("every job of the rule is forced; its dependents follow by row 8; other rules' jobs stay up to date", async () => {
    const { fs, state } = await built();
    assert.deepEqual(lines(planOf(project, ['all'], fs, state.log(), { forceRules: new Set(['calibrate']) })), [
      'calibrate[frame=f1] cal/f1.fits: forced',
      'calibrate[frame=f2] cal/f2.fits: forced',
      'catalog catalog.csv: upstream will run: cal/f1.fits',
      'all: always',
    ]);
    assert.deepEqual(lines(planOf(project, ['all'], fs, state.log(), { forceRules: new Set(['catalog']) })), ['catalog catalog.csv: forced', 'all: always']);
    assert.deepEqual(lines(planOf(project, ['all'], fs, state.log())), []);
  });
});

describe('--touch', () => {
  test('records the stale jobs as if they had run, outputs made newer, no command run; then nothing is stale', async () => {
    const { fs, state } = await built();
    fs.put('raw/f2.fits', 'new content');
    const before = fs.stat('cal/f2.fits')!.mtimeMs;
    const touched = await buildOnce(project, ['all'], fs, state, { touch: true });
    assert.equal(touched.result.ok, true);
    assert.deepEqual(touched.ran, []);
    assert.ok(fs.stat('cal/f2.fits')!.mtimeMs > before);
    // The touched output's content is as it was: the catalog is spared by early cutoff, as after a run.
    assert.deepEqual(touched.events.started(), ['calibrate[frame=f2]: input changed: raw/f2.fits']);
    assert.deepEqual(lines(planOf(project, ['all'], fs, state.log())), []);
  });

  test('under --check mtime, dependents are touched after what they need', async () => {
    const { fs, state } = await built();
    fs.touch('raw/f1.fits');
    const touched = await buildOnce(project, ['all'], fs, state, { touch: true, check: 'mtime' });
    assert.deepEqual(touched.ran, []);
    assert.deepEqual(touched.events.started(), ['calibrate[frame=f1]: input newer than output: raw/f1.fits', 'catalog: upstream will run: cal/f1.fits']);
    assert.ok(fs.stat('catalog.csv')!.mtimeMs > fs.stat('cal/f1.fits')!.mtimeMs);
    assert.deepEqual(lines(planOf(project, ['all'], fs, state.log(), { check: 'mtime' })), []);
  });
});

describe('rules why', () => {
  test('from the target down to what changed, through a phony grouping; empty when up to date', async () => {
    const { fs, state } = await built();
    const fresh = planOf(project, ['all'], fs, state.log());
    assert.equal(formatWhy(fresh, fresh.graph.targets), '');
    fs.put('raw/f2.fits', 'new content');
    const plan = planOf(project, ['all'], fs, state.log());
    assert.equal(formatWhy(plan, plan.graph.targets), 'all: always\ncatalog.csv: upstream will run: cal/f2.fits\ncal/f2.fits: input changed: raw/f2.fits\n');
    const one = planOf(project, ['catalog.csv'], fs, state.log());
    assert.equal(formatWhy(one, one.graph.targets), 'catalog.csv: upstream will run: cal/f2.fits\ncal/f2.fits: input changed: raw/f2.fits\n');
  });
});
