// Failure, interruption, kill -9 and the lock (SPEC §3): a failed or
// interrupted job is marked incomplete and rerun even if its outputs look
// fresh; a hard kill of `rules` never corrupts `.rules/`; a second build
// fails fast while a dry run works; a damaged build log is survived.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { nonEmptyLines, processGone, project, show, waitFor, within, yaml } from './helpers.js';
import { killGroup, pidFrom, plan } from './state-helpers.js';

const INCOMPLETE = 'incomplete: previous run was interrupted or failed';

describe('a failing job', () => {
  const rulefile = yaml(
    'rules:',
    '  bad:',
    '    inputs: src.txt',
    '    outputs: bad.txt',
    '    run: echo bad >> ran.log; echo partial > {output}; if [ -e fail ]; then exit 1; fi; cat {input} >> {output}',
    '  after:',
    '    inputs: bad.txt',
    '    outputs: after.txt',
    '    run: echo after >> ran.log; cp {input} {output}',
  );

  test('loses its output, stops its dependents, and is incomplete even when its output reappears', (t) => {
    const p = project(t, { Rulefile: rulefile, 'src.txt': 'src\n', fail: '' });
    p.age('src.txt', -100);
    const r = p.run(['build', 'after.txt']);
    assert.equal(r.status, 1, show(r));
    assert.deepEqual(p.lines(), ['bad'], 'the dependent does not run');
    assert.equal(p.exists('bad.txt'), false, 'the partial output is deleted');
    assert.equal(p.read('src.txt'), 'src\n');
    assert.deepEqual(plan(p, 'after.txt'), ['bad bad.txt: output missing: bad.txt', 'after after.txt: output missing: after.txt']);

    // An output made by hand, newer than the input, looks fresh: the job is still incomplete.
    p.write({ 'bad.txt': 'by hand\n' });
    assert.deepEqual(plan(p, 'bad.txt'), [`bad bad.txt: ${INCOMPLETE}`]);
    assert.deepEqual(plan(p, '--check', 'mtime', 'bad.txt'), [`bad bad.txt: ${INCOMPLETE}`], 'also under --check mtime');

    fs.rmSync(p.path('fail'));
    const ok = p.run(['build', 'after.txt']);
    assert.equal(ok.status, 0, show(ok));
    assert.deepEqual(p.lines(), ['bad', 'bad', 'after']);
    assert.equal(p.read('after.txt'), 'partial\nsrc\n');
    assert.deepEqual(plan(p, 'after.txt'), []);
  });

  test('that had succeeded before is incomplete after failing, although its old output looked fresh', (t) => {
    const p = project(t, { Rulefile: rulefile, 'src.txt': 'src\n' });
    assert.equal(p.run(['build', 'after.txt']).status, 0);
    p.write({ fail: '', 'src.txt': 'src 2\n' });
    const r = p.run(['build', 'after.txt']);
    assert.equal(r.status, 1, show(r));
    assert.equal(p.exists('bad.txt'), false);
    assert.equal(p.read('after.txt'), 'partial\nsrc\n', 'the dependent keeps its old output; it did not run');
    assert.deepEqual(p.lines(), ['bad', 'after', 'bad']);
    // The old content back by hand: same bytes as recorded, yet the job must rerun.
    p.write({ 'bad.txt': 'partial\nsrc\n' });
    assert.deepEqual(plan(p, 'bad.txt'), [`bad bad.txt: ${INCOMPLETE}`]);
  });
});

