// Why a job failed, as a value: what the executors report of a command's end,
// and what the scheduler adds around it (preparing, checking and recording the
// job). `report/failure.ts` puts it in words.

import type { DepfileSyntaxProblem } from './depfile.js';

/** A declared output that could not be deleted. */
export type OutputProblem =
  /** A directory stands where the output file is declared; it is left as it is. */
  | { kind: 'directory'; path: string }
  | { kind: 'undeletable'; path: string; message: string };

/** What is wrong with a job's depfile. */
export type DepfileProblem = { kind: 'missing' } | { kind: 'unreadable'; message: string } | DepfileSyntaxProblem;

export type JobFailure = (
  /** The command exited with a status other than 0 (127: a direct command not found). */
  | { kind: 'exit'; code: number }
  /** The command's process was killed by a signal (`SIGKILL`). */
  | { kind: 'signal'; signal: string }
  /** The process could not be started. */
  | { kind: 'spawn'; file: string; message: string }
  /** `sbatch` did not take the job. */
  | { kind: 'sbatch-refused'; message: string }
  /** A SLURM job ended in `state` other than COMPLETED with exit status 0; its exit code and signal as SLURM gives them. */
  | { kind: 'slurm'; jobId: string; state: string; exitCode: number | null; signal: number | null }
  /** A SLURM job neither squeue, scontrol nor sacct could account for. */
  | { kind: 'slurm-lost'; jobId: string }
  /** The job's outputs could not be deleted, or its directories made, before it ran. */
  | { kind: 'prepare'; problem: OutputProblem }
  | { kind: 'prepare-error'; message: string }
  /** The command succeeded but did not create this output, or made a directory in its place. */
  | { kind: 'missing-output'; path: string }
  | { kind: 'directory-output'; path: string }
  /** The command succeeded but left a file (or a link) where a directory output is declared. */
  | { kind: 'file-output'; path: string }
  /** A file under a directory input cannot be read (or a directory under it listed): the job is not run. */
  | { kind: 'unreadable-input'; input: string; path: string; message: string }
  /** The command succeeded but its depfile (SPEC §6) is missing, unreadable, or not in Make's syntax. */
  | { kind: 'depfile'; path: string; problem: DepfileProblem }
  /** The job's build record could not be written. */
  | { kind: 'record'; message: string }
  /** The scheduler could not run the job at all (a bug, or the system in trouble). */
  | { kind: 'unexpected'; message: string }
  /** Stopped by Ctrl-C, SIGTERM or a closed output. */
  | { kind: 'interrupted' }
  /** Stopped because the build state could not be written (a full disk). */
  | { kind: 'stopped' }
) & {
  /** An output that could not be deleted after the failure, when the failure itself does not name it. */
  leftover?: OutputProblem;
};

/** Whether `failure` already names `problem`: it then need not be told again. */
export function names(failure: JobFailure, problem: OutputProblem): boolean {
  if (failure.kind === 'directory-output') return sameProblem({ kind: 'directory', path: failure.path }, problem);
  if (failure.kind === 'prepare') return sameProblem(failure.problem, problem);
  return false;
}

function sameProblem(a: OutputProblem, b: OutputProblem): boolean {
  if (a.kind === 'directory') return b.kind === 'directory' && a.path === b.path;
  return b.kind === 'undeletable' && a.path === b.path && a.message === b.message;
}
