// Depfiles (SPEC §6) on a real C project: every object compiled with
// `cc -MD -MF {output}.d`, so the headers each one includes are known to
// `rules` only through its depfile. Editing a header rebuilds exactly the
// objects that include it (and the link); nothing else, and never "nothing to
// do" from the fast path. Needs a C compiler (scripts/test-tools.sh installs
// one when missing).

import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { project, show, yaml, type Project, type RunResult } from './helpers.js';

const FAST_LINE = /^rules: all \d+ files as the last build left them$/m;

const RULEFILE = yaml(
  'default: app',
  'rules:',
  '  app:',
  '    inputs: [obj/main.o, obj/util.o, obj/shapes.o]',
  '    outputs: app',
  '    run: echo link >> ran.log; cc {inputs} -o {output}',
  '  compile:',
  '    inputs: "src/{name}.c"',
  '    outputs: "obj/{name}.o"',
  '    depfile: "{output}.d"',
  '    run: echo {name} >> ran.log; cc -Iinclude -MD -MF {output}.d -c {input} -o {output}',
);

/**
 * util.h: included by main.c and util.c; shapes.h: by main.c and shapes.c;
 * version.h: by main.c alone; <stdio.h>: by main.c (a system header, outside
 * the project).
 */
const SOURCES = {
  'include/util.h': '#define FACTOR 2\nint twice(int x);\n',
  'include/shapes.h': 'int square(int x);\n',
  'include/version.h': '#define VERSION "1.0"\n',
  'src/main.c': [
    '#include <stdio.h>',
    '#include "util.h"',
    '#include "shapes.h"',
    '#include "version.h"',
    'int main(void) { printf("%s %d %d\\n", VERSION, twice(3), square(3)); return 0; }',
    '',
  ].join('\n'),
  'src/util.c': '#include "util.h"\nint twice(int x) { return x * FACTOR; }\n',
  'src/shapes.c': '#include "shapes.h"\nint square(int x) { return x * x; }\n',
};

