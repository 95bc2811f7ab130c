import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InProcessLauncher, SpawnerLauncher, type Launcher } from '../../../src/run/launch.js';

const sh = (command: string) => ({ file: '/bin/sh', args: ['-c', command], cwd: tmpdir(), env: { EXTRA: 'yes' } });

for (const [name, make] of [
  ['in-process', () => new InProcessLauncher()],
  ['helper processes', () => new SpawnerLauncher(2)],
] as [string, () => Launcher][]) {
  describe(`launching through ${name}`, () => {
    test('exit code, signal, captured output, env, log file, missing program', async () => {
      const l = make();
      const dir = mkdtempSync(join(tmpdir(), 'rules-launch-'));
      try {
        const ok = l.launch(sh('echo out; echo err >&2; echo $EXTRA; exit 3'));
        assert.equal(typeof (await ok.pid), 'number');
        const r = await ok.result;
        assert.equal(r.code, 3);
        assert.equal(r.signal, null);
        // stdout and stderr are separate pipes: their relative order is not fixed.
        assert.deepEqual(r.output.split('\n').sort(), ['', 'err', 'out', 'yes']);
        const killed = await l.launch(sh('kill -TERM $$')).result;
        assert.equal(killed.signal, 'SIGTERM');
        const logged = await l.launch({ ...sh('echo to the log'), logPath: join(dir, 'job.log') }).result;
        assert.equal(logged.code, 0);
        assert.equal(logged.output, '');
        assert.equal(readFileSync(join(dir, 'job.log'), 'utf8'), 'to the log\n');
        const missing = await l.launch({ file: 'no-such-program-xyz', args: [], cwd: dir, env: {} }).result;
        assert.equal(missing.errorCode, 'ENOENT');
      } finally {
        l.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('a helper process that dies', () => {
  test('fails (and stops) only its own jobs; later jobs still run', async () => {
    const l = new SpawnerLauncher(2);
    try {
      // Two slow jobs: one lands on each helper.
      const a = l.launch(sh('sleep 30'));
      const b = l.launch(sh('sleep 30'));
      const [pa, pb] = [await a.pid, await b.pid];
      assert.ok(pa && pb);
      process.kill(l.pids[0]!, 'SIGKILL');
      const ra = await a.result;
      assert.equal(ra.errorCode, 'ESPAWNER');
      // The other helper's job is untouched; stop it ourselves.
      process.kill(-pb!, 'SIGTERM');
      assert.equal((await b.result).signal, 'SIGTERM');
      const later = await l.launch(sh('echo still fine')).result;
      assert.equal(later.output, 'still fine\n');
    } finally {
      l.close();
    }
  });
});
