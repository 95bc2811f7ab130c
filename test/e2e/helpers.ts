// End-to-end test helpers: a throw-away project directory per test, and the
// `rules` CLI run as a child process in it (synchronously, or asynchronously
// for tests that must watch a build while it runs).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** The CLI as users run it, bundled (dist/bin/main.js): this file compiles to dist/test/e2e/helpers.js. */
export const CLI = fileURLToPath(new URL('../../bin/main.js', import.meta.url));

/** The repository root (dist/test/e2e → ../../..). */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** Longest any single CLI run may take before a test gives up on it. */
const RUN_TIMEOUT_MS = 30_000;

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Path (relative to the project dir) → file content. */
export type Files = Record<string, string>;

/** Joins lines with '\n' plus a trailing newline, so line N of a Rulefile is element N-1. */
export function yaml(...lines: string[]): string {
  return lines.join('\n') + '\n';
}

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  // The test runner's own marker must not leak into the CLI.
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/** A running CLI process (see Project.start). */
export interface AsyncRun {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited and its pipes are closed. */
  done: Promise<RunResult>;
}

export class Project {
  readonly dir: string;
  private readonly children: ChildProcess[] = [];

  constructor(files: Files = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-e2e-'));
    this.write(files);
  }

  /** Absolute path of a project-relative path. */
  path(rel: string): string {
    return path.join(this.dir, rel);
  }

  write(files: Files): void {
    for (const [rel, text] of Object.entries(files)) {
      const p = this.path(rel);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, text);
    }
  }

  read(rel: string): string {
    return fs.readFileSync(this.path(rel), 'utf8');
  }

  exists(rel: string): boolean {
    return fs.existsSync(this.path(rel));
  }

  /** The lines of a file (e.g. ran.log), [] if it does not exist. */
  lines(rel = 'ran.log'): string[] {
    if (!this.exists(rel)) return [];
    return this.read(rel).split('\n').filter((l) => l !== '');
  }

  /** Sets a file's atime and mtime to `secondsFromNow` seconds from now (negative: the past). */
  age(rel: string, secondsFromNow: number): void {
    const t = Date.now() / 1000 + secondsFromNow;
    fs.utimesSync(this.path(rel), t, t);
  }

  mtimeMs(rel: string): number {
    return fs.statSync(this.path(rel)).mtimeMs;
  }

  /** Every file and directory under the project (relative, sorted), with size and mtime: a snapshot. */
  snapshot(): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const abs = path.join(dir, e.name);
        const rel = path.relative(this.dir, abs);
        if (e.isDirectory()) {
          out.push(`${rel}/`);
          walk(abs);
        } else {
          const st = fs.statSync(abs);
          out.push(`${rel} ${st.size} ${st.mtimeMs}`);
        }
      }
    };
    walk(this.dir);
    return out.sort();
  }

  /** Runs `rules ARGS` in the project dir (or `cwd` relative to it) and waits for it. */
  run(args: string[], opts: { cwd?: string } = {}): RunResult {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ? this.path(opts.cwd) : this.dir,
      encoding: 'utf8',
      env: childEnv(),
      timeout: RUN_TIMEOUT_MS,
      // A run blocked in a system call never runs its SIGTERM handler: a hang must end as a failure.
      killSignal: 'SIGKILL',
    });
    if (r.error) throw r.error;
    return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  }

  /** Starts `rules ARGS` in the project dir without waiting for it. */
  start(args: string[]): AsyncRun {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: this.dir, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const done = new Promise<RunResult>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    });
    return { child, stdout: () => stdout, stderr: () => stderr, done };
  }

  /** Kills any CLI process still running and deletes the directory. */
  cleanup(): void {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A project for one test, deleted (and its processes killed) when the test ends. */
export function project(t: TestContext, files: Files = {}): Project {
  const p = new Project(files);
  t.after(() => p.cleanup());
  return p;
}

/** Polls `cond` every 20 ms until it holds; fails after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Rejects if `p` does not settle within `timeoutMs`. */
export async function within<T>(p: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a process is gone: no such PID, or a zombie waiting to be reaped. */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    // /proc/PID/stat: "PID (comm) STATE ..."; comm may hold spaces or parens.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** The lines of a text, without empty ones. */
export function nonEmptyLines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/** `[N/M] label` progress lines of a non-TTY build's stdout. */
export function progressLines(stdout: string): string[] {
  return nonEmptyLines(stdout).filter((l) => /^\[\d+\/\d+\] /.test(l));
}

/** A compact description of a CLI result, for assertion messages. */
export function show(r: RunResult): string {
  return `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}\n--- stdout ---\n${r.stdout}--- stderr ---\n${r.stderr}`;
}

/** SIGKILLs every process left working in the project (the jobs of a killed build) until none is left. */
export async function killOrphans(p: Project): Promise<void> {
  const dir = fs.realpathSync(p.dir);
  const inProject = () =>
    fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((pid) => {
        try {
          return fs.readlinkSync(`/proc/${pid}/cwd`) === dir && !processGone(pid);
        } catch {
          return false;
        }
      });
  await waitFor(
    () => {
      const left = inProject();
      for (const pid of left) {
        for (const target of [-pid, pid]) {
          try {
            process.kill(target, 'SIGKILL');
          } catch {
            // Gone already, or not a group leader.
          }
        }
      }
      return left.length === 0;
    },
    "the killed build's jobs to be gone",
    10_000,
  );
}
