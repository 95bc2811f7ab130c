// Failing jobs: stop or keep going (-k), outputs of failed jobs deleted,
// retries, a job that "succeeds" without making its output, and log files.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { progressLines, project, show, waitFor, within, yaml } from './helpers.js';

describe('a failing job', () => {
  // Two independent branches: bad -> bad_after, and good -> good_after.
  const rulefile = yaml(
    'default: all',
    'rules:',
    '  all:',
    '    inputs: [bad_after.txt, good_after.txt]',
    '  bad:',
    '    inputs: in.txt',
    '    outputs: bad.txt',
    '    run: echo {output} >> ran.log; echo partial > {output}; echo going wrong; exit 3',
    '  bad_after:',
    '    inputs: bad.txt',
    '    outputs: bad_after.txt',
    '    run: echo {output} >> ran.log; cp {input} {output}',
    '  good:',
    '    inputs: in.txt',
    '    outputs: good.txt',
    '    run: echo {output} >> ran.log; echo good > {output}',
    '  good_after:',
    '    inputs: good.txt',
    '    outputs: good_after.txt',
    '    run: echo {output} >> ran.log; cp {input} {output}',
  );

  test('without -k the build stops: exit 1, nothing else started, partial output deleted', (t) => {
    const p = project(t, { Rulefile: rulefile, 'in.txt': 'x\n' });
    const r = p.run(['build', '-j1']);
    assert.equal(r.status, 1, show(r));
    // `bad` comes first in Rulefile order; after it fails nothing else starts.
    assert.deepEqual(p.lines(), ['bad.txt']);
    assert.equal(p.exists('bad.txt'), false, 'the failed job\'s partial output is deleted');
    assert.equal(p.exists('bad_after.txt'), false);
    assert.equal(p.exists('good.txt'), false);
    assert.equal(p.read('in.txt'), 'x\n', 'inputs are never deleted');
    assert.match(r.stderr, /^FAILED: bad: exit status 3$/m);
    assert.match(r.stderr, /command: .*exit 3/);
    assert.match(r.stderr, /^going wrong$/m);
    assert.match(r.stderr, /^rules: build failed: 1 job failed, 3 not run \(0 done\)$/m);
  });

  test('with -k the independent branch completes, dependents of the failure do not run; exit 1', (t) => {
    const p = project(t, { Rulefile: rulefile, 'in.txt': 'x\n' });
    const r = p.run(['build', '-j1', '-k']);
    assert.equal(r.status, 1, show(r));
    assert.deepEqual(p.lines(), ['bad.txt', 'good.txt', 'good_after.txt']);
    assert.equal(p.exists('bad.txt'), false);
    assert.equal(p.exists('bad_after.txt'), false);
    assert.equal(p.read('good_after.txt'), 'good\n');
    assert.match(r.stderr, /^FAILED: bad: exit status 3$/m);
    assert.match(r.stderr, /^rules: build failed: 1 job failed, 1 not run \(2 done\)$/m);
    assert.deepEqual(progressLines(r.stdout), ['[2/4] good', '[3/4] good_after']);

    // --keep-going is the long form; the failed job is retried on the next build, the good branch is done.
    const again = p.run(['build', '--keep-going', '-j2']);
    assert.equal(again.status, 1, show(again));
    assert.deepEqual(p.lines().slice(3), ['bad.txt']);
  });

  test('with -j2 and no -k, a job already running finishes, but nothing new starts', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'default: all',
        'rules:',
        '  all:',
        '    inputs: [bad.txt, slow_after.txt]',
        '  bad:',
        '    outputs: bad.txt',
        // Fails once the slow job is running.
        '    run: i=0; while [ ! -e slow.started ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i+1)); done; exit 1',
        '  slow:',
        '    outputs: slow.txt',
        // Finishes when the test says so (after rules reported the failure), or after 10 s.
        '    run: touch slow.started; i=0; while [ ! -e release ] && [ $i -lt 500 ]; do sleep 0.02; i=$((i+1)); done; echo slow > {output}',
        '  slow_after:',
        '    inputs: slow.txt',
        '    outputs: slow_after.txt',
        '    run: cp {input} {output}',
      ),
    });
    const run = p.start(['build', '-j2']);
    await waitFor(() => run.stderr().includes('FAILED: bad: exit status 1'), 'the failure of bad');
    p.write({ release: '' });
    const r = await within(run.done, 20_000, 'the build to end');
    assert.equal(r.status, 1, show(r));
    assert.equal(p.read('slow.txt'), 'slow\n', 'the running job was allowed to finish');
    assert.equal(p.exists('slow_after.txt'), false, 'its dependent was not started');
    assert.match(r.stdout, /^\[\d\/3\] slow$/m);
  });
});

