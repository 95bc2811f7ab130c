// Files the command names (SPEC §6) through the real CLI: a script `run`
// names is an input of the rule's jobs (edited: exactly those rerun, in both
// check modes), a file a job appends to is not, implicit inputs are listed by
// -n --json, list and graph; `script:` runs a script with its interpreter and
// hands it the job in $RULES_JOB; the no-op stamp and watch mode see edits.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { nonEmptyLines, project, show, waitFor, within, yaml, type AsyncRun } from './helpers.js';

/** Upper-cases its input into its output and notes its run; `fit` and `plot` run a script each. */
const SCRIPTS = {
  Rulefile: yaml(
    'default: all',
    'rules:',
    '  all:',
    '    inputs: [fit/a.txt, fit/b.txt, plot.txt]',
    '  fit:',
    '    inputs: "data/{s}.txt"',
    '    outputs: "fit/{s}.txt"',
    '    run: node scripts/fit.mjs {input} {output} --lut=tables/lut.csv >> runs.log',
    '  plot:',
    '    inputs: [fit/a.txt, fit/b.txt]',
    '    outputs: plot.txt',
    '    run: |',
    '      node scripts/plot.mjs {inputs} > {output}',
    '      echo plot >> runs.log',
  ),
  'scripts/fit.mjs': "import fs from 'node:fs';\nconst [i, o] = process.argv.slice(2);\nfs.writeFileSync(o, fs.readFileSync(i, 'utf8').toUpperCase());\nconsole.log('fit ' + i);\n",
  'scripts/plot.mjs': "import fs from 'node:fs';\nfor (const f of process.argv.slice(2)) process.stdout.write(fs.readFileSync(f, 'utf8'));\n",
  'tables/lut.csv': 'k,v\n',
  'data/a.txt': 'a\n',
  'data/b.txt': 'b\n',
};

function hasProgram(name: string): boolean {
  return spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0;
}

