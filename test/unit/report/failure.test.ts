// Why a job failed, in the words the console, the JSON events and the event
// log show (tests elsewhere and users match on them).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { failureText } from '../../../src/report/failure.js';
import type { JobFailure } from '../../../src/run/failure.js';

const DIR_TEXT = "output 'sub' is a directory, not a file: it is left as it is (a directory output is declared with a trailing '/')";

/** One row per kind: the compiler refuses this table if a kind is left out. */
const TEXTS: { [K in JobFailure['kind']]: [Extract<JobFailure, { kind: K }>, string] } = {
  exit: [{ kind: 'exit', code: 1 }, 'exit status 1'],
  signal: [{ kind: 'signal', signal: 'SIGKILL' }, 'killed by SIGKILL'],
  spawn: [{ kind: 'spawn', file: '/bin/nope', message: 'spawn /bin/nope EACCES' }, "cannot start '/bin/nope': spawn /bin/nope EACCES"],
  'sbatch-refused': [{ kind: 'sbatch-refused', message: 'sbatch: error: Invalid partition name specified' }, 'sbatch refused the job: sbatch: error: Invalid partition name specified'],
  slurm: [{ kind: 'slurm', jobId: '100', state: 'FAILED', exitCode: 3, signal: 0 }, 'SLURM job 100 FAILED, exit status 3'],
  'slurm-lost': [{ kind: 'slurm-lost', jobId: '100' }, 'SLURM job 100 left the queue in an unknown state'],
  prepare: [{ kind: 'prepare', problem: { kind: 'directory', path: 'sub' } }, `cannot prepare the job: ${DIR_TEXT}`],
  'prepare-error': [{ kind: 'prepare-error', message: 'ENOSPC: no space left on device' }, 'cannot prepare the job: ENOSPC: no space left on device'],
  'missing-output': [{ kind: 'missing-output', path: 'out/a.txt' }, "the command succeeded but did not create output 'out/a.txt'"],
  'directory-output': [{ kind: 'directory-output', path: 'sub' }, `the command succeeded but ${DIR_TEXT}`],
  'file-output': [{ kind: 'file-output', path: 'chunks/s1' }, "the command succeeded but directory output 'chunks/s1/' is not a directory (a file is there)"],
  'unreadable-input': [
    { kind: 'unreadable-input', input: 'data', path: 'data/secret.txt', message: 'permission denied' },
    "cannot read 'data/secret.txt' in input directory 'data': permission denied; the job was not run",
  ],
  depfile: [{ kind: 'depfile', path: 'obj/a.o.d', problem: { kind: 'missing' } }, "the command succeeded but did not write its depfile 'obj/a.o.d'"],
  record: [{ kind: 'record', message: 'ENOSPC: no space left on device' }, "cannot record the job's outputs: ENOSPC: no space left on device"],
  unexpected: [{ kind: 'unexpected', message: 'boom' }, 'could not run the job: boom'],
  interrupted: [{ kind: 'interrupted' }, 'interrupted'],
  stopped: [{ kind: 'stopped' }, 'stopped: the build state cannot be written'],
};

describe('failure texts', () => {
  test('each kind of failure in the words users see', () => {
    for (const [kind, [failure, text]] of Object.entries(TEXTS)) {
      assert.equal(failureText(failure), text, kind);
    }
  });

  test('a depfile that is missing, unreadable or malformed is named, with the line at fault', () => {
    const depfile = (problem: Extract<JobFailure, { kind: 'depfile' }>['problem']) => failureText({ kind: 'depfile', path: 'a.o.d', problem });
    assert.equal(depfile({ kind: 'unreadable', message: 'EACCES: permission denied' }), "cannot read depfile 'a.o.d': EACCES: permission denied");
    assert.equal(depfile({ kind: 'no-separator', line: 3 }), "depfile 'a.o.d' is malformed: line 3 has no ':' between targets and dependencies");
    assert.equal(depfile({ kind: 'unterminated-escape', line: 2 }), "depfile 'a.o.d' is malformed: line 2 ends in an unterminated escape ('\\' at the end of the file)");
  });

  test('a SLURM job: a signal before its exit status; neither known is said so', () => {
    const slurm = (exitCode: number | null, signal: number | null): JobFailure => ({ kind: 'slurm', jobId: '7', state: 'TIMEOUT', exitCode, signal });
    assert.equal(failureText(slurm(0, 15)), 'SLURM job 7 TIMEOUT, signal 15');
    assert.equal(failureText(slurm(0, 0)), 'SLURM job 7 TIMEOUT, exit status 0');
    assert.equal(failureText(slurm(null, null)), 'SLURM job 7 TIMEOUT, no exit status');
  });

  test('an output that could not be deleted afterwards is told after the failure', () => {
    assert.equal(
      failureText({ kind: 'exit', code: 2, leftover: { kind: 'undeletable', path: 'o.txt', message: 'EACCES: permission denied' } }),
      "exit status 2; cannot delete output 'o.txt': EACCES: permission denied",
    );
    assert.equal(failureText({ kind: 'missing-output', path: 'a', leftover: { kind: 'directory', path: 'sub' } }), `the command succeeded but did not create output 'a'; ${DIR_TEXT}`);
    assert.equal(
      failureText({ kind: 'prepare', problem: { kind: 'undeletable', path: 'o.txt', message: 'EROFS: read-only file system' } }),
      "cannot prepare the job: cannot delete output 'o.txt': EROFS: read-only file system",
    );
  });
});