describe('kill -9 of rules during a job', () => {
  const rulefile = yaml(
    'rules:',
    '  slow:',
    '    inputs: src.txt',
    '    outputs: slow.txt',
    '    run: echo slow >> ran.log; echo partial > {output}; if [ -e slow ]; then echo $$ > job.pid; sleep 30; fi; cat {input} >> {output}',
    '  after:',
    '    inputs: slow.txt',
    '    outputs: after.txt',
    '    run: echo after >> ran.log; cp {input} {output}',
  );

  for (const firstBuild of [false, true]) {
    test(`leaves a log the next build reads: the job is incomplete and reruns, the stale lock is taken over${firstBuild ? ' (job had a record)' : ''}`, async (t) => {
      const p = project(t, { Rulefile: rulefile, 'src.txt': 'v1\n' });
      if (firstBuild) {
        const r = p.run(['build', 'after.txt']);
        assert.equal(r.status, 0, show(r));
        p.write({ 'src.txt': 'v2\n' });
      }
      p.write({ slow: '' });
      const run = p.start(['build', 'after.txt']);
      const jobPid = await pidFrom(p, 'job.pid');
      const rulesPid = run.child.pid!;
      assert.equal(p.read('.rules/lock').split(' ')[0], String(rulesPid), 'the lock names the build');

      run.child.kill('SIGKILL');
      const killed = await within(run.done, 10_000, 'rules to die');
      assert.equal(killed.signal, 'SIGKILL');
      // The job is an orphan now; stop it (and its sleep) so it cannot finish later.
      killGroup(jobPid);
      await waitFor(() => processGone(jobPid), 'the orphaned job to be gone', 5_000);

      assert.equal(p.read('slow.txt'), 'partial\n', 'the half-written output is still there');
      assert.equal(p.exists('.rules/lock'), true, 'the dead build left its lock');
      const dry = p.run(['build', '-n', 'after.txt']);
      assert.equal(dry.status, 0, show(dry));
      assert.equal(dry.stderr.includes('warning'), false, `no complaint about .rules/:\n${dry.stderr}`);
      assert.deepEqual(nonEmptyLines(dry.stdout), [
        `slow slow.txt: ${INCOMPLETE}`,
        // The half-written slow.txt is not what after.txt was made from.
        firstBuild ? 'after after.txt: input changed: slow.txt' : 'after after.txt: output missing: after.txt',
      ]);

      fs.rmSync(p.path('slow'));
      const before = p.lines().length;
      const again = p.run(['build', 'after.txt']);
      assert.equal(again.status, 0, show(again));
      assert.doesNotMatch(again.stderr, /another build|lock|warning/, 'the stale lock is taken over silently');
      assert.deepEqual(p.lines().slice(before), ['slow', 'after']);
      const v = firstBuild ? 'v2' : 'v1';
      assert.equal(p.read('slow.txt'), `partial\n${v}\n`);
      assert.equal(p.read('after.txt'), `partial\n${v}\n`);
      assert.equal(p.exists('.rules/lock'), false, 'the lock is released');
      assert.deepEqual(plan(p, 'after.txt'), []);
    });
  }
});

describe('two builds at once', () => {
  test('the second fails fast naming the first one\'s PID; a dry run works meanwhile', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  slow:',
        '    outputs: slow.txt',
        // Finishes when the test says so, or after 20 s.
        '    run: touch started; i=0; while [ ! -e release ] && [ $i -lt 1000 ]; do sleep 0.02; i=$((i+1)); done; echo slow > {output}',
        '  other:',
        '    outputs: other.txt',
        '    run: echo other > {output}',
      ),
    });
    const first = p.start(['build', 'slow.txt']);
    await waitFor(() => p.exists('started'), 'the slow job to start');
    const pid = first.child.pid!;

    const t0 = Date.now();
    const second = p.run(['build', 'other.txt']);
    assert.ok(Date.now() - t0 < 5_000, 'the second build fails at once');
    assert.equal(second.status, 2, show(second));
    assert.match(second.stderr, new RegExp(`\\bpid ${pid}\\b`));
    assert.equal(p.exists('other.txt'), false, 'the second build ran nothing');

    const dry = p.run(['build', '-n', 'slow.txt', 'other.txt']);
    assert.equal(dry.status, 0, show(dry));
    assert.deepEqual(nonEmptyLines(dry.stdout), ['slow slow.txt: output missing: slow.txt', 'other other.txt: output missing: other.txt']);

    const cleanDry = p.run(['clean', '-n']);
    assert.equal(cleanDry.status, 0, `rules clean -n needs no lock:\n${show(cleanDry)}`);

    const clean = p.run(['clean']);
    assert.equal(clean.status, 2, `rules clean needs the lock too:\n${show(clean)}`);
    assert.match(clean.stderr, new RegExp(`\\bpid ${pid}\\b`));

    p.write({ release: '' });
    const r = await within(first.done, 20_000, 'the first build to end');
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('slow.txt'), 'slow\n');
    const after = p.run(['build', 'other.txt']);
    assert.equal(after.status, 0, show(after));
    assert.equal(p.read('other.txt'), 'other\n');
  });
});

