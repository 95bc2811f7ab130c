// A failure that already names the output that could not be deleted is not told it twice.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { names, type OutputProblem } from '../../../src/run/failure.js';

describe('names', () => {
  const dir: OutputProblem = { kind: 'directory', path: 'sub' };
  const locked: OutputProblem = { kind: 'undeletable', path: 'o.txt', message: 'EACCES: permission denied' };

  test('a directory output or a preparation that failed on the same output names it', () => {
    assert.equal(names({ kind: 'directory-output', path: 'sub' }, dir), true);
    assert.equal(names({ kind: 'prepare', problem: dir }, dir), true);
    assert.equal(names({ kind: 'prepare', problem: locked }, { ...locked }), true);
  });

  test('another output, another problem or another kind of failure does not', () => {
    assert.equal(names({ kind: 'directory-output', path: 'other' }, dir), false);
    assert.equal(names({ kind: 'directory-output', path: 'o.txt' }, locked), false);
    assert.equal(names({ kind: 'prepare', problem: locked }, { ...locked, message: 'EBUSY' }), false);
    assert.equal(names({ kind: 'prepare', problem: dir }, { kind: 'undeletable', path: 'sub', message: 'EACCES' }), false);
    assert.equal(names({ kind: 'exit', code: 1 }, dir), false);
    assert.equal(names({ kind: 'missing-output', path: 'sub' }, dir), false);
  });
});
