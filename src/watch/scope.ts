// What watch mode watches, and which changes matter. Directories are watched,
// not single files: a directory holding sources (flat: its own entries only),
// a source that is itself a directory (deep: everything in it is an input),
// the directories globs search (deep when the glob can match below them; not
// those inside a directory output, which only the build fills), the
// directories of the Rulefile, its includes and config files, and those of the
// dependencies jobs discovered in their depfiles (inside the root only). A
// change matters when it is to a source, a discovered dependency, a Rulefile
// or config file, a path a glob matches or a path inside a source directory,
// and not to an output or log of the graph, anything inside a directory
// output, or anything under .rules/.

import { statSync } from 'node:fs';
import { dirname, isAbsolute, posix, relative, sep } from 'node:path';
import picomatch from 'picomatch';
import type { Graph } from '../graph/model.js';
import type { Project } from '../rulefile/model.js';

export type Depth = 'flat' | 'deep';

/** Directories never looked into, as in globbing. */
const SKIP_DIRS = new Set(['.rules', '.git', 'node_modules']);

export interface ScopeInputs {
  root: string;
  /** Absolute paths of the Rulefile, its includes, config files and table files. */
  files: string[];
  project?: Project;
  graph?: Graph;
  /**
   * Dependencies the graph's jobs discovered in their depfiles (SPEC §6), as
   * their records name them: those inside the root are watched like sources.
   */
  discovered?: readonly string[];
  /** Whether a directory exists (the disk by default). */
  exists?: (dir: string) => boolean;
  /** Whether a source (as the graph names it) is a directory (the disk by default). */
  isDirectory?: (path: string) => boolean;
}

/**
 * The graph's sources and the files its commands name (SPEC §6) that no rule
 * makes, less those a job changes itself (dropped from its inputs): an edited
 * script is a change to rebuild for.
 */
function withImplicitInputs(graph: Graph): readonly string[] {
  let out: string[] | undefined;
  let seen: Set<string> | undefined;
  const lists = new Set<readonly string[]>();
  for (const job of graph.jobs) {
    if (job.implicitInputs.length === 0 || lists.has(job.implicitInputs)) continue;
    lists.add(job.implicitInputs);
    for (const p of job.implicitInputs) {
      if (graph.producers.get(p)) continue;
      seen ??= new Set(graph.sources);
      if (seen.has(p)) continue;
      seen.add(p);
      (out ??= [...graph.sources]).push(p);
    }
  }
  return out ?? graph.sources;
}

export class WatchScope {
  /** Absolute directory → how deep it is watched. */
  readonly roots = new Map<string, Depth>();
  /** Sources (relative to the root, or absolute) and Rulefile/config files (absolute). */
  private readonly files = new Set<string>();
  /** The graph's sources, as it names them. */
  readonly sources: readonly string[];
  /** The discovered dependencies watched (inside the root, relative to it). */
  readonly discovered: readonly string[];
  /** The graph's globs and their matches when the build ran. */
  readonly globMatches: ReadonlyMap<string, readonly string[]>;
  private readonly outputs = new Set<string>();
  /** Directory outputs: nothing the build writes in them is a change. */
  private readonly dirOutputs = new Set<string>();
  /** Sources that are directories (relative to the root, or absolute): a change anywhere in them matters. */
  private readonly dirSources = new Set<string>();
  private readonly globs: ((path: string) => boolean)[] = [];
  /** Roots that do not exist (yet): watched through an existing parent. */
  private readonly missing = new Set<string>();
  /** Without a graph (the Rulefile did not load): every file under the root matters. */
  private readonly everything: boolean;
  readonly root: string;

  constructor(inputs: ScopeInputs) {
    const { root, graph, project } = inputs;
    this.root = root;
    for (const f of inputs.files) {
      this.files.add(f);
      this.addRoot(dirname(f), 'flat');
    }
    this.everything = graph === undefined;
    this.sources = graph ? withImplicitInputs(graph) : [];
    this.globMatches = new Map([...(project?.globs ?? []), ...(graph?.globs ?? [])]);
    if (this.everything) this.addRoot(root, 'deep');
    if (graph) {
      const isDirectory = inputs.isDirectory ?? ((p: string) => statSync(this.abs(p), { throwIfNoEntry: false })?.isDirectory() === true);
      for (const s of this.sources) {
        this.files.add(s);
        this.addRoot(this.abs(posix.dirname(s)), 'flat');
        if (isDirectory(s)) {
          this.dirSources.add(s);
          this.addRoot(this.abs(s), 'deep');
        }
      }
      for (const job of graph.jobs) {
        for (const o of job.outputs) this.outputs.add(o);
        if (job.log !== undefined) this.outputs.add(job.log);
        if (job.dirOutputs !== undefined) for (const d of job.dirOutputs) this.dirOutputs.add(d);
      }
    }
    // Outside the root (system headers) nothing is watched: too many directories, and not the user's to edit.
    this.discovered = (inputs.discovered ?? []).filter((d) => !isAbsolute(d));
    for (const d of this.discovered) {
      this.files.add(d);
      this.addRoot(this.abs(posix.dirname(d)), 'flat');
    }
    const patterns = [...(project?.globs.keys() ?? []), ...(graph?.globs.keys() ?? [])];
    for (const pattern of new Set(patterns)) {
      const scan = picomatch.scan(pattern);
      const base = scan.base === '.' ? '' : scan.base;
      this.globs.push(picomatch(pattern, { dot: false }));
      // A glob looking inside a directory output (SPEC §7): the build makes all there is to see; its remaking it is no change.
      if (this.dirOutputs.size > 0 && (this.dirOutputs.has(base) || under(base, this.dirOutputs))) continue;
      // One level (`raw/*.fits`) is flat; `**` or a wildcard directory (`raw/*/x`) is deep.
      const deep = scan.glob.includes('**') || scan.glob.includes('/');
      this.addRoot(this.abs(base), deep ? 'deep' : 'flat');
    }
    const exists = inputs.exists ?? ((dir: string) => statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true);
    // A directory that does not exist yet is seen appearing from its nearest existing parent.
    for (const dir of [...this.roots.keys()]) {
      if (exists(dir)) continue;
      this.missing.add(dir);
      let d = dirname(dir);
      while (d !== dirname(d) && !exists(d)) d = dirname(d);
      this.addRoot(d, 'flat');
    }
  }

