// The builder as watch mode and the CLI use it: a request in, an outcome out,
// never a throw for a user error, nothing printed. Runs on a temp directory
// with an executor that writes each job's outputs from its inputs in-process.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { build, plan } from '../../../src/build/builder.js';
import type { BuildRequest } from '../../../src/build/request.js';
import type { BuildEvent } from '../../../src/run/events.js';
import type { Executor, JobSpec, RunningJob } from '../../../src/run/executor.js';
import { yaml } from '../../support/project.js';

/** Writes every output as the job's command followed by its inputs' contents. */
class WritingExecutor implements Executor {
  readonly started: string[] = [];
  start(spec: JobSpec): RunningJob {
    this.started.push(spec.job.label);
    const body = spec.command + '\n' + spec.job.inputs.map((i) => readFileSync(join(spec.cwd, i), 'utf8')).join('');
    for (const out of spec.job.outputs) {
      mkdirSync(dirname(join(spec.cwd, out)), { recursive: true });
      writeFileSync(join(spec.cwd, out), body);
    }
    return { done: Promise.resolve({ ok: true as const, exitCode: 0, signal: null, output: '' }), kill() {} };
  }
}

interface Harness {
  dir: string;
  executor: WritingExecutor;
  events: BuildEvent[];
  warnings: string[];
  request(over?: Partial<BuildRequest>): BuildRequest;
}

function harness(t: TestContext, rulefile: string, files: Record<string, string> = {}): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'rules-builder-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'Rulefile'), rulefile);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  const h: Harness = {
    dir,
    executor: new WritingExecutor(),
    events: [],
    warnings: [],
    request: (over = {}) => ({
      project: { cwd: dir, configFiles: [], configOverrides: [] },
      targets: [],
      check: 'hash',
      force: false,
      dryRun: false,
      run: { jobs: 2, resources: new Map(), keepGoing: false, executor: { kind: 'given', create: () => h.executor } },
      report: { open: async () => ({ emit: (e) => h.events.push(e) }), warn: (w) => h.warnings.push(w) },
      signal: new AbortController().signal,
      ...over,
    }),
  };
  return h;
}

const PIPELINE = yaml`
  rules:
    all:
      inputs: [out/a.txt, out/b.txt]
    copy:
      inputs: src/{n}.txt
      outputs: out/{n}.txt
      run: cp {input} {output}
`;

