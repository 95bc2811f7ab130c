// The graph of rules from a sample of each rule's jobs: the same edges as the
// whole job graph, while building only a few jobs of each rule.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import { ruleGraph } from '../../../src/graph/rulegraph.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

const RULES = yaml`
  default: all
  config:
    n: [${Array.from({ length: 200 }, (_, i) => i).join(', ')}]
  rules:
    all:
      inputs: [total.txt, report]
    report:
      inputs: total.txt
      run: cat total.txt
    unused:
      inputs: "x/{a}.txt"
      outputs: "y/{a}.txt"
      run: cp {input} {output}
    total:
      inputs:
        - expand: "b/{n}.txt"
          n: { config: n }
      outputs: total.txt
      run: cat {inputs} > {output}
    second:
      inputs: "a/{n}.txt"
      outputs: "b/{n}.txt"
      order_only: setup.txt
      run: cp {input} {output}
    first:
      inputs: "src/{n}.txt"
      outputs: "a/{n}.txt"
      run: cp {input} {output}
    setup:
      outputs: setup.txt
      run: touch {output}
`;

describe('ruleGraph', () => {
  test('the rules the targets need, in the Rulefile order, with an edge per pair of rules whose jobs read each other', () => {
    const g = ruleGraph(projectFrom(RULES), ['all'], new FakeFileSystem());
    assert.deepEqual(g.rules, ['all', 'report', 'total', 'second', 'first', 'setup']);
    assert.deepEqual(new Set(g.edges.map(([a, b]) => `${a}->${b}`)), new Set(['total->all', 'report->all', 'total->report', 'second->total', 'first->second', 'setup->second']));
  });

  test('the same edges as the whole job graph, from a few jobs of each rule, and no source needs to exist', () => {
    const project = projectFrom(RULES);
    const fs = new FakeFileSystem();
    const whole = new Set<string>();
    const full = buildGraph(project, ['all'], new FakeFileSystem().write(...Array.from({ length: 200 }, (_, i) => `src/${i}.txt`)));
    for (const job of full.jobs) for (const d of job.deps) whole.add(`${d.rule.name}->${job.rule.name}`);
    const sampled = ruleGraph(project, ['all'], fs, 3);
    assert.deepEqual(new Set(sampled.edges.map(([a, b]) => `${a}->${b}`)), whole);
    assert.equal(full.jobs.length, 404);
  });

  test('a rule reading files inside another rule\'s directory output reads from that rule', () => {
    const project = projectFrom(yaml`
      default: all
      rules:
        all:
          inputs:
            - expand: "used/{x}.txt"
              x: { glob: "parts/{x}.txt" }
        use:
          inputs: "parts/{x}.txt"
          outputs: "used/{x}.txt"
          run: cp {input} {output}
        split:
          inputs: whole.txt
          outputs: parts/
          run: split whole.txt
    `);
    const g = ruleGraph(project, ['all'], new FakeFileSystem().write('whole.txt', 'parts/a.txt', 'parts/b.txt'));
    assert.deepEqual(g.rules, ['all', 'use', 'split']);
    // `all` lists split's directory through use's jobs: the files it matched on the disk, not the listing itself, make the edges.
    assert.deepEqual(new Set(g.edges.map(([a, b]) => `${a}->${b}`)), new Set(['use->all', 'split->use']));
  });
});
