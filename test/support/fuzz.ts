// A seeded mutation fuzzer for Rulefiles: valid projects are mutated at the
// text level (lines, indentation, YAML punctuation, anchors, placeholders,
// regexes, odd characters) and at the structure level (a value replaced by
// one of another kind), then read by the real loader and graph builder. A
// case passes when it loads or fails with a UserError, quickly; anything
// else thrown is an internal error, which is what the fuzzer hunts.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlias, isMap, isScalar, isSeq, parseDocument, visit } from 'yaml';
import type { Node } from 'yaml';
import { buildGraph, defaultTargets } from '../../src/graph/build.js';
import { loadProject } from '../../src/rulefile/load.js';
import { UserError } from '../../src/util/errors.js';
import { DiskFileSystem } from '../../src/util/fs.js';
import { rng } from './rng.js';

/** A project to mutate: the Rulefile and any files it includes. */
export interface FuzzSeed {
  name: string;
  files: Record<string, string>;
}

export interface FuzzCase {
  seed: number;
  index: number;
  base: string;
  /** The mutations applied, in order, for the report. */
  mutations: string[];
  files: Record<string, string>;
  /** Run through the real CLI (slower) rather than in-process. */
  cli: boolean;
}

export interface FuzzOutcome {
  /** 'ok' and 'user-error' pass; the others are failures. */
  kind: 'ok' | 'user-error' | 'internal-error' | 'slow' | 'memory';
  ms: number;
  detail: string;
  /** Peak RSS of a CLI run, in bytes. */
  maxRss?: number;
}

/** The repository root (this file compiles to dist/test/support/fuzz.js). */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../../bin/main.js', import.meta.url));
const MEASURE = fileURLToPath(new URL('./measure-cli.js', import.meta.url));

/** Slower than this, a case fails (in-process cases run a few milliseconds). */
export const CASE_TIME_LIMIT_MS = 10_000;
/** More memory than this, a CLI case fails. */
export const CASE_MEMORY_LIMIT = 1024 * 1024 * 1024;

const SMALL: FuzzSeed[] = [
  {
    name: 'wildcards',
    files: {
      Rulefile: [
        'config:',
        '  frames: [a, b]',
        '  threshold: 3',
        'default: all',
        'rules:',
        '  all:',
        '    inputs:',
        '      - expand: "out/{f}.txt"',
        '        f: { config: frames }',
        '  make:',
        '    outputs: "out/{name,[a-z]+}.txt"',
        '    inputs: { src: "in/{name}.dat" }',
        '    params: { t: "{config.threshold}", list: [1, two, "{name}"] }',
        '    run: "cat {inputs.src} > {output} # {params.t}"',
        '    log: "logs/{name}.log"',
        '',
      ].join('\n'),
      'in/a.dat': 'a',
      'in/b.dat': 'b',
    },
  },
  {
    name: 'anchors',
    files: {
      Rulefile: [
        'config:',
        '  base: &base { n: 1, tags: &t [x, y] }',
        '  more: { <<: *base, m: 2, again: *t }',
        'env: { LANG: C }',
        'shell: bash -euo pipefail -c',
        'rules:',
        '  common: &common',
        '    resources: { cpus: 2, mem: 1.5 }',
        '    retries: 1',
        '  one:',
        '    <<: *common',
        '    outputs: [one.txt]',
        '    run: echo {config.more.n} > {output}',
        '  two:',
        '    outputs: { main: "two/{x}.txt", side: "two/{x}.side" }',
        '    order_only: [one.txt]',
        '    env: { X: "{x}" }',
        '    slurm: { partition: short, extra: [--qos=low] }',
        '    run: |',
        '      echo {x} > {outputs.main}',
        '      echo {{literal}} > {outputs.side}',
        '',
      ].join('\n'),
    },
  },
  {
    name: 'globs',
    files: {
      Rulefile: [
        'include: [more/*.yaml]',
        'default: [sum.txt]',
        'rules:',
        '  sum:',
        '    inputs:',
        '      - "data/*.csv"',
        '      - expand: "data/{s}.csv"',
        '        s: { glob: "data/{s}.csv" }',
        '    outputs: sum.txt',
        '    always: false',
        '    description: Sum of every table',
        '    run: cat {inputs} > {output}',
        '',
      ].join('\n'),
      'more/extra.yaml': ['config:', '  k: 1', 'rules:', '  extra:', '    outputs: "x/{a}-{b,\\\\d+}.txt"', '    run: touch {output}', ''].join('\n'),
      'data/one.csv': '1',
      'data/two.csv': '2',
    },
  },
];

