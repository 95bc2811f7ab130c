// The CLI on a real terminal: a tmux pane (the screen read back with
// `capture-pane`) or `script` (the raw bytes a terminal receives). The status
// line, labelled job output, colours and their absence (NO_COLOR, TERM=dumb),
// the failure report, and help laid out for the terminal's width.

import { spawnSync } from 'node:child_process';
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { CLI, project, waitFor, yaml, type Files, type Project } from './helpers.js';

let sessions = 0;

/**
 * What the test runner's environment sets and Node reads to decide on colours
 * (`CI` alone means "no colours" to Node's hasColors): none of it may reach
 * the CLI unless a test sets it.
 */
const COLOUR_VARS = ['NO_COLOR', 'FORCE_COLOR', 'NODE_DISABLE_COLORS', 'NODE_TEST_CONTEXT', 'CI', 'TEAMCITY_VERSION', 'COLORTERM', 'TERM_PROGRAM', 'TMUX'];

/** The test runner's environment without COLOUR_VARS, with TERM set. */
function terminalEnv(term: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const v of COLOUR_VARS) delete env[v];
  return { ...env, TERM: term };
}

/** Single quotes for sh. */
function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `rules ARGS` in a tmux pane of the given size, on a private tmux server killed when the test ends. */
class Pane {
  private readonly socket = `rules-e2e-${process.pid}-${++sessions}`;

  constructor(
    t: TestContext,
    p: Project,
    args: string[],
    opts: { width?: number; height?: number; env?: Record<string, string> } = {},
  ) {
    const env = { TERM: 'xterm-256color', ...opts.env };
    // The test runner's colour variables must not reach the CLI unless a test sets them
    // (tmux sets its own TMUX in the pane).
    const command = [
      'env',
      ...COLOUR_VARS.filter((v) => v !== 'TMUX').map((v) => `-u ${v}`),
      ...Object.entries(env).map(([k, v]) => `${k}=${q(v)}`),
      q(process.execPath),
      q(CLI),
      ...args.map(q),
      '; echo "[exit $?]"; exec sleep 600',
    ].join(' ');
    t.after(() => this.tmux('kill-server'));
    const r = this.tmux('new-session', '-d', '-x', String(opts.width ?? 100), '-y', String(opts.height ?? 40), '-c', p.dir, command);
    assert.equal(r.status, 0, `tmux new-session: ${r.stderr}`);
  }

  private tmux(...args: string[]) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.TMUX;
    return spawnSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8', env });
  }

  /** The screen's lines (a line the terminal wrapped joined back), trailing blanks dropped; with `escapes`, its colours as escapes. */
  screen(escapes = false): string[] {
    const r = this.tmux('capture-pane', '-p', '-J', ...(escapes ? ['-e'] : []));
    return r.stdout.split('\n').map((l) => l.trimEnd());
  }

  text(escapes = false): string {
    return this.screen(escapes).join('\n').trimEnd();
  }

  async until(cond: (text: string) => boolean, what: string): Promise<string> {
    await waitFor(() => cond(this.text()), `${what}; the screen:\n${this.text()}`, 20_000);
    return this.text();
  }

  /** Waits for the CLI to exit; its exit status. */
  async exit(): Promise<number> {
    const text = await this.until((s) => /^\[exit \d+\]$/m.test(s), 'the CLI to exit');
    return Number(/^\[exit (\d+)\]$/m.exec(text)![1]);
  }
}

const FAILING: Files = {
  Rulefile: yaml(
    'rules:',
    '  bad:',
    '    outputs: bad.txt',
    '    log: logs/bad.log',
    '    run: |',
    '      for i in $(seq 1 30); do echo line $i; done',
    '      exit 3',
  ),
};

