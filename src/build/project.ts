// From a request to what the stages need: the project loaded, the targets
// taken relative to its root, and the key of everything besides files that a
// build's answer depends on.

import { relative, resolve, sep } from 'node:path';
import { buildGraph, defaultTargets } from '../graph/build.js';
import { canProduce } from '../graph/match.js';
import { loadProject } from '../rulefile/load.js';
import type { Project } from '../rulefile/model.js';
import { BuildLog, type LogStorage } from '../state/log.js';
import { formatDiagnostic, UserError, type Diagnostic } from '../util/errors.js';
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

/**
 * A pattern rule's name as a target (SPEC §8) stands for every job of that
 * rule that the default targets need: their first outputs, in the order the
 * graph found them. Only a name that is neither a path a rule makes nor a
 * file on disk: those keep their meaning (SPEC §1).
 */
export function ruleTargets(targets: string[], project: Project, fs: FileSystem): string[] {
  const byRule = (t: string) => {
    const rule = project.rulesByName.get(t);
    return rule !== undefined && !rule.phony && rule.wildcards.length > 0 && !canProduce(project, t) && !fs.exists(t);
  };
  if (!targets.some(byRule)) return targets;
  const jobs = buildGraph(project, defaultTargets(project), fs).jobs;
  return targets.flatMap((t) => {
    if (!byRule(t)) return [t];
    const named = jobs.filter((j) => j.rule.name === t).map((j) => j.name);
    if (named.length === 0) {
      throw new UserError(`rule '${t}' has wildcards, and the default targets need none of its jobs; name one of its outputs (e.g. '${project.rulesByName.get(t)!.outputs[0]!.template.source}' with the wildcards filled in)`);
    }
    return named;
  });
}
