// Command-line parsing: one table of flags, each command says which it takes.

import { UserError } from '../util/errors.js';
import { didYouMean, editDistance } from '../util/strings.js';

export interface FlagSpec {
  long: string;
  short?: string;
  /** Name of the value, for flags that take one. */
  value?: string;
  repeatable?: boolean;
  help: string;
}

export const FLAGS: Record<string, FlagSpec> = {
  file: { long: 'file', short: 'f', value: 'FILE', help: 'use FILE as the Rulefile (default: Rulefile, Rulefile.yaml or Rulefile.yml here)' },
  jobs: { long: 'jobs', short: 'j', value: 'N', help: 'run up to N job slots at once (default: number of CPUs)' },
  'keep-going': { long: 'keep-going', short: 'k', help: 'after a failure, go on building everything that does not depend on it' },
  'keep-temp': { long: 'keep-temp', help: 'keep temporary outputs (temp: in the Rulefile) instead of deleting them once no job needs them' },
  'dry-run': { long: 'dry-run', short: 'n', help: 'print what would run and why, in run order; run and write nothing' },
  force: { long: 'force', short: 'B', help: 'consider every job stale' },
  check: { long: 'check', value: 'hash|mtime', help: 'how changes are detected (default: hash)' },
  json: { long: 'json', help: 'with -n: print the plan as JSON; with config: print JSON' },
  watch: { long: 'watch', help: 'after building, watch inputs and rebuild on change (as rules watch)' },
  executor: { long: 'executor', value: 'local|slurm', help: 'where jobs run: local processes (default), or batch jobs on a SLURM cluster' },
  'slurm-partition': { long: 'slurm-partition', value: 'NAME', help: 'with --executor slurm: the partition for jobs whose rule names none' },
  'slurm-account': { long: 'slurm-account', value: 'NAME', help: 'with --executor slurm: the account for jobs whose rule names none' },
  'slurm-extra': { long: 'slurm-extra', value: 'FLAGS', repeatable: true, help: 'with --executor slurm: more sbatch flags for every job, e.g. "--qos=long"' },
  'slurm-output-wait': { long: 'slurm-output-wait', value: 'SECONDS', help: 'with --executor slurm: how long to wait for a finished job\'s outputs to appear (default: 30)' },
  resources: { long: 'resources', value: 'NAME=N,...', repeatable: true, help: 'limits for resources other than cpus, e.g. mem_mb=8000,gpu=1' },
  config: { long: 'config', value: 'KEY=VALUE', repeatable: true, help: 'set a config value (VALUE is YAML); overrides everything else' },
  configfile: { long: 'configfile', value: 'FILE', repeatable: true, help: 'YAML or JSON config overriding the Rulefile (later files win)' },
  'log-format': { long: 'log-format', value: 'text|json', help: 'json: structured events on stderr (default: text)' },
  quiet: { long: 'quiet', short: 'q', help: 'print only failures and job output' },
  verbose: { long: 'verbose', short: 'v', help: 'also print each job\'s reason and command as it starts' },
  format: { long: 'format', value: 'dot|mermaid|json', help: 'graph format (default: dot)' },
  question: { long: 'question', help: 'run and print nothing; exit 0 when every target is up to date, 1 when something would run' },
  'print-commands': { long: 'print-commands', short: 'p', help: 'with -n: print each job\'s command under its line, indented 4 spaces' },
  'force-rule': { long: 'force-rule', short: 'R', value: 'RULE', repeatable: true, help: 'every job of RULE is stale (forced), and what depends on them' },
  touch: { long: 'touch', help: 'record the stale jobs as if they had run (outputs\' mtimes set to now); run nothing' },
  trace: { long: 'trace', value: 'FILE', help: 'write the build as Chrome trace-event JSON to FILE (open it in Perfetto or chrome://tracing)' },
  output: { long: 'output', short: 'o', value: 'FILE', help: 'write to FILE' },
  directory: { long: 'directory', short: 'C', value: 'DIR', help: 'change to DIR before anything else (as make -C)' },
  help: { long: 'help', short: 'h', help: 'show help' },
  version: { long: 'version', help: 'print the version' },
};

export interface CommandSpec {
  name: string;
  args: string;
  summary: string;
  flags: string[];
  /** Help texts of flags that mean something particular for this command. */
  flagHelp?: Record<string, string>;
}

const CONFIG_FLAGS = ['file', 'config', 'configfile', 'directory'];
const SLURM_FLAGS = ['slurm-partition', 'slurm-account', 'slurm-extra', 'slurm-output-wait'];
/** SPEC §8: questioning and steering a build (not for watch, except -R). */
const STEERING_FLAGS = ['question', 'print-commands', 'force-rule', 'touch'];
const BUILD_FLAGS = ['jobs', 'keep-going', 'keep-temp', 'dry-run', 'force', 'check', 'json', 'watch', 'executor', ...SLURM_FLAGS, 'resources', ...CONFIG_FLAGS, 'log-format', 'quiet', 'verbose', ...STEERING_FLAGS, 'trace'];

