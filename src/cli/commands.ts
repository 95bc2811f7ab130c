// The commands that look at a project without building it (graph, list,
// config, why, report), `rules clean` and `rules init`: each turns the command line into a request,
// hands it to the builder or a stage, and renders what comes back.

import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { plan } from '../build/builder.js';
import { openProject } from '../build/project.js';
import { formatConfigJson, formatConfigText } from '../report/config.js';
import { formatGraph, type GraphFormat } from '../report/graph.js';
import { implicitInputsByRule } from '../graph/build.js';
import { formatRuleList } from '../report/list.js';
import { RULEFILE_NAMES } from '../rulefile/find.js';
import { STARTER_RULEFILE } from '../rulefile/starter.js';
import { formatWhy } from '../report/why.js';
import { DiskFileSystem } from '../util/fs.js';
import { UserError } from '../util/errors.js';
import { canProduce } from '../graph/match.js';
import { flag, nearCommand, value, type ParsedArgs } from './args.js';
import { checkMode, projectRequest } from './options.js';
import { commandLineReport } from './reporters.js';
import { printDiagnostics, stderr, stdout } from './stdio.js';
import { version } from '../util/version.js';

export async function graphCommand(args: ParsedArgs): Promise<number> {
  const format = (value(args, 'format') ?? 'dot') as GraphFormat;
  if (!['dot', 'mermaid', 'json'].includes(format)) throw new UserError(`--format must be dot, mermaid or json, not '${format}'`);
  const outcome = await plan({
    project: projectRequest(args),
    targets: args.positionals,
    check: checkMode(args),
    force: flag(args, 'force'),
    report: commandLineReport(args, false),
  });
  if (outcome.exitCode === 0) stdout.write(formatGraph(outcome.plan!, format));
  printDiagnostics(outcome.diagnostics);
  return outcome.exitCode;
}

export function listCommand(args: ParsedArgs): number {
  const project = openProject(projectRequest(args), commandLineReport(args, false));
  stdout.write(formatRuleList(project, implicitInputsByRule(project, new DiskFileSystem(project.root))));
  return 0;
}

export function configCommand(args: ParsedArgs): number {
  const project = openProject(projectRequest(args), commandLineReport(args, false));
  stdout.write(flag(args, 'json') ? formatConfigJson(project.config) : formatConfigText(project.config));
  return 0;
}

export async function cleanCommand(args: ParsedArgs): Promise<number> {
  const { clean } = await import('../build/clean.js');
  const dryRun = flag(args, 'dry-run');
  const outcome = clean({ project: projectRequest(args), targets: args.positionals, dryRun, report: commandLineReport(args, false) });
  printDiagnostics(outcome.diagnostics);
  if (outcome.diagnostics.length > 0) return outcome.exitCode;
  const { paths, directories, trees } = outcome;
  for (const p of paths) stdout.write(`${dryRun ? 'would remove' : 'removed'} ${p}\n`);
  // A directory output is shown as declared, with its '/', and counted apart.
  for (const p of trees) stdout.write(`${dryRun ? 'would remove' : 'removed'} ${p}/\n`);
  const n = `${paths.length} file${paths.length === 1 ? '' : 's'}${trees.length === 0 ? '' : ` and ${trees.length} director${trees.length === 1 ? 'y' : 'ies'}`}`;
  for (const d of directories) stderr.write(`rules: not removing '${d}': it is a directory, not a file (a directory output is declared with a trailing '/')\n`);
  if (paths.length > 0 || trees.length > 0 || directories.length === 0) {
    stderr.write(paths.length + trees.length === 0 ? 'rules: nothing to clean\n' : `rules: ${dryRun ? 'would remove' : 'removed'} ${n}\n`);
  }
  return outcome.exitCode;
}

/** `rules init`: the starter Rulefile, written only where no Rulefile is (a Rulefile here would be found first). */
export function initCommand(args: ParsedArgs): number {
  if (args.positionals.length > 0) throw new UserError(`'rules init' takes no arguments (got '${args.positionals[0]}'); name the file with -f FILE`);
  const given = value(args, 'file');
  const names = given !== undefined ? [given] : RULEFILE_NAMES;
  const existing = names.find((n) => existsSync(resolve(n)));
  if (existing !== undefined) throw new UserError(`${existing} already exists; rules init writes a new Rulefile and never overwrites one`);
  const name = given ?? RULEFILE_NAMES[0]!;
  try {
    writeFileSync(resolve(name), STARTER_RULEFILE, { flag: 'wx' });
  } catch (e) {
    throw new UserError(`cannot write ${name}: ${(e as Error).message}`);
  }
  stderr.write(`rules: wrote ${name}; try 'rules build -n${given !== undefined ? ` -f ${given}` : ''}'\n`);
  return 0;
}