/** The example project at the repository root and the small projects above. */
export function fuzzSeeds(): FuzzSeed[] {
  const seeds = [...SMALL];
  const example = path.join(REPO, 'Rulefile.example');
  if (fs.existsSync(example)) {
    const files: Record<string, string> = { Rulefile: fs.readFileSync(example, 'utf8') };
    const dir = path.join(REPO, 'rules');
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.yaml')) files[`rules/${f}`] = fs.readFileSync(path.join(dir, f), 'utf8');
    seeds.push({ name: 'example', files });
  }
  return seeds;
}

// ---- mutations ----------------------------------------------------------

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, n: number) => Math.floor(r() * n);

const SPECIAL = '{}[]:&*!|>#\'"%@,?-<=`\\';
const INSERTS = [
  '&a ',
  '*a',
  '&b [1, *a]',
  '<<: *a',
  '{<<: *b}',
  '!!binary ',
  '!custom ',
  '%YAML 1.2\n---\n',
  '---\n',
  '...\n',
  '? complex\n: key',
  '1e999',
  '-0',
  '0x1F',
  '99999999999999999999999999',
  '.nan',
  '~',
  'null',
  'yes',
  '2001-12-14t21:59:43.10-05:00',
  '{x}',
  '{config.}',
  '{config.nope}',
  '{inputs.zz}',
  '{raw.params.p}',
  '{wildcards.}',
  '{{',
  '}}',
  '{',
  '}',
  '{w,(a+)+$}',
  '{w,[}',
  '{w,(a)\\1}',
  '{w,\\d{3}}',
  '{w,(?=x)}',
  '{__proto__}',
  '__proto__: {a: 1}',
  'constructor',
  'é',
  '\u202e',
  '\u0301',
  '😀',
  '\u0000',
  '\uFEFF',
  '\t',
  '\r\n',
  '\\',
  '../../etc/passwd',
  '/abs/path',
];

/** One text-level or structure-level change; returns the new text and what was done. */
function mutate(r: Rand, text: string): { text: string; what: string } {
  const lines = text.split('\n');
  const at = int(r, lines.length);
  const op = int(r, 15);
  switch (op) {
    case 0:
      lines.splice(at, 1);
      return { text: lines.join('\n'), what: `delete line ${at + 1}` };
    case 1:
      lines.splice(at, 0, lines[at] ?? '');
      return { text: lines.join('\n'), what: `duplicate line ${at + 1}` };
    case 2: {
      const b = int(r, lines.length);
      [lines[at], lines[b]] = [lines[b]!, lines[at]!];
      return { text: lines.join('\n'), what: `swap lines ${at + 1} and ${b + 1}` };
    }
    case 3: {
      const d = pick(r, [-4, -2, -1, 1, 2, 4]);
      const l = lines[at] ?? '';
      lines[at] = d > 0 ? ' '.repeat(d) + l : l.replace(new RegExp(`^ {0,${-d}}`), '');
      return { text: lines.join('\n'), what: `indent line ${at + 1} by ${d}` };
    }
    case 4:
    case 5: {
      const c = pick(r, [...SPECIAL]);
      return { ...insertAt(r, text, c), what: `insert '${c}'` };
    }
    case 6:
    case 7: {
      const s = pick(r, INSERTS);
      return { ...insertAt(r, text, s), what: `insert ${JSON.stringify(s)}` };
    }
    case 8: {
      const n = pick(r, [1000, 20_000, 100_000]);
      const s = pick(r, ['x', '{x}', '{a,', '[', '*a ', 'é']).repeat(n);
      return { ...insertAt(r, text, s), what: `insert a string of ${n} repeats` };
    }
    case 9: {
      // Anchor a value, then refer to it from somewhere else.
      const name = pick(r, ['a', 'b', 'x1']);
      let t = text.replace(/: (?=\S)/, `: &${name} `);
      const idx = t.indexOf(`&${name}`);
      if (idx >= 0) t = insertAt(r, t, `*${name}`, idx).text;
      return { text: t, what: `anchor &${name} and alias it` };
    }
    case 10: {
      const cut = int(r, text.length + 1);
      return { text: text.slice(0, cut), what: `truncate at ${cut}` };
    }
    case 11:
      return swapKind(r, text);
    case 13:
    case 14:
      return aliasNode(r, text);
    default: {
      const l = lines[at] ?? '';
      lines[at] = l.replace(/\d+(\.\d+)?/, () => pick(r, ['1e400', '-1', '0.5', '1e-400', '9007199254740993', 'NaN', '-.inf']));
      return { text: lines.join('\n'), what: `change a number on line ${at + 1}` };
    }
  }
}

