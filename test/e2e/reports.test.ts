// `rules graph` (dot, mermaid, json), `rules list` and `rules config`.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { project, show, yaml, type Project } from './helpers.js';

const RULEFILE = yaml(
  'config:',
  '  threshold: 3.5',
  '  fit:',
  '    order: 2',
  '    method: lsq',
  '  frames: [f1, f2]',
  'include:',
  '  - rules/*.yaml',
  'default: all',
  'rules:',
  '  all:',
  '    description: Everything',
  '    inputs:',
  '      - expand: "up/{f}.txt"',
  '        f: { config: frames }',
  '  up:',
  '    description: Upper-case a frame',
  '    inputs: { raw: "raw/{f}.txt" }',
  '    order_only: stamp.txt',
  '    outputs: "up/{f}.txt"',
  '    run: tr a-z A-Z < {inputs.raw} > {output}',
  '  show:',
  '    inputs: up/f1.txt',
  '    outputs: [shown.txt, "shown.{config.threshold}.txt"]',
  '    run: echo {config.threshold} {config.fit.order} {config.fit.method} {config.frames} | tee {outputs} > /dev/null',
);

const INCLUDED = yaml('config:', '  aperture: 3', '  threshold: 1');

function make(t: Parameters<typeof project>[0]): Project {
  return project(t, {
    Rulefile: RULEFILE,
    'rules/extra.yaml': INCLUDED,
    'raw/f1.txt': 'one\n',
    'raw/f2.txt': 'two\n',
    'stamp.txt': '',
  });
}

