// The graph of rules for `rules report` (graph/rulegraph.ts finds it): laid out in layers from left to right (each rule one layer
// further than the furthest rule it reads from), drawn as inline SVG.

export type RuleEdge = readonly [from: string, to: string];

/**
 * Each rule's layer: 0 for a rule that reads from no other, else one more
 * than the highest layer it reads from (longest-path layering). Edges that
 * close a cycle (found depth first, in the order given) are left out of it.
 */
export function ruleLayers(rules: readonly string[], edges: readonly RuleEdge[]): Map<string, number> {
  const out = new Map<string, string[]>(rules.map((r) => [r, []]));
  for (const [from, to] of edges) {
    if (!out.has(from)) out.set(from, []);
    if (!out.has(to)) out.set(to, []);
    if (from !== to) out.get(from)!.push(to);
  }
  // Depth-first: a topological order of the rules, skipping back edges.
  const state = new Map<string, 1 | 2>();
  const order: string[] = [];
  for (const root of out.keys()) {
    if (state.has(root)) continue;
    const stack: [string, number][] = [[root, 0]];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const next = out.get(top[0])![top[1]++];
      if (next === undefined) {
        state.set(top[0], 2);
        order.push(top[0]);
        stack.pop();
      } else if (!state.has(next)) {
        state.set(next, 1);
        stack.push([next, 0]);
      }
    }
  }
  order.reverse();
  const position = new Map(order.map((r, i) => [r, i]));
  const layer = new Map<string, number>(order.map((r) => [r, 0]));
  for (const r of order) {
    for (const to of out.get(r)!) {
      // An edge backwards in the order closes a cycle.
      if (position.get(to)! <= position.get(r)!) continue;
      layer.set(to, Math.max(layer.get(to)!, layer.get(r)! + 1));
    }
  }
  return layer;
}

export interface PlacedRule {
  name: string;
  layer: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface RuleGraphLayout {
  nodes: PlacedRule[];
  edges: { from: PlacedRule; to: PlacedRule }[];
  width: number;
  height: number;
}

const NODE_HEIGHT = 44;
const ROW_GAP = 14;
const LAYER_GAP = 40;
const MARGIN = 12;
/** Rough width of a character of the node's label, in pixels at the page's font size. */
const CHAR_WIDTH = 7.4;

/** Where each rule goes: layers as columns, rules in a column ordered to keep edges short (by the mean row of what they read). */
export function layoutRuleGraph(rules: readonly string[], edges: readonly RuleEdge[]): RuleGraphLayout {
  const layer = ruleLayers(rules, edges);
  const columns: string[][] = [];
  for (const [r, l] of layer) (columns[l] ??= []).push(r);
  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>();
  for (const [from, to] of edges) {
    if (from === to) continue;
    (preds.get(to) ?? preds.set(to, []).get(to)!).push(from);
    (succs.get(from) ?? succs.set(from, []).get(from)!).push(to);
  }
  // A few sweeps of the barycentre heuristic, down the layers then back up.
  const row = new Map<string, number>();
  const number = () => columns.forEach((c) => c.forEach((r, i) => row.set(r, i)));
  number();
  const sortBy = (col: string[], neighbours: Map<string, string[]>) => {
    const key = new Map(col.map((r) => {
      const n = (neighbours.get(r) ?? []).map((x) => row.get(x)!);
      return [r, n.length === 0 ? row.get(r)! : n.reduce((a, b) => a + b, 0) / n.length] as const;
    }));
    col.sort((a, b) => key.get(a)! - key.get(b)!);
    col.forEach((r, i) => row.set(r, i));
  };
  for (let sweep = 0; sweep < 4; sweep++) {
    for (let l = 1; l < columns.length; l++) sortBy(columns[l] ?? [], preds);
    for (let l = columns.length - 2; l >= 0; l--) sortBy(columns[l] ?? [], succs);
  }
  const tallest = Math.max(1, ...columns.map((c) => c.length));
  const height = MARGIN * 2 + tallest * NODE_HEIGHT + (tallest - 1) * ROW_GAP;
  const nodes = new Map<string, PlacedRule>();
  let x = MARGIN;
  columns.forEach((col, l) => {
    const width = Math.max(90, ...col.map((r) => Math.ceil(r.length * CHAR_WIDTH) + 28));
    const colHeight = col.length * NODE_HEIGHT + (col.length - 1) * ROW_GAP;
    let y = (height - colHeight) / 2;
    for (const r of col) {
      nodes.set(r, { name: r, layer: l, x, y, width, height: NODE_HEIGHT });
      y += NODE_HEIGHT + ROW_GAP;
    }
    x += width + LAYER_GAP;
  });
  return {
    nodes: [...nodes.values()],
    edges: edges.filter(([f, t]) => f !== t).map(([f, t]) => ({ from: nodes.get(f)!, to: nodes.get(t)! })),
    width: Math.max(x - LAYER_GAP + MARGIN, 100),
    height,
  };
}
