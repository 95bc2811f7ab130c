// Dependencies discovered through depfiles (SPEC §6), on the in-memory file
// system: what a run keeps of its depfile, and how those dependencies make the
// job stale afterwards, in both check modes. No processes, no sleeps.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Job } from '../../../src/graph/model.js';
import type { Plan } from '../../../src/plan/plan.js';
import type { StalenessOptions } from '../../../src/plan/staleness.js';
import { failureText } from '../../../src/report/failure.js';
import { reasonText } from '../../../src/report/reason.js';
import type { Project } from '../../../src/rulefile/model.js';
import type { Executor, JobOutcome, JobSpec, RunningJob } from '../../../src/run/executor.js';
import { runPlan } from '../../../src/run/scheduler.js';
import { EventLog, MemoryState, planOf } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

const RULEFILE = yaml`
  rules:
    link:
      inputs: [obj/a.o, obj/b.o]
      outputs: app
      run: link {inputs} -o {output}
    compile:
      inputs: "src/{name}.c"
      outputs: "obj/{name}.o"
      depfile: "{output}.d"
      run: cc -MD -MF {output}.d -c {input} -o {output}
`;

/**
 * Runs a job as FakeExecutor does (each output: the command and its inputs'
 * contents) and, like `cc -MD`, writes its depfile: the text `depfiles` holds
 * for the job's first output, if any. A command containing FAIL fails.
 */
class CompilerExecutor implements Executor {
  readonly ran: string[] = [];
  constructor(
    private readonly fs: FakeFileSystem,
    readonly depfiles: Map<string, string>,
  ) {}

  start(spec: JobSpec): RunningJob {
    const job = spec.job;
    this.ran.push(job.name);
    const text = this.depfiles.get(job.name);
    if (job.depfile !== undefined && text !== undefined) this.fs.put(job.depfile, text);
    const read = [...job.inputs, ...this.depsIn(text)].map((p) => this.fs.read(p) ?? '');
    for (const out of job.outputs) this.fs.put(out, `${spec.command}\n${read.join('')}`);
    const ok = !spec.command.includes('FAIL');
    const outcome: JobOutcome = ok ? { ok: true, exitCode: 0, signal: null, output: '' } : { ok: false, exitCode: 1, signal: null, output: '', failure: { kind: 'exit', code: 1 } };
    return { done: Promise.resolve(outcome), kill() {} };
  }

  /** The headers a depfile names (enough of its syntax for these tests). */
  private depsIn(text: string | undefined): string[] {
    if (text === undefined) return [];
    return text.split(/[\s\\]+/).filter((w) => w !== '' && !w.endsWith(':'));
  }
}

/** The usual depfiles: a.c includes a.h and common.h (and stdio.h); b.c includes common.h. */
const DEPFILES = () =>
  new Map([
    ['obj/a.o', 'obj/a.o: src/a.c inc/a.h \\\n inc/common.h /usr/include/stdio.h\n'],
    ['obj/b.o', 'obj/b.o: src/b.c inc/common.h\n'],
  ]);

function sources(): FakeFileSystem {
  return new FakeFileSystem()
    .put('src/a.c', 'a source')
    .put('src/b.c', 'b source')
    .put('inc/a.h', 'a header')
    .put('inc/common.h', 'common header')
    .put('/usr/include/stdio.h', 'stdio');
}

function lines(p: Plan): string[] {
  return p.order.map((j) => `${j.name}: ${reasonText(p.reasons.get(j)!)}`);
}

interface Tree {
  fs: FakeFileSystem;
  state: MemoryState;
  project: Project;
  depfiles: Map<string, string>;
  build(options?: Partial<StalenessOptions>): Promise<{ ran: string[]; events: EventLog; ok: boolean }>;
  dry(options?: Partial<StalenessOptions>): string[];
  deps(key: string): string[] | undefined;
}

function tree(rulefile = RULEFILE, fs = sources()): Tree {
  const project = projectFrom(rulefile);
  const state = new MemoryState();
  const depfiles = DEPFILES();
  return {
    fs,
    state,
    project,
    depfiles,
    async build(options = {}) {
      const log = state.log();
      const plan = planOf(project, ['app'], fs, log, options);
      const executor = new CompilerExecutor(fs, depfiles);
      const events = new EventLog();
      const result = await runPlan(plan, executor, events, { jobs: 2, keepGoing: false, resources: new Map() }, new AbortController().signal);
      log.close();
      return { ran: executor.ran.sort(), events, ok: result.ok };
    },
    dry(options = {}) {
      return lines(planOf(project, ['app'], fs, state.log(), options));
    },
    deps(key) {
      const d = state.log().records.get(key)?.deps;
      return d && [...d.keys()];
    },
  };
}