describe('on a terminal', () => {
  test('the status line shows done/total, running jobs and the elapsed time; a finished job\'s output is printed under its label', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'default: all',
        'rules:',
        '  all:',
        '    inputs: [fast.txt, slow.txt]',
        '  fast:',
        '    outputs: fast.txt',
        '    run: echo hello-fast; touch {output}',
        '  slow:',
        '    description: Wait for the test',
        '    outputs: slow.txt',
        '    run: i=0; while [ ! -e release ] && [ $i -lt 1000 ]; do sleep 0.02; i=$((i+1)); done; touch {output}',
      ),
    });
    const pane = new Pane(t, p, ['build', '-j2']);
    await pane.until((s) => /^\[1\/2, 1 running, 0:0\d\] slow: Wait for the test$/m.test(s), 'the status line naming the running job');
    // The elapsed time ticks while nothing else happens.
    await pane.until((s) => /^\[1\/2, 1 running, 0:0[1-9]\] slow: Wait for the test$/m.test(s), 'the elapsed time to move');
    const lines = pane.screen();
    const label = lines.indexOf('[1/2] fast');
    assert.ok(label >= 0, lines.join('\n'));
    assert.equal(lines[label + 1], 'hello-fast', 'the output right under its job');
    // Labels are bold.
    assert.match(pane.text(true), /\x1b\[1mfast/);
    p.write({ release: '' });
    assert.equal(await pane.exit(), 0, pane.text());
    const end = pane.text();
    assert.match(end, /^\[2\/2, 0:0\d\] slow: Wait for the test\nrules: 2 jobs done in \d+\.\ds$/m);
    assert.doesNotMatch(end, /\x1b|\r/);
  });

  test('a failure: label, command with every line indented, exit status, and the last 20 lines of its log file named; FAILED in red', async (t) => {
    const p = project(t, FAILING);
    const pane = new Pane(t, p, ['build']);
    assert.equal(await pane.exit(), 1, pane.text());
    const text = pane.text();
    assert.ok(
      text.includes(
        [
          'FAILED: bad: exit status 3',
          '  command:',
          '    for i in $(seq 1 30); do echo line $i; done',
          '    exit 3',
          '  log: logs/bad.log, its last 20 lines:',
          ...Array.from({ length: 20 }, (_, i) => `line ${i + 11}`),
        ].join('\n'),
      ),
      text,
    );
    assert.doesNotMatch(text, /^line 10$/m);
    assert.match(text, /^rules: build failed: 1 job failed \(0 done\)$/m);
    assert.match(pane.text(true), /\x1b\[31mFAILED:/);
  });

  test('NO_COLOR: no colour at all', async (t) => {
    const p = project(t, FAILING);
    const pane = new Pane(t, p, ['build'], { env: { NO_COLOR: '1' } });
    assert.equal(await pane.exit(), 1, pane.text());
    assert.match(pane.text(), /^FAILED: bad: exit status 3$/m);
    assert.doesNotMatch(pane.text(true), /\x1b/);
  });

  test('TERM=dumb: no colour and no cursor escapes; a line per finished job', (t) => {
    const p = project(t, {
      Rulefile: yaml('default: all', 'rules:', '  all:', '    inputs: [a.txt, b.txt]', '  make:', '    outputs: "{n}.txt"', '    run: echo made {n}; touch {output}'),
    });
    const env = terminalEnv('dumb');
    // `script` runs the CLI on a pseudo-terminal and copies what the terminal receives.
    const r = spawnSync('script', ['-qfec', `${q(process.execPath)} ${q(CLI)} build -j1`, '/dev/null'], { cwd: p.dir, encoding: 'utf8', env, timeout: 30_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /\x1b/, JSON.stringify(r.stdout));
    assert.deepEqual(r.stdout.split('\r\n').filter((l) => l !== ''), ['[1/2] make[n=a]', 'made a', '[2/2] make[n=b]', 'made b', `rules: 2 jobs done in ${/done in (\S+)/.exec(r.stdout)![1]}`]);
  });

  test('a colour terminal: the status line rewritten in place, its job label bold', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a:', '    outputs: a.txt', '    run: touch {output}') });
    const env = terminalEnv('xterm-256color');
    const r = spawnSync('script', ['-qfec', `${q(process.execPath)} ${q(CLI)} build`, '/dev/null'], { cwd: p.dir, encoding: 'utf8', env, timeout: 30_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\r\x1b\[K\[0\/1, 1 running, 0:00\] \x1b\[1ma\x1b\[22m/, JSON.stringify(r.stdout));
  });

  test('help is laid out for the terminal\'s width: descriptions in one column, wrapped under it', async (t) => {
    const p = project(t);
    const narrow = new Pane(t, p, ['--help'], { width: 60, height: 100 });
    assert.equal(await narrow.exit(), 0);
    const lines = narrow.screen().filter((l) => !l.startsWith('[exit'));
    for (const l of lines) assert.ok(l.length < 60, `${JSON.stringify(l)} is ${l.length} wide`);
    const jobs = lines.findIndex((l) => l.startsWith('  -j, --jobs N'));
    const column = lines[jobs]!.indexOf('run up to N');
    assert.ok(column > 0, lines[jobs]);
    assert.match(lines[jobs + 1]!, new RegExp(`^ {${column}}\\S`), 'the description goes on under its column');

    const wide = new Pane(t, p, ['build', '--help'], { width: 140, height: 100 });
    assert.equal(await wide.exit(), 0);
    // On a wide terminal a description wider than 80 columns stays on one line.
    assert.match(wide.text(), /^ {2}-k, --keep-going +after a failure, go on building everything that does not depend on it$/m);
  });
});
