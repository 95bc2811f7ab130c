// Runs a plan on a bounded pool: a job takes `resources.cpus` of the `-j`
// slots and its other resources from the `--resources` limits. Ready jobs
// start critical path first. Every run is recorded in the build log: marked
// incomplete before it starts, recorded with its files after it succeeds.
// A job whose only reason was an upstream job is decided again when that job
// is done: if its inputs came out byte-identical, it does not run (early cutoff).

import { posix } from 'node:path';
import { jobDescription, renderCommand, renderEnv, type ResourceValues } from '../graph/command.js';
import { interpreterByShebang, noInterpreterMessage, SHEBANG_BYTES } from '../graph/script.js';
import { removeJobFile, writeJobFile } from '../state/jobfile.js';
import { dropImplicitInputs, type Job } from '../graph/model.js';
import { expectedOf, expectedWork, extendPlan, readyBefore, type Plan } from '../plan/plan.js';
import { checkResources } from '../plan/resources.js';
import type { StaleReason } from '../plan/reason.js';
import { jobSignature } from '../plan/signature.js';
import { goneTemp, isInert, recordKey, staleReason } from '../plan/staleness.js';
import type { Project } from '../rulefile/model.js';
import type { FileOracle } from '../state/files.js';
import { RUNS_KEPT, type BuildLog, type FileInfo, type JobRecord, type RunStat } from '../state/log.js';
import { outputSpillPath } from '../state/output.js';
import { UserError, type Diagnostic } from '../util/errors.js';
import { IsDirectoryError, sameFile } from '../util/fs.js';
import { Heap } from '../util/heap.js';
import type { Reporter } from './events.js';
import { readDepfile } from './depfile.js';
import type { Executor, JobUsage, RunningJob } from './executor.js';
import { names, type JobFailure, type OutputProblem } from './failure.js';
import type { OutputCut } from './output.js';
import { TempOutputs } from './temp.js';

export interface BuildOptions {
  /** Job slots (`-j`). */
  jobs: number;
  keepGoing: boolean;
  /** Limits of named resources (`--resources mem_mb=8000`); unnamed ones are unlimited. */
  resources: Map<string, number>;
  /** `--keep-temp`: no temporary output is deleted (SPEC §7). */
  keepTemp?: boolean;
  /** `--touch` (SPEC §8): no command runs; each stale job's outputs get the time of now, and a record as if it had run. */
  touch?: boolean;
}

export interface BuildResult {
  ok: boolean;
  ran: number;
  /** Jobs that did not need to run after all: their inputs came out unchanged. */
  skipped: number;
  failed: Job[];
  /** Stale jobs that never ran (after a failure, or an interrupt). */
  notRun: number;
  interrupted: boolean;
  /** Problems of the graph found as it grew (SPEC §7: a cycle, a missing source): the jobs needing that part did not run. */
  graphProblems?: Diagnostic[];
}

export async function runPlan(
  plan: Plan,
  executor: Executor,
  reporter: Reporter,
  opts: BuildOptions,
  signal: AbortSignal,
): Promise<BuildResult> {
  // Planned already (plan/resources.ts); a job that can never fit would wait for ever.
  checkResources(plan.order, opts.resources);
  return new Build(plan, executor, reporter, opts, signal).run();
}

