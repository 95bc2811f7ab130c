// The SLURM executor: each job is a batch job submitted with `sbatch`. All
// the build's jobs carry one job name, so one `squeue --name` per poll tracks
// them all (polls back off while nothing changes); a job that leaves the
// running states is read once with `scontrol show job` (or `sacct` where the
// controller has forgotten it). What the jobs that ended used is read from the
// cluster's accounting with one `sacct` per poll, where the cluster keeps
// accounting. Staleness, records, failure cleanup and early cutoff stay in the
// scheduler, as for local jobs.

import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { shellQuote } from '../util/strings.js';
import type { Executor, JobOutcome, JobSpec, JobUsage, RunningJob } from './executor.js';
import type { JobFailure } from './failure.js';
import { LOG_TAIL_BYTES, readOutputTail } from './output.js';

export interface SlurmOptions {
  /** Absolute directory for job scripts and logs (`.rules/slurm`). */
  dir: string;
  /** Job name shared by every job of this build. */
  jobName: string;
  partition?: string;
  account?: string;
  /** More `sbatch` flags, for every job. */
  extra: string[];
  /** First polling interval; it grows to 10× while nothing changes. */
  pollMs: number;
  /** How long to wait for a finished job's outputs to appear (shared file systems lag). */
  outputWaitMs: number;
  /** Runs a SLURM command (tests record them); resolves with stdout, rejects with the error text. */
  run?: (cmd: string, args: string[]) => Promise<string>;
}

/** States a job leaves SLURM in; anything else is still queued or running. */
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'OUT_OF_MEMORY', 'NODE_FAIL', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE', 'REVOKED', 'SPECIAL_EXIT']);

export interface FinalState {
  state: string;
  exitCode: number | null;
  signal: number | null;
}

/** `squeue -h -o '%i|%T'` → job id → state. */
export function parseSqueue(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [id, state] = line.trim().split('|');
    if (id && state) out.set(id, state.replace(/\+$/, ''));
  }
  return out;
}

/** `scontrol -o show job ID` → its final state, or undefined if it is not final (or not there). */
export function parseScontrol(text: string): FinalState | undefined {
  const state = /(?:^|\s)JobState=(\S+)/.exec(text)?.[1];
  if (!state || !FINAL.has(state)) return undefined;
  return { state, ...exitOf(/(?:^|\s)ExitCode=(\S+)/.exec(text)?.[1]) };
}

/** `sacct -n -P -X -o JobID,State,ExitCode` → job id → final state. */
export function parseSacct(text: string): Map<string, FinalState> {
  const out = new Map<string, FinalState>();
  for (const line of text.split('\n')) {
    const [id, rawState, exit] = line.trim().split('|');
    if (!id || !rawState) continue;
    // "CANCELLED by 0" → CANCELLED
    const state = rawState.split(' ')[0]!.replace(/\+$/, '');
    if (FINAL.has(state)) out.set(id, { state, ...exitOf(exit) });
  }
  return out;
}

/** The columns asked of `sacct` for what jobs used. */
export const SACCT_USAGE_FIELDS = 'JobID,Elapsed,TotalCPU,MaxRSS';

/**
 * `sacct -n -P -o JobID,Elapsed,TotalCPU,MaxRSS` → job id → what it used.
 * The job's own line has its run time and the CPU of all its steps; the
 * memory is on its steps' lines (`ID.batch`, `ID.0`, …): the largest is taken.
 */
export function parseSacctUsage(text: string): Map<string, JobUsage> {
  const out = new Map<string, JobUsage>();
  for (const line of text.split('\n')) {
    const [jobId, elapsed, totalCpu, maxRss] = line.trim().split('|');
    if (!jobId) continue;
    const dot = jobId.indexOf('.');
    const id = dot < 0 ? jobId : jobId.slice(0, dot);
    let u = out.get(id);
    if (!u) out.set(id, (u = { source: 'sacct' }));
    const rss = sizeKb(maxRss);
    if (rss !== undefined) u.maxRssKb = Math.max(u.maxRssKb ?? 0, rss);
    if (dot >= 0) continue;
    const wall = durationMs(elapsed);
    if (wall !== undefined) u.wallMs = wall;
    const cpu = durationMs(totalCpu);
    if (cpu !== undefined) u.cpuMs = cpu;
  }
  return out;
}