describe('builder', () => {
  test('a build runs the stale jobs and says what it saw; the next is answered by the stamp', async (t) => {
    const h = harness(t, PIPELINE, { 'src/a.txt': 'A', 'src/b.txt': 'B' });
    const first = await build(h.request());
    assert.equal(first.exitCode, 0);
    assert.deepEqual(first.diagnostics, []);
    assert.deepEqual(first.counts, { ran: 2, skipped: 0, failed: 0, notRun: 0, upToDate: 0 });
    assert.equal(first.graph?.jobs.length, 3);
    assert.ok(first.project && first.files && first.plan, 'project, files and plan are handed back');
    assert.deepEqual(h.executor.started.sort(), ['copy[n=a]', 'copy[n=b]']);
    assert.match(readFileSync(join(h.dir, 'out/a.txt'), 'utf8'), /A$/);

    h.events.length = 0;
    const second = await build(h.request());
    assert.equal(second.exitCode, 0);
    assert.ok(second.stamp, 'answered by the up-to-date stamp');
    assert.equal(second.project, undefined, 'without loading the project');
    assert.equal(second.counts?.ran, 0);
    assert.deepEqual(
      h.events.map((e) => e.type),
      ['stamp-holds', 'build-start', 'build-finish'],
    );
  });

  test('force skips the stamp and runs every job', async (t) => {
    const h = harness(t, PIPELINE, { 'src/a.txt': 'A', 'src/b.txt': 'B' });
    await build(h.request());
    const forced = await build(h.request({ force: true }));
    assert.equal(forced.stamp, undefined);
    assert.equal(forced.counts?.ran, 2);
  });

  test('a broken Rulefile is an outcome with a place, not a throw', async (t) => {
    const h = harness(t, 'rules:\n  copy:\n    input: [a\n');
    const outcome = await build(h.request());
    assert.equal(outcome.exitCode, 2);
    assert.ok(outcome.diagnostics.length > 0);
    assert.equal(outcome.diagnostics[0]!.loc?.file, 'Rulefile');
    assert.equal(outcome.project, undefined);
    assert.equal(existsSync(join(h.dir, '.rules')), false);
  });

  test('a missing source: the project is handed back (watch keeps watching it), the graph is not', async (t) => {
    const h = harness(t, PIPELINE, { 'src/a.txt': 'A' });
    const outcome = await build(h.request());
    assert.equal(outcome.exitCode, 2);
    assert.match(outcome.diagnostics.map((d) => d.message).join('\n'), /src\/b\.txt/);
    assert.ok(outcome.project);
    assert.equal(outcome.graph, undefined);
    assert.equal(existsSync(join(h.dir, '.rules')), false, 'a build that cannot start leaves no trace');
  });

  test('a resource request above the limits is refused when planning, naming the rule at its place, before .rules/ exists', async (t) => {
    const h = harness(
      t,
      yaml`
        rules:
          big:
            outputs: big.txt
            resources: { mem_mb: 9000 }
            run: touch big.txt
      `,
    );
    const req = h.request();
    const outcome = await build({ ...req, run: { ...req.run, resources: new Map([['mem_mb', 8000]]) } });
    assert.equal(outcome.exitCode, 2);
    assert.equal(outcome.diagnostics.length, 1);
    assert.match(outcome.diagnostics[0]!.message, /rule 'big' needs mem_mb=9000, more than --resources allows \(mem_mb=8000\)/);
    assert.equal(outcome.diagnostics[0]!.loc?.file, 'Rulefile');
    assert.deepEqual([outcome.diagnostics[0]!.loc?.line, outcome.diagnostics[0]!.loc?.col], [4, 18], 'at the request');
    assert.equal(existsSync(join(h.dir, '.rules')), false);
    assert.deepEqual(h.executor.started, []);
    const dry = await build({ ...req, dryRun: true, run: { ...req.run, resources: new Map([['mem_mb', 8000]]) } });
    assert.equal(dry.exitCode, 2, 'a dry run says what the build would say');
  });

  test('a dry run decides and hands back the plan; it writes nothing and runs nothing', async (t) => {
    const h = harness(t, PIPELINE, { 'src/a.txt': 'A', 'src/b.txt': 'B' });
    const outcome = await build(h.request({ dryRun: true }));
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.plan?.order.length, 3);
    assert.deepEqual(h.executor.started, []);
    assert.equal(existsSync(join(h.dir, '.rules')), false);
    assert.deepEqual(h.events, [], 'a dry run reports nothing as it goes');
  });

  test('plan() decides from the project even when the stamp holds (graph export needs the graph)', async (t) => {
    const h = harness(t, PIPELINE, { 'src/a.txt': 'A', 'src/b.txt': 'B' });
    await build(h.request());
    assert.ok((await build(h.request({ dryRun: true }))).stamp, 'a dry run is answered by the stamp');
    const planned = await plan(h.request());
    assert.equal(planned.stamp, undefined);
    assert.equal(planned.graph?.jobs.length, 3);
    assert.equal(planned.plan?.order.length, 0, 'nothing: the phony grouping runs only when a job it needs does');
  });

  test('an aborted signal stops the build before any job starts: exit 130', async (t) => {
    const h = harness(t, PIPELINE, { 'src/a.txt': 'A', 'src/b.txt': 'B' });
    const abort = new AbortController();
    abort.abort();
    const outcome = await build(h.request({ signal: abort.signal }));
    assert.equal(outcome.exitCode, 130);
    assert.deepEqual(h.executor.started, []);
    assert.equal(existsSync(join(h.dir, 'out/a.txt')), false);
  });

  test('targets are taken relative to the working directory', async (t) => {
    const h = harness(t, PIPELINE, { 'src/a.txt': 'A', 'src/b.txt': 'B' });
    mkdirSync(join(h.dir, 'out'));
    const req = h.request();
    const outcome = await build({ ...req, project: { ...req.project, cwd: join(h.dir, 'out'), rulefile: join(h.dir, 'Rulefile') }, targets: ['b.txt'] });
    assert.equal(outcome.exitCode, 0, outcome.diagnostics.map((d) => d.message).join('\n'));
    assert.deepEqual(h.executor.started, ['copy[n=b]']);
  });

  test('warnings (a glob skipping a dangling link) are handed to the request, not printed', async (t) => {
    const h = harness(
      t,
      yaml`
        rules:
          all:
            inputs: "src/*.txt"
      `,
      { 'src/a.txt': 'A' },
    );
    const { symlinkSync } = await import('node:fs');
    symlinkSync('nowhere', join(h.dir, 'src/dangling.txt'));
    const outcome = await build(h.request());
    assert.equal(outcome.exitCode, 0);
    assert.equal(h.warnings.length, 1);
    assert.match(h.warnings[0]!, /^Rulefile:\d+:\d+: .*dangling\.txt/);
  });
});
