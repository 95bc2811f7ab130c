// Watch mode and discovered dependencies (SPEC §6): a header a depfile named
// is watched like a source when it lies inside the root; one outside (a system
// header) is not watched at all.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import { WatchScope } from '../../../src/watch/scope.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

const ROOT = '/p';

function scope(discovered?: string[]): WatchScope {
  const project = projectFrom(yaml`
    rules:
      cc:
        inputs: "src/{name}.c"
        outputs: "obj/{name}.o"
        depfile: "{output}.d"
        run: cc -MD -MF {output}.d -c {input} -o {output}
  `);
  const graph = buildGraph(project, ['obj/a.o'], new FakeFileSystem().write('src/a.c'));
  return new WatchScope({ root: ROOT, files: [`${ROOT}/Rulefile`], project, graph, ...(discovered ? { discovered } : {}), exists: () => true });
}

describe('watch: discovered dependencies', () => {
  test('inside the root: their directories watched flat, a change to one matters', () => {
    const s = scope(['include/a.h', 'include/sub/b.h', '/usr/include/stdio.h']);
    assert.deepEqual(Object.fromEntries([...s.roots].sort()), { '/p': 'flat', '/p/include': 'flat', '/p/include/sub': 'flat', '/p/src': 'flat' });
    assert.equal(s.matters('/p/include/a.h'), true);
    assert.equal(s.matters('/p/include/sub/b.h'), true);
    assert.equal(s.matters('/p/include/other.h'), false, 'a header no job included');
    assert.deepEqual(s.discovered, ['include/a.h', 'include/sub/b.h']);
  });

  test('outside the root: not watched', () => {
    const s = scope(['/usr/include/stdio.h']);
    assert.equal(s.roots.has('/usr/include'), false);
    assert.equal(s.matters('/usr/include/stdio.h'), false);
  });

  test('none known yet (no run has left a record): only the sources', () => {
    const s = scope();
    assert.deepEqual(Object.fromEntries([...s.roots].sort()), { '/p': 'flat', '/p/src': 'flat' });
  });
});
