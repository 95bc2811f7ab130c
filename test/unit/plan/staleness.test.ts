// Every staleness reason of SPEC §2, decided against an in-memory file system
// and build log: no sleeps, no processes.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Plan } from '../../../src/plan/plan.js';
import type { Project } from '../../../src/rulefile/model.js';
import { reasonText } from '../../../src/report/reason.js';
import { buildOnce, MemoryState, planOf } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

const pipeline = (extra = '') => yaml`
  rules:
    calibrate:
      inputs: { sci: "raw/{frame}.fits", bias: bias.fits }
      outputs: "cal/{frame}.fits"
      params: { threshold: "{config.threshold}" }
      env: { MODE: "{config.mode}" }
      run: calibrate {inputs.sci} {inputs.bias} {params.threshold} > {output}${extra}
    catalog:
      inputs: [cal/f1.fits, cal/f2.fits]
      outputs: catalog.csv
      run: merge {input} > {output}
  config:
    threshold: 3
    mode: fast
`;

function lines(p: Plan): string[] {
  return p.order.map((j) => (j.rule.phony ? `${j.label}: ${reasonText(p.reasons.get(j)!)}` : `${j.label} ${j.name}: ${reasonText(p.reasons.get(j)!)}`));
}

/** A built tree: sources written, one build run, log kept in `state`. */
async function built(project: Project = projectFrom(pipeline())) {
  const fs = new FakeFileSystem().write('raw/f1.fits', 'raw/f2.fits', 'bias.fits');
  const state = new MemoryState();
  const first = await buildOnce(project, ['catalog.csv'], fs, state);
  assert.equal(first.result.ok, true);
  assert.deepEqual(first.ran, ['cal/f1.fits', 'cal/f2.fits', 'catalog.csv']);
  const dry = (p: Project = project, options = {}) => lines(planOf(p, ['catalog.csv'], fs, state.log(), options));
  return { fs, state, project, dry };
}