export const COMMANDS: CommandSpec[] = [
  { name: 'build', args: '[TARGET...]', summary: 'bring targets up to date (default: `default:`, else the first rule)', flags: BUILD_FLAGS },
  { name: 'watch', args: '[TARGET...]', summary: 'build, then rebuild whenever an input changes, until Ctrl-C (= build --watch)', flags: BUILD_FLAGS.filter((f) => f !== 'watch' && f !== 'dry-run' && f !== 'json' && f !== 'question' && f !== 'print-commands' && f !== 'touch' && f !== 'trace') },
  { name: 'graph', args: '[TARGET...]', summary: 'print the job graph (stale jobs marked)', flags: ['format', 'force', 'check', ...CONFIG_FLAGS] },
  { name: 'list', args: '', summary: 'list rules with their descriptions, inputs and outputs', flags: CONFIG_FLAGS },
  {
    name: 'clean',
    args: '[TARGET...]',
    summary: 'delete outputs recorded in the build log (of the targets and everything upstream, or all)',
    flags: ['dry-run', ...CONFIG_FLAGS],
    flagHelp: { 'dry-run': 'show what would be deleted; delete nothing' },
  },
  {
    name: 'config',
    args: '',
    summary: 'print the effective configuration and where each value comes from',
    flags: ['json', ...CONFIG_FLAGS],
    flagHelp: { json: 'print the configuration and origins as JSON' },
  },
  {
    name: 'init',
    args: '',
    summary: 'write a commented starter Rulefile here (never over an existing one)',
    flags: ['file'],
    flagHelp: { file: 'write the starter to FILE instead of Rulefile' },
  },
  {
    name: 'report',
    args: '',
    summary: 'write the last build\'s timeline, each rule\'s times and memory, and the resources to ask for, as one HTML page',
    flags: ['output', ...CONFIG_FLAGS],
    flagHelp: { output: 'write the page to FILE (default: rules-report.html)' },
  },
  { name: 'why', args: 'TARGET...', summary: 'why TARGET would be built: the chain of reasons down to what changed', flags: ['check', ...CONFIG_FLAGS] },
  { name: 'help', args: '[COMMAND]', summary: 'show the help of rules, or of COMMAND (= --help)', flags: [] },
  { name: 'completion', args: 'bash|zsh|fish', summary: 'print a shell completion script: source <(rules completion bash)', flags: [] },
];

/** The command `word` is likely a mistyping of (a letter or two off, two letters swapped), if any. */
export function nearCommand(word: string): string | undefined {
  let best: string | undefined;
  let distance = Infinity;
  for (const c of COMMANDS) {
    const d = editDistance(word.toLowerCase(), c.name);
    if (d < distance) [best, distance] = [c.name, d];
  }
  return distance <= Math.min(2, Math.max(1, word.length - 2)) ? best : undefined;
}

export interface ParsedArgs {
  command?: string;
  positionals: string[];
  /** Flag long name → values (booleans get ['true']). */
  flags: Map<string, string[]>;
}

const byShort = new Map(Object.values(FLAGS).flatMap((f) => (f.short ? [[f.short, f] as const] : [])));

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const out: ParsedArgs = { positionals: [], flags: new Map() };
  const set = (spec: FlagSpec, value: string) => {
    const list = out.flags.get(spec.long) ?? [];
    if (!spec.repeatable) list.length = 0;
    list.push(value);
    out.flags.set(spec.long, list);
  };
  let onlyPositionals = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (onlyPositionals || arg === '-' || !arg.startsWith('-')) {
      if (out.command === undefined && !onlyPositionals) out.command = arg;
      else out.positionals.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositionals = true;
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const spec = FLAGS[name];
      if (!spec) throw new UserError(`unknown option '--${name}'${didYouMean(name, Object.keys(FLAGS)).replace(/'([^']+)'\?\)$/, "'--$1'?)")}; see 'rules --help'`);
      if (spec.value === undefined) {
        if (eq >= 0) throw new UserError(`option '--${name}' takes no value`);
        set(spec, 'true');
      } else if (eq >= 0) {
        set(spec, arg.slice(eq + 1));
      } else {
        if (i + 1 >= argv.length) throw new UserError(`option '--${name}' needs a value (${spec.value})`);
        set(spec, argv[++i]!);
      }
      continue;
    }
    // Short flags: -k, -j4, -j 4, -kn.
    for (let k = 1; k < arg.length; k++) {
      const spec = byShort.get(arg[k]!);
      if (!spec) throw new UserError(`unknown option '-${arg[k]}' in '${arg}'; see 'rules --help'`);
      if (spec.value === undefined) {
        set(spec, 'true');
        continue;
      }
      const rest = arg.slice(k + 1);
      if (rest) set(spec, rest);
      else if (i + 1 < argv.length) set(spec, argv[++i]!);
      else throw new UserError(`option '-${spec.short}' needs a value (${spec.value})`);
      break;
    }
  }
  return out;
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.flags.has(name);
}

