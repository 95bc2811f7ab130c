// `rules report` (SPEC §9): the history of builds as one self-contained HTML
// page: the last build's timeline, a table per rule, the graph of rules, the
// reasons jobs ran, the failures with the end of their output, and the
// resources to ask for. Everything is inline (styles, script, SVG): the page
// opens from a file with no network.
//
// The page's size does not grow with the jobs beyond BAR_LIMIT: past it the
// timeline is sent as busy bins per lane, the tables are per rule and the
// reasons per kind, and only the first failures are shown whole.

import type { BuildTimeline, RuleHistory } from '../state/history.js';
import { layoutRuleGraph, type RuleEdge } from './rulegraph.js';
import { adviseResources, BAR_LIMIT, binTimeline, groupReasons, laneCount, ruleRows, type Fit, type ResourceAdvice, type RuleRequest } from './summary.js';

export interface ReportInput {
  /** What the page is about: the Rulefile's name. */
  title: string;
  build: BuildTimeline;
  history?: RuleHistory;
  /** The Rulefile's rules, in its order. */
  rules: readonly RuleRequest[];
  /** The graph of rules (graph/rulegraph.ts), or why there is none. */
  graph: { rules: readonly string[]; edges: readonly RuleEdge[] } | { problem: string };
  /** When the page was made, ms since the epoch. */
  now: number;
  version: string;
}

/** How many failures are shown with their output; the rest are counted. */
export const FAILURES_SHOWN = 50;
/** How many slices of time each lane of a binned timeline has. */
export const TIMELINE_BINS = 1200;

/** Colours of rules, in their order; past these, hues around the circle. */
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#a0cbe8', '#8cd17d', '#d4a6c8', '#ffbe7d', '#86bcb6', '#bab0ac'];

