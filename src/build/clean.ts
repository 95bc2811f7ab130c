// `rules clean` as a request: what it deletes is decided by run/clean.ts from
// the build log; this takes the lock, deletes, and says what it did.

import { applyClean, planClean } from '../run/clean.js';
import { BuildLock } from '../state/lock.js';
import { FileLogStorage } from '../state/log.js';
import { removeStamp } from '../state/stamp.js';
import { UserError, type Diagnostic } from '../util/errors.js';
import { CachedFileSystem, DiskFileSystem } from '../util/fs.js';
import { openLog, openProject, targetsOf, warnAll } from './project.js';
import type { ProjectRequest, ReportRequest } from './request.js';

export interface CleanRequest {
  project: ProjectRequest;
  /** Clean what these targets and everything upstream made; none: everything recorded. */
  targets: string[];
  /** Say what would be deleted; delete nothing, take no lock. */
  dryRun: boolean;
  report: Pick<ReportRequest, 'warn'>;
}

export interface CleanOutcome {
  /** 0 done, 1 a directory stood where an output was recorded (kept), 2 could not start. */
  exitCode: number;
  diagnostics: Diagnostic[];
  /** Files deleted (or that would be). */
  paths: string[];
  /** Recorded outputs that are directories now: never deleted. */
  directories: string[];
  /** Directory outputs removed whole (or that would be). */
  trees: string[];
}

export function clean(request: CleanRequest): CleanOutcome {
  try {
    const project = openProject(request.project, request.report);
    const lock = request.dryRun ? undefined : BuildLock.acquire(project.root);
    try {
      const log = openLog(request.report, new FileLogStorage(project.root));
      const fs = new CachedFileSystem(new DiskFileSystem(project.root));
      const targets = request.targets.length > 0 ? targetsOf(request.targets, request.project.cwd, project) : undefined;
      const items = planClean(project, log, fs, targets, (d) => warnAll(request.report, [d]));
      if (!request.dryRun) {
        removeStamp(project.root);
        applyClean(items, log, fs);
        log.close();
      }
      const directories = items.flatMap((i) => i.directories);
      return { exitCode: directories.length > 0 ? 1 : 0, diagnostics: [], paths: items.flatMap((i) => i.paths), directories, trees: items.flatMap((i) => i.trees) };
    } finally {
      lock?.release();
    }
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { exitCode: e.exitCode, diagnostics: e.diagnostics, paths: [], directories: [], trees: [] };
  }
}
