// A build forgets the records of jobs that no rule makes any more, and whose
// output is gone, when it recompacts the build log (docs/staleness.md, "The
// log on disk"); a dry run forgets nothing, and a no-op build does not rewrite
// the log.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { nonEmptyLines, project, show, yaml } from './helpers.js';

const N = 150;
const numbers = Array.from({ length: N }, (_, i) => i + 1);

const withOld = yaml(
  'rules:',
  '  all:',
  `    inputs: [{ expand: "old/{n}.txt", n: [${numbers.join(', ')}] }, keep.txt]`,
  '  old:',
  '    outputs: "old/{n}.txt"',
  '    run: touch {output}',
  '  keep:',
  '    outputs: keep.txt',
  '    run: touch {output}',
);
const withoutOld = yaml('rules:', '  all:', '    inputs: [keep.txt]', '  keep:', '    outputs: keep.txt', '    run: touch {output}');

test('records of a removed rule whose outputs are gone are forgotten by the next build, not by a dry run; rules clean then no longer knows them', (t) => {
  // An existing tree: every job is adopted (recorded without running), so no process is spawned.
  const p = project(t, { Rulefile: withOld, 'keep.txt': '', ...Object.fromEntries(numbers.map((n) => [`old/${n}.txt`, ''])) });
  const first = p.run(['build']);
  assert.equal(first.status, 0, show(first));
  assert.match(p.read('.rules/log'), /"k":"old\/150\.txt"/);

  p.write({ Rulefile: withoutOld });
  // The rule's outputs are removed with it, but one: another Rulefile sharing .rules/ may still make it.
  for (const n of numbers) if (n !== 7) fs.rmSync(p.path(`old/${n}.txt`));
  const dry = p.run(['build', '-n']);
  assert.equal(dry.status, 0, show(dry));
  assert.match(p.read('.rules/log'), /"k":"old\/150\.txt"/, 'a dry run forgets nothing');

  const build = p.run(['build']);
  assert.equal(build.status, 0, show(build));
  const log = p.read('.rules/log');
  assert.doesNotMatch(log, /"k":"old\/(?!7\.txt)/);
  assert.match(log, /"k":"old\/7\.txt"/, 'a record whose output is still there is kept');
  assert.match(log, /"k":"keep\.txt"/);

  // A build that finds nothing to forget leaves the log as it is.
  const ino = fs.statSync(p.path('.rules/log')).ino;
  fs.rmSync(p.path('.rules/uptodate'), { force: true });
  const again = p.run(['build']);
  assert.equal(again.status, 0, show(again));
  assert.equal(fs.statSync(p.path('.rules/log')).ino, ino, 'not rewritten');
  assert.equal(p.read('.rules/log'), log);

  // The rule comes back: clean knows only what is recorded, and the forgotten jobs are not.
  p.write({ Rulefile: withOld });
  const clean = p.run(['clean', '-n']);
  assert.equal(clean.status, 0, show(clean));
  assert.deepEqual(nonEmptyLines(clean.stdout).sort(), ['would remove keep.txt', 'would remove old/7.txt']);
});
