// Never lose a file through an output path: with a hostile Rulefile, target
// or config, `rules` refuses to start (exit 2, naming file:line:col) and the
// Rulefile, the sources, .rules/ and a file outside the project all survive.
// A directory where an output file should be is never deleted.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { project, show, yaml, type Project, type RunResult } from './helpers.js';

// The project lives in proj/; outside.txt and esc.out sit next to it, outside the root.
const GOOD = yaml('rules:', '  copy:', '    inputs: src.txt', '    outputs: out/a.txt', '    run: cp src.txt out/a.txt');

/** A project built once with a good Rulefile (so .rules/ exists), then given `rulefile`. */
function builtThenGiven(t: Parameters<typeof project>[0], rulefile: string): Project {
  const p = project(t, { 'proj/Rulefile': GOOD, 'proj/src.txt': 'source\n', 'outside.txt': 'sentinel\n', 'esc.out': 'mine\n' });
  const r = p.run(['build', 'out/a.txt'], { cwd: 'proj' });
  assert.equal(r.status, 0, show(r));
  assert.ok(p.exists('proj/.rules'), 'the good build made .rules/');
  p.write({ 'proj/Rulefile': rulefile });
  return p;
}

/** Runs `args` in proj/: exit 2, the message at `where`, no stack trace, and not a file changed anywhere. */
function refused(p: Project, args: string[], where: string, message: string | RegExp): RunResult {
  const before = p.snapshot();
  const r = p.run(args, { cwd: 'proj' });
  assert.equal(r.status, 2, show(r));
  const line = r.stderr.split('\n').find((l) => l.startsWith(`${where}: `));
  assert.ok(line, `a message at ${where}:\n${show(r)}`);
  if (typeof message === 'string') assert.ok(line.includes(message), `${JSON.stringify(line)} should include ${JSON.stringify(message)}`);
  else assert.match(line, message);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, 'no stack trace');
  assert.deepEqual(p.snapshot(), before, 'nothing changed: Rulefile, sources, .rules/, outside files');
  assert.equal(p.read('outside.txt'), 'sentinel\n');
  assert.equal(p.read('proj/src.txt'), 'source\n');
  return r;
}

function withOutput(output: string): string {
  return yaml('rules:', '  bad:', '    inputs: src.txt', `    outputs: ${output}`, '    run: "false"');
}

describe('hostile outputs are refused before anything is deleted', () => {
  test('the root, outside it, .rules/, an absolute path: build and clean exit 2 at the output', (t) => {
    const p = builtThenGiven(t, GOOD);
    const cases: [string, string][] = [
      ['"."', 'is the project root itself'],
      ['""', 'is the project root itself'],
      ['keep/..', 'is the project root itself'],
      ['..', 'is outside the project root'],
      ['../outside.txt', 'is outside the project root'],
      ['.rules/log', 'is inside .rules/'],
      [JSON.stringify(p.path('outside.txt')), 'is an absolute path'],
    ];
    for (const [output, message] of cases) {
      p.write({ 'proj/Rulefile': withOutput(output) });
      refused(p, ['build', '-k'], 'Rulefile:4:14', message);
      refused(p, ['clean'], 'Rulefile:4:14', message);
    }
    p.write({ 'proj/Rulefile': yaml('rules:', '  bad:', '    outputs: out/b.txt', '    log: ../outside.txt', '    run: "false"') });
    refused(p, ['build', 'out/b.txt'], 'Rulefile:4:10', "log '../outside.txt' of rule 'bad' is outside the project root");
  });
});

