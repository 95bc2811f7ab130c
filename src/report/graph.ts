// Exports the DAG as Graphviz dot, Mermaid or JSON; stale jobs are marked.

import { allInputs, orderOnlyDeps, pathFrom, type Job } from '../graph/model.js';
import type { Plan } from '../plan/plan.js';
import { reasonText } from './reason.js';

export type GraphFormat = 'dot' | 'mermaid' | 'json';

function quoteDot(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function formatGraph(plan: Plan, format: GraphFormat): string {
  const { graph, reasons } = plan;
  const sourceId = new Map(graph.sources.map((s, i) => [s, `s${i}`]));
  // The files commands name (SPEC §6) that no rule makes are sources too.
  const seenImplicit = new Set<readonly string[]>();
  for (const job of graph.jobs) {
    if (job.implicitInputs.length === 0 || seenImplicit.has(job.implicitInputs)) continue;
    seenImplicit.add(job.implicitInputs);
    for (const p of job.implicitInputs) if (!sourceId.has(p) && !graph.producers.get(p)) sourceId.set(p, `s${sourceId.size}`);
  }
  // A glob waiting for a directory a job makes (SPEC §7) is one dashed node between that job and the glob's job.
  const pendingNodes: { id: string; job: Job; pattern: string; producer: Job }[] = [];
  for (const job of graph.jobs) for (const g of job.pending ?? []) pendingNodes.push({ id: `p${pendingNodes.length}`, job, pattern: g.pattern, producer: g.producer });
  const pendingLabel = (n: (typeof pendingNodes)[number]) => `${n.pattern}\n(known once ${n.producer.label} has run)`;
  /** Whether `job` needs `dep` only for a pending glob: the edge goes through the glob's node. */
  const throughPending = (job: Job, dep: Job) => job.pending !== undefined && pathFrom(graph, job, dep)?.endsWith('/') === true && job.pending.some((g) => g.producer === dep);
  const jobLines = (job: Job) => (job.rule.phony ? job.label : `${job.label}\n${job.outputs.join('\n')}`);
  const inputEdges = function* (job: Job) {
    for (const p of [...allInputs(job), ...job.orderOnly]) {
      const producer = graph.producers.get(p);
      if (producer) continue;
      const s = sourceId.get(p);
      if (s) yield { from: s, orderOnly: job.orderOnly.includes(p) };
    }
  };

  if (format === 'json') {
    return (
      JSON.stringify(
        {
          jobs: graph.jobs.map((job) => ({
            id: job.id,
            rule: job.rule.name,
            label: job.label,
            wildcards: job.wildcards,
            outputs: job.outputs,
            inputs: allInputs(job),
            orderOnly: job.orderOnly,
            deps: job.deps.map((d) => d.id),
            ...(job.pending ? { pending: job.pending.map((g) => ({ glob: g.pattern, after: g.producer.id })) } : {}),
            stale: reasons.has(job),
            ...(reasons.has(job) ? { reason: reasonText(reasons.get(job)!) } : {}),
          })),
          sources: [...sourceId.keys()],
          targets: graph.targets.map((t) => t.id),
        },
        null,
        2,
      ) + '\n'
    );
  }

  if (format === 'mermaid') {
    const esc = (s: string) => s.replace(/"/g, '#quot;').replace(/\n/g, '<br/>');
    let out = 'flowchart LR\n';
    for (const [path, id] of sourceId) out += `  ${id}[("${esc(path)}")]\n`;
    for (const job of graph.jobs) out += `  j${job.id}["${esc(jobLines(job))}"]\n`;
    for (const n of pendingNodes) out += `  ${n.id}[/"${esc(pendingLabel(n))}"/]\n  j${n.producer.id} -.-> ${n.id}\n  ${n.id} -.-> j${n.job.id}\n`;
    for (const job of graph.jobs) {
      const weak = orderOnlyDeps(graph, job);
      for (const d of job.deps) if (!throughPending(job, d)) out += `  j${d.id} ${weak.has(d) ? '-.->' : '-->'} j${job.id}\n`;
      for (const e of inputEdges(job)) out += `  ${e.from} ${e.orderOnly ? '-.->' : '-->'} j${job.id}\n`;
    }
    out += '  classDef stale fill:#fde2e1,stroke:#c0392b,stroke-width:2px\n';
    const stale = graph.jobs.filter((j) => reasons.has(j)).map((j) => `j${j.id}`);
    if (stale.length > 0) out += `  class ${stale.join(',')} stale\n`;
    return out;
  }

  let out = 'digraph rules {\n  rankdir=LR;\n  node [fontname="Helvetica", fontsize=10];\n';
  for (const [path, id] of sourceId) out += `  ${id} [label=${quoteDot(path)}, shape=note];\n`;
  for (const job of graph.jobs) {
    const stale = reasons.has(job);
    const attrs = [`label=${quoteDot(jobLines(job) + (stale ? `\n(stale: ${reasonText(reasons.get(job)!)})` : ''))}`, 'shape=box'];
    if (stale) attrs.push('color=red', 'style=bold');
    out += `  j${job.id} [${attrs.join(', ')}];\n`;
  }
  for (const n of pendingNodes) {
    out += `  ${n.id} [label=${quoteDot(pendingLabel(n))}, shape=folder, style=dashed];\n`;
    out += `  j${n.producer.id} -> ${n.id} [style=dashed];\n  ${n.id} -> j${n.job.id} [style=dashed];\n`;
  }
  for (const job of graph.jobs) {
    const weak = orderOnlyDeps(graph, job);
    for (const d of job.deps) if (!throughPending(job, d)) out += `  j${d.id} -> j${job.id}${weak.has(d) ? ' [style=dashed]' : ''};\n`;
    for (const e of inputEdges(job)) out += `  ${e.from} -> j${job.id}${e.orderOnly ? ' [style=dashed]' : ''};\n`;
  }
  return out + '}\n';
}
