// Why a job must run, as a value: one kind per reason of SPEC §2, with the
// path or name it names. `report/reason.ts` puts it in the words users grep for.

export type StaleReason =
  /** Row 1: `--force`/`-B`. */
  | { kind: 'forced' }
  /** Row 1: `always: true`, or a phony rule. */
  | { kind: 'always' }
  /** Row 2: the first declared output that does not exist (or is a directory). */
  | { kind: 'output-missing'; path: string }
  /** Row 3: the last run was interrupted or failed. */
  | { kind: 'incomplete' }
  /** Row 4: no record, and this input is newer than the oldest output (Make's rule). */
  | { kind: 'no-record-input-newer'; path: string }
  /** Row 5: the signature changed; its first differing part (signature.ts). */
  | { kind: 'params-changed'; name: string }
  | { kind: 'env-changed'; name: string }
  /** SPEC §7: the job's own row of this table (the columns its rule reads) changed. */
  | { kind: 'table-changed'; name: string }
  | { kind: 'inputs-changed' }
  | { kind: 'outputs-changed' }
  | { kind: 'command-changed' }
  /** Row 6: this input's content differs from the record (`--check hash`). */
  | { kind: 'input-changed'; path: string }
  /** Row 6 under `--check mtime`: this input is newer than the oldest output. */
  | { kind: 'input-newer'; path: string }
  /** Row 7: this output was changed or replaced outside the build. */
  | { kind: 'output-modified'; path: string }
  /** Row 8: an upstream job that will run makes this input. */
  | { kind: 'upstream'; path: string };

/** Why a job that was stale did not run after all (early cutoff). */
export type SkipReason = { kind: 'inputs-unchanged' };
