// The page of `rules report`: its sections from chosen history, one file with
// nothing fetched, the timeline's data per bar at a few jobs and binned at
// many, and the graph of rules laid out in layers.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BuildTimeline, TimelineJob } from '../../../src/state/history.js';
import { escapeHtml, FAILURES_SHOWN, formatKb, formatMs, reportHtml, timelineData, type ReportInput } from '../../../src/report/html.js';
import { layoutRuleGraph, ruleLayers } from '../../../src/report/rulegraph.js';
import { BAR_LIMIT } from '../../../src/report/summary.js';

function job(rule: string, i: number, more: Partial<TimelineJob> = {}): TimelineJob {
  return { label: `${rule}[n=${i}]`, rule, lane: i % 4, startMs: i * 10, endMs: i * 10 + 9, status: 'ok', reason: `output missing: out/${i}`, attempt: 1, ...more };
}

function input(jobs: TimelineJob[], more: Partial<ReportInput> = {}, build: Partial<BuildTimeline> = {}): ReportInput {
  return {
    title: 'Rulefile',
    build: { version: 1, startedAt: Date.UTC(2026, 0, 2, 3, 4, 5), durationMs: 1000, slots: 4, total: jobs.length, upToDate: 0, ok: true, interrupted: false, ran: jobs.length, skipped: 0, failed: 0, notRun: 0, jobs, failures: [], ...build },
    rules: [{ name: 'align', cpus: 2, memMb: 2000, runtimeMin: 60 }, { name: 'call', cpus: 1 }],
    graph: { rules: ['align', 'call'], edges: [['align', 'call']] },
    now: Date.UTC(2026, 0, 2, 4, 0, 0),
    version: '9.9.9',
    ...more,
  };
}

/** The JSON the page's script draws the timeline from. */
function dataOf(html: string): Record<string, unknown> {
  const m = /<script type="application\/json" id="timeline-data">(.*?)<\/script>/s.exec(html);
  assert.ok(m, 'the timeline data is in the page');
  return JSON.parse(m[1]!) as Record<string, unknown>;
}