function insertAt(r: Rand, text: string, s: string, after = 0): { text: string } {
  const pos = after + int(r, Math.max(1, text.length - after) + 1);
  return { text: text.slice(0, pos) + s + text.slice(pos) };
}

/** Structure level: one value replaced by a value of another kind. */
function swapKind(r: Rand, text: string): { text: string; what: string } {
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  if (doc.errors.length > 0) return { text, what: 'swap kinds (not parsable: no change)' };
  const nodes: unknown[] = [];
  visit(doc, { Node: (_k, n) => void nodes.push(n) });
  if (nodes.length === 0) return { text, what: 'swap kinds (no nodes)' };
  const target = pick(r, nodes);
  const replacement = pick(r, [
    doc.createNode([1, 'two', { three: 3 }]),
    doc.createNode({ k: 'v', n: null }),
    doc.createNode('text {x}'),
    doc.createNode(42),
    doc.createNode(true),
    doc.createNode(null),
    doc.createNode([]),
    doc.createNode({}),
  ]);
  let done = false;
  visit(doc, {
    Node: (_k, n) => {
      if (n !== target || done) return undefined;
      done = true;
      return replacement;
    },
  });
  const kind = isMap(target) ? 'map' : isSeq(target) ? 'list' : isScalar(target) ? 'scalar' : 'alias';
  try {
    return { text: doc.toString(), what: `swap a ${kind} for another kind` };
  } catch {
    return { text, what: `swap a ${kind} (not printable: no change)` };
  }
}

/** Structure level: a node replaced by an alias of a collection before it, or inside which it is (a recursive alias). */
function aliasNode(r: Rand, text: string): { text: string; what: string } {
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: false });
  if (doc.errors.length > 0) return { text, what: 'alias a node (not parsable: no change)' };
  const nodes: Node[] = [];
  visit(doc, { Node: (_k, n) => void nodes.push(n) });
  const collections = nodes.filter((n) => isMap(n) || isSeq(n));
  if (collections.length === 0) return { text, what: 'alias a node (no collections)' };
  const anchored = pick(r, collections);
  const from = nodes.indexOf(anchored);
  const target = nodes[from + 1 + int(r, nodes.length - from - 1)];
  if (target === undefined || isAlias(target)) return { text, what: 'alias a node (nothing after it)' };
  const alias = doc.createAlias(anchored, pick(r, ['a', 'loop']));
  visit(doc, { Node: (_k, n) => (n === target ? alias : undefined) });
  try {
    return { text: doc.toString(), what: `alias a ${isMap(anchored) ? 'map' : 'list'} from a node after it` };
  } catch {
    return { text, what: 'alias a node (not printable: no change)' };
  }
}

/** Case `index` of the run seeded with `seed`: 1 to 4 mutations of one seed project's file. */
export function makeCase(seeds: readonly FuzzSeed[], seed: number, index: number, cliShare: number): FuzzCase {
  const r = rng(seed * 1_000_003 + index);
  const base = pick(r, seeds);
  const files = { ...base.files };
  const yamlFiles = Object.keys(files).filter((f) => f === 'Rulefile' || f.endsWith('.yaml'));
  const mutations: string[] = [];
  const count = 1 + int(r, 4);
  for (let i = 0; i < count; i++) {
    const file = r() < 0.8 ? 'Rulefile' : pick(r, yamlFiles);
    const m = mutate(r, files[file]!);
    files[file] = m.text;
    mutations.push(`${file}: ${m.what}`);
  }
  return { seed, index, base: base.name, mutations, files, cli: r() < cliShare };
}

// ---- running ------------------------------------------------------------

function writeProject(dir: string, files: Record<string, string>): void {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
  }
}

/** Loads the project and builds the graph of its default targets, in this process. */
export function runInProcess(c: FuzzCase, dir: string): FuzzOutcome {
  writeProject(dir, c.files);
  const start = performance.now();
  let kind: FuzzOutcome['kind'] = 'ok';
  let detail = '';
  try {
    const project = loadProject({ cwd: dir });
    buildGraph(project, defaultTargets(project), new DiskFileSystem(project.root));
  } catch (e) {
    if (e instanceof UserError) {
      kind = 'user-error';
      detail = e.message.split('\n')[0]!;
    } else {
      kind = 'internal-error';
      detail = e instanceof Error ? (e.stack ?? e.message) : String(e);
    }
  }
  const ms = performance.now() - start;
  if (kind !== 'internal-error' && ms > CASE_TIME_LIMIT_MS) return { kind: 'slow', ms, detail: `took ${Math.round(ms)} ms` };
  return { kind, ms, detail };
}