describe('rules graph', () => {
  test('dot: digraph with job labels, edges from jobs and sources, stale jobs marked', (t) => {
    const p = make(t);
    const before = p.snapshot();
    const r = p.run(['graph']);
    assert.equal(r.status, 0, show(r));
    const dot = r.stdout;
    assert.match(dot, /^digraph \w+ \{/);
    assert.match(dot, /\}\n$/);
    // Nodes: ids by label.
    const id = (label: string) => {
      const m = new RegExp(`^\\s*(\\w+) \\[label="${label.replace(/[[\]]/g, '\\$&')}[\\n"]`, 'm').exec(dot);
      assert.ok(m, `a node labelled ${label} in\n${dot}`);
      return m[1]!;
    };
    const all = id('all');
    const up1 = id('up[f=f1]');
    const up2 = id('up[f=f2]');
    const src1 = id('raw/f1.txt');
    const stamp = id('stamp.txt');
    assert.match(dot, new RegExp(`^\\s*${up1} -> ${all};`, 'm'));
    assert.match(dot, new RegExp(`^\\s*${up2} -> ${all};`, 'm'));
    assert.match(dot, new RegExp(`^\\s*${src1} -> ${up1};`, 'm'));
    // Order-only inputs are drawn differently.
    assert.match(dot, new RegExp(`^\\s*${stamp} -> ${up1} \\[style=dashed\\];`, 'm'));
    // Stale marks with the reason.
    assert.match(dot, /up\/f1\.txt\n\(stale: output missing: up\/f1\.txt\)", shape=box, color=red/);
    assert.match(dot, /label="all\n\(stale: always\)"/);
    assert.deepEqual(p.snapshot(), before, 'graph writes nothing');

    // After a build nothing is stale, not even the phony job without a command.
    const b = p.run(['build']);
    assert.equal(b.status, 0, show(b));
    const after = p.run(['graph']).stdout;
    assert.equal((after.match(/color=red/g) ?? []).length, 0, after);
    assert.doesNotMatch(after, /stale: output missing/);

    // -B marks everything; a target limits the graph.
    const forced = p.run(['graph', '-B', 'up/f2.txt']);
    assert.equal(forced.status, 0, show(forced));
    assert.match(forced.stdout, /up\[f=f2\]\nup\/f2\.txt\n\(stale: forced\)/);
    assert.doesNotMatch(forced.stdout, /up\[f=f1\]/);
  });

  test('mermaid: a flowchart with nodes, edges and a stale class', (t) => {
    const p = make(t);
    const r = p.run(['graph', '--format', 'mermaid']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^flowchart/);
    assert.match(r.stdout, /up\[f=f1\]/);
    assert.match(r.stdout, /-->/);
    assert.match(r.stdout, /-\.->/); // order-only
    assert.match(r.stdout, /^\s*class [\w,]+ stale$/m);
  });

  test('json: jobs with deps and stale flags, and the sources', (t) => {
    const p = make(t);
    const r = p.run(['graph', '--format=json']);
    assert.equal(r.status, 0, show(r));
    const g = JSON.parse(r.stdout) as {
      jobs: { id: number; rule: string; label: string; outputs: string[]; inputs: string[]; deps: number[]; stale: boolean; reason?: string }[];
      sources: string[];
    };
    assert.ok(Array.isArray(g.jobs) && Array.isArray(g.sources));
    assert.deepEqual([...g.sources].sort(), ['raw/f1.txt', 'raw/f2.txt', 'stamp.txt']);
    const byLabel = new Map(g.jobs.map((j) => [j.label, j]));
    assert.deepEqual([...byLabel.keys()].sort(), ['all', 'up[f=f1]', 'up[f=f2]']);
    const all = byLabel.get('all')!;
    assert.deepEqual([...all.deps].sort(), [byLabel.get('up[f=f1]')!.id, byLabel.get('up[f=f2]')!.id].sort());
    assert.equal(byLabel.get('up[f=f1]')!.stale, true);
    assert.equal(byLabel.get('up[f=f1]')!.reason, 'output missing: up/f1.txt');
    assert.deepEqual(byLabel.get('up[f=f2]')!.inputs, ['raw/f2.txt']);
  });

  test('a bad --format is a usage error', (t) => {
    const p = make(t);
    const r = p.run(['graph', '--format', 'png']);
    assert.equal(r.status, 2, show(r));
  });
});

describe('rules list', () => {
  test('shows every rule with its description, inputs and outputs', (t) => {
    const p = make(t);
    const r = p.run(['list']);
    assert.equal(r.status, 0, show(r));
    const out = r.stdout;
    assert.match(out, /^all: Everything$/m);
    assert.match(out, /^up: Upper-case a frame$/m);
    assert.match(out, /^show$/m);
    // Each rule's inputs and outputs follow its name.
    const section = (name: string) => {
      const start = out.search(new RegExp(`^${name}(:|$)`, 'm'));
      assert.ok(start >= 0, out);
      const rest = out.slice(start);
      const next = rest.search(/\n\S/);
      return next < 0 ? rest : rest.slice(0, next + 1);
    };
    assert.match(section('up'), /inputs:.*raw\/\{f\}\.txt/);
    assert.match(section('up'), /outputs:.*up\/\{f\}\.txt/);
    assert.match(section('up'), /stamp\.txt/);
    assert.match(section('all'), /inputs:.*up\/\{f\}\.txt/);
    assert.match(section('show'), /inputs:.*up\/f1\.txt/);
    assert.match(section('show'), /outputs:.*shown\.txt.*shown\.3\.5\.txt/);
  });

  test('takes no targets', (t) => {
    const p = make(t);
    assert.equal(p.run(['list', 'all']).status, 2);
  });
});

describe('rules config', () => {
  test('each leaf with its origin: included file, Rulefile line', (t) => {
    const p = make(t);
    const r = p.run(['config']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^threshold: 3\.5 +# Rulefile:2$/m);
    assert.match(r.stdout, /^fit\.order: 2 +# Rulefile:4$/m);
    assert.match(r.stdout, /^fit\.method: lsq +# Rulefile:5$/m);
    assert.match(r.stdout, /^frames: \[ ?f1, f2 ?\] +# Rulefile:6$/m);
    assert.match(r.stdout, /^aperture: 3 +# rules\/extra\.yaml:2$/m);
  });

  test('precedence: --config > --configfile > Rulefile > includes; maps merge, lists are replaced', (t) => {
    const p = make(t);
    p.write({
      'over.yaml': yaml('threshold: 4', 'fit: { method: nlls }', 'frames: [f9]'),
      'later.json': JSON.stringify({ threshold: 4.5 }),
    });
    let r = p.run(['config', '--configfile', 'over.yaml']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^threshold: 4 +# --configfile over\.yaml$/m);
    assert.match(r.stdout, /^fit\.order: 2 +# Rulefile:4$/m, 'maps merge deeply');
    assert.match(r.stdout, /^fit\.method: nlls +# --configfile over\.yaml$/m);
    assert.match(r.stdout, /^frames: \[ ?f9 ?\] +# --configfile over\.yaml$/m, 'lists are replaced whole');

    // A later --configfile wins; --config beats every file.
    r = p.run(['config', '--configfile', 'over.yaml', '--configfile', 'later.json', '--config', 'fit.order=5']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^threshold: 4\.5 +# --configfile later\.json$/m);
    assert.match(r.stdout, /^fit\.order: 5 +# --config$/m);
    assert.match(r.stdout, /^fit\.method: nlls +# --configfile over\.yaml$/m);

    r = p.run(['config', '--config', 'threshold=9', '--configfile', 'over.yaml']);
    assert.match(r.stdout, /^threshold: 9 +# --config$/m, '--config wins whatever the order on the command line');

    // --json has the values and the origins.
    r = p.run(['config', '--json', '--configfile', 'over.yaml', '--config', 'fit.order=5']);
    assert.equal(r.status, 0, show(r));
    const j = JSON.parse(r.stdout) as { config: Record<string, unknown>; origins: Record<string, string> };
    assert.deepEqual(j.config, { aperture: 3, threshold: 4, fit: { order: 5, method: 'nlls' }, frames: ['f9'] });
    assert.equal(j.origins.threshold, '--configfile over.yaml');
    assert.equal(j.origins['fit.order'], '--config');
    assert.equal(j.origins.aperture, 'rules/extra.yaml:2');
  });

  test('the effective config reaches the jobs', (t) => {
    const p = make(t);
    p.write({ 'over.yaml': yaml('threshold: 4', 'fit: { method: nlls }') });
    const r = p.run(['build', 'shown.txt', '--configfile', 'over.yaml', '--config', 'fit.order=5', '--config', 'frames=[a, b]']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('shown.txt'), '4 5 nlls a b\n');
    assert.equal(p.exists('shown.4.txt'), true, 'config in an output path');
  });

  test('a --config key a rule needs but nobody sets is a load error naming rule and key', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo {config.missing.key} > {output}'),
    });
    const r = p.run(['build']);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /rule 'a'.*'missing\.key'/);
    assert.equal(p.run(['build', '--config', 'missing.key=1']).status, 0);
    assert.equal(p.read('a.txt'), '1\n');
  });
});