class Build {
  private readonly project: Project;
  /** By job id: how many of its stale deps are yet to finish. */
  private waiting: Int32Array;
  private readonly ready: Heap<Job>;
  private freeSlots: number;
  private readonly free: Map<string, number>;
  private readonly running = new Map<Job, RunningJob | undefined>();
  /** The lane (0, 1, ...) each running job holds, for a timeline of the build: the lowest free one when it starts. */
  private readonly lanes: (Job | undefined)[] = [];
  private readonly laneOf = new Map<Job, number>();
  private readonly failed: Job[] = [];
  private ran = 0;
  private skipped = 0;
  private stopping = false;
  private wake: () => void = () => {};
  /** Jobs decided during the build: they no longer need the plan's record refresh. */
  private readonly settled = new Set<Job>();
  /** Directories made for outputs and logs in this build: each is made once. */
  private readonly madeDirs = new Set<string>();
  /** Stale jobs that finished (ran, were skipped, or only grouped) in this build. */
  private readonly finished = new Set<Job>();
  /** Jobs that run a command, planned so far (the total grows with the graph). */
  private total = 0;
  /** Jobs with pending globs (SPEC §7) that have not grown yet. */
  private pendingLeft = 0;
  private readonly graphProblems: Diagnostic[] = [];
  /** Temporary outputs to delete once no job needs them (SPEC §7); undefined when none can be. */
  private readonly temps: TempOutputs | undefined;
  /** Whether any rule has `temp:`: only then can a missing input or output be one gone as planned. */
  private readonly hasTemps: boolean;

  constructor(
    private readonly plan: Plan,
    private readonly executor: Executor,
    private readonly reporter: Reporter,
    private readonly opts: BuildOptions,
    private readonly signal: AbortSignal,
  ) {
    this.project = plan.context.project;
    this.waiting = new Int32Array(plan.graph.jobs.length);
    this.ready = new Heap<Job>(readyBefore(plan));
    this.freeSlots = opts.jobs;
    this.free = new Map(opts.resources);
    this.hasTemps = this.project.rules.some((r) => r.temp !== undefined);
    this.temps = this.hasTemps ? TempOutputs.of(plan, opts.keepTemp === true) : undefined;
  }

