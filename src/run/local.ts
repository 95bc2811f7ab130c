// The local executor: each job is a shell in its own process group, so an
// interrupt reaches everything the job started.

import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Executor, JobOutcome, JobSpec, RunningJob } from './executor.js';

/** How long a job has to exit after SIGTERM before it gets SIGKILL. */
const KILL_GRACE_MS = 3000;

export class LocalExecutor implements Executor {
  start(spec: JobSpec): RunningJob {
    let logFd: number | undefined;
    let failure: string | undefined;
    try {
      if (spec.logPath) logFd = openSync(spec.logPath, 'w');
    } catch (e) {
      failure = `cannot open log file: ${(e as Error).message}`;
    }
    if (failure) return { done: Promise.resolve({ ok: false, exitCode: null, signal: null, output: '', error: failure }), kill() {} };

    const out = logFd ?? 'pipe';
    const child = spawn(spec.shell[0]!, [...spec.shell.slice(1), spec.command], {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: ['ignore', out, out],
    });
    const chunks: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => chunks.push(c));
    child.stderr?.on('data', (c: Buffer) => chunks.push(c));
    let killTimer: NodeJS.Timeout | undefined;

    const done = new Promise<JobOutcome>((resolve) => {
      let spawnError: string | undefined;
      child.on('error', (e) => {
        spawnError = `cannot start '${spec.shell[0]}': ${e.message}`;
      });
      child.on('close', (code, signal) => {
        if (killTimer) clearTimeout(killTimer);
        if (logFd !== undefined) closeSync(logFd);
        const output = Buffer.concat(chunks).toString('utf8');
        if (spawnError) resolve({ ok: false, exitCode: null, signal: null, output, error: spawnError });
        else if (code === 0) resolve({ ok: true, exitCode: 0, signal: null, output });
        else if (signal) resolve({ ok: false, exitCode: null, signal, output, error: `killed by ${signal}` });
        else resolve({ ok: false, exitCode: code, signal: null, output, error: `exit status ${code}` });
      });
    });

    const signalGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    return {
      done,
      kill() {
        signalGroup('SIGTERM');
        killTimer ??= setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
      },
    };
  }
}