/** sacct's durations: `[D-][HH:]MM:SS[.mmm]` (Elapsed always has the hours, TotalCPU drops them under an hour). */
export function durationMs(text: string | undefined): number | undefined {
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)(?:\.(\d+))?$/.exec(text?.trim() ?? '');
  if (!m) return undefined;
  const [, d, h, min, s, frac] = m;
  const ms = frac === undefined ? 0 : Math.round(Number(`0.${frac}`) * 1000);
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min)) * 60_000 + Number(s) * 1000 + ms;
}

/** sacct's sizes: `1234K`, `12.50M`, `2G`; a bare number is KiB (sacct's unit for memory), as is `0`. */
export function sizeKb(text: string | undefined): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGTP]?)$/i.exec(text?.trim() ?? '');
  if (!m) return undefined;
  const scale = 'KMGTP'.indexOf((m[2] || 'K').toUpperCase());
  return Math.round(Number(m[1]) * 1024 ** scale);
}

/** `3:0` (exit code : signal). */
function exitOf(text: string | undefined): { exitCode: number | null; signal: number | null } {
  const m = /^(\d+):(\d+)$/.exec(text ?? '');
  if (!m) return { exitCode: null, signal: null };
  return { exitCode: Number(m[1]), signal: Number(m[2]) };
}

/** The sbatch flags for a job: resources, then the rule's `slurm:` settings, then the build's. */
export function sbatchArgs(spec: JobSpec, opts: SlurmOptions, script: string, log: string): string[] {
  const rule = spec.job.rule;
  // --output is a filename pattern: a literal % is written %%. A backslash cannot be written at
  // all (SLURM drops it): such a log is opened by the job script itself (see jobScript).
  const output = log.includes('\\') ? '/dev/null' : log.replaceAll('%', '%%');
  const args = ['--parsable', `--job-name=${opts.jobName}`, `--output=${output}`, `--chdir=${spec.cwd}`, '--export=ALL'];
  const cpus = rule.resources.get('cpus');
  if (cpus !== undefined) args.push(`--cpus-per-task=${Math.max(1, Math.ceil(cpus))}`);
  const mem = rule.resources.get('mem_mb');
  if (mem !== undefined) args.push(`--mem=${Math.ceil(mem)}M`);
  const runtime = rule.resources.get('runtime');
  if (runtime !== undefined) args.push(`--time=${Math.max(1, Math.ceil(runtime))}`);
  const partition = rule.slurm?.partition ?? opts.partition;
  if (partition !== undefined) args.push(`--partition=${partition}`);
  const account = rule.slurm?.account ?? opts.account;
  if (account !== undefined) args.push(`--account=${account}`);
  args.push(...opts.extra, ...(rule.slurm?.extra ?? []), script);
  return args;
}

/**
 * The job's script: its command in the Rulefile's shell, with what the job's
 * environment adds, set through `env` (names such as exported bash functions,
 * `BASH_FUNC_module%%`, are not valid shell variable names).
 */
export function jobScript(spec: JobSpec, log?: string): string {
  const env = Object.entries(spec.env).map(([name, value]) => shellQuote(`${name}=${value}`));
  const argv = [...spec.shell, spec.command].map(shellQuote);
  // A log path SLURM cannot take as --output (a backslash in it) is opened here.
  const redirect = log !== undefined && log.includes('\\') ? `exec >${shellQuote(log)} 2>&1\n` : '';
  return `#!/bin/sh\n# Written by rules for one job; its log is the --output of the batch job.\n${redirect}exec ${env.length > 0 ? `env ${env.join(' ')} ` : ''}${argv.join(' ')}\n`;
}

