// One build at a time per project root: `.rules/lock` names its holder: PID,
// the start time of that process (so a PID since reused by another program is
// not taken for the build) and host (so a build on another machine sharing the
// file system is never taken for dead). The lock file appears whole in one step
// (written aside, then linked). A lock whose holder is gone (killed hard) is
// taken over under a small mutex, `.rules/lock.takeover`, itself a file naming
// its holder, so a mutex left by a killed build is known at once for what it is.

import { linkSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { UserError } from '../util/errors.js';
import { stateWriteError } from './io.js';
import { checkStateLayout, lockPath, lockTakeoverPath, makeStateDir, shownStatePath } from './paths.js';

/** How many times a busy takeover is waited for (a few ms each) before giving up. */
const TAKEOVER_ATTEMPTS = 50;
const TAKEOVER_WAIT_MS = 20;

/** Who holds a lock (or the takeover mutex), as written in it. */
export interface Holder {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/PID/stat field 22); absent in old locks or without /proc. */
  start?: string;
  host?: string;
}

export class BuildLock {
  private constructor(
    private readonly path: string,
    private readonly text: string,
  ) {}

  static acquire(root: string): BuildLock {
    makeStateDir(root);
    const path = lockPath(root);
    const shown = shownStatePath('lock');
    clearEmptyDirectory(path, shown);
    const me = identity();
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, me);
    } catch (e) {
      unlinkQuietly(tmp);
      throw stateWriteError('the build lock', shown, e);
    }
    try {
      const mutex = lockTakeoverPath(root);
      let busy = false;
      for (let attempt = 0; attempt < TAKEOVER_ATTEMPTS; attempt++) {
        // Another build is taking the lock over right now: it takes a moment.
        if (busy) sleep(TAKEOVER_WAIT_MS);
        busy = false;
        try {
          linkSync(tmp, path);
          const lock = new BuildLock(path, me);
          try {
            checkStateLayout(root);
          } catch (e) {
            lock.release();
            throw e;
          }
          return lock;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw stateWriteError('the build lock', shown, e);
        }
        const seen = readText(path);
        const holder = seen === undefined ? undefined : parseHolder(seen);
        if (holder !== undefined) refuseIfHeld(holder, shown);
        // The holder is gone: take the lock over, unless someone else is doing so right now.
        try {
          linkSync(tmp, mutex);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw stateWriteError('the build lock', shownStatePath('lockTakeover'), e);
          const other = readText(mutex);
          const otherHolder = other === undefined ? undefined : parseHolder(other);
          if (otherHolder === undefined || holderState(otherHolder) === 'gone') removeStaleMutex(mutex, other);
          else if (attempt === TAKEOVER_ATTEMPTS - 1) refuseIfHeld(otherHolder, shownStatePath('lockTakeover'));
          else busy = true;
          continue;
        }
        try {
          if (readText(path) === seen) unlinkQuietly(path);
        } finally {
          if (readText(mutex) === me) unlinkQuietly(mutex);
        }
      }
    } finally {
      unlinkQuietly(tmp);
    }
    throw new UserError(`cannot take the build lock ${shown}: other builds keep taking it over; try again`);
  }

  release(): void {
    if (readText(this.path) === this.text) unlinkQuietly(this.path);
  }
}

/** What this process writes into its lock: `PID START HOST`. */
function identity(): string {
  return `${process.pid} ${startTime(process.pid) ?? '-'} ${hostname().replace(/\s/g, '_') || '-'}\n`;
}

/** Parses `PID [START [HOST]]` (a lock of an older version holds the PID alone). */
export function parseHolder(text: string): Holder | undefined {
  const [pidText, start, host] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const holder: Holder = { pid };
  if (start !== undefined && start !== '-') holder.start = start;
  if (host !== undefined && host !== '-') holder.host = host;
  return holder;
}

/** The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or undefined without /proc. */
export function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "PID (comm) STATE PPID ...": comm may hold spaces and parentheses; fields count from after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[22 - 3];
    return start !== undefined && /^\d+$/.test(start) ? start : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the holder of a lock may still be running: `elsewhere` when it is on
 * another host (which this one cannot look into), `gone` when its process has
 * ended, or its PID now belongs to a process started at another time.
 */
export function holderState(holder: Holder): 'alive' | 'gone' | 'elsewhere' {
  if (holder.host !== undefined && holder.host !== hostname().replace(/\s/g, '_')) return 'elsewhere';
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return 'gone';
  }
  const now = startTime(holder.pid);
  if (holder.start !== undefined && now !== undefined) return now === holder.start ? 'alive' : 'gone';
  if (now === undefined && existsProc()) return 'gone'; // exited between the two looks
  // A lock of an older version (no start time), or no /proc: the command line is the best guess.
  try {
    return /node|rules/.test(readFileSync(`/proc/${holder.pid}/cmdline`, 'utf8')) ? 'alive' : 'gone';
  } catch {
    return 'alive'; // No /proc here: trust the PID.
  }
}

function existsProc(): boolean {
  return statSync('/proc/self/stat', { throwIfNoEntry: false }) !== undefined;
}

function refuseIfHeld(holder: Holder, shown: string): void {
  switch (holderState(holder)) {
    case 'gone':
      return;
    case 'alive':
      if (holder.pid === process.pid) return; // left by this process: not held now
      throw new UserError(`another build is running in this directory (rules, pid ${holder.pid}); wait for it to finish, or stop it`);
    case 'elsewhere':
      throw new UserError(
        `another build holds the lock of this directory: pid ${holder.pid} on host ${holder.host}; wait for it to finish, ` +
          `or, if that build is known to have ended, remove ${shown}`,
      );
  }
}

/** Removes a mutex its holder left behind, checking it is still the one that was seen (not a new holder's). */
function removeStaleMutex(path: string, seen: string | undefined): void {
  if (seen === undefined) {
    // Not a readable file: a directory (the mutex of an older version) or one vanished meanwhile.
    try {
      rmdirSync(path);
    } catch {
      // Gone already, or not empty: not ours to remove.
    }
    return;
  }
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return; // Someone else removed it.
  }
  if (readText(aside) !== seen) {
    // A new holder's mutex came in between: put it back.
    try {
      linkSync(aside, path);
    } catch {
      // Another mutex is there now; that one rules.
    }
  }
  unlinkQuietly(aside);
}

/** An empty directory in place of the lock file (nothing in it to lose) is removed; any other is the user's. */
function clearEmptyDirectory(path: string, shown: string): void {
  if (statSync(path, { throwIfNoEntry: false })?.isDirectory() !== true) return;
  try {
    rmdirSync(path);
  } catch {
    throw new UserError(`${shown} is a directory, but rules keeps its build lock there as a file: move it away`);
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
