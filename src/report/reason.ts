// A job's reason to run (or not) in the words of SPEC §2: the one place they
// are written. Users grep for these phrases; keep them exactly.

import type { SkipReason, StaleReason } from '../plan/reason.js';

export function reasonText(r: StaleReason): string {
  switch (r.kind) {
    case 'forced':
      return 'forced';
    case 'always':
      return 'always';
    case 'output-missing':
      return `output missing: ${r.path}`;
    case 'incomplete':
      return 'incomplete: previous run was interrupted or failed';
    case 'no-record-input-newer':
      return `no record: input newer than output: ${r.path}`;
    case 'params-changed':
      return `params changed: ${r.name}`;
    case 'env-changed':
      return `env changed: ${r.name}`;
    case 'table-changed':
      return `table changed: ${r.name}`;
    case 'inputs-changed':
      return 'inputs changed';
    case 'outputs-changed':
      return 'outputs changed';
    case 'command-changed':
      return 'command changed';
    case 'input-changed':
      return `input changed: ${r.path}`;
    case 'input-newer':
      return `input newer than output: ${r.path}`;
    case 'output-modified':
      return `output modified: ${r.path}`;
    case 'upstream':
      return `upstream will run: ${r.path}`;
  }
}

/** Why a job did not run after all. */
export function skipText(r: SkipReason): string {
  switch (r.kind) {
    case 'inputs-unchanged':
      return 'inputs unchanged';
  }
}
