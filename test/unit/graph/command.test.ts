import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import { renderCommand, renderEnv, renderParams } from '../../../src/graph/command.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

/** The words /bin/sh sees in a command, one per line. */
function shellWords(command: string): string[] {
  const r = spawnSync('/bin/sh', ['-c', `set -- ${command}; for w in "$@"; do printf '%s\\0' "$w"; done`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\0').slice(0, -1);
}

describe('rendering a job command', () => {
  const nasty = "a b;rm -rf ~'\"$(x)`y`.fits";

  test('every substituted path and wildcard value is one shell word', () => {
    const p = projectFrom(yaml`
      rules:
        calibrate:
          inputs: { sci: "raw/{frame}.fits", bias: calib/bias.fits }
          outputs: "out/{frame}.fits"
          run: echo {inputs.sci} {inputs.bias} {frame} {wildcards.frame} {output}
    `);
    const frame = nasty.replace('.fits', '');
    const g = buildGraph(p, [`out/${frame}.fits`], new FakeFileSystem().write(`raw/${frame}.fits`, 'calib/bias.fits'));
    const cmd = renderCommand(p, g.jobs[0]!)!;
    assert.deepEqual(shellWords(cmd.replace(/^echo /, '')), [`raw/${frame}.fits`, 'calib/bias.fits', frame, frame, `out/${frame}.fits`]);
  });

  test('params and config are quoted; raw.params is verbatim; lists give one word per item', () => {
    const p = projectFrom(yaml`
      config:
        label: "two words"
        levels: [1, "a b"]
      rules:
        j:
          inputs: [x.txt, y.txt]
          outputs: "o/{n}.txt"
          params:
            label: "{config.label}"
            pipe: "| sort"
            opts: ["-v", "x y"]
            files: "{input}"
          run: echo {params.label} {config.levels} {params.opts} {params.files} {raw.params.pipe}
    `);
    const g = buildGraph(p, ['o/1.txt'], new FakeFileSystem().write('x.txt', 'y.txt'));
    const job = g.jobs[0]!;
    assert.deepEqual(renderParams(p, job).get('files'), ['x.txt y.txt']);
    const cmd = renderCommand(p, job)!;
    assert.equal(cmd, "echo 'two words' 1 'a b' -v 'x y' 'x.txt y.txt' | sort");
  });

  test('literal braces, resources, log and env', () => {
    const p = projectFrom(yaml`
      env: { GLOBAL: "1" }
      rules:
        j:
          outputs: "o/{n}.txt"
          resources: { cpus: 2, mem_mb: 100 }
          log: "logs/{n}.log"
          env: { WHICH: "{n}" }
          run: "awk '{{print $1}}' {log} {resources.cpus} {resources.mem_mb} > {output}"
    `);
    const g = buildGraph(p, ['o/7.txt'], new FakeFileSystem());
    const job = g.jobs[0]!;
    assert.equal(job.log, 'logs/7.log');
    assert.equal(renderCommand(p, job), "awk '{print $1}' logs/7.log 2 100 > o/7.txt");
    assert.deepEqual(renderEnv(p, job), { GLOBAL: '1', WHICH: '7' });
  });

  test('a phony rule without run has no command', () => {
    const p = projectFrom('rules:\n  all:\n    inputs: a\n');
    const g = buildGraph(p, ['all'], new FakeFileSystem().write('a'));
    assert.equal(renderCommand(p, g.jobs[0]!), undefined);
  });
});
