// Starting processes. Node's spawn() forks the whole process and waits for the
// child's exec, so it costs more the larger the process is and stalls the
// event loop meanwhile. A big build therefore starts its jobs through small
// helper processes (spawner-process.ts), whose forks are cheap and run in
// parallel with the scheduler; a small build spawns directly.

import { spawn, fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { JobUsage } from './executor.js';
import { OutputTail, type OutputCut } from './output.js';
import { processMeter } from './usage.js';

export interface LaunchRequest {
  file: string;
  args: string[];
  cwd: string;
  /** Added to the environment of `rules` itself. */
  env: Record<string, string>;
  /** A file for the process's stdout and stderr; without one they are captured. */
  logPath?: string;
  /** Where the whole output goes if it is too long to keep in memory (see output.ts). */
  spillPath?: string;
}

export interface LaunchResult {
  code: number | null;
  signal: string | null;
  /** The output's tail (see output.ts). */
  output: string;
  /** What was cut from the front of `output`. */
  outputCut?: OutputCut;
  /** Set when the process could not be started (e.g. ENOENT). */
  errorCode?: string;
  errorMessage?: string;
  /** What the process and its descendants used (see usage.ts), where it could be measured. */
  usage?: JobUsage;
}

export interface Launched {
  /** The PID (and process group) once known. */
  readonly pid: Promise<number | undefined>;
  readonly result: Promise<LaunchResult>;
}

export interface Launcher {
  launch(req: LaunchRequest): Launched;
  close(): void;
}

/**
 * Starts a process in its own process group and collects its output: the
 * code shared by the in-process launcher and the helper processes.
 */
export function startProcess(req: LaunchRequest, baseEnv: NodeJS.ProcessEnv): { child: ChildProcess; result: Promise<LaunchResult> } {
  let fd: number | undefined;
  let openError: Error | undefined;
  try {
    if (req.logPath !== undefined) fd = openSync(req.logPath, 'w');
  } catch (e) {
    openError = e as Error;
  }
  const out = fd ?? 'pipe';
  const env = Object.keys(req.env).length === 0 ? baseEnv : { ...baseEnv, ...req.env };
  const child = spawn(req.file, req.args, { cwd: req.cwd, env, detached: true, stdio: ['ignore', out, out] });
  if (fd !== undefined) closeSync(fd);
  // Measured by the process that reaps the job: its exit handler must be the
  // first to run after the reaping (see usage.ts).
  const meter = child.pid !== undefined ? processMeter() : null;
  const metered = meter?.start(child.pid!);
  let usage: Promise<JobUsage | undefined> = Promise.resolve(undefined);
  if (meter && metered) child.once('exit', () => (usage = meter.exited(metered)));
  const tail = new OutputTail(req.spillPath);
  child.stdout?.on('data', (c: Buffer) => tail.push(c));
  child.stderr?.on('data', (c: Buffer) => tail.push(c));
  const result = new Promise<LaunchResult>((resolve) => {
    let error: NodeJS.ErrnoException | undefined = openError;
    child.on('error', (e) => (error ??= e));
    child.on('close', (code, signal) => {
      const { text, cut } = tail.finish();
      const r: LaunchResult = { code, signal, output: text };
      if (cut) r.outputCut = cut;
      if (error) {
        r.errorCode = (error as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
        r.errorMessage = error.message;
      }
      void usage.then((u) => {
        if (u) r.usage = u;
        resolve(r);
      });
    });
  });
  return { child, result };
}

export class InProcessLauncher implements Launcher {
  launch(req: LaunchRequest): Launched {
    const { child, result } = startProcess(req, process.env);
    return { pid: Promise.resolve(child.pid), result };
  }

  close(): void {}
}

/** Messages between the scheduler and a helper process. */
export type ToSpawner = { id: number } & LaunchRequest;
export type FromSpawner = { id: number; pid: number | undefined } | ({ id: number } & LaunchResult);

interface Helper {
  proc: ChildProcess;
  busy: number;
  alive: boolean;
}

interface Pending {
  helper: Helper;
  pid?: number;
  resolvePid: (pid: number | undefined) => void;
  resolveResult: (r: LaunchResult) => void;
}

/**
 * A fork copies the page tables of the process that forks, and the job's exec
 * then tears that copy down: both cost what the helper holds. Without V8's
 * background threads (their stacks, their malloc arenas) and with a young
 * generation of 1 MB instead of up to 16 (the helper's objects live for one
 * job), a helper holds half the memory (11 MB anonymous in 113 mappings,
 * against 22 MB in 190, measured in a build), and each job it starts costs less.
 */
const HELPER_FLAGS = ['--single-threaded', '--max-semi-space-size=1'];

export class SpawnerLauncher implements Launcher {
  private readonly helpers: Helper[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly fallback = new InProcessLauncher();
  private seq = 0;

  constructor(count: number) {
    const script = new URL('./spawner-process.js', import.meta.url);
    for (let i = 0; i < count; i++) {
      const proc = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: HELPER_FLAGS, serialization: 'json' });
      const helper: Helper = { proc, busy: 0, alive: true };
      proc.on('message', (m: FromSpawner) => this.receive(m));
      proc.on('exit', () => {
        // Its CPU now counts as this process's children's, beside that of jobs started here.
        processMeter()?.foreignExited();
        this.lost(helper);
      });
      proc.on('error', () => this.lost(helper));
      this.helpers.push(helper);
    }
  }

  /** The helper processes' PIDs (for tests). */
  get pids(): number[] {
    return this.helpers.map((h) => h.proc.pid!);
  }

  launch(req: LaunchRequest): Launched {
    const alive = this.helpers.filter((h) => h.alive);
    // Without a helper left, start jobs directly: slower, never stuck.
    if (alive.length === 0) return this.fallback.launch(req);
    const helper = alive.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = ++this.seq;
    let resolvePid!: (p: number | undefined) => void;
    let resolveResult!: (r: LaunchResult) => void;
    const launched: Launched = {
      pid: new Promise((r) => (resolvePid = r)),
      result: new Promise((r) => (resolveResult = r)),
    };
    this.pending.set(id, { helper, resolvePid, resolveResult });
    helper.busy++;
    const msg: ToSpawner = { id, ...req };
    helper.proc.send(msg);
    return launched;
  }

  private receive(m: FromSpawner): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if ('output' in m) {
      p.helper.busy--;
      this.pending.delete(m.id);
      const { id: _id, ...result } = m;
      p.resolveResult(result);
    } else {
      if (m.pid !== undefined) p.pid = m.pid;
      p.resolvePid(m.pid);
    }
  }

  /**
   * A helper died: the jobs it started cannot be followed any more. They are
   * stopped and count as failed; later jobs go to the other helpers.
   */
  private lost(helper: Helper): void {
    if (!helper.alive) return;
    helper.alive = false;
    for (const [id, p] of this.pending) {
      if (p.helper !== helper) continue;
      this.pending.delete(id);
      if (p.pid !== undefined) {
        try {
          process.kill(-p.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      p.resolvePid(p.pid);
      p.resolveResult({ code: null, signal: null, output: '', errorCode: 'ESPAWNER', errorMessage: 'the helper process that started the job died' });
    }
  }

  close(): void {
    for (const h of this.helpers) {
      h.alive = false;
      if (h.proc.connected) h.proc.disconnect();
    }
  }
}
