import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { nearCommand, parseArgs } from '../../../src/cli/args.js';
import { buildOptions, onPath } from '../../../src/cli/options.js';
import { UserError } from '../../../src/util/errors.js';

describe('build options', () => {
  test('onPath finds executables on PATH, not other files', (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-path-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'data'), 'x', { mode: 0o644 });
    assert.equal(onPath('tool', `/nonexistent:${dir}`), true);
    assert.equal(onPath('data', dir), false);
    assert.equal(onPath('tool', '/nonexistent'), false);
  });

  test('--executor slurm without sbatch on PATH is refused before anything runs; a dry run needs no sbatch', (t) => {
    const saved = process.env.PATH;
    t.after(() => (process.env.PATH = saved));
    process.env.PATH = '/nonexistent';
    assert.throws(() => buildOptions(parseArgs(['build', '--executor', 'slurm']), false), (e) => e instanceof UserError && /'sbatch' is not on PATH/.test(e.message));
    assert.equal(buildOptions(parseArgs(['build', '--executor', 'slurm', '-n']), false).executor, 'slurm');
  });

  test('SLURM settings from the command line', () => {
    const opts = buildOptions(parseArgs(['build', '-n', '--executor', 'slurm', '--slurm-partition', 'p', '--slurm-account', 'a', '--slurm-extra', '--qos=x  --comment=y', '--slurm-extra', '--exclusive', '--slurm-output-wait', '2.5']), false);
    assert.deepEqual(opts.slurm, { partition: 'p', account: 'a', extra: ['--qos=x', '--comment=y', '--exclusive'], outputWaitMs: 2500 });
    assert.throws(() => buildOptions(parseArgs(['build', '--slurm-output-wait', 'soon']), false), UserError);
  });

  test('SPEC §8 options: -R repeatable, -p with -n only, --question and --touch alone, -C parsed as --directory', () => {
    const opts = buildOptions(parseArgs(['build', '-n', '-p', '-R', 'a', '--force-rule=b']), false);
    assert.deepEqual([opts.printCommands, opts.forceRules], [true, ['a', 'b']]);
    const q = buildOptions(parseArgs(['build', '--question']), false);
    assert.deepEqual([q.question, q.dryRun], [true, true]);
    assert.equal(buildOptions(parseArgs(['build', '--touch']), false).touch, true);
    for (const bad of [['build', '-p'], ['build', '--question', '-n'], ['build', '--question', '--touch'], ['build', '--touch', '-n']]) {
      assert.throws(() => buildOptions(parseArgs(bad), false), UserError, bad.join(' '));
    }
    assert.throws(() => buildOptions(parseArgs(['build', '--touch']), true), UserError);
    assert.deepEqual(parseArgs(['-C', 'dir', 'build']).flags.get('directory'), ['dir']);
  });

  test('a mistyped command: a letter or two off, or two swapped; not any short word', () => {
    assert.equal(nearCommand('biuld'), 'build');
    assert.equal(nearCommand('lst'), 'list');
    assert.equal(nearCommand('grpah'), 'graph');
    assert.equal(nearCommand('all'), undefined);
    assert.equal(nearCommand('calibrate'), undefined);
  });
});
