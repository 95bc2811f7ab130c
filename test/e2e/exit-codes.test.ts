// Exit statuses: 2 when a build cannot start (and nothing runs), 1 when a job
// fails, 130 when interrupted (running jobs killed, their outputs removed).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nonEmptyLines, processGone, project, show, waitFor, within, yaml, type Project } from './helpers.js';

/** Asserts exit 2, stderr matching `message`, and that no job ran and no state was written. */
function assertCouldNotStart(p: Project, args: string[], message: RegExp): void {
  const r = p.run(args);
  assert.equal(r.status, 2, show(r));
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, 'no stack trace for a user error');
  assert.equal(p.exists('ran.log'), false, 'no job ran');
}

describe('exit status 2: the build cannot start', () => {
  test('YAML syntax error names Rulefile:LINE:COL', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a:', '    outputs: [a.txt', '    run: touch a.txt') });
    assertCouldNotStart(p, ['build'], /^Rulefile:\d+:\d+: .*YAML/m);
  });

  test('unknown rule key, with a suggestion and its exact position', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a:', '    ouputs: a.txt', '    run: echo a >> ran.log; touch a.txt') });
    assertCouldNotStart(p, ['build'], /^Rulefile:3:5: unknown key 'ouputs' in rule 'a' \(did you mean 'outputs'\?\)$/m);
  });

  test('unknown top-level key, with a suggestion', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo a >> ran.log; touch a.txt', 'defualt: a') });
    assertCouldNotStart(p, ['build'], /^Rulefile:5:1: unknown top-level key 'defualt'.*did you mean 'default'/m);
  });

  test('an error in a -f Rulefile is reported with that file name', (t) => {
    const p = project(t, { 'my.yaml': yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo {outptu}') });
    assertCouldNotStart(p, ['build', '-f', 'my.yaml'], /^my\.yaml:4:15: .*'\{outptu\}'.*did you mean 'outputs?'/m);
  });

  test("a bad placeholder in 'run' is reported once, not also as a missing 'run'", (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo {outptu}') });
    const r = p.run(['build']);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /^Rulefile:4:15: /m);
    assert.doesNotMatch(r.stderr, /has outputs but no 'run'/, 'the rule has a run command; only its placeholder is wrong');
  });

  test('missing source file: no rule to make X (needed by Y)', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  out:', '    inputs: x.txt', '    outputs: out.txt', '    run: echo {output} >> ran.log; cp {input} {output}'),
    });
    assertCouldNotStart(p, ['build'], /^Rulefile:3:13: no rule to make 'x\.txt' \(needed by 'out\.txt'\)$/m);
    assert.equal(p.exists('.rules'), false);
  });

  test('missing source needed by a phony rule names the rule', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  all:', '    inputs: gone.txt', '    run: echo all >> ran.log') });
    assertCouldNotStart(p, ['build'], /^Rulefile:3:13: no rule to make 'gone\.txt' \(needed by 'all'\)$/m);
  });

  test('a missing input is reported at its entry in the Rulefile', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  all:', '    inputs:', '      - here.txt', '      - {expand: "raw/{s}.txt", s: [a, b]}', '    run: echo all >> ran.log'),
      'here.txt': '',
      'raw/a.txt': '',
    });
    assertCouldNotStart(p, ['build', 'all'], /^Rulefile:5:9: no rule to make 'raw\/b\.txt' \(needed by 'all'\)$/m);
  });

  test('past 20 problems, the last line says how many more there are', (t) => {
    const inputs = Array.from({ length: 25 }, (_, i) => `      - f${i + 1}.txt`);
    const p = project(t, { Rulefile: yaml('rules:', '  all:', '    inputs:', ...inputs, '    run: echo all >> ran.log') });
    assertCouldNotStart(p, ['build'], /^Rulefile:23:9: no rule to make 'f20\.txt' \(needed by 'all'\)\nrules: \.\.\. and 5 more problems \(the first 20 are shown\)\n$/m);
  });

  test('a target nobody makes', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo a >> ran.log; touch a.txt') });
    assertCouldNotStart(p, ['build', 'nope.txt'], /^rules: no rule to make 'nope\.txt'$/m);
  });

  test('a dependency cycle prints the cycle', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'default: a.txt',
        'rules:',
        '  a:',
        '    inputs: b.txt',
        '    outputs: a.txt',
        '    run: echo a >> ran.log; touch a.txt',
        '  b:',
        '    inputs: a.txt',
        '    outputs: b.txt',
        '    run: echo b >> ran.log; touch b.txt',
      ),
    });
    assertCouldNotStart(p, ['build'], /dependency cycle: (a\.txt -> b\.txt -> a\.txt|b\.txt -> a\.txt -> b\.txt)$/m);
  });

  test('ambiguous rules: two rules make the same path equally well', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'default: out/x.txt',
        'rules:',
        '  one:',
        '    outputs: "out/{a}.txt"',
        '    run: echo one >> ran.log; touch {output}',
        '  two:',
        '    outputs: "out/{b}.txt"',
        '    run: echo two >> ran.log; touch {output}',
      ),
    });
    const r = p.run(['build']);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /one/);
    assert.match(r.stderr, /two/);
    assert.equal(p.exists('ran.log'), false);
  });

  test('no Rulefile here', (t) => {
    const p = project(t, {});
    assertCouldNotStart(p, ['build'], /no Rulefile/);
  });

  test('unknown CLI options and bad option values', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo a >> ran.log; touch a.txt') });
    assertCouldNotStart(p, ['build', '--frobnicate'], /unknown option '--frobnicate'/);
    assertCouldNotStart(p, ['build', '-Z'], /unknown option '-Z'/);
    assertCouldNotStart(p, ['build', '-j', 'zero'], /-j/);
    assertCouldNotStart(p, ['build', '-j0'], /-j/);
    assertCouldNotStart(p, ['build', '--check', 'sha'], /--check/);
    assertCouldNotStart(p, ['build', '--resources', 'mem_mb'], /--resources/);
    assertCouldNotStart(p, ['list', '--format', 'dot'], /--format/);
    assertCouldNotStart(p, ['build', '--config', 'novalue'], /--config/);
  });

  test('what is not available yet, or makes no sense, exits 2 before anything runs', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo a >> ran.log; touch a.txt') });
    for (const args of [['watch', '-n'], ['build', '--watch', '-n'], ['build', '--executor', 'pbs'], ['watch', '--executor', 'pbs'], ['build', '--slurm-output-wait', 'soon']]) {
      const r = p.run(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${show(r)}`);
    }
    assert.equal(p.exists('ran.log'), false);
  });

  test('a rule asking for more than --resources allows: its place, before .rules/ exists, in a dry run too', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  small:', '    outputs: s.txt', '    run: echo s >> ran.log; touch s.txt', '  big:', '    outputs: b.txt', '    resources: { mem_mb: 9000 }', '    run: echo b >> ran.log; touch b.txt', 'default: [s.txt, b.txt]'),
    });
    const message = /^Rulefile:7:18: rule 'big' needs mem_mb=9000, more than --resources allows \(mem_mb=8000\); raise the limit or lower the rule's request$/m;
    assertCouldNotStart(p, ['build', '--resources', 'mem_mb=8000'], message);
    assert.equal(p.exists('.rules'), false, 'nothing under .rules/ was touched');
    assertCouldNotStart(p, ['build', '-n', '--resources', 'mem_mb=8000'], message);
    assert.equal(p.run(['build', '--resources', 'mem_mb=9000']).status, 0);
  });
});

describe('exit status 1 and 0', () => {
  test('a failed job exits 1, a good build 0', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  good:',
        '    outputs: good.txt',
        '    run: touch {output}',
        '  bad:',
        '    outputs: bad.txt',
        '    run: exit 7',
      ),
    });
    let r = p.run(['build', 'good']);
    assert.equal(r.status, 0, show(r));
    r = p.run(['build', 'bad.txt']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /^FAILED: bad: exit status 7$/m);
    assert.match(r.stderr, /^rules: build failed/m);
  });
});

describe('exit status 130: interrupted', () => {
  // The job writes part of its output, starts a long child, records its PID and
  // a marker, then waits for it.
  const rulefile = yaml(
    'default: all',
    'rules:',
    '  all:',
    '    inputs: [long.txt, after.txt]',
    '  long:',
    '    outputs: long.txt',
    '    run: echo partial > {output}; sleep 30 & echo $! > sleep.pid; touch started; wait',
    '  after:',
    '    inputs: long.txt',
    '    outputs: after.txt',
    '    run: echo after >> ran.log; cp {input} {output}',
  );

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} during a long job: exit 130, job's process group killed, its output removed`, async (t) => {
      const p = project(t, { Rulefile: rulefile, 'keep.txt': 'not an output\n' });
      const run = p.start(['build', '-j2']);
      await waitFor(() => p.exists('started') && p.exists('sleep.pid') && p.read('sleep.pid').trim() !== '', 'the job to start');
      const sleepPid = Number(p.read('sleep.pid').trim());
      assert.ok(sleepPid > 0);
      assert.equal(processGone(sleepPid), false, 'the job\'s child runs');

      run.child.kill(signal);
      const r = await within(run.done, 15_000, 'rules to exit after the signal');
      assert.equal(r.status, 130, show(r));
      await waitFor(() => processGone(sleepPid), `the job's child (pid ${sleepPid}) to be gone`, 5_000);
      assert.equal(p.exists('long.txt'), false, 'the interrupted job\'s output is removed');
      assert.equal(p.exists('after.txt'), false);
      assert.equal(p.exists('ran.log'), false, 'nothing started after the interrupt');
      assert.equal(p.read('keep.txt'), 'not an output\n');
      assert.match(r.stderr, /interrupted/);
      // The event log records the interrupted build.
      const events = nonEmptyLines(p.read('.rules/logs/events.jsonl')).map((l) => JSON.parse(l) as { event: string; interrupted?: boolean });
      assert.equal(events.at(-1)!.event, 'build-finished');
      assert.equal(events.at(-1)!.interrupted, true);

      // The next build works and reruns the interrupted job.
      const again = p.run(['build', 'long.txt', '--dry-run']);
      assert.equal(again.status, 0, show(again));
      assert.match(again.stdout, /^long long\.txt: output missing: long\.txt$/m);
    });
  }

  test('a job that ignores SIGTERM is killed all the same, and rules exits 130', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  stubborn:',
        '    outputs: s.txt',
        // Ignored signals stay ignored in the children, so sleep ignores SIGTERM too.
        "    run: trap '' TERM INT; echo partial > {output}; sleep 30 & echo $! > sleep.pid; touch started; wait",
      ),
    });
    const run = p.start(['build']);
    await waitFor(() => p.exists('started') && p.exists('sleep.pid') && p.read('sleep.pid').trim() !== '', 'the job to start');
    const sleepPid = Number(p.read('sleep.pid').trim());
    run.child.kill('SIGINT');
    const r = await within(run.done, 20_000, 'rules to exit after SIGINT');
    assert.equal(r.status, 130, show(r));
    await waitFor(() => processGone(sleepPid), `the job's child (pid ${sleepPid}) to be gone`, 5_000);
    assert.equal(p.exists('s.txt'), false);
  });
});
