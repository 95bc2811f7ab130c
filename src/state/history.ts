// The history of builds (SPEC §9), under .rules/history/: the timeline of the
// last build that ran a job (`last-build.json`: each job's lane, times, what
// it used, why it ran, and the failures with the end of their output), and
// what each rule's jobs took and used over all builds (`rules.json`), for
// `rules report` and its suggested resources. Each job's own last runs are in
// its record in the build log (state/log.ts `JobRecord.runs`), where the
// scheduler reads them.
//
// Both files are written whole (a temporary file renamed over the old one) at
// the end of a build: a kill at any instant leaves the old file or the new.
// Neither decides anything: one that is missing or unreadable is history lost,
// never a wrong build.

import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { lastBuildPath, ruleHistoryPath, shownStatePath } from './paths.js';
import { replaceFile, stateWriteError } from './io.js';

export const HISTORY_VERSION = 1;

/** How a job's attempt ended. `retried`: it failed and ran again; `skipped`: its inputs came out unchanged, it did not run. */
export type JobStatus = 'ok' | 'failed' | 'retried' | 'skipped';

/** One job's attempt in a build's timeline. Times are ms since the build started. */
export interface TimelineJob {
  label: string;
  rule: string;
  /** The lane it ran in (0 to the build's slots - 1; a job that did not run: -1). */
  lane: number;
  startMs: number;
  endMs: number;
  status: JobStatus;
  /** Why it ran (SPEC §2's words), or why it did not. */
  reason: string;
  attempt: number;
  /** What it used (JobUsage), where measured. */
  cpuMs?: number;
  maxRssKb?: number;
}

/** A job that failed: what it ran and how it ended. */
export interface TimelineFailure {
  label: string;
  rule: string;
  /** How it ended, in words (`exit status 3`). */
  error: string;
  command?: string;
  /** The end of what it printed (or of its `log:` file). */
  tail: string;
  attempt: number;
  willRetry: boolean;
}

/** A build as `rules report` and `--trace` show it. */
export interface BuildTimeline {
  version: number;
  /** When it started, in ms since the epoch. */
  startedAt: number;
  durationMs: number;
  slots: number;
  /** Jobs to run, and jobs that were up to date, when it started. */
  total: number;
  upToDate: number;
  ok: boolean;
  interrupted: boolean;
  ran: number;
  skipped: number;
  failed: number;
  notRun: number;
  /** Every attempt of every job, in the order they ended. */
  jobs: TimelineJob[];
  failures: TimelineFailure[];
}

/** What one rule's jobs took and used, over all the builds recorded. */
export interface RuleStats {
  /** Runs that succeeded, and attempts that failed. */
  runs: number;
  failed: number;
  maxWallMs: number;
  totalWallMs: number;
  /** The wall times of its latest runs (at most RECENT_KEPT), oldest first: for medians. */
  recentWallMs: number[];
  /** Peak memory of its jobs, in KiB: absent when never measured. */
  maxRssKb?: number;
  /** CPU time and the wall time of the same runs (those whose CPU was measured): how busy a job kept its CPUs. */
  cpuMs: number;
  cpuWallMs: number;
  /** When a job of the rule last ran, in ms since the epoch. */
  lastAt: number;
}

export interface RuleHistory {
  version: number;
  rules: Record<string, RuleStats>;
}

/** How many wall times per rule `rules.json` keeps for its medians. */
export const RECENT_KEPT = 100;

/** The rule history with a build's timeline added. */
export function addToRuleHistory(history: RuleHistory | undefined, build: BuildTimeline): RuleHistory {
  const rules: Record<string, RuleStats> = { ...(history?.rules ?? {}) };
  const at = build.startedAt + build.durationMs;
  // The stats of a rule this build ran are copied before they change: `history` stays as it was.
  const copied = new Set<string>();
  for (const job of build.jobs) {
    if (job.status === 'skipped') continue;
    let s = rules[job.rule] as RuleStats | undefined;
    if (s === undefined || !copied.has(job.rule)) {
      s = s !== undefined ? { ...s, recentWallMs: [...s.recentWallMs] } : { runs: 0, failed: 0, maxWallMs: 0, totalWallMs: 0, recentWallMs: [], cpuMs: 0, cpuWallMs: 0, lastAt: at };
      copied.add(job.rule);
      rules[job.rule] = s;
    }
    // To a tenth of a millisecond, as the timeline keeps times (no float noise in the file).
    const wall = Math.round((job.endMs - job.startMs) * 10) / 10;
    if (job.status === 'ok') {
      s.runs++;
      s.totalWallMs += wall;
      s.maxWallMs = Math.max(s.maxWallMs, wall);
      s.recentWallMs.push(wall);
      if (s.recentWallMs.length > RECENT_KEPT) s.recentWallMs.splice(0, s.recentWallMs.length - RECENT_KEPT);
      if (job.cpuMs !== undefined) {
        s.cpuMs += job.cpuMs;
        s.cpuWallMs += wall;
      }
    } else s.failed++;
    // A job that failed (killed for memory, say) used what it used: that counts for sizing too.
    if (job.maxRssKb !== undefined) s.maxRssKb = Math.max(s.maxRssKb ?? 0, job.maxRssKb);
    s.lastAt = at;
  }
  return { version: HISTORY_VERSION, rules };
}

/** Writes `text` to `path` whole (its directory made first): the old file stays until the new one is complete. */
function writeWhole(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  replaceFile(path, text);
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Records a build that ran a job: its timeline replaces the last one, and
 * its jobs are added to the rule history. Throws a user error when the files
 * cannot be written.
 */
export function recordBuild(root: string, build: BuildTimeline): void {
  try {
    writeWhole(lastBuildPath(root), JSON.stringify(build));
  } catch (e) {
    throw stateWriteError('the build history', shownStatePath('historyLastBuild'), e);
  }
  try {
    writeWhole(ruleHistoryPath(root), JSON.stringify(addToRuleHistory(readRuleHistory(root), build)));
  } catch (e) {
    throw stateWriteError('the build history', shownStatePath('historyRules'), e);
  }
}

/** The last build that ran a job; undefined when there is none (or its file is not one this version reads). */
export function readLastBuild(root: string): BuildTimeline | undefined {
  const v = readJson(lastBuildPath(root)) as BuildTimeline | undefined;
  return v !== undefined && v !== null && typeof v === 'object' && v.version === HISTORY_VERSION && Array.isArray(v.jobs) && Array.isArray(v.failures) ? v : undefined;
}

export function readRuleHistory(root: string): RuleHistory | undefined {
  const v = readJson(ruleHistoryPath(root)) as RuleHistory | undefined;
  return v !== undefined && v !== null && typeof v === 'object' && v.version === HISTORY_VERSION && typeof v.rules === 'object' && v.rules !== null ? v : undefined;
}
