// Every reason of SPEC §2 in its exact words: users grep for them.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StaleReason } from '../../../src/plan/reason.js';
import { reasonText, skipText } from '../../../src/report/reason.js';

/** One row per kind: the compiler refuses this table if a kind is left out. */
const PHRASES: { [K in StaleReason['kind']]: [Extract<StaleReason, { kind: K }>, string] } = {
  forced: [{ kind: 'forced' }, 'forced'],
  always: [{ kind: 'always' }, 'always'],
  'output-missing': [{ kind: 'output-missing', path: 'cal/f1.fits' }, 'output missing: cal/f1.fits'],
  incomplete: [{ kind: 'incomplete' }, 'incomplete: previous run was interrupted or failed'],
  'no-record-input-newer': [{ kind: 'no-record-input-newer', path: 'raw/f1.fits' }, 'no record: input newer than output: raw/f1.fits'],
  'params-changed': [{ kind: 'params-changed', name: 'threshold' }, 'params changed: threshold'],
  'env-changed': [{ kind: 'env-changed', name: 'MODE' }, 'env changed: MODE'],
  'table-changed': [{ kind: 'table-changed', name: 'samples' }, 'table changed: samples'],
  'inputs-changed': [{ kind: 'inputs-changed' }, 'inputs changed'],
  'outputs-changed': [{ kind: 'outputs-changed' }, 'outputs changed'],
  'command-changed': [{ kind: 'command-changed' }, 'command changed'],
  'input-changed': [{ kind: 'input-changed', path: 'raw/sci_f2.fits' }, 'input changed: raw/sci_f2.fits'],
  'input-newer': [{ kind: 'input-newer', path: 'raw/f1.fits' }, 'input newer than output: raw/f1.fits'],
  'output-modified': [{ kind: 'output-modified', path: 'cal/f1.fits' }, 'output modified: cal/f1.fits'],
  upstream: [{ kind: 'upstream', path: 'cal/f1.fits' }, 'upstream will run: cal/f1.fits'],
};

describe('reason phrases', () => {
  test('each kind of stale reason in the words of SPEC §2', () => {
    for (const [kind, [reason, phrase]] of Object.entries(PHRASES)) {
      assert.equal(reasonText(reason), phrase, kind);
    }
  });

  test('paths and names are shown as they are', () => {
    assert.equal(reasonText({ kind: 'input-changed', path: 'a b/c: d\ne.txt' }), 'input changed: a b/c: d\ne.txt');
    assert.equal(reasonText({ kind: 'params-changed', name: 'päram' }), 'params changed: päram');
  });

  test('a job up to date after all: inputs unchanged', () => {
    assert.equal(skipText({ kind: 'inputs-unchanged' }), 'inputs unchanged');
  });
});