async function built(): Promise<Tree> {
  const t = tree();
  const first = await t.build();
  assert.equal(first.ok, true);
  assert.deepEqual(first.ran, ['app', 'obj/a.o', 'obj/b.o']);
  assert.deepEqual(t.dry(), []);
  return t;
}

describe('depfile: what a run keeps', () => {
  test("the deps are in the job's record, without its declared input; absolute paths kept; the depfile is deleted", async () => {
    const t = await built();
    assert.deepEqual(t.deps('obj/a.o'), ['inc/a.h', 'inc/common.h', '/usr/include/stdio.h']);
    assert.deepEqual(t.deps('obj/b.o'), ['inc/common.h']);
    assert.equal(t.deps('app'), undefined);
    assert.equal(t.fs.has('obj/a.o.d'), false);
    assert.equal(t.fs.has('obj/b.o.d'), false);
    // With their stat and hash, as the job saw them.
    const rec = t.state.log().records.get('obj/a.o')!.deps!.get('inc/a.h')!;
    assert.equal(rec.hash, 'h(a header)');
    assert.equal(rec.mtimeMs, t.fs.mtime('inc/a.h'));
  });

  test('a name that does not exist, the output itself and the depfile are no deps', async () => {
    const t = tree();
    t.depfiles.set('obj/a.o', 'obj/a.o obj/a.o.d: obj/a.o.d src/a.c inc/gone.h inc/a.h ./inc/../obj/a.o\n');
    await t.build();
    assert.deepEqual(t.deps('obj/a.o'), ['inc/a.h']);
  });

  test('a depfile left by a run that never finished is deleted before the next run', async () => {
    const t = tree();
    t.fs.put('obj/a.o.d', 'obj/a.o: inc/stale.h\n').put('inc/stale.h', 'x');
    t.depfiles.delete('obj/a.o');
    const b = await t.build();
    assert.equal(b.ok, false, 'no depfile written by this run: the job fails, the old one was not read');
  });
});

describe('depfile: discovered deps make the job stale (--check hash)', () => {
  test('a header edited: exactly the objects that include it, after their declared inputs', async () => {
    const t = await built();
    t.fs.put('inc/a.h', 'a header, edited');
    assert.deepEqual(t.dry(), ['obj/a.o: input changed: inc/a.h', 'app: upstream will run: obj/a.o']);
    t.fs.put('inc/common.h', 'common, edited');
    assert.deepEqual(t.dry(), ['obj/a.o: input changed: inc/a.h', 'obj/b.o: input changed: inc/common.h', 'app: upstream will run: obj/a.o']);
    // A declared input is named first (row 6 order: declared, then discovered).
    t.fs.put('src/a.c', 'a source, edited');
    assert.deepEqual(t.dry().slice(0, 1), ['obj/a.o: input changed: src/a.c']);
    const b = await t.build();
    assert.deepEqual(b.ran, ['app', 'obj/a.o', 'obj/b.o']);
    assert.deepEqual(t.dry(), []);
  });

  test('a system header outside the root, changed: input changed, by its absolute path', async () => {
    const t = await built();
    t.fs.put('/usr/include/stdio.h', 'stdio, upgraded');
    assert.deepEqual(t.dry(), ['obj/a.o: input changed: /usr/include/stdio.h', 'app: upstream will run: obj/a.o']);
  });

  test('a header deleted: input changed', async () => {
    const t = await built();
    t.fs.remove('inc/common.h');
    assert.deepEqual(t.dry(), ['obj/a.o: input changed: inc/common.h', 'obj/b.o: input changed: inc/common.h', 'app: upstream will run: obj/a.o']);
  });

  test('a header touched without a change: nothing to do, hashed once, then not again', async () => {
    const t = await built();
    t.fs.touch('inc/common.h');
    assert.deepEqual(t.dry(), []);
    const b = await t.build();
    assert.deepEqual(b.ran, []);
    // The new stat was recorded (carried forward with the deps): no file is read any more.
    t.fs.hashes = 0;
    assert.deepEqual(t.dry(), []);
    assert.equal(t.fs.hashes, 0);
    assert.deepEqual(t.deps('obj/a.o'), ['inc/a.h', 'inc/common.h', '/usr/include/stdio.h']);
  });

  test("a record rewritten without a run (an input touched) carries the deps forward", async () => {
    const t = await built();
    t.fs.touch('src/a.c');
    const b = await t.build();
    assert.deepEqual(b.ran, []);
    assert.deepEqual(t.deps('obj/a.o'), ['inc/a.h', 'inc/common.h', '/usr/include/stdio.h']);
    t.fs.put('inc/a.h', 'edited after');
    assert.deepEqual(t.dry(), ['obj/a.o: input changed: inc/a.h', 'app: upstream will run: obj/a.o']);
  });

  test('a job skipped by early cutoff carries its deps forward', async () => {
    const rulefile = yaml`
      rules:
        app:
          inputs: obj/a.o
          outputs: app
          run: link {inputs} -o {output}
        compile:
          inputs: "gen/{name}.c"
          outputs: "obj/{name}.o"
          depfile: "{output}.d"
          run: cc -MD -MF {output}.d -c {input} -o {output}
        generate:
          inputs: "src/{name}.c"
          outputs: "gen/{name}.c"
          run: copy-without-comments {input} {output}
    `;
    const t = tree(rulefile);
    t.depfiles.set('obj/a.o', 'obj/a.o: gen/a.c inc/a.h\n');
    await t.build();
    assert.deepEqual(t.deps('obj/a.o'), ['inc/a.h']);
    // The generator runs again (its output was deleted) and makes the same bytes: compile is skipped, its deps kept.
    t.fs.remove('gen/a.c');
    const b = await t.build();
    assert.deepEqual(b.ran, ['gen/a.c']);
    assert.deepEqual(b.events.skipped(), ['compile[name=a]', 'app']);
    assert.deepEqual(t.deps('obj/a.o'), ['inc/a.h']);
  });
});