describe('staleness reasons, in order', () => {
  test('a fresh build: every output missing', () => {
    const fs = new FakeFileSystem().write('raw/f1.fits', 'raw/f2.fits', 'bias.fits');
    assert.deepEqual(lines(planOf(projectFrom(pipeline()), ['catalog.csv'], fs, new MemoryState().log())), [
      'calibrate[frame=f1] cal/f1.fits: output missing: cal/f1.fits',
      'calibrate[frame=f2] cal/f2.fits: output missing: cal/f2.fits',
      'catalog catalog.csv: output missing: catalog.csv',
    ]);
  });

  test('nothing changed: nothing to do, and no file is read', async () => {
    const { fs, dry } = await built();
    fs.hashes = 0;
    assert.deepEqual(dry(), []);
    assert.equal(fs.hashes, 0);
  });

  test('-B: forced', async () => {
    const { dry } = await built();
    assert.deepEqual(dry(undefined, { force: true }), [
      'calibrate[frame=f1] cal/f1.fits: forced',
      'calibrate[frame=f2] cal/f2.fits: forced',
      'catalog catalog.csv: forced',
    ]);
  });

  test('a touch without a content change is not a change', async () => {
    const { fs, dry } = await built();
    fs.touch('raw/f1.fits').touch('bias.fits');
    assert.deepEqual(dry(), []);
  });

  test('a content change: input changed, then upstream will run', async () => {
    const { fs, dry } = await built();
    fs.put('raw/f2.fits', 'new data');
    assert.deepEqual(dry(), ['calibrate[frame=f2] cal/f2.fits: input changed: raw/f2.fits', 'catalog catalog.csv: upstream will run: cal/f2.fits']);
  });

  test('the first changed input in declaration order is named', async () => {
    const { fs, dry } = await built();
    fs.put('bias.fits', 'b2').put('raw/f1.fits', 'x');
    assert.equal(dry()[0], 'calibrate[frame=f1] cal/f1.fits: input changed: raw/f1.fits');
  });

  test('an output edited by hand: output modified', async () => {
    const { fs, dry } = await built();
    fs.put('cal/f1.fits', 'edited');
    assert.deepEqual(dry(), ['calibrate[frame=f1] cal/f1.fits: output modified: cal/f1.fits', 'catalog catalog.csv: input changed: cal/f1.fits']);
  });

  test('a deleted output: output missing', async () => {
    const { fs, dry } = await built();
    fs.remove('catalog.csv');
    assert.deepEqual(dry(), ['catalog catalog.csv: output missing: catalog.csv']);
  });

  test('an output that is a directory is missing (a file is declared), with a record or without one', async () => {
    const { fs, dry } = await built();
    fs.remove('catalog.csv');
    fs.write('catalog.csv/user.txt');
    assert.deepEqual(dry(), ['catalog catalog.csv: output missing: catalog.csv']);
    // Without a record, Make's rule must not adopt a directory newer than the inputs either.
    const fresh = new FakeFileSystem().write('raw/f1.fits', 'raw/f2.fits', 'bias.fits', 'cal/f1.fits', 'cal/f2.fits', 'catalog.csv/user.txt');
    assert.deepEqual(lines(planOf(projectFrom(pipeline()), ['catalog.csv'], fresh, new MemoryState().log())), ['catalog catalog.csv: output missing: catalog.csv']);
  });

  test('params changed: NAME (a config value used by a param)', async () => {
    const { dry } = await built();
    const p = projectFrom(pipeline(), ['threshold=5']);
    assert.deepEqual(dry(p), [
      'calibrate[frame=f1] cal/f1.fits: params changed: threshold',
      'calibrate[frame=f2] cal/f2.fits: params changed: threshold',
      'catalog catalog.csv: upstream will run: cal/f1.fits',
    ]);
  });

  test('env changed: NAME', async () => {
    const { dry } = await built();
    assert.equal(dry(projectFrom(pipeline(), ['mode=slow']))[0], 'calibrate[frame=f1] cal/f1.fits: env changed: MODE');
  });

  test('command changed, for the changed rule only', async () => {
    const { dry } = await built();
    const lines = dry(projectFrom(pipeline(' --verbose')));
    assert.deepEqual(lines.slice(0, 2), ['calibrate[frame=f1] cal/f1.fits: command changed', 'calibrate[frame=f2] cal/f2.fits: command changed']);
    assert.equal(lines[2], 'catalog catalog.csv: upstream will run: cal/f1.fits');
  });

  test('a changed rule shell is a changed command', async () => {
    const { dry } = await built();
    const p = projectFrom('shell: bash -c\n' + pipeline());
    assert.equal(dry(p)[0], 'calibrate[frame=f1] cal/f1.fits: command changed');
  });

  test('inputs changed and outputs changed', async () => {
    const { fs, dry } = await built();
    fs.write('extra.txt');
    const more = projectFrom(pipeline().replace('inputs: [cal/f1.fits, cal/f2.fits]', 'inputs: [cal/f1.fits, cal/f2.fits, extra.txt]'));
    assert.deepEqual(dry(more), ['catalog catalog.csv: inputs changed']);
    const two = projectFrom(pipeline().replace('outputs: catalog.csv', 'outputs: [catalog.csv, catalog.json]'));
    fs.write('catalog.json');
    assert.deepEqual(dry(two), ['catalog catalog.csv: outputs changed']);
  });

  test('params are checked before env, env before the command', async () => {
    const { dry } = await built();
    const p = projectFrom(pipeline(' --v'), ['threshold=9', 'mode=x']);
    assert.equal(dry(p)[0], 'calibrate[frame=f1] cal/f1.fits: params changed: threshold');
    const q = projectFrom(pipeline(' --v'), ['mode=x']);
    assert.equal(dry(q)[0], 'calibrate[frame=f1] cal/f1.fits: env changed: MODE');
  });

  test('incomplete: a run that failed leaves no outputs, and a hand-made output does not make it fresh', async () => {
    const project = projectFrom(pipeline().replace('merge {input} > {output}', 'merge {input} > {output} FAIL'));
    const fs = new FakeFileSystem().write('raw/f1.fits', 'raw/f2.fits', 'bias.fits');
    const state = new MemoryState();
    const b = await buildOnce(project, ['catalog.csv'], fs, state);
    assert.equal(b.result.ok, false);
    assert.equal(fs.has('catalog.csv'), false, 'the failed job\'s output is deleted');
    fs.put('catalog.csv', 'looks finished');
    assert.deepEqual(lines(planOf(project, ['catalog.csv'], fs, state.log())), ['catalog catalog.csv: incomplete: previous run was interrupted or failed']);
  });

  test('no record: input newer than output (Make\'s rule adopts an existing tree)', () => {
    const fs = new FakeFileSystem().write('raw/f1.fits', 'raw/f2.fits', 'bias.fits', 'cal/f1.fits', 'cal/f2.fits', 'catalog.csv');
    const project = projectFrom(pipeline());
    assert.deepEqual(lines(planOf(project, ['catalog.csv'], fs, new MemoryState().log())), []);
    fs.touch('raw/f2.fits');
    assert.deepEqual(lines(planOf(project, ['catalog.csv'], fs, new MemoryState().log())), [
      'calibrate[frame=f2] cal/f2.fits: no record: input newer than output: raw/f2.fits',
      'catalog catalog.csv: upstream will run: cal/f2.fits',
    ]);
  });

  test('an adopted tree is recorded, so a later touch changes nothing', async () => {
    const fs = new FakeFileSystem().write('raw/f1.fits', 'raw/f2.fits', 'bias.fits', 'cal/f1.fits', 'cal/f2.fits', 'catalog.csv');
    const project = projectFrom(pipeline());
    const state = new MemoryState();
    const b = await buildOnce(project, ['catalog.csv'], fs, state);
    assert.deepEqual(b.ran, []);
    assert.equal(state.log().records.size, 3);
    fs.touch('raw/f2.fits');
    assert.deepEqual(lines(planOf(project, ['catalog.csv'], fs, state.log())), []);
  });

  test('--check mtime: Make semantics with a record', async () => {
    const { fs, dry } = await built();
    fs.touch('raw/f1.fits');
    fs.hashes = 0;
    assert.deepEqual(dry(undefined, { check: 'mtime' }), [
      'calibrate[frame=f1] cal/f1.fits: input newer than output: raw/f1.fits',
      'catalog catalog.csv: upstream will run: cal/f1.fits',
    ]);
    assert.equal(fs.hashes, 0, 'no file is hashed');
    // An output edited by hand (older than nothing) is not a reason under mtime.
    const again = await built();
    again.fs.put('cal/f2.fits', 'edited');
    assert.deepEqual(again.dry(undefined, { check: 'mtime' }), ['catalog catalog.csv: input newer than output: cal/f2.fits']);
  });

  test('always: true reruns every time; a phony rule is always', async () => {
    const p = projectFrom(yaml`
      rules:
        all:
          inputs: latest.csv
        fetch:
          outputs: latest.csv
          always: true
          run: fetch > {output}
    `);
    const fs = new FakeFileSystem();
    const state = new MemoryState();
    await buildOnce(p, ['all'], fs, state);
    assert.deepEqual(lines(planOf(p, ['all'], fs, state.log())), ['fetch latest.csv: always', 'all: always']);
  });
});

