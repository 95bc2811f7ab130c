// Plans and builds entirely in memory: a fake file system, an in-memory build
// log and an executor that "runs" a job by writing its outputs in the fake.

import { buildGraph } from '../../src/graph/build.js';
import { renderCommand } from '../../src/graph/command.js';
import type { Job } from '../../src/graph/model.js';
import { makePlan, type Plan } from '../../src/plan/plan.js';
import type { StalenessOptions } from '../../src/plan/staleness.js';
import { reasonText } from '../../src/report/reason.js';
import type { Project } from '../../src/rulefile/model.js';
import type { BuildEvent, Reporter } from '../../src/run/events.js';
import type { Executor, JobOutcome, JobSpec, RunningJob } from '../../src/run/executor.js';
import { runPlan, type BuildResult } from '../../src/run/scheduler.js';
import { FileOracle } from '../../src/state/files.js';
import { BuildLog, MemoryLogStorage } from '../../src/state/log.js';
import { MemoryMarkerStorage } from '../../src/state/started.js';
import type { FakeFileSystem } from './fakefs.js';

export class MemoryState {
  readonly storage = new MemoryLogStorage();
  readonly markers = new MemoryMarkerStorage();

  /** Loads the log afresh, as a new `rules` process would. */
  log(): BuildLog {
    return BuildLog.load(this.storage, this.markers);
  }
}

export function planOf(
  project: Project,
  targets: string[],
  fs: FakeFileSystem,
  log: BuildLog,
  options: Partial<StalenessOptions> = {},
): Plan {
  const graph = buildGraph(project, targets, fs);
  const opts: StalenessOptions = { force: false, check: 'hash', ...options };
  return makePlan({ project, graph, files: new FileOracle(fs, log, opts.check === 'hash'), log, options: opts });
}

/**
 * Runs a job by writing each output as `command + "\n" + inputs' contents`,
 * so an output's content depends on everything a real job's would. A command
 * containing `FAIL` fails after writing its outputs. A directory output gets
 * that content in `DIR/part.txt`; a command containing `LEAVE_FILE` leaves a
 * file there instead, one containing `NO_DIR` removes the directory.
 */
export class FakeExecutor implements Executor {
  readonly ran: string[] = [];

  constructor(private readonly fs: FakeFileSystem) {}

  start(spec: JobSpec): RunningJob {
    const job = spec.job;
    this.ran.push(job.name);
    const content = `${spec.command}\n${job.inputs.map((i) => this.fs.read(i) ?? '').join('')}`;
    for (const out of job.outputs) {
      if (job.dirOutputs?.has(out) !== true) this.fs.put(out, content);
      else if (spec.command.includes('LEAVE_FILE')) this.fs.removeTree(out), this.fs.put(out, content);
      else if (spec.command.includes('NO_DIR')) this.fs.removeTree(out);
      else this.fs.put(`${out}/part.txt`, content);
    }
    const ok = !spec.command.includes('FAIL');
    const outcome: JobOutcome = ok
      ? { ok: true, exitCode: 0, signal: null, output: '' }
      : { ok: false, exitCode: 1, signal: null, output: 'failed on purpose\n', failure: { kind: 'exit', code: 1 } };
    return { done: Promise.resolve(outcome), kill() {} };
  }
}

export class EventLog implements Reporter {
  readonly events: BuildEvent[] = [];
  emit(e: BuildEvent): void {
    this.events.push(e);
  }
  started(): string[] {
    return this.events.flatMap((e) => (e.type === 'job-start' ? [`${e.job.label}: ${reasonText(e.reason)}`] : []));
  }
  skipped(): string[] {
    return this.events.flatMap((e) => (e.type === 'job-skip' ? [e.job.label] : []));
  }
}

export interface FakeBuild {
  plan: Plan;
  result: BuildResult;
  ran: string[];
  events: EventLog;
}

/** One whole build in memory, as `rules build` does it; the log is reloaded first. */
export async function buildOnce(
  project: Project,
  targets: string[],
  fs: FakeFileSystem,
  state: MemoryState,
  options: Partial<StalenessOptions> & { keepGoing?: boolean; keepTemp?: boolean; touch?: boolean } = {},
): Promise<FakeBuild> {
  const log = state.log();
  const plan = planOf(project, targets, fs, log, options);
  const executor = new FakeExecutor(fs);
  const events = new EventLog();
  const result = await runPlan(
    plan,
    executor,
    events,
    { jobs: 2, keepGoing: options.keepGoing ?? false, resources: new Map(), keepTemp: options.keepTemp ?? false, touch: options.touch ?? false },
    new AbortController().signal,
  );
  log.close();
  return { plan, result, ran: executor.ran, events };
}

/** What each output of a from-scratch build would contain (FakeExecutor's rule), in dependency order. */
export function expectedContents(project: Project, jobs: Job[], fs: FakeFileSystem): Map<string, string> {
  const content = new Map<string, string>();
  const read = (p: string) => content.get(p) ?? fs.read(p) ?? '';
  const done = new Set<Job>();
  const visit = (job: Job) => {
    if (done.has(job)) return;
    done.add(job);
    for (const d of job.deps) visit(d);
    const command = renderCommand(project, job);
    if (command === undefined) return;
    const text = `${command}\n${job.inputs.map(read).join('')}`;
    for (const out of job.outputs) content.set(out, text);
  };
  for (const job of jobs) visit(job);
  return content;
}
