// Property, with temporary outputs (SPEC §7): random DAGs where some rules are
// `temp`, random edits (sources, commands, params; outputs deleted or edited
// by hand, temporary ones recreated), builds that sometimes fail: after every
// successful build each output that is there equals what a from-scratch build
// makes, every output the targets need that is not temporary is there, and
// a second build runs nothing.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import { buildOnce, expectedContents, MemoryState } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom } from '../../support/project.js';
import { rng } from '../../support/rng.js';

interface Dag {
  sources: string[];
  rules: { out: string; inputs: string[]; version: string; param: boolean; temp: boolean }[];
  config: Record<string, number>;
}

function randomDag(r: () => number): Dag {
  const pick = (n: number) => Math.floor(r() * n);
  const sources = Array.from({ length: 2 + pick(2) }, (_, i) => `src${i}.txt`);
  const rules: Dag['rules'] = [];
  const n = 4 + pick(5);
  for (let i = 0; i < n; i++) {
    const pool = [...sources, ...rules.map((x) => x.out)];
    const inputs = pool.filter(() => r() < 0.4);
    if (inputs.length === 0) inputs.push(pool[pick(pool.length)]!);
    rules.push({ out: `f${i}.txt`, inputs, version: 'v1', param: r() < 0.5, temp: r() < 0.5 });
  }
  return { sources, rules, config: Object.fromEntries(rules.map((_, i) => [`p${i}`, 1])) };
}

/** `all` needs the outputs that are not temporary: the temporary ones are built only as some job's input. */
function rulefile(dag: Dag): string {
  let text = 'config:\n';
  for (const [k, v] of Object.entries(dag.config)) text += `  ${k}: ${v}\n`;
  const finals = dag.rules.filter((x) => !x.temp).map((x) => x.out);
  text += `rules:\n  all:\n    inputs: [${finals.join(', ')}]\n`;
  dag.rules.forEach((x, i) => {
    text += `  r${i}:\n    inputs: [${x.inputs.join(', ')}]\n    outputs: ${x.out}\n`;
    if (x.temp) text += `    temp: true\n`;
    if (x.param) text += `    params: { p: "{config.p${i}}" }\n    run: step${i} ${x.version} {params.p} {input}\n`;
    else text += `    run: step${i} ${x.version} {input}\n`;
  });
  return text;
}

test('random DAGs with temporary outputs, random edits: every build equals a from-scratch build, and the next does nothing', async () => {
  const seeds = 40;
  let builds = 0;
  let deleted = 0;
  let remade = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const r = rng(1000 + seed);
    const pick = (n: number) => Math.floor(r() * n);
    const dag = randomDag(r);
    const fs = new FakeFileSystem();
    for (const s of dag.sources) fs.put(s, `${s} v0\n`);
    const state = new MemoryState();
    let failing = -1;
    const history: string[] = [];
    for (let round = 0; round < 8; round++) {
      const edits = round === 0 ? 0 : 1 + pick(3);
      let project = projectFrom(rulefile(dag));
      for (let e = 0; e < edits; e++) {
        const kind = pick(6);
        const present = dag.rules.map((x) => x.out).filter((o) => fs.has(o));
        if (kind === 0) {
          const s = dag.sources[pick(dag.sources.length)]!;
          fs.put(s, `${s} v${round}.${e}\n`);
          history.push(`edit ${s}`);
        } else if (kind === 1 && present.length > 0) {
          const o = present[pick(present.length)]!;
          fs.remove(o);
          history.push(`delete ${o}`);
        } else if (kind === 2 && present.length > 0) {
          const o = present[pick(present.length)]!;
          fs.put(o, 'edited by hand\n');
          history.push(`hand-edit ${o}`);
        } else if (kind === 3) {
          const i = pick(dag.rules.length);
          dag.rules[i]!.version = `v${round}${e}`;
          history.push(`command r${i}`);
        } else if (kind === 4) {
          const i = pick(dag.rules.length);
          dag.config[`p${i}`] = round * 10 + e;
          history.push(`config p${i}`);
        } else if (kind === 5) {
          // A gone temporary output recreated by hand, as it was (or not: then its job reruns).
          const gone = dag.rules.filter((x) => x.temp && !fs.has(x.out));
          if (gone.length === 0) continue;
          const x = gone[pick(gone.length)]!;
          project = projectFrom(rulefile(dag));
          const expected = expectedContents(project, buildGraph(project, ['all'], fs).jobs, fs).get(x.out);
          fs.put(x.out, r() < 0.5 && expected !== undefined ? expected : 'recreated\n');
          history.push(`recreate ${x.out}`);
        }
      }
      if (failing < 0 && r() < 0.2) {
        failing = pick(dag.rules.length);
        dag.rules[failing]!.version += '-FAIL';
        history.push(`r${failing} fails`);
      } else if (failing >= 0) {
        dag.rules[failing]!.version = dag.rules[failing]!.version.replace('-FAIL', '');
        failing = -1;
        history.push('failure fixed');
      }
      project = projectFrom(rulefile(dag));
      const keepTemp = r() < 0.15;
      const b = await buildOnce(project, ['all'], fs, state, { keepGoing: r() < 0.5, keepTemp });
      builds++;
      const context = `seed ${seed}, round ${round}, after: ${history.join('; ')}${keepTemp ? ' (--keep-temp)' : ''}`;
      const graph = buildGraph(project, ['all'], fs);
      if (failing >= 0 && graph.jobs.some((j) => j.rule.name === `r${failing}`)) {
        assert.equal(b.result.ok, false, context);
        continue;
      }
      assert.equal(b.result.ok, true, context);
      const freed = b.events.events.find((e) => e.type === 'build-finish');
      if (freed?.type === 'build-finish') deleted += freed.freedFiles ?? 0;
      remade += b.events.started().filter((s) => /output missing/.test(s)).length;
      const expected = expectedContents(project, graph.jobs, fs);
      for (const [out, content] of expected) {
        const temp = dag.rules.find((x) => x.out === out)!.temp;
        if (temp && !fs.has(out)) continue;
        assert.equal(fs.read(out), content, `${out} is wrong (${context})`);
      }
      const again = await buildOnce(project, ['all'], fs, state);
      builds++;
      assert.deepEqual(again.ran, [], `a second build runs nothing (${context})`);
    }
  }
  assert.ok(builds > 300, `ran ${builds} builds`);
  assert.ok(deleted > 50, `deleted ${deleted} temporary outputs`);
  assert.ok(remade > 10, `made ${remade} gone temporary outputs again`);
});
