// `rules clean` (SPEC §5): deletes the outputs and log files of jobs recorded
// in the build log — all, or a target's job and everything upstream of it —
// and nothing else: never a source, never a file no rule declares.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nonEmptyLines, project, show, yaml, type Project } from './helpers.js';

const rulefile = yaml(
  'rules:',
  '  gen:',
  '    inputs: "src/{n}.txt"',
  '    outputs: "out/{n}.txt"',
  '    log: "logs/gen/{n}.log"',
  '    run: echo gen {n} >> ran.log; cp {input} {output}; echo made {n}',
  '  merge:',
  '    inputs: [out/a.txt, out/b.txt]',
  '    outputs: merged.txt',
  '    run: echo merge >> ran.log; cat {inputs} > {output}',
  '  other:',
  '    inputs: src/c.txt',
  '    outputs: other/c.txt',
  '    run: echo other >> ran.log; cp {input} {output}',
);
const sources = { 'src/a.txt': 'a\n', 'src/b.txt': 'b\n', 'src/c.txt': 'c\n', 'src/unused.txt': 'u\n' };
const targets = ['merged.txt', 'other/c.txt'];

const ALL_MADE = ['logs/gen/a.log', 'logs/gen/b.log', 'merged.txt', 'other/c.txt', 'out/a.txt', 'out/b.txt'];

function built(t: Parameters<typeof project>[0]): Project {
  const p = project(t, { Rulefile: rulefile, ...sources });
  const r = p.run(['build', ...targets]);
  assert.equal(r.status, 0, show(r));
  assert.equal(p.read('logs/gen/a.log'), 'made a\n');
  // A stray file in an output directory: no rule declares it.
  p.write({ 'out/notes.txt': 'my notes\n', 'logs/gen/mine.log': 'mine\n' });
  return p;
}

/** Project files (not directories, not .rules/). */
function files(p: Project): string[] {
  return p
    .snapshot()
    .filter((l) => !l.endsWith('/') && !l.startsWith('.rules/'))
    .map((l) => l.slice(0, l.indexOf(' ')));
}

/** Paths named by `PREFIX PATH` lines of stdout, sorted. */
function named(stdout: string, prefix: string): string[] {
  return nonEmptyLines(stdout)
    .filter((l) => l.startsWith(`${prefix} `))
    .map((l) => l.slice(prefix.length + 1))
    .sort();
}

