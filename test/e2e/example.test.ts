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

test('Rulefile.example: frames from the observing log, one cutout job per detected source, calibrated frames deleted (SPEC §7)', (t) => {
  const p = project(t);
  fs.copyFileSync(path.join(REPO, 'Rulefile.example'), p.path('Rulefile.example'));
  fs.cpSync(path.join(REPO, 'rules'), p.path('rules'), { recursive: true });

  // Before the first build the cutouts are not known: the merge of each frame's cutouts waits for them.
  const dry = p.run(['build', '-f', 'Rulefile.example', '-n']);
  assert.match(dry.stdout, /^cutmerge\[frame=f2\] phot\/f2\.cutouts\.csv: upstream will run: cutouts\/f2\/$/m, show(dry));
  assert.doesNotMatch(dry.stdout, /^cutflux/m);

  const r = p.run(['build', '-f', 'Rulefile.example', '-j2']);
  assert.equal(r.status, 0, show(r));
  assert.match(r.stdout, /^rules: cutouts\/f\d\/ made: \d+ more jobs? to run for cutmerge\[frame=f\d\] \(\d+ in all\)$/m);
  assert.match(r.stdout, /^rules: freed [\d.]+ kB of temporary outputs$/m);
  for (const frame of ['f1', 'f2', 'f3', 'f4']) {
    assert.equal(p.exists(`calibrated/${frame}.txt`), false, `calibrated/${frame}.txt is temporary`);
    const cutouts = fs.readdirSync(p.path(`cutouts/${frame}`));
    const sources = nonEmptyLines(p.read(`phot/${frame}.sources.txt`)).filter((l) => !l.startsWith('#'));
    assert.equal(cutouts.length, sources.length, `one cutout per source of ${frame}`);
    assert.deepEqual(nonEmptyLines(p.read(`phot/${frame}.cutouts.csv`)).length, sources.length + 1);
  }
  assert.equal(p.run(['build', '-f', 'Rulefile.example']).stdout, 'rules: nothing to do\n');

  // One row of the observing log: that frame's chain reruns, its calibrated frame made again first.
  const log = p.read('rules/observing-log.tsv');
  fs.writeFileSync(p.path('rules/observing-log.tsv'), log.replace(/^f3\t(.*)\t30$/m, 'f3\t$1\t40'));
  const dry2 = p.run(['build', '-f', 'Rulefile.example', '-n']);
  const lines = nonEmptyLines(dry2.stdout);
  assert.equal(lines[0], 'simulate_sci[frame=f3] raw/sci_f3.txt: params changed: exptime', show(dry2));
  assert.ok(lines.includes('calibrate[frame=f3] calibrated/f3.txt: output missing: calibrated/f3.txt'), show(dry2));
  assert.ok(lines.every((l) => !/\[frame=f[124]\]/.test(l)), `only f3's jobs:\n${lines.join('\n')}`);
  const r2 = p.run(['build', '-f', 'Rulefile.example']);
  assert.equal(r2.status, 0, show(r2));
  assert.equal(p.exists('calibrated/f3.txt'), false);
  assert.equal(p.run(['build', '-f', 'Rulefile.example']).stdout, 'rules: nothing to do\n');
});
