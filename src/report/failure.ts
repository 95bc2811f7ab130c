// Why a job failed, in words: the one place they are written, for the
// console, the JSON events and the event log alike.

import type { DepfileProblem, JobFailure, OutputProblem } from '../run/failure.js';

export function failureText(f: JobFailure): string {
  const text = mainText(f);
  return f.leftover === undefined ? text : `${text}; ${outputProblemText(f.leftover)}`;
}

function mainText(f: JobFailure): string {
  switch (f.kind) {
    case 'exit':
      return `exit status ${f.code}`;
    case 'signal':
      return `killed by ${f.signal}`;
    case 'spawn':
      return `cannot start '${f.file}': ${f.message}`;
    case 'sbatch-refused':
      return `sbatch refused the job: ${f.message}`;
    case 'slurm': {
      // Signal 0 is no signal: the exit status tells then.
      const how = f.signal ? `signal ${f.signal}` : f.exitCode !== null ? `exit status ${f.exitCode}` : 'no exit status';
      return `SLURM job ${f.jobId} ${f.state}, ${how}`;
    }
    case 'slurm-lost':
      return `SLURM job ${f.jobId} left the queue in an unknown state`;
    case 'prepare':
      return `cannot prepare the job: ${outputProblemText(f.problem)}`;
    case 'prepare-error':
      return `cannot prepare the job: ${f.message}`;
    case 'missing-output':
      return `the command succeeded but did not create output '${f.path}'`;
    case 'directory-output':
      return `the command succeeded but ${outputProblemText({ kind: 'directory', path: f.path })}`;
    case 'file-output':
      return `the command succeeded but directory output '${f.path}/' is not a directory (a file is there)`;
    case 'unreadable-input':
      return `cannot read '${f.path}' in input directory '${f.input}': ${f.message}; the job was not run`;
    case 'depfile':
      return depfileText(f.path, f.problem);
    case 'record':
      return `cannot record the job's outputs: ${f.message}`;
    case 'unexpected':
      return `could not run the job: ${f.message}`;
    case 'interrupted':
      return 'interrupted';
    case 'stopped':
      return 'stopped: the build state cannot be written';
  }
}

function depfileText(path: string, p: DepfileProblem): string {
  switch (p.kind) {
    case 'missing':
      return `the command succeeded but did not write its depfile '${path}'`;
    case 'unreadable':
      return `cannot read depfile '${path}': ${p.message}`;
    case 'no-separator':
      return `depfile '${path}' is malformed: line ${p.line} has no ':' between targets and dependencies`;
    case 'unterminated-escape':
      return `depfile '${path}' is malformed: line ${p.line} ends in an unterminated escape ('\\' at the end of the file)`;
  }
}

export function outputProblemText(p: OutputProblem): string {
  switch (p.kind) {
    case 'directory':
      return `output '${p.path}' is a directory, not a file: it is left as it is (a directory output is declared with a trailing '/')`;
    case 'undeletable':
      return `cannot delete output '${p.path}': ${p.message}`;
  }
}
