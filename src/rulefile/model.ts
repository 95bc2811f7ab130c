// The checked model of a Rulefile that every later stage works from.

import type { Diagnostic, SourceLocation } from '../util/errors.js';
import type { Config } from './config.js';
import type { Placeholder, Template } from './template.js';

/** Values an `expand` item takes for one name. */
export type ExpandSource =
  | { kind: 'list'; values: string[] }
  /** Values of the name found in files on disk; the pattern may use the rule's wildcards. */
  | { kind: 'glob'; pattern: Template };

export interface ExpandName {
  name: string;
  source: ExpandSource;
}

export interface InputItem {
  /** The path template (for `expand`, the template expanded). Config placeholders are already bound. */
  template: Template;
  /** The template's literal text holds glob characters: match it against files on disk. */
  glob: boolean;
  /** Present for `expand` items. */
  expand?: ExpandName[];
  loc: SourceLocation;
}

export interface InputGroup {
  /** The name in a map of inputs (`{inputs.NAME}`); absent for unnamed entries. */
  name?: string;
  items: InputItem[];
}

export interface OutputPattern {
  name?: string;
  /**
   * The path template, without the trailing `/` of a directory output
   * (`source` keeps it, as written, for messages).
   */
  template: Template;
  /** Written with a trailing `/`: a directory output (SPEC §6), removed and made whole by the engine. */
  directory?: true;
  /** Anchored regex with a named group per wildcard; undefined for a literal output. */
  regex?: RegExp;
  /** The literal path of an output without wildcards. */
  literal?: string;
  /** Literal text before the first and after the last wildcard: a cheap pre-filter. */
  prefix: string;
  suffix: string;
  /** How many literal (non-wildcard) characters: the most specific match wins. */
  literalChars: number;
  loc: SourceLocation;
}

export interface Param {
  name: string;
  /** One template per word; `list` params come from a YAML list. */
  items: Template[];
  list: boolean;
}

export interface Rule {
  name: string;
  /** Position in the Rulefile (with includes spliced in): ties are broken by it. */
  index: number;
  loc: SourceLocation;
  description?: string;
  inputs: InputGroup[];
  orderOnly: InputGroup[];
  outputs: OutputPattern[];
  /** Wildcard names in order of first appearance in the first output. */
  wildcards: string[];
  run?: Template;
  params: Param[];
  resources: Map<string, number>;
  /** Where each resource of `resources` is asked for in the Rulefile (absent for the default `cpus`). */
  resourceLocs?: Map<string, SourceLocation>;
  log?: Template;
  /** Where `log` is written in the Rulefile. */
  logLoc?: SourceLocation;
  retries: number;
  env: { name: string; value: Template }[];
  always: boolean;
  /**
   * `depfile:` (SPEC §6): where the job's command writes the dependencies it
   * discovered, in Make's syntax; read and deleted after each successful run.
   */
  depfile?: Template;
  /** Where `depfile` is written in the Rulefile. */
  depfileLoc?: SourceLocation;
  /** `slurm:` settings for the SLURM executor. */
  slurm?: { partition?: string; account?: string; extra: string[] };
  /** No outputs: built by its name, always runs. */
  phony: boolean;
  /** SPEC §6: whether literal words of `run` naming existing files become inputs (`implicit_inputs`; the rule's own, else the top level's). */
  implicitInputs: boolean;
  /** The literal words of `run` that may name files (rulefile/words.ts), with where each is written. */
  commandWords?: { text: string; loc: SourceLocation }[];
  /**
   * `temp:` (SPEC §7): the indices in `outputs` of the temporary outputs,
   * deleted when no job of the build still needs them, and where `temp` is written.
   */
  temp?: { outputs: ReadonlySet<number>; loc: SourceLocation };
  /** `script: PATH` (instead of `run`): the script run with the interpreter its extension or `#!` line names. */
  script?: { path: string; loc: SourceLocation };
  /**
   * SPEC §7: the lookups of the rule that take a job's values (`{tables.…}`
   * keyed by one of its wildcards, `{config.a[WILDCARD]}`), each with where it
   * is written: checked for every job when the graph is built. Absent when none.
   */
  lookups?: { placeholder: Placeholder; loc: SourceLocation }[];
  /**
   * SPEC §7: per table, the columns of the job's own row the rule reads (in
   * order of first use): that part of the row is part of the job's signature.
   * Absent when the rule reads no row of its own.
   */
  tableRows?: { table: Table; columns: number[] }[];
}

/** A row of a table: its values by column, and the line of the file it starts on. */
export interface TableRow {
  line: number;
  values: string[];
}

/** A sample sheet (SPEC §7, top-level `tables:`): a CSV or TSV file with a header row. */
export interface Table {
  name: string;
  /** The file as shown in messages (relative to the working directory when possible). */
  display: string;
  /** Absolute path of the file. */
  path: string;
  /** The key column's name: a rule reads a job's row through the wildcard named like it. */
  key: string;
  columns: string[];
  /** Key value → row. */
  rows: Map<string, TableRow>;
  /** The key column's values, in file order. */
  keys: string[];
  /** Where the table is declared in the Rulefile (its name). */
  loc: SourceLocation;
}

export interface Project {
  /** Absolute path of the project root (the directory holding the Rulefile). */
  root: string;
  /** The Rulefile as shown in messages. */
  rulefile: string;
  /** The Rulefile and every included file, absolute paths. */
  files: string[];
  /**
   * Every file the loader read: the Rulefile, its includes, the
   * `--configfile` files and the tables' files, absolute paths (the up-to-date stamp compares their contents).
   */
  read: string[];
  /** The SHA-256 (hex) of each file of `read`, of the bytes as they were read: what the project was made from. */
  digests: Map<string, string>;
  /** The include globs and the files each matched (a change in these changes the project). */
  globs: Map<string, string[]>;
  /** What the user should hear but that does not stop a build (files an include glob skipped). */
  warnings: Diagnostic[];
  rules: Rule[];
  rulesByName: Map<string, Rule>;
  config: Config;
  defaultTargets?: string[];
  /** The shell as argv; the command is appended as the last argument. */
  shell: string[];
  env: Record<string, string>;
  /** Top-level `tables:` (SPEC §7), by name; empty when there are none. */
  tables: Map<string, Table>;
}
