// Validates one rule's YAML node into a Rule: key names and types, templates
// and their placeholders, wildcards. Problems are collected, not thrown, so a
// user sees every mistake of a Rulefile in one run.

import { isMap, isScalar, isSeq, Scalar } from 'yaml';
import type { Node } from 'yaml';
import { formatLocation, type Diagnostic, type SourceLocation } from '../util/errors.js';
import { didYouMean, suggest } from '../util/strings.js';
import { configWords, isConfigMap, orderedKeys, type Config } from './config.js';
import type { ExpandName, InputGroup, InputItem, OutputPattern, Param, Rule, Table } from './model.js';
import { unsafeRegexReason } from './regex.js';
import { describeNode, isEmpty, type SourceFile } from './source.js';
import { literalText, parseTemplate, renderTemplate, TemplateSyntaxError, type Lookup, type Placeholder, type Template } from './template.js';
import { commandWords } from './words.js';
import { nameProblem, normalizePath, showPath, writablePathProblem } from '../util/paths.js';

export const RULE_KEYS = [
  'inputs',
  'outputs',
  'run',
  'params',
  'resources',
  'log',
  'retries',
  'env',
  'description',
  'order_only',
  'always',
  'slurm',
  'depfile',
  // SPEC §6, files the command names.
  'implicit_inputs',
  'script',
  // SPEC §7, temporary outputs.
  'temp',
] as const;

/** Rule keys whose value is a template (or a list of them), where `{name}` unquoted is a mistake. */
const TEMPLATE_KEYS = new Set(['inputs', 'outputs', 'order_only', 'run', 'log', 'depfile', 'script', 'description']);

/** The keys of a rule's `slurm:` map. */
export const SLURM_KEYS = ['partition', 'account', 'extra'];