describe('a damaged build log', () => {
  const rulefile = yaml(
    'rules:',
    '  a:',
    '    inputs: "src/{n}.txt"',
    '    outputs: "a/{n}.txt"',
    '    run: echo a {n} >> ran.log; cp {input} {output}',
    '  all:',
    '    inputs: [a/x.txt, a/y.txt, a/z.txt]',
    '    outputs: all.txt',
    '    run: echo all >> ran.log; cat {inputs} > {output}',
  );

  // What was done to the log, and what the one warning line must say.
  const damages: [string, (log: string) => void, RegExp][] = [
    [
      'bytes overwritten in the middle',
      (log) => {
        const buf = fs.readFileSync(log);
        buf.write('#garbage#', Math.floor(buf.length / 2));
        fs.writeFileSync(log, buf);
      },
      /damaged/,
    ],
    ['garbage lines appended', (log) => fs.appendFileSync(log, 'garbage line one\n{"t":"D","k":"all.txt"}\n'), /damaged/],
    [
      'its first line overwritten',
      (log) => {
        const buf = fs.readFileSync(log);
        buf.write('XXXX', 0);
        fs.writeFileSync(log, buf);
      },
      /./,
    ],
  ];

  for (const [what, damage, says] of damages) {
    test(`(${what}) gives one warning, no crash, and correct decisions; the next build is quiet`, (t) => {
      const p = project(t, { Rulefile: rulefile, 'src/x.txt': 'x\n', 'src/y.txt': 'y\n', 'src/z.txt': 'z\n' });
      for (const n of ['x', 'y', 'z']) p.age(`src/${n}.txt`, -100);
      const first = p.run(['build', 'all.txt']);
      assert.equal(first.status, 0, show(first));
      assert.equal(p.lines().length, 4);

      damage(p.path('.rules/log'));
      // y changes content (and is newer than its output); x and z stay as they were.
      p.write({ 'src/y.txt': 'yy\n' });

      const r = p.run(['build', 'all.txt']);
      assert.equal(r.status, 0, show(r));
      const warnings = nonEmptyLines(r.stderr).filter((l) => /warning/i.test(l));
      assert.equal(warnings.length, 1, show(r));
      assert.match(warnings[0]!, /build log/);
      assert.match(warnings[0]!, says);
      assert.doesNotMatch(r.stderr, /internal error/);
      // y and the merge rerun. x and z are adopted (outputs newer than inputs), unless the damage
      // hit the record of their finished run: then they are still known as started, so they rerun.
      const reran = p.lines().slice(4);
      assert.ok(reran.includes('a y') && reran[reran.length - 1] === 'all', show(r));
      assert.deepEqual(reran.filter((l) => l !== 'a y' && l !== 'all' && l !== 'a x' && l !== 'a z'), [], show(r));
      assert.equal(p.read('all.txt'), 'x\nyy\nz\n');

      const before = p.lines().length;
      const again = p.run(['build', 'all.txt']);
      assert.equal(again.status, 0, show(again));
      assert.equal(again.stderr, '', 'the log was repaired: no warning');
      assert.deepEqual(p.lines().slice(before), []);
      // The repaired log has hashes again: a touch is no change.
      p.age('src/x.txt', 0);
      assert.deepEqual(plan(p, 'all.txt'), []);
      const dry = p.run(['build', '-n', 'all.txt']);
      assert.equal(dry.stderr.includes('warning'), false, show(dry));
    });
  }

  test('cut in the middle of a record (a torn last write) is read as far as it goes: correct, and quiet', (t) => {
    const p = project(t, { Rulefile: rulefile, 'src/x.txt': 'x\n', 'src/y.txt': 'y\n', 'src/z.txt': 'z\n' });
    for (const n of ['x', 'y', 'z']) p.age(`src/${n}.txt`, -100);
    assert.equal(p.run(['build', 'all.txt']).status, 0);
    const log = p.path('.rules/log');
    const text = p.read('.rules/log');
    // Cut inside the last record but one.
    const lines = text.split('\n');
    const cut = text.length - lines.at(-2)!.length - 2 - Math.floor(lines.at(-3)!.length / 2);
    fs.truncateSync(log, cut);
    p.write({ 'src/y.txt': 'yy\n' });

    const r = p.run(['build', 'all.txt']);
    assert.equal(r.status, 0, show(r));
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.ok(p.lines().includes('a y'), 'the changed source reruns its job');
    assert.equal(p.lines().at(-1), 'all');
    assert.equal(p.read('all.txt'), 'x\nyy\nz\n');
    const again = p.run(['build', 'all.txt']);
    assert.equal(again.status, 0, show(again));
    assert.equal(again.stderr, '', show(again));
    assert.match(again.stdout, /^rules: nothing to do$/m);
  });

  test('a dry run with a damaged log warns and works, and writes nothing', (t) => {
    const p = project(t, { Rulefile: rulefile, 'src/x.txt': 'x\n', 'src/y.txt': 'y\n', 'src/z.txt': 'z\n' });
    assert.equal(p.run(['build', 'all.txt']).status, 0);
    fs.appendFileSync(p.path('.rules/log'), 'garbage\n');
    const text = p.read('.rules/log');
    const r = p.run(['build', '-n', 'all.txt']);
    assert.equal(r.status, 0, show(r));
    assert.equal(nonEmptyLines(r.stderr).filter((l) => /build log/.test(l) && /damaged/.test(l)).length, 1, show(r));
    assert.equal(p.read('.rules/log'), text);
  });
});