describe('a no-op build', () => {
  test('after a Rulefile edit that changes no job, reads only the touched files, once', async () => {
    // The pipeline, and a reader of a directory (its files known from the log's tree).
    const withReport = pipeline().replace('rules:\n', 'rules:\n  report:\n    inputs: data\n    outputs: report.txt\n    run: summarize {input} > {output}\n');
    const project = projectFrom(withReport);
    const fs = new FakeFileSystem().write('raw/f1.fits', 'raw/f2.fits', 'bias.fits', 'data/a.txt', 'data/sub/b.txt');
    const state = new MemoryState();
    const first = await buildOnce(project, ['catalog.csv', 'report.txt'], fs, state);
    assert.deepEqual([...first.ran].sort(), ['cal/f1.fits', 'cal/f2.fits', 'catalog.csv', 'report.txt']);
    // Another rule, and a comment: a new Rulefile, the same jobs (the full path, not the up-to-date stamp).
    const edited = projectFrom(withReport.replace('rules:\n', 'rules:\n  # a comment\n  unrelated:\n    outputs: other.txt\n    run: touch {output}\n'));
    assert.equal(edited.rules.length, 4);
    fs.touch('raw/f1.fits').touch('data/a.txt');
    fs.hashes = 0;
    const b = await buildOnce(edited, ['catalog.csv', 'report.txt'], fs, state);
    assert.deepEqual(b.ran, []);
    assert.equal(fs.hashes, 2, 'each touched file is read once, and found the same');
    fs.hashes = 0;
    assert.deepEqual((await buildOnce(edited, ['catalog.csv', 'report.txt'], fs, state)).ran, []);
    assert.equal(fs.hashes, 0, 'and their new stats were recorded');
  });

  test('a file its job remade since a reader last ran is known by the maker\'s record: the reader does not read it again', async () => {
    const { fs, state, project } = await built();
    fs.put('raw/f1.fits', 'new data');
    const maker = await buildOnce(project, ['cal/f1.fits'], fs, state);
    assert.deepEqual(maker.ran, ['cal/f1.fits']);
    // catalog's record still has the old cal/f1.fits; calibrate's has the new one.
    fs.hashes = 0;
    const b = await buildOnce(project, ['catalog.csv'], fs, state);
    assert.deepEqual(b.ran, ['catalog.csv']);
    assert.equal(fs.hashes, 1, 'only the new catalog.csv is read');
  });

  test('reads no file contents, even after a touch has been seen once', async () => {
    const { fs, state, project } = await built();
    fs.touch('raw/f1.fits');
    fs.hashes = 0;
    const b = await buildOnce(project, ['catalog.csv'], fs, state);
    assert.deepEqual(b.ran, []);
    assert.equal(fs.hashes, 1, 'the touched file is hashed once');
    fs.hashes = 0;
    const again = await buildOnce(project, ['catalog.csv'], fs, state);
    assert.deepEqual(again.ran, []);
    assert.equal(fs.hashes, 0, 'and its new stat was recorded');
  });
});
