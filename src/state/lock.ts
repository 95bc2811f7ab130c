// One build at a time per project root: `.rules/lock` holds the builder's PID.
// A lock whose process is gone (killed hard) is taken over.

import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { stateDir } from './paths.js';

export class BuildLock {
  private constructor(private readonly path: string) {}

  static acquire(root: string): BuildLock {
    mkdirSync(stateDir(root), { recursive: true });
    const path = `${stateDir(root)}/lock`;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return new BuildLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = readHolder(path);
      if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
        throw new UserError(`another build is running in this directory (rules, pid ${holder}); wait for it to finish, or stop it`);
      }
      // The holder is gone (or the file is unreadable): take the lock over.
      try {
        unlinkSync(path);
      } catch {
        // Someone else took it over first; try again.
      }
    }
    throw new UserError(`cannot take the build lock ${path}; another build may be starting`);
  }

  release(): void {
    try {
      if (readHolder(this.path) === process.pid) unlinkSync(this.path);
    } catch {
      // Already gone.
    }
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
