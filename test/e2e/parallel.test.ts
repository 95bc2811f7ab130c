// Parallelism: -j bounds concurrent jobs, resources.cpus takes several slots,
// --resources bounds named resources. Overlap is shown with marker files, not
// timing: each job says what it saw of the other job when it started, and
// whether the other one started while it was waiting.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { project, show, yaml } from './helpers.js';

// job.sh ME OTHER WAIT_STEPS OUT records in OUT "AT SEEN":
//   AT   what it found when it started: "first" (the other had not started),
//        "during-other" (started, not finished) or "after-other" (finished);
//   SEEN after waiting up to WAIT_STEPS x 50 ms for the other to start:
//        "overlap" if the other was running during this job, else "alone".
// Two jobs that both end "... overlap" ran at the same time (each saw the
// other start before it finished itself); "first alone" + "after-other alone"
// means one ran strictly after the other.
const JOB_SH = [
  'me=$1; other=$2; limit=$3; out=$4',
  'echo "$me" >> ran.log',
  'if [ -e "$other.finished" ]; then at=after-other; elif [ -e "$other.started" ]; then at=during-other; else at=first; fi',
  'touch "$me.started"',
  'i=0',
  'while [ ! -e "$other.started" ] && [ "$i" -lt "$limit" ]; do sleep 0.05; i=$((i+1)); done',
  'if [ "$at" != after-other ] && [ -e "$other.started" ]; then seen=overlap; else seen=alone; fi',
  'echo "$at $seen" > "$out"',
  'touch "$me.finished"',
  '',
].join('\n');

function rulefile(resources: string): string {
  return yaml(
    'default: all',
    'rules:',
    '  all:',
    '    inputs: [a.out, b.out]',
    '  job_a:',
    '    outputs: a.out',
    `    resources: ${resources}`,
    '    run: sh job.sh a b {config.wait} {output}',
    '  job_b:',
    '    outputs: b.out',
    `    resources: ${resources}`,
    '    run: sh job.sh b a {config.wait} {output}',
    'config:',
    '  wait: 100',
  );
}

describe('parallel jobs', () => {
  test('-j2: two jobs that wait for each other both see the other running', (t) => {
    const p = project(t, { Rulefile: rulefile('{ cpus: 1 }'), 'job.sh': JOB_SH });
    const r = p.run(['build', '-j2']);
    assert.equal(r.status, 0, show(r));
    assert.match(p.read('a.out'), /^(first|during-other) overlap\n$/);
    assert.match(p.read('b.out'), /^(first|during-other) overlap\n$/);
    assert.match(r.stdout, /rules: 2 jobs done/);
  });

  test('-j1: the jobs run one after another, in Rulefile order', (t) => {
    const p = project(t, { Rulefile: rulefile('{ cpus: 1 }'), 'job.sh': JOB_SH });
    // Each job waits up to 0.5 s for the other; with one slot it never comes.
    const r = p.run(['build', '-j1', '--config', 'wait=10']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(p.lines(), ['a', 'b']);
    assert.equal(p.read('a.out'), 'first alone\n');
    assert.equal(p.read('b.out'), 'after-other alone\n');
  });

  test('resources.cpus: 2 with -j2 prevents overlap', (t) => {
    const p = project(t, { Rulefile: rulefile('{ cpus: 2 }'), 'job.sh': JOB_SH });
    const r = p.run(['build', '-j2', '--config', 'wait=10']);
    assert.equal(r.status, 0, show(r));
    const outs = [p.read('a.out'), p.read('b.out')].sort();
    assert.deepEqual(outs, ['after-other alone\n', 'first alone\n']);
  });

  test('--resources mem_mb=100 keeps two 60 MB jobs apart even with -j2', (t) => {
    const p = project(t, { Rulefile: rulefile('{ cpus: 1, mem_mb: 60 }'), 'job.sh': JOB_SH });
    const r = p.run(['build', '-j2', '--resources', 'mem_mb=100', '--config', 'wait=10']);
    assert.equal(r.status, 0, show(r));
    const outs = [p.read('a.out'), p.read('b.out')].sort();
    assert.deepEqual(outs, ['after-other alone\n', 'first alone\n']);
  });

  test('--resources mem_mb=120 lets two 60 MB jobs overlap', (t) => {
    const p = project(t, { Rulefile: rulefile('{ cpus: 1, mem_mb: 60 }'), 'job.sh': JOB_SH });
    const r = p.run(['build', '-j2', '--resources', 'mem_mb=120']);
    assert.equal(r.status, 0, show(r));
    assert.match(p.read('a.out'), / overlap\n$/);
    assert.match(p.read('b.out'), / overlap\n$/);
  });

  test('a job asking for more of a resource than --resources allows: exit 2 before running anything', (t) => {
    const p = project(t, { Rulefile: rulefile('{ cpus: 1, mem_mb: 600 }'), 'job.sh': JOB_SH });
    const r = p.run(['build', '-j2', '--resources', 'mem_mb=100']);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /mem_mb/);
    assert.deepEqual(p.lines(), []);
  });
});