describe('reportHtml', () => {
  test('every section, every rule, the failures with their output; nothing outside the file', () => {
    const html = reportHtml(
      input([job('align', 0, { maxRssKb: 1024 * 700, cpuMs: 5 }), job('align', 1), job('call', 2, { status: 'failed' })], {
        history: { version: 1, rules: { align: { runs: 2, failed: 0, maxWallMs: 9, totalWallMs: 18, recentWallMs: [9, 9], maxRssKb: 1024 * 700, cpuMs: 5, cpuWallMs: 9, lastAt: 0 } } },
      }, { ok: false, failed: 1, failures: [{ label: 'call[n=2]', rule: 'call', error: 'exit status 3', command: 'caller --in x </dev/null', tail: 'line 1\nsegfault <here>', attempt: 1, willRetry: false }] }),
    );
    for (const id of ['timeline', 'rules', 'graph', 'reasons', 'failures', 'resources']) assert.match(html, new RegExp(`<section id="${id}">`));
    for (const rule of ['align', 'call']) assert.ok(html.includes(`>${rule}<`), rule);
    assert.match(html, /segfault &lt;here&gt;/, 'output is escaped');
    assert.match(html, /caller --in x &lt;\/dev\/null/);
    assert.match(html, /exit status 3/);
    assert.match(html, /class="badge bad">failed/);
    // 2000 MB asked for, 700 MB seen: within 4×, and 60 min for 9 ms is far too much.
    assert.match(html, /pill good">ok/);
    assert.match(html, /far too much<\/span> <b>runtime: 1<\/b>/);
    assert.doesNotMatch(html, /https?:\/\//);
    assert.doesNotMatch(html, /\ssrc=/);
    assert.doesNotMatch(html, /<link/);
  });

  test('text from the build cannot close the script that carries it', () => {
    const html = reportHtml(input([job('align', 0, { label: '</script><script>alert(1)</script>' })]));
    assert.equal(html.match(/<\/script>/g)!.length, 2, 'the data script and the page script');
    assert.equal((dataOf(html).label as string[])[0], '</script><script>alert(1)</script>');
  });

  test('up to BAR_LIMIT jobs: a bar per job that ran, with what the tooltip shows', () => {
    const jobs = [job('align', 0, { cpuMs: 7, maxRssKb: 99 }), job('call', 1, { status: 'retried', attempt: 1 }), job('call', 2, { attempt: 2 }), job('call', 3, { lane: -1, status: 'skipped' })];
    const d = timelineData(input(jobs), ['align', 'call']);
    assert.equal(d.mode, 'bars');
    assert.deepEqual(d.label, ['align[n=0]', 'call[n=1]', 'call[n=2]']);
    assert.deepEqual(d.status, [0, 2, 0]);
    assert.deepEqual(d.cpu, [7, null, null]);
    assert.deepEqual(d.rss, [99, null, null]);
    assert.deepEqual(d.cpus, [2, 1]);
  });

  test('past BAR_LIMIT jobs: the timeline is binned and the page stays small', () => {
    const n = BAR_LIMIT * 20;
    const jobs = Array.from({ length: n }, (_, i) => job(i % 2 ? 'align' : 'call', i, { lane: i % 16, startMs: Math.floor(i / 16) * 10, endMs: Math.floor(i / 16) * 10 + 10 }));
    const failures = Array.from({ length: 200 }, (_, i) => ({ label: `call[n=${i}]`, rule: 'call', error: 'exit status 1', tail: 'x', attempt: 1, willRetry: false }));
    const html = reportHtml(input(jobs, {}, { slots: 16, durationMs: (n / 16) * 10, failures }));
    const d = dataOf(html);
    assert.equal(d.mode, 'bins');
    assert.equal(d.jobsDrawn, n);
    assert.equal((d.busy as number[]).length, 16 * 1200);
    assert.ok((d.busy as number[]).every((v) => v === 100), 'every lane busy all the time');
    assert.match(html, /aggregated/);
    assert.equal(html.match(/<details class="failure/g)!.length, FAILURES_SHOWN);
    assert.match(html, /and 150 more failures/);
    assert.ok(html.length < 1_000_000, `${html.length} characters`);
  });

  test('no graph: the reason instead', () => {
    const html = reportHtml(input([job('align', 0)], { graph: { problem: "missing source 'in.txt'" } }));
    assert.match(html, /could not be made: missing source &#39;in.txt&#39;/);
  });
});

describe('formatting', () => {
  test('times and sizes', () => {
    assert.equal(formatMs(340.4), '340 ms');
    assert.equal(formatMs(1234), '1.23 s');
    assert.equal(formatMs(12_345), '12.3 s');
    assert.equal(formatMs(245_000), '4 min 05 s');
    assert.equal(formatMs(2 * 3600_000 + 3 * 60_000), '2 h 03 min');
    assert.equal(formatKb(1536), '1.5 MB');
    assert.equal(formatKb(700 * 1024), '700 MB');
    assert.equal(formatKb(3 * 1024 * 1024), '3.0 GB');
    assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('rule graph layout', () => {
  test('longest-path layers: a rule is one layer past the furthest rule it reads from', () => {
    const layers = ruleLayers(['all', 'a', 'b', 'c', 'lonely'], [['a', 'b'], ['b', 'c'], ['a', 'c'], ['c', 'all'], ['a', 'all']]);
    assert.deepEqual(Object.fromEntries(layers), { a: 0, b: 1, c: 2, all: 3, lonely: 0 });
  });

  test('a cycle between rules is broken, not followed forever', () => {
    const layers = ruleLayers(['x', 'y', 'z'], [['x', 'y'], ['y', 'z'], ['z', 'y'], ['y', 'y']]);
    assert.equal(layers.get('x'), 0);
    assert.equal(layers.get('y'), 1);
    assert.equal(layers.get('z'), 2);
  });

  test('20 rules in a diamond chain: columns left to right, no two nodes overlapping, each edge going right', () => {
    const rules = Array.from({ length: 20 }, (_, i) => `rule_${i}`);
    const edges: [string, string][] = [];
    for (let i = 0; i + 2 < 20; i += 2) edges.push([rules[i]!, rules[i + 1]!], [rules[i]!, rules[i + 2]!], [rules[i + 1]!, rules[i + 2]!]);
    const g = layoutRuleGraph(rules, edges);
    assert.equal(g.nodes.length, 20);
    assert.equal(g.edges.length, edges.length);
    for (const e of g.edges) assert.ok(e.to.x > e.from.x + e.from.width, `${e.from.name} → ${e.to.name}`);
    for (const a of g.nodes) {
      assert.ok(a.x >= 0 && a.y >= 0 && a.x + a.width <= g.width && a.y + a.height <= g.height, `${a.name} inside`);
      for (const b of g.nodes) if (a !== b) assert.ok(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y, `${a.name} and ${b.name} apart`);
    }
  });
});
