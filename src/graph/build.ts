// Resolves targets through the rules into the job DAG. Iterative (a work
// queue, no recursion) and linear in the number of jobs and paths.

import type { InputItem, Project, Rule } from '../rulefile/model.js';
import { lookupWords, missingLookup, pathValue, type NameValues } from '../rulefile/lookup.js';
import { renderTemplate, type Placeholder, type Template } from '../rulefile/template.js';
import { UserError, type Diagnostic, type SourceLocation } from '../util/errors.js';
import type { FileSystem } from '../util/fs.js';
import { glob, globBase, globReachesInto, skippedMessage, type SkippedEntry } from '../util/glob.js';
import { nameProblem, normalizePath, showPath, writablePathProblem } from '../util/paths.js';
import { compareCodePoints, suggest } from '../util/strings.js';
import { findCycle, findCycleFrom } from './cycle.js';
import { OutputIndex } from './match.js';
import { jobLabel, type Graph, type Growth, type Job, type PendingGlob, type ScriptRun } from './model.js';
import { interpreterByExtension, interpreterByShebang, noInterpreterMessage, SHEBANG_BYTES } from './script.js';
import { finalTempWarnings, tempPaths } from './temp.js';

const NO_NAMES: Map<string, string[]> = new Map();
/** Shared by the many jobs without order-only inputs (never pushed to: a job with some gets a list of its own). */
const NO_PATHS = Object.freeze([]) as unknown as string[];
/** Shared by the many jobs that need no job (sources only), or that no job needs, until one does (`added`). */
const NO_JOBS = Object.freeze([]) as unknown as Job[];

/**
 * `list` without the room to grow that an array filled by `push` keeps (16
 * slots at the first push, 136 bytes): most jobs have one or two inputs and
 * deps, and in a graph of a million jobs that room was a quarter of its memory.
 * The copy is made while the pushed array is young, which costs little. A
 * list of one is made as such (`added`).
 */
function exact<T>(list: T[]): T[] {
  return list.length > 1 && list.length <= 16 ? list.slice() : list;
}

/** `list` with `item` added: the shared empty list (NO_PATHS, NO_JOBS) gives way to a list of one of its own. */
function added<T>(list: T[], item: T): T[] {
  if ((list as unknown) === NO_PATHS || (list as unknown) === NO_JOBS) return [item];
  list.push(item);
  return list;
}

/** Tells `dep` that `job` needs it. */
function addDependent(dep: Job, job: Job): void {
  // A shared list (see linkDependents) is copied, never added to.
  if (Object.isFrozen(dep.dependents)) dep.dependents = [...dep.dependents, job];
  else dep.dependents.push(job);
}

/**
 * Fills every job's `dependents`, in job order, each list of its exact length
 * (counted first: a list grown by `push` would keep room to spare, see `exact`).
 * The jobs needed by one job only share one list of it, frozen: the million
 * jobs an `all` gathers need no million lists.
 */
function linkDependents(jobs: readonly Job[]): void {
  const left = new Uint32Array(jobs.length);
  // By index: a loop run once over a million jobs may run before it is optimized, and `for...of` then allocates at each step.
  for (let i = 0; i < jobs.length; i++) {
    const deps = jobs[i]!.deps;
    for (let k = 0; k < deps.length; k++) left[deps[k]!.id]!++;
  }
  for (let i = 0; i < jobs.length; i++) {
    const job = jobs[i]!;
    const deps = job.deps;
    let alone: Job[] | undefined;
    for (let k = 0; k < deps.length; k++) {
      const d = deps[k]!;
      let list = d.dependents;
      if (list === NO_JOBS) {
        if (left[d.id] === 1) {
          d.dependents = alone ??= Object.freeze([job]) as unknown as Job[];
          continue;
        }
        d.dependents = list = new Array<Job>(left[d.id]!);
      }
      list[list.length - left[d.id]!--] = job;
    }
  }
}

/** A rule applied to its own outputs this many times in a row is taken as an endless chain. */
const MAX_SELF_CHAIN = 100;

/** Problems listed at most when the graph cannot be built; one more line says how many were left out. */
export const MAX_GRAPH_PROBLEMS = 20;

/**
 * `boundary` (the incremental shortcut, build/shortcut.ts): paths made by jobs
 * known to be up to date, or sources, which are taken as sources without
 * resolving them or looking at the disk, so that only the jobs that need
 * deciding are built.
 */
export function buildGraph(project: Project, targets: readonly string[], fs: FileSystem, boundary?: (path: string) => boolean): Graph {
  return new GraphBuilder(project, fs, boundary).build(targets);
}

/** The graph with every pending glob (SPEC §7) matched against the disk as it is now, as if the jobs it waits for were up to date. */
export function growAll(graph: Graph): Graph {
  if (graph.grow === undefined) return graph;
  for (let i = 0; i < graph.jobs.length; i++) if (graph.jobs[i]!.pending !== undefined) graph.grow(graph.jobs[i]!);
  return graph;
}

/** The targets of a bare `rules build`: `default`, else the first rule. */
export function defaultTargets(project: Project): string[] {
  if (project.defaultTargets && project.defaultTargets.length > 0) return project.defaultTargets;
  // The Rulefile's own first rule: one from an included file never becomes the default,
  // wherever `include` stands (SPEC §1).
  const first = project.rules.find((r) => r.loc.file === project.rulefile);
  if (first === undefined) {
    throw new UserError(`no target given, and ${project.rulefile} has no rules of its own (its rules all come from included files); name a target, or set 'default:' in the Rulefile`);
  }
  if (!first.phony && first.wildcards.length > 0) {
    throw new UserError(`no target given, and the first rule '${first.name}' has wildcards; name a target, or set 'default:' in the Rulefile`);
  }
  return [first.name];
}

