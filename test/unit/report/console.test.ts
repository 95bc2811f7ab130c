import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import type { Job } from '../../../src/graph/model.js';
import { ConsoleReporter, jobOutput, shortcutText } from '../../../src/report/console.js';
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

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, o: { write: (s: string) => out.push(s) }, e: { write: (s: string) => err.push(s) } };
}

describe('the console reporter', () => {
  test('on a terminal: one status line rewritten in place, job output printed whole above it', () => {
    const [a, b] = jobs();
    const c = capture();
    const r = new ConsoleReporter(c.o, c.e, { tty: true, quiet: false, verbose: false, columns: 80 });
    r.emit({ type: 'build-start', total: 2, upToDate: 0 });
    r.emit({ type: 'job-start', job: a!, reason: { kind: 'output-missing', path: 'out/1.txt' }, command: 'touch out/1.txt', attempt: 1 });
    r.emit({ type: 'job-start', job: b!, reason: { kind: 'output-missing', path: 'out/2.txt' }, command: 'touch out/2.txt', attempt: 1 });
    r.emit({ type: 'job-finish', job: a!, durationMs: 5, output: 'made 1\n' });
    r.emit({ type: 'job-finish', job: b!, durationMs: 5, output: '' });
    r.emit({ type: 'build-finish', ok: true, ran: 2, skipped: 0, failed: 0, notRun: 0, interrupted: false, durationMs: 20 });
    const text = c.out.join('');
    assert.equal(
      text,
      '\r\x1b[K[0/2] make[n=1]: Make one thing' +
        '\r\x1b[K[0/2] make[n=2]: Make one thing' +
        '\r\x1b[Kmade 1\n' +
        '\r\x1b[K[1/2] make[n=1]: Make one thing' +
        '\r\x1b[K[2/2] make[n=2]: Make one thing' +
        '\n' +
        'rules: 2 jobs done in 0.0s\n',
    );
    assert.deepEqual(c.err, []);
  });

  test('a long status line is cut to the terminal width', () => {
    const [a] = jobs();
    const c = capture();
    const r = new ConsoleReporter(c.o, c.e, { tty: true, quiet: false, verbose: false, columns: 20 });
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
    const r = new ConsoleReporter(c.o, c.e, { tty: true, quiet: false, verbose: false, columns: 80 });
    r.emit({ type: 'build-start', total: 1, upToDate: 0, pending: 1 });
    r.emit({ type: 'job-start', job: a!, reason: { kind: 'forced' }, command: 'touch out/1.txt', attempt: 1 });
    r.emit({ type: 'job-fail', job: a!, durationMs: 5, output: '', command: 'touch out/1.txt', failure: { kind: 'exit', code: 1 }, willRetry: false });
    r.emit({ type: 'glob-abandoned', job: b!, pattern: 'out/1/*.txt', producer: a!, pending: 0 });
    r.emit({ type: 'job-start', job: b!, reason: { kind: 'forced' }, command: 'touch out/2.txt', attempt: 1 });
    r.emit({ type: 'build-finish', ok: false, ran: 0, skipped: 0, failed: 0, notRun: 2, interrupted: false, durationMs: 20 });
    const out = c.out.join('');
    assert.ok(out.includes('[0/1+] make[n=1]'), JSON.stringify(out));
    assert.ok(out.includes('[1/1] make[n=2]'), `no + once nothing waits: ${JSON.stringify(out)}`);
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

describe('the shortcut line (-v)', () => {
  test('groups the digits of its numbers by thousands', () => {
    assert.equal(shortcutText(1, 6, 301_002), 'rules: 1 file changed since the last build; deciding 6 of 301,002 jobs\n');
    assert.equal(shortcutText(1024, 999, 1_000_000), 'rules: 1,024 files changed since the last build; deciding 999 of 1,000,000 jobs\n');
    assert.equal(shortcutText(2, 100, 1000), 'rules: 2 files changed since the last build; deciding 100 of 1,000 jobs\n');
  });
});