describe('rules clean', () => {
  test('-n lists every recorded output and log file and deletes nothing', (t) => {
    const p = built(t);
    const before = p.snapshot();
    const r = p.run(['clean', '-n']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(named(r.stdout, 'would remove'), ALL_MADE);
    assert.equal(nonEmptyLines(r.stdout).length, ALL_MADE.length, r.stdout);
    assert.deepEqual(p.snapshot(), before, 'a dry run changes nothing, .rules/ included');
    // --dry-run is the long form.
    const long = p.run(['clean', '--dry-run']);
    assert.equal(long.status, 0, show(long));
    assert.deepEqual(named(long.stdout, 'would remove'), ALL_MADE);
  });

  test('deletes exactly the outputs and log files of recorded jobs; a build then reruns them', (t) => {
    const p = built(t);
    const before = files(p);
    const r = p.run(['clean']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(named(r.stdout, 'removed'), ALL_MADE);
    assert.deepEqual(
      files(p),
      before.filter((f) => !ALL_MADE.includes(f)),
      'sources, ran.log, the Rulefile and stray files survive',
    );
    assert.equal(p.read('out/notes.txt'), 'my notes\n');
    assert.equal(p.read('logs/gen/mine.log'), 'mine\n');
    assert.equal(p.read('src/a.txt'), 'a\n');

    const again = p.run(['clean']);
    assert.equal(again.status, 0, show(again));
    assert.equal(again.stdout, '', 'nothing left to clean');
    assert.match(again.stderr, /nothing to clean/);

    const dry = p.run(['build', '-n', ...targets]);
    assert.deepEqual(
      nonEmptyLines(dry.stdout).filter((l) => !l.includes('output missing')),
      [],
      `after clean every job misses its output:\n${dry.stdout}`,
    );
    const n = p.lines().length;
    const b = p.run(['build', ...targets]);
    assert.equal(b.status, 0, show(b));
    assert.deepEqual([...p.lines().slice(n)].sort(), ['gen a', 'gen b', 'merge', 'other']);
    assert.equal(p.read('merged.txt'), 'a\nb\n');
    assert.equal(p.read('logs/gen/b.log'), 'made b\n');
  });

  test('TARGET deletes only the outputs of its job and everything upstream, not other branches', (t) => {
    const p = built(t);
    const dry = p.run(['clean', '-n', 'merged.txt']);
    assert.equal(dry.status, 0, show(dry));
    const mergeBranch = ['logs/gen/a.log', 'logs/gen/b.log', 'merged.txt', 'out/a.txt', 'out/b.txt'];
    assert.deepEqual(named(dry.stdout, 'would remove'), mergeBranch);
    assert.equal(p.exists('merged.txt'), true);

    const r = p.run(['clean', 'merged.txt']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(named(r.stdout, 'removed'), mergeBranch);
    for (const f of mergeBranch) assert.equal(p.exists(f), false, f);
    assert.equal(p.read('other/c.txt'), 'c\n', 'the other branch is untouched');
    assert.equal(p.read('out/notes.txt'), 'my notes\n');

    const n = p.lines().length;
    const b = p.run(['build', ...targets]);
    assert.equal(b.status, 0, show(b));
    assert.deepEqual([...p.lines().slice(n)].sort(), ['gen a', 'gen b', 'merge']);
  });

  test('TARGET in the middle of the graph spares its dependents; a job target by file path', (t) => {
    const p = built(t);
    const r = p.run(['clean', 'out/a.txt']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(named(r.stdout, 'removed'), ['logs/gen/a.log', 'out/a.txt']);
    assert.equal(p.exists('merged.txt'), true, 'downstream of the target is not cleaned');
    assert.equal(p.exists('out/b.txt'), true);
    const dry = p.run(['build', '-n', ...targets]);
    assert.deepEqual(nonEmptyLines(dry.stdout), ['gen[n=a] out/a.txt: output missing: out/a.txt', 'merge merged.txt: upstream will run: out/a.txt']);
  });

  test('outputs of a rule removed from the Rulefile since the build are not deleted', (t) => {
    const p = built(t);
    // `other` is gone: nothing declares other/c.txt any more.
    p.write({ Rulefile: rulefile.slice(0, rulefile.indexOf('  other:')) });
    const dry = p.run(['clean', '-n']);
    assert.equal(dry.status, 0, show(dry));
    assert.deepEqual(named(dry.stdout, 'would remove'), ALL_MADE.filter((f) => f !== 'other/c.txt'));
    const r = p.run(['clean']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('other/c.txt'), 'c\n', 'a file no rule declares is never deleted');
    assert.equal(p.exists('merged.txt'), false);
  });

  test('an output that has become a source is not deleted', (t) => {
    const p = built(t);
    // `merge` now has a different output; merged.txt is declared by no rule.
    p.write({ Rulefile: rulefile.replace('outputs: merged.txt', 'outputs: merged2.txt') });
    const r = p.run(['clean']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('merged.txt'), 'a\nb\n');
    assert.equal(p.exists('out/a.txt'), false);
  });

  test('with no build log there is nothing to clean', (t) => {
    const p = project(t, { Rulefile: rulefile, ...sources, 'out/a.txt': 'made by hand\n' });
    const r = p.run(['clean']);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /nothing to clean/);
    assert.equal(p.read('out/a.txt'), 'made by hand\n', 'a job never recorded is not cleaned');
  });

  test('adopted jobs are recorded, so clean deletes their outputs', (t) => {
    const p = project(t, { Rulefile: rulefile, ...sources, 'other/c.txt': 'c\n' });
    p.age('src/c.txt', -100);
    const r = p.run(['build', 'other/c.txt']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(p.lines(), [], 'adopted, not run');
    const c = p.run(['clean']);
    assert.equal(c.status, 0, show(c));
    assert.deepEqual(named(c.stdout, 'removed'), ['other/c.txt']);
    assert.equal(p.read('src/c.txt'), 'c\n');
  });
});