/** What a rule declares for the job that makes `path`: its outputs (those that are directory outputs too) and log, or undefined if no rule makes it. */
export function declaredFor(index: OutputIndex, path: string): { outputs: string[]; directories?: string[]; log?: string } | undefined {
  let match;
  try {
    match = index.match(path);
  } catch {
    return undefined; // ambiguous: no single rule declares it
  }
  if (!match) return undefined;
  const { rule, wildcards } = match;
  const outputs = rule.outputs.map((o) => normalizePath(o.literal ?? renderTemplate(o.template, (p) => wildcards[p.path[0]!]!)));
  // A path no job may write is declared by no rule, whatever the build log says.
  if (outputs.some((o) => writablePathProblem(o) !== undefined)) return undefined;
  const log = rule.log && normalizePath(renderTemplate(rule.log, (p) => pathValue(p, wildcards)));
  const declared: { outputs: string[]; directories?: string[]; log?: string } = { outputs };
  if (log !== undefined && writablePathProblem(log) === undefined) declared.log = log;
  if (index.hasDirectories) {
    const directories = outputs.filter((_, i) => rule.outputs[i]!.directory === true);
    if (directories.length > 0) declared.directories = directories;
  }
  return declared;
}

export { normalizePath } from '../util/paths.js';

/** The depfile of `rule`'s job for `wildcards` and `outputs` (the rule has one). */
function depfilePath(rule: Rule, wildcards: Record<string, string>, outputs: string[]): string {
  return normalizePath(
    renderTemplate(rule.depfile!, (p) => {
      const [head, ...rest] = p.path;
      // The loader lets {output} and {outputs.NAME} stand only for one path.
      if (head === 'output' || head === 'outputs') return outputs[rest.length === 0 ? 0 : rule.outputs.findIndex((o) => o.name === rest[0])]!;
      return wildcards[p.path[p.path.length - 1]!]!;
    }),
  );
}

/** Each rule's implicit inputs (SPEC §6) as a build would find them now: for `rules list`. */
export function implicitInputsByRule(project: Project, fs: FileSystem): Map<Rule, readonly string[]> {
  const builder = new GraphBuilder(project, fs);
  return new Map(project.rules.map((r) => [r, builder.implicitPaths(r)]));
}

class GraphBuilder {
  private readonly index: OutputIndex;
  private readonly jobs: Job[] = [];
  /** Path → producing job, or null for a source. */
  private readonly resolved = new Map<string, Job | null>();
  private readonly phonyJobs = new Map<Rule, Job>();
  private readonly sources: string[] = [];
  /** The next job of `jobs` to expand: jobs are expanded in the order they are made. */
  private queueAt = 0;
  /** The job whose pending globs are being resolved (SPEC §7): its globs are matched now. */
  private growing: Job | undefined;
  private anyPending = false;
  private readonly waitedDirs = new Set<string>();
  /** Globs starting above some directory output (a star for the directory, over `chunks/{s}/`): settled once the graph's jobs are known. */
  private broad: { job: Job; pattern: string; base: string }[] = [];
  /** The literal start of each directory output of the rules (`chunks/` for `chunks/{s}/`), for a cheap first test. */
  private dirStarts: string[] | undefined;
  /** Jobs whose deps can no longer change (nothing upstream of them is pending): no cycle search enters them again. */
  private readonly settled = new Set<Job>();
  /** By job id: how many times in a row the job's rule made the input of its own job. */
  private readonly selfChain = new PerJob();
  /** By job id: the id (plus one) of the last job that took it as a dep (dedupes deps without a set). */
  private readonly depOf = new PerJob();
  private readonly globCache = new Map<string, string[]>();
  private readonly problems: Diagnostic[] = [];
  private readonly warnings: Diagnostic[] = [];
  /** Paths a glob skipped, each warned about once. */
  private readonly skipped = new Set<string>();
  /** Jobs with a `depfile`, checked once the whole graph is known. */
  private readonly depfileJobs: Job[] = [];
  /** The paths the job being expanded lists so far. */
  private readonly seen = new PathsSeen();
  /** Each rule's implicit inputs (SPEC §6), decided once per rule per build. */
  private readonly implicitByRule = new Map<Rule, RuleImplicit>();
  private readonly absentWords = new Map<Rule, string[]>();
  /** The Rulefile, its includes and config files, relative to the root: the project, never a job's input. */
  private projectFiles: Set<string> | undefined;

  constructor(
    private readonly project: Project,
    private readonly fs: FileSystem,
    private readonly boundary?: (path: string) => boolean,
  ) {
    this.index = new OutputIndex(project.rules);
  }

