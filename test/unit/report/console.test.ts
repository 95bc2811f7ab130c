import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import type { Job } from '../../../src/graph/model.js';
import { clockTime, ConsoleReporter, failureReport, jobOutput, progressText, shortcutText, type Clock } from '../../../src/report/console.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

function jobs(): Job[] {
  const p = projectFrom(yaml`
    rules:
      make:
        description: Make one thing
        outputs: "out/{n}.txt"
        run: touch {output}
  `);
  return ['1', '2'].map((n) => buildGraph(p, [`out/${n}.txt`], new FakeFileSystem()).jobs[0]!);
}

/** A clock that moves only when the test says, calling the reporter's timer once per second passed. */
function fakeClock() {
  let now = 0;
  const timers = new Set<() => void>();
  const clock: Clock = {
    now: () => now,
    every(_ms, tick) {
      timers.add(tick);
      return () => timers.delete(tick);
    },
  };
  return {
    clock,
    timers,
    advance(ms: number) {
      for (let left = ms; left > 0; left -= 1000) {
        now += Math.min(1000, left);
        for (const tick of [...timers]) tick();
      }
    },
  };
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, o: { write: (s: string) => out.push(s) }, e: { write: (s: string) => err.push(s) } };
}

describe('the console reporter', () => {
  test('on a terminal, the ETA: the longer of the work left over the slots and the longest path left, counting down; none when no time is known', () => {
    const [a, b] = jobs();
    const c = capture();
    const f = fakeClock();
    const r = new ConsoleReporter(c.o, c.e, { tty: true, quiet: false, verbose: false, columns: 80, clock: f.clock });
    const eta = () => /ETA ([0-9:]+)/.exec(c.out.at(-1) ?? '')?.[1];
    const reason = { kind: 'output-missing', path: 'out/1.txt' } as const;
    r.emit({ type: 'build-start', total: 2, upToDate: 0, slots: 2, expectedMs: 10_000 });
    r.emit({ type: 'job-start', job: a!, reason, command: 'a', attempt: 1, expectedMs: 6000, pathMs: 6000 });
    r.emit({ type: 'job-start', job: b!, reason, command: 'b', attempt: 1, expectedMs: 4000, pathMs: 4000 });
    // The path through a (6 s) is longer than the work spread over two slots (5 s).
    assert.equal(eta(), '0:06');
    f.advance(2000);
    assert.equal(eta(), '0:04');
    f.advance(2000);
    r.emit({ type: 'job-finish', job: b!, durationMs: 4000, output: '' });
    assert.equal(eta(), '0:02');
    // a overruns its expected time: the estimate stays at nothing left, it does not go below.
    f.advance(3000);
    assert.equal(eta(), '0:00');
    r.emit({ type: 'job-finish', job: a!, durationMs: 7000, output: '' });
    r.emit({ type: 'build-finish', ok: true, ran: 2, skipped: 0, failed: 0, notRun: 0, interrupted: false, durationMs: 7000 });

    const d = capture();
    const r2 = new ConsoleReporter(d.o, d.e, { tty: true, quiet: false, verbose: false, columns: 80, clock: fakeClock().clock });
    r2.emit({ type: 'build-start', total: 1, upToDate: 0, slots: 2 });
    r2.emit({ type: 'job-start', job: a!, reason, command: 'a', attempt: 1 });
    assert.equal(d.out.join(''), '\r\x1b[K[0/1, 1 running, 0:00] make[n=1]: Make one thing');
  });

  test("on a terminal, the status line's description has the job's wildcards filled in", () => {
    const p = projectFrom(yaml`
      rules:
        make:
          description: Make thing {n}
          outputs: "out/{n}.txt"
          run: touch {output}
    `);
    const job = buildGraph(p, ['out/7.txt'], new FakeFileSystem()).jobs[0]!;
    const c = capture();
    const r = new ConsoleReporter(c.o, c.e, { tty: true, quiet: false, verbose: false, columns: 80, clock: fakeClock().clock });
    r.emit({ type: 'build-start', total: 1, upToDate: 0 });
    r.emit({ type: 'job-start', job, reason: { kind: 'output-missing', path: 'out/7.txt' }, command: 'touch out/7.txt', attempt: 1 });
    assert.equal(c.out.join(''), '\r\x1b[K[0/1, 1 running, 0:00] make[n=7]: Make thing 7');
  });

  test('on a terminal: one status line rewritten in place, job output printed whole above it', () => {
    const [a, b] = jobs();
    const c = capture();
    const f = fakeClock();
    const r = new ConsoleReporter(c.o, c.e, { tty: true, quiet: false, verbose: false, columns: 80, clock: f.clock });
    r.emit({ type: 'build-start', total: 2, upToDate: 0 });
    r.emit({ type: 'job-start', job: a!, reason: { kind: 'output-missing', path: 'out/1.txt' }, command: 'touch out/1.txt', attempt: 1 });
    r.emit({ type: 'job-start', job: b!, reason: { kind: 'output-missing', path: 'out/2.txt' }, command: 'touch out/2.txt', attempt: 1 });
    f.advance(2000);
    r.emit({ type: 'job-finish', job: a!, durationMs: 5, output: 'made 1\n' });
    f.advance(65_000);
    r.emit({ type: 'job-finish', job: b!, durationMs: 5, output: '' });
    r.emit({ type: 'build-finish', ok: true, ran: 2, skipped: 0, failed: 0, notRun: 0, interrupted: false, durationMs: 20 });
    const text = c.out.join('');
    assert.equal(
      text,
      '\r\x1b[K[0/2, 1 running, 0:00] make[n=1]: Make one thing' +
        '\r\x1b[K[0/2, 2 running, 0:00] make[n=2]: Make one thing' +
        // The timer redraws the elapsed time each second.
        '\r\x1b[K[0/2, 2 running, 0:01] make[n=2]: Make one thing' +
        '\r\x1b[K[0/2, 2 running, 0:02] make[n=2]: Make one thing' +
        // A finished job's output is printed under its job's line, above the status line.
        '\r\x1b[K[1/2] make[n=1]: Make one thing\nmade 1\n' +
        '\r\x1b[K[1/2, 1 running, 0:02] make[n=2]: Make one thing' +
        Array.from({ length: 65 }, (_, i) => `\r\x1b[K[1/2, 1 running, ${clockTime(3000 + i * 1000)}] make[n=2]: Make one thing`).join('') +
        // A job without output adds no line; the last status line stays.
        '\r\x1b[K[2/2, 1:07] make[n=2]: Make one thing' +
        '\n' +
        'rules: 2 jobs done in 0.0s\n',
    );
    assert.deepEqual(c.err, []);
    assert.equal(f.timers.size, 0, 'the timer stops when the build ends');
  });

  test('the status line counts done, total, running jobs and the time; an ETA only when the time left is known', () => {
    assert.equal(progressText({ done: 3, total: 10, pending: 0, running: 2, elapsedMs: 42_500 }), '[3/10, 2 running, 0:42]');
    assert.equal(progressText({ done: 3, total: 10, pending: 1, running: 0, elapsedMs: 0 }), '[3/10+, 0:00]');
    assert.equal(progressText({ done: 3, total: 10, pending: 0, running: 1, elapsedMs: 1000, etaMs: 65_000 }), '[3/10, 1 running, 0:01, ETA 1:05]');
    assert.equal(clockTime(3_723_000), '1:02:03');
    assert.equal(clockTime(599_999), '9:59');
  });

  test('not on a terminal: a job still running after 5 s is announced once; one that ended sooner never', () => {
    const [a, b] = jobs();
    const c = capture();
    const f = fakeClock();
    const r = new ConsoleReporter(c.o, c.e, { tty: false, quiet: false, verbose: false, clock: f.clock });
    r.emit({ type: 'build-start', total: 2, upToDate: 0 });
    r.emit({ type: 'job-start', job: a!, reason: { kind: 'forced' }, command: 'touch out/1.txt', attempt: 1 });
    r.emit({ type: 'job-start', job: b!, reason: { kind: 'forced' }, command: 'touch out/2.txt', attempt: 1 });
    f.advance(4000);
    r.emit({ type: 'job-finish', job: a!, durationMs: 4000, output: '' });
    assert.equal(c.out.join(''), '[1/2] make[n=1]: Make one thing\n');
    f.advance(1000);
    assert.equal(c.out.join(''), '[1/2] make[n=1]: Make one thing\nrules: still running: make[n=2] (5 s)\n');
    f.advance(60_000);
    r.emit({ type: 'job-finish', job: b!, durationMs: 65_000, output: '' });
    r.emit({ type: 'build-finish', ok: true, ran: 2, skipped: 0, failed: 0, notRun: 0, interrupted: false, durationMs: 65_000 });
    assert.equal(c.out.join(''), '[1/2] make[n=1]: Make one thing\nrules: still running: make[n=2] (5 s)\n[2/2] make[n=2]: Make one thing\nrules: 2 jobs done in 65.0s\n');
    assert.equal(f.timers.size, 0);
  });

  test('quiet: no timer, no still-running lines', () => {
    const [a] = jobs();
    const c = capture();
    const f = fakeClock();
    const r = new ConsoleReporter(c.o, c.e, { tty: false, quiet: true, verbose: false, clock: f.clock });
    r.emit({ type: 'build-start', total: 1, upToDate: 0 });
    r.emit({ type: 'job-start', job: a!, reason: { kind: 'forced' }, command: 'touch out/1.txt', attempt: 1 });
    f.advance(10_000);
    assert.equal(f.timers.size, 0);
    assert.deepEqual(c.out, []);
  });

  test('colours: FAILED and "build failed" red, labels bold, warnings yellow; none without colour', () => {
    const [a, b] = jobs();
    for (const color of [true, false]) {
      const c = capture();
      const r = new ConsoleReporter(c.o, c.e, { tty: false, quiet: false, verbose: false, color, clock: fakeClock().clock });
      r.emit({ type: 'build-start', total: 2, upToDate: 0 });
      r.emit({ type: 'job-finish', job: a!, durationMs: 5, output: '' });
      r.emit({ type: 'graph-grow', job: a!, globs: [{ pattern: 'd/*', dir: 'd', producer: b!, matches: 0 }], added: 0, total: 2, pending: 0, durationMs: 1 });
      r.emit({ type: 'job-fail', job: b!, durationMs: 5, output: '', command: 'false', failure: { kind: 'exit', code: 1 }, willRetry: false });
      r.emit({ type: 'build-finish', ok: false, ran: 1, skipped: 0, failed: 1, notRun: 0, interrupted: false, durationMs: 20 });
      const out = c.out.join('');
      const err = c.err.join('');
      if (!color) {
        assert.doesNotMatch(out + err, /\x1b/);
        continue;
      }
      assert.ok(out.startsWith('[1/2] \x1b[1mmake[n=1]\x1b[22m: Make one thing\n'), JSON.stringify(out));
      assert.ok(err.includes('\x1b[31mFAILED:\x1b[39m \x1b[1mmake[n=2]\x1b[22m: exit status 1\n'), JSON.stringify(err));
      assert.ok(err.includes('rules: \x1b[33mwarning:\x1b[39m the glob'), JSON.stringify(err));
      assert.ok(err.includes('rules: \x1b[31mbuild failed\x1b[39m: 1 job failed'), JSON.stringify(err));
    }
  });

  test('a long status line is cut to the terminal width', () => {
    const [a] = jobs();
    const c = capture();
    const r = new ConsoleReporter(c.o, c.e, { tty: true, quiet: false, verbose: false, columns: 20, clock: fakeClock().clock });
    r.emit({ type: 'build-start', total: 1, upToDate: 0 });
    r.emit({ type: 'job-start', job: a!, reason: { kind: 'forced' }, command: 'touch', attempt: 1 });
    const line = c.out.join('').replace('\r\x1b[K', '');
    assert.ok(line.length <= 19, JSON.stringify(line));
    assert.ok(line.endsWith('…'));
  });

  test('not on a terminal: one line per finished job; failures on stderr with command and output', () => {
    const [a, b] = jobs();
    const c = capture();
    const r = new ConsoleReporter(c.o, c.e, { tty: false, quiet: false, verbose: false });
    r.emit({ type: 'build-start', total: 2, upToDate: 3 });
    r.emit({ type: 'job-finish', job: a!, durationMs: 5, output: 'hello' });
    r.emit({ type: 'job-fail', job: b!, durationMs: 5, output: 'boom\n', command: 'touch out/2.txt', failure: { kind: 'exit', code: 1 }, willRetry: false });
    r.emit({ type: 'build-finish', ok: false, ran: 1, skipped: 0, failed: 1, notRun: 0, interrupted: false, durationMs: 20 });
    assert.equal(c.out.join(''), '[1/2] make[n=1]: Make one thing\nhello\n');
    assert.equal(
      c.err.join(''),
      'FAILED: make[n=2]: exit status 1\n  command: touch out/2.txt\nboom\nrules: build failed: 1 job failed (1 done)\n',
    );
  });

  test('a growing graph (SPEC §7): the count has a + while a glob waits; a glob whose producer failed waits no more; a build stopped by its graph names no failed job', () => {
    const [a, b] = jobs();
    const c = capture();
    const r = new ConsoleReporter(c.o, c.e, { tty: true, quiet: false, verbose: false, columns: 80, clock: fakeClock().clock });
    r.emit({ type: 'build-start', total: 1, upToDate: 0, pending: 1 });
    r.emit({ type: 'job-start', job: a!, reason: { kind: 'forced' }, command: 'touch out/1.txt', attempt: 1 });
    r.emit({ type: 'job-fail', job: a!, durationMs: 5, output: '', command: 'touch out/1.txt', failure: { kind: 'exit', code: 1 }, willRetry: false });
    r.emit({ type: 'glob-abandoned', job: b!, pattern: 'out/1/*.txt', producer: a!, pending: 0 });
    r.emit({ type: 'job-start', job: b!, reason: { kind: 'forced' }, command: 'touch out/2.txt', attempt: 1 });
    r.emit({ type: 'build-finish', ok: false, ran: 0, skipped: 0, failed: 0, notRun: 2, interrupted: false, durationMs: 20 });
    const out = c.out.join('');
    assert.ok(out.includes('[0/1+, 1 running, 0:00] make[n=1]'), JSON.stringify(out));
    assert.ok(out.includes('[1/1, 1 running, 0:00] make[n=2]'), `no + once nothing waits: ${JSON.stringify(out)}`);
    assert.ok(c.err.join('').endsWith("rules: make[n=2] not run: its glob 'out/1/*.txt' waits for make[n=1], which failed\nrules: build failed: 2 not run (0 done)\n"), JSON.stringify(c.err.join('')));
  });

  test('a job interrupted or stopped (the build state could not be written) shows no command line: its command did not fail', () => {
    const [a, b] = jobs();
    const c = capture();
    const r = new ConsoleReporter(c.o, c.e, { tty: false, quiet: false, verbose: false });
    r.emit({ type: 'job-fail', job: a!, durationMs: 5, output: '', command: 'touch out/1.txt', failure: { kind: 'interrupted' }, willRetry: false });
    r.emit({ type: 'job-fail', job: b!, durationMs: 5, output: '', command: 'touch out/2.txt', failure: { kind: 'stopped' }, willRetry: false });
    assert.equal(c.err.join(''), 'FAILED: make[n=1]: interrupted\nFAILED: make[n=2]: stopped: the build state cannot be written\n');
  });

  test('quiet prints job output and failures only; a skipped job counts as done', () => {
    const [a, b] = jobs();
    const c = capture();
    const r = new ConsoleReporter(c.o, c.e, { tty: false, quiet: true, verbose: false });
    r.emit({ type: 'build-start', total: 2, upToDate: 0 });
    r.emit({ type: 'job-finish', job: a!, durationMs: 5, output: 'out\n' });
    r.emit({ type: 'job-skip', job: b!, why: { kind: 'inputs-unchanged' } });
    r.emit({ type: 'build-finish', ok: true, ran: 1, skipped: 1, failed: 0, notRun: 0, interrupted: false, durationMs: 20 });
    assert.equal(c.out.join(''), 'out\n');
  });

  test('the summary names jobs that turned out up to date', () => {
    const c = capture();
    const r = new ConsoleReporter(c.o, c.e, { tty: false, quiet: false, verbose: false });
    r.emit({ type: 'build-start', total: 3, upToDate: 0 });
    r.emit({ type: 'build-finish', ok: true, ran: 1, skipped: 2, failed: 0, notRun: 0, interrupted: false, durationMs: 1500 });
    assert.equal(c.out.join(''), 'rules: 1 job done, 2 up to date after all (inputs unchanged) in 1.5s\n');
  });

  test('a cut tail is shown from its first whole line; the part line it starts with counts as cut', () => {
    assert.equal(jobOutput('é204\n150205\n150206\n', { bytes: 1000, path: '.rules/output/x.log' }), '[... 1.0 kB of output cut; the whole output is in .rules/output/x.log]\n150205\n150206\n');
    assert.equal(jobOutput('é204\n150205\n', { bytes: 990, path: 'p' }), '[... 996 bytes of output cut; the whole output is in p]\n150205\n');
    // One long line with no newline after the cut, or only a final one: shown as it is.
    assert.equal(jobOutput('xxxx', { bytes: 10, path: 'p' }), '[... 10 bytes of output cut; the whole output is in p]\nxxxx\n');
    assert.equal(jobOutput('xxxx\n', { bytes: 10, path: 'p' }), '[... 10 bytes of output cut; the whole output is in p]\nxxxx\n');
  });

  test('an output cut to its tail is preceded by what was cut and where the whole of it is', () => {
    const [a, b] = jobs();
    const c = capture();
    const r = new ConsoleReporter(c.o, c.e, { tty: false, quiet: true, verbose: false });
    r.emit({ type: 'job-finish', job: a!, durationMs: 5, output: 'tail', cut: { bytes: 599_012_345, path: '.rules/output/make-1.log' } });
    const cut = { bytes: 1500, error: 'ENOSPC: no space left on device' };
    r.emit({ type: 'job-fail', job: b!, durationMs: 5, output: 'end\n', cut, command: 'make', failure: { kind: 'exit', code: 1 }, willRetry: false });
    assert.equal(c.out.join(''), '[... 599.0 MB of output cut; the whole output is in .rules/output/make-1.log]\ntail\n');
    assert.equal(
      c.err.join(''),
      'FAILED: make[n=2]: exit status 1\n  command: make\n[... 1.5 kB of output cut; the whole output could not be kept: ENOSPC: no space left on device]\nend\n',
    );
  });
});

