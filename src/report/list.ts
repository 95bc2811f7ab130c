// `rules list`: every rule with its description, inputs and outputs.

import type { InputGroup, Project, Rule } from '../rulefile/model.js';

function describeInputs(groups: InputGroup[]): string {
  const items = groups.flatMap((g) =>
    g.items.map((item) => {
      const text = item.expand ? `expand(${item.template.source}: ${item.expand.map((e) => e.name).join(', ')})` : item.template.source;
      return g.name ? `${g.name}=${text}` : text;
    }),
  );
  return items.join(' ');
}

/** An output as written, marked `(temp)` when it is temporary (SPEC §7). */
function describeOutput(rule: Rule, name: string | undefined, source: string, i: number): string {
  const text = name ? `${name}=${source}` : source;
  return rule.temp?.outputs.has(i) === true ? `${text} (temp)` : text;
}

/** `implicit`: each rule's inputs that the Rulefile does not spell out (SPEC §6), listed after the declared ones. */
export function formatRuleList(project: Project, implicit?: ReadonlyMap<Rule, readonly string[]>): string {
  let out = '';
  for (const rule of project.rules) {
    out += rule.description ? `${rule.name}: ${rule.description}\n` : `${rule.name}\n`;
    const inputs = [describeInputs(rule.inputs), ...(implicit?.get(rule) ?? [])].filter(Boolean).join(' ');
    if (inputs) out += `  inputs:  ${inputs}\n`;
    const order = describeInputs(rule.orderOnly);
    if (order) out += `  order-only: ${order}\n`;
    if (rule.outputs.length > 0) out += `  outputs: ${rule.outputs.map((o, i) => describeOutput(rule, o.name, o.template.source, i)).join(' ')}\n`;
    else out += `  outputs: (none: built by name, always runs)\n`;
  }
  return out;
}