  build(targetNames: readonly string[]): Graph {
    const targets: Job[] = [];
    for (const t of targetNames) {
      const job = this.resolveTarget(t);
      if (job && !targets.includes(job)) targets.push(job);
    }
    this.drain();
    this.settleBroad();
    if (this.depfileJobs.length > 0) this.checkDepfiles();
    if (this.problems.length > 0) throw new UserError(capProblems(this.problems));
    linkDependents(this.jobs);
    const graph: Graph = { jobs: this.jobs, targets, sources: this.sources, producers: this.resolved, globs: this.globCache, warnings: this.warnings };
    if (this.absentWords.size > 0) graph.absentWords = this.absentWords;
    const cycle = findCycle(graph);
    if (cycle) throw new UserError(`dependency cycle: ${cycle.join(' -> ')}`);
    if (this.anyPending) {
      graph.grow = (job) => this.grow(job, graph);
      graph.waitedDirs = this.waitedDirs;
    }
    // After the waited directories are known: a temporary one is kept too.
    if (this.project.rules.some((r) => r.temp !== undefined)) this.warnings.push(...finalTempWarnings(graph));
    return graph;
  }

  /** Breadth-first: jobs are numbered in the order their inputs are declared. */
  private drain(): void {
    while (this.queueAt < this.jobs.length) this.expand(this.jobs[this.queueAt++]!);
  }

  /**
   * Resolves `job`'s pending globs against the disk as it is now (their
   * producers have run, or are up to date), then the jobs the new inputs
   * need, as the first build did. Problems and cycles are thrown as the first
   * build throws them.
   */
  private grow(job: Job, graph: Graph): Growth {
    const pending = job.pending;
    if (pending === undefined) return { globs: [], added: [] };
    this.problems.length = 0;
    const firstNew = this.jobs.length;
    const depsBefore = job.deps.length;
    delete job.pending;
    const rule = job.rule;
    this.expandAgain(job);
    this.drain();
    this.settleBroad();
    const added = this.jobs.slice(firstNew);
    if (added.some((j) => j.depfile !== undefined)) this.checkDepfiles();
    if (this.problems.length > 0) throw new UserError(capProblems(this.problems));
    for (const n of added) for (const d of n.deps) addDependent(d, n);
    for (let i = depsBefore; i < job.deps.length; i++) addDependent(job.deps[i]!, job);
    const cycle = findCycleFrom(graph, [job, ...added], this.settled);
    if (cycle) throw new UserError(`dependency cycle (once rule '${rule.name}' saw what ${pending[0]!.producer.label} made): ${cycle.join(' -> ')}`);
    // A glob waiting for several directories is said once.
    const globs = pending.filter((g, i) => pending.findIndex((h) => h.pattern === g.pattern) === i);
    return { globs: globs.map((g) => ({ ...g, matches: this.globCache.get(g.pattern)?.length ?? 0 })), added };
  }

  /** Works out `job`'s inputs again, its globs matched now; its deps stay, each once. */
  private expandAgain(job: Job): void {
    for (const d of job.deps) this.depOf.set(d.id, job.id + 1);
    if (job.namedInputs !== NO_NAMES) job.namedInputs = new Map();
    job.implicitInputs = NO_PATHS;
    this.growing = job;
    try {
      this.expand(job);
    } finally {
      this.growing = undefined;
    }
  }

  /**
   * Each glob starting above directory outputs waits for every job of the
   * graph making a directory it can match inside; one that can match inside
   * none is matched now (and the jobs it needs are added).
   */
  private settleBroad(): void {
    while (this.broad.length > 0) {
      const list = this.broad;
      this.broad = [];
      const makers = this.jobs.filter((j) => j.dirOutputs !== undefined);
      const now: Job[] = [];
      for (const { job, pattern, base } of list) {
        let waits = false;
        for (const p of makers) {
          if (p === job) continue;
          for (const d of p.dirOutputs!) {
            if ((base !== '' && !d.startsWith(`${base}/`)) || !globReachesInto(pattern, d)) continue;
            (job.pending ??= []).push({ pattern, dir: d, producer: p });
            this.waitedDirs.add(d);
            if (!job.deps.includes(p)) job.deps = added(job.deps, p);
            waits = true;
          }
        }
        if (!waits && !now.includes(job)) now.push(job);
      }
      for (const job of now) {
        if (job.pending !== undefined) continue; // it waits for another glob: all are matched when it grows
        this.expandAgain(job);
      }
      this.drain();
    }
  }

  /**
   * Whether glob `pattern` of `job` looks inside another job's directory
   * output (SPEC §7): then it waits for that job, as a pending glob, and
   * matches nothing yet.
   */
  private defers(pattern: string, job: Job, loc: SourceLocation): boolean {
    if (!this.index.hasDirectories || this.growing === job) return false;
    const base = globBase(pattern);
    const dir = this.directoryAround(base);
    if (dir === undefined) return this.defersBroadly(pattern, base, job);
    const producer = this.resolvePath(dir, job, this.selfChain.get(job.id), loc);
    if (!producer || producer === job) return false;
    (job.pending ??= []).push({ pattern, dir, producer });
    this.anyPending = true;
    this.waitedDirs.add(dir);
    return true;
  }

  /** Whether a glob starting at `base`, above any directory output, may match inside one: it is settled once the graph is known. */
  private defersBroadly(pattern: string, base: string, job: Job): boolean {
    if (!pattern.includes('/')) return false;
    this.dirStarts ??= this.project.rules.flatMap((r) => r.outputs.filter((o) => o.directory).map((o) => o.literal ?? o.prefix));
    const start = base === '' ? '' : `${base}/`;
    if (!this.dirStarts.some((d) => d.startsWith(start) || start.startsWith(d))) return false;
    this.broad.push({ job, pattern, base });
    this.anyPending = true;
    return true;
  }

