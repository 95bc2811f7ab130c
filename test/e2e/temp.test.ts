// Temporary outputs through the real CLI (SPEC §7): deleted once no job needs
// them, with the space freed reported; a second build has nothing to do (the
// up-to-date stamp too); remade first when a job that needs one must run;
// kept with --keep-temp, when asked for by name, or when a job that needs one
// failed; `rules clean` and `rules list` know them.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nonEmptyLines, project, show, yaml, type Project } from './helpers.js';

const RULEFILE = yaml(
  'config: { scale: 1 }',
  'rules:',
  '  all:',
  '    inputs: [m/a.txt, m/b.txt]',
  '  calibrate:',
  '    inputs: "raw/{f}.txt"',
  '    outputs: "cal/{f}.txt"',
  '    temp: true',
  '    run: echo calibrate {f} >> ran.log; cat {input} {input} > {output}',
  '  measure:',
  '    inputs: "cal/{f}.txt"',
  '    outputs: "m/{f}.txt"',
  '    params: { scale: "{config.scale}" }',
  '    run: echo measure {f} >> ran.log; (echo {params.scale}; cat {input}) > {output}; test {params.scale} != 0',
);
const SOURCES = { 'raw/a.txt': 'alpha\n', 'raw/b.txt': 'beta\n' };
/** cal/a.txt and cal/b.txt: each source twice. */
const FREED = 'rules: freed 22 B of temporary outputs\n';
const FAST_LINE = /^rules: all \d+ files as the last build left them$/m;

function built(t: Parameters<typeof project>[0]): Project {
  const p = project(t, { Rulefile: RULEFILE, ...SOURCES });
  const r = p.run(['build']);
  assert.equal(r.status, 0, show(r));
  return p;
}

const seen = new WeakMap<Project, number>();

/** What ran since the last call: the lines ran.log got (it is never rewritten: that would be a change the up-to-date stamp sees). */
function ranSince(p: Project): string[] {
  const lines = p.lines();
  const from = seen.get(p) ?? 0;
  seen.set(p, lines.length);
  return lines.slice(from).sort();
}

