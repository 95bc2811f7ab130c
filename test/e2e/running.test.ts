// How jobs are run: shell, environment, working directory, output
// directories, stale outputs removed first, Rulefile lookup, -q and -v.

import fs from 'node:fs';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { progressLines, project, show, yaml } from './helpers.js';

describe('running jobs', () => {
  test('the default shell is /bin/sh -c; a Rulefile shell replaces it', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'shell: bash -euo pipefail -c',
        'rules:',
        '  which:',
        '    outputs: shell.txt',
        '    run: echo "bash=${{BASH_VERSION:+yes}}" > {output}; false | true',
      ),
    });
    const r = p.run(['build']);
    // pipefail: `false | true` fails under the configured shell.
    assert.equal(r.status, 1, show(r));

    const q = project(t, {
      Rulefile: yaml('rules:', '  which:', '    outputs: shell.txt', '    run: echo "bash=${{BASH_VERSION:+yes}}" > {output}; false | true'),
    });
    const r2 = q.run(['build']);
    assert.equal(r2.status, 0, show(r2));
    assert.equal(q.read('shell.txt'), 'bash=\n', '/bin/sh is not bash here (dash), and pipefail is off');
  });

  test('env: Rulefile env and rule env reach the job (rule env wins)', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'env: { GREETING: hello, SHARED: top }',
        'rules:',
        '  e:',
        '    outputs: "env_{x}.txt"',
        '    env: { SHARED: "rule-{x}" }',
        '    run: echo "$GREETING $SHARED" > {output}',
      ),
    });
    const r = p.run(['build', 'env_1.txt']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('env_1.txt'), 'hello rule-1\n');
  });

  test('jobs run in the project root, with -f from a subdirectory; output and log directories are created', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  deep:',
        '    outputs: "out/a/b/{x}.txt"',
        '    log: "logs/x/y/{x}.log"',
        '    run: pwd > {output}; echo logged',
      ),
      'sub/dir/.keep': '',
    });
    // A target path is taken relative to the working directory.
    const r = p.run(['build', '-f', '../../Rulefile', '../../out/a/b/1.txt'], { cwd: 'sub/dir' });
    assert.equal(r.status, 0, show(r));
    assert.equal(fs.realpathSync(p.read('out/a/b/1.txt').trim()), fs.realpathSync(p.dir));
    assert.equal(p.read('logs/x/y/1.log'), 'logged\n');
    assert.equal(p.exists('sub/dir/out'), false);
  });

  test('an existing output is deleted before its job runs', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  o:', '    outputs: o.txt', '    run: if [ -e {output} ]; then echo still-there > {output}; else echo fresh > {output}; fi'),
      'o.txt': 'old\n',
    });
    const r = p.run(['build', '-B']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('o.txt'), 'fresh\n');
  });

  test('the Rulefile may be named Rulefile.yaml or Rulefile.yml', (t) => {
    for (const name of ['Rulefile.yaml', 'Rulefile.yml']) {
      const p = project(t, { [name]: yaml('rules:', '  a:', '    outputs: a.txt', `    run: echo ${name} > {output}`) });
      const r = p.run(['build']);
      assert.equal(r.status, 0, show(r));
      assert.equal(p.read('a.txt'), `${name}\n`);
    }
  });

  test('-q prints no progress, only job output; -v prints reason and command as a job starts', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo said-a; touch {output}') });
    let r = p.run(['build', '-q']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(progressLines(r.stdout), []);
    assert.match(r.stdout, /said-a/);
    assert.doesNotMatch(r.stdout, /jobs? done/);

    r = p.run(['build', '-v', '-B']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^a: forced$/m);
    assert.match(r.stdout, /^\s+echo said-a; touch a\.txt$/m);
  });
});

describe('simple commands and BASH_ENV', () => {
  test('with a bash shell and BASH_ENV set, a simple command still runs in bash (which sources BASH_ENV)', (t) => {
    const p = project(t, {
      Rulefile: yaml('shell: bash -c', 'env: { BASH_ENV: "setup.sh" }', 'rules:', '  a:', '    outputs: a.txt', '    run: touch {output}'),
      'setup.sh': 'echo sourced >> ran.log\n',
    });
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(p.lines(), ['sourced']);
  });
});

describe('simple commands and exported bash functions', () => {
  test('with a bash shell, a command that is an exported function (like `module` on HPC systems) still works', (t) => {
    const p = project(t, {
      Rulefile: yaml('shell: bash -c', 'env: { "BASH_FUNC_greet%%": "() { echo hello-from-function > \\"$1\\"; }" }', 'rules:', '  a:', '    outputs: a.txt', '    run: greet {output}'),
    });
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('a.txt'), 'hello-from-function\n');
  });
});
