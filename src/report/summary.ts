// What `rules report` shows of the history (SPEC §9), as numbers: each rule's
// jobs in the last build, the resources to ask for from what its jobs used,
// the reasons jobs ran, and the timeline cut into bins when it has too many
// jobs to draw one bar each. The page (html.ts) only lays these out.
//
// Everything here is linear in the jobs of the build (a sort per lane aside):
// a report of 300,000 jobs costs a fraction of a second.

import type { StaleReason } from '../plan/reason.js';
import type { BuildTimeline, RuleHistory, TimelineJob } from '../state/history.js';
import { reasonText } from './reason.js';

/** What a rule asks for in the Rulefile (`resources:`), as the report compares it with what its jobs used. */
export interface RuleRequest {
  name: string;
  description?: string;
  /** `cpus` (1 when not given): the slots a job takes. */
  cpus: number;
  /** `mem_mb`: megabytes (SLURM's `--mem`). */
  memMb?: number;
  /** `runtime`: minutes (SLURM's `--time`). */
  runtimeMin?: number;
}

/** A rule's jobs in the last build. */
export interface RuleRow {
  rule: string;
  /** Attempts that ran (succeeded, failed or were retried); jobs that did not run after all are `skipped`. */
  jobs: number;
  failed: number;
  skipped: number;
  totalWallMs: number;
  medianWallMs: number;
  maxWallMs: number;
  /** Peak memory of any of its jobs, KiB: absent when none was measured. */
  peakRssKb?: number;
  /** CPU time over wall time × the CPUs asked for, of the attempts whose CPU was measured: absent when none was. */
  cpuEfficiency?: number;
}

