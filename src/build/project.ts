// From a request to what the stages need: the project loaded, the targets
// taken relative to its root, and the key of everything besides files that a
// build's answer depends on.

import { relative, resolve, sep } from 'node:path';
import { defaultTargets } from '../graph/build.js';
import { loadProject } from '../rulefile/load.js';
import type { Project } from '../rulefile/model.js';
import { BuildLog, type LogStorage } from '../state/log.js';
import { formatDiagnostic, type Diagnostic } from '../util/errors.js';
import type { FileSystem } from '../util/fs.js';
import type { ProjectRequest, ReportRequest } from './request.js';

/** Loads the Rulefile and its config (include globs listed through `fs`); its warnings are said at once. */
export function openProject(request: ProjectRequest, report: Pick<ReportRequest, 'warn'>, fs?: FileSystem): Project {
  const project = loadProject({
    cwd: request.cwd,
    ...(request.rulefile !== undefined ? { rulefile: request.rulefile } : {}),
    configFiles: request.configFiles,
    configOverrides: request.configOverrides,
    ...(fs ? { fs } : {}),
  });
  warnAll(report, project.warnings);
  return project;
}

/** Reads the build log from `storage`; what it could not read is said as a warning. */
export function openLog(report: Pick<ReportRequest, 'warn'>, storage: LogStorage): BuildLog {
  const log = BuildLog.load(storage);
  for (const w of log.warnings) report.warn(w);
  return log;
}

export function warnAll(report: Pick<ReportRequest, 'warn'>, warnings: readonly Diagnostic[]): void {
  for (const d of warnings) report.warn(formatDiagnostic(d));
}

/** Targets as given, with paths taken relative to the working directory and made relative to the root. */
export function targetsOf(targets: readonly string[], cwd: string, project: Project): string[] {
  if (targets.length === 0) return defaultTargets(project);
  return targets.map((t) => {
    if (project.rulesByName.has(t) || cwd === project.root) return t;
    const rel = relative(project.root, resolve(cwd, t));
    return rel.startsWith('..') ? resolve(cwd, t) : rel.split(sep).join('/');
  });
}
