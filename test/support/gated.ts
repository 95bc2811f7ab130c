// An executor whose jobs finish only when the test says so: scheduler tests of
// slots, resources, order, retries, failures and interrupts, with no sleeps
// and no timers. A job writes its outputs in the fake file system when it
// starts (FakeExecutor does that part), then runs until `finish` or `kill`.
// Everything happens in promise callbacks: a test that waits for something
// the build never does leaves the event loop empty, and node:test fails it
// ("Promise resolution is still pending but the event loop has already resolved").

import type { Plan } from '../../src/plan/plan.js';
import type { Project } from '../../src/rulefile/model.js';
import type { Executor, JobOutcome, JobSpec, RunningJob } from '../../src/run/executor.js';
import { runPlan, type BuildOptions, type BuildResult } from '../../src/run/scheduler.js';
import { EventLog, FakeExecutor, planOf, type MemoryState } from './build.js';
import type { FakeFileSystem } from './fakefs.js';

/** How a gated job ends: as FakeExecutor would have it (`FAIL` in its command fails), `ok`, `fail`, or exactly this. */
export type GatedEnd = 'as-command' | 'ok' | 'fail' | JobOutcome;

const OK: JobOutcome = { ok: true, exitCode: 0, signal: null, output: '' };
const FAILED: JobOutcome = { ok: false, exitCode: 1, signal: null, output: 'failed on purpose\n', failure: { kind: 'exit', code: 1 } };
const KILLED: JobOutcome = { ok: false, exitCode: null, signal: 'SIGTERM', output: '', failure: { kind: 'signal', signal: 'SIGTERM' } };

interface Gated {
  spec: JobSpec;
  /** What FakeExecutor made of the command. */
  asCommand: Promise<JobOutcome>;
  end: (outcome: JobOutcome | Promise<JobOutcome>) => void;
}

interface Waiter {
  what: string;
  ready: () => boolean;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class GatedExecutor implements Executor {
  /** Job names in the order they started; a retried job once per attempt. */
  readonly started: string[] = [];
  /** Job names whose kill() was called, in order. */
  readonly killed: string[] = [];
  private readonly running = new Map<string, Gated>();
  /** The most jobs that ran at once. */
  maxRunning = 0;
  /** The most of each resource that the running jobs' rules asked for at once (`cpus`: 1 unless asked). */
  readonly peak = new Map<string, number>();
  private readonly writer: FakeExecutor;
  private waiters: Waiter[] = [];
  private over = false;

  constructor(fs: FakeFileSystem) {
    this.writer = new FakeExecutor(fs);
  }

  start(spec: JobSpec): RunningJob {
    const name = spec.job.name;
    if (this.running.has(name)) throw new Error(`${name} started while it was running`);
    const { done: asCommand } = this.writer.start(spec);
    let end!: Gated['end'];
    const done = new Promise<JobOutcome>((resolve) => (end = resolve));
    this.running.set(name, { spec, asCommand, end });
    this.started.push(name);
    this.maxRunning = Math.max(this.maxRunning, this.running.size);
    for (const [resource, used] of this.inUse()) this.peak.set(resource, Math.max(this.peak.get(resource) ?? 0, used));
    this.changed();
    return {
      done,
      kill: () => {
        this.killed.push(name);
        // A killed process ends; its outcome is what the scheduler then hears.
        if (this.running.get(name)?.spec === spec) this.end(name, KILLED);
      },
    };
  }

  /** Ends a running job (by its name: its first output). */
  finish(name: string, how: GatedEnd = 'as-command'): void {
    const job = this.running.get(name);
    if (job === undefined) throw new Error(`${name} is not running (running: ${[...this.running.keys()].join(', ') || 'none'})`);
    this.end(name, how === 'as-command' ? job.asCommand : how === 'ok' ? OK : how === 'fail' ? FAILED : how);
  }

  /** The jobs running now, by name, in the order they started. */
  runningNow(): string[] {
    return [...this.running.keys()];
  }

  /** How many times a job has started. */
  starts(name: string): number {
    return this.started.filter((n) => n === name).length;
  }

  /**
   * Resolves once `ready()` holds (at once if it does now), as the build starts
   * and ends jobs; rejects if the build ends first.
   */
  until(what: string, ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    if (this.over) return Promise.reject(this.endedBefore(what));
    return new Promise((resolve, reject) => this.waiters.push({ what, ready, resolve, reject }));
  }

  /** Resolves once every named job is running. */
  whenRunning(...names: string[]): Promise<void> {
    return this.until(`${names.join(', ')} running`, () => names.every((n) => this.running.has(n)));
  }

  /** Told by the test's build when runPlan has returned: nothing starts any more. */
  buildEnded(): void {
    this.over = true;
    for (const w of this.waiters) w.reject(this.endedBefore(w.what));
    this.waiters = [];
  }

  private end(name: string, outcome: JobOutcome | Promise<JobOutcome>): void {
    const job = this.running.get(name)!;
    this.running.delete(name);
    job.end(outcome);
    this.changed();
  }

  private inUse(): Map<string, number> {
    const used = new Map<string, number>([['cpus', 0]]);
    for (const { spec } of this.running.values()) {
      const asked = spec.job.rule.resources;
      if (!asked.has('cpus')) used.set('cpus', used.get('cpus')! + 1);
      for (const [resource, n] of asked) used.set(resource, (used.get(resource) ?? 0) + n);
    }
    return used;
  }

  private changed(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      if (w.ready()) w.resolve();
      else this.waiters.push(w);
    }
  }

  private endedBefore(what: string): Error {
    return new Error(`the build ended before ${what}; started: ${this.started.join(', ') || 'none'}`);
  }
}

export interface GatedBuild {
  gate: GatedExecutor;
  events: EventLog;
  plan: Plan;
  /** The build's result, once runPlan has returned (and the build log is closed). */
  done: Promise<BuildResult>;
}

/**
 * Starts a build in memory with a gated executor, as `buildOnce` does (the log
 * reloaded first); the jobs that can start have started when this returns.
 */
export function startGated(
  project: Project,
  targets: string[],
  fs: FakeFileSystem,
  state: MemoryState,
  opts: Partial<BuildOptions> & { signal?: AbortSignal } = {},
): GatedBuild {
  const log = state.log();
  const plan = planOf(project, targets, fs, log);
  const gate = new GatedExecutor(fs);
  const events = new EventLog();
  const options: BuildOptions = { jobs: opts.jobs ?? 2, keepGoing: opts.keepGoing ?? false, resources: opts.resources ?? new Map(), keepTemp: opts.keepTemp ?? false };
  const done = runPlan(plan, gate, events, options, opts.signal ?? new AbortController().signal).finally(() => {
    log.close();
    gate.buildEnded();
  });
  return { gate, events, plan, done };
}