/** The median of `values`; 0 for none. */
export function median(list: readonly number[]): number {
  if (list.length === 0) return 0;
  // A typed array sorts numbers natively, several times faster than a comparator.
  const values = Float64Array.from(list).sort();
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

/** Whether an attempt ran a process (a job skipped by early cutoff did not). */
function ran(job: TimelineJob): boolean {
  return job.status !== 'skipped';
}

/**
 * A row per rule of the last build, in the order of `rules` (the Rulefile's),
 * then any rule the build ran that the Rulefile no longer has.
 */
export function ruleRows(build: BuildTimeline, rules: readonly RuleRequest[]): RuleRow[] {
  const cpusOf = new Map(rules.map((r) => [r.name, r.cpus]));
  interface Acc { row: RuleRow; walls: number[]; cpuMs: number; cpuSlotMs: number; measured: boolean }
  const acc = new Map<string, Acc>();
  const of = (rule: string): Acc => {
    let a = acc.get(rule);
    if (a === undefined) {
      a = { row: { rule, jobs: 0, failed: 0, skipped: 0, totalWallMs: 0, medianWallMs: 0, maxWallMs: 0 }, walls: [], cpuMs: 0, cpuSlotMs: 0, measured: false };
      acc.set(rule, a);
    }
    return a;
  };
  for (const job of build.jobs) {
    const a = of(job.rule);
    if (!ran(job)) {
      a.row.skipped++;
      continue;
    }
    const wall = Math.max(0, job.endMs - job.startMs);
    a.row.jobs++;
    if (job.status !== 'ok') a.row.failed++;
    a.row.totalWallMs += wall;
    if (wall > a.row.maxWallMs) a.row.maxWallMs = wall;
    a.walls.push(wall);
    if (job.maxRssKb !== undefined) a.row.peakRssKb = Math.max(a.row.peakRssKb ?? 0, job.maxRssKb);
    if (job.cpuMs !== undefined) {
      a.measured = true;
      a.cpuMs += job.cpuMs;
      // A job that asked for 4 CPUs and kept one busy used a quarter of what it held.
      a.cpuSlotMs += wall * Math.max(1, cpusOf.get(job.rule) ?? 1);
    }
  }
  const order = [...rules.map((r) => r.name).filter((n) => acc.has(n)), ...[...acc.keys()].filter((n) => !cpusOf.has(n))];
  return order.map((name) => {
    const a = acc.get(name)!;
    a.row.medianWallMs = median(a.walls);
    if (a.measured && a.cpuSlotMs > 0) a.row.cpuEfficiency = a.cpuMs / a.cpuSlotMs;
    return a.row;
  });
}

/** How a request compares with what was seen: `low` below it, `high` far above it (more than HIGH_FACTOR times). */
export type Fit = 'ok' | 'low' | 'high' | 'unset' | 'unknown';

/** A request more than this many times what was seen is flagged as far too much. */
export const HIGH_FACTOR = 4;
/** Suggested values leave this much headroom over the peak seen. */
export const HEADROOM = 1.2;

export interface ResourceAdvice {
  rule: string;
  runs: number;
  failed: number;
  /** Seen over the builds recorded (rules.json). */
  peakRssKb?: number;
  maxWallMs: number;
  medianWallMs: number;
  /** Asked for in the Rulefile. */
  memMb?: number;
  runtimeMin?: number;
  mem: Fit;
  time: Fit;
  /** What to ask for: the peak seen plus headroom, rounded up (absent when nothing was seen). */
  suggestMemMb?: number;
  suggestRuntimeMin?: number;
}

/** `mb` with headroom, rounded up to a round number: 10 MB steps below 1 GB, 100 MB steps above. */
export function suggestedMemMb(peakKb: number): number {
  const mb = (peakKb / 1024) * HEADROOM;
  const step = mb < 1000 ? 10 : 100;
  return Math.max(step, Math.ceil(mb / step) * step);
}

/** Minutes with headroom, rounded up; at least 1 (SLURM's `--time` counts in minutes). */
export function suggestedRuntimeMin(wallMs: number): number {
  return Math.max(1, Math.ceil((wallMs / 60_000) * HEADROOM));
}

function fit(requested: number | undefined, seen: number | undefined, floor: number): Fit {
  if (seen === undefined) return requested === undefined ? 'unset' : 'unknown';
  if (requested === undefined) return 'unset';
  if (requested < seen) return 'low';
  // A request cannot usefully be smaller than the unit it is counted in: 1 minute is never far too much.
  if (requested > HIGH_FACTOR * Math.max(seen, floor)) return 'high';
  return 'ok';
}

/**
 * Per rule, what its jobs used over the builds recorded next to what it asks
 * for, with a flag and a suggested value: what to give `--mem` and `--time`
 * on a cluster. Rules in the Rulefile's order, then rules seen that it no
 * longer has; a rule that never ran and asks for nothing is left out.
 */
export function adviseResources(history: RuleHistory | undefined, rules: readonly RuleRequest[]): ResourceAdvice[] {
  const seen = history?.rules ?? {};
  const known = new Set(rules.map((r) => r.name));
  const names = [...rules.map((r) => r.name), ...Object.keys(seen).filter((n) => !known.has(n))];
  const requests = new Map(rules.map((r) => [r.name, r]));
  const out: ResourceAdvice[] = [];
  for (const name of names) {
    const s = seen[name];
    const r = requests.get(name);
    if (s === undefined && r?.memMb === undefined && r?.runtimeMin === undefined) continue;
    const ranOnce = s !== undefined && s.runs + s.failed > 0;
    const peakRssKb = s?.maxRssKb;
    const maxWallMs = s?.maxWallMs ?? 0;
    const a: ResourceAdvice = {
      rule: name,
      runs: s?.runs ?? 0,
      failed: s?.failed ?? 0,
      maxWallMs,
      medianWallMs: median(s?.recentWallMs ?? []),
      mem: fit(r?.memMb, peakRssKb === undefined ? undefined : peakRssKb / 1024, 1),
      time: fit(r?.runtimeMin, s !== undefined && s.runs > 0 ? maxWallMs / 60_000 : undefined, 1),
    };
    if (peakRssKb !== undefined) a.peakRssKb = peakRssKb;
    if (r?.memMb !== undefined) a.memMb = r.memMb;
    if (r?.runtimeMin !== undefined) a.runtimeMin = r.runtimeMin;
    if (peakRssKb !== undefined) a.suggestMemMb = suggestedMemMb(peakRssKb);
    if (ranOnce && s.runs > 0) a.suggestRuntimeMin = suggestedRuntimeMin(maxWallMs);
    out.push(a);
  }
  return out;
}

/** The reasons of one kind (`output missing`), and which jobs had them. */
export interface ReasonGroup {
  kind: string;
  count: number;
  /** The rules with the most jobs of this kind: [rule, count], most first (at most 5). */
  rules: [string, number][];
  /** A few jobs with their whole reason (at most 3). */
  examples: { label: string; reason: string }[];
}

/**
 * The beginnings of the reasons that name a path or a name after their kind
 * (`output missing: a.txt`), made by reason.ts itself so the words stay
 * written in one place; longest first, so that `no record: input newer than
 * output: ` wins over `input newer than output: `.
 */
const REASON_PREFIXES: string[] = (() => {
  // Which kinds end with a path or a name: a table over every kind, so a new kind must say.
  const detailed: Record<StaleReason['kind'], boolean> = {
    forced: false, always: false, incomplete: false, 'inputs-changed': false, 'outputs-changed': false, 'command-changed': false,
    'output-missing': true, 'no-record-input-newer': true, 'params-changed': true, 'env-changed': true, 'table-changed': true,
    'input-changed': true, 'input-newer': true, 'output-modified': true, upstream: true,
  };
  return (Object.keys(detailed) as StaleReason['kind'][])
    .filter((kind) => detailed[kind])
    .map((kind) => reasonText({ kind, path: '', name: '' } as StaleReason))
    .sort((a, b) => b.length - a.length);
})();

/** The kind of a reason written by reason.ts: its words without the path or name they end with. */
export function reasonKind(reason: string): string {
  for (const p of REASON_PREFIXES) if (reason.startsWith(p)) return p.slice(0, -2);
  return reason;
}

/** The reasons the last build's jobs ran for, grouped by kind, most jobs first (each job counted once: its first attempt). */
export function groupReasons(build: BuildTimeline): ReasonGroup[] {
  const groups = new Map<string, { count: number; rules: Map<string, number>; examples: { label: string; reason: string }[] }>();
  for (const job of build.jobs) {
    if (!ran(job) || job.attempt !== 1) continue;
    const kind = reasonKind(job.reason);
    let g = groups.get(kind);
    if (g === undefined) groups.set(kind, (g = { count: 0, rules: new Map(), examples: [] }));
    g.count++;
    g.rules.set(job.rule, (g.rules.get(job.rule) ?? 0) + 1);
    if (g.examples.length < 3) g.examples.push({ label: job.label, reason: job.reason });
  }
  return [...groups]
    .map(([kind, g]) => ({ kind, count: g.count, rules: [...g.rules].sort((a, b) => b[1] - a[1]).slice(0, 5), examples: g.examples }))
    .sort((a, b) => b.count - a.count || (a.kind < b.kind ? -1 : 1));
}

/** Above this many attempts the timeline is drawn as busy bins, not a bar per job. */
export const BAR_LIMIT = 5000;

/**
 * The timeline cut into `bins` equal slices of time per lane: how busy each
 * lane was in each slice (0 to 1), the rule that kept it busy longest there,
 * and how many attempts it ran there. Cells are lane-major: lane * bins + bin.
 */
export interface BinnedTimeline {
  lanes: number;
  bins: number;
  binMs: number;
  busy: Float64Array;
  /** Index into `ruleNames` of the dominant rule; -1 where the lane was idle. */
  rule: Int32Array;
  jobs: Int32Array;
  ruleNames: string[];
}

/** How many lanes a timeline has: its slots, or more if a job ran in a higher lane. */
export function laneCount(build: BuildTimeline): number {
  let lanes = Math.max(1, build.slots);
  for (const j of build.jobs) if (j.lane + 1 > lanes) lanes = j.lane + 1;
  return lanes;
}

/** Bins `build`'s attempts that ran; `ruleNames` fixes each rule's index (rules not in it are added). */
export function binTimeline(build: BuildTimeline, bins: number, ruleNames: readonly string[]): BinnedTimeline {
  const lanes = laneCount(build);
  const names = [...ruleNames];
  const ruleIndex = new Map(names.map((n, i) => [n, i]));
  let span = build.durationMs;
  for (const j of build.jobs) if (j.endMs > span) span = j.endMs;
  const binMs = Math.max(span, 1) / bins;
  const busy = new Float64Array(lanes * bins);
  const rule = new Int32Array(lanes * bins).fill(-1);
  const jobs = new Int32Array(lanes * bins);
  // Per lane, attempts in the order they started: a lane runs one at a time,
  // so its bins are visited in order and each bin's share per rule is summed
  // in a small map that is emptied when the walk leaves the bin.
  // Each attempt's rule as a number, once: the walk below then touches no strings.
  const ruleOf = new Int32Array(build.jobs.length);
  const byLane: number[][] = Array.from({ length: lanes }, () => []);
  for (let i = 0; i < build.jobs.length; i++) {
    const j = build.jobs[i]!;
    if (!ran(j) || j.lane < 0) continue;
    let r = ruleIndex.get(j.rule);
    if (r === undefined) {
      r = names.length;
      names.push(j.rule);
      ruleIndex.set(j.rule, r);
    }
    ruleOf[i] = r;
    byLane[j.lane]!.push(i);
  }
  // Each rule's time in the bin being walked, and which rules have some.
  const share = new Float64Array(names.length);
  const touched: number[] = [];
  for (let lane = 0; lane < lanes; lane++) {
    const list = byLane[lane]!;
    // Attempts are listed as they ended, which in one lane is nearly always as they started.
    let sorted = true;
    for (let k = 1; k < list.length && sorted; k++) sorted = build.jobs[list[k - 1]!]!.startMs <= build.jobs[list[k]!]!.startMs;
    if (!sorted) list.sort((a, b) => build.jobs[a]!.startMs - build.jobs[b]!.startMs);
    let current = -1;
    const close = () => {
      if (current < 0) return;
      let best = -1;
      let most = -1;
      for (const r of touched) {
        if (share[r]! > most) [best, most] = [r, share[r]!];
        share[r] = 0;
      }
      touched.length = 0;
      rule[lane * bins + current] = best;
    };
    for (const i of list) {
      const j = build.jobs[i]!;
      const r = ruleOf[i]!;
      const start = Math.max(0, j.startMs);
      const end = Math.max(start, j.endMs);
      const first = Math.min(bins - 1, Math.floor(start / binMs));
      // A job that ends where a bin starts is not in that bin.
      const last = Math.min(bins - 1, Math.max(first, Math.ceil(end / binMs) - 1));
      for (let b = first; b <= last; b++) {
        if (b !== current) {
          close();
          current = b;
        }
        const overlap = Math.min(end, (b + 1) * binMs) - Math.max(start, b * binMs);
        busy[lane * bins + b]! += Math.max(0, overlap) / binMs;
        // A job too short to measure still counts for the bin it ran in.
        if (share[r] === 0) touched.push(r);
        share[r]! += Math.max(overlap, 1e-9);
      }
      jobs[lane * bins + first]!++;
    }
    close();
  }
  for (let c = 0; c < busy.length; c++) if (busy[c]! > 1) busy[c] = 1;
  return { lanes, bins, binMs, busy, rule, jobs, ruleNames: names };
}