describe('interruption (SIGINT)', () => {
  test('marks the running job incomplete: its output is gone, then output missing, then incomplete', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  slow:',
        '    inputs: src.txt',
        '    outputs: slow.txt',
        '    run: echo slow >> ran.log; echo partial > {output}; if [ -e slow ]; then echo $$ > job.pid; sleep 30; fi; echo done >> {output}',
      ),
      'src.txt': 'v1\n',
    });
    p.age('src.txt', -100);
    assert.equal(p.run(['build', 'slow.txt']).status, 0);
    p.write({ 'src.txt': 'v2\n', slow: '' });
    p.age('src.txt', -100);

    const run = p.start(['build', 'slow.txt']);
    const jobPid = await pidFrom(p, 'job.pid');
    run.child.kill('SIGINT');
    const r = await within(run.done, 15_000, 'rules to exit after SIGINT');
    t.after(() => killGroup(jobPid));
    assert.equal(r.status, 130, show(r));
    await waitFor(() => processGone(jobPid), 'the job to be gone', 5_000);
    assert.equal(p.exists('slow.txt'), false, "the interrupted job's output is removed");
    assert.equal(p.exists('.rules/lock'), false, 'the lock is released');
    assert.deepEqual(plan(p, 'slow.txt'), ['slow slow.txt: output missing: slow.txt']);

    // Even the old, complete content put back by hand does not make it up to date.
    p.write({ 'slow.txt': 'partial\ndone\n' });
    assert.deepEqual(plan(p, 'slow.txt'), [`slow slow.txt: ${INCOMPLETE}`]);

    fs.rmSync(p.path('slow'));
    const again = p.run(['build', 'slow.txt']);
    assert.equal(again.status, 0, show(again));
    assert.deepEqual(p.lines(), ['slow', 'slow', 'slow']);
    assert.deepEqual(plan(p, 'slow.txt'), []);
  });
});

