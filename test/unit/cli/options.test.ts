import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { parseArgs } from '../../../src/cli/args.js';
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
});
