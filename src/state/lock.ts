// One build at a time per project root: `.rules/lock` holds the builder's PID.
// The lock file appears with its PID in one step (written aside, then linked),
// and a lock whose process is gone (killed hard) is taken over under a small
// mutex, so two builds can never both believe they hold it.

import { linkSync, mkdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { stateDir } from './paths.js';

/** A takeover mutex older than this was left by a process that died while holding it. */
const STALE_MUTEX_MS = 10_000;

export class BuildLock {
  private constructor(private readonly path: string) {}

  static acquire(root: string): BuildLock {
    mkdirSync(stateDir(root), { recursive: true });
    const path = `${stateDir(root)}/lock`;
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${process.pid}\n`);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          linkSync(tmp, path);
          return new BuildLock(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        const holder = readHolder(path);
        if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
          throw new UserError(`another build is running in this directory (rules, pid ${holder}); wait for it to finish, or stop it`);
        }
        // The holder is gone: take the lock over, unless someone else is doing so right now.
        const mutex = `${path}.takeover`;
        try {
          mkdirSync(mutex);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
          removeIfStale(mutex);
          continue;
        }
        try {
          if (readHolder(path) === holder) unlinkQuietly(path);
        } finally {
          rmdirSync(mutex);
        }
      }
    } finally {
      unlinkQuietly(tmp);
    }
    throw new UserError(`cannot take the build lock ${path}; another build may be starting`);
  }

  release(): void {
    if (readHolder(this.path) === process.pid) unlinkQuietly(this.path);
  }
}

function readHolder(path: string): number | undefined {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a live process that may be a build: a PID reused by another program is not. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /node|rules/.test(cmdline);
  } catch {
    return true; // No /proc here: trust the PID.
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

function removeIfStale(dir: string): void {
  try {
    if (Date.now() - statSync(dir).mtimeMs > STALE_MUTEX_MS) rmdirSync(dir);
  } catch {
    // Gone already, or not ours to remove.
  }
}
