// Structured logging: `--log-format json` writes JSON lines to stderr,
// and every real build appends its events to .rules/logs/events.jsonl.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nonEmptyLines, project, show, yaml } from './helpers.js';

interface LogLine {
  event?: string;
  level?: number;
  time?: string;
  msg?: string;
  job?: string;
  rule?: string;
  reason?: string;
  durationMs?: number;
  ok?: boolean;
  error?: string;
  [k: string]: unknown;
}

function parseLines(text: string): LogLine[] {
  return nonEmptyLines(text).map((l) => {
    try {
      return JSON.parse(l) as LogLine;
    } catch {
      assert.fail(`not a JSON line: ${l}`);
    }
  });
}

const RULEFILE = yaml(
  'default: all',
  'rules:',
  '  all:',
  '    inputs: [b.txt]',
  '  a:',
  '    inputs: src.txt',
  '    outputs: a.txt',
  '    run: echo job-a-says-hi; cp {input} {output}',
  '  b:',
  '    inputs: a.txt',
  '    outputs: b.txt',
  '    run: cp {input} {output}',
  '  bad:',
  '    outputs: bad.txt',
  '    run: echo oops; exit 2',
);

describe('--log-format json', () => {
  test('every stderr line is a JSON event: build-started, job-started, job-finished, build-finished', (t) => {
    const p = project(t, { Rulefile: RULEFILE, 'src.txt': 's\n' });
    const r = p.run(['build', '--log-format', 'json', '-j1']);
    assert.equal(r.status, 0, show(r));
    const lines = parseLines(r.stderr);
    const events = lines.map((l) => l.event);
    assert.deepEqual(events, ['build-started', 'job-started', 'job-finished', 'job-started', 'job-finished', 'build-finished']);
    const started = lines.filter((l) => l.event === 'job-started');
    assert.deepEqual(started.map((l) => l.job), ['a', 'b']);
    assert.equal(started[0]!.reason, 'output missing: a.txt');
    assert.equal(typeof lines.find((l) => l.event === 'job-finished')!.durationMs, 'number');
    assert.equal(lines.at(-1)!.ok, true);
    for (const l of lines) {
      assert.equal(typeof l.level, 'number');
      assert.equal(typeof l.time, 'string');
    }
    assert.equal(p.read('b.txt'), 's\n');
    // Job output is not mixed into the JSON stream.
    assert.match(r.stdout, /job-a-says-hi/);
  });

  test('a failing job gives job-failed with the error, and a failed build-finished', (t) => {
    const p = project(t, { Rulefile: RULEFILE, 'src.txt': 's\n' });
    const r = p.run(['build', 'bad.txt', '--log-format=json']);
    assert.equal(r.status, 1, show(r));
    const lines = parseLines(r.stderr);
    const failed = lines.find((l) => l.event === 'job-failed');
    assert.ok(failed, r.stderr);
    assert.equal(failed.job, 'bad');
    assert.equal(failed.error, 'exit status 2');
    const finished = lines.find((l) => l.event === 'build-finished');
    assert.equal(finished?.ok, false);
  });

  test('a bad --log-format value is a usage error', (t) => {
    const p = project(t, { Rulefile: RULEFILE, 'src.txt': 's\n' });
    assert.equal(p.run(['build', '--log-format', 'xml']).status, 2);
    assert.equal(p.exists('a.txt'), false);
  });
});

describe('.rules/logs/events.jsonl', () => {
  test('every real build appends its events, in text mode too', (t) => {
    const p = project(t, { Rulefile: RULEFILE, 'src.txt': 's\n' });
    let r = p.run(['build', '-j1']);
    assert.equal(r.status, 0, show(r));
    assert.ok(p.exists('.rules/logs/events.jsonl'));
    let lines = parseLines(p.read('.rules/logs/events.jsonl'));
    assert.deepEqual(lines.map((l) => l.event), ['build-started', 'job-started', 'job-finished', 'job-started', 'job-finished', 'build-finished']);

    r = p.run(['build', '-B', '-j1']);
    assert.equal(r.status, 0, show(r));
    lines = parseLines(p.read('.rules/logs/events.jsonl'));
    assert.equal(lines.filter((l) => l.event === 'build-started').length, 2);
    assert.equal(lines.filter((l) => l.event === 'job-finished').length, 4);

    r = p.run(['build', 'bad.txt']);
    assert.equal(r.status, 1, show(r));
    lines = parseLines(p.read('.rules/logs/events.jsonl'));
    assert.equal(lines.filter((l) => l.event === 'job-failed').length, 1);
    assert.equal(lines.at(-1)!.event, 'build-finished');
    assert.equal(lines.at(-1)!.ok, false);
  });
});