function hasCompiler(): boolean {
  return spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** `rules ARGS` expecting `status`; returns the result and the jobs it ran (ran.log lines it added, sorted). */
function rules(p: Project, args: string[], status = 0): { r: RunResult; ran: string[] } {
  const before = p.lines('ran.log').length;
  const r = p.run(args);
  assert.equal(r.status, status, show(r));
  return { r, ran: p.lines('ran.log').slice(before).sort() };
}

function app(p: Project): string {
  return execFileSync(p.path('app'), { encoding: 'utf8' });
}

function leftoverDepfiles(p: Project): string[] {
  return fs.readdirSync(p.path('obj')).filter((f) => f.endsWith('.d'));
}

/** A built C project; its first build compiled and linked everything. */
function cProject(t: TestContext): Project {
  assert.ok(hasCompiler(), 'a C compiler (cc) is needed: scripts/test-tools.sh installs one');
  const p = project(t, { Rulefile: RULEFILE, ...SOURCES });
  const first = rules(p, ['build']);
  assert.deepEqual(first.ran, ['link', 'main', 'shapes', 'util']);
  assert.equal(app(p), '1.0 6 9\n');
  assert.deepEqual(leftoverDepfiles(p), [], 'the depfiles are deleted once read');
  return p;
}

describe('depfiles on a real C project', () => {
  test('a header edited: exactly the objects including it and the link rebuild; then nothing to do', (t) => {
    const p = cProject(t);
    const again = rules(p, ['build', '-v']);
    assert.deepEqual(again.ran, []);
    assert.equal(again.r.stdout, 'rules: nothing to do\n');

    p.write({ 'include/util.h': '#define FACTOR 5\nint twice(int x);\n' });
    const dry = rules(p, ['build', '-n']);
    assert.equal(
      dry.r.stdout,
      [
        'compile[name=main] obj/main.o: input changed: include/util.h',
        'compile[name=util] obj/util.o: input changed: include/util.h',
        'app app: upstream will run: obj/main.o',
        '',
      ].join('\n'),
    );
    const b = rules(p, ['build', '-v']);
    assert.ok(!FAST_LINE.test(b.r.stderr), `an edited header is never answered by the fast path\n${show(b.r)}`);
    assert.deepEqual(b.ran, ['link', 'main', 'util']);
    assert.equal(app(p), '1.0 15 9\n');
    assert.deepEqual(leftoverDepfiles(p), []);

    const after = rules(p, ['build', '-v']);
    assert.deepEqual(after.ran, []);
    assert.equal(after.r.stdout, 'rules: nothing to do\n');
    assert.match(after.r.stderr, FAST_LINE, 'once up to date, the fast path answers again');
  });

  test('a header included by one file: that object alone (and the link)', (t) => {
    const p = cProject(t);
    p.write({ 'include/version.h': '#define VERSION "2.0"\n' });
    assert.equal(rules(p, ['build', '-n']).r.stdout.split('\n')[0], 'compile[name=main] obj/main.o: input changed: include/version.h');
    assert.deepEqual(rules(p, ['build']).ran, ['link', 'main']);
    assert.equal(app(p), '2.0 6 9\n');
  });

  test('a header touched without a change: nothing to do (--check hash); newer than the object with --check mtime', (t) => {
    const p = cProject(t);
    p.age('include/shapes.h', 5);
    assert.deepEqual(rules(p, ['build']).ran, []);
    assert.equal(
      rules(p, ['build', '-n', '--check', 'mtime']).r.stdout.split('\n').slice(0, 2).join('\n'),
      'compile[name=main] obj/main.o: input newer than output: include/shapes.h\ncompile[name=shapes] obj/shapes.o: input newer than output: include/shapes.h',
    );
  });

  test('a header deleted: the compile that needs it fails, and the next build runs it again', (t) => {
    const p = cProject(t);
    const header = p.read('include/version.h');
    fs.rmSync(p.path('include/version.h'));
    assert.equal(rules(p, ['build', '-n']).r.stdout.split('\n')[0], 'compile[name=main] obj/main.o: input changed: include/version.h');
    const failed = rules(p, ['build'], 1);
    assert.deepEqual(failed.ran, ['main']);
    assert.match(failed.r.stderr + failed.r.stdout, /version\.h/);
    assert.equal(p.exists('obj/main.o'), false, "a failed job's outputs are removed");
    assert.deepEqual(leftoverDepfiles(p), [], 'the depfile of a failed run is deleted too');
    // Still failing without the header: it runs again.
    assert.deepEqual(rules(p, ['build'], 1).ran, ['main']);
    p.write({ 'include/version.h': header });
    // The object comes out as before the header went: the link is cut off.
    assert.deepEqual(rules(p, ['build']).ran, ['main']);
    assert.deepEqual(rules(p, ['build']).ran, []);
  });

  test('a system header (outside the root) is tracked by its absolute path', (t) => {
    const p = cProject(t);
    const records = p
      .read('.rules/log')
      .split('\n')
      .slice(1)
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l.slice(9)) as { t: string; k: string; d?: [string][] });
    const main = records.filter((r) => r.t === 'D' && r.k === 'obj/main.o').at(-1)!;
    const deps = main.d!.map((row) => row[0]);
    assert.ok(deps.some((d) => d.startsWith('/') && d.endsWith('/stdio.h')), `stdio.h among the deps of main.o, absolute: ${deps.join(' ')}`);
    assert.deepEqual(
      deps.filter((d) => !d.startsWith('/')),
      ['include/util.h', 'include/shapes.h', 'include/version.h'],
    );
  });

  test('a header outside the project, edited: rebuilt, never answered by the fast path', (t) => {
    assert.ok(hasCompiler());
    const p = project(t, SOURCES);
    const ext = fs.mkdtempSync(`${p.dir}-ext-`);
    t.after(() => fs.rmSync(ext, { recursive: true, force: true }));
    fs.writeFileSync(`${ext}/lib.h`, '#define LIB 1\n');
    p.write({
      Rulefile: RULEFILE.replace('-Iinclude', `-Iinclude -I${ext}`),
      'src/shapes.c': '#include "shapes.h"\n#include "lib.h"\nint square(int x) { return x * x * LIB; }\n',
    });
    assert.deepEqual(rules(p, ['build']).ran, ['link', 'main', 'shapes', 'util']);
    assert.match(rules(p, ['build', '-v']).r.stderr, FAST_LINE);
    fs.writeFileSync(`${ext}/lib.h`, '#define LIB 2\n');
    assert.equal(rules(p, ['build', '-n']).r.stdout.split('\n')[0], `compile[name=shapes] obj/shapes.o: input changed: ${ext}/lib.h`);
    const b = rules(p, ['build', '-v']);
    assert.ok(!FAST_LINE.test(b.r.stderr), show(b.r));
    assert.deepEqual(b.ran, ['link', 'shapes']);
    assert.equal(app(p), '1.0 6 18\n');
  });

  test('a depfile the command does not write fails the job, naming it', (t) => {
    assert.ok(hasCompiler());
    const p = project(t, { Rulefile: RULEFILE.replace('-MD -MF {output}.d ', ''), ...SOURCES });
    const r = rules(p, ['build', '-j1', 'obj/util.o'], 1);
    assert.match(r.r.stderr + r.r.stdout, /compile\[name=util\]: the command succeeded but did not write its depfile 'obj\/util\.o\.d'/);
    assert.equal(p.exists('obj/util.o'), false);
    assert.equal(rules(p, ['build', '-n', 'obj/util.o']).r.stdout, 'compile[name=util] obj/util.o: output missing: obj/util.o\n');
  });
});
