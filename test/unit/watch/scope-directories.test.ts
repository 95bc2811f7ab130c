// What watch mode watches of directories (SPEC §6): a source that is a
// directory is watched deep, and a change anywhere in it matters; nothing
// inside a directory output matters, even where a glob looks.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import { WatchScope } from '../../../src/watch/scope.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

const ROOT = '/p';

function scope(grown = false): WatchScope {
  const project = projectFrom(yaml`
    rules:
      all:
        inputs: [report.txt, count.txt]
      report:
        inputs: data
        outputs: report.txt
        run: ls {input} > {output}
      split:
        inputs: seed.txt
        outputs: chunks/
        run: split {input} {output}/
      count:
        inputs: ["chunks/", "chunks/*.txt"]
        outputs: count.txt
        run: ls {input} > {output}
  `);
  const fs = new FakeFileSystem().write('data/a.txt', 'data/sub/b.txt', 'seed.txt', 'chunks/x.txt');
  const graph = buildGraph(project, ['all'], fs);
  // As a build leaves it (SPEC §7): the glob looking inside chunks/ matched once split had run.
  if (grown) for (const job of [...graph.jobs]) if (job.pending) graph.grow!(job);
  return new WatchScope({ root: ROOT, files: [`${ROOT}/Rulefile`], project, graph, exists: () => true, isDirectory: (p) => fs.stat(p)?.isDirectory === true });
}

describe('watch mode and directories', () => {
  test('a source directory is watched deep: a change anywhere in it matters', () => {
    const s = scope();
    assert.equal(s.roots.get('/p/data'), 'deep');
    assert.equal(s.ignored('/p/data/sub/deeper/new.txt'), false);
    assert.equal(s.matters('/p/data/sub/b.txt'), true);
    assert.equal(s.matters('/p/data/new/file.txt'), true);
    assert.equal(s.matters('/p/datum.txt'), false, 'a sibling whose name starts alike is not in it');
    assert.deepEqual([...s.directorySources], ['data']);
  });

  test('nothing inside a directory output matters, even a path a glob matches', () => {
    const s = scope();
    assert.equal(s.matters('/p/chunks/new.txt'), false);
    assert.equal(s.matters('/p/chunks/x.txt'), false);
    assert.equal(s.matters('/p/chunks'), false);
    assert.equal(s.matters('/p/seed.txt'), true);
  });

  test('a glob that looks inside a directory output watches nothing there: the build remaking it starts no build (SPEC §7)', () => {
    const s = scope(true);
    assert.deepEqual([...s.globMatches.keys()], ['chunks/*.txt'], 'the glob was matched');
    assert.equal(s.roots.has('/p/chunks'), false);
    // Removed and made again by its job: not a watched directory coming or going.
    assert.equal(s.holdsRoot('/p/chunks'), false);
    assert.equal(s.matters('/p/chunks/x.txt'), false);
    assert.equal(s.roots.get('/p'), 'flat', 'the sources around it are still watched');
    assert.equal(s.matters('/p/seed.txt'), true);
  });
});