  /** The directory output that is `base` or holds it, if a rule makes one. */
  private directoryAround(base: string): string | undefined {
    if (base === '') return undefined;
    try {
      const m = this.index.match(base);
      if (m) return m.output.directory ? base : undefined;
      return this.index.matchInside(base)?.dir;
    } catch {
      return undefined; // ambiguous: told when the path itself is resolved
    }
  }

  private resolveTarget(target: string): Job | undefined {
    const rule = this.project.rulesByName.get(target);
    if (rule && rule.phony) return this.phonyJob(rule);
    if (rule && rule.wildcards.length === 0) return this.resolvePath(rule.outputs[0]!.literal!, undefined, undefined) ?? undefined;
    const path = normalizePath(target);
    const problem = nameProblem(path);
    if (problem !== undefined) {
      this.problems.push({ message: `target '${showPath(target)}' ${problem}` });
      return undefined;
    }
    const job = this.resolvePath(path, undefined, undefined);
    if (job === null && rule && !this.fs.exists(path)) {
      this.problems.length = 0;
      throw new UserError(
        `rule '${target}' has wildcards, so it cannot be built by name; name one of its outputs (e.g. '${rule.outputs[0]!.template.source}' with the wildcards filled in)`,
      );
    }
    if (job === null && !path.includes('/') && !this.fs.exists(path)) {
      // A mistyped rule name is a likelier explanation than a missing file.
      const named = this.project.rules.filter((r) => r.phony || r.wildcards.length === 0).map((r) => r.name);
      const near = suggest(target, named);
      if (near !== undefined) this.problems.push({ message: `did you mean the rule '${near}'?` });
    }
    return job ?? undefined;
  }

  private phonyJob(rule: Rule): Job {
    let job = this.phonyJobs.get(rule);
    if (!job) {
      job = this.newJob(rule, {}, [], NO_NAMES);
      this.phonyJobs.set(rule, job);
      this.resolved.set(rule.name, job);
    }
    return job;
  }

  /**
   * The job making `path`, or null for a source (which must exist). `at` is the
   * input entry of `neededBy`'s rule that asked for the path.
   */
  private resolvePath(path: string, neededBy: Job | undefined, parentChain: number | undefined, at?: SourceLocation): Job | null {
    const known = this.resolved.get(path);
    if (known !== undefined) return known;
    if (this.boundary?.(path) === true) {
      // Made by a job known to be up to date (or a source): it exists, and its job is not needed.
      this.resolved.set(path, null);
      this.sources.push(path);
      return null;
    }
    let match;
    try {
      match = this.index.match(path);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      this.problems.push(...e.diagnostics);
      this.resolved.set(path, null);
      return null;
    }
    if (!match) {
      const phony = !path.includes('/') ? this.project.rulesByName.get(path) : undefined;
      if (phony?.phony) return this.phonyJob(phony);
      // A path inside a directory output is made by that output's job, never a source.
      let inside;
      try {
        inside = this.index.matchInside(path);
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        this.problems.push(...e.diagnostics);
      }
      if (inside !== undefined) {
        const job = this.resolvePath(inside.dir, neededBy, parentChain, at);
        this.resolved.set(path, job);
        return job;
      }
      this.resolved.set(path, null);
      this.sources.push(path);
      if (!this.fs.exists(path)) {
        const message = neededBy ? `no rule to make '${path}' (needed by '${neededBy.name}')` : `no rule to make '${path}'`;
        this.problems.push(at ? { message, loc: at } : { message });
      }
      return null;
    }
    const { rule, wildcards } = match;
    // The path matched its rule's only output: that output is the path itself.
    const outputs =
      rule.outputs.length === 1 ? [path] : rule.outputs.map((o) => normalizePath(o.literal ?? renderTemplate(o.template, (p) => wildcards[p.path[0]!]!)));
    // The same job may be reached through another of its outputs.
    let job = outputs.length > 1 ? this.resolved.get(outputs[0]!) : undefined;
    /** Whether `path` is set to its job already (one map operation per path, not three: a graph has millions). */
    let set = false;
    if (!job || job.rule !== rule) {
      if (!this.writable(rule, wildcards, outputs, neededBy)) {
        this.resolved.set(path, null);
        return null;
      }
      let named = NO_NAMES;
      for (let i = 0; i < rule.outputs.length; i++) {
        const name = rule.outputs[i]!.name;
        if (name === undefined) continue;
        if (named === NO_NAMES) named = new Map();
        named.set(name, [...(named.get(name) ?? []), outputs[i]!]);
      }
      job = this.newJob(rule, wildcards, outputs, named);
      for (const o of outputs) {
        // `path` itself was not known (above).
        if (o !== path && this.resolved.has(o)) continue;
        this.resolved.set(o, job);
        if (o === path) set = true;
      }
      const chain = neededBy && neededBy.rule === rule ? (parentChain ?? 0) + 1 : 0;
      this.selfChain.set(job.id, chain);
      if (chain > MAX_SELF_CHAIN) {
        throw new UserError(
          `rule '${rule.name}' keeps needing its own outputs (… -> ${neededBy!.name} -> ${path}); make its output pattern more specific, e.g. with {name,REGEX}`,
        );
      }
    }
    if (!set) this.resolved.set(path, job);
    return job;
  }