/** `rules why TARGET...` (SPEC §8): the chain of reasons from each target down to what changed. */
export async function whyCommand(args: ParsedArgs): Promise<number> {
  if (args.positionals.length === 0) throw new UserError(`'rules why' needs a target: rules why TARGET`);
  const outcome = await plan({ project: projectRequest(args), targets: args.positionals, check: checkMode(args), force: false, report: commandLineReport(args, false) });
  printDiagnostics(outcome.diagnostics);
  if (outcome.exitCode !== 0) return outcome.exitCode;
  const text = formatWhy(outcome.plan!, outcome.graph!.targets);
  stdout.write(text === '' ? 'nothing to do\n' : text);
  return 0;
}

/** The file `rules report` writes when not given -o. */
export const DEFAULT_REPORT = 'rules-report.html';

/**
 * `rules report [-o FILE]` (SPEC §9): the history of the last build and of
 * every rule as one HTML page. Its modules are loaded only here: no other
 * command pays for them.
 */
export async function reportCommand(args: ParsedArgs): Promise<number> {
  if (args.positionals.length > 0) throw new UserError(`'rules report' takes no targets (got '${args.positionals[0]}'); name the file with -o FILE`);
  const [{ readLastBuild, readRuleHistory }, { reportHtml }, { ruleGraph }, { defaultTargets }, { basename }] = await Promise.all([
    import('../state/history.js'),
    import('../report/html.js'),
    import('../graph/rulegraph.js'),
    import('../graph/build.js'),
    import('node:path'),
  ]);
  const project = openProject(projectRequest(args), commandLineReport(args, false));
  const build = readLastBuild(project.root);
  if (build === undefined) {
    throw new UserError(`no build to report: .rules/history/ has no record of a build that ran a job; run 'rules build' first`);
  }
  // The graph of rules of the default targets; one that cannot be made (no default target) leaves the rest of the report.
  let graph: Parameters<typeof reportHtml>[0]['graph'];
  try {
    graph = ruleGraph(project, defaultTargets(project), new DiskFileSystem(project.root));
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    graph = { problem: e.diagnostics[0]?.message ?? e.message };
  }
  const rules = project.rules.map((r) => {
    const mem = r.resources.get('mem_mb');
    const runtime = r.resources.get('runtime');
    return {
      name: r.name,
      cpus: r.resources.get('cpus') ?? 1,
      ...(mem !== undefined ? { memMb: mem } : {}),
      ...(runtime !== undefined ? { runtimeMin: runtime } : {}),
    };
  });
  const history = readRuleHistory(project.root);
  const html = reportHtml({ title: basename(project.rulefile), build, ...(history !== undefined ? { history } : {}), rules, graph, now: Date.now(), version: version() });
  const out = value(args, 'output') ?? DEFAULT_REPORT;
  try {
    writeFileSync(resolve(out), html);
  } catch (e) {
    throw new UserError(`cannot write ${out}: ${(e as Error).message}`);
  }
  const kb = Math.max(1, Math.round(Buffer.byteLength(html) / 1024));
  stderr.write(`rules: wrote ${out} (the build of ${new Date(build.startedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${build.jobs.length} job${build.jobs.length === 1 ? '' : 's'}; ${kb} KB)\n`);
  return 0;
}

/**
 * `rules WORD` builds target WORD; but a WORD close to a command name that is
 * no target either (no file, no rule name, no path a rule makes) is taken for
 * a mistyped command (`rules biuld`): exit 2 with the suggestion.
 */
export function checkMistypedCommand(args: ParsedArgs): void {
  const word = args.command!;
  const near = nearCommand(word);
  if (near === undefined || existsSync(word)) return;
  try {
    const project = openProject(projectRequest(args), { warn() {} });
    if (project.rulesByName.has(word) || canProduce(project, word)) return;
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    // No project to build: the word cannot be a target.
  }
  throw new UserError(`unknown command or target '${word}' (did you mean '${near}'?)`);
}