function runCommand(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error((stderr || err.message).trim()));
      else resolve(stdout);
    });
  });
}

interface Tracked {
  resolve(state: FinalState | { vanished: true }, usage?: JobUsage): void;
}

/** What `sacct` answers where the cluster keeps no accounting (slurmdbd): then it is not asked again. */
const NO_ACCOUNTING = /accounting storage is disabled/i;

export class SlurmExecutor implements Executor {
  /** `--cpus-per-task` asks for the rule's whole `cpus`: the job gets it, whatever `-j` says. */
  readonly grantsRequest = true;
  private readonly tracked = new Map<string, Tracked>();
  private readonly toCancel = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private interval: number;
  private polling = false;
  private closed = false;
  private seq = 0;
  /** False once sacct said the cluster keeps no accounting. */
  private accounting = true;
  private readonly run: (cmd: string, args: string[]) => Promise<string>;
  /** Status-query processes started (for the benchmark). */
  queries = 0;

  constructor(private readonly opts: SlurmOptions) {
    this.interval = opts.pollMs;
    this.run = opts.run ?? runCommand;
    mkdirSync(opts.dir, { recursive: true });
  }

  start(spec: JobSpec): RunningJob {
    const n = ++this.seq;
    const base = `${this.opts.dir}/${process.pid}-${n}`;
    const script = `${base}.sh`;
    // With a rule `log:`, the job writes there; otherwise the output is read back from SLURM's log.
    const log = spec.logPath ?? `${base}.log`;
    let id: string | undefined;
    let cancelled = false;
    const done = (async (): Promise<JobOutcome> => {
      try {
        writeFileSync(script, jobScript(spec, log), { mode: 0o755 });
        id = (await this.run('sbatch', sbatchArgs(spec, this.opts, script, log))).trim().split(';')[0]!;
      } catch (e) {
        return { ok: false, exitCode: null, signal: null, output: '', failure: { kind: 'sbatch-refused', message: (e as Error).message } };
      }
      if (cancelled) this.cancel(id);
      const { final, usage } = await this.track(id);
      const used = usage ? { usage } : {};
      const { text: output, cut } = spec.logPath === undefined ? readOutputTail(log) : { text: '', cut: undefined };
      const outputCut = cut ? { outputCut: cut } : {};
      if ('vanished' in final) {
        return { ok: false, exitCode: null, signal: null, output, ...outputCut, ...used, failure: { kind: 'slurm-lost', jobId: id } };
      }
      const { state, exitCode, signal } = final;
      if (state === 'COMPLETED' && exitCode === 0) {
        // A shared file system may show the outputs late: wait for them, a while.
        await this.outputsAppear(spec.job.outputs.map((o) => (o.startsWith('/') ? o : `${spec.cwd}/${o}`)));
        // Done with: the script and log of a failed job stay, to look into.
        rmSync(script, { force: true });
        // A log too long to show whole stays too: the message names it.
        if (spec.logPath === undefined && !cut) rmSync(log, { force: true });
        return { ok: true, exitCode: 0, signal: null, output, ...outputCut, ...used };
      }
      const failure: JobFailure = cancelled ? { kind: 'interrupted' } : { kind: 'slurm', jobId: id, state, exitCode, signal };
      const logTail = spec.logPath !== undefined ? { logTail: readOutputTail(spec.logPath, LOG_TAIL_BYTES).text } : {};
      return { ok: false, exitCode, signal: signal ? String(signal) : null, output, ...outputCut, ...used, failure, ...logTail };
    })();
    return {
      done,
      kill: () => {
        cancelled = true;
        if (id !== undefined) this.cancel(id);
      },
    };
  }