  /**
   * Whether every output and the log of `rule`'s job for `wildcards` is a file
   * strictly inside the root; if not, says which and where the rule declares it.
   */
  private writable(rule: Rule, wildcards: Record<string, string>, outputs: string[], neededBy: Job | undefined): boolean {
    // Called for every new job: no closure, and the words of a message only when there is one.
    let ok = true;
    for (let i = 0; i < outputs.length; i++) {
      const problem = writablePathProblem(outputs[i]!);
      if (problem === undefined) continue;
      const o = rule.outputs[i]!;
      this.refuse(rule, wildcards, neededBy, `output '${showPath(o.template.source)}'`, outputs[i]!, problem, o.loc);
      ok = false;
    }
    if (rule.log) {
      const log = normalizePath(renderTemplate(rule.log, (p) => pathValue(p, wildcards)));
      const problem = writablePathProblem(log);
      if (problem !== undefined) {
        this.refuse(rule, wildcards, neededBy, `log '${showPath(rule.log.source)}'`, log, problem, rule.logLoc);
        ok = false;
      }
    }
    if (rule.depfile) {
      const depfile = depfilePath(rule, wildcards, outputs);
      const problem = writablePathProblem(depfile);
      if (problem !== undefined) {
        this.refuse(rule, wildcards, neededBy, `depfile '${showPath(rule.depfile.source)}'`, depfile, problem, rule.depfileLoc);
        ok = false;
      }
    }
    return ok;
  }

  /** Tells that the job of `rule` for `wildcards` may not write `path` (`what` it is to the job), and where the rule says so. */
  private refuse(rule: Rule, wildcards: Record<string, string>, neededBy: Job | undefined, what: string, path: string, problem: string, loc: SourceLocation | undefined): void {
    const needed = neededBy ? ` (needed by '${neededBy.name}')` : '';
    const message = `${what} of rule '${rule.name}' is '${showPath(path)}' for ${jobLabel(rule, wildcards)}${needed}, which ${problem}`;
    this.problems.push(loc ? { message, loc } : { message });
  }

  private newJob(rule: Rule, wildcards: Record<string, string>, outputs: string[], namedOutputs: Map<string, string[]>): Job {
    let namedInputs = NO_NAMES;
    for (let i = 0; i < rule.inputs.length && namedInputs === NO_NAMES; i++) if (rule.inputs[i]!.name !== undefined) namedInputs = new Map();
    const job = new GraphJob(this.jobs.length, rule, wildcards, outputs, namedOutputs, namedInputs, outputs[0] ?? rule.name);
    if (rule.lookups !== undefined) this.checkLookups(job);
    if (rule.log) job.log = normalizePath(renderTemplate(rule.log, (p) => pathValue(p, wildcards)));
    if (this.index.hasDirectories) {
      let dirs: Set<string> | undefined;
      rule.outputs.forEach((o, i) => o.directory && (dirs ??= new Set()).add(outputs[i]!));
      if (dirs !== undefined) job.dirOutputs = dirs;
    }
    if (rule.temp !== undefined) job.tempOutputs = tempPaths(rule, outputs);
    if (rule.depfile) {
      job.depfile = depfilePath(rule, wildcards, outputs);
      this.depfileJobs.push(job);
    }
    this.jobs.push(job);
    return job;
  }

  /**
   * A depfile is deleted after it is read, so it must never be a user's file:
   * not an input or an output of any job, nor a log, nor another job's depfile.
   */
  private checkDepfiles(): void {
    const logs = new Map<string, Job>();
    for (const job of this.jobs) if (job.log !== undefined) logs.set(job.log, job);
    const owners = new Map<string, Job>();
    for (const job of this.depfileJobs) {
      const path = job.depfile!;
      const clash = this.depfileClash(path, logs, owners);
      owners.set(path, job);
      if (clash === undefined) continue;
      const rule = job.rule;
      const message = `depfile '${showPath(rule.depfile!.source)}' of rule '${rule.name}' is '${showPath(path)}' for ${job.label}, which is ${clash}: a depfile is deleted after it is read, so it must be a file of its own`;
      this.problems.push(rule.depfileLoc ? { message, loc: rule.depfileLoc } : { message });
    }
  }

  /** What else `path` is, if anything (an output, an input, a log, another job's depfile). */
  private depfileClash(path: string, logs: Map<string, Job>, owners: Map<string, Job>): string | undefined {
    try {
      const made = this.index.match(path);
      if (made) return `an output of rule '${made.rule.name}'`;
    } catch {
      return 'an output of several rules';
    }
    if (this.resolved.has(path)) {
      const user = this.jobs.find((j) => j.inputs.includes(path) || j.orderOnly.includes(path));
      return `an input of ${user?.label ?? 'a job'}`;
    }
    if (logs.has(path)) return `the log of ${logs.get(path)!.label}`;
    if (owners.has(path)) return `the depfile of ${owners.get(path)!.label} too`;
    return undefined;
  }

  /**
   * Works out a job's inputs and resolves each to its producer. Its deps stay
   * (a job expanded again keeps them); its lists are kept at their exact length.
   */
  private expand(job: Job): void {
    const depsBefore = job.deps.length;
    job.inputs = NO_PATHS;
    job.orderOnly = NO_PATHS;
    this.seen.start(job);
    this.expandInto(job);
    job.inputs = exact(job.inputs);
    job.orderOnly = exact(job.orderOnly);
    if (job.deps.length !== depsBefore) job.deps = exact(job.deps);
  }