describe('files a run names', () => {
  for (const check of ['hash', 'mtime']) {
    test(`editing a script reruns exactly its rule's jobs, 'input changed: PATH' (--check ${check})`, (t) => {
      const p = project(t, SCRIPTS);
      const first = p.run(['build', '--check', check]);
      assert.equal(first.status, 0, show(first));
      assert.deepEqual(p.lines('runs.log').sort(), ['fit data/a.txt', 'fit data/b.txt', 'plot']);
      assert.equal(p.run(['build', '--check', check]).stdout, 'rules: nothing to do\n');
      p.write({ 'scripts/plot.mjs': `${SCRIPTS['scripts/plot.mjs']}// edited\n` });
      const dry = p.run(['build', '-n', '--check', check]);
      assert.deepEqual(nonEmptyLines(dry.stdout), ['plot plot.txt: input changed: scripts/plot.mjs', 'all: always'], show(dry));
      p.run(['build', '--check', check]);
      assert.deepEqual(p.lines('runs.log').slice(3), ['plot']);
      p.write({ 'tables/lut.csv': 'k,v\nx,1\n' });
      assert.deepEqual(nonEmptyLines(p.run(['build', '-n', '--check', check]).stdout), [
        'fit[s=a] fit/a.txt: input changed: tables/lut.csv',
        'fit[s=b] fit/b.txt: input changed: tables/lut.csv',
        'plot plot.txt: upstream will run: fit/a.txt',
        'all: always',
      ]);
    });
  }

  test('a job appending to a file it names does not rerun on the next build', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  step:', '    inputs: in.txt', '    outputs: out.txt', '    run: cp in.txt out.txt && echo ran | tee -a notes.txt'),
      'in.txt': 'x\n',
      'notes.txt': '',
    });
    assert.equal(p.run(['build']).status, 0);
    assert.deepEqual(p.lines('notes.txt'), ['ran']);
    assert.equal(p.run(['build', '-n']).stdout, '');
    assert.equal(p.run(['build']).stdout, 'rules: nothing to do\n');
    assert.equal(p.run(['build', '--check', 'mtime']).stdout, 'rules: nothing to do\n');
    assert.deepEqual(p.lines('notes.txt'), ['ran']);
    assert.deepEqual(JSON.parse(p.run(['build', '-n', '--json', '-B']).stdout).jobs[0].inputs, ['in.txt']);
  });

  test('-n --json, list and graph list the implicit inputs after the declared ones', (t) => {
    const p = project(t, SCRIPTS);
    const json = JSON.parse(p.run(['build', '-n', '--json']).stdout) as { jobs: { rule: string; inputs: string[] }[] };
    assert.deepEqual(json.jobs.find((j) => j.rule === 'fit')!.inputs, ['data/a.txt', 'scripts/fit.mjs', 'tables/lut.csv']);
    assert.deepEqual(json.jobs.find((j) => j.rule === 'plot')!.inputs, ['fit/a.txt', 'fit/b.txt', 'scripts/plot.mjs']);
    assert.match(p.run(['list']).stdout, /^fit\n {2}inputs: {2}data\/\{s\}\.txt scripts\/fit\.mjs tables\/lut\.csv\n/m);
    const graph = JSON.parse(p.run(['graph', '--format', 'json']).stdout) as { jobs: { rule: string; inputs: string[] }[]; sources: string[] };
    assert.deepEqual(graph.jobs.find((j) => j.rule === 'plot')!.inputs, ['fit/a.txt', 'fit/b.txt', 'scripts/plot.mjs']);
    assert.ok(graph.sources.includes('scripts/plot.mjs'), graph.sources.join(' '));
    assert.match(p.run(['graph']).stdout, /label="scripts\/fit\.mjs", shape=note/);
    assert.match(p.run(['graph', '--format', 'mermaid']).stdout, /\[\("tables\/lut\.csv"\)\]/);
  });

  test('implicit_inputs: false: an edited script reruns nothing', (t) => {
    const p = project(t, { ...SCRIPTS, Rulefile: `implicit_inputs: false\n${SCRIPTS.Rulefile}` });
    assert.equal(p.run(['build']).status, 0);
    p.write({ 'scripts/plot.mjs': `${SCRIPTS['scripts/plot.mjs']}// edited\n` });
    assert.equal(p.run(['build', '-n']).stdout, '');
  });

  test("a word naming another rule's output that is not declared: a warning with its place, the build goes on", (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  all:', '    inputs: [b.txt]', '  a:', '    outputs: a.txt', '    run: echo a > a.txt', '  b:', '    outputs: b.txt', '    run: cat a.txt > b.txt || true'),
    });
    const r = p.run(['build', '-n']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stderr, /^rules: warning: Rulefile:9:14: rule 'b' runs 'a.txt', which rule 'a' makes, but does not declare it as an input/m);
  });

  test('the no-op stamp never answers "nothing to do" after a script edit', (t) => {
    const p = project(t, SCRIPTS);
    assert.equal(p.run(['build']).status, 0);
    const fast = p.run(['build', '-v']);
    assert.match(fast.stderr, /^rules: all \d+ files as the last build left them$/m, show(fast));
    // Same size, new content.
    p.write({ 'scripts/fit.mjs': SCRIPTS['scripts/fit.mjs'].replace('fit ', 'FIT ') });
    const after = p.run(['build', '-v']);
    assert.doesNotMatch(after.stderr, /as the last build left them/, show(after));
    assert.deepEqual(p.lines('runs.log').slice(3).sort(), ['FIT data/a.txt', 'FIT data/b.txt']);
  });
});

