// The up-to-date stamp holds what the build looked at (src/state/stamp.ts):
// every directory a glob listed, the loader's included, every path stat'ed.
// A change to any of them sends the next build down the full path; a change
// to something the build never looked at does not.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { project, show, yaml, type Project } from './helpers.js';

const FAST_LINE = /^rules: all (\d+) files as the last build left them$/m;

const RULEFILE = yaml(
  'include: ["rules/*.yaml"]',
  'default: all',
  'rules:',
  '  all:',
  '    inputs:',
  '      - expand: "out/{name}.txt"',
  '        name: { glob: "src/{name}.txt" }',
);
const COPY = yaml('rules:', '  copy:', '    inputs: "src/{name}.txt"', '    outputs: "out/{name}.txt"', '    run: echo copy {name} >> runs.log; cp {input} {output}');

/** `rules build -v`: whether the fast path answered, and the jobs that ran. */
function build(p: Project): { fast: boolean; ran: string[] } {
  const before = p.lines('runs.log').length;
  const r = p.run(['build', '-v']);
  assert.equal(r.status, 0, show(r));
  return { fast: FAST_LINE.test(r.stderr), ran: p.lines('runs.log').slice(before).sort() };
}

function built(t: Parameters<typeof project>[0]): Project {
  const p = project(t, { Rulefile: RULEFILE, 'rules/copy.yaml': COPY, 'src/a.txt': 'alpha\n', 'src/b.txt': 'beta\n' });
  assert.deepEqual(build(p), { fast: false, ran: ['copy a', 'copy b'] });
  assert.deepEqual(build(p), { fast: true, ran: [] });
  return p;
}

describe('the stamp holds what the build looked at', () => {
  test('a file that matches no glob, in a directory a glob listed: the full path decides, then the fast path again', (t) => {
    const p = built(t);
    p.write({ 'src/notes.md': 'not an input\n' });
    assert.deepEqual(build(p), { fast: false, ran: [] });
    assert.deepEqual(build(p), { fast: true, ran: [] });
  });

  test('a file in the directory of an include glob: the full path decides', (t) => {
    const p = built(t);
    p.write({ 'rules/README': 'not yaml\n' });
    assert.deepEqual(build(p), { fast: false, ran: [] });
    assert.deepEqual(build(p), { fast: true, ran: [] });
  });

  test('files where the build never looked may come and go', (t) => {
    const p = built(t);
    p.write({ 'notes.md': 'n\n', 'docs/a.txt': 'd\n', 'out/extra.txt': 'e\n' });
    assert.deepEqual(build(p), { fast: true, ran: [] });
  });
});