  /** Run for every job: no closure, no list made that is not kept, but for entries of several paths. */
  private expandInto(job: Job): void {
    const rule = job.rule;
    const seen = this.seen;
    const chain = this.selfChain.get(job.id);
    for (const group of rule.inputs) {
      const items = group.items;
      // Each entry's paths, all worked out before any is resolved (an expand's list is not copied).
      const only = items.length === 1 ? this.itemPaths(items[0]!, job) : undefined;
      const lists = only === undefined ? items.map((item) => this.itemPaths(item, job)) : undefined;
      if (group.name !== undefined) job.namedInputs.set(group.name, only !== undefined ? only.slice() : lists!.flat());
      for (let k = 0; k < items.length; k++) {
        const list = only ?? lists![k]!;
        const { loc, template } = items[k]!;
        // An entry written with a trailing '/' must be a directory.
        const dir = template.source.endsWith('/');
        for (let i = 0; i < list.length; i++) {
          const p = list[i]!;
          // Resolved first (a path seen already is only looked up again): a path made by a job
          // this one does not need yet is new to it, without asking among the paths seen so far.
          const producer = this.resolvePath(p, job, chain, loc);
          if ((producer === null || producer === job || this.depOf.get(producer.id) === job.id + 1) && seen.has(p)) continue;
          job.inputs = added(job.inputs, p);
          seen.added(p);
          this.addDep(job, p, loc, producer);
          if (dir) this.checkDirectoryInput(job, p, loc);
        }
      }
    }
    // A pending glob waits for the job making its directory, as an input made by it would.
    if (job.pending !== undefined) for (const g of job.pending) this.addDep(job, g.dir, rule.loc, this.resolvePath(g.dir, job, chain, rule.loc));
    for (const group of rule.orderOnly) {
      for (const item of group.items) {
        for (const p of this.itemPaths(item, job)) {
          if (seen.has(p)) continue;
          job.orderOnly = added(job.orderOnly, p);
          seen.added(p);
          this.addDep(job, p, item.loc, this.resolvePath(p, job, chain, item.loc));
        }
      }
    }
    if (rule.script === undefined && rule.commandWords === undefined) return;
    const implicit = this.implicitOf(rule, job);
    if (rule.script !== undefined) {
      job.script = implicit.script;
      // A script a rule makes orders the job as any input does; a missing one is `no rule to make`.
      const script = rule.script;
      if (!seen.has(script.path)) this.addDep(job, script.path, script.loc, this.resolvePath(script.path, job, chain, script.loc));
    }
    // A file the rule declares is not implicit too: each job's declared inputs are its own.
    const paths = implicit.paths;
    if (paths.length === 0) return;
    let own = false;
    for (const p of paths) if (seen.has(p)) own = true;
    job.implicitInputs = own ? paths.filter((p) => !seen.has(p)) : paths;
  }

  /** Makes `producer`, the job making `path` that `job` needs, a dep of `job` (once); a job needing its own output is a problem. */
  private addDep(job: Job, path: string, at: SourceLocation, producer: Job | null): void {
    if (producer === job) {
      this.problems.push({ message: `rule '${job.rule.name}': '${path}' is both an input and an output of ${job.label}`, loc: at });
    } else if (producer && this.depOf.get(producer.id) !== job.id + 1) {
      // Each producer is a dep once: it remembers the last job that took it as one.
      this.depOf.set(producer.id, job.id + 1);
      job.deps = added(job.deps, producer);
    }
  }

  implicitPaths(rule: Rule): readonly string[] {
    return rule.script === undefined && rule.commandWords === undefined ? NO_PATHS : this.implicitOf(rule).paths;
  }

  /**
   * A rule's implicit inputs: its script, then each literal word of its `run`
   * naming an existing regular file inside the root that no rule makes.
   * Decided at the rule's first job; `job` is only named in messages.
   */
  private implicitOf(rule: Rule, job?: Job): RuleImplicit {
    let found = this.implicitByRule.get(rule);
    if (found !== undefined) return found;
    const paths: string[] = [];
    found = { paths };
    if (rule.script !== undefined) {
      const path = rule.script.path;
      paths.push(path);
      found.script = this.scriptRun(rule, job, path);
    }
    if (rule.implicitInputs && rule.commandWords !== undefined) {
      const prefix = `${this.project.root}/`;
      this.projectFiles ??= new Set(this.project.read.flatMap((f) => (f.startsWith(prefix) ? [f.slice(prefix.length)] : [])));
      for (const w of rule.commandWords) {
        const path = normalizePath(w.text.startsWith(prefix) ? w.text.slice(prefix.length) : w.text);
        if (paths.includes(path) || writablePathProblem(path) !== undefined || this.projectFiles.has(path)) continue;
        if (this.index.makes(path) || this.project.rulesByName.get(path)?.phony === true) continue;
        // A directory's stat is no part of the up-to-date stamp: its mtime changes with every file written in it.
        const st = this.fs.statFile ? this.fs.statFile(path) : this.fs.stat(path);
        if (st !== undefined && !st.isDirectory) paths.push(path);
        else if (st === undefined) {
          const absent = this.absentWords.get(rule);
          if (absent === undefined) this.absentWords.set(rule, [path]);
          else if (!absent.includes(path)) absent.push(path);
        }
      }
    }
    this.implicitByRule.set(rule, found);
    return found;
  }