describe('wildcard values and config values that leave the root', () => {
  const byDir = yaml(
    'config:',
    '  dirs: [a]',
    'rules:',
    '  all:',
    '    inputs:',
    '      expand: "{d}/esc.out"',
    '      d: { config: dirs }',
    '  gen:',
    '    outputs: "{dir}/{name}.out"',
    '    run: "false"',
  );

  test('rules build ../esc.out, --config dirs=[..] into an expand, a wildcard that is "."', (t) => {
    const p = builtThenGiven(t, byDir);
    refused(p, ['build', '../esc.out'], 'Rulefile:9:14', "is '../esc.out' for gen[dir=..,name=esc], which is outside the project root");
    refused(p, ['build', 'x/../../esc.out'], 'Rulefile:9:14', 'which is outside the project root');
    refused(p, ['build', 'all', '--config', 'dirs=[..]'], 'Rulefile:9:14', "(needed by 'all'), which is outside the project root");
    refused(p, ['clean', 'all', '--config', 'dirs=[..]'], 'Rulefile:9:14', 'which is outside the project root');
    assert.equal(p.read('esc.out'), 'mine\n');
    p.write({ 'proj/Rulefile': yaml('rules:', '  gen:', '    inputs: src.txt', '    outputs: "{name}"', '    run: "false"') });
    refused(p, ['build', '.'], 'Rulefile:4:14', "is '.' for gen[name=.], which is the project root itself");
  });
});

describe('paths that cannot be paths', () => {
  test('a NUL byte or a name over 255 bytes, in the Rulefile or as a target: exit 2, no stack trace', (t) => {
    const p = builtThenGiven(t, yaml('rules:', '  bad:', '    inputs: "a\\0b"', '    outputs: out/b.txt', '    run: "false"'));
    refused(p, ['build', 'out/b.txt'], 'Rulefile:3:13', "'inputs' entry 'a\\0b' of rule 'bad' contains a NUL byte");
    const long = 'n'.repeat(300);
    p.write({ 'proj/Rulefile': yaml('rules:', '  gen:', '    inputs: "{x}.in"', '    outputs: "{x}.txt"', '    run: "false"', '  bad:', `    inputs: ${long}`, '    outputs: b.txt', '    run: "false"') });
    refused(p, ['build', 'b.txt'], 'Rulefile:7:13', 'has a component of 300 bytes');
    p.write({ 'proj/Rulefile': GOOD });
    const r = p.run(['build', `${long}.txt`], { cwd: 'proj' });
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /^rules: target 'n+…n+\.txt' has a component of 304 bytes/);
    assert.doesNotMatch(r.stderr, /internal error/);
  });
});

describe('a directory where an output file should be', () => {
  test('is never deleted: the job fails naming it, and the user files in it survive', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  gen:', '    inputs: src.txt', '    outputs: sub', '    run: echo made > sub'),
      'src.txt': 'source\n',
      'sub/user.txt': 'mine\n',
      'sub/deep/more.txt': 'more\n',
    });
    // Older than its input: stale, so the job runs (a directory that looks up to date is left alone anyway).
    p.age('sub', -100);
    const r = p.run(['build', 'sub']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /output 'sub' is a directory, not a file: it is left as it is/);
    assert.equal(p.read('sub/user.txt'), 'mine\n');
    assert.equal(p.read('sub/deep/more.txt'), 'more\n');
  });

  test('a job that makes a directory instead of its output file fails, and the directory stays', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  gen:', '    outputs: made', '    run: mkdir made && echo own > made/own.txt'),
    });
    const r = p.run(['build', 'made']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /the command succeeded but output 'made' is a directory, not a file/);
    assert.equal(p.read('made/own.txt'), 'own\n');
  });

  test('rules clean reports a recorded output that is now a directory and deletes nothing in it', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  gen:', '    inputs: src.txt', '    outputs: [sub, other.txt]', '    run: cp src.txt sub && cp src.txt other.txt'),
      'src.txt': 'source\n',
    });
    const b = p.run(['build', 'sub']);
    assert.equal(b.status, 0, show(b));
    // The user puts a directory of their own where the job's file was.
    fs.rmSync(p.path('sub'));
    p.write({ 'sub/user.txt': 'mine\n' });
    const dry = p.run(['clean', '-n']);
    assert.equal(dry.status, 1, show(dry));
    assert.equal(dry.stdout, 'would remove other.txt\n');
    assert.match(dry.stderr, /not removing 'sub': it is a directory, not a file/);
    const r = p.run(['clean']);
    assert.equal(r.status, 1, show(r));
    assert.equal(r.stdout, 'removed other.txt\n');
    assert.match(r.stderr, /not removing 'sub': it is a directory, not a file/);
    assert.equal(p.read('sub/user.txt'), 'mine\n');
    assert.equal(p.exists('other.txt'), false);
    assert.equal(p.read('src.txt'), 'source\n');
  });
});