  /** Cancels soon, together with the other jobs cancelled at the same moment (one scancel for a Ctrl-C). */
  private cancel(id: string): void {
    this.toCancel.add(id);
    if (this.toCancel.size > 1) return;
    setImmediate(() => {
      const ids = [...this.toCancel];
      this.toCancel.clear();
      this.run('scancel', ids).catch(() => {
        // Gone already.
      });
    });
  }

  private track(id: string): Promise<{ final: FinalState | { vanished: true }; usage?: JobUsage }> {
    return new Promise((resolve) => {
      this.tracked.set(id, { resolve: (final, usage) => resolve(usage ? { final, usage } : { final }) });
      this.interval = this.opts.pollMs;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.closed || this.polling || this.tracked.size === 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), this.interval);
  }

  /** One poll: one squeue for every job of the build; scontrol (or sacct) for those that ended; one sacct for what they used. */
  private async poll(): Promise<void> {
    this.polling = true;
    let changed = false;
    const finals = new Map<string, FinalState | { vanished: true }>();
    try {
      // Only the jobs submitted before this squeue: a job submitted meanwhile may not be in its answer.
      const asked = [...this.tracked.keys()];
      this.queries++;
      const states = parseSqueue(await this.run('squeue', ['-h', '-t', 'all', `--name=${this.opts.jobName}`, '-o', '%i|%T']));
      const ended: string[] = [];
      for (const id of asked) {
        const state = states.get(id);
        if (state === undefined || FINAL.has(state)) ended.push(id);
      }
      const unknown: string[] = [];
      for (const id of ended) {
        this.queries++;
        const final = await this.run('scontrol', ['-o', 'show', 'job', id]).then(parseScontrol, () => undefined);
        if (final) finals.set(id, final);
        else if (!states.has(id)) unknown.push(id);
        changed = true;
      }
      if (unknown.length > 0) {
        this.queries++;
        const acct = await this.run('sacct', ['-n', '-P', '-X', '-j', unknown.join(','), '-o', 'JobID,State,ExitCode']).then(parseSacct, () => new Map<string, FinalState>());
        for (const id of unknown) finals.set(id, acct.get(id) ?? { vanished: true });
      }
      const usage = await this.usageOf([...finals].filter(([, f]) => !('vanished' in f)).map(([id]) => id));
      for (const [id, final] of finals) this.settle(id, final, usage.get(id));
    } catch {
      // squeue failed (the controller is busy or restarting): try again later.
    } finally {
      this.polling = false;
    }
    this.interval = changed ? this.opts.pollMs : Math.min(this.interval * 1.5, this.opts.pollMs * 10);
    this.schedule();
  }

  /**
   * What the jobs that ended used, from the cluster's accounting: one sacct
   * for them all. Without accounting (no slurmdbd) sacct refuses, and is not
   * asked again; any other failure only leaves these jobs without usage.
   */
  private async usageOf(ids: string[]): Promise<Map<string, JobUsage>> {
    if (ids.length === 0 || !this.accounting) return new Map();
    this.queries++;
    try {
      return parseSacctUsage(await this.run('sacct', ['-n', '-P', '-j', ids.join(','), '-o', SACCT_USAGE_FIELDS]));
    } catch (e) {
      if (NO_ACCOUNTING.test((e as Error).message)) this.accounting = false;
      return new Map();
    }
  }

  private settle(id: string, final: FinalState | { vanished: true }, usage?: JobUsage): void {
    const t = this.tracked.get(id);
    if (!t) return;
    this.tracked.delete(id);
    t.resolve(final, usage);
  }

  private async outputsAppear(paths: string[]): Promise<void> {
    const until = Date.now() + this.opts.outputWaitMs;
    for (;;) {
      if (paths.every((p) => statSync(p, { throwIfNoEntry: false }) !== undefined)) return;
      if (Date.now() >= until) return; // the scheduler reports the missing output
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }
}