describe('a stale lock', () => {
  const rulefile = yaml('rules:', '  one:', '    outputs: one.txt', '    run: echo one > {output}');

  test('left by a dead process is taken over', (t) => {
    const p = project(t, { Rulefile: rulefile });
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    assert.ok(processGone(dead));
    p.write({ '.rules/lock': `${dead}\n` });
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('one.txt'), 'one\n');
    assert.equal(p.exists('.rules/lock'), false);
  });

  test('that is unreadable (garbage or empty) and old is taken over', (t) => {
    const p = project(t, { Rulefile: rulefile });
    for (const text of ['garbage\n', '']) {
      p.write({ '.rules/lock': text });
      p.age('.rules/lock', -600);
      const r = p.run(['build', '-B']);
      assert.equal(r.status, 0, show(r));
      assert.equal(p.exists('.rules/lock'), false);
    }
  });
});

describe('rules clean after kill -9', () => {
  test('removes the half-written output of the killed job, and the next build reruns it', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  slow:',
        '    outputs: slow.txt',
        '    run: echo partial > {output}; if [ -e slow ]; then echo $$ > job.pid; sleep 30; fi; echo done >> {output}',
      ),
      slow: '',
      'keep.txt': 'keep\n',
    });
    const run = p.start(['build']);
    const jobPid = await pidFrom(p, 'job.pid');
    run.child.kill('SIGKILL');
    await within(run.done, 10_000, 'rules to die');
    killGroup(jobPid);
    await waitFor(() => processGone(jobPid), 'the orphaned job to be gone', 5_000);
    assert.equal(p.read('slow.txt'), 'partial\n');

    const c = p.run(['clean']);
    assert.equal(c.status, 0, show(c));
    assert.match(c.stdout, /^removed slow\.txt$/m);
    assert.equal(p.exists('slow.txt'), false);
    assert.equal(p.read('keep.txt'), 'keep\n');

    fs.rmSync(p.path('slow'));
    const b = p.run(['build']);
    assert.equal(b.status, 0, show(b));
    assert.equal(p.read('slow.txt'), 'partial\ndone\n');
  });
});

describe('a started-marker left by a killed build', () => {
  test('keeps the no-op fast path from answering; the full path reruns the job and the marker goes', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  slow:',
        '    outputs: slow.txt',
        // `hold` steers the test, not the job's result: no implicit input (SPEC §6), so removing it changes nothing.
        '    implicit_inputs: false',
        '    run: echo slow >> ran.log; echo partial > {output}; if [ -e hold ]; then touch running; i=0; while [ ! -e release ] && [ $i -lt 1500 ]; do sleep 0.02; i=$((i+1)); done; fi; echo done >> {output}',
      ),
      hold: '',
    });
    // The marker of the running job, as a build killed at that instant would leave it.
    const run = p.start(['build']);
    await waitFor(() => p.exists('running'), 'the job to run');
    const dir = p.path('.rules/started');
    const names = fs.readdirSync(dir);
    assert.equal(names.length, 1, 'one marker for the one running job');
    const marker = fs.readFileSync(`${dir}/${names[0]}`);
    p.write({ release: '' });
    const r = await within(run.done, 20_000, 'the build to end');
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(fs.readdirSync(dir), [], 'the marker is removed once the job is recorded');
    fs.rmSync(p.path('hold'));
    assert.match(p.run(['build', '-v']).stderr, /as the last build left them/, 'the stamp answers');

    // The marker back: the stamp and the log still say "up to date", the marker does not.
    fs.writeFileSync(`${dir}/${names[0]}`, marker);
    const dry = p.run(['build', '-n', '-v']);
    assert.doesNotMatch(dry.stderr, /as the last build left them/, show(dry));
    assert.deepEqual(nonEmptyLines(dry.stdout), [`slow slow.txt: ${INCOMPLETE}`]);
    const again = p.run(['build', '-v']);
    assert.equal(again.status, 0, show(again));
    assert.doesNotMatch(again.stderr, /as the last build left them/, show(again));
    assert.deepEqual(p.lines(), ['slow', 'slow']);
    assert.equal(p.read('slow.txt'), 'partial\ndone\n');
    assert.deepEqual(fs.readdirSync(dir), []);
    assert.match(p.run(['build', '-v']).stderr, /as the last build left them/, 'the stamp answers again');
  });
});