  /** The directories to hand the watcher: the roots that exist. */
  get watchList(): string[] {
    return [...this.roots.keys()].filter((d) => !this.missing.has(d)).sort();
  }

  /** How many files and directories are watched, for the console. */
  get counts(): { files: number; dirs: number } {
    return { files: this.files.size, dirs: this.roots.size - this.missing.size };
  }

  private abs(rel: string): string {
    if (isAbsolute(rel)) return rel;
    return rel === '' || rel === '.' ? this.root : `${this.root}/${rel}`;
  }

  /** The path as the graph names it: relative to the root when inside it. */
  rel(absPath: string): string {
    const r = relative(this.root, absPath);
    if (r === '' || r.startsWith('..') || isAbsolute(r)) return absPath;
    return sep === '/' ? r : r.split(sep).join('/');
  }

  private addRoot(dir: string, depth: Depth): void {
    if (this.roots.get(dir) !== 'deep') this.roots.set(dir, depth);
  }

  /** Whether the subdirectories of the directory `absDir` are watched too: it is, or lies inside, a deep root. */
  descends(absDir: string): boolean {
    for (let d = absDir; ; d = dirname(d)) {
      if (this.roots.get(d) === 'deep') return true;
      if (d === dirname(d)) return false;
    }
  }

  /** Whether the directory `absDir` is watched: a root that exists, or a directory inside a deep root (not inside .rules/, .git/ or node_modules/). */
  watches(absDir: string): boolean {
    if (this.roots.has(absDir) && !this.missing.has(absDir)) return true;
    return absDir !== dirname(absDir) && this.descends(dirname(absDir)) && !this.ignored(absDir);
  }

  /** Whether the watcher leaves `absPath` alone: outside what it watches, or inside .rules/, .git/ or node_modules/. */
  ignored(absPath: string): boolean {
    if (this.roots.has(absPath)) return false;
    // .rules/, .git/, node_modules/ anywhere below a watched directory.
    for (let d = absPath; !this.roots.has(d) && d !== dirname(d); d = dirname(d)) {
      if (SKIP_DIRS.has(d.slice(d.lastIndexOf('/') + 1))) return true;
    }
    // An entry of a watched directory; deeper only under a deep one.
    if (this.roots.has(dirname(absPath))) return false;
    for (let d = dirname(absPath); ; d = dirname(d)) {
      if (this.roots.get(d) === 'deep') return false;
      if (d === dirname(d)) return true;
    }
  }

  /** Whether `absPath` is a watched directory or holds one: its coming or going changes what is there to see. */
  holdsRoot(absPath: string): boolean {
    if (this.roots.has(absPath)) return true;
    const prefix = `${absPath}/`;
    for (const r of this.roots.keys()) if (r.startsWith(prefix)) return true;
    return false;
  }

  /** Whether `absDir` lies where a glob searches below its base (a new directory there may hold matches). */
  searchedByGlob(absDir: string): boolean {
    if (this.everything) return !this.ignored(absDir);
    for (let d = dirname(absDir); d !== dirname(d); d = dirname(d)) if (this.roots.get(d) === 'deep') return !this.ignored(absDir);
    return false;
  }

  /** Whether a change to `absPath` (a file) should start a build. */
  matters(absPath: string): boolean {
    if (this.files.has(absPath)) return true;
    const rel = this.rel(absPath);
    if (rel === '.rules' || rel.startsWith('.rules/')) return false;
    if (this.outputs.has(rel)) return false;
    if (this.dirOutputs.size > 0 && under(rel, this.dirOutputs)) return false;
    if (this.files.has(rel)) return true;
    if (this.dirSources.size > 0 && under(rel, this.dirSources)) return true;
    if (this.everything) return !this.ignored(absPath);
    for (const isMatch of this.globs) if (isMatch(rel)) return true;
    return false;
  }

  /** The sources that are directories: every file in them is an input. */
  get directorySources(): ReadonlySet<string> {
    return this.dirSources;
  }
}

/** Whether `path` lies inside one of `dirs` (its nearest ancestors first). */
function under(path: string, dirs: ReadonlySet<string>): boolean {
  for (let slash = path.lastIndexOf('/'); slash > 0; slash = path.lastIndexOf('/', slash - 1)) {
    if (dirs.has(path.slice(0, slash))) return true;
  }
  return false;
}