describe('temporary outputs', () => {
  test('are deleted after the build, which says how much it freed; the next build has nothing to do, from the stamp too', (t) => {
    const p = project(t, { Rulefile: RULEFILE, ...SOURCES });
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.ok(r.stdout.endsWith(FREED), r.stdout);
    assert.deepEqual(ranSince(p), ['calibrate a', 'calibrate b', 'measure a', 'measure b']);
    assert.equal(p.exists('cal/a.txt') || p.exists('cal/b.txt'), false);
    assert.equal(p.read('m/a.txt'), '1\nalpha\nalpha\n');
    const again = p.run(['build', '-v']);
    assert.equal(again.status, 0, show(again));
    assert.equal(again.stdout, 'rules: nothing to do\n');
    assert.match(again.stderr, FAST_LINE, 'the stamp answered');
    const dry = p.run(['build', '-n']);
    assert.equal(dry.stdout, '');
    assert.deepEqual(ranSince(p), []);
  });

  test('a deleted temporary output recreated by hand sends the build down the full path; edited, its job reruns', (t) => {
    const p = built(t);
    ranSince(p);
    p.write({ 'cal/a.txt': 'not what calibrate made\n' });
    const dry = p.run(['build', '-n', '-v']);
    assert.doesNotMatch(dry.stderr, FAST_LINE);
    assert.equal(dry.stdout, 'calibrate[f=a] cal/a.txt: output modified: cal/a.txt\nmeasure[f=a] m/a.txt: input changed: cal/a.txt\nall: always\n');
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(ranSince(p), ['calibrate a'], 'measure is up to date after all');
    assert.equal(p.exists('cal/a.txt'), false);
  });

  test('a source edited upstream reruns its chain', (t) => {
    const p = built(t);
    ranSince(p);
    p.write({ 'raw/b.txt': 'BETA\n' });
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(ranSince(p), ['calibrate b', 'measure b']);
    assert.equal(p.read('m/b.txt'), '1\nBETA\nBETA\n');
    assert.equal(p.exists('cal/b.txt'), false);
  });

  test('a job whose own params changed has its gone temporary input made again first', (t) => {
    const p = built(t);
    ranSince(p);
    const dry = p.run(['build', '-n', '--config', 'scale=2', 'm/a.txt']);
    assert.equal(dry.status, 0, show(dry));
    assert.equal(dry.stdout, 'calibrate[f=a] cal/a.txt: output missing: cal/a.txt\nmeasure[f=a] m/a.txt: params changed: scale\n');
    const json = JSON.parse(p.run(['build', '-n', '--json', '--config', 'scale=2', 'm/a.txt']).stdout) as { jobs: { rule: string; temp?: string[] }[] };
    assert.deepEqual(
      json.jobs.map((j) => [j.rule, j.temp]),
      [
        ['calibrate', ['cal/a.txt']],
        ['measure', undefined],
      ],
    );
    const r = p.run(['build', '--config', 'scale=2', 'm/a.txt']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(ranSince(p), ['calibrate a', 'measure a']);
    assert.equal(p.read('m/a.txt'), '2\nalpha\nalpha\n');
    assert.equal(p.exists('cal/a.txt'), false);
    assert.equal(p.run(['build', '--config', 'scale=2', 'm/a.txt']).stdout, 'rules: nothing to do\n');
  });

  test('--keep-temp keeps them', (t) => {
    const p = project(t, { Rulefile: RULEFILE, ...SOURCES });
    const r = p.run(['build', '--keep-temp']);
    assert.equal(r.status, 0, show(r));
    assert.doesNotMatch(r.stdout, /freed/);
    assert.equal(p.read('cal/a.txt'), 'alpha\nalpha\n');
    assert.equal(p.run(['build']).stdout, 'rules: nothing to do\n');
    assert.equal(p.exists('cal/b.txt'), true);
  });

  test('one asked for by name is made and kept', (t) => {
    const p = built(t);
    ranSince(p);
    const r = p.run(['build', 'cal/a.txt']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(ranSince(p), ['calibrate a']);
    assert.equal(p.read('cal/a.txt'), 'alpha\nalpha\n');
    assert.equal(p.run(['build']).stdout, 'rules: nothing to do\n');
  });

  test('a job that needs one failed: it is kept; fixed, only that job runs and then it goes', (t) => {
    const p = project(t, { Rulefile: RULEFILE, ...SOURCES });
    const r = p.run(['build', '-k', '--config', 'scale=0']);
    assert.equal(r.status, 1, show(r));
    assert.doesNotMatch(r.stdout, /freed/);
    assert.equal(p.exists('cal/a.txt') && p.exists('cal/b.txt'), true);
    ranSince(p);
    const fixed = p.run(['build']);
    assert.equal(fixed.status, 0, show(fixed));
    assert.deepEqual(ranSince(p), ['measure a', 'measure b']);
    assert.equal(p.exists('cal/a.txt') || p.exists('cal/b.txt'), false);
    assert.ok(fixed.stdout.endsWith(FREED), fixed.stdout);
  });

  test('--log-format json carries the bytes and outputs freed', (t) => {
    const p = project(t, { Rulefile: RULEFILE, ...SOURCES });
    const r = p.run(['build', '--log-format', 'json']);
    assert.equal(r.status, 0, show(r));
    const finished = nonEmptyLines(r.stderr)
      .map((l) => JSON.parse(l) as { event?: string; freedBytes?: number; freedFiles?: number })
      .find((e) => e.event === 'build-finished');
    assert.equal(finished?.freedBytes, 22);
    assert.equal(finished?.freedFiles, 2);
  });

  test('rules list marks them; rules clean deletes those that exist, like any output', (t) => {
    const p = built(t);
    const list = p.run(['list']);
    assert.match(list.stdout, /^ {2}outputs: cal\/\{f\}\.txt \(temp\)$/m);
    assert.match(list.stdout, /^ {2}outputs: m\/\{f\}\.txt$/m);
    p.run(['build', 'cal/b.txt']);
    const dry = p.run(['clean', '-n']);
    assert.equal(dry.status, 0, show(dry));
    assert.match(dry.stdout, /cal\/b\.txt/);
    assert.doesNotMatch(dry.stdout, /cal\/a\.txt/);
    const clean = p.run(['clean']);
    assert.equal(clean.status, 0, show(clean));
    assert.equal(p.exists('cal/b.txt') || p.exists('m/a.txt'), false);
    ranSince(p);
    assert.equal(p.run(['build']).status, 0);
    assert.deepEqual(ranSince(p), ['calibrate a', 'calibrate b', 'measure a', 'measure b']);
  });

  test('--keep-temp is in the help of build and watch', (t) => {
    const p = project(t, {});
    for (const cmd of ['build', 'watch']) assert.match(p.run([cmd, '--help']).stdout, /--keep-temp/);
  });
});