/** Names with a meaning of their own in templates; no wildcard may take them. */
const RESERVED = new Set(['input', 'inputs', 'output', 'outputs', 'log', 'params', 'config', 'resources', 'wildcards', 'raw']);
const GLOB_CHARS = /[*?[]/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RULE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** The longest path template: the longest path Linux takes (PATH_MAX). */
const MAX_PATH_TEMPLATE = 4096;
/** What a placeholder in `run` or `params` may start with, for suggestions. */
const TEMPLATE_HEADS = ['inputs', 'input', 'outputs', 'output', 'log', 'params', 'config', 'resources', 'wildcards'];

/** Where a template stands; `glob` is the pattern of an expand's `{ glob: … }` values. */
type Context = 'outputs' | 'inputs' | 'log' | 'params' | 'run' | 'env' | 'depfile' | 'script' | 'glob';

/** Contexts whose templates may look values up per job (SPEC §7). */
const LOOKUP_CONTEXTS: ReadonlySet<Context> = new Set(['inputs', 'log', 'params', 'run', 'env']);

export class RuleParser {
  constructor(
    private readonly src: SourceFile,
    private readonly config: Config,
    private readonly problems: Diagnostic[],
    /** The top level's `implicit_inputs` (a rule's own wins). */
    private readonly implicitInputs = true,
    /** The top-level `tables:` (SPEC §7). */
    private readonly tables: ReadonlyMap<string, Table> = new Map(),
    /** Tables declared but not loaded (their problem is reported): using one is no further error. */
    private readonly brokenTables: ReadonlySet<string> = new Set(),
    /** Where load-time warnings go: a `run` cut by a comment, a placeholder quoted twice. */
    private readonly warnings: Diagnostic[] = [],
  ) {}

  /** Each rule's wildcards as a set, so checking a name costs the same however many a rule has. */
  private readonly wildcardSets = new WeakMap<Rule, Set<string>>();

  private wildcardSet(rule: Rule): Set<string> {
    let set = this.wildcardSets.get(rule);
    if (set === undefined) this.wildcardSets.set(rule, (set = new Set(rule.wildcards)));
    return set;
  }

  private error(message: string, loc: SourceLocation): void {
    this.problems.push({ message, loc });
  }

  parse(name: string, nameNode: Node, node: Node | null, index: number): Rule | undefined {
    const src = this.src;
    const loc = src.loc(nameNode);
    if (!RULE_NAME.test(name)) {
      this.error(`invalid rule name '${name}': use letters, digits, '_' and '-', starting with a letter or '_'`, loc);
    }
    if (!isMap(node)) {
      this.error(`rule '${name}' must be a map of keys (inputs, outputs, run, ...), not ${describeNode(node)}`, src.loc(node ?? nameNode));
      return undefined;
    }
    const values = new Map<string, { value: Node | null; keyNode: Node }>();
    const entries = src.entries(node);
    const guessed = new Set<string>();
    const given = new Set(entries.map((e) => e.key));
    for (const e of entries) {
      if (!(RULE_KEYS as readonly string[]).includes(e.key)) {
        this.error(`unknown key '${e.key}' in rule '${name}'${didYouMean(e.key, RULE_KEYS)}`, src.loc(e.keyNode));
        // Read a likely typo as the key it stands for, so one typo gives one error, not a cascade.
        const meant = suggest(e.key, RULE_KEYS);
        if (meant !== undefined && !given.has(meant) && !values.has(meant)) {
          values.set(meant, { value: e.value, keyNode: e.keyNode });
          guessed.add(meant);
        }
        continue;
      }
      values.set(e.key, { value: e.value, keyNode: e.keyNode });
    }
    // `outputs: {name}` is a YAML map of one key with no value, not the template it looks like.
    // It is reported, then read as the template it stands for, so one mistake gives one error.
    for (const [key, entry] of values) {
      if (!TEMPLATE_KEYS.has(key)) continue;
      const shown = flowMapTemplate(src, entry.value);
      if (shown !== undefined) {
        this.error(`'${key}' of rule '${name}' is ${shown}, which YAML reads as a map, not as a template: a value that starts with '{' must be quoted ("${shown}")`, src.loc(entry.value));
        entry.value = asScalar(shown, entry.value!);
      }
    }
    const get = (k: string) => values.get(k)?.value ?? null;
    const has = (k: string) => values.has(k) && values.get(k)!.value !== null;

    const rule: Rule = {
      name,
      index,
      loc,
      inputs: [],
      orderOnly: [],
      outputs: [],
      wildcards: [],
      params: [],
      resources: new Map([['cpus', 1]]),
      retries: 0,
      env: [],
      always: false,
      phony: true,
      implicitInputs: this.implicitInputs,
    };
    const errorsBefore = this.problems.length;

    if (has('description')) rule.description = this.string(get('description'), `'description' of rule '${name}'`);
    // A rule whose outputs were all refused is still not phony: one mistake, one error.
    const declared = has('outputs') ? this.parseOutputs(rule, get('outputs')!) : 0;
    rule.phony = declared === 0;
    if (has('inputs')) rule.inputs = this.parseInputs(rule, get('inputs')!, 'inputs');
    if (has('order_only')) rule.orderOnly = this.parseInputs(rule, get('order_only')!, 'order_only');
    if (has('resources')) this.parseResources(rule, get('resources')!);
    if (has('slurm')) this.parseSlurm(rule, get('slurm')!);
    if (has('retries')) {
      const n = this.number(get('retries'), `'retries' of rule '${name}'`);
      if (n !== undefined && (!Number.isInteger(n) || n < 0)) this.error(`'retries' of rule '${name}' must be a whole number >= 0`, src.loc(get('retries')));
      else if (n !== undefined) rule.retries = n;
    }
    if (has('always')) {
      const v = get('always');
      if (isScalar(v) && typeof v.value === 'boolean') rule.always = v.value;
      else this.error(`'always' of rule '${name}' must be true or false, not ${describeNode(v)}`, src.loc(v));
    }
    if (has('log')) {
      const t = this.template(rule, get('log')!, 'log', `'log' of rule '${name}'`);
      if (t && this.writable(t, `log '${showPath(t.source)}' of rule '${name}'`, get('log')!)) {
        rule.log = t;
        rule.logLoc = src.loc(get('log'));
      }
    }
    if (values.has('depfile')) this.parseDepfile(rule, get('depfile'), values.get('depfile')!.keyNode);
    if (has('params')) this.parseParams(rule, get('params')!);
    if (has('env')) this.parseEnv(rule, get('env')!);
    if (values.has('run')) {
      const runNode = get('run');
      if (runNode !== null) {
        const t = this.template(rule, runNode, 'run', `'run' of rule '${name}'`);
        if (t) {
          rule.run = t;
          this.warnRun(rule, runNode, t);
        }
      }
    }
    this.parseCommandFiles(rule, values, has, get);
    if (values.has('temp')) this.parseTemp(rule, get('temp'), values.get('temp')!.keyNode, this.problems.length === errorsBefore);
    if (!rule.phony && !has('run') && !has('script') && !guessed.has('outputs')) {
      this.error(`rule '${name}' has outputs but no 'run' command to make them`, loc);
    }
    return this.problems.length === errorsBefore ? rule : undefined;
  }

  // ---- warnings on `run` ---------------------------------------------------

  /**
   * A plain `run` value followed by ` #` on its line: YAML took the rest of
   * the line for a comment, so the command was cut there. And each
   * placeholder that the command itself puts in quotes: every value is
   * shell-quoted already, so its quotes would reach the program.
   */
  private warnRun(rule: Rule, node: Node, t: Template): void {
    const src = this.src;
    const range = node.range;
    if (isScalar(node) && node.type === Scalar.PLAIN && range) {
      const after = /^[ \t]+(#[^\r\n]*)/.exec(src.text.slice(range[1], range[1] + 4096));
      if (after) {
        const cut = after[1]!;
        const whole = `${String(node.value)} ${cut}`;
        this.warnings.push({
          message:
            `'run' of rule '${rule.name}' is cut at ' #': YAML reads '${shorten(cut)}' as a comment, so the command is '${shorten(String(node.value))}'. ` +
            `If the '#' belongs to the command, quote the whole value (run: ${shorten(JSON.stringify(whole))}) or write it as a block (run: |, then the command on the next line); ` +
            `if it is a comment, put it on a line of its own`,
          loc: src.at(range[1] + after[0].indexOf('#')),
        });
      }
    }
    for (const q of quotedPlaceholders(t)) {
      const raw = q.ph.path[0] === 'params' ? ` (or {raw.${q.ph.text}} to insert the value as it is)` : '';
      this.warnings.push({
        message:
          `'{${q.ph.text}}' in 'run' of rule '${rule.name}' is inside ${q.quote === "'" ? 'single' : 'double'} quotes, but rules already shell-quotes every value it substitutes: ` +
          `a value that needs quoting would be quoted twice and reach the command with its quotes. Remove the quotes around it${raw}`,
        loc: src.locIn(node, q.ph.offset),
      });
    }
  }

  // ---- files the command names (SPEC §6) ----------------------------------

  /** `implicit_inputs`, `script`, and the literal words of `run` that may name files. */
  private parseCommandFiles(
    rule: Rule,
    values: Map<string, { value: Node | null; keyNode: Node }>,
    has: (k: string) => boolean,
    get: (k: string) => Node | null,
  ): void {
    const src = this.src;
    if (has('implicit_inputs')) {
      const v = get('implicit_inputs');
      if (isScalar(v) && typeof v.value === 'boolean') rule.implicitInputs = v.value;
      else this.error(`'implicit_inputs' of rule '${rule.name}' must be true or false, not ${describeNode(v)}`, src.loc(v));
    }
    if (values.has('script')) {
      const node = get('script');
      const text = this.string(node, `'script' of rule '${rule.name}'`, values.get('script')!.keyNode);
      if (text !== undefined && values.has('run')) {
        this.error(`rule '${rule.name}' has both 'run' and 'script': give one of them`, src.loc(values.get('script')!.keyNode));
      } else if (text !== undefined) {
        const t = this.templateFromText(rule, node!, text, 'script');
        if (t && t.placeholders.length > 0) {
          this.error(`'script' of rule '${rule.name}' must be a plain path: the same script runs for every job (its job reaches it in $RULES_JOB)`, src.locIn(node!, t.placeholders[0]!.offset));
        } else if (t) {
          const path = normalizePath(literalText(t));
          const problem = nameProblem(path);
          if (problem !== undefined) this.error(`script '${showPath(text)}' of rule '${rule.name}' ${problem}`, src.loc(node));
          else rule.script = { path, loc: src.loc(node) };
        }
      }
    }
    const run = rule.run;
    if (run !== undefined) {
      const node = get('run')!;
      const words = commandWords(run);
      if (words.length > 0) rule.commandWords = words.map((w) => ({ text: w.text, loc: src.locIn(node, w.offset) }));
    }
  }

  // ---- temporary outputs (SPEC §7) ----------------------------------------

  /**
   * `temp: true` (every output) or a list naming outputs: names of a map of
   * outputs, or templates exactly as written. `checkNames`: the outputs were
   * all accepted, so a name matching none is the user's mistake, not a cascade.
   */
  private parseTemp(rule: Rule, node: Node | null, keyNode: Node, checkNames: boolean): void {
    const src = this.src;
    const loc = src.loc(node ?? keyNode);
    if (isScalar(node) && typeof node.value === 'boolean') {
      if (!node.value) return;
      if (rule.phony) this.error(`'temp' of rule '${rule.name}': the rule has no outputs to be temporary`, loc);
      else rule.temp = { outputs: new Set(rule.outputs.map((_, i) => i)), loc: src.loc(keyNode) };
      return;
    }
    const list = src.resolve(node);
    const items = isSeq(list) ? (list.items as Node[]) : isScalar(list) && typeof list.value === 'string' ? [list] : undefined;
    if (items === undefined) {
      this.error(`'temp' of rule '${rule.name}' must be true, false or a list of its outputs (names or templates as written), not ${describeNode(node)}`, loc);
      return;
    }
    if (rule.phony) {
      this.error(`'temp' of rule '${rule.name}': the rule has no outputs to be temporary`, loc);
      return;
    }
    const chosen = new Set<number>();
    const known = new Map<string, number[]>();
    const add = (key: string, i: number) => known.set(key, [...(known.get(key) ?? []), i]);
    rule.outputs.forEach((o, i) => {
      if (o.name !== undefined) add(o.name, i);
      add(o.template.source, i);
      // A directory output as written has its `/`; without it, it names the same output.
      if (o.directory) add(o.template.source.replace(/\/+$/, ''), i);
    });
    for (const item of items) {
      const resolved = src.resolve(item);
      if (!isScalar(resolved) || typeof resolved.value !== 'string') {
        this.error(`an entry of 'temp' of rule '${rule.name}' must be the name or template of one of its outputs, not ${describeNode(item)}`, src.loc(item));
        continue;
      }
      const which = known.get(resolved.value);
      if (which === undefined) {
        if (checkNames) {
          this.error(`'temp' of rule '${rule.name}' names '${resolved.value}', which is not one of its outputs${didYouMean(resolved.value, known.keys())}`, src.loc(item));
        }
        continue;
      }
      for (const i of which) chosen.add(i);
    }
    if (chosen.size > 0) rule.temp = { outputs: chosen, loc: src.loc(keyNode) };
  }

  // ---- scalars -------------------------------------------------------------

  /** `at` locates the problem when `node` is missing (a key without a value). */
  private string(node: Node | null, what: string, at?: Node): string | undefined {
    if (isScalar(node) && typeof node.value === 'string') return node.value;
    this.error(`${what} must be a string, not ${describeNode(node)}`, this.src.loc(node ?? at));
    return undefined;
  }

  private number(node: Node | null, what: string, at?: Node): number | undefined {
    if (isScalar(node) && typeof node.value === 'number') return node.value;
    this.error(`${what} must be a number, not ${describeNode(node)}`, this.src.loc(node ?? at));
    return undefined;
  }

  /** Parses a template string and checks each placeholder against what `ctx` allows. */
  private template(rule: Rule, node: Node | null, ctx: Context, what: string, extraNames: readonly string[] = [], at?: Node): Template | undefined {
    const text = this.string(node, what, at);
    if (text === undefined) return undefined;
    return this.templateFromText(rule, node!, text, ctx, extraNames);
  }

  private templateFromText(rule: Rule, node: Node, text: string, ctx: Context, extraNames: readonly string[] = []): Template | undefined {
    // No shell takes a NUL in a command (paths are checked, with their rule named, by `writable` and `nameable`).
    const nul = ctx === 'run' || ctx === 'params' || ctx === 'env' ? text.indexOf('\0') : -1;
    if (nul >= 0) {
      this.error(`a NUL character ('\\0') cannot appear in '${ctx}'`, this.src.locIn(node, nul));
      return undefined;
    }
    if ((ctx === 'inputs' || ctx === 'outputs' || ctx === 'log' || ctx === 'depfile' || ctx === 'script' || ctx === 'glob') && text.length > MAX_PATH_TEMPLATE) {
      this.error(`a path of ${text.length} characters: paths are at most ${MAX_PATH_TEMPLATE} characters`, this.src.loc(node));
      return undefined;
    }
    let t: Template;
    try {
      t = parseTemplate(text);
    } catch (e) {
      if (!(e instanceof TemplateSyntaxError)) throw e;
      this.error(e.message, this.src.locIn(node, e.offset));
      return undefined;
    }
    let ok = true;
    const extra = new Set(extraNames);
    for (const ph of t.placeholders) {
      const problem = this.checkPlaceholder(rule, ph, ctx, extra, ph, node);
      if (problem !== undefined) {
        if (problem !== REPORTED) this.error(problem, this.src.locIn(node, ph.offset));
        ok = false;
      } else if (ph.lookup !== undefined) {
        this.noteLookup(rule, ph, extra, node);
      }
    }
    if (!ok) return undefined;
    // Paths never need quoting, so config values are bound into them right away.
    return ctx === 'run' || ctx === 'params' || ctx === 'env' ? t : this.bindConfig(t);
  }

  /** Replaces `{config.KEY}` by its value, keeping the other placeholders (and their offsets). */
  private bindConfig(t: Template): Template {
    if (!t.placeholders.some((p) => p.path[0] === 'config' && p.lookup === undefined)) return t;
    const parts: Template['parts'] = [];
    const placeholders: Placeholder[] = [];
    for (const p of t.parts) {
      const text = typeof p === 'string' ? p : p.path[0] === 'config' && p.lookup === undefined ? configWords(this.config.get(p.path.slice(1))!).join(' ') : undefined;
      if (text === undefined) {
        parts.push(p);
        placeholders.push(p as Placeholder);
      } else if (typeof parts[parts.length - 1] === 'string') {
        parts[parts.length - 1] += text;
      } else if (text !== '') {
        parts.push(text);
      }
    }
    const source = parts.map((p) => (typeof p === 'string' ? p.replace(/[{}]/g, (c) => c + c) : `{${p.text}}`)).join('');
    return { source, parts, placeholders };
  }

  /**
   * Returns a message if placeholder `ph` may not stand in context `ctx` of
   * `rule` (REPORTED when the problem was reported at a place of its own). A
   * lookup (SPEC §7) is bound to `target` (`ph` itself, unless `ph` is what a
   * `{raw.…}` placeholder stands for); `node` is the template's.
   */
  private checkPlaceholder(rule: Rule, ph: Placeholder, ctx: Context, extraNames: ReadonlySet<string>, target: Placeholder, node: Node): string | undefined {
    const [head, ...rest] = ph.path;
    const shown = `{${ph.text}}`;
    const where = ctx === 'outputs' ? 'outputs' : ctx === 'inputs' ? 'inputs' : ctx === 'glob' ? 'a glob of values' : `'${ctx}'`;
    if (ph.regex !== undefined && ctx !== 'outputs') {
      return `'${shown}': a wildcard's regular expression can only be given in outputs`;
    }
    const keyed = ph.path.some((p) => p.startsWith('['));
    if (head === 'tables' || keyed) {
      if (keyed && head !== 'config') return `'${shown}': only a config value can be looked up by a wildcard, as in {config.KEY[WILDCARD]}`;
      if (!LOOKUP_CONTEXTS.has(ctx)) {
        return `'${shown}' cannot be used in ${where} of rule '${rule.name}': a lookup takes a job's values (use it in inputs, params, log, run or env)`;
      }
      return head === 'tables' ? this.checkTableLookup(rule, ph, extraNames, target, node, where) : this.checkConfigLookup(rule, ph, extraNames, target);
    }
    if (head === 'config') {
      if (rest.length === 0) return `'${shown}' needs a key, e.g. {config.threshold}`;
      const value = this.config.get(rest);
      if (value === undefined) {
        return `rule '${rule.name}' uses config key '${rest.join('.')}', which is not set (set it under 'config:', in a --configfile, or with --config ${rest.join('.')}=VALUE)`;
      }
      return undefined;
    }
    if (head === 'raw') {
      if (ctx !== 'run') return `'${shown}' can only be used in 'run'`;
      const [kind, ...name] = rest;
      if ((kind !== 'params' && kind !== 'config' && kind !== 'tables') || name.length === 0) return `'${shown}': use {raw.params.NAME} or {raw.config.KEY} (or {raw.tables.NAME.COLUMN})`;
      return this.checkPlaceholder(rule, { ...ph, path: [kind, ...name], text: ph.text.slice(4) }, ctx, extraNames, target, node);
    }
    const wildcardName = head === 'wildcards' ? (rest.length === 1 ? rest[0] : undefined) : rest.length === 0 && !RESERVED.has(head!) ? head : undefined;
    if (head === 'wildcards' && wildcardName === undefined) return `'${shown}': use {wildcards.NAME}`;
    if (wildcardName !== undefined) {
      if (ctx === 'outputs') return undefined; // outputs define the wildcards
      if (extraNames.has(wildcardName)) return undefined;
      if (this.wildcardSet(rule).has(wildcardName)) return undefined;
      const heads = ctx === 'run' || ctx === 'params' ? TEMPLATE_HEADS : [];
      if (head !== 'wildcards' && suggest(wildcardName, heads) !== undefined) {
        return `unknown placeholder '${shown}' in ${where} of rule '${rule.name}'${didYouMean(wildcardName, [...heads, ...hintable(rule.wildcards)])}`;
      }
      if (rule.phony) {
        return `unknown placeholder '${shown}' in ${where} of rule '${rule.name}': a rule without outputs has no wildcards`;
      }
      const known = [...hintable(rule.wildcards), ...hintable(extraNames)];
      return `wildcard '${shown}' in ${where} of rule '${rule.name}' does not appear in its outputs${didYouMean(wildcardName, known)}`;
    }
    if (ctx === 'outputs') return `'${shown}' cannot be used in outputs: only wildcards and {config.KEY}`;
    if (ctx === 'depfile') return depfilePlaceholderProblem(rule, ph, shown);
    if (ctx === 'inputs' || ctx === 'log' || ctx === 'env' || ctx === 'script' || ctx === 'glob') {
      return `unknown placeholder '${shown}' in ${where} of rule '${rule.name}': only wildcards and {config.KEY} are allowed here`;
    }
    // `{inputs.NAME}` and the like: NAME must be declared.
    const named = (kind: string, names: string[]) =>
      names.includes(rest[0]!) ? undefined : `unknown placeholder '${shown}' in ${where} of rule '${rule.name}': no ${kind} named '${rest[0]}'${didYouMean(rest[0]!, names)}`;
    switch (head) {
      case 'input':
      case 'inputs':
        if (rest.length === 0) return undefined;
        if (head === 'inputs' && rest.length === 1) return named('input', rule.inputs.flatMap((g) => (g.name ? [g.name] : [])));
        break;
      case 'output':
      case 'outputs':
        if (rule.phony) return `'${shown}' in ${where} of rule '${rule.name}': the rule has no outputs`;
        if (rest.length === 0) return undefined;
        if (head === 'outputs' && rest.length === 1) return named('output', rule.outputs.flatMap((o) => (o.name ? [o.name] : [])));
        break;
      case 'log':
        if (rest.length > 0) break;
        if (rule.log === undefined) return `'${shown}' in ${where} of rule '${rule.name}': the rule has no 'log'`;
        return undefined;
      case 'params':
        if (ctx === 'params') return `'${shown}': params cannot refer to other params`;
        if (rest.length === 1) return named('param', rule.params.map((p) => p.name));
        break;
      case 'resources':
        if (rest.length === 1) return named('resource', [...rule.resources.keys()]);
        break;
    }
    if (rest.length === 0 && (head === 'params' || head === 'resources')) {
      return `'${shown}' needs a name: use {${head}.NAME}`;
    }
    const all = [...TEMPLATE_HEADS, ...hintable(rule.wildcards)].filter((c) => c !== ph.path.join('.'));
    return `unknown placeholder '${shown}' in ${where} of rule '${rule.name}'${didYouMean(ph.path.join('.'), all)}`;
  }

  // ---- lookups (SPEC §7) ----------------------------------------------------

  /** `{tables.NAME.COLUMN}`: the table and column exist, and a wildcard (or expand name) is named like the table's key. */
  private checkTableLookup(rule: Rule, ph: Placeholder, extraNames: ReadonlySet<string>, target: Placeholder, node: Node, where: string): string | undefined {
    const shown = `{${ph.text}}`;
    const [, name, column, ...more] = ph.path;
    if (name === undefined || column === undefined || more.length > 0) return `'${shown}': use {tables.NAME.COLUMN}`;
    const table = this.tables.get(name);
    if (table === undefined && this.brokenTables.has(name)) return REPORTED;
    if (table === undefined) {
      const known = [...this.tables.keys()];
      return `unknown table '${name}' in '${shown}' of rule '${rule.name}'${didYouMean(name, known)}${known.length === 0 ? ": declare it under the top-level 'tables:'" : `; tables: ${known.join(', ')}`}`;
    }
    const index = table.columns.indexOf(column);
    if (index < 0) {
      const used = this.src.locIn(node, ph.offset);
      this.problems.push({
        message: `no column '${column}' (columns: ${table.columns.join(', ')})${didYouMean(column, table.columns)}; ${shown} in ${where} of rule '${rule.name}' at ${formatLocation(used)}`,
        loc: { file: table.display, line: 1, col: 0 },
      });
      return REPORTED;
    }
    if (!extraNames.has(table.key) && !this.wildcardSet(rule).has(table.key)) {
      const has = rule.wildcards.length === 0 ? 'it has none' : `its wildcards: ${rule.wildcards.join(', ')}`;
      return `'${shown}' in ${where} of rule '${rule.name}' reads the job's row of table '${name}', which needs a wildcard named like its key column, {${table.key}} (${has})`;
    }
    target.lookup = { kind: 'table', table, column: index };
    return undefined;
  }

  /** `{config.a[NAME].b}`: the key before the first lookup is set, and each NAME is a wildcard (or expand name). */
  private checkConfigLookup(rule: Rule, ph: Placeholder, extraNames: ReadonlySet<string>, target: Placeholder): string | undefined {
    const shown = `{${ph.text}}`;
    const steps: Extract<Lookup, { kind: 'config' }>['steps'] = [];
    const fixed: string[] = [];
    for (const part of ph.path.slice(1)) {
      if (!part.startsWith('[')) {
        steps.push({ key: part });
        if (steps.length === fixed.length + 1) fixed.push(part);
        continue;
      }
      const name = part.slice(1, -1);
      if (!extraNames.has(name) && !this.wildcardSet(rule).has(name)) {
        const known = [...hintable(rule.wildcards), ...hintable(extraNames)];
        return `'${shown}' in rule '${rule.name}' looks up the value of '${name}', which is not one of its wildcards${didYouMean(name, known)}${known.length === 0 ? ' (it has none)' : ` (${known.join(', ')})`}`;
      }
      steps.push({ name });
    }
    if (fixed.length > 0) {
      const value = this.config.get(fixed);
      if (value === undefined) {
        return `rule '${rule.name}' uses config key '${fixed.join('.')}', which is not set (set it under 'config:', in a --configfile, or with --config ${fixed.join('.')}=VALUE)`;
      }
      if (!isConfigMap(value)) return `'${shown}' in rule '${rule.name}' looks a key up in config key '${fixed.join('.')}', which is not a map`;
    }
    target.lookup = { kind: 'config', root: this.config.values, steps, shown };
    return undefined;
  }

  /** A checked lookup keyed by the job's own wildcards is checked per job in the graph; one reading a table's row is part of the signature. */
  private noteLookup(rule: Rule, ph: Placeholder, extraNames: ReadonlySet<string>, node: Node): void {
    const lookup = ph.lookup!;
    const names = lookupNames(lookup);
    // Keyed by an expand item's own names: the graph checks it as it expands.
    if (names.some((n) => extraNames.has(n))) return;
    (rule.lookups ??= []).push({ placeholder: ph, loc: this.src.locIn(node, ph.offset) });
    if (lookup.kind !== 'table') return;
    const rows = (rule.tableRows ??= []);
    let entry = rows.find((r) => r.table === lookup.table);
    if (entry === undefined) rows.push((entry = { table: lookup.table, columns: [] }));
    if (!entry.columns.includes(lookup.column)) entry.columns.push(lookup.column);
  }

  // ---- depfile -------------------------------------------------------------

  /** `depfile: TEMPLATE` (SPEC §6): one file path per job, like a log's, which may name the job's output. */
  private parseDepfile(rule: Rule, node: Node | null, keyNode: Node): void {
    const what = `'depfile' of rule '${rule.name}'`;
    if (rule.phony) {
      this.error(`${what}: a rule without outputs makes no files, so there are no dependencies to discover; give it outputs or remove 'depfile'`, this.src.loc(keyNode));
      return;
    }
    const t = this.template(rule, node, 'depfile', what, [], keyNode);
    if (t === undefined || !this.writable(t, `depfile '${showPath(t.source)}' of rule '${rule.name}'`, node!)) return;
    rule.depfile = t;
    rule.depfileLoc = this.src.loc(node);
  }

  // ---- outputs -------------------------------------------------------------

  /** Parses the outputs into `rule.outputs`; returns how many were declared (accepted or not). */
  private parseOutputs(rule: Rule, node: Node): number {
    const entries: { name?: string; node: Node }[] = [];
    const collect = (n: Node | null, name?: string) => {
      n = this.src.resolve(n);
      if (isSeq(n)) for (const item of n.items) collect(item as Node, name);
      else if (n !== null && !isEmpty(n)) entries.push(name === undefined ? { node: n } : { name, node: n });
      else if (name !== undefined) this.error(`output '${name}' of rule '${rule.name}' has no path`, this.src.loc(node));
    };
    if (isMap(node)) {
      for (const e of this.src.entries(node)) {
        if (!IDENT.test(e.key)) this.error(`output name '${e.key}' must be an identifier (letters, digits, '_')`, this.src.loc(e.keyNode));
        collect(e.value, e.key);
      }
    } else {
      collect(node);
    }
    const regexFor = new Map<string, string>();
    const parsed: { name?: string; t: Template; node: Node }[] = [];
    for (const e of entries) {
      const t = this.template(rule, e.node, 'outputs', `output of rule '${rule.name}'`);
      if (!t) continue;
      for (const ph of t.placeholders) {
        if (ph.regex === undefined) continue;
        const name = ph.path[0]!;
        const prev = regexFor.get(name);
        if (prev !== undefined && prev !== ph.regex) {
          this.error(`wildcard '{${name}}' is given two different regular expressions in rule '${rule.name}'`, this.src.locIn(e.node, ph.offset));
        }
        try {
          new RegExp(ph.regex, 'u');
        } catch (err) {
          this.error(`invalid regular expression in '{${ph.text}}': ${(err as Error).message}`, this.src.locIn(e.node, ph.offset));
          continue;
        }
        const unsafe = unsafeRegexReason(ph.regex);
        if (unsafe !== undefined) {
          this.error(`unsafe regular expression in '{${ph.text}}': ${unsafe}`, this.src.locIn(e.node, ph.offset));
          continue;
        }
        regexFor.set(name, ph.regex);
      }
      let reservedName = false;
      for (const ph of t.placeholders) {
        const name = ph.path[ph.path.length - 1]!;
        if (ph.path[0] === 'wildcards' || RESERVED.has(ph.path[0]!)) {
          this.error(`'{${ph.text}}': a wildcard in outputs is written {NAME}, and NAME cannot be one of ${[...RESERVED].join(', ')}`, this.src.locIn(e.node, ph.offset));
          reservedName = true;
        } else if (parsed.length === 0 && !this.wildcardSet(rule).has(name)) {
          rule.wildcards.push(name);
          this.wildcardSet(rule).add(name);
        }
      }
      if (reservedName) continue;
      parsed.push(e.name === undefined ? { t, node: e.node } : { name: e.name, t, node: e.node });
    }
    for (const p of parsed) {
      const names = new Set(p.t.placeholders.map((ph) => ph.path[0]!));
      const missing = rule.wildcards.filter((w) => !names.has(w));
      const extra = [...names].filter((w) => !this.wildcardSet(rule).has(w));
      if (missing.length > 0 || extra.length > 0) {
        const which = missing.length > 0 ? `lacks {${missing[0]}}` : `has {${extra[0]}}, which the first output lacks`;
        this.error(`output '${p.t.source}' of rule '${rule.name}' ${which}: every output of a rule must use the same wildcards`, this.src.loc(p.node));
        continue;
      }
      // A trailing '/' declares a directory output: matched and rendered without it.
      const dir = directoryOutput(p.t);
      const t = dir ?? p.t;
      if (!this.writable(t, `output '${showPath(p.t.source)}' of rule '${rule.name}'`, p.node)) continue;
      let out: OutputPattern;
      try {
        out = compileOutput(t, regexFor, this.src.loc(p.node));
      } catch (err) {
        // The engine's own limits (e.g. tens of thousands of wildcards in one path).
        if (!(err instanceof SyntaxError)) throw err;
        this.error(`output '${shorten(p.t.source)}' of rule '${rule.name}' is too complex to match: ${shorten(err.message)}`, this.src.loc(p.node));
        continue;
      }
      if (p.name !== undefined) out.name = p.name;
      if (dir !== undefined) out.directory = true;
      rule.outputs.push(out);
    }
    return entries.length;
  }

  /**
   * An output or log must name a file strictly inside the project root, whatever
   * values its wildcards take: checked here on the template with each wildcard
   * standing for a plain name, and on every job's paths when the graph is built.
   */
  private writable(t: Template, what: string, node: Node): boolean {
    const last = t.parts[t.parts.length - 1];
    const rendered = renderTemplate(t, () => 'w');
    const problem =
      writablePathProblem(normalizePath(rendered)) ??
      (typeof last === 'string' && last.endsWith('/') ? `ends with '/': name a file (only an output can be a directory)` : undefined) ??
      // Targets and inputs are matched in normal form: a pattern written otherwise would never match.
      (t.placeholders.length > 0 && normalizePath(rendered) !== rendered
        ? `is not in normal form: write it without './', '//' or '..' (paths are matched as '${normalizePath(t.source)}' would be)`
        : undefined);
    if (problem === undefined) return true;
    this.error(`${what} ${problem}`, this.src.loc(node));
    return false;
  }

  /** An input's literal text must be a possible path: no NUL byte, no over-long name. */
  private nameable(t: Template, what: string, node: Node): boolean {
    const problem = nameProblem(renderTemplate(t, () => 'w'));
    if (problem === undefined) return true;
    this.error(`${what} ${problem}`, this.src.loc(node));
    return false;
  }

  // ---- inputs --------------------------------------------------------------

  private parseInputs(rule: Rule, node: Node, key: 'inputs' | 'order_only'): InputGroup[] {
    const groups: InputGroup[] = [];
    if (isMap(node) && !this.src.entries(node).some((e) => e.key === 'expand')) {
      for (const e of this.src.entries(node)) {
        if (!IDENT.test(e.key)) {
          this.error(`input name '${e.key}' must be an identifier (letters, digits, '_')`, this.src.loc(e.keyNode));
          continue;
        }
        groups.push({ name: e.key, items: this.inputItems(rule, e.value, key) });
      }
    } else {
      groups.push({ items: this.inputItems(rule, node, key) });
    }
    return groups;
  }

  private inputItems(rule: Rule, raw: Node | null, key: string): InputItem[] {
    const node = this.src.resolve(raw);
    if (isSeq(node)) return node.items.flatMap((n) => this.inputItems(rule, n as Node, key));
    const shown = flowMapTemplate(this.src, node);
    if (shown !== undefined) {
      this.error(`'${key}' entry ${shown} of rule '${rule.name}' is read by YAML as a map, not as a template: a value that starts with '{' must be quoted ("${shown}")`, this.src.loc(node));
      return this.inputItems(rule, asScalar(shown, node as Node), key);
    }
    if (isMap(node)) {
      const item = this.expandItem(rule, node, key);
      return item ? [item] : [];
    }
    const t = this.template(rule, node as Node, 'inputs', `'${key}' entry of rule '${rule.name}'`);
    if (!t || !this.nameable(t, `'${key}' entry '${showPath(t.source)}' of rule '${rule.name}'`, node as Node)) return [];
    return [{ template: t, glob: GLOB_CHARS.test(literalText(t)), loc: this.src.loc(node) }];
  }

  private expandItem(rule: Rule, node: Node & { items: unknown[] }, key: string): InputItem | undefined {
    const entries = this.src.entries(node as never);
    const tmplEntry = entries.find((e) => e.key === 'expand');
    if (!tmplEntry) {
      this.error(`a map in '${key}' of rule '${rule.name}' must be an expand item: { expand: TEMPLATE, NAME: VALUES }`, this.src.loc(node));
      return undefined;
    }
    const names: ExpandName[] = [];
    const nameList = entries.filter((e) => e !== tmplEntry).map((e) => e.key);
    const t = this.template(rule, tmplEntry.value, 'inputs', `'expand' template of rule '${rule.name}'`, nameList, node);
    const used = new Set(t ? t.placeholders.flatMap((p) => (p.lookup !== undefined ? lookupNames(p.lookup) : p.path.length === 1 ? [p.path[0]!] : [])) : []);
    for (const e of entries) {
      if (e === tmplEntry) continue;
      if (!IDENT.test(e.key) || RESERVED.has(e.key)) {
        this.error(`'${e.key}' cannot be an expand name`, this.src.loc(e.keyNode));
        continue;
      }
      if (t && !used.has(e.key)) {
        this.error(`expand name '${e.key}' is not used in the template '${t.source}'`, this.src.loc(e.keyNode));
        continue;
      }
      const source = this.expandValues(rule, e.key, e.value, e.keyNode);
      if (source) names.push({ name: e.key, source });
    }
    if (!t || !this.nameable(t, `'expand' template '${showPath(t.source)}' of rule '${rule.name}'`, tmplEntry.value ?? node)) return undefined;
    if (nameList.length === 0) {
      this.error(`expand item in rule '${rule.name}' names no values to expand: add e.g. NAME: [a, b]`, this.src.loc(node));
      return undefined;
    }
    if (names.length < nameList.length) return undefined;
    return { template: t, glob: GLOB_CHARS.test(literalText(t)), expand: names, loc: this.src.loc(node) };
  }

  private expandValues(rule: Rule, name: string, raw: Node | null, keyNode: Node): ExpandName['source'] | undefined {
    const node = this.src.resolve(raw) ?? keyNode;
    const what = `values of '${name}' in an expand item of rule '${rule.name}'`;
    if (isSeq(node)) {
      const values: string[] = [];
      for (const item of node.items) {
        const n = this.src.resolve(item);
        if (isScalar(n) && n.value !== null && typeof n.value !== 'object') values.push(String(n.value));
        else this.error(`${what} must be strings or numbers, not ${describeNode(n)}`, this.src.loc(n));
      }
      return { kind: 'list', values };
    }
    if (isMap(node)) {
      const entries = this.src.entries(node);
      const e = entries[0];
      if (entries.length === 1 && e!.key === 'glob') {
        const t = this.template(rule, e!.value as Node, 'glob', `glob for '${name}'`, [name]);
        if (!t) return undefined;
        if (!t.placeholders.some((p) => p.path.length === 1 && p.path[0] === name)) {
          this.error(`the glob for '${name}' must contain {${name}} to say where its values are`, this.src.loc(e!.value));
          return undefined;
        }
        return { kind: 'glob', pattern: t };
      }
      if (entries.length === 1 && e!.key === 'config') {
        const keyText = this.string(e!.value, `config key for '${name}'`);
        if (keyText === undefined) return undefined;
        const value = this.config.get(keyText.split('.'));
        if (value === undefined) {
          this.error(`rule '${rule.name}' uses config key '${keyText}', which is not set (set it under 'config:', in a --configfile, or with --config ${keyText}=VALUE)`, this.src.loc(e!.value));
          return undefined;
        }
        // SPEC §7: a map gives its keys, in file order.
        if (isConfigMap(value)) return { kind: 'list', values: [...orderedKeys(value)] };
        if (!Array.isArray(value)) {
          this.error(`config key '${keyText}' used for the values of '${name}' in rule '${rule.name}' must be a list or a map (its keys), not ${describeValue(value)}`, this.src.loc(e!.value));
          return undefined;
        }
        return { kind: 'list', values: configWords(value) };
      }
      if (entries.length === 1 && e!.key === 'table') {
        const tableName = this.string(e!.value, `table for '${name}'`, e!.keyNode);
        if (tableName === undefined) return undefined;
        const table = this.tables.get(tableName);
        if (table === undefined && this.brokenTables.has(tableName)) return undefined;
        if (table === undefined) {
          const known = [...this.tables.keys()];
          this.error(`unknown table '${tableName}' for the values of '${name}' in rule '${rule.name}'${didYouMean(tableName, known)}${known.length === 0 ? ": declare it under the top-level 'tables:'" : `; tables: ${known.join(', ')}`}`, this.src.loc(e!.value));
          return undefined;
        }
        // The key column, in file order (shared: nothing changes it).
        return { kind: 'list', values: table.keys };
      }
      this.error(`${what} must be a list, { glob: PATTERN } or { config: KEY }; { table: NAME } gives a table's keys`, this.src.loc(node));
      return undefined;
    }
    this.error(`${what} must be a list, { glob: PATTERN } or { config: KEY }, not ${describeNode(node)}; { table: NAME } gives a table's keys`, this.src.loc(node));
    return undefined;
  }

  // ---- params, resources, env ----------------------------------------------

  private parseParams(rule: Rule, node: Node): void {
    if (!isMap(node)) {
      this.error(`'params' of rule '${rule.name}' must be a map of NAME: VALUE, not ${describeNode(node)}`, this.src.loc(node));
      return;
    }
    for (const e of this.src.entries(node)) {
      if (!IDENT.test(e.key)) {
        this.error(`param name '${e.key}' must be an identifier (letters, digits, '_')`, this.src.loc(e.keyNode));
        continue;
      }
      const v = this.src.resolve(e.value);
      const param: Param = { name: e.key, items: [], list: isSeq(v) };
      const nodes = isSeq(v) ? v.items.map((i) => this.src.resolve(i)) : [v];
      for (const n of nodes) {
        if (isScalar(n) && typeof n.value === 'string') {
          const t = this.templateFromText(rule, n, n.value, 'params');
          if (t) param.items.push(t);
        } else if (isScalar(n) && (typeof n.value === 'number' || typeof n.value === 'boolean')) {
          param.items.push(parseTemplate(String(n.value).replace(/[{}]/g, (c) => c + c)));
        } else if (isMap(n) || isSeq(n)) {
          param.items.push(parseTemplate(JSON.stringify(this.src.toValue(n)).replace(/[{}]/g, (c) => c + c)));
        } else {
          this.error(`param '${e.key}' of rule '${rule.name}' has no value`, this.src.loc(n ?? e.keyNode));
        }
      }
      rule.params.push(param);
    }
  }

  private parseResources(rule: Rule, node: Node): void {
    if (!isMap(node)) {
      this.error(`'resources' of rule '${rule.name}' must be a map of NAME: NUMBER, not ${describeNode(node)}`, this.src.loc(node));
      return;
    }
    for (const e of this.src.entries(node)) {
      const n = this.number(e.value, `resource '${e.key}' of rule '${rule.name}'`, e.keyNode);
      if (n === undefined) continue;
      if (n < 0 || (e.key === 'cpus' && !Number.isInteger(n))) {
        this.error(`resource '${e.key}' of rule '${rule.name}' must be ${e.key === 'cpus' ? 'a whole number' : 'a number'} >= 0`, this.src.loc(e.value));
        continue;
      }
      rule.resources.set(e.key, n);
      (rule.resourceLocs ??= new Map()).set(e.key, this.src.loc(e.keyNode));
    }
  }

  /** `slurm: { partition: P, account: A, extra: "--flag ..." or [--flag, ...] }`. */
  private parseSlurm(rule: Rule, node: Node): void {
    const keys = SLURM_KEYS;
    if (!isMap(node)) {
      this.error(`'slurm' of rule '${rule.name}' must be a map with keys ${keys.join(', ')}, not ${describeNode(node)}`, this.src.loc(node));
      return;
    }
    const slurm: NonNullable<Rule['slurm']> = { extra: [] };
    for (const e of this.src.entries(node)) {
      const what = `'slurm.${e.key}' of rule '${rule.name}'`;
      if (e.key === 'partition' || e.key === 'account') {
        const v = this.string(this.src.resolve(e.value), what, e.keyNode);
        if (v !== undefined) slurm[e.key] = v;
      } else if (e.key === 'extra') {
        const v = this.src.resolve(e.value);
        if (isSeq(v)) {
          for (const item of v.items) {
            const s = this.string(this.src.resolve(item as Node), what, e.keyNode);
            if (s !== undefined) slurm.extra.push(s);
          }
        } else {
          const s = this.string(v, what, e.keyNode);
          if (s !== undefined) slurm.extra.push(...s.split(/\s+/).filter(Boolean));
        }
      } else {
        this.error(`unknown key '${e.key}' in 'slurm' of rule '${rule.name}'${didYouMean(e.key, keys)}; allowed: ${keys.join(', ')}`, this.src.loc(e.keyNode));
      }
    }
    rule.slurm = slurm;
  }

  private parseEnv(rule: Rule, node: Node): void {
    if (!isMap(node)) {
      this.error(`'env' of rule '${rule.name}' must be a map of NAME: VALUE, not ${describeNode(node)}`, this.src.loc(node));
      return;
    }
    for (const e of this.src.entries(node)) {
      const v = this.src.resolve(e.value);
      if (!isScalar(v) || v.value === null || typeof v.value === 'object') {
        this.error(`env '${e.key}' of rule '${rule.name}' must be a string or number, not ${describeNode(v)}`, this.src.loc(v ?? e.keyNode));
        continue;
      }
      const text = typeof v.value === 'string' ? v.value : String(v.value).replace(/[{}]/g, (c) => c + c);
      const t = this.templateFromText(rule, v, text, 'env');
      if (t) rule.env.push({ name: e.key, value: t });
    }
  }
}

/**
 * Why a placeholder (not a wildcard, not config) may not stand in a `depfile`
 * template: only `{output}` and `{outputs.NAME}`, and only when they name one path.
 */
function depfilePlaceholderProblem(rule: Rule, ph: Placeholder, shown: string): string | undefined {
  const [head, ...rest] = ph.path;
  const where = `'depfile' of rule '${rule.name}'`;
  let count: number | undefined;
  if ((head === 'output' || head === 'outputs') && rest.length === 0) count = rule.outputs.length;
  else if (head === 'outputs' && rest.length === 1) {
    count = rule.outputs.filter((o) => o.name === rest[0]).length;
    const names = [...new Set(rule.outputs.flatMap((o) => (o.name ? [o.name] : [])))];
    if (count === 0) return `unknown placeholder '${shown}' in ${where}: no output named '${rest[0]}'${didYouMean(rest[0]!, names)}`;
  }
  if (count === undefined) return `unknown placeholder '${shown}' in ${where}: only wildcards, {output}, {outputs.NAME} and {config.KEY} are allowed here`;
  if (count !== 1) return `'${shown}' in ${where} stands for ${count} outputs: a depfile is one file; name one with {outputs.NAME}, or build the path from the wildcards`;
  return undefined;
}

/** The names (wildcards, expand names) whose values a lookup is keyed by. */
function lookupNames(lookup: Lookup): string[] {
  return lookup.kind === 'table' ? [lookup.table.key] : lookup.steps.flatMap((s) => ('name' in s ? [s.name] : []));
}

/**
 * The placeholders of a `run` template that stand inside shell quotes: any
 * inside single quotes, and those inside double quotes that hold one word
 * (`"{input}"`, `"--title={params.t}"`). A double-quoted text with spaces
 * is most likely a command handed on (`bash -c "sort {input}"`), where the
 * quoting is right. `{raw.…}` values are inserted as they are, and resource
 * values are numbers: neither is quoted twice.
 */
export function quotedPlaceholders(t: Template): { ph: Placeholder; quote: string }[] {
  const src = t.source;
  const at = new Map(t.placeholders.map((p) => [p.offset, p]));
  const out: { ph: Placeholder; quote: string }[] = [];
  let quote = '';
  let inside: Placeholder[] = [];
  let spaced = false;
  let wordStart = true;
  for (let i = 0; i < src.length; i++) {
    const ph = at.get(i);
    if (ph !== undefined) {
      if (quote !== '' && ph.path[0] !== 'raw' && ph.path[0] !== 'resources') inside.push(ph);
      i += ph.text.length + 1;
      wordStart = false;
      continue;
    }
    const c = src[i]!;
    if (quote === '') {
      if (c === '\\') i++;
      else if (c === '#' && wordStart) while (i + 1 < src.length && src[i + 1] !== '\n') i++;
      else if (c === "'" || c === '"') {
        quote = c;
        inside = [];
        spaced = false;
      }
      wordStart = /[\s;&|()<>]/.test(c);
    } else if (c === quote) {
      if (quote === "'" || !spaced) out.push(...inside.map((p) => ({ ph: p, quote })));
      quote = '';
      wordStart = false;
    } else if (quote === '"' && c === '\\') {
      i++;
    } else if (/\s/.test(c)) {
      spaced = true;
    }
  }
  return out;
}

/**
 * The text of a flow map whose keys all have no value (`{name}`, `{a, b}`):
 * what an unquoted template that is a placeholder alone becomes in YAML.
 */
function flowMapTemplate(src: SourceFile, node: unknown): string | undefined {
  if (!isMap(node) || !node.flow || node.items.length === 0 || !node.range) return undefined;
  if (!node.items.every((pair) => isScalar(pair.key) && isEmpty(pair.value))) return undefined;
  return src.text.slice(node.range[0], node.range[1]).trim();
}

/** A string scalar standing where `node` stands in the text. */
function asScalar(text: string, node: Node): Scalar {
  const scalar = new Scalar(text);
  if (node.range) scalar.range = node.range;
  return scalar;
}

/** Marks a problem that was reported already, at a place of its own. */
const REPORTED = '';

/** A scalar config value as a message names it. */
function describeValue(v: unknown): string {
  return v === null ? 'nothing (null)' : `the ${typeof v} ${JSON.stringify(v)}`;
}

/** A long text cut to a length that fits in a message. */
function shorten(s: string): string {
  return s.length <= 80 ? s : `${s.slice(0, 60)}... (${s.length} characters)`;
}

/** Names worth offering as 'did you mean' hints: none from a list too long to search for each mistake. */
function hintable(names: readonly string[] | ReadonlySet<string>): readonly string[] {
  const count = 'size' in names ? names.size : names.length;
  return count <= 100 ? [...names] : [];
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * The template of a directory output (`chunks/{sample}/`) without its one
 * trailing '/' (its source as written), or undefined for a file output.
 */
function directoryOutput(t: Template): Template | undefined {
  const last = t.parts[t.parts.length - 1];
  if (typeof last !== 'string' || !last.endsWith('/')) return undefined;
  const cut = last.slice(0, -1);
  const parts = cut === '' ? t.parts.slice(0, -1) : [...t.parts.slice(0, -1), cut];
  // `/` alone, or `./`: nothing left, which names the project root (refused as such).
  return { source: t.source, parts: parts.length > 0 ? parts : [''], placeholders: t.placeholders };
}

/** Compiles an output template into a matcher. */
export function compileOutput(t: Template, regexFor: Map<string, string>, loc: SourceLocation): OutputPattern {
  if (t.placeholders.length === 0) {
    // One spelling per file: `./a//b` is `a/b`, as every path the graph compares with it.
    const literal = normalizePath(literalText(t));
    return { template: t, literal, prefix: literal, suffix: literal, literalChars: literal.length, loc };
  }
  let re = '^';
  const seen = new Set<string>();
  let literalChars = 0;
  for (const p of t.parts) {
    if (typeof p === 'string') {
      re += escapeRegex(p);
      literalChars += p.length;
    } else {
      const name = p.path[0]!;
      if (seen.has(name)) re += `\\k<${name}>`;
      else re += `(?<${name}>${regexFor.get(name) ?? '[^/]+'})`;
      seen.add(name);
    }
  }
  re += '$';
  const first = t.parts[0];
  const last = t.parts[t.parts.length - 1];
  return {
    template: t,
    regex: new RegExp(re, 'u'),
    prefix: typeof first === 'string' ? first : '',
    suffix: typeof last === 'string' ? last : '',
    literalChars,
    loc,
  };
}