describe('depfile: discovered deps make the job stale (--check mtime)', () => {
  test('a header touched: input newer than output', async () => {
    const t = await built();
    t.fs.touch('inc/common.h');
    assert.deepEqual(t.dry({ check: 'mtime' }), [
      'obj/a.o: input newer than output: inc/common.h',
      'obj/b.o: input newer than output: inc/common.h',
      'app: upstream will run: obj/a.o',
    ]);
  });

  test('a header deleted: input changed', async () => {
    const t = await built();
    t.fs.remove('inc/a.h');
    assert.deepEqual(t.dry({ check: 'mtime' }), ['obj/a.o: input changed: inc/a.h', 'app: upstream will run: obj/a.o']);
  });

  test('a declared input newer is named before a discovered one', async () => {
    const t = await built();
    t.fs.touch('inc/a.h').touch('src/a.c');
    assert.deepEqual(t.dry({ check: 'mtime' }).slice(0, 1), ['obj/a.o: input newer than output: src/a.c']);
  });

  test('nothing newer: up to date, and a build in mtime mode keeps the deps', async () => {
    const t = await built();
    assert.deepEqual(t.dry({ check: 'mtime' }), []);
    t.fs.touch('src/b.c');
    const b = await t.build({ check: 'mtime' });
    assert.deepEqual(b.ran, ['app', 'obj/b.o']);
    assert.deepEqual(t.deps('obj/b.o'), ['inc/common.h']);
    t.fs.touch('inc/common.h');
    assert.deepEqual(t.dry({ check: 'mtime' })[0], 'obj/a.o: input newer than output: inc/common.h');
  });
});

describe('depfile: no record, no deps', () => {
  test('a tree built by another tool is adopted by Make\'s rule; its record has no deps until the job runs', async () => {
    const t = tree();
    for (const p of ['obj/a.o', 'obj/b.o', 'app']) t.fs.put(p, 'built elsewhere');
    assert.deepEqual(t.dry(), []);
    const b = await t.build();
    assert.deepEqual(b.ran, []);
    assert.equal(t.deps('obj/a.o'), undefined);
  });

  test("adding 'depfile:' to a rule is 'command changed': the job runs, so its deps become known", async () => {
    const without = RULEFILE.replace(/^ *depfile: .*\n/m, '');
    assert.notEqual(without, RULEFILE);
    const t = tree(without);
    await t.build();
    assert.deepEqual(t.dry(), []);
    const withDepfile = projectFrom(RULEFILE);
    assert.deepEqual(lines(planOf(withDepfile, ['app'], t.fs, t.state.log())), [
      'obj/a.o: command changed',
      'obj/b.o: command changed',
      'app: upstream will run: obj/a.o',
    ]);
  });
});