/** Runs `rules build -n` and `rules list` on the project, each with a time limit and its peak memory measured. */
export function runCli(c: FuzzCase, dir: string): FuzzOutcome {
  writeProject(dir, c.files);
  let total = 0;
  let maxRss = 0;
  let last: FuzzOutcome = { kind: 'ok', ms: 0, detail: '' };
  for (const args of [['build', '-n'], ['list']]) {
    const start = performance.now();
    const res = spawnSync(process.execPath, [MEASURE, CLI, ...args], {
      cwd: dir,
      encoding: 'utf8',
      timeout: CASE_TIME_LIMIT_MS,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      env: cliEnv(),
      maxBuffer: 64 * 1024 * 1024,
    });
    const ms = performance.now() - start;
    total += ms;
    const rss = Number(String(res.output?.[3] ?? '').trim()) * 1024;
    if (rss > maxRss) maxRss = rss;
    const stderr = res.stderr ?? '';
    const what = `rules ${args.join(' ')}`;
    if (res.error || res.signal) return { kind: 'slow', ms: total, detail: `${what}: ${res.error?.message ?? `killed by ${res.signal}`}`, maxRss };
    if (/internal error|\n\s+at .*:\d+:\d+\)?\n/.test(stderr)) return { kind: 'internal-error', ms: total, detail: `${what}: ${stderr.slice(0, 2000)}`, maxRss };
    if (rss > CASE_MEMORY_LIMIT) return { kind: 'memory', ms: total, detail: `${what}: peak RSS ${Math.round(rss / 1048576)} MB`, maxRss };
    last = { kind: res.status === 0 ? 'ok' : 'user-error', ms: total, detail: stderr.split('\n')[0] ?? '', maxRss };
  }
  return last;
}

/** The text that replays a failing case: its identity, mutations and files. */
export function describeCase(c: FuzzCase, o: FuzzOutcome): string {
  const files = Object.entries(c.files).map(([f, t]) => `==> ${f} <==\n${t.length > 20_000 ? `${t.slice(0, 20_000)}\n... (${t.length} characters)` : t}`);
  return [`seed ${c.seed} case ${c.index} (${c.cli ? 'CLI' : 'in-process'}, from '${c.base}'): ${o.kind}`, ...c.mutations.map((m) => `  - ${m}`), o.detail, ...files].join('\n');
}

function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/** Runs `count` cases from `first` on; calls `onFailure` for each failing one. */
export function fuzz(opts: {
  seed: number;
  first?: number;
  count: number;
  cliShare: number;
  dir: string;
  onFailure: (c: FuzzCase, o: FuzzOutcome) => void;
  /** Hears each case's number before it runs (to find a case that hangs). */
  onCase?: (i: number) => void;
}): FuzzSummary {
  const seeds = fuzzSeeds();
  const summary: FuzzSummary = { cases: 0, cliCases: 0, failures: 0, userErrors: 0, ms: 0, slowestMs: 0, maxRss: 0 };
  const start = performance.now();
  for (let i = opts.first ?? 0; i < (opts.first ?? 0) + opts.count; i++) {
    opts.onCase?.(i);
    const c = makeCase(seeds, opts.seed, i, opts.cliShare);
    const o = c.cli ? runCli(c, opts.dir) : runInProcess(c, opts.dir);
    summary.cases++;
    if (c.cli) summary.cliCases++;
    if (o.kind === 'user-error') summary.userErrors++;
    summary.slowestMs = Math.max(summary.slowestMs, o.ms);
    summary.maxRss = Math.max(summary.maxRss, o.maxRss ?? 0);
    if (o.kind !== 'ok' && o.kind !== 'user-error') {
      summary.failures++;
      opts.onFailure(c, o);
    }
  }
  summary.ms = performance.now() - start;
  return summary;
}

export interface FuzzSummary {
  cases: number;
  cliCases: number;
  failures: number;
  userErrors: number;
  ms: number;
  slowestMs: number;
  /** Peak RSS of the CLI cases, in bytes. */
  maxRss: number;
}