describe('a failed job', () => {
  const [a] = jobs();
  const fail = { type: 'job-fail', job: a!, durationMs: 5, output: '', failure: { kind: 'exit', code: 2 }, willRetry: false } as const;

  test('a command of several lines: every line indented under "command:"', () => {
    assert.equal(failureReport({ ...fail, command: 'set -e\ncd sub\n\nmake all\n', output: 'oops\n' }), 'FAILED: make[n=1]: exit status 2\n  command:\n    set -e\n    cd sub\n\n    make all\noops\n');
    assert.equal(failureReport({ ...fail, command: 'make all' }), 'FAILED: make[n=1]: exit status 2\n  command: make all\n');
  });

  test('with a log file: its path and its last 20 lines', () => {
    // A Job's label is a getter: the copy keeps its prototype.
    const logged: Job = Object.assign(Object.create(Object.getPrototypeOf(a!) as object) as Job, a!, { log: 'logs/1.log' });
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
    const report = failureReport({ ...fail, job: logged, command: 'make', logTail: lines.join('\n') + '\n' });
    assert.equal(report, `FAILED: make[n=1]: exit status 2\n  command: make\n  log: logs/1.log, its last 20 lines:\n${lines.slice(10).join('\n')}\n`);
    assert.equal(failureReport({ ...fail, job: logged, command: 'make', logTail: 'a\nb' }), 'FAILED: make[n=1]: exit status 2\n  command: make\n  log: logs/1.log:\na\nb\n');
    assert.equal(failureReport({ ...fail, job: logged, command: 'make', logTail: '' }), 'FAILED: make[n=1]: exit status 2\n  command: make\n  log: logs/1.log (empty)\n');
    // A log that could not be read back: named all the same.
    assert.equal(failureReport({ ...fail, job: logged, command: 'make' }), 'FAILED: make[n=1]: exit status 2\n  command: make\n  log: logs/1.log\n');
  });

  test('a long output: printed whole, then the report ending with its last 20 lines', () => {
    const lines = Array.from({ length: 25 }, (_, i) => `out ${i + 1}`);
    const output = lines.join('\n') + '\n';
    assert.equal(
      failureReport({ ...fail, command: 'make', output }),
      `${output}FAILED: make[n=1]: exit status 2\n  command: make\n  output, its last 20 lines:\n${lines.slice(5).join('\n')}\n`,
    );
    const short = lines.slice(0, 20).join('\n');
    assert.equal(failureReport({ ...fail, command: 'make', output: short }), `FAILED: make[n=1]: exit status 2\n  command: make\n${short}\n`);
  });

  test('a signal is named', () => {
    assert.equal(failureReport({ ...fail, command: 'sleep 9', failure: { kind: 'signal', signal: 'SIGKILL' } }), 'FAILED: make[n=1]: killed by SIGKILL\n  command: sleep 9\n');
  });
});

describe('the shortcut line (-v)', () => {
  test('groups the digits of its numbers by thousands', () => {
    assert.equal(shortcutText(1, 6, 301_002), 'rules: 1 file changed since the last build; deciding 6 of 301,002 jobs\n');
    assert.equal(shortcutText(1024, 999, 1_000_000), 'rules: 1,024 files changed since the last build; deciding 999 of 1,000,000 jobs\n');
    assert.equal(shortcutText(2, 100, 1000), 'rules: 2 files changed since the last build; deciding 100 of 1,000 jobs\n');
  });
});
