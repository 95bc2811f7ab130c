// The build's history as a user meets it (SPEC §9): what `.rules/history/`
// and the build log keep after real builds, and `rules build --trace FILE`.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { project, show, yaml } from './helpers.js';

const PIPELINE = yaml(
  'default: all',
  'rules:',
  '  all:',
  '    inputs: [out/a.txt, out/b.txt, out/c.txt, out/bad.txt]',
  '  make:',
  '    outputs: "out/{n}.txt"',
  '    run: sleep 0.1; echo {n} > {output}',
  '  bad:',
  '    outputs: out/bad.txt',
  '    run: echo half > {output}; echo oops >&2; exit 4',
);

interface TraceEvent {
  name: string;
  ph: string;
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

describe('the history of builds', () => {
  test('a build that ran jobs: its timeline (lanes under -j, times, reasons, the failure with its output) and each rule\'s times', (t) => {
    const p = project(t, { Rulefile: PIPELINE });
    const r = p.run(['build', '-j2', '-k']);
    assert.equal(r.status, 1, show(r));
    const last = JSON.parse(p.read('.rules/history/last-build.json')) as {
      slots: number;
      ok: boolean;
      jobs: { label: string; rule: string; lane: number; startMs: number; endMs: number; status: string; reason: string }[];
      failures: { label: string; error: string; tail: string }[];
    };
    assert.equal(last.slots, 2);
    assert.equal(last.ok, false);
    assert.deepEqual(last.jobs.map((j) => j.label).sort(), ['bad', 'make[n=a]', 'make[n=b]', 'make[n=c]']);
    for (const j of last.jobs) {
      assert.ok(j.lane === 0 || j.lane === 1, `${j.label} in lane ${j.lane}`);
      assert.ok(j.endMs >= j.startMs && j.startMs >= 0, JSON.stringify(j));
      assert.match(j.reason, /^output missing: out\//);
    }
    for (const j of last.jobs.filter((x) => x.rule === 'make')) assert.ok(j.endMs - j.startMs >= 90, `${j.label} took ${j.endMs - j.startMs} ms`);
    assert.deepEqual(last.failures.map((f) => [f.label, f.error, f.tail]), [['bad', 'exit status 4', 'oops']]);
    const rules = JSON.parse(p.read('.rules/history/rules.json')) as { rules: Record<string, { runs: number; failed: number; maxWallMs: number }> };
    assert.deepEqual([rules.rules.make!.runs, rules.rules.make!.failed, rules.rules.bad!.runs, rules.rules.bad!.failed], [3, 0, 0, 1]);
    assert.ok(rules.rules.make!.maxWallMs >= 90);
  });

  test('a build with nothing to run leaves the last build that ran as it was; a job keeps its last 5 runs', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  make:', '    outputs: out.txt', '    run: echo x > {output}') });
    for (let i = 0; i < 6; i++) assert.equal(p.run(['build', '-B']).status, 0);
    const before = p.read('.rules/history/last-build.json');
    assert.equal(p.run(['build']).status, 0);
    assert.equal(p.read('.rules/history/last-build.json'), before);
    const line = p.read('.rules/log').split('\n').findLast((l) => l.includes('"k":"out.txt"') && l.includes('"t":"D"'))!;
    const runs = (JSON.parse(line.slice(9)) as { h: number[][] }).h;
    assert.equal(runs.length, 5);
    for (const [wall, , , at] of runs) assert.ok(wall! >= 0 && at! > 1_700_000_000, JSON.stringify(runs));
    const rules = JSON.parse(p.read('.rules/history/rules.json')) as { rules: Record<string, { runs: number }> };
    assert.equal(rules.rules.make!.runs, 6);
  });
});

describe('what a job used, through the command line', () => {
  test('CPU time and peak memory of a job that allocates and computes reach the history, the log and the JSON events (Linux)', (t) => {
    if (process.platform !== 'linux') return t.skip('measured from /proc: Linux only');
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  crunch:',
        '    outputs: out.txt',
        '    run: |',
        // Bytes written, not only allocated: untouched pages are not resident.
        "      python3 -c 'x = b\"x\" * 80000000",
        '      import time',
        '      t = time.process_time()',
        '      while time.process_time() - t < 0.3: pass',
        // Held past the longest gap between two samples (1 s, on a loaded machine: docs/usage.md).
        "      time.sleep(1.5)'",
        '      echo done > {output}',
      ),
    });
    const r = p.run(['build', '--log-format', 'json']);
    assert.equal(r.status, 0, show(r));
    const job = (JSON.parse(p.read('.rules/history/last-build.json')) as { jobs: { cpuMs?: number; maxRssKb?: number }[] }).jobs[0]!;
    assert.ok(job.cpuMs !== undefined && job.cpuMs >= 250, `cpuMs ${job.cpuMs}`);
    assert.ok(job.maxRssKb !== undefined && job.maxRssKb >= 70_000, `maxRssKb ${job.maxRssKb}`);
    const finished = r.stderr.split('\n').find((l) => l.includes('"job-finished"'))!;
    assert.deepEqual(Object.values(pick(JSON.parse(finished) as Record<string, unknown>)), [job.cpuMs, job.maxRssKb]);
    const rules = JSON.parse(p.read('.rules/history/rules.json')) as { rules: Record<string, { maxRssKb?: number; cpuMs: number }> };
    assert.deepEqual([rules.rules.crunch!.maxRssKb, rules.rules.crunch!.cpuMs], [job.maxRssKb, job.cpuMs]);
  });
});

