import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import { WatchScope } from '../../../src/watch/scope.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

const ROOT = '/p';

/** Sources in src/ (a glob) and notes/, outputs next to their sources in data/. */
function scope(): WatchScope {
  const project = projectFrom(yaml`
    rules:
      all:
        inputs:
          - expand: "out/{x}.txt"
            x: { glob: "src/{x}.txt" }
          - data/a.out
          - deep.sum
      copy:
        inputs: ["src/{x}.txt", notes/readme.md]
        outputs: "out/{x}.txt"
        run: cp {input} {output}
      side:
        inputs: "data/{x}.in"
        outputs: "data/{x}.out"
        log: "data/{x}.log"
        run: cp {input} {output}
      deep:
        inputs:
          - "raw/**/*.dat"
        outputs: deep.sum
        run: cat {input} > {output}
  `);
  const fs = new FakeFileSystem().write('src/a.txt', 'src/b.txt', 'notes/readme.md', 'data/a.in', 'raw/x/y/1.dat');
  const graph = buildGraph(project, ['all'], fs);
  return new WatchScope({ root: ROOT, files: [`${ROOT}/Rulefile`, '/etc/rules-config.yaml'], project, graph, exists: () => true });
}

describe('what watch mode watches', () => {
  test('the directories of sources and of config files, flat; glob directories, deep when the glob reaches below', () => {
    const s = scope();
    assert.deepEqual(Object.fromEntries([...s.roots].sort()), {
      '/etc': 'flat',
      '/p': 'flat',
      '/p/data': 'flat',
      '/p/notes': 'flat',
      '/p/raw': 'deep',
      '/p/raw/x/y': 'flat',
      '/p/src': 'flat',
    });
  });

  test('the watcher leaves alone what is not in scope', () => {
    const s = scope();
    assert.equal(s.ignored('/p/src'), false);
    assert.equal(s.ignored('/p/src/new.txt'), false);
    assert.equal(s.ignored('/p/src/sub/deeper.txt'), true, 'a flat directory is not descended into');
    assert.equal(s.ignored('/p/raw/a/b/c/new.dat'), false, 'a deep one is');
    assert.equal(s.ignored('/p/.rules'), true);
    assert.equal(s.ignored('/p/src/node_modules'), true);
    assert.equal(s.ignored('/p/out/a.txt'), true, 'outputs only: not watched');
    assert.equal(s.ignored('/elsewhere/file'), true);
  });

  test('the directories watched: the roots, and inside a deep one every directory but .rules/, .git/, node_modules/', () => {
    const s = scope();
    for (const d of ['/p', '/p/src', '/etc', '/p/raw', '/p/raw/q', '/p/raw/q/r/s', '/p/raw/x/y']) assert.equal(s.watches(d), true, d);
    for (const d of ['/p/src/sub', '/p/out', '/p/data/sub', '/p/raw/.git', '/p/raw/q/node_modules', '/p/raw/q/.rules/x', '/', '/elsewhere']) assert.equal(s.watches(d), false, d);
    for (const d of ['/p/raw', '/p/raw/q', '/p/raw/x/y']) assert.equal(s.descends(d), true, d);
    for (const d of ['/p', '/p/src', '/etc', '/']) assert.equal(s.descends(d), false, d);
  });

  test('changes that matter: sources, glob matches, Rulefile and config files', () => {
    const s = scope();
    for (const p of ['/p/src/a.txt', '/p/src/new.txt', '/p/notes/readme.md', '/p/data/a.in', '/p/raw/q/new.dat', '/p/Rulefile', '/etc/rules-config.yaml']) {
      assert.equal(s.matters(p), true, p);
    }
  });

  test('changes that do not: outputs and logs (even beside sources), other files, .rules/', () => {
    const s = scope();
    for (const p of ['/p/data/a.out', '/p/data/a.log', '/p/out/a.txt', '/p/deep.sum', '/p/src/notes.md', '/p/data/tmp123', '/p/.rules/log', '/p/notes/other.md', '/etc/passwd']) {
      assert.equal(s.matters(p), false, p);
    }
  });

  test('without a graph (the Rulefile did not load), everything under the root matters but .rules/', () => {
    const s = new WatchScope({ root: ROOT, files: [`${ROOT}/Rulefile`], exists: () => true });
    assert.equal(s.roots.get('/p'), 'deep');
    assert.equal(s.matters('/p/anything/at/all.txt'), true);
    assert.equal(s.matters('/p/.rules/log'), false);
    assert.equal(s.matters('/p/node_modules/x/index.js'), false);
  });

  test('a watched directory, or one holding it, coming or going', () => {
    const s = scope();
    assert.equal(s.holdsRoot('/p/raw'), true);
    assert.equal(s.holdsRoot('/p/raw/x'), true, 'holds raw/x/y');
    assert.equal(s.holdsRoot('/p/out'), false);
    assert.equal(s.holdsRoot('/p/sr'), false);
  });

  test('a directory that does not exist yet is watched for through its nearest existing parent', () => {
    const project = projectFrom(yaml`
      rules:
        all:
          inputs:
            - expand: "out/{x}.txt"
              x: { glob: "data/new/{x}.txt" }
        copy:
          inputs: "data/new/{x}.txt"
          outputs: "out/{x}.txt"
          run: cp {input} {output}
    `);
    const graph = buildGraph(project, ['all'], new FakeFileSystem());
    const s = new WatchScope({ root: ROOT, files: [`${ROOT}/Rulefile`], project, graph, exists: (d) => d === '/p' || d === '/' });
    assert.deepEqual(s.watchList, ['/p']);
    assert.equal(s.roots.get('/p/data/new'), 'flat');
    assert.equal(s.holdsRoot('/p/data'), true, 'its appearing is a change');
    assert.deepEqual(s.counts, { files: 1, dirs: 1 });
  });

  test('paths are shown relative to the root', () => {
    const s = scope();
    assert.equal(s.rel('/p/src/a.txt'), 'src/a.txt');
    assert.equal(s.rel('/etc/rules-config.yaml'), '/etc/rules-config.yaml');
  });
});
