// Runs a plan on a bounded pool: a job takes `resources.cpus` of the `-j`
// slots and its other resources from the `--resources` limits. Ready jobs
// start critical path first. Failed or interrupted jobs leave no outputs.

import { mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderCommand, renderEnv } from '../graph/command.js';
import type { Job } from '../graph/model.js';
import { readyBefore, type Plan } from '../plan/plan.js';
import { isInert } from '../plan/staleness.js';
import type { Project } from '../rulefile/model.js';
import { UserError } from '../util/errors.js';
import { Heap } from '../util/heap.js';
import type { Reporter } from './events.js';
import type { Executor, RunningJob } from './executor.js';

export interface BuildOptions {
  /** Job slots (`-j`). */
  jobs: number;
  keepGoing: boolean;
  /** Limits of named resources (`--resources mem_mb=8000`); unnamed ones are unlimited. */
  resources: Map<string, number>;
}

export interface BuildResult {
  ok: boolean;
  ran: number;
  failed: Job[];
  /** Stale jobs that never ran (after a failure, or an interrupt). */
  notRun: number;
  interrupted: boolean;
}

/** Throws if some job needs more of a resource than the build allows at all. */
export function checkResources(plan: Plan, opts: BuildOptions): void {
  for (const job of plan.order) {
    for (const [name, limit] of opts.resources) {
      const need = job.rule.resources.get(name) ?? 0;
      if (need > limit) {
        throw new UserError(`rule '${job.rule.name}' needs ${name}=${need}, more than --resources allows (${name}=${limit}); raise the limit or lower the rule's request`);
      }
    }
  }
}

export async function runPlan(
  plan: Plan,
  project: Project,
  executor: Executor,
  reporter: Reporter,
  opts: BuildOptions,
  signal: AbortSignal,
): Promise<BuildResult> {
  checkResources(plan, opts);
  const start = Date.now();
  // A phony rule without a command only groups its inputs: it is done, not run.
  const inert = plan.order.filter(isInert).length;
  const total = plan.order.length - inert;
  reporter.emit({ type: 'build-start', total, upToDate: plan.graph.jobs.length - plan.order.length });

  const waiting = new Map<Job, number>();
  const ready = new Heap<Job>(readyBefore(plan.priority));
  for (const job of plan.order) {
    let n = 0;
    for (const d of job.deps) if (plan.reasons.has(d)) n++;
    if (n === 0) ready.push(job);
    else waiting.set(job, n);
  }

  let freeSlots = opts.jobs;
  const free = new Map(opts.resources);
  const running = new Map<Job, RunningJob | undefined>();
  const failed: Job[] = [];
  let ran = 0;
  let stopping = false;
  const slotsOf = (job: Job) => Math.min(job.rule.resources.get('cpus') ?? 1, opts.jobs);
  const fits = (job: Job) => {
    if (slotsOf(job) > freeSlots) return false;
    for (const [name, left] of free) if ((job.rule.resources.get(name) ?? 0) > left) return false;
    return true;
  };
  const take = (job: Job, sign: 1 | -1) => {
    freeSlots -= sign * slotsOf(job);
    for (const [name, left] of free) free.set(name, left - sign * (job.rule.resources.get(name) ?? 0));
  };

  let wake: () => void = () => {};
  const onAbort = () => {
    stopping = true;
    for (const r of running.values()) r?.kill();
    wake();
  };
  signal.addEventListener('abort', onAbort);

  const finish = (job: Job, ok: boolean, counted = true) => {
    running.delete(job);
    take(job, -1);
    if (ok) {
      if (counted) ran++;
      for (const d of job.dependents) {
        const n = waiting.get(d);
        if (n === undefined) continue;
        if (n === 1) {
          waiting.delete(d);
          ready.push(d);
        } else {
          waiting.set(d, n - 1);
        }
      }
    } else {
      failed.push(job);
      if (!opts.keepGoing) stopping = true;
    }
    wake();
  };

  const launch = (job: Job) => {
    take(job, 1);
    if (isInert(job)) {
      running.set(job, undefined);
      queueMicrotask(() => finish(job, true, false));
      return;
    }
    running.set(job, undefined);
    void runJob(job, plan.reasons.get(job)!, project, executor, reporter, signal, (r) => running.set(job, r)).then((ok) => finish(job, ok));
  };

  for (;;) {
    if (!stopping && !signal.aborted) {
      // Start every ready job that fits, best first; those that do not fit wait their turn.
      const skipped: Job[] = [];
      while (ready.size > 0 && freeSlots > 0) {
        const job = ready.pop()!;
        if (fits(job)) launch(job);
        else skipped.push(job);
      }
      for (const j of skipped) ready.push(j);
      if (running.size === 0 && skipped.length > 0) {
        // Nothing runs and the best job does not fit: it can only be a cpus clamp issue; run it alone.
        launch(ready.pop()!);
      }
    }
    if (running.size === 0) break;
    await new Promise<void>((resolve) => (wake = resolve));
  }
  signal.removeEventListener('abort', onAbort);

  const interrupted = signal.aborted;
  const notRun = total - ran - failed.length;
  const ok = failed.length === 0 && !interrupted && notRun === 0;
  reporter.emit({ type: 'build-finish', ok, ran, failed: failed.length, notRun, interrupted, durationMs: Date.now() - start });
  return { ok, ran, failed, notRun, interrupted };
}