export function value(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return v?.[v.length - 1];
}

export function values(args: ParsedArgs, name: string): string[] {
  return args.flags.get(name) ?? [];
}

function flagLine(f: FlagSpec, help = f.help): string {
  const names = f.short ? `-${f.short}, --${f.long}` : `    --${f.long}`;
  return row(names + (f.value ? ` ${f.value}` : ''), help);
}

/** A line of a table in the help: a name, and its description in a column beside it (laid out by `layoutHelp`). */
function row(name: string, help: string): string {
  return `  ${name}\t${help}`;
}

/** The width help is laid out for: the terminal's, else 80 columns. */
export function helpWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  return stream.isTTY === true && stream.columns !== undefined && stream.columns > 0 ? Math.max(40, stream.columns) : 80;
}

/** Widest name column: a longer name has its description start on the next line. */
const MAX_NAME_COLUMN = 36;

/** Narrowest description column beside names: on a narrower terminal, descriptions go under their names. */
const MIN_HELP_COLUMN = 24;

/**
 * Lays out help for `width` columns: the lines of a table (made by `row`)
 * with their descriptions aligned in one column and wrapped under it;
 * other runs of lines joined into paragraphs and wrapped.
 */
export function layoutHelp(lines: readonly string[], width: number): string {
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.includes('\t')) {
      const table: [string, string][] = [];
      for (; i < lines.length && lines[i]!.includes('\t'); i++) {
        const [name, help] = lines[i]!.split('\t') as [string, string];
        table.push([name, help]);
      }
      const column = Math.min(MAX_NAME_COLUMN, Math.max(...table.map(([name]) => name.length)) + 2);
      const beside = width - column >= MIN_HELP_COLUMN;
      for (const [name, help] of table) {
        if (!beside) {
          out.push(name, ...wrap(help, width - 8).map((l) => `        ${l}`));
          continue;
        }
        const [first = '', ...rest] = wrap(help, width - column);
        const pad = ' '.repeat(column);
        if (name.length + 1 > column) out.push(name, `${pad}${first}`);
        else out.push(`${name.padEnd(column)}${first}`);
        for (const l of rest) out.push(`${pad}${l}`);
      }
      continue;
    }
    if (line === '') {
      out.push('');
      i++;
      continue;
    }
    // A paragraph: the lines up to a blank line or a table; a heading (ending in ':') stands alone.
    const para: string[] = [];
    for (; i < lines.length && lines[i] !== '' && !lines[i]!.includes('\t'); i++) {
      para.push(lines[i]!);
      if (lines[i]!.endsWith(':')) {
        i++;
        break;
      }
    }
    out.push(...wrap(para.join(' '), width));
  }
  return out.join('\n');
}

/** Words of a text in lines of at most `width` characters (a longer word has a line of its own). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (word === '') continue;
    if (line !== '' && line.length + 1 + word.length > width - 1) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines;
}

export function mainHelp(version: string, width = helpWidth()): string {
  return layoutHelp([
    `rules ${version}: a declarative rule engine for file-based pipelines`,
    '',
    'Usage: rules [COMMAND] [OPTIONS] [TARGET...]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => row(c.name, c.summary)),
    '',
    'With no command (or with targets only), `rules` builds. `rules COMMAND --help` lists the options of a command.',
    '',
    'Options of build, the default command:',
    ...[...BUILD_FLAGS, 'help', 'version'].map((n) => flagLine(FLAGS[n]!)),
    '',
    'Other commands add: --format dot|mermaid|json (graph), -o FILE (report).',
    '',
    'Exit status: 0 success or nothing to do, 1 a job failed (with --question: something would run),',
    '2 the command could not start (usage, Rulefile or graph error, missing source), 130 interrupted,',
    '141 our output was closed (`rules build | head -1`).',
    '',
  ], width);
}

export function commandHelp(cmd: CommandSpec, width = helpWidth()): string {
  return layoutHelp([
    `Usage: rules ${cmd.name}${cmd.flags.length ? ' [OPTIONS]' : ''}${cmd.args ? ' ' + cmd.args : ''}`,
    '',
    cmd.summary.charAt(0).toUpperCase() + cmd.summary.slice(1) + '.',
    '',
    'Options:',
    ...[...cmd.flags, 'help'].map((n) => flagLine(FLAGS[n]!, cmd.flagHelp?.[n])),
    '',
  ], width);
}