  /** How the rule's script runs: by its extension, else by its `#!` line (read now if it exists, else when it runs). */
  private scriptRun(rule: Rule, job: Job | undefined, path: string): ScriptRun {
    const byExtension = interpreterByExtension(path);
    if (byExtension !== undefined) return { path, interpreter: byExtension };
    if (this.index.makes(path)) return { path };
    const st = this.fs.stat(path);
    if (st === undefined) return { path }; // `no rule to make` says it
    const head = st.isDirectory ? undefined : this.fs.readStart?.(path, SHEBANG_BYTES);
    const interpreter = head === undefined ? undefined : interpreterByShebang(head);
    if (interpreter === undefined) this.problems.push({ message: noInterpreterMessage(job ? `rule '${rule.name}' (${job.label})` : `rule '${rule.name}'`, path), loc: rule.script!.loc });
    return interpreter === undefined ? { path } : { path, interpreter };
  }

  /** An input written with a trailing '/' must be a directory: on disk, or a directory output of its job. */
  private checkDirectoryInput(job: Job, path: string, at: SourceLocation): void {
    const producer = this.resolved.get(path);
    let problem: string | undefined;
    if (producer === null || producer === undefined) {
      const st = this.fs.stat(path);
      if (st !== undefined && !st.isDirectory) problem = 'is a file, not a directory';
    } else if (producer.outputs.includes(path) && producer.dirOutputs?.has(path) !== true) {
      problem = `is made by rule '${producer.rule.name}' as a file, not a directory (a directory output is written with a trailing '/')`;
    }
    if (problem !== undefined) this.problems.push({ message: `input '${showPath(path)}/' of ${showPath(job.label)} ${problem}`, loc: at });
  }

  /**
   * Every lookup of a job's rule keyed by its wildcards (SPEC §7) has a value
   * for it: a missing row or config key is an error at the lookup's place.
   */
  private checkLookups(job: Job): void {
    const value: NameValues = (n) => job.wildcards[n];
    for (const { placeholder, loc } of job.rule.lookups!) {
      if (lookupWords(placeholder.lookup!, value) === undefined) this.missingLookup(placeholder, value, job, loc);
    }
  }

  /** Messages of missing lookups given so far: one per missing row or key, however many jobs or placeholders meet it. */
  private readonly missingLookups = new Set<string>();

  private missingLookup(ph: Placeholder, value: NameValues, job: Job, loc: SourceLocation): void {
    const what = missingLookup(ph.lookup!, value);
    if (this.missingLookups.has(what)) return;
    this.missingLookups.add(what);
    this.problems.push({ message: `${what} (needed by ${job.label})`, loc });
  }

  private itemPaths(item: InputItem, job: Job): string[] {
    const wc = job.wildcards;
    // A lookup without a value for the job (reported by checkLookups) names no path.
    let missing = false;
    if (!item.expand) {
      const p = normalizePath(
        renderTemplate(item.template, (ph) => {
          if (ph.lookup === undefined) return wc[ph.path[ph.path.length - 1]!]!;
          const words = lookupWords(ph.lookup, (n) => wc[n]);
          if (words === undefined) missing = true;
          return words === undefined ? '' : words.join(' ');
        }),
      );
      if (missing || !this.nameable(p, item, job)) return [];
      if (!item.glob) return [p];
      return this.defers(p, job, item.loc) ? [] : this.glob(p, item.loc);
    }
    // Cartesian product, first name varying slowest: an odometer over the value lists.
    const names = item.expand.map((e) => e.name);
    const lists = item.expand.map(({ name, source }) => (source.kind === 'list' ? source.values : this.globValues(source.pattern, name, job, item.loc)));
    const out: string[] = [];
    if (lists.some((l) => l.length === 0)) return out;
    const at = new Array<number>(lists.length).fill(0);
    const nameValue: NameValues = (n) => {
      const k = names.indexOf(n);
      return k >= 0 ? lists[k]![at[k]!]! : wc[n];
    };
    const valueOf = (ph: Placeholder) => {
      if (ph.lookup === undefined) return nameValue(ph.path[ph.path.length - 1]!)!;
      const words = lookupWords(ph.lookup, nameValue);
      if (words !== undefined) return words.join(' ');
      this.missingLookup(ph, nameValue, job, item.loc);
      missing = true;
      return '';
    };
    for (;;) {
      const p = normalizePath(renderTemplate(item.template, valueOf));
      if (missing) missing = false;
      else if (this.nameable(p, item, job)) {
        if (!item.glob) out.push(p);
        else if (!this.defers(p, job, item.loc)) for (const hit of this.glob(p, item.loc)) out.push(hit);
      }
      let k = lists.length - 1;
      while (k >= 0 && ++at[k]! === lists[k]!.length) at[k--] = 0;
      if (k < 0) return out;
    }
  }

  /** Whether input path `p` can name a file at all (no NUL byte, no over-long name). */
  private nameable(p: string, item: InputItem, job: Job): boolean {
    const problem = nameProblem(p);
    if (problem === undefined) return true;
    // A name that grew too long through a rule feeding itself (`{name}` from `{name}.in`): say so.
    const chain = this.selfChain.get(job.id);
    const why = chain > 0 ? `; rule '${job.rule.name}' keeps needing its own outputs (${chain + 1} jobs in a row): make its output pattern more specific, e.g. with {name,REGEX}` : '';
    this.problems.push({ message: `input '${showPath(p)}' of ${showPath(job.label)} ${problem}${why}`, loc: item.loc });
    return false;
  }