  async run(): Promise<BuildResult> {
    const { plan, signal } = this;
    const start = Date.now();
    // A phony rule without a command only groups its inputs: it is done, not run.
    this.total = plan.order.filter((j) => !isInert(j)).length;
    for (const job of plan.order) if (job.pending !== undefined) this.pendingLeft++;
    const expectedMs = expectedWork(plan, plan.order);
    this.reporter.emit({
      type: 'build-start',
      total: this.total,
      upToDate: (plan.graph.jobsInAll ?? plan.graph.jobs.length) - plan.order.length,
      ...(this.pendingLeft > 0 ? { pending: this.pendingLeft } : {}),
      slots: this.opts.jobs,
      ...(expectedMs !== undefined ? { expectedMs } : {}),
    });

    for (const job of plan.order) this.waiting[job.id] = this.staleDeps(job, 0);
    for (const job of plan.order) if (this.waiting[job.id] === 0) this.readyOrGrow(job);
    const onAbort = () => {
      this.stopping = true;
      for (const r of this.running.values()) r?.kill();
      this.wake();
    };
    signal.addEventListener('abort', onAbort);

    for (;;) {
      if (!this.stopping && !signal.aborted) this.startReady();
      if (this.running.size === 0) break;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    signal.removeEventListener('abort', onAbort);

    // Up-to-date jobs that were adopted or whose files were re-stat'ed get a fresh record. One
    // that cannot be written (a file vanished meanwhile) is simply decided afresh next time.
    for (const job of plan.needsRecord) {
      if (this.settled.has(job)) continue;
      try {
        this.record(job, this.inputInfos(job));
      } catch {
        // Left without a new record.
      }
    }

    const interrupted = signal.aborted;
    const total = this.total;
    const notRun = total - this.ran - this.skipped - this.failed.length;
    const ok = this.failed.length === 0 && !interrupted && notRun === 0 && this.graphProblems.length === 0;
    this.reporter.emit({
      type: 'build-finish',
      ok,
      ran: this.ran,
      skipped: this.skipped,
      failed: this.failed.length,
      notRun,
      interrupted,
      durationMs: Date.now() - start,
      ...this.freed(),
    });
    return { ok, ran: this.ran, skipped: this.skipped, failed: this.failed, notRun, interrupted, ...(this.graphProblems.length > 0 ? { graphProblems: this.graphProblems } : {}) };
  }

  /** How many of `job`'s deps from index `from` on are stale and not finished. */
  private staleDeps(job: Job, from: number): number {
    let n = 0;
    for (let i = from; i < job.deps.length; i++) {
      const d = job.deps[i]!;
      if (this.plan.reasons.has(d) && !this.finished.has(d)) n++;
    }
    return n;
  }

  /** A job whose deps have all finished: ready, unless it must grow first and then waits for what it gained. */
  private readyOrGrow(job: Job): void {
    if (job.pending !== undefined) {
      if (!this.grow(job)) return;
      if (this.waiting[job.id]! > 0) return;
    }
    this.ready.push(job);
  }

  /**
   * Matches the pending globs of `job` now that the jobs making their
   * directories have run (SPEC §7): the jobs they need join the graph, are
   * decided as any job is, and the stale ones are scheduled in this build.
   * False when the grown graph has a problem: the job does not run.
   */
  private grow(job: Job): boolean {
    const graph = this.plan.graph;
    const depsBefore = job.deps.length;
    const t0 = performance.now();
    this.pendingLeft--;
    let planned: Job[];
    let growth;
    try {
      growth = graph.grow!(job);
      planned = extendPlan(this.plan, job, growth.added);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      this.graphProblems.push(...e.diagnostics);
      this.reporter.emit({ type: 'graph-problem', job, diagnostics: e.diagnostics });
      if (!this.opts.keepGoing) this.stopping = true;
      return false;
    }
    if (graph.jobs.length > this.waiting.length) {
      const waiting = new Int32Array(Math.max(graph.jobs.length, this.waiting.length * 2));
      waiting.set(this.waiting);
      this.waiting = waiting;
    }
    let added = 0;
    for (const j of planned) {
      if (!isInert(j)) added++;
      if (j.pending !== undefined) this.pendingLeft++;
    }
    this.total += added;
    this.temps?.grew(job, planned);
    for (const j of planned) this.waiting[j.id] = this.staleDeps(j, 0);
    this.waiting[job.id] = this.staleDeps(job, depsBefore);
    const durationMs = Math.round(performance.now() - t0);
    const expectedMs = expectedWork(this.plan, planned);
    const expected = expectedMs !== undefined ? { expectedMs } : {};
    this.reporter.emit({ type: 'graph-grow', job, globs: growth.globs, added, total: this.total, pending: this.pendingLeft, durationMs, ...expected });
    for (const j of planned) if (this.waiting[j.id] === 0) this.readyOrGrow(j);
    return true;
  }

  /** The jobs whose glob waited for `failed`'s directory will not grow: each is said once, with why, and counts as pending no more. */
  private abandonGlobs(failed: Job): void {
    if (this.pendingLeft === 0) return;
    for (const job of failed.dependents) {
      const glob = job.pending?.find((g) => g.producer === failed);
      if (glob === undefined || this.abandoned.has(job)) continue;
      this.abandoned.add(job);
      this.pendingLeft--;
      this.reporter.emit({ type: 'glob-abandoned', job, pattern: glob.pattern, producer: failed, pending: this.pendingLeft });
    }
  }
  /** Jobs whose glob will never be matched in this build (abandonGlobs). */
  private readonly abandoned = new Set<Job>();

  /** What deleting temporary outputs freed, for `build-finish` (nothing when none was deleted). */
  private freed(): { freedBytes?: number; freedFiles?: number } {
    const t = this.temps;
    return t === undefined || t.freedFiles === 0 ? {} : { freedBytes: t.freedBytes, freedFiles: t.freedFiles };
  }

  /** A job is done: the temporary outputs no job of the plan needs any more are deleted (run/temp.ts). */
  private dropTemps(job: Job, ok: boolean, ran: boolean): void {
    // Interrupted: what was left is kept for the next build.
    if (this.temps === undefined || this.signal.aborted) return;
    this.temps.finished(job, ok, ran);
  }

  /**
   * What a missing input was when it was last there, for a record written
   * now: a temporary output gone as planned, as its producer's record (or,
   * inside a temporary directory, this job's own last record) keeps it.
   */
  private goneInput(job: Job, input: string): FileInfo | undefined {
    const gone = goneTemp(this.plan.context, input);
    if (gone === undefined) return undefined;
    return gone.exact ? gone.info : this.plan.context.log.records.get(recordKey(job))?.inputs.get(input);
  }

  private slotsOf(job: Job): number {
    return Math.min(job.rule.resources.get('cpus') ?? 1, this.opts.jobs);
  }

  /**
   * `{resources.NAME}` as the job gets it: `cpus` capped at `-j` (as it takes
   * at most that many slots), unless the executor grants what is asked (a
   * cluster job gets its request, whatever `-j` bounds here).
   */
  private readonly granted: ResourceValues = (job, name) => {
    if (name === 'cpus' && !this.executor.grantsRequest) return String(this.slotsOf(job));
    return String(job.rule.resources.get(name) ?? '');
  };

  private fits(job: Job): boolean {
    if (this.slotsOf(job) > this.freeSlots) return false;
    for (const [name, left] of this.free) if ((job.rule.resources.get(name) ?? 0) > left) return false;
    return true;
  }

  private take(job: Job, sign: 1 | -1): void {
    this.freeSlots -= sign * this.slotsOf(job);
    for (const [name, left] of this.free) this.free.set(name, left - sign * (job.rule.resources.get(name) ?? 0));
  }

  /** Starts every ready job that fits, best first; those that do not fit wait their turn. */
  private startReady(): void {
    const skipped: Job[] = [];
    while (this.ready.size > 0 && this.freeSlots > 0 && !this.stopping) {
      const job = this.ready.pop()!;
      if (!this.fits(job)) {
        skipped.push(job);
        continue;
      }
      const reason = this.decideAgain(job);
      if (reason === undefined) {
        this.settled.add(job);
        try {
          this.record(job, this.inputInfos(job));
        } catch {
          // Not recorded (the build log cannot be written): decided afresh next time.
        }
        this.skipped++;
        const { expectedMs } = expectedOf(this.plan, job);
        this.reporter.emit({ type: 'job-skip', job, why: { kind: 'inputs-unchanged' }, ...(expectedMs !== undefined ? { expectedMs } : {}) });
        this.finish(job, true, false);
        continue;
      }
      this.launch(job, reason);
    }
    for (const j of skipped) this.ready.push(j);
  }

  /**
   * The reason to run `job` now that its inputs are built. Only a job that was
   * stale because of what an upstream job makes can have become up to date
   * (early cutoff); under --check mtime there is no early cutoff.
   */
  private decideAgain(job: Job): StaleReason | undefined {
    const planned = this.plan.reasons.get(job)!;
    const ctx = this.plan.context;
    if (ctx.options.check !== 'hash' || !this.madeUpstream(planned)) return planned;
    // Every input is built now. A phony rule's command leaves no file to compare: as in Make,
    // the jobs that need it run whenever it does.
    return staleReason(job, { ...ctx, willRun: (j) => j.rule.phony && this.plan.reasons.has(j), needsRecord: new Set() });
  }

  /** Whether a reason is about an input that an upstream job of the plan makes. */
  private madeUpstream(reason: StaleReason): boolean {
    if (reason.kind === 'upstream') return true;
    // An input that differed from the record may have been rebuilt to the recorded bytes (an
    // upstream output edited by hand, then remade): decide again then too.
    if (reason.kind !== 'input-changed') return false;
    const producer = this.plan.graph.producers.get(reason.path);
    return producer ? this.plan.reasons.has(producer) : false;
  }

  private launch(job: Job, reason: StaleReason): void {
    this.take(job, 1);
    this.running.set(job, undefined);
    if (isInert(job)) {
      queueMicrotask(() => this.finish(job, true, false));
      return;
    }
    this.settled.add(job);
    let lane = this.lanes.indexOf(undefined);
    if (lane === -1) lane = this.lanes.length;
    this.lanes[lane] = job;
    this.laneOf.set(job, lane);
    void this.runJob(job, reason).then(
      (ok) => this.finish(job, ok, true),
      (e: unknown) => {
        // Not a failure of the job's command, but it must not stall the build.
        this.removeOutputs(job);
        const failure: JobFailure = { kind: 'unexpected', message: (e as Error).message };
        this.reporter.emit({ type: 'job-fail', job, durationMs: 0, output: '', command: undefined, failure, willRetry: false });
        this.finish(job, false, true);
      },
    );
  }

  private finish(job: Job, ok: boolean, counted: boolean): void {
    if (this.running.delete(job)) this.take(job, -1);
    const lane = this.laneOf.get(job);
    if (lane !== undefined) {
      this.lanes[lane] = undefined;
      this.laneOf.delete(job);
    }
    if (ok) {
      if (counted) this.ran++;
      // Only a graph that can grow asks which deps have finished (a job gaining deps during the build).
      if (this.plan.graph.grow !== undefined) this.finished.add(job);
      for (const d of job.dependents) {
        if (!this.plan.reasons.has(d)) continue;
        if (--this.waiting[d.id]! === 0) this.readyOrGrow(d);
      }
    } else {
      this.failed.push(job);
      if (!this.opts.keepGoing) this.stopping = true;
      this.abandonGlobs(job);
    }
    this.dropTemps(job, ok, counted);
    this.wake();
  }

  /** The stat and hash of each input (declared, then implicit), as the job sees it when it starts. */
  private inputInfos(job: Job): Map<string, FileInfo> {
    const infos = new Map<string, FileInfo>();
    const files = this.plan.context.files;
    for (const input of job.inputs) {
      if (this.plan.graph.producers.get(input)?.rule.phony) continue;
      const info = files.current(input) ?? (this.hasTemps ? this.goneInput(job, input) : undefined);
      if (info) infos.set(input, info);
    }
    for (const input of job.implicitInputs) {
      const info = files.current(input);
      if (info) infos.set(input, info);
    }
    return infos;
  }

  /**
   * A record written without a run (adopted, re-stat'ed, early cutoff) keeps
   * the dependencies the last run discovered, as they are now (unchanged in
   * content, or the job would have run).
   */
  private carriedDeps(job: Job): Map<string, FileInfo> | undefined {
    if (job.depfile === undefined) return undefined;
    const old = this.plan.context.log.records.get(recordKey(job))?.deps;
    if (old === undefined) return undefined;
    const files = this.plan.context.files;
    const deps = new Map<string, FileInfo>();
    for (const [path, info] of old) deps.set(path, files.current(path) ?? info);
    return deps;
  }

  /**
   * The implicit inputs the job changed while it ran (a log it appends to, a
   * file it touches): dropped from its inputs and its record, so that it never
   * makes itself stale (SPEC §6).
   */
  private changedByJob(job: Job, inputs: Map<string, FileInfo>): readonly string[] {
    const fs = this.plan.context.files.fs;
    let changed: string[] | undefined;
    for (const input of job.implicitInputs) {
      const before = inputs.get(input);
      // A file another job makes is that job's to change.
      if (before === undefined || this.plan.graph.producers.get(input)) continue;
      fs.invalidate(input);
      if (sameFile(fs.stat(input), before)) continue;
      (changed ??= []).push(input);
      inputs.delete(input);
    }
    // A file the command names that the job itself created.
    for (const word of this.plan.graph.absentWords?.get(job.rule) ?? NO_DROPS) {
      fs.invalidate(word);
      const st = fs.statFile ? fs.statFile(word) : fs.stat(word);
      if (st !== undefined && !st.isDirectory) (changed ??= []).push(word);
    }
    if (changed === undefined) return NO_DROPS;
    dropImplicitInputs(job, changed);
    return changed;
  }

  private record(job: Job, inputs: Map<string, FileInfo>, deps = this.carriedDeps(job), dropped: readonly string[] = NO_DROPS, run?: RunStat): void {
    if (job.rule.phony) return;
    const files = this.plan.context.files;
    const outputs = new Map<string, FileInfo>();
    // A job that ran has already had its outputs invalidated; others did not change them.
    const log = this.plan.context.log;
    const key = recordKey(job);
    for (const out of job.outputs) {
      // A temporary output gone as planned keeps what its last record says of it (SPEC §7).
      const info = files.current(out) ?? (job.tempOutputs?.has(out) === true ? log.records.get(key)?.outputs.get(out) : undefined);
      if (info) outputs.set(out, info);
    }
    const rec: JobRecord = { key, signature: jobSignature(this.project, job), inputs, outputs };
    if (job.log !== undefined) rec.log = job.log;
    // Dropped once, dropped for good: carried from record to record.
    const before = log.records.get(key)?.dropped;
    if (before !== undefined || dropped.length > 0) rec.dropped = before === undefined ? [...dropped] : [...new Set([...before, ...dropped])];
    rememberTrees(files, log, inputs, outputs);
    if (deps !== undefined && deps.size > 0) rec.deps = deps;
    // The history goes with the job from record to record (SPEC §9); a record made without a run keeps it as it was.
    const runs = log.records.get(key)?.runs;
    if (run !== undefined) rec.runs = runs === undefined ? [run] : [run, ...runs.slice(0, RUNS_KEPT - 1)];
    else if (runs !== undefined) rec.runs = runs;
    log.done(rec);
  }

  /** The lane a running job holds, as an event's field. */
  private lane(job: Job): { lane?: number } {
    const lane = this.laneOf.get(job);
    return lane !== undefined ? { lane } : {};
  }

  private mkdirOnce(dir: string): void {
    if (this.madeDirs.has(dir)) return;
    this.plan.context.files.fs.mkdirp(dir);
    this.madeDirs.add(dir);
  }

  /**
   * Deletes a job's declared outputs (never anything else, never a directory);
   * says what it could not delete.
   */
  private removeOutputs(job: Job): OutputProblem | undefined {
    let problem: OutputProblem | undefined;
    const fs = this.plan.context.files.fs;
    for (const out of job.outputs) {
      try {
        // A declared directory output goes whole; anything else is removed only if it is not a directory.
        if (job.dirOutputs !== undefined && job.dirOutputs.has(out)) fs.removeTree(out);
        else fs.remove(out);
      } catch (e) {
        problem ??= e instanceof IsDirectoryError ? { kind: 'directory', path: out } : { kind: 'undeletable', path: out, message: (e as Error).message };
      }
    }
    return problem;
  }

  /** Deletes the job's depfile, if it has one; quietly (the graph made sure it is nobody's file). */
  private removeDepfile(job: Job): void {
    if (job.depfile === undefined) return;
    try {
      this.plan.context.files.fs.remove(job.depfile);
    } catch {
      // A directory in its place, or no permission: left; the next run reads what its command writes there.
    }
  }

  /** For a script job whose interpreter was left to run time (a made script): reads its `#!` line; says why it cannot run. */
  private knowInterpreter(job: Job): string | undefined {
    const script = job.script;
    if (script === undefined || script.interpreter !== undefined) return undefined;
    const head = this.plan.context.files.fs.readStart?.(script.path, SHEBANG_BYTES);
    const interpreter = head === undefined ? undefined : interpreterByShebang(head);
    if (interpreter === undefined) return noInterpreterMessage(job.label, script.path);
    job.script = { path: script.path, interpreter };
    return undefined;
  }

  /**
   * `--touch`: the job is recorded as if it had run, its outputs (which the
   * build checked exist) made as new as now; its command does not run.
   */
  private touchJob(job: Job, reason: StaleReason, inputs: Map<string, FileInfo>): boolean {
    const files = this.plan.context.files;
    this.reporter.emit({ type: 'job-start', job, reason, command: undefined, attempt: 1, ...this.lane(job), ...expectedOf(this.plan, job) });
    if (!job.rule.phony) {
      // The file system forgets what it knew of a path it touches.
      for (const out of job.outputs) files.fs.touch?.(out);
      files.forgetWalks();
      this.record(job, inputs);
    }
    this.reporter.emit({ type: 'job-finish', job, durationMs: 0, output: '' });
    return true;
  }

  /** Runs one job with its retries; resolves true on success. */
  private async runJob(job: Job, reason: StaleReason): Promise<boolean> {
    const { project, reporter, signal } = this;
    const fs = this.plan.context.files.fs;
    const log = this.plan.context.log;
    // A script a rule made is read for its `#!` line once it is there.
    const scriptProblem = this.knowInterpreter(job);
    const command = scriptProblem === undefined ? renderCommand(project, job, this.granted) : '';
    const attempts = 1 + job.rule.retries;
    const inputs = this.inputInfos(job);
    if (this.opts.touch === true) return this.touchJob(job, reason, inputs);
    const unreadable = unreadableInput(this.plan.context.files, job);
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const t0 = Date.now();
      reporter.emit({ type: 'job-start', job, reason, command, attempt, ...this.lane(job), ...expectedOf(this.plan, job) });
      if (command === undefined) {
        reporter.emit({ type: 'job-finish', job, durationMs: 0, output: '' });
        return true;
      }
      let failure: JobFailure | undefined;
      let output = '';
      let cut: OutputCut | undefined;
      let usage: JobUsage | undefined;
      try {
        if (!job.rule.phony) log.started(recordKey(job), job.outputs, job.log);
        // A stale output must never survive a run that does not replace it.
        const kept = this.removeOutputs(job);
        // A depfile left by an earlier run that did not finish must not be taken for this run's.
        this.removeDepfile(job);
        if (kept !== undefined) failure = { kind: 'prepare', problem: kept };
        else if (unreadable !== undefined) failure = unreadable;
        else if (scriptProblem !== undefined) failure = { kind: 'prepare-error', message: scriptProblem };
        else {
          for (const out of job.outputs) this.mkdirOnce(posix.dirname(out));
          if (job.log) this.mkdirOnce(posix.dirname(job.log));
          // A directory output starts empty (it was removed above).
          if (job.dirOutputs !== undefined) for (const dir of job.dirOutputs) fs.mkdirp(dir);
        }
      } catch (e) {
        failure = { kind: 'prepare-error', message: (e as Error).message };
      }
      let jobFile: string | undefined;
      let logTail: string | undefined;
      if (failure === undefined && job.script !== undefined) {
        try {
          jobFile = writeJobFile(project.root, recordKey(job), jobDescription(project, job, this.granted));
        } catch (e) {
          failure = { kind: 'prepare-error', message: (e as Error).message };
        }
      }
      if (failure === undefined) {
        const env = renderEnv(project, job);
        if (jobFile !== undefined) env.RULES_JOB = jobFile;
        const running = this.executor.start({
          job,
          command,
          shell: project.shell,
          cwd: project.root,
          env,
          ...(job.log ? { logPath: abs(project.root, job.log) } : { spillPath: outputSpillPath(project.root, job.rule.name, job.name) }),
        });
        this.running.set(job, running);
        if (signal.aborted) running.kill();
        const outcome = await running.done;
        if (jobFile !== undefined) removeJobFile(jobFile);
        output = outcome.output;
        usage = outcome.usage;
        if (outcome.outputCut) cut = rootRelative(project.root, outcome.outputCut);
        for (const out of job.outputs) fs.invalidate(out);
        this.plan.context.files.forgetWalks();
        if (!outcome.ok) {
          failure = outcome.failure;
          logTail = outcome.logTail;
        } else {
          const missing = job.outputs.find((o) => fs.stat(o) === undefined);
          const dir = job.outputs.find((o) => fs.stat(o)?.isDirectory === true && !job.dirOutputs?.has(o));
          const file = job.dirOutputs && [...job.dirOutputs].find((o) => fs.stat(o)?.isDirectory === false);
          if (missing !== undefined) failure = { kind: 'missing-output', path: missing };
          else if (dir !== undefined) failure = { kind: 'directory-output', path: dir };
          else if (file !== undefined) failure = { kind: 'file-output', path: file };
        }
      }
      let deps: Map<string, FileInfo> | undefined;
      if (failure === undefined && job.depfile !== undefined) {
        const found = readDepfile(job, project.root, this.plan.context.files);
        if ('failure' in found) failure = found.failure;
        else deps = found.deps;
      }
      // Read or not, a depfile is gone after the run: the record holds what it said.
      this.removeDepfile(job);
      const durationMs = Date.now() - t0;
      const used = usage !== undefined ? { usage } : {};
      if (failure === undefined) {
        const run: RunStat = { wallMs: usage?.wallMs ?? durationMs, at: Date.now() };
        if (usage?.cpuMs !== undefined) run.cpuMs = usage.cpuMs;
        if (usage?.maxRssKb !== undefined) run.maxRssKb = usage.maxRssKb;
        try {
          this.record(job, inputs, deps, job.implicitInputs.length > 0 || this.plan.graph.absentWords?.has(job.rule) ? this.changedByJob(job, inputs) : NO_DROPS, run);
        } catch (e) {
          failure = { kind: 'record', message: (e as Error).message };
        }
      }
      if (failure === undefined) {
        reporter.emit({ type: 'job-finish', job, durationMs, output, ...(cut ? { cut } : {}), ...used });
        return true;
      }
      const kept = this.removeOutputs(job);
      if (kept !== undefined && !names(failure, kept)) failure = { ...failure, leftover: kept };
      if (!job.rule.phony) log.stopped(recordKey(job));
      const willRetry = attempt < attempts && !signal.aborted;
      const tail = logTail !== undefined ? { logTail } : {};
      reporter.emit({ type: 'job-fail', job, durationMs, output, ...(cut ? { cut } : {}), ...tail, command, failure: signal.aborted ? { kind: 'interrupted' } : failure, willRetry, ...used });
      if (!willRetry) return false;
    }
    return false;
  }
}