describe('retries, missing outputs and log files', () => {
  test('retries: a job failing on its first attempt and passing on the second makes the build succeed', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  flaky:',
        '    outputs: out.txt',
        '    retries: 1',
        '    run: n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; if [ $n -lt 2 ]; then echo attempt $n failed; exit 1; fi; echo ok > {output}',
      ),
    });
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('count'), '2\n');
    assert.equal(p.read('out.txt'), 'ok\n');
    assert.match(r.stderr, /^FAILED \(will retry\): flaky: exit status 1$/m);
    assert.match(r.stdout, /^\[1\/1\] flaky$/m);
    assert.match(r.stdout, /rules: 1 job done/);
  });

  test('retries exhausted: exit 1 after 1 + retries attempts', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  flaky:',
        '    outputs: out.txt',
        '    retries: 2',
        '    run: echo try >> count; echo partial > {output}; exit 1',
      ),
    });
    const r = p.run(['build']);
    assert.equal(r.status, 1, show(r));
    assert.deepEqual(p.lines('count'), ['try', 'try', 'try']);
    assert.equal(p.exists('out.txt'), false);
    assert.match(r.stderr, /^FAILED: flaky: exit status 1$/m);
  });

  test('a job that exits 0 without creating a declared output fails, and its other outputs are deleted', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  lazy:',
        '    outputs: [made.txt, notmade.txt]',
        '    run: echo made > made.txt',
      ),
    });
    const r = p.run(['build']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /^FAILED: lazy: .*notmade\.txt/m);
    assert.equal(p.exists('made.txt'), false);
    assert.equal(p.exists('notmade.txt'), false);
  });

  test('log: the job\'s stdout and stderr go to its log file, not the console; other jobs\' output is printed', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'default: all',
        'rules:',
        '  all:',
        '    inputs: [out/x.txt, loud.txt]',
        '  quiet:',
        '    outputs: "out/{name}.txt"',
        '    log: "logs/quiet/{name}.log"',
        '    run: echo to-stdout {name}; echo to-stderr {name} >&2; echo {name} > {output}',
        '  loud:',
        '    outputs: loud.txt',
        '    run: echo loud-line-1; echo loud-line-2 >&2; touch {output}',
      ),
    });
    const r = p.run(['build', '-j1']);
    assert.equal(r.status, 0, show(r));
    const log = p.read('logs/quiet/x.log');
    assert.match(log, /^to-stdout x$/m);
    assert.match(log, /^to-stderr x$/m);
    assert.doesNotMatch(r.stdout + r.stderr, /to-stdout|to-stderr/);
    // Output captured whole and printed after the job's progress line.
    assert.match(r.stdout, /^\[\d\/2\] loud\nloud-line-1\nloud-line-2\n/m);
  });

  test('log of a failing job: the failure message names the log', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  broken:',
        '    outputs: out.txt',
        '    log: logs/broken.log',
        '    run: echo the-reason >&2; exit 4',
      ),
    });
    const r = p.run(['build']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /^FAILED: broken: exit status 4$/m);
    assert.equal(p.read('logs/broken.log'), 'the-reason\n');
    // The log is named, and what the job printed there is shown.
    assert.match(r.stderr, /^ {2}log: logs\/broken\.log:\nthe-reason$/m);
  });

  test('a failure shows the last 20 lines of a long log, and a command of several lines indented line by line', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  broken:',
        '    outputs: out.txt',
        '    log: logs/broken.log',
        '    run: |',
        '      seq 1 50',
        '      echo the-end >&2',
        '      exit 4',
      ),
    });
    const r = p.run(['build']);
    assert.equal(r.status, 1, show(r));
    const tail = [...Array.from({ length: 19 }, (_, i) => String(i + 32)), 'the-end'];
    assert.ok(
      r.stderr.startsWith(['FAILED: broken: exit status 4', '  command:', '    seq 1 50', '    echo the-end >&2', '    exit 4', '  log: logs/broken.log, its last 20 lines:', ...tail, ''].join('\n')),
      show(r),
    );
    assert.doesNotMatch(r.stderr, /^31$/m);
  });

  test('a long output: printed whole, then the failure, ending with its last 20 lines', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  chatty:', '    outputs: out.txt', '    run: seq 1 30; exit 2') });
    const r = p.run(['build']);
    assert.equal(r.status, 1, show(r));
    const all = Array.from({ length: 30 }, (_, i) => String(i + 1));
    assert.equal(
      r.stderr,
      [...all, 'FAILED: chatty: exit status 2', '  command: seq 1 30; exit 2', '  output, its last 20 lines:', ...all.slice(10), 'rules: build failed: 1 job failed (0 done)', ''].join('\n'),
    );
  });

  test('a job killed by a signal: the signal is named', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  killed:', '    outputs: out.txt', '    run: kill -9 $$') });
    const r = p.run(['build']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /^FAILED: killed: killed by SIGKILL\n {2}command: kill -9 \$\$$/m);
  });
});