describe('depfile: a generated header, made upstream', () => {
  const rulefile = yaml`
    rules:
      obj:
        inputs: src/a.c
        order_only: gen/version.h
        outputs: obj/a.o
        depfile: "{output}.d"
        run: cc -MD -MF {output}.d -c {input} -o {output}
      version:
        inputs: VERSION
        outputs: gen/version.h
        run: make-header {input} > {output}
  `;
  async function generated(): Promise<Tree> {
    const t = tree(rulefile, sources().put('VERSION', '1.0'));
    t.depfiles.set('obj/a.o', 'obj/a.o: src/a.c gen/version.h\n');
    const plan = () => lines(planOf(t.project, ['obj/a.o'], t.fs, t.state.log()));
    const log = t.state.log();
    const p = planOf(t.project, ['obj/a.o'], t.fs, log);
    await runPlan(p, new CompilerExecutor(t.fs, t.depfiles), new EventLog(), { jobs: 1, keepGoing: false, resources: new Map() }, new AbortController().signal);
    log.close();
    assert.deepEqual(plan(), []);
    assert.deepEqual(t.deps('obj/a.o'), ['gen/version.h']);
    return Object.assign(t, { dry: plan });
  }
  const run = async (t: Tree) => {
    const log = t.state.log();
    const p = planOf(t.project, ['obj/a.o'], t.fs, log);
    const ex = new CompilerExecutor(t.fs, t.depfiles);
    const events = new EventLog();
    await runPlan(p, ex, events, { jobs: 1, keepGoing: false, resources: new Map() }, new AbortController().signal);
    log.close();
    return { ran: ex.ran, events };
  };

  test('the header will be remade: upstream will run, then decided again after it', async () => {
    const t = await generated();
    t.fs.put('VERSION', '2.0');
    assert.deepEqual(t.dry(), ['gen/version.h: input changed: VERSION', 'obj/a.o: upstream will run: gen/version.h']);
    const b = await run(t);
    assert.deepEqual(b.ran, ['gen/version.h', 'obj/a.o']);
    assert.deepEqual(b.events.started()[1], 'obj: input changed: gen/version.h');
  });

  test('remade byte-identical: the object is not compiled again (early cutoff)', async () => {
    const t = await generated();
    t.fs.put('gen/version.h', 'edited by hand');
    const b = await run(t);
    assert.deepEqual(b.ran, ['gen/version.h']);
    assert.deepEqual(b.events.skipped(), ['obj']);
  });
});

describe('depfile: a depfile that cannot be used fails the job', () => {
  async function failing(text: string | undefined): Promise<{ t: Tree; message: string; job: Job }> {
    const t = tree();
    if (text === undefined) t.depfiles.delete('obj/b.o');
    else t.depfiles.set('obj/b.o', text);
    const b = await t.build();
    assert.equal(b.ok, false);
    const fail = b.events.events.find((e) => e.type === 'job-fail');
    assert.ok(fail && fail.type === 'job-fail');
    return { t, message: failureText(fail.failure), job: fail.job };
  }

  test('missing: named; outputs removed; incomplete next time', async () => {
    const { t, message, job } = await failing(undefined);
    assert.equal(job.name, 'obj/b.o');
    assert.equal(message, "the command succeeded but did not write its depfile 'obj/b.o.d'");
    assert.equal(t.fs.has('obj/b.o'), false);
    t.depfiles.set('obj/b.o', 'obj/b.o: src/b.c\n');
    assert.deepEqual(t.dry().filter((l) => l.startsWith('obj/b.o')), ['obj/b.o: output missing: obj/b.o']);
  });

  test('malformed (no separator): named with its line; the depfile is deleted quietly', async () => {
    const { t, message } = await failing('obj/b.o: src/b.c\nwhat is this\n');
    assert.equal(message, "depfile 'obj/b.o.d' is malformed: line 2 has no ':' between targets and dependencies");
    assert.equal(t.fs.has('obj/b.o.d'), false);
    assert.equal(t.fs.has('obj/b.o'), false);
  });

  test('malformed (an unterminated escape)', async () => {
    const { message } = await failing('obj/b.o: src/b.c \\');
    assert.equal(message, "depfile 'obj/b.o.d' is malformed: line 1 ends in an unterminated escape ('\\' at the end of the file)");
  });

  test('the depfile of a run that failed is deleted too', async () => {
    const t = tree(RULEFILE.replace('-c {input}', '-c {input} FAIL'));
    const b = await t.build();
    assert.equal(b.ok, false);
    assert.equal(t.fs.has('obj/a.o.d'), false);
    assert.equal(t.fs.has('obj/b.o.d'), false);
    assert.equal(t.state.log().isIncomplete('obj/a.o'), true);
  });

});
