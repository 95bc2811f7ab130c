// The example pipeline shipped in the repository builds from scratch and is
// then up to date.

import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nonEmptyLines, project, REPO, show } from './helpers.js';

test('Rulefile.example builds a catalog with -j2, and a second build has nothing to do', (t) => {
  const p = project(t);
  fs.copyFileSync(path.join(REPO, 'Rulefile.example'), p.path('Rulefile.example'));
  fs.cpSync(path.join(REPO, 'rules'), p.path('rules'), { recursive: true });

  const r = p.run(['build', '-f', 'Rulefile.example', '-j2']);
  assert.equal(r.status, 0, show(r));
  assert.match(r.stdout, /^rules: \d+ jobs done in /m);
  const catalog = nonEmptyLines(p.read('catalog.csv'));
  assert.equal(catalog[0], 'frame,id,x,y,flux');
  assert.ok(catalog.length - 1 > 4, `more than 4 rows:\n${catalog.join('\n')}`);
  for (const row of catalog.slice(1)) assert.match(row, /^f\d+,\d+,[-\d.]+,[-\d.]+,[-\d.eE+]+$/);
  assert.ok(p.exists('phot/summary.txt'));

  const again = p.run(['build', '-f', 'Rulefile.example', '-j2']);
  assert.equal(again.status, 0, show(again));
  assert.match(again.stdout, /^rules: nothing to do$/m);

  const dry = p.run(['build', '-f', 'Rulefile.example', '-n']);
  assert.equal(dry.status, 0, show(dry));
  // The phony `all` has no command: it is listed only when a job it needs will run (SPEC §2).
  assert.deepEqual(nonEmptyLines(dry.stdout), [], 'nothing is left');
  assert.equal(dry.stderr, 'rules: nothing to do\n');
});

test('Rulefile.example: editing a step script reruns exactly that step (the scripts a run names are inputs)', (t) => {
  const p = project(t);
  fs.copyFileSync(path.join(REPO, 'Rulefile.example'), p.path('Rulefile.example'));
  fs.cpSync(path.join(REPO, 'rules'), p.path('rules'), { recursive: true });
  assert.equal(p.run(['build', '-f', 'Rulefile.example']).status, 0);

  fs.appendFileSync(p.path('rules/scripts/summary.mjs'), '// a comment\n');
  const dry = p.run(['build', '-f', 'Rulefile.example', '-n']);
  assert.deepEqual(nonEmptyLines(dry.stdout), ['summary phot/summary.txt: input changed: rules/scripts/summary.mjs', 'all: always'], show(dry));
  const r = p.run(['build', '-f', 'Rulefile.example']);
  assert.equal(r.status, 0, show(r));
  assert.match(r.stdout, /^rules: 1 job done in /m);

  // A step in the middle: its jobs rerun; their outputs come out the same, so nothing downstream runs
  // (10 jobs of detection and photometry, 4 cutout steps, their 16 cutouts and 4 merges).
  fs.appendFileSync(p.path('rules/scripts/calibrate.mjs'), '// a comment\n');
  const dry2 = p.run(['build', '-f', 'Rulefile.example', '-n']);
  assert.match(dry2.stdout, /^calibrate\[frame=f1\] calibrated\/f1.txt: input changed: rules\/scripts\/calibrate.mjs$/m);
  const r2 = p.run(['build', '-f', 'Rulefile.example']);
  assert.equal(r2.status, 0, show(r2));
  assert.match(r2.stdout, /^rules: 4 jobs done, 34 up to date after all \(inputs unchanged\) in /m);
});