/** Keeps the files inside the directories among a record's inputs and outputs (hashed walks only) for the hash cache. */
function rememberTrees(files: FileOracle, log: BuildLog, inputs: Map<string, FileInfo>, outputs: Map<string, FileInfo>): void {
  if (!files.hashing || !files.walkedAny) return;
  for (const map of [inputs, outputs]) {
    for (const p of map.keys()) {
      const tree = files.inside(p);
      if (tree !== undefined) log.rememberTree(p, tree.files);
    }
  }
}

/** The first directory input holding something that cannot be read: the job is not run then (SPEC §6, docs/staleness.md). */
function unreadableInput(files: FileOracle, job: Job): JobFailure | undefined {
  if (!files.walkedAny) return undefined;
  for (const input of job.inputs) {
    const problem = files.inside(input)?.problem;
    if (problem !== undefined) return { kind: 'unreadable-input', input, path: problem.path, message: problem.message };
  }
  return undefined;
}
const NO_DROPS: readonly string[] = Object.freeze([]);

function abs(root: string, path: string): string {
  return path.startsWith('/') ? path : `${root}/${path}`;
}

/** A spill file under the project root, named as users see paths: relative to it. */
function rootRelative(root: string, cut: OutputCut): OutputCut {
  if (cut.path === undefined || !cut.path.startsWith(`${root}/`)) return cut;
  return { ...cut, path: cut.path.slice(root.length + 1) };
}
