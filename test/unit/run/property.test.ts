// Property: whatever is edited, touched or deleted between builds, and
// whatever fails on the way, after every successful build each output equals
// what a from-scratch build would produce, and a second build does nothing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import { buildOnce, expectedContents, MemoryState } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom } from '../../support/project.js';
import { rng } from '../../support/rng.js';

interface Dag {
  sources: string[];
  rules: { out: string; inputs: string[]; orderOnly: string[]; version: string; param: boolean }[];
  config: Record<string, number>;
}

function randomDag(r: () => number): Dag {
  const pick = (n: number) => Math.floor(r() * n);
  const sources = Array.from({ length: 2 + pick(3) }, (_, i) => `src${i}.txt`);
  const rules: Dag['rules'] = [];
  const n = 3 + pick(5);
  for (let i = 0; i < n; i++) {
    const pool = [...sources, ...rules.map((x) => x.out)];
    const inputs = pool.filter(() => r() < 0.4);
    if (inputs.length === 0) inputs.push(pool[pick(pool.length)]!);
    const orderOnly = r() < 0.2 ? [pool[pick(pool.length)]!].filter((p) => !inputs.includes(p)) : [];
    rules.push({ out: `f${i}.txt`, inputs, orderOnly, version: 'v1', param: r() < 0.5 });
  }
  return { sources, rules, config: Object.fromEntries(rules.map((_, i) => [`p${i}`, 1])) };
}

function rulefile(dag: Dag): string {
  let text = 'config:\n';
  for (const [k, v] of Object.entries(dag.config)) text += `  ${k}: ${v}\n`;
  text += 'rules:\n  all:\n    inputs: [' + dag.rules.map((x) => x.out).join(', ') + ']\n';
  dag.rules.forEach((x, i) => {
    text += `  r${i}:\n    inputs: [${x.inputs.join(', ')}]\n    outputs: ${x.out}\n`;
    if (x.orderOnly.length > 0) text += `    order_only: [${x.orderOnly.join(', ')}]\n`;
    if (x.param) text += `    params: { p: "{config.p${i}}" }\n    run: step${i} ${x.version} {params.p} {input}\n`;
    else text += `    run: step${i} ${x.version} {input}\n`;
  });
  return text;
}

test('random DAGs, random edits: every build equals a from-scratch build', async () => {
  const seeds = 40;
  let builds = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const r = rng(seed);
    const pick = (n: number) => Math.floor(r() * n);
    const dag = randomDag(r);
    const fs = new FakeFileSystem();
    for (const s of dag.sources) fs.put(s, `${s} v0\n`);
    const state = new MemoryState();
    let failing = -1;
    const history: string[] = [];
    for (let round = 0; round < 8; round++) {
      // Mutate.
      const edits = round === 0 ? 0 : 1 + pick(3);
      for (let e = 0; e < edits; e++) {
        const kind = pick(7);
        const outputs = dag.rules.map((x) => x.out).filter((o) => fs.has(o));
        if (kind === 0) {
          const s = dag.sources[pick(dag.sources.length)]!;
          fs.put(s, `${s} v${round}.${e}\n`);
          history.push(`edit ${s}`);
        } else if (kind === 1) {
          const s = dag.sources[pick(dag.sources.length)]!;
          fs.touch(s);
          history.push(`touch ${s}`);
        } else if (kind === 2 && outputs.length > 0) {
          const o = outputs[pick(outputs.length)]!;
          fs.remove(o);
          history.push(`delete ${o}`);
        } else if (kind === 3 && outputs.length > 0) {
          const o = outputs[pick(outputs.length)]!;
          fs.put(o, 'edited by hand\n');
          history.push(`hand-edit ${o}`);
        } else if (kind === 4) {
          const i = pick(dag.rules.length);
          dag.rules[i]!.version = `v${round}${e}`;
          history.push(`command r${i}`);
        } else if (kind === 5) {
          const i = pick(dag.rules.length);
          dag.config[`p${i}`] = round * 10 + e;
          history.push(`config p${i}`);
        } else if (kind === 6 && outputs.length > 0) {
          // Re-run an upstream job that makes the same bytes: only its dependents' early cutoff can save work.
          const o = outputs[pick(outputs.length)]!;
          fs.touch(o);
          history.push(`touch ${o}`);
        }
      }
      // Sometimes a job fails in this round; the next round must recover.
      if (failing < 0 && r() < 0.2) {
        failing = pick(dag.rules.length);
        dag.rules[failing]!.version += '-FAIL';
        history.push(`r${failing} fails`);
      } else if (failing >= 0) {
        dag.rules[failing]!.version = dag.rules[failing]!.version.replace('-FAIL', '');
        failing = -1;
        history.push('failure fixed');
      }
      const project = projectFrom(rulefile(dag));
      const b = await buildOnce(project, ['all'], fs, state, { keepGoing: r() < 0.5 });
      builds++;
      const context = `seed ${seed}, round ${round}, after: ${history.join('; ')}`;
      if (failing >= 0) {
        assert.equal(b.result.ok, false, context);
        continue;
      }
      assert.equal(b.result.ok, true, context);
      const graph = buildGraph(project, ['all'], fs);
      const expected = expectedContents(project, graph.jobs, fs);
      for (const [out, content] of expected) assert.equal(fs.read(out), content, `${out} is wrong (${context})`);
      const again = await buildOnce(project, ['all'], fs, state);
      builds++;
      assert.deepEqual(again.ran, [], `a second build runs nothing (${context})`);
    }
  }
  assert.ok(builds > 400, `ran ${builds} builds`);
});