export function ruleColor(i: number): string {
  if (i < PALETTE.length) return PALETTE[i]!;
  const hue = Math.round((i * 137.508) % 360);
  return `hsl(${hue} 45% 58%)`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON that can stand inside a <script> element: no `</script>`, no `<!--`. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function formatKb(kb: number): string {
  const mb = kb / 1024;
  if (mb < 10) return `${mb.toFixed(1)} MB`;
  if (mb < 1024) return `${Math.round(mb)} MB`;
  return `${(mb / 1024).toFixed(1)} GB`;
}

const NONE = '<span class="none">—</span>';

function utc(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

/** The page. */
export function reportHtml(input: ReportInput): string {
  const { build } = input;
  // One colour per rule, the same in every section: the Rulefile's rules first, then any the history adds.
  const names = input.rules.map((r) => r.name);
  const known = new Set(names);
  for (const j of build.jobs) if (!known.has(j.rule)) known.add(j.rule) && names.push(j.rule);
  for (const r of Object.keys(input.history?.rules ?? {})) if (!known.has(r)) known.add(r) && names.push(r);
  const color = new Map(names.map((n, i) => [n, ruleColor(i)]));
  const chip = (rule: string) => `<span class="chip" style="background:${color.get(rule) ?? '#999'}"></span>`;

  const status = build.interrupted ? ['interrupted', 'warn'] : build.ok ? ['succeeded', 'good'] : ['failed', 'bad'];
  const stats: [string, string][] = [
    ['Started', utc(build.startedAt)],
    ['Duration', formatMs(build.durationMs)],
    ['Slots', String(build.slots)],
    ['Ran', build.ran.toLocaleString('en-US')],
    ['Failed', build.failed.toLocaleString('en-US')],
    ['Skipped', build.skipped.toLocaleString('en-US')],
    ['Up to date', build.upToDate.toLocaleString('en-US')],
    ['Not run', build.notRun.toLocaleString('en-US')],
  ];

  const sections = [
    timelineSection(input, names),
    rulesSection(input, chip),
    graphSection(input, names, color),
    reasonsSection(input, chip),
    failuresSection(input, chip),
    resourcesSection(input, chip),
  ];

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="rules ${escapeHtml(input.version)}">
<title>rules report · ${escapeHtml(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <div class="title">
    <h1>Build report <span class="file">${escapeHtml(input.title)}</span></h1>
    <span class="badge ${status[1]}">${status[0]}</span>
  </div>
  <dl class="stats">${stats.map(([k, v]) => `<div><dt>${k}</dt><dd>${escapeHtml(v)}</dd></div>`).join('')}</dl>
  <nav>${sections.map((s) => `<a href="#${s.id}">${s.title}</a>`).join('')}</nav>
</header>
<main>
${sections.map((s) => `<section id="${s.id}"><h2>${s.title}</h2>${s.body}</section>`).join('\n')}
</main>
<footer>Made by rules ${escapeHtml(input.version)} on ${utc(input.now)} from <code>.rules/history/</code>.</footer>
<div id="tip" role="tooltip" hidden></div>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

interface Section {
  id: string;
  title: string;
  body: string;
}

/** What the page's script draws the timeline from: a bar per attempt, or bins past BAR_LIMIT. */
export function timelineData(input: ReportInput, names: string[]): Record<string, unknown> {
  const { build } = input;
  const index = new Map(names.map((n, i) => [n, i]));
  const cpus = names.map((n) => input.rules.find((r) => r.name === n)?.cpus ?? 1);
  const base = { rules: names, colors: names.map((_, i) => ruleColor(i)), cpus, lanes: laneCount(build), durationMs: build.durationMs };
  const drawn = build.jobs.filter((j) => j.status !== 'skipped' && j.lane >= 0);
  if (drawn.length <= BAR_LIMIT) {
    const statusCode = { ok: 0, failed: 1, retried: 2, skipped: 3 } as const;
    // Columns, not an object per bar: a third of the size.
    return {
      ...base,
      mode: 'bars',
      lane: drawn.map((j) => j.lane),
      start: drawn.map((j) => Math.round(j.startMs)),
      end: drawn.map((j) => Math.round(j.endMs)),
      rule: drawn.map((j) => index.get(j.rule)!),
      status: drawn.map((j) => statusCode[j.status]),
      attempt: drawn.map((j) => j.attempt),
      cpu: drawn.map((j) => j.cpuMs ?? null),
      rss: drawn.map((j) => j.maxRssKb ?? null),
      label: drawn.map((j) => j.label),
      reason: drawn.map((j) => j.reason),
    };
  }
  const b = binTimeline(build, TIMELINE_BINS, names);
  return {
    ...base,
    mode: 'bins',
    jobsDrawn: drawn.length,
    lanes: b.lanes,
    bins: b.bins,
    binMs: b.binMs,
    // Percent, as whole numbers: the page cannot show finer.
    busy: Array.from(b.busy, (v) => Math.round(v * 100)),
    rule: Array.from(b.rule),
    jobs: Array.from(b.jobs),
  };
}

function timelineSection(input: ReportInput, names: string[]): Section {
  const data = timelineData(input, names);
  const binned = data.mode === 'bins';
  const note = binned
    ? `<p class="note">${plural(data.jobsDrawn as number, 'job')}: too many to draw one by one, so each lane is shown <strong>aggregated</strong> into ${TIMELINE_BINS} slices of ${formatMs(data.binMs as number)}; a slice's height is how busy the lane was, its colour the rule that kept it busy longest. Hover for details.</p>`
    : `<p class="note">A lane per job slot, a bar per job, coloured by rule; failed attempts are outlined in red, retried ones in amber. Hover a bar for details.</p>`;
  const legend = names
    .filter((n) => input.build.jobs.some((j) => j.rule === n))
    .map((n) => `<span class="legend-item"><span class="chip" style="background:${ruleColor(names.indexOf(n))}"></span>${escapeHtml(n)}</span>`)
    .join('');
  return {
    id: 'timeline',
    title: 'Timeline',
    body: `${note}<div id="timeline-box" class="card"><canvas id="timeline-canvas" data-mode="${binned ? 'bins' : 'bars'}"></canvas></div><div class="legend">${legend}</div><script type="application/json" id="timeline-data">${scriptJson(data)}</script>`,
  };
}

function efficiencyCell(e: number | undefined): string {
  if (e === undefined) return NONE;
  const pct = Math.round(e * 100);
  return `<span class="meter"><span style="width:${Math.min(100, pct)}%"></span></span> ${pct}%`;
}

function rulesSection(input: ReportInput, chip: (r: string) => string): Section {
  const rows = ruleRows(input.build, input.rules);
  const cpus = new Map(input.rules.map((r) => [r.name, r.cpus]));
  const body = rows
    .map(
      (r) => `<tr><th scope="row">${chip(r.rule)}${escapeHtml(r.rule)}</th><td>${r.jobs.toLocaleString('en-US')}</td><td>${r.failed > 0 ? `<span class="bad-text">${r.failed.toLocaleString('en-US')}</span>` : '0'}</td><td>${r.skipped.toLocaleString('en-US')}</td>` +
        `<td>${formatMs(r.totalWallMs)}</td><td>${formatMs(r.medianWallMs)}</td><td>${formatMs(r.maxWallMs)}</td><td>${r.peakRssKb === undefined ? NONE : formatKb(r.peakRssKb)}</td>` +
        `<td>${cpus.get(r.rule) ?? 1}</td><td class="eff">${efficiencyCell(r.cpuEfficiency)}</td></tr>`,
    )
    .join('');
  return {
    id: 'rules',
    title: 'Rules',
    body: `<p class="note">The last build's jobs per rule. CPU efficiency is CPU time over wall time × the CPUs the rule asks for (<code>resources: { cpus }</code>); — where it was not measured.</p>
<div class="card scroll"><table><thead><tr><th>Rule</th><th>Jobs</th><th>Failed</th><th>Skipped</th><th>Total wall</th><th>Median</th><th>Max</th><th>Peak memory</th><th>CPUs</th><th>CPU efficiency</th></tr></thead><tbody>${body}</tbody></table></div>`,
  };
}

function graphSection(input: ReportInput, names: string[], color: Map<string, string>): Section {
  if ('problem' in input.graph) {
    return { id: 'graph', title: 'Rule graph', body: `<p class="note">The graph of rules could not be made: ${escapeHtml(input.graph.problem)}</p>` };
  }
  const { rules, edges } = input.graph;
  // Each rule's jobs in the last build (counted once, retried or not).
  const jobs = new Map<string, number>();
  for (const j of input.build.jobs) if (j.attempt === 1) jobs.set(j.rule, (jobs.get(j.rule) ?? 0) + 1);
  const layout = layoutRuleGraph(rules, edges);
  const paths = layout.edges
    .map(({ from, to }) => {
      const x1 = from.x + from.width;
      const y1 = from.y + from.height / 2;
      const x2 = to.x;
      const y2 = to.y + to.height / 2;
      // Backwards (a cycle): around, below both.
      if (x2 <= x1) {
        const low = Math.max(from.y, to.y) + from.height + 8;
        return `<path d="M${x1} ${y1} C${x1 + 40} ${low} ${x2 - 40} ${low} ${x2} ${y2}" class="edge back"/>`;
      }
      const mid = (x1 + x2) / 2;
      return `<path d="M${x1} ${y1} C${mid} ${y1} ${mid} ${y2} ${x2 - 2} ${y2}" class="edge"/>`;
    })
    .join('');
  const nodes = layout.nodes
    .map((n) => {
      const c = color.get(n.name) ?? ruleColor(names.length);
      const count = jobs.get(n.name) ?? 0;
      const ran = count === 0 ? 'no job in the last build' : `${plural(count, 'job')} in the last build`;
      return `<g class="node"><title>${escapeHtml(n.name)}: ${ran}</title><rect x="${n.x}" y="${n.y}" width="${n.width}" height="${n.height}" rx="7"/><rect x="${n.x}" y="${n.y}" width="5" height="${n.height}" rx="2" fill="${c}" class="stripe"/>` +
        `<text x="${n.x + 14}" y="${n.y + 19}" class="name">${escapeHtml(n.name)}</text><text x="${n.x + 14}" y="${n.y + 34}" class="count">${count === 0 ? '—' : plural(count, 'job')}</text></g>`;
    })
    .join('');
  const svg = `<svg id="rule-graph" viewBox="0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}" width="${Math.ceil(layout.width)}" height="${Math.ceil(layout.height)}" role="img" aria-label="graph of rules"><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#8a94a6"/></marker></defs>${paths}${nodes}</svg>`;
  return {
    id: 'graph',
    title: 'Rule graph',
    body: `<p class="note">The rules the default targets need, in layers from left to right; an arrow from a rule to another: jobs of the second read what jobs of the first make. Under each rule, its jobs in the last build.</p><div class="card scroll graph">${svg}</div>`,
  };
}

function reasonsSection(input: ReportInput, chip: (r: string) => string): Section {
  const groups = groupReasons(input.build);
  if (groups.length === 0) return { id: 'reasons', title: 'Why jobs ran', body: '<p class="note">No job ran in the last build.</p>' };
  const total = groups.reduce((n, g) => n + g.count, 0);
  const rows = groups
    .map(
      (g) => `<tr><th scope="row">${escapeHtml(g.kind)}</th><td>${g.count.toLocaleString('en-US')}</td><td><span class="meter"><span style="width:${Math.max(1, Math.round((g.count / total) * 100))}%"></span></span></td>` +
        `<td class="left">${g.rules.map(([r, n]) => `<span class="tag">${chip(r)}${escapeHtml(r)} <b>${n.toLocaleString('en-US')}</b></span>`).join(' ')}</td>` +
        `<td class="examples">${g.examples.map((e) => `<div><code>${escapeHtml(e.label)}</code>${e.reason !== g.kind ? ` <span class="muted">${escapeHtml(e.reason)}</span>` : ''}</div>`).join('')}</td></tr>`,
    )
    .join('');
  return {
    id: 'reasons',
    title: 'Why jobs ran',
    body: `<p class="note">The reasons of the last build's jobs (each job once), grouped by kind. ${input.build.skipped > 0 ? `${plural(input.build.skipped, 'job')} did not run after all: their inputs came out unchanged.` : ''}</p>
<div class="card scroll"><table><thead><tr><th>Reason</th><th>Jobs</th><th></th><th class="left">Rules</th><th class="left">Examples</th></tr></thead><tbody>${rows}</tbody></table></div>`,
  };
}

function failuresSection(input: ReportInput, chip: (r: string) => string): Section {
  const { failures } = input.build;
  if (failures.length === 0) return { id: 'failures', title: 'Failures', body: '<p class="note">No job failed in the last build.</p>' };
  const shown = failures.slice(0, FAILURES_SHOWN);
  const items = shown
    .map(
      (f) => `<details class="failure card"${failures.length <= 10 ? ' open' : ''}><summary>${chip(f.rule)}<code>${escapeHtml(f.label)}</code> <span class="muted">${escapeHtml(f.error)}${f.attempt > 1 ? `, attempt ${f.attempt}` : ''}${f.willRetry ? ', retried' : ''}</span></summary>` +
        `${f.command !== undefined ? `<div class="label">Command</div><pre>${escapeHtml(f.command)}</pre>` : ''}<div class="label">Last lines of output</div><pre class="tail">${f.tail === '' ? '<span class="none">(no output)</span>' : escapeHtml(f.tail)}</pre></details>`,
    )
    .join('');
  const more = failures.length > shown.length ? `<p class="note">… and ${plural(failures.length - shown.length, 'more failure')}, not shown.</p>` : '';
  return { id: 'failures', title: `Failures (${failures.length.toLocaleString('en-US')})`, body: items + more };
}

const FIT_TEXT: Record<Fit, [string, string]> = {
  ok: ['ok', 'good'],
  low: ['too little', 'bad'],
  high: ['far too much', 'warn'],
  unset: ['not set', 'neutral'],
  unknown: ['not measured', 'neutral'],
};

function fitCell(f: Fit, suggested: string | undefined): string {
  // Nothing asked for and nothing seen: nothing to say.
  if (f === 'unset' && suggested === undefined) return NONE;
  const [text, kind] = FIT_TEXT[f];
  return `<span class="pill ${kind}">${text}</span>${suggested !== undefined && f !== 'ok' && f !== 'unknown' ? ` <b>${suggested}</b>` : ''}`;
}

function resourcesSection(input: ReportInput, chip: (r: string) => string): Section {
  const advice = adviseResources(input.history, input.rules);
  const row = (a: ResourceAdvice) =>
    `<tr><th scope="row">${chip(a.rule)}${escapeHtml(a.rule)}</th><td>${a.runs.toLocaleString('en-US')}${a.failed > 0 ? ` <span class="muted">(+${a.failed} failed)</span>` : ''}</td>` +
    `<td>${a.peakRssKb === undefined ? NONE : formatKb(a.peakRssKb)}</td><td>${a.memMb === undefined ? NONE : `${a.memMb} MB`}</td><td>${fitCell(a.mem, a.suggestMemMb === undefined ? undefined : `mem_mb: ${a.suggestMemMb}`)}</td>` +
    `<td>${a.runs > 0 ? formatMs(a.medianWallMs) : NONE}</td><td>${a.runs > 0 ? formatMs(a.maxWallMs) : NONE}</td><td>${a.runtimeMin === undefined ? NONE : `${a.runtimeMin} min`}</td><td>${fitCell(a.time, a.suggestRuntimeMin === undefined ? undefined : `runtime: ${a.suggestRuntimeMin}`)}</td></tr>`;
  return {
    id: 'resources',
    title: 'Suggested resources',
    body: `<p class="note">What each rule's jobs used over the builds recorded, next to what the rule asks for (<code>resources: { mem_mb, runtime }</code>, megabytes and minutes: SLURM's <code>--mem</code> and <code>--time</code>). A request below the peak seen is <span class="pill bad">too little</span>; one more than 4× the peak is <span class="pill warn">far too much</span>. Suggested values are the peak seen plus 20%, rounded up.</p>
<div class="card scroll"><table><thead><tr><th>Rule</th><th>Runs</th><th>Peak memory</th><th>mem_mb</th><th>Memory</th><th>Median wall</th><th>Max wall</th><th>runtime</th><th>Time</th></tr></thead><tbody>${advice.map(row).join('') || '<tr><td colspan="9" class="none">No rule has run yet.</td></tr>'}</tbody></table></div>`,
  };
}

const STYLE = `
:root{--bg:#f6f7f9;--card:#fff;--ink:#1f2933;--muted:#66768a;--line:#e3e7ee;--accent:#3d6fb6;--good:#2f8f5b;--bad:#d64545;--warn:#c98a1a}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{background:var(--card);border-bottom:1px solid var(--line);padding:20px 32px 0}
.title{display:flex;align-items:center;gap:14px}
h1{font-size:22px;font-weight:650;margin:0}
h1 .file{color:var(--muted);font-weight:500;margin-left:6px}
h2{font-size:17px;font-weight:650;margin:0 0 6px}
.badge{font-size:12px;font-weight:600;padding:2px 10px;border-radius:999px;text-transform:uppercase;letter-spacing:.04em}
.badge.good{background:#e3f4ea;color:var(--good)}.badge.bad{background:#fbe6e6;color:var(--bad)}.badge.warn{background:#fbf0dc;color:var(--warn)}
.stats{display:flex;flex-wrap:wrap;gap:10px 36px;margin:16px 0 12px}
.stats div{min-width:70px}.stats dt{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}.stats dd{margin:0;font-size:16px;font-weight:600;font-variant-numeric:tabular-nums}
nav{display:flex;gap:22px;margin-top:4px}
nav a{color:var(--muted);text-decoration:none;padding:8px 0;border-bottom:2px solid transparent;font-weight:500}
nav a:hover{color:var(--accent);border-color:var(--accent)}
main{padding:8px 32px 24px;max-width:1500px}
section{margin-top:28px}
.note{color:var(--muted);margin:0 0 10px;max-width:980px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;box-shadow:0 1px 2px rgba(16,24,40,.04)}
.scroll{overflow-x:auto}
#timeline-box{padding:12px 12px 6px}
#timeline-canvas{display:block;width:100%}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;margin-top:10px;color:var(--muted)}
.legend-item{display:inline-flex;align-items:center}
.chip{display:inline-block;width:10px;height:10px;border-radius:3px;margin-right:7px;vertical-align:-1px;flex:none}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:8px 14px;text-align:right;border-bottom:1px solid var(--line);white-space:nowrap}
thead th{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600;background:#fafbfc}
tbody tr:last-child th,tbody tr:last-child td{border-bottom:0}
tbody tr:hover{background:#f9fafc}
th:first-child,td:first-child{text-align:left}
tbody th{font-weight:600}
th.left,td.left{text-align:left}
td.examples{text-align:left;white-space:normal;max-width:460px}
td.examples div{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.meter{display:inline-block;width:64px;height:6px;border-radius:3px;background:#edf0f4;vertical-align:middle;overflow:hidden}
.meter span{display:block;height:100%;background:var(--accent)}
.tag{display:inline-flex;align-items:center;margin-right:10px}
.tag b{margin-left:4px;font-weight:600}
.pill{display:inline-block;font-size:12px;padding:1px 8px;border-radius:999px;font-weight:600}
.pill.good{background:#e3f4ea;color:var(--good)}.pill.bad{background:#fbe6e6;color:var(--bad)}.pill.warn{background:#fbf0dc;color:#9a6a10}.pill.neutral{background:#eef1f5;color:var(--muted)}
.none,.muted{color:var(--muted)}
.bad-text{color:var(--bad);font-weight:600}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
.graph{padding:8px}
#rule-graph .edge{fill:none;stroke:#9aa5b5;stroke-width:1.4;marker-end:url(#arrow)}
#rule-graph .edge.back{stroke-dasharray:4 3}
#rule-graph .node rect{fill:#fff;stroke:#cfd6e0}
#rule-graph .node rect.stripe{stroke:none}
#rule-graph .name{font-size:13px;font-weight:600;fill:var(--ink)}
#rule-graph .count{font-size:11.5px;fill:var(--muted)}
details.failure{margin-bottom:10px;padding:0 16px}
details.failure summary{cursor:pointer;padding:12px 0;display:flex;align-items:center;gap:6px}
details.failure summary code{font-weight:600}
details.failure .label{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);margin-top:4px}
pre{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:10px 12px;overflow:auto;max-height:360px;margin:4px 0 12px}
pre.tail{background:#1e2430;color:#e6e9ef;border-color:#1e2430}
footer{color:var(--muted);font-size:12px;padding:8px 32px 32px}
#tip{position:fixed;z-index:10;pointer-events:none;background:#1e2430;color:#f3f5f8;border-radius:8px;padding:8px 11px;font-size:12.5px;line-height:1.45;max-width:460px;box-shadow:0 6px 20px rgba(0,0,0,.2)}
#tip b{font-weight:600}#tip .k{color:#9aa7b8;display:inline-block;min-width:64px}
#tip .r{word-break:break-all}
`;

// The page's script: draws the timeline on a canvas from the JSON beside it,
// and shows a tooltip for the bar or slice under the pointer. It marks the
// canvas with how many bars it drew (`data-bars`), which the tests read.
const SCRIPT = `
(function(){
'use strict';
var canvas=document.getElementById('timeline-canvas');
var D=JSON.parse(document.getElementById('timeline-data').textContent);
var tip=document.getElementById('tip');
var GUTTER=64, AXIS=26;
var laneH=D.lanes<=4?32:D.lanes<=16?24:D.lanes<=48?14:Math.max(4,Math.floor(640/D.lanes));
var span=Math.max(D.durationMs,1);
if(D.mode==='bars'){for(var i=0;i<D.end.length;i++)if(D.end[i]>span)span=D.end[i];}
var byLane=[];
if(D.mode==='bars'){
  for(var l=0;l<D.lanes;l++)byLane.push([]);
  for(var k=0;k<D.lane.length;k++)byLane[D.lane[k]].push(k);
  byLane.forEach(function(a){a.sort(function(x,y){return D.start[x]-D.start[y];});});
}
function fmt(ms){
  if(ms<1000)return Math.round(ms)+' ms';
  var s=ms/1000; if(s<60)return (s<10?s.toFixed(2):s.toFixed(1))+' s';
  var m=Math.floor(s/60); if(m<60)return m+' min '+String(Math.floor(s%60)).padStart(2,'0')+' s';
  return Math.floor(m/60)+' h '+String(m%60).padStart(2,'0')+' min';
}
function kb(v){var mb=v/1024;return mb<10?mb.toFixed(1)+' MB':mb<1024?Math.round(mb)+' MB':(mb/1024).toFixed(1)+' GB';}
function esc(s){return String(s).replace(/[&<>"]/g,function(c){return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c];});}
function tickText(t,step){
  if(step<1000)return Math.round(t)+' ms';
  if(t<60000)return +(t/1000).toFixed(step%1000?1:0)+' s';
  var m=Math.floor(t/60000),sec=Math.round(t%60000/1000);
  if(m<60)return m+' min'+(sec?' '+sec+' s':'');
  return Math.floor(m/60)+' h'+(m%60?' '+(m%60)+' min':'');
}
function tick(ms){var steps=[1,2,5,10,20,50,100,200,500,1e3,2e3,5e3,1e4,2e4,3e4,6e4,12e4,3e5,6e5,12e5,18e5,36e5,72e5];for(var i=0;i<steps.length;i++)if(steps[i]>=ms)return steps[i];return 144e5;}
var width=0;
function draw(){
  var box=canvas.parentNode;
  width=Math.max(300,box.clientWidth-24);
  var height=D.lanes*laneH+AXIS;
  var dpr=window.devicePixelRatio||1;
  canvas.width=Math.round(width*dpr);canvas.height=Math.round(height*dpr);
  canvas.style.height=height+'px';
  var g=canvas.getContext('2d');
  g.setTransform(dpr,0,0,dpr,0,0);
  g.clearRect(0,0,width,height);
  var w=width-GUTTER-8;
  var x=function(ms){return GUTTER+ms/span*w;};
  g.font='11px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif';
  g.textBaseline='middle';
  for(var l=0;l<D.lanes;l++){
    var y=l*laneH;
    g.fillStyle=l%2?'#fbfcfd':'#f3f5f8';g.fillRect(GUTTER,y,w,laneH);
    if(laneH>=12||l%Math.ceil(12/laneH)===0){g.fillStyle='#66768a';g.textAlign='right';g.fillText('slot '+(l+1),GUTTER-10,y+Math.max(laneH,12)/2);}
  }
  var step=tick(span/8);
  g.strokeStyle='#e3e7ee';g.fillStyle='#66768a';g.textAlign='center';
  for(var t=0;t<=span+1e-9;t+=step){
    var tx=Math.round(x(t))+0.5;
    g.beginPath();g.moveTo(tx,0);g.lineTo(tx,D.lanes*laneH+4);g.stroke();
    g.fillText(tickText(t,step),Math.min(Math.max(tx,GUTTER+14),width-24),D.lanes*laneH+15);
  }
  var bars=0;
  var pad=laneH>=12?3:laneH>=6?1:0;
  if(D.mode==='bars'){
    for(var k=0;k<D.lane.length;k++){
      var bx=x(D.start[k]),bw=Math.max(1.5,x(D.end[k])-bx),by=D.lane[k]*laneH+pad,bh=laneH-2*pad;
      g.fillStyle=D.colors[D.rule[k]];
      g.globalAlpha=D.status[k]===0?1:0.55;
      g.fillRect(bx,by,bw,bh);
      g.globalAlpha=1;
      if(D.status[k]!==0){
        g.lineWidth=2;g.strokeStyle=D.status[k]===1?'#d64545':'#e0a030';
        g.strokeRect(bx+1,by+1,Math.max(0,bw-2),Math.max(0,bh-2));
      }else if(bw>3&&laneH>=12){g.fillStyle='rgba(255,255,255,.55)';g.fillRect(bx+bw-1,by,1,bh);}
      bars++;
    }
  }else{
    var cw=w/D.bins;
    for(var l2=0;l2<D.lanes;l2++)for(var b=0;b<D.bins;b++){
      var c=l2*D.bins+b;if(D.rule[c]<0||D.busy[c]===0)continue;
      var h=Math.max(1,(laneH-2*pad)*D.busy[c]/100);
      g.fillStyle=D.colors[D.rule[c]];
      g.fillRect(GUTTER+b*cw,l2*laneH+laneH-pad-h,Math.max(cw,1),h);
      bars++;
    }
  }
  canvas.setAttribute('data-bars',String(bars));
}
function at(ev){
  var r=canvas.getBoundingClientRect();
  var px=ev.clientX-r.left,py=ev.clientY-r.top;
  var lane=Math.floor(py/laneH);
  if(lane<0||lane>=D.lanes||px<GUTTER)return null;
  var w=width-GUTTER-8,t=(px-GUTTER)/w*span,slack=3/w*span;
  if(D.mode==='bars'){
    var a=byLane[lane],lo=0,hi=a.length-1,best=-1;
    while(lo<=hi){var m=(lo+hi)>>1;if(D.start[a[m]]<=t+slack){best=m;lo=m+1;}else hi=m-1;}
    for(var i=best;i>=0&&i>=best-3;i--){var k=a[i];if(D.end[k]>=t-slack&&D.start[k]<=t+slack)return {bar:k};}
    return null;
  }
  var b=Math.floor((px-GUTTER)/w*D.bins);if(b<0||b>=D.bins)return null;
  return {lane:lane,bin:b};
}
var STATUS=['ok','failed','retried','skipped'];
function show(ev){
  var hit=at(ev);
  if(!hit){tip.hidden=true;return;}
  var h;
  if(hit.bar!==undefined){
    var k=hit.bar,wall=D.end[k]-D.start[k],rule=D.rules[D.rule[k]];
    h='<b>'+esc(D.label[k])+'</b><br><span class="k">rule</span>'+esc(rule)+'<br><span class="k">status</span>'+STATUS[D.status[k]]+(D.attempt[k]>1?' (attempt '+D.attempt[k]+')':'')+
      '<br><span class="k">reason</span><span class="r">'+esc(D.reason[k]||'—')+'</span><br><span class="k">start</span>'+fmt(D.start[k])+'<br><span class="k">duration</span>'+fmt(wall)+
      '<br><span class="k">CPU</span>'+(D.cpu[k]===null?'—':fmt(D.cpu[k])+(wall>0?' ('+Math.round(D.cpu[k]/(wall*Math.max(1,D.cpus[D.rule[k]]))*100)+'% of '+D.cpus[D.rule[k]]+' CPU'+(D.cpus[D.rule[k]]===1?'':'s')+')':''))+
      '<br><span class="k">memory</span>'+(D.rss[k]===null?'—':kb(D.rss[k]));
  }else{
    var c=hit.lane*D.bins+hit.bin;
    h='<b>slot '+(hit.lane+1)+'</b>, '+fmt(hit.bin*D.binMs)+' – '+fmt((hit.bin+1)*D.binMs)+'<br><span class="k">busy</span>'+D.busy[c]+'%'+
      (D.rule[c]>=0?'<br><span class="k">mostly</span>'+esc(D.rules[D.rule[c]]):'')+'<br><span class="k">started</span>'+D.jobs[c]+' job'+(D.jobs[c]===1?'':'s');
  }
  tip.innerHTML=h;tip.hidden=false;
  var tx=ev.clientX+14,ty=ev.clientY+14;
  if(tx+tip.offsetWidth>window.innerWidth-8)tx=ev.clientX-tip.offsetWidth-14;
  if(ty+tip.offsetHeight>window.innerHeight-8)ty=ev.clientY-tip.offsetHeight-14;
  tip.style.left=tx+'px';tip.style.top=ty+'px';
}
canvas.addEventListener('mousemove',show);
canvas.addEventListener('mouseleave',function(){tip.hidden=true;});
window.addEventListener('resize',draw);
draw();
})();
`;
