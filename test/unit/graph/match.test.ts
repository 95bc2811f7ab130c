// canProduce: whether a rule of the project makes a job of that name (the key
// of its build record), so recompaction can forget the records of removed rules.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import { canProduce } from '../../../src/graph/match.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

const rules = yaml`
  rules:
    all:
      inputs: [calib/master.fits, "cat/a/b.csv", pair/x.h, report.txt]
    publish:
      inputs: report.txt
      run: upload {input}
    master:
      inputs: raw/bias.fits
      outputs: calib/master.fits
      run: combine {input} > {output}
    calibrate:
      inputs: "raw/sci_{frame}.fits"
      outputs: "calibrated/{frame}.fits"
      run: calibrate {input} > {output}
    catalog:
      inputs: raw/bias.fits
      outputs: "cat/{path,.+}.csv"
      run: catalog > {output}
    pair:
      inputs: raw/bias.fits
      outputs: ["pair/{n}.c", "pair/{n}.h"]
      run: gen {n}
    report:
      inputs: calib/master.fits
      outputs: report.txt
      run: report > {output}
    summary:
      inputs: raw/bias.fits
      outputs: "{sample}/summary.txt"
      run: summarize > {output}
`;

describe('canProduce', () => {
  const project = projectFrom(rules);

  test('a literal output, a path a pattern output matches, a phony rule name: yes', () => {
    assert.equal(canProduce(project, 'calib/master.fits'), true);
    assert.equal(canProduce(project, 'calibrated/f1.fits'), true);
    assert.equal(canProduce(project, 'cat/a/b/c.csv'), true, 'a wildcard with its own regex may span directories');
    assert.equal(canProduce(project, 'pair/x.c'), true);
    assert.equal(canProduce(project, 'pair/x.h'), true, 'any output of a rule, not only its first');
    assert.equal(canProduce(project, 'calibrated/summary.txt'), true, 'a wildcard in the first directory');
    assert.equal(canProduce(project, 'all'), true);
    assert.equal(canProduce(project, 'publish'), true);
  });

  test('a source, a path no pattern matches, the name of a rule that has outputs: no', () => {
    assert.equal(canProduce(project, 'raw/bias.fits'), false);
    assert.equal(canProduce(project, 'calibrated/a/f1.fits'), false, '{frame} matches no /');
    assert.equal(canProduce(project, 'calibrated/.fits'), false, 'a wildcard matches a non-empty string');
    assert.equal(canProduce(project, 'calibrated/f1.fit'), false);
    assert.equal(canProduce(project, 'a/b/summary.txt'), false);
    assert.equal(canProduce(project, 'master'), false, 'a rule with outputs names its jobs by their first output');
    assert.equal(canProduce(project, ''), false);
  });

  test('once a rule is removed, its jobs are no longer made', () => {
    const without = projectFrom(rules.replace(/ {2}calibrate:\n(?: {4}.*\n)+/, ''));
    assert.equal(without.rulesByName.has('calibrate'), false);
    assert.equal(canProduce(without, 'calibrated/f1.fits'), false);
    assert.equal(canProduce(without, 'calib/master.fits'), true);
    const renamed = projectFrom(rules.replace('outputs: "calibrated/{frame}.fits"', 'outputs: "calibrated/{frame}.fit"'));
    assert.equal(canProduce(renamed, 'calibrated/f1.fits'), false, 'nor when its output pattern changed');
  });

  test('every job of a graph is made by its project, by the name its record is kept under', () => {
    const fs = new FakeFileSystem().write('raw/bias.fits', 'raw/sci_f1.fits', 'raw/sci_f2.fits');
    const graph = buildGraph(project, ['all', 'publish', 'calibrated/f1.fits', 'calibrated/f2.fits'], fs);
    assert.ok(graph.jobs.length >= 8, graph.jobs.map((j) => j.name).join(' '));
    for (const job of graph.jobs) assert.equal(canProduce(project, job.name), true, job.name);
    assert.ok(graph.jobs.some((j) => j.name === 'pair/x.c'), 'a job reached through its second output is named by its first');
  });
});
