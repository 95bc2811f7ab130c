// `rules watch` and depfiles (SPEC §6): a header that a compile's depfile
// named is watched, so saving it rebuilds the objects that include it. The
// depfile itself, written and deleted by every run (here beside the sources,
// in a watched directory), never starts a build. Needs a C compiler.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { nonEmptyLines, project, within, yaml, type AsyncRun, type RunResult } from './helpers.js';

const WATCHING = /^rules: watching \d+ files? in \d+ director(y|ies); Ctrl-C to stop$/;
const CHANGED = /^rules: changed: /;

const RULEFILE = yaml(
  'default: app',
  'rules:',
  '  app:',
  '    inputs: [obj/main.o, obj/util.o]',
  '    outputs: app',
  '    run: echo link >> ran.log; cc {inputs} -o {output}',
  '  compile:',
  '    inputs: "src/{name}.c"',
  '    outputs: "obj/{name}.o"',
  '    depfile: "src/{name}.d"',
  '    run: echo {name} >> ran.log; cc -Iinclude -MD -MF src/{name}.d -c {input} -o {output}',
);

const SOURCES = {
  'include/util.h': '#define FACTOR 2\nint twice(int x);\n',
  'include/version.h': '#define VERSION 1\n',
  'src/main.c': '#include <stdio.h>\n#include "util.h"\n#include "version.h"\nint main(void) { printf("%d %d\\n", VERSION, twice(3)); return 0; }\n',
  'src/util.c': '#include "util.h"\nint twice(int x) { return x * FACTOR; }\n',
};

function dump(run: AsyncRun): string {
  return `--- stdout ---\n${run.stdout()}--- stderr ---\n${run.stderr()}`;
}

function count(run: AsyncRun, re: RegExp): number {
  return nonEmptyLines(run.stdout()).filter((l) => re.test(l)).length;
}

/** Waits until build `k` has finished and the watcher is idle again. */
async function idle(run: AsyncRun, k: number): Promise<void> {
  const end = Date.now() + 20_000;
  while (count(run, WATCHING) < k) {
    assert.equal(run.child.exitCode, null, `rules watch exited early\n${dump(run)}`);
    if (Date.now() > end) assert.fail(`timed out waiting for build ${k} to finish\n${dump(run)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(count(run, WATCHING), k, `exactly ${k} builds finished\n${dump(run)}`);
}

async function stop(run: AsyncRun): Promise<RunResult> {
  run.child.kill('SIGINT');
  const r = await within(run.done, 10_000, 'rules watch to exit');
  assert.equal(r.status, 130, dump(run));
  return r;
}

describe('rules watch: discovered headers', () => {
  test('saving a header a depfile named rebuilds the objects that include it; the depfile starts nothing', async (t) => {
    assert.equal(spawnSync('cc', ['--version'], { stdio: 'ignore' }).status, 0, 'a C compiler (cc) is needed: scripts/test-tools.sh installs one');
    const p = project(t, { Rulefile: RULEFILE, ...SOURCES });
    const run = p.start(['watch']);
    await idle(run, 1);
    assert.deepEqual(p.lines('ran.log').sort(), ['link', 'main', 'util']);
    assert.equal(p.exists('src/main.d'), false, 'the depfile was read and deleted');

    p.write({ 'include/util.h': '#define FACTOR 7\nint twice(int x);\n' });
    await idle(run, 2);
    assert.deepEqual(nonEmptyLines(run.stdout()).filter((l) => CHANGED.test(l)), ['rules: changed: include/util.h; building'], dump(run));
    assert.deepEqual(p.lines('ran.log').slice(3).sort(), ['link', 'main', 'util']);

    // Included by main.c alone. No build started on its own in between (the depfiles written and deleted in src/).
    p.write({ 'include/version.h': '#define VERSION 2\n' });
    await idle(run, 3);
    const changed = nonEmptyLines(run.stdout()).filter((l) => CHANGED.test(l));
    assert.deepEqual(changed, ['rules: changed: include/util.h; building', 'rules: changed: include/version.h; building'], dump(run));
    assert.deepEqual(p.lines('ran.log').slice(6).sort(), ['link', 'main']);
    assert.equal(spawnSync(p.path('app'), { encoding: 'utf8' }).stdout, '2 21\n');
    assert.equal(run.stderr(), '', dump(run));
    await stop(run);
  });
});
