// Where the engine keeps its state: everything under <root>/.rules/. Each
// entry there is named once, here; the modules that write them ask for them.

import { mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';
import { stateWriteError } from './io.js';

export const STATE_DIR = '.rules';

/** What rules keeps under .rules/: each entry's path there, and whether it is a file or a directory. */
const ENTRIES = {
  /** The build log (state/log.ts). */
  log: { rel: 'log', kind: 'file' },
  /** The build log's new text while it is recompacted, before it replaces the log. */
  logCopy: { rel: 'log.tmp', kind: 'file' },
  /** Who holds the build (state/lock.ts). */
  lock: { rel: 'lock', kind: 'file' },
  /** The mutex under which a dead holder's lock is taken over. */
  lockTakeover: { rel: 'lock.takeover', kind: 'file' },
  /** The up-to-date stamp (state/stamp.ts). */
  stamp: { rel: 'uptodate', kind: 'file' },
  /** Who reads, makes and needs what, beside the stamp (state/jobindex.ts). */
  jobIndex: { rel: 'jobindex', kind: 'file' },
  /** The started-markers of running jobs (state/started.ts). */
  started: { rel: 'started', kind: 'dir' },
  /** The files of finished started-markers, kept for the next jobs' markers while a build runs (state/started.ts). */
  spareMarkers: { rel: 'started-spare', kind: 'dir' },
  /** Job output too long to keep in memory (state/output.ts). */
  output: { rel: 'output', kind: 'dir' },
  /** The job descriptions `script:` jobs read from $RULES_JOB (state/jobfile.ts), each while its job runs. */
  jobs: { rel: 'jobs', kind: 'dir' },
  /** Job scripts and logs of the SLURM executor (run/slurm.ts). */
  slurm: { rel: 'slurm', kind: 'dir' },
  /** The event logs every build appends to. */
  eventLogs: { rel: 'logs', kind: 'dir' },
  eventLog: { rel: 'logs/events.jsonl', kind: 'file' },
  /** The event log's older generation, once it was rotated. */
  oldEventLog: { rel: 'logs/events.1.jsonl', kind: 'file' },
  /** What the last builds ran, how long each job took and what it used (state/history.ts, SPEC §9). */
  history: { rel: 'history', kind: 'dir' },
  historyLastBuild: { rel: 'history/last-build.json', kind: 'file' },
  historyRules: { rel: 'history/rules.json', kind: 'file' },
  /** Tells git to leave all of .rules/ alone; written when .rules/ is made. */
  gitignore: { rel: '.gitignore', kind: 'file' },
} as const satisfies Record<string, { rel: string; kind: 'file' | 'dir' }>;

export type StateEntry = keyof typeof ENTRIES;

/** Where an entry is, for the project at `root`. */
function statePath(root: string, entry: StateEntry): string {
  return `${stateDir(root)}/${ENTRIES[entry].rel}`;
}

/** How messages name an entry: relative to the project root, e.g. `.rules/log`. */
export function shownStatePath(entry: StateEntry): string {
  return `${STATE_DIR}/${ENTRIES[entry].rel}`;
}

export function stateDir(root: string): string {
  return `${root}/${STATE_DIR}`;
}

export function logPath(root: string): string {
  return statePath(root, 'log');
}

export function logCopyPath(root: string): string {
  return statePath(root, 'logCopy');
}

export function lockPath(root: string): string {
  return statePath(root, 'lock');
}

export function lockTakeoverPath(root: string): string {
  return statePath(root, 'lockTakeover');
}

export function stampPath(root: string): string {
  return statePath(root, 'stamp');
}

export function jobIndexPath(root: string): string {
  return statePath(root, 'jobIndex');
}

export function startedDir(root: string): string {
  return statePath(root, 'started');
}

export function spareMarkersDir(root: string): string {
  return statePath(root, 'spareMarkers');
}

export function outputDir(root: string): string {
  return statePath(root, 'output');
}

export function jobsDir(root: string): string {
  return statePath(root, 'jobs');
}

export function slurmDir(root: string): string {
  return statePath(root, 'slurm');
}

/** The last build that ran a job: its timeline (state/history.ts). */
export function lastBuildPath(root: string): string {
  return statePath(root, 'historyLastBuild');
}

/** What each rule's jobs took and used, over the builds (state/history.ts). */
export function ruleHistoryPath(root: string): string {
  return statePath(root, 'historyRules');
}

/** The event log every build appends to (JSON lines). */
export function eventLogPath(root: string): string {
  return statePath(root, 'eventLog');
}

/** The event log is rotated once it grows past this size: one older generation is kept. */
export const EVENT_LOG_MAX_BYTES = 16 * 1024 * 1024;

/** Moves a grown event log aside (to its older generation), so the log never grows without bound. */
export function rotateEventLog(root: string, maxBytes = EVENT_LOG_MAX_BYTES): void {
  const path = eventLogPath(root);
  try {
    const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
    if (size > maxBytes) renameSync(path, statePath(root, 'oldEventLog'));
  } catch (e) {
    throw stateWriteError('the event log', shownStatePath('eventLog'), e);
  }
}

/**
 * The entries whose kind is checked before a build writes there; anything else
 * under .rules/ is left alone. The lock and its mutex are checked as they are
 * taken (state/lock.ts).
 */
const LAYOUT: readonly StateEntry[] = ['log', 'logCopy', 'stamp', 'jobIndex', 'eventLogs', 'eventLog', 'oldEventLog', 'slurm', 'started', 'spareMarkers', 'output', 'jobs', 'history', 'historyLastBuild', 'historyRules'];

/**
 * Makes .rules/ if needed, with a .gitignore (`*`) that keeps all of it out
 * of git, written only when .rules/ is made (one the user edited or removed
 * stays so); a file in place of .rules/ is the user's to move.
 */
export function makeStateDir(root: string): void {
  const dir = stateDir(root);
  const st = statSync(dir, { throwIfNoEntry: false });
  if (st !== undefined && !st.isDirectory()) {
    throw new UserError(`${STATE_DIR} is a file, but rules keeps its state in a directory of that name: move the file away`);
  }
  try {
    if (mkdirSync(dir, { recursive: true }) === undefined) return;
  } catch (e) {
    throw stateWriteError('its state directory', STATE_DIR, e);
  }
  const gitignore = statePath(root, 'gitignore');
  try {
    writeFileSync(gitignore, '*\n');
  } catch {
    // A nicety, not the build's state: on a full disk the lock, written next, says what is wrong.
    try {
      rmSync(gitignore, { force: true });
    } catch {
      // Left as it is.
    }
  }
}

/**
 * Checks that what rules keeps under .rules/ has the kind it must have, before
 * a build writes there: an empty directory where a file belongs (nothing in
 * it to lose) is removed; anything else is reported, never deleted.
 */
export function checkStateLayout(root: string): void {
  for (const entry of LAYOUT) {
    const { kind } = ENTRIES[entry];
    const path = statePath(root, entry);
    let st;
    try {
      st = statSync(path, { throwIfNoEntry: false });
    } catch {
      continue; // Its directory is of the wrong kind: reported for that entry.
    }
    if (st === undefined || (kind === 'dir' ? st.isDirectory() : st.isFile())) continue;
    if (kind === 'file' && st.isDirectory() && readdirSync(path).length === 0) {
      try {
        rmdirSync(path);
        continue;
      } catch {
        // Reported below.
      }
    }
    const what = st.isDirectory() ? 'a directory' : st.isFile() ? 'a file' : 'not a regular file';
    throw new UserError(`${shownStatePath(entry)} is ${what}, but rules keeps ${kind === 'dir' ? 'a directory' : 'a file'} there: move it away`);
  }
}