  private glob(pattern: string, loc: SourceLocation): string[] {
    let hits = this.globCache.get(pattern);
    if (!hits) {
      hits = glob(this.fs, pattern, (s) => this.skippedByGlob(pattern, s, loc));
      this.globCache.set(pattern, hits);
    }
    return hits;
  }

  /** An entry a glob could not look at: the build goes on without it, and the user hears of it once. */
  private skippedByGlob(pattern: string, s: SkippedEntry, loc: SourceLocation): void {
    if (this.skipped.has(s.path)) return;
    this.skipped.add(s.path);
    this.warnings.push({ message: skippedMessage(pattern, s), loc });
  }

  /** The values `name` takes in files matching `pattern` (`raw/sci_{frame}.fits`). */
  private globValues(pattern: Template, name: string, job: Job, loc: SourceLocation): string[] {
    const wc = job.wildcards;
    let globText = '';
    let re = '^';
    let captured = false;
    for (const part of pattern.parts) {
      if (typeof part === 'string') {
        globText += part;
        re += part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&').replace(/\\\*\\\*/g, '.*').replace(/\\\*/g, '[^/]*').replace(/\\\?/g, '[^/]');
        continue;
      }
      const n = part.path[part.path.length - 1]!;
      if (n !== name && wc[n] !== undefined) {
        globText += wc[n];
        re += wc[n]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      } else if (n === name && !captured) {
        globText += '*';
        re += '([^/]+)';
        captured = true;
      } else if (n === name) {
        // The same wildcard again: it must take the same value.
        globText += '*';
        re += '\\1';
      } else {
        globText += '*';
        re += '[^/]+';
      }
    }
    if (this.defers(globText, job, loc)) return [];
    const matcher = new RegExp(re + '$', 'u');
    const values: string[] = [];
    // By index, as the loops over a million jobs (see linkDependents).
    const files = this.glob(globText, loc);
    for (let i = 0; i < files.length; i++) {
      const m = matcher.exec(files[i]!);
      if (m !== null) values.push(m[1]!);
    }
    // Sorted, then each value once (equal ones are neighbours): no set of a million values to fill.
    values.sort(compareCodePoints);
    let n = 0;
    for (let i = 0; i < values.length; i++) if (n === 0 || values[i] !== values[n - 1]) values[n++] = values[i]!;
    values.length = n;
    return values;
  }
}

/** The first MAX_GRAPH_PROBLEMS problems, then one line saying how many more there are. */
function capProblems(problems: Diagnostic[]): Diagnostic[] {
  if (problems.length <= MAX_GRAPH_PROBLEMS) return problems;
  const more = problems.length - MAX_GRAPH_PROBLEMS;
  return [...problems.slice(0, MAX_GRAPH_PROBLEMS), { message: `... and ${more} more problem${more === 1 ? '' : 's'} (the first ${MAX_GRAPH_PROBLEMS} are shown)` }];
}

/**
 * A job as the graph builder makes it. Its label is worked out each time it
 * is asked for, not kept: a graph of a million jobs would hold a million
 * labels, which only messages and reports use (a dry run prints each once).
 */
class GraphJob implements Job {
  // Made when the job is expanded.
  inputs = NO_PATHS;
  orderOnly = NO_PATHS;
  implicitInputs: readonly string[] = NO_PATHS;
  deps = NO_JOBS;
  dependents = NO_JOBS;
  declare script?: ScriptRun;
  declare log?: string;
  declare dirOutputs?: ReadonlySet<string>;
  declare tempOutputs?: ReadonlySet<string>;
  declare depfile?: string;
  declare pending?: PendingGlob[];

  constructor(
    readonly id: number,
    readonly rule: Rule,
    readonly wildcards: Record<string, string>,
    readonly outputs: string[],
    readonly namedOutputs: Map<string, string[]>,
    public namedInputs: Map<string, string[]>,
    readonly name: string,
  ) {}

  get label(): string {
    return jobLabel(this.rule, this.wildcards);
  }
}

/** A number for each job, by id (0 until set), kept off the heap: a graph may have millions of jobs. */
class PerJob {
  private values = new Int32Array(1024);

  get(id: number): number {
    return id < this.values.length ? this.values[id]! : 0;
  }

  set(id: number, value: number): void {
    if (id >= this.values.length) {
      const more = new Int32Array(Math.max(id + 1, this.values.length * 2));
      more.set(this.values);
      this.values = more;
    }
    this.values[id] = value;
  }
}

/** A rule's implicit inputs and, for a `script:` rule, how its script runs. */
interface RuleImplicit {
  paths: string[];
  script?: ScriptRun;
}

/**
 * Whether the job being expanded lists a path already (among its inputs and
 * order-only inputs so far): a scan of its lists while they are short, else
 * a set, made at the first question over many. Most jobs have one or two
 * inputs; one of a million (each new to it, see `expandInto`) may never need
 * the set. One for the graph builder, started again for each job.
 */
class PathsSeen {
  private job: Job | undefined;
  private set: Set<string> | undefined;

  start(job: Job): void {
    this.job = job;
    this.set = undefined;
  }

  has(path: string): boolean {
    if (this.set !== undefined) return this.set.has(path);
    const { inputs, orderOnly } = this.job!;
    if (inputs.length + orderOnly.length <= 16) return inputs.includes(path) || orderOnly.includes(path);
    this.set = new Set(inputs);
    for (const p of orderOnly) this.set.add(p);
    return this.set.has(path);
  }

  /** `path` was just added to one of the job's lists. */
  added(path: string): void {
    this.set?.add(path);
  }
}