/** Deletes a job's declared outputs (never anything else). */
export function removeOutputs(project: Project, job: Job): void {
  for (const out of job.outputs) rmSync(abs(project, out), { force: true, recursive: true });
}

function abs(project: Project, path: string): string {
  return path.startsWith('/') ? path : `${project.root}/${path}`;
}

/** Runs one job with its retries; resolves true on success. */
async function runJob(
  job: Job,
  reason: string,
  project: Project,
  executor: Executor,
  reporter: Reporter,
  signal: AbortSignal,
  onStart: (r: RunningJob) => void,
): Promise<boolean> {
  const command = renderCommand(project, job);
  const attempts = 1 + job.rule.retries;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const t0 = Date.now();
    reporter.emit({ type: 'job-start', job, reason, command, attempt });
    if (command === undefined) {
      reporter.emit({ type: 'job-finish', job, durationMs: 0, output: '' });
      return true;
    }
    let error: string | undefined;
    let output = '';
    try {
      // A stale output must never survive a run that does not replace it.
      removeOutputs(project, job);
      for (const out of job.outputs) mkdirSync(dirname(abs(project, out)), { recursive: true });
      if (job.log) mkdirSync(dirname(abs(project, job.log)), { recursive: true });
    } catch (e) {
      error = `cannot prepare outputs: ${(e as Error).message}`;
    }
    if (error === undefined) {
      const running = executor.start({
        job,
        command,
        shell: project.shell,
        cwd: project.root,
        env: { ...process.env, ...renderEnv(project, job) },
        ...(job.log ? { logPath: abs(project, job.log) } : {}),
      });
      onStart(running);
      if (signal.aborted) running.kill();
      const outcome = await running.done;
      output = outcome.output;
      if (!outcome.ok) error = outcome.error ?? 'failed';
      else {
        const missing = job.outputs.find((o) => !existsQuick(abs(project, o)));
        if (missing !== undefined) error = `the command succeeded but did not create output '${missing}'`;
      }
    }
    const durationMs = Date.now() - t0;
    if (error === undefined) {
      reporter.emit({ type: 'job-finish', job, durationMs, output });
      return true;
    }
    removeOutputs(project, job);
    const willRetry = attempt < attempts && !signal.aborted;
    reporter.emit({ type: 'job-fail', job, durationMs, output, command, error: signal.aborted ? 'interrupted' : error, willRetry });
    if (!willRetry) return false;
  }
  return false;
}

function existsQuick(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false }) !== undefined;
}