function pick(o: Record<string, unknown>): { cpuMs: unknown; maxRssKb: unknown } {
  return { cpuMs: o.cpuMs, maxRssKb: o.maxRssKb };
}

describe('rules build --trace FILE', () => {
  test('Chrome trace events: one complete event per job, on the lane it ran in, named by its label and coloured by its rule', (t) => {
    const p = project(t, { Rulefile: PIPELINE });
    const r = p.run(['build', '-j2', '-k', '--trace', 'trace.json']);
    assert.equal(r.status, 1, show(r));
    const trace = JSON.parse(p.read('trace.json')) as { traceEvents: TraceEvent[]; displayTimeUnit: string };
    const jobs = trace.traceEvents.filter((e) => e.ph === 'X');
    assert.deepEqual(jobs.map((e) => e.name).sort(), ['bad', 'make[n=a]', 'make[n=b]', 'make[n=c]']);
    for (const e of jobs) {
      assert.ok(e.tid === 1 || e.tid === 2, JSON.stringify(e));
      assert.ok(e.ts! >= 0 && e.dur! >= 0, JSON.stringify(e));
      assert.equal(e.cat, e.name === 'bad' ? 'bad' : 'make');
    }
    assert.equal(jobs.find((e) => e.name === 'bad')!.args!.status, 'failed');
    // Two jobs never overlap on one lane.
    for (const lane of [1, 2]) {
      const spans = jobs.filter((e) => e.tid === lane).sort((x, y) => x.ts! - y.ts!);
      for (let i = 1; i < spans.length; i++) assert.ok(spans[i]!.ts! >= spans[i - 1]!.ts! + spans[i - 1]!.dur!, `lane ${lane} overlaps`);
    }
    assert.deepEqual(trace.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args!.name), ['slot 1', 'slot 2']);
  });

  test('an up-to-date build writes a trace without jobs; under -C DIR the file is named from DIR, as every file is', (t) => {
    const p = project(t, { 'sub/Rulefile': yaml('rules:', '  make:', '    outputs: out.txt', '    run: echo x > {output}') });
    assert.equal(p.run(['-C', 'sub', 'build', '--trace', 'first.json']).status, 0);
    assert.ok(p.exists('sub/first.json'));
    const r = p.run(['-C', 'sub', 'build', '--trace', 'again.json']);
    assert.equal(r.status, 0, show(r));
    const trace = JSON.parse(p.read('sub/again.json')) as { traceEvents: TraceEvent[] };
    assert.deepEqual(trace.traceEvents.filter((e) => e.ph === 'X'), []);
  });

  test('with -n or --question: an error, exit 2; a file that cannot be written: a warning, and the build stands', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  make:', '    outputs: out.txt', '    run: echo x > {output}') });
    for (const flag of ['-n', '--question']) {
      const r = p.run(['build', flag, '--trace', 't.json']);
      assert.equal(r.status, 2, show(r));
      assert.match(r.stderr, /--trace records a build as it runs/);
      assert.equal(p.exists('t.json'), false);
    }
    const r = p.run(['build', '--trace', 'no/such/dir/t.json']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stderr, /^rules: warning: cannot write the trace no\/such\/dir\/t\.json: its directory does not exist$/m);
    assert.ok(p.exists('out.txt'));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
