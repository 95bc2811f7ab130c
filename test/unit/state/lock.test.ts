import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { BuildLock, parseHolder, startTime } from '../../../src/state/lock.js';
import { UserError } from '../../../src/util/errors.js';

function tempRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rules-lock-test-'));
}

const lockFile = (root: string) => path.join(root, '.rules', 'lock');

/** The PID a lock file names (its first field). */
const holderPid = (root: string) => Number(fs.readFileSync(lockFile(root), 'utf8').split(' ')[0]);

function writeLock(root: string, text: string): void {
  fs.mkdirSync(path.join(root, '.rules'), { recursive: true });
  fs.writeFileSync(lockFile(root), text);
}

/** The PID of a process that has exited (and been reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  assert.equal(r.status, 0);
  return r.pid!;
}

/** Runs `body` with a live child process (sleeping), then kills it and waits for it to be gone. */
async function withLiveProcess(body: (pid: number) => void | Promise<void>): Promise<void> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await body(child.pid!);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

describe('BuildLock', () => {
  test('acquire creates .rules/ and a lock holding our PID; release removes it', () => {
    const root = tempRoot();
    try {
      const lock = BuildLock.acquire(root);
      assert.equal(holderPid(root), process.pid);
      lock.release();
      assert.equal(fs.existsSync(lockFile(root)), false);
      // And again.
      BuildLock.acquire(root).release();
      assert.equal(fs.existsSync(lockFile(root)), false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a live holder → a UserError naming its PID; the lock is left alone', async () => {
    const root = tempRoot();
    try {
      await withLiveProcess((pid) => {
        writeLock(root, `${pid}\n`);
        assert.throws(
          () => BuildLock.acquire(root),
          (e: unknown) => {
            assert.ok(e instanceof UserError, String(e));
            assert.match(e.message, new RegExp(`\\bpid ${pid}\\b`));
            assert.match(e.message, /another build is running/);
            assert.equal(e.exitCode, 2);
            return true;
          },
        );
        assert.equal(fs.readFileSync(lockFile(root), 'utf8'), `${pid}\n`);
      });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a dead holder’s lock is taken over', () => {
    const root = tempRoot();
    try {
      const dead = deadPid();
      writeLock(root, `${dead}\n`);
      const lock = BuildLock.acquire(root);
      assert.equal(holderPid(root), process.pid);
      lock.release();
      assert.equal(fs.existsSync(lockFile(root)), false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('an empty or unreadable lock (a crash right after creating it) is taken over', () => {
    const root = tempRoot();
    try {
      for (const text of ['', 'garbage', '-5\n', '0\n']) {
        writeLock(root, text);
        const lock = BuildLock.acquire(root);
        assert.equal(holderPid(root), process.pid, JSON.stringify(text));
        lock.release();
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('release only removes its own lock', async () => {
    const root = tempRoot();
    try {
      const lock = BuildLock.acquire(root);
      await withLiveProcess((pid) => {
        // Someone else's lock now sits there.
        writeLock(root, `${pid}\n`);
        lock.release();
        assert.equal(fs.readFileSync(lockFile(root), 'utf8'), `${pid}\n`);
      });
      fs.rmSync(lockFile(root));
      // Releasing when the lock is already gone does not throw, nor does releasing twice.
      lock.release();
      lock.release();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a second build in another process fails at once while the first holds the lock', () => {
    const root = tempRoot();
    try {
      const lock = BuildLock.acquire(root);
      const modUrl = new URL('../../../src/state/lock.js', import.meta.url).href;
      const script = `
        const { BuildLock } = await import(${JSON.stringify(modUrl)});
        try { BuildLock.acquire(${JSON.stringify(root)}); console.log('acquired'); }
        catch (e) { console.log(e.name + ': ' + e.message); }`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^UserError: .*pid ${process.pid}\\b`));
      lock.release();
      const r2 = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      assert.equal(r2.stdout.trim(), 'acquired');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  // Races: a rival process runs the real BuildLock.acquire at the worst instant of ours.
  // We pause inside our acquire (by wrapping a node:fs call it makes), let the rival try,
  // then go on. Whatever the interleaving, at most one of the two may come out holding the lock.

  /** A rival process that, when `trigger` appears, runs BuildLock.acquire(root), writes the outcome to `result`, and holds on. */
  async function startRival(root: string, dir: string) {
    const mod = new URL('../../../src/state/lock.js', import.meta.url).href;
    const trigger = path.join(dir, 'trigger');
    const result = path.join(dir, 'result');
    const script = `
      import fs from 'node:fs';
      const { BuildLock } = await import(${JSON.stringify(mod)});
      console.log('ready');
      const t0 = Date.now();
      while (!fs.existsSync(${JSON.stringify(trigger)})) if (Date.now() - t0 > 20000) process.exit(3);
      let out;
      try { BuildLock.acquire(${JSON.stringify(root)}); out = 'acquired'; } catch (e) { out = 'refused: ' + e.message; }
      fs.writeFileSync(${JSON.stringify(result + '.tmp')}, out);
      fs.renameSync(${JSON.stringify(result + '.tmp')}, ${JSON.stringify(result)});
      setTimeout(() => {}, 30000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) resolve();
      });
      child.once('exit', () => reject(new Error('rival exited early')));
    });
    return {
      pid: child.pid!,
      /** Lets the rival try now, and waits (synchronously, we are inside acquire) for its outcome. */
      goAndWait(): void {
        fs.writeFileSync(trigger, '');
        const t0 = Date.now();
        while (!fs.existsSync(result) && Date.now() - t0 < 3000) {
          // Busy-wait: the rival runs in its own process.
        }
      },
      async outcome(): Promise<string> {
        const t0 = Date.now();
        while (!fs.existsSync(result)) {
          if (Date.now() - t0 > 10000) return 'no answer';
          await new Promise((r) => setTimeout(r, 10));
        }
        return fs.readFileSync(result, 'utf8');
      },
      async stop(): Promise<void> {
        child.kill('SIGKILL');
        await exited;
      },
    };
  }

  const HOOKED = ['openSync', 'writeSync', 'closeSync', 'writeFileSync', 'linkSync', 'renameSync', 'unlinkSync', 'readFileSync', 'mkdirSync', 'rmdirSync', 'rmSync', 'statSync'] as const;
  type Hooked = (typeof HOOKED)[number];

  /**
   * Runs `body` with the node:fs functions the lock module imports wrapped: before the first call
   * for which `when(name, args)` holds, `fire()` runs. Returns whether it fired.
   */
  function withFsHook(when: (name: Hooked, args: unknown[]) => boolean, fire: () => void, body: () => void): boolean {
    const fsAny = fs as unknown as Record<Hooked, (...a: unknown[]) => unknown>;
    const saved = new Map<Hooked, (...a: unknown[]) => unknown>();
    let fired = false;
    for (const name of HOOKED) {
      const orig = fsAny[name];
      saved.set(name, orig);
      fsAny[name] = (...args: unknown[]) => {
        if (!fired && when(name, args)) {
          fired = true;
          fire();
        }
        return orig(...args);
      };
    }
    syncBuiltinESMExports();
    try {
      body();
    } finally {
      for (const [name, orig] of saved) fsAny[name] = orig;
      syncBuiltinESMExports();
    }
    return fired;
  }

  /** Our acquire, with the rival let loose at the instant `when` picks. */
  async function race(setup: (root: string) => void, when: (root: string) => (name: Hooked, args: unknown[]) => boolean): Promise<{ ours: string; rival: string; file: string; rivalPid: number }> {
    const root = tempRoot();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-lock-rival-'));
    const rival = await startRival(root, dir);
    try {
      setup(root);
      let ours = '';
      let lock: BuildLock | undefined;
      const fired = withFsHook(when(root), () => rival.goAndWait(), () => {
        try {
          lock = BuildLock.acquire(root);
          ours = 'acquired';
        } catch (e) {
          ours = `refused: ${(e as Error).message}`;
        }
      });
      assert.ok(fired, 'the rival was let loose during our acquire');
      const r = { ours, rival: await rival.outcome(), file: fs.existsSync(lockFile(root)) ? fs.readFileSync(lockFile(root), 'utf8').trim().split(' ')[0]! : '(none)', rivalPid: rival.pid };
      lock?.release();
      return r;
    } finally {
      await rival.stop();
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test('race on a fresh lock: a rival starting as soon as our lock file exists does not also get it', async () => {
    // The rival runs at our first file operation after .rules/lock has come to exist.
    const r = await race(() => {}, (root) => () => fs.existsSync(lockFile(root)));
    const holders = [r.ours, r.rival].filter((o) => o === 'acquired').length;
    assert.equal(holders, 1, `ours: ${r.ours}; rival: ${r.rival}; .rules/lock holds ${r.file}`);
    assert.equal(r.file, r.ours === 'acquired' ? String(process.pid) : String(r.rivalPid), 'the lock file names the one holder');
  });

  test('race on a dead holder’s lock: two builds taking it over at once do not both get it', async () => {
    const dead = deadPid();
    // The rival runs just before we remove (or move away) the dead holder's lock.
    const r = await race(
      (root) => writeLock(root, `${dead}\n`),
      (root) => (name, args) => (name === 'unlinkSync' || name === 'renameSync' || name === 'rmSync') && args[0] === lockFile(root),
    );
    const holders = [r.ours, r.rival].filter((o) => o === 'acquired').length;
    assert.equal(holders, 1, `ours: ${r.ours}; rival: ${r.rival}; .rules/lock holds ${r.file}`);
    assert.equal(r.file, r.ours === 'acquired' ? String(process.pid) : String(r.rivalPid), 'the lock file names the one holder');
  });
});

describe('a PID reused by another program', () => {
  test('a lock naming a live process that is not a build (e.g. `sleep`) is taken over', async () => {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const root = tempRoot();
      writeLock(root, `${child.pid}\n`);
      const lock = BuildLock.acquire(root);
      assert.equal(holderPid(root), process.pid);
      lock.release();
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });
});

describe('the lock names its holder: PID, start time, host', () => {
  /** Asserts acquire refuses with a UserError (exit 2) whose message matches every pattern. */
  function assertRefused(root: string, ...patterns: RegExp[]): void {
    assert.throws(
      () => BuildLock.acquire(root),
      (e: unknown) => {
        assert.ok(e instanceof UserError, String(e));
        for (const re of patterns) assert.match(e.message, re);
        assert.equal(e.exitCode, 2);
        return true;
      },
    );
  }

  test('the lock file holds our PID, our start time from /proc and our host', () => {
    const root = tempRoot();
    try {
      const lock = BuildLock.acquire(root);
      const holder = parseHolder(fs.readFileSync(lockFile(root), 'utf8'));
      assert.deepEqual(holder, { pid: process.pid, start: startTime(process.pid), host: os.hostname() });
      assert.match(holder!.start!, /^\d+$/, 'a start time (Linux has /proc)');
      lock.release();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('an unrelated live node process now holding the PID (another start time) is not a build: the lock is taken over', async () => {
    const root = tempRoot();
    try {
      await withLiveProcess((pid) => {
        const start = startTime(pid)!;
        assert.ok(start, 'the live process has a start time');
        writeLock(root, `${pid} ${Number(start) - 1000} ${os.hostname()}\n`);
        const lock = BuildLock.acquire(root);
        assert.equal(holderPid(root), process.pid);
        lock.release();
        // The same process with its own start time is a build that runs: refused.
        writeLock(root, `${pid} ${start} ${os.hostname()}\n`);
        assertRefused(root, new RegExp(`another build is running .*pid ${pid}\\b`));
      });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a lock from another host is never taken over, even naming a dead PID: refused with its host and PID', async () => {
    const root = tempRoot();
    try {
      for (const pid of [deadPid(), process.pid]) {
        const text = `${pid} 12345 login-node-2\n`;
        writeLock(root, text);
        assertRefused(root, new RegExp(`pid ${pid} on host login-node-2`), /if that build is known to have ended, remove \.rules\/lock/);
        assert.equal(fs.readFileSync(lockFile(root), 'utf8'), text, 'left alone');
      }
      await withLiveProcess((pid) => {
        writeLock(root, `${pid} ${startTime(pid)} login-node-2\n`);
        assertRefused(root, new RegExp(`pid ${pid} on host login-node-2`));
      });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a takeover mutex left by a killed build is removed at once, not after a timeout', () => {
    const root = tempRoot();
    try {
      const dead = deadPid();
      writeLock(root, `${dead} 1 ${os.hostname()}\n`);
      fs.writeFileSync(`${lockFile(root)}.takeover`, `${dead} 1 ${os.hostname()}\n`);
      const t0 = Date.now();
      const lock = BuildLock.acquire(root);
      assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
      assert.equal(holderPid(root), process.pid);
      assert.equal(fs.existsSync(`${lockFile(root)}.takeover`), false);
      lock.release();
      // The mutex of an older version (an empty directory) too.
      writeLock(root, `${dead}\n`);
      fs.mkdirSync(`${lockFile(root)}.takeover`);
      BuildLock.acquire(root).release();
      assert.deepEqual(fs.readdirSync(path.join(root, '.rules')), []);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a takeover mutex held by a live build is waited for, then named', async () => {
    const root = tempRoot();
    try {
      await withLiveProcess((pid) => {
        writeLock(root, `${deadPid()} 1 ${os.hostname()}\n`);
        fs.writeFileSync(`${lockFile(root)}.takeover`, `${pid} ${startTime(pid)} ${os.hostname()}\n`);
        assertRefused(root, new RegExp(`pid ${pid}\\b`));
      });
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a directory in place of the lock: an empty one is removed, another is named', () => {
    const root = tempRoot();
    try {
      fs.mkdirSync(lockFile(root), { recursive: true });
      BuildLock.acquire(root).release();
      assert.equal(fs.existsSync(lockFile(root)), false);
      fs.mkdirSync(path.join(lockFile(root), 'something'), { recursive: true });
      assertRefused(root, /^\.rules\/lock is a directory, but rules keeps its build lock there as a file: move it away$/);
      assert.ok(fs.existsSync(path.join(lockFile(root), 'something')), 'never deleted');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('.rules itself a file: named, left alone', () => {
    const root = tempRoot();
    try {
      fs.writeFileSync(path.join(root, '.rules'), 'mine');
      assertRefused(root, /^\.rules is a file, but rules keeps its state in a directory of that name: move the file away$/);
      assert.equal(fs.readFileSync(path.join(root, '.rules'), 'utf8'), 'mine');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
