// Reads a Rulefile and its includes, merges configuration layers and checks
// every rule: the whole file is validated whatever target is asked for.

import { readFileSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { isMap, isScalar, isSeq } from 'yaml';
import type { Node } from 'yaml';
import { UserError, type Diagnostic, type SourceLocation } from '../util/errors.js';
import { sha256Hex } from '../util/hash.js';
import { DiskFileSystem, type FileSystem } from '../util/fs.js';
import { glob, isGlob, skippedMessage } from '../util/glob.js';
import { nameProblem, showPath } from '../util/paths.js';
import { didYouMean } from '../util/strings.js';
import { Config, layerFromNode, layerFromValues, nestedValue, type ConfigMap, type ConfigValue } from './config.js';
import type { Project, Rule, Table } from './model.js';
import { RuleParser } from './rules.js';
import { describeNode, SourceFile } from './source.js';
import { findRulefile } from './find.js';
import { undeclaredOutputWarnings } from './words.js';
import { loadTables } from './tables.js';

export { findRulefile, RULEFILE_NAMES } from './find.js';

/** The keys a Rulefile is made of, as the message for a Rulefile that is no map names them. */
const MAIN_KEYS = ['config', 'include', 'default', 'shell', 'env', 'rules'];
/** The keys a Rulefile may have (schema/rulefile.schema.json lists the same). */
export const TOP_KEYS = [...MAIN_KEYS, 'implicit_inputs', 'tables'];
/** The keys an included file may have. */
export const INCLUDE_KEYS = ['config', 'rules'];

export interface LoadOptions {
  /** Working directory: where the Rulefile is looked up and paths are shown from. */
  cwd: string;
  /** `-f FILE`. */
  rulefile?: string;
  /** `--configfile FILE`, in order. */
  configFiles?: string[];
  /** `--config KEY=VALUE`, in order. */
  configOverrides?: string[];
  /**
   * The file system include globs list directories through, rooted at the
   * Rulefile's directory (the disk by default). A build passes the one its
   * graph uses, so that its record (util/fs.ts) holds the loader's listings too.
   */
  fs?: FileSystem;
}


export function loadProject(opts: LoadOptions): Project {
  const rulefilePath = findRulefile(opts.cwd, opts.rulefile);
  const root = dirname(rulefilePath);
  const show = (abs: string) => {
    const r = relative(opts.cwd, abs);
    return r && !r.startsWith('..') ? r.split(sep).join('/') : abs;
  };
  const main = SourceFile.read(rulefilePath, show(rulefilePath));
  // What each file read was, byte for byte, when it was read: a file edited during the build is not vouched for.
  const digests = new Map<string, string>([[rulefilePath, main.digest!]]);
  const problems: Diagnostic[] = [];
  const top = main.doc.contents as Node | null;
  if (top === null || (isScalar(top) && top.value === null)) {
    throw new UserError([{ message: `the Rulefile is empty: it needs at least a 'rules:' map`, loc: main.at(0) }]);
  }
  if (!isMap(top)) {
    throw new UserError([{ message: `the Rulefile must be a map with keys ${MAIN_KEYS.join(', ')}, not ${describeNode(top)}`, loc: main.loc(top) }]);
  }
  const topEntries = main.entries(top);
  for (const e of topEntries) {
    if (!TOP_KEYS.includes(e.key)) problems.push({ message: `unknown top-level key '${e.key}'${didYouMean(e.key, TOP_KEYS)}; allowed: ${TOP_KEYS.join(', ')}`, loc: main.loc(e.keyNode) });
  }
  const entry = (k: string) => topEntries.find((e) => e.key === k);

  // Included files, in order; each contributes config defaults and rules.
  const includes: SourceFile[] = [];
  const files = [rulefilePath];
  const globs = new Map<string, string[]>();
  const warnings: Diagnostic[] = [];
  let includeFailed = false;
  const inc = entry('include');
  if (inc && inc.value !== null) {
    const fs = opts.fs ?? new DiskFileSystem(root);
    const patterns = isSeq(inc.value) ? inc.value.items.map((n) => main.resolve(n)) : [inc.value];
    for (const p of patterns) {
      if (!isScalar(p) || typeof p.value !== 'string') {
        problems.push({ message: `'include' entries must be file paths or globs, not ${describeNode(p)}`, loc: main.loc(p) });
        continue;
      }
      if (p.value.length > 4096) {
        problems.push({ message: `an 'include' entry of ${p.value.length} characters: paths are at most 4096 characters`, loc: main.loc(p) });
        continue;
      }
      let matches = [p.value];
      if (isGlob(p.value)) {
        const pattern = p.value;
        matches = glob(fs, pattern, (s) => {
          const message = skippedMessage(pattern, s);
          if (!warnings.some((w) => w.message === message)) warnings.push({ message, loc: main.loc(p) });
        });
        globs.set(pattern, matches);
      }
      for (const m of matches) {
        const abs = resolve(root, m);
        if (abs === rulefilePath || files.includes(abs)) continue;
        files.push(abs);
        try {
          const src = SourceFile.read(abs, show(abs), main.loc(p));
          includes.push(src);
          digests.set(abs, src.digest!);
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          problems.push(...e.diagnostics);
          includeFailed = true;
        }
      }
    }
  }
  // Without every included file, config and rules would give misleading errors.
  if (includeFailed) throw new UserError(problems);

  // Configuration: includes < Rulefile < --configfile < --config.
  const config = new Config();
  const includeTops: { src: SourceFile; entries: ReturnType<SourceFile['entries']> }[] = [];
  for (const src of includes) {
    const t = src.doc.contents as Node | null;
    if (t === null || (isScalar(t) && t.value === null)) continue;
    if (!isMap(t)) {
      problems.push({ message: `an included file must be a map with 'rules' and/or 'config', not ${describeNode(t)}`, loc: src.loc(t) });
      continue;
    }
    const entries = src.entries(t);
    for (const e of entries) {
      if (!INCLUDE_KEYS.includes(e.key)) {
        const hint = TOP_KEYS.includes(e.key) ? ` ('${e.key}' belongs in the main Rulefile)` : didYouMean(e.key, INCLUDE_KEYS);
        problems.push({ message: `key '${e.key}' is not allowed in an included file${hint}; allowed: ${INCLUDE_KEYS.join(', ')}`, loc: src.loc(e.keyNode) });
      }
    }
    includeTops.push({ src, entries });
    const c = entries.find((e) => e.key === 'config');
    if (c && c.value !== null) addConfigNode(config, src, c.value, problems);
  }
  const mainConfig = entry('config');
  if (mainConfig && mainConfig.value !== null) addConfigNode(config, main, mainConfig.value, problems);
  const read = [...files];
  for (const file of opts.configFiles ?? []) {
    const { layer, digest } = readConfigFile(opts.cwd, file);
    config.apply(layer);
    read.push(resolve(opts.cwd, file));
    digests.set(resolve(opts.cwd, file), digest);
  }
  for (const assignment of opts.configOverrides ?? []) config.apply(parseConfigOverride(assignment));

  // Sample sheets (SPEC §7): read whole now; part of the project, like a config file.
  const tables = new Map<string, Table>();
  const brokenTables = new Set<string>();
  const tablesEntry = entry('tables');
  if (tablesEntry && tablesEntry.value !== null) {
    for (const { table, digest } of loadTables(main, tablesEntry.value, root, show, problems, brokenTables)) {
      tables.set(table.name, table);
      if (!digests.has(table.path)) read.push(table.path);
      digests.set(table.path, digest);
    }
  }

  // Rules, in file order with included rules spliced in where `include` stands.
  const ruleSources: { src: SourceFile; node: Node | null; keyNode: Node }[] = [];
  const includeFirst = inc !== undefined && topEntries.indexOf(inc) < topEntries.indexOf(entry('rules') ?? inc);
  const mainRules = entry('rules');
  const fromIncludes = includeTops.flatMap(({ src, entries }) => {
    const r = entries.find((e) => e.key === 'rules');
    return r ? [{ src, node: r.value, keyNode: r.keyNode }] : [];
  });
  if (includeFirst) ruleSources.push(...fromIncludes);
  if (mainRules) ruleSources.push({ src: main, node: mainRules.value, keyNode: mainRules.keyNode });
  if (!includeFirst) ruleSources.push(...fromIncludes);

  // SPEC §6: whether the words of `run` naming files are inputs, unless a rule says otherwise.
  let implicitInputs = true;
  const implicit = entry('implicit_inputs');
  if (implicit && implicit.value !== null) {
    const v = implicit.value;
    if (isScalar(v) && typeof v.value === 'boolean') implicitInputs = v.value;
    else problems.push({ message: `'implicit_inputs' must be true or false, not ${describeNode(v)}`, loc: main.loc(v) });
  }

  const rules: Rule[] = [];
  const rulesByName = new Map<string, Rule>();
  const definedAt = new Map<string, SourceLocation>();
  for (const { src, node, keyNode } of ruleSources) {
    if (node === null) continue;
    if (!isMap(node)) {
      problems.push({ message: `'rules' must be a map of rule names to rules, not ${describeNode(node)}`, loc: src.loc(node ?? keyNode) });
      continue;
    }
    const parser = new RuleParser(src, config, problems, implicitInputs, tables, brokenTables, warnings);
    for (const e of src.entries(node, true)) {
      const first = definedAt.get(e.key);
      const here = src.loc(e.keyNode);
      if (first) {
        problems.push({ message: `rule '${e.key}' is defined twice: here and at ${first.file}:${first.line}:${first.col}`, loc: here });
        continue;
      }
      definedAt.set(e.key, here);
      const rule = parser.parse(e.key, e.keyNode, e.value, definedAt.size - 1);
      if (rule) {
        rules.push(rule);
        rulesByName.set(rule.name, rule);
      }
    }
  }
  if (definedAt.size === 0 && problems.length === 0) {
    problems.push({ message: `the Rulefile defines no rules: add a 'rules:' map`, loc: main.loc(mainRules?.keyNode ?? top) });
  }

  if (problems.length === 0) warnings.push(...undeclaredOutputWarnings(rules));
  const project: Project = { root, rulefile: main.display, files, read, digests, globs, warnings, rules, rulesByName, config, shell: ['/bin/sh', '-c'], env: {}, tables };

  const def = entry('default');
  if (def && def.value !== null) {
    const items = isSeq(def.value) ? def.value.items.map((n) => main.resolve(n)) : [def.value];
    const targets: string[] = [];
    for (const n of items) {
      if (isScalar(n) && typeof n.value === 'string' && n.value !== '') {
        const bad = nameProblem(n.value);
        if (bad === undefined) targets.push(n.value);
        else problems.push({ message: `default target '${showPath(n.value)}' ${bad}`, loc: main.loc(n) });
      } else problems.push({ message: `'default' must be a target name or a list of them, not ${describeNode(n)}`, loc: main.loc(n) });
    }
    project.defaultTargets = targets;
  }
  const shell = entry('shell');
  if (shell && shell.value !== null) {
    const v = shell.value;
    if (isScalar(v) && typeof v.value === 'string' && v.value.trim() !== '') project.shell = v.value.trim().split(/\s+/);
    else problems.push({ message: `'shell' must be a command line such as "bash -euo pipefail -c", not ${describeNode(v)}`, loc: main.loc(v) });
  }
  const env = entry('env');
  if (env && env.value !== null) {
    if (!isMap(env.value)) {
      problems.push({ message: `'env' must be a map of NAME: VALUE, not ${describeNode(env.value)}`, loc: main.loc(env.value) });
    } else {
      for (const e of main.entries(env.value)) {
        const v = e.value;
        if (isScalar(v) && v.value !== null && typeof v.value !== 'object') project.env[e.key] = String(v.value);
        else problems.push({ message: `env '${e.key}' must be a string or number, not ${describeNode(v)}`, loc: main.loc(v ?? e.keyNode) });
      }
    }
  }
  for (const src of [main, ...includes]) problems.push(...src.problems);
  if (problems.length > 0) throw new UserError(capPerFile(sortByPlace(problems)));
  return project;
}

function addConfigNode(config: Config, src: SourceFile, node: Node, problems: Diagnostic[]): void {
  const n = src.resolve(node);
  if (!isMap(n)) {
    problems.push({ message: `'config' must be a map of NAME: VALUE, not ${describeNode(n)}`, loc: src.loc(n) });
    return;
  }
  config.apply(layerFromNode(src, n));
}

/** A config file's layer, and the SHA-256 of its bytes as read. */
function readConfigFile(cwd: string, file: string): { layer: ReturnType<typeof layerFromValues>; digest: string } {
  const abs = resolve(cwd, file);
  let bytes: Buffer;
  try {
    bytes = readFileSync(abs);
  } catch {
    throw new UserError(`--configfile: cannot read '${file}'`);
  }
  const digest = sha256Hex(bytes);
  const src = new SourceFile(file, bytes.toString('utf8'));
  if (src.doc.errors.length > 0) {
    const d = src.syntaxError(src.doc.errors[0]!);
    throw new UserError([{ ...d, message: `--configfile: ${d.message.replace(/^YAML/, 'YAML/JSON')}` }]);
  }
  if (src.aliasProblems.length > 0) throw new UserError(src.aliasProblems);
  const top = src.doc.contents as Node | null;
  if (top === null) return { layer: layerFromValues({}, file), digest };
  if (!isMap(top)) throw new UserError([{ message: `--configfile: '${file}' must hold a map of NAME: VALUE`, loc: src.loc(top) }]);
  // Through the loader's own reading, which bounds alias expansion (yaml's `toJS` would throw a bare error).
  return { layer: layerFromValues(src.toValue(top) as ConfigMap, `--configfile ${file}`), digest };
}

/** `KEY=VALUE` with VALUE parsed as YAML. */
export function parseConfigOverride(assignment: string) {
  const eq = assignment.indexOf('=');
  const key = eq < 0 ? '' : assignment.slice(0, eq);
  if (eq < 0 || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(key)) {
    throw new UserError(`--config expects KEY=VALUE (e.g. --config threshold=5 or --config fit.order=3), got '${assignment}'`);
  }
  const src = new SourceFile(`--config ${key}`, assignment.slice(eq + 1));
  const err = src.doc.errors[0];
  if (err !== undefined) throw new UserError(`--config ${key}: the value is not valid YAML: ${err.message.split('\n')[0]}`);
  if (src.aliasProblems.length > 0) throw new UserError(`--config ${key}: ${src.aliasProblems[0]!.message}`);
  let value: ConfigValue;
  try {
    value = src.toValue(src.doc.contents) as ConfigValue;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    throw new UserError(`--config ${key}: ${e.diagnostics[0]!.message}`);
  }
  return layerFromValues(nestedValue(key, value), '--config');
}


/** Diagnostics in file order, then line and column, so a long list reads top to bottom. */
function sortByPlace(list: Diagnostic[]): Diagnostic[] {
  return list
    .map((d, i) => ({ d, i }))
    .sort((a, b) => {
      const x = a.d.loc;
      const y = b.d.loc;
      if (!x || !y) return a.i - b.i;
      if (x.file !== y.file) return a.i - b.i;
      return x.line - y.line || x.col - y.col || a.i - b.i;
    })
    .map((e) => e.d);
}

/** Diagnostics shown per file at most; past it, one line says how many more there are. */
export const MAX_DIAGNOSTICS_PER_FILE = 50;

/** The first MAX_DIAGNOSTICS_PER_FILE diagnostics of each file, then '... and N more' for that file. */
function capPerFile(list: Diagnostic[]): Diagnostic[] {
  const shown = new Map<string, number>();
  const hidden = new Map<string, { count: number; at: SourceLocation }>();
  const out: Diagnostic[] = [];
  for (const d of list) {
    if (!d.loc) {
      out.push(d);
      continue;
    }
    const n = shown.get(d.loc.file) ?? 0;
    if (n < MAX_DIAGNOSTICS_PER_FILE) {
      shown.set(d.loc.file, n + 1);
      out.push(d);
      continue;
    }
    const h = hidden.get(d.loc.file);
    if (h) h.count++;
    else hidden.set(d.loc.file, { count: 1, at: d.loc });
  }
  for (const [file, h] of hidden) {
    out.push({ message: `... and ${h.count} more problem${h.count === 1 ? '' : 's'} in ${file} (the first ${MAX_DIAGNOSTICS_PER_FILE} are shown)`, loc: h.at });
  }
  return out;
}
