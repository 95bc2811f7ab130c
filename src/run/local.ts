// The local executor: each job is a process in its own process group, so an
// interrupt reaches everything the job started. A simple command is exec'd
// directly (see direct.ts); anything else runs in the Rulefile's shell.

import { hasBashExtras, isPlainPosixShell, simpleCommandArgv } from './direct.js';
import type { Executor, JobOutcome, JobSpec, RunningJob } from './executor.js';
import { LOG_TAIL_BYTES, readOutputTail } from './output.js';
import { InProcessLauncher, SpawnerLauncher, type Launched, type Launcher, type LaunchRequest, type LaunchResult } from './launch.js';

/** How long a job has to exit after SIGTERM before it gets SIGKILL. */
const KILL_GRACE_MS = 3000;

/** From this many jobs to run on, starting helper processes pays for itself. */
export const SPAWNER_MIN_JOBS = 32;

/** Launches directly for small builds, through helper processes for large ones. */
export function launcherFor(jobsToRun: number, slots: number, mayGrow = false): Launcher {
  const helpers = Math.min(4, Math.max(2, Math.ceil(slots / 4)));
  if (jobsToRun >= SPAWNER_MIN_JOBS) return new SpawnerLauncher(helpers);
  // A build whose graph may grow (SPEC §7) cannot know how many jobs it will run.
  return mayGrow ? new GrowingLauncher(jobsToRun, helpers) : new InProcessLauncher();
}

/** In-process for a build's first jobs; through helper processes once it has launched as many as make them worth it. */
class GrowingLauncher implements Launcher {
  private readonly inProcess = new InProcessLauncher();
  private spawner: SpawnerLauncher | undefined;

  constructor(
    private launched: number,
    private readonly helpers: number,
  ) {}

  launch(req: LaunchRequest): Launched {
    if (this.spawner === undefined && ++this.launched >= SPAWNER_MIN_JOBS) this.spawner = new SpawnerLauncher(this.helpers);
    return (this.spawner ?? this.inProcess).launch(req);
  }

  close(): void {
    this.spawner?.close();
  }
}

export class LocalExecutor implements Executor {
  private readonly plainShell = new Map<string, boolean>();
  private readonly processBashExtras = hasBashExtras(process.env);

  constructor(private readonly launcher: Launcher = new InProcessLauncher()) {}

  start(spec: JobSpec): RunningJob {
    const bashExtras = this.processBashExtras || hasBashExtras(spec.env);
    const shellKey = `${spec.shell.join('\0')}\0${bashExtras}`;
    let plain = this.plainShell.get(shellKey);
    if (plain === undefined) this.plainShell.set(shellKey, (plain = isPlainPosixShell(spec.shell, bashExtras)));
    const direct = plain ? simpleCommandArgv(spec.command) : undefined;
    const [file, ...args] = direct ?? [...spec.shell, spec.command];
    const launched = this.launcher.launch({
      file: file!,
      args,
      cwd: spec.cwd,
      env: spec.env,
      ...(spec.logPath !== undefined ? { logPath: spec.logPath } : {}),
      ...(spec.spillPath !== undefined ? { spillPath: spec.spillPath } : {}),
    });

    let killTimer: NodeJS.Timeout | undefined;
    const done = launched.result.then((r): JobOutcome => {
      if (killTimer) clearTimeout(killTimer);
      const o = outcomeOf(r, file!, direct !== undefined);
      if (r.outputCut) o.outputCut = r.outputCut;
      if (r.usage) o.usage = r.usage;
      if (!o.ok && spec.logPath !== undefined) o.logTail = readOutputTail(spec.logPath, LOG_TAIL_BYTES).text;
      return o;
    });

    const signalGroup = async (sig: NodeJS.Signals) => {
      const pid = await launched.pid;
      if (pid === undefined) return;
      try {
        process.kill(-pid, sig);
      } catch {
        // Already gone.
      }
    };
    return {
      done,
      kill() {
        void signalGroup('SIGTERM');
        killTimer ??= setTimeout(() => void signalGroup('SIGKILL'), KILL_GRACE_MS);
      },
    };
  }

  close(): void {
    this.launcher.close();
  }
}

/** A finished process as a job's outcome. */
function outcomeOf(r: LaunchResult, file: string, direct: boolean): JobOutcome {
  if (r.errorCode !== undefined) {
    // As a shell would: a command that is not found exits 127.
    if (direct && r.errorCode === 'ENOENT') {
      return { ok: false, exitCode: 127, signal: null, output: `${r.output}${file}: command not found\n`, failure: { kind: 'exit', code: 127 } };
    }
    return { ok: false, exitCode: null, signal: null, output: r.output, failure: { kind: 'spawn', file, message: r.errorMessage ?? r.errorCode } };
  }
  if (r.code === 0) return { ok: true, exitCode: 0, signal: null, output: r.output };
  if (r.signal) return { ok: false, exitCode: null, signal: r.signal, output: r.output, failure: { kind: 'signal', signal: r.signal } };
  // Node gives an exit code whenever no signal ended the process.
  return { ok: false, exitCode: r.code, signal: null, output: r.output, failure: { kind: 'exit', code: r.code! } };
}