describe('script:', () => {
  test('python3 reads its job from $RULES_JOB in three lines and writes its output', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'config: { scale: 2 }',
        'rules:',
        '  summarize:',
        '    inputs: { table: "data/{s}.csv" }',
        '    outputs: "out/{s}.txt"',
        '    params: { scale: "{config.scale}", cols: [a, b] }',
        '    resources: { mem_mb: 100 }',
        '    log: "logs/{s}.log"',
        '    script: scripts/summarize.py',
      ),
      'scripts/summarize.py': [
        'import json, os',
        'job = json.load(open(os.environ["RULES_JOB"]))',
        'rows = open(job["named_inputs"]["table"][0]).read().split()',
        'with open(job["outputs"][0], "w") as f:',
        '    f.write(f"{len(rows)} {job[\'params\'][\'scale\']} {job[\'params\'][\'cols\']} {job[\'wildcards\']} {job[\'resources\'][\'mem_mb\']} {job[\'log\']} {job[\'config\'][\'scale\']} {job[\'inputs\']}\\n")',
        'print("python ran")',
        '',
      ].join('\n'),
      'data/x.csv': '1\n2\n3\n',
    });
    const r = p.run(['build', 'out/x.txt']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('out/x.txt'), "3 2 ['a', 'b'] {'s': 'x'} 100 logs/x.log 2 ['data/x.csv']\n");
    assert.equal(p.read('logs/x.log'), 'python ran\n');
    assert.deepEqual(fs.readdirSync(p.path('.rules/jobs')), [], 'the job file is removed after the run');
    assert.equal(p.run(['build', 'out/x.txt']).stdout, 'rules: nothing to do\n');
    p.write({ 'scripts/summarize.py': `${p.read('scripts/summarize.py')}# edited\n` });
    assert.equal(p.run(['build', '-n', 'out/x.txt']).stdout, 'summarize[s=x] out/x.txt: input changed: scripts/summarize.py\n');
    assert.deepEqual(JSON.parse(p.run(['build', '-n', '--json', 'out/x.txt']).stdout).jobs[0].inputs, ['data/x.csv', 'scripts/summarize.py']);
  });

  test("a .sh script, and one without extension run through its '#!' line", (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  all:', '    inputs: [a.txt, b.txt]', '  a:', '    outputs: a.txt', '    script: scripts/a.sh', '  b:', '    outputs: b.txt', '    script: scripts/b'),
      'scripts/a.sh': 'set -eu\n[[ -n "$RULES_JOB" ]] && echo "sh $(basename "$0")" > a.txt\n',
      'scripts/b': '#!/usr/bin/env node\nconst job = JSON.parse(require("fs").readFileSync(process.env.RULES_JOB, "utf8"));\nrequire("fs").writeFileSync(job.outputs[0], "node " + job.rule + "\\n");\n',
    });
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('a.txt'), 'sh a.sh\n');
    assert.equal(p.read('b.txt'), 'node b\n');
  });

  test('a script without a known interpreter is a one-line error naming the job and the script', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a:', '    outputs: a.txt', '    script: scripts/a.txt'), 'scripts/a.txt': 'echo hi\n' });
    const r = p.run(['build']);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /Rulefile:4:13: rule 'a' \(a\): cannot tell how to run script 'scripts\/a.txt'/);
    assert.equal(p.exists('.rules'), false);
  });

  test('Rscript reads its job from $RULES_JOB', (t) => {
    if (!hasProgram('Rscript') || spawnSync('Rscript', ['-e', 'library(jsonlite)'], { stdio: 'ignore' }).status !== 0) {
      t.skip('Rscript is not installed');
      return;
    }
    const p = project(t, {
      Rulefile: yaml('rules:', '  r:', '    inputs: data.csv', '    outputs: out.txt', '    script: scripts/r.R'),
      'scripts/r.R': 'job <- jsonlite::fromJSON(Sys.getenv("RULES_JOB"))\nrows <- readLines(job$inputs[1])\nwriteLines(as.character(length(rows)), job$outputs[1])\n',
      'data.csv': 'x\ny\n',
    });
    const r = p.run(['build']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('out.txt'), '2\n');
  });
});

describe('rules watch and the files a run names', () => {
  test('saving a script reruns its rule', async (t) => {
    const p = project(t, SCRIPTS);
    const run: AsyncRun = p.start(['watch']);
    const idle = (k: number) => waitFor(() => (run.stdout().match(/^rules: watching /gm) ?? []).length >= k, `watching line #${k}\n${run.stdout()}${run.stderr()}`);
    await idle(1);
    assert.deepEqual(p.lines('runs.log').sort(), ['fit data/a.txt', 'fit data/b.txt', 'plot']);
    p.write({ 'scripts/plot.mjs': `${SCRIPTS['scripts/plot.mjs']}// edited\n` });
    await idle(2);
    assert.match(run.stdout(), /^rules: changed: scripts\/plot\.mjs; building$/m);
    assert.deepEqual(p.lines('runs.log').slice(3), ['plot']);
    run.child.kill('SIGINT');
    const r = await within(run.done, 10_000, 'rules watch to stop');
    assert.equal(r.status, 130);
  });
});
