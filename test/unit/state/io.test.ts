// Writing under .rules/ on a full disk: an append lands whole or not at all,
// the build log's storage reports the failure once as one clear line, and a
// compaction that cannot be written leaves the old log whole. On a tiny tmpfs
// (needs root, as on CI).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { AppendFile, StateWriteError } from '../../../src/state/io.js';
import { BuildLog, FileLogStorage } from '../../../src/state/log.js';
import type { UserError } from '../../../src/util/errors.js';

/** A directory on its own 64 KiB tmpfs, or undefined when it cannot be mounted. */
function tinyDir(t: TestContext): string | undefined {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-io-test-'));
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  t.after(() => {
    spawnSync('umount', ['-l', dir]); // lazily: a descriptor a failed test left open must not keep the mount
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Leaves `free` bytes (rounded to pages by tmpfs) by writing a filler file. */
function fill(dir: string, freeBytes: number): void {
  const total = fs.statfsSync(dir).bavail * fs.statfsSync(dir).bsize;
  fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(Math.max(0, total - freeBytes)));
}

describe('writing state on a full disk', () => {
  test('an append that does not fit is cut back: the file keeps only whole pieces', (t) => {
    const dir = tinyDir(t);
    if (!dir) return t.skip('needs root to mount a tmpfs');
    fill(dir, 8192);
    const file = new AppendFile(path.join(dir, 'sub', 'events.jsonl'));
    file.append('one\n');
    assert.throws(() => file.append('x'.repeat(20_000) + '\n'), { code: 'ENOSPC' });
    file.append('two\n');
    file.close();
    assert.equal(fs.readFileSync(path.join(dir, 'sub', 'events.jsonl'), 'utf8'), 'one\ntwo\n');
  });

  test('the build log: a failed append is one StateWriteError, told to onWriteError, and the log stays whole', (t) => {
    const root = tinyDir(t);
    if (!root) return t.skip('needs root to mount a tmpfs');
    const storage = new FileLogStorage(root);
    storage.append('first record\n');
    const told: UserError[] = [];
    storage.onWriteError = (e) => told.push(e);
    fill(root, 0);
    let thrown: unknown;
    try {
      storage.append('y'.repeat(10_000) + '\n');
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof StateWriteError, String(thrown));
    assert.equal(thrown.message, 'cannot write the build log .rules/log: no space left on the device; free some space and run rules again');
    assert.equal(thrown.exitCode, 2);
    assert.deepEqual(told, [thrown]);
    storage.close();
    assert.equal(fs.readFileSync(path.join(root, '.rules', 'log'), 'utf8'), 'first record\n');

    // A compaction that cannot be written: the old log is whole and no copy is left behind.
    assert.throws(() => storage.replace('z'.repeat(10_000) + '\n'), StateWriteError);
    assert.equal(fs.readFileSync(path.join(root, '.rules', 'log'), 'utf8'), 'first record\n');
    assert.deepEqual(fs.readdirSync(path.join(root, '.rules')), ['log']);
  });

  test('a started-marker that cannot be written is the same one line, told to onWriteError, before the S record', (t) => {
    const root = tinyDir(t);
    if (!root) return t.skip('needs root to mount a tmpfs');
    const storage = new FileLogStorage(root);
    const told: UserError[] = [];
    storage.onWriteError = (e) => told.push(e);
    const log = BuildLog.load(storage);
    // a is still running: its marker's file cannot be reused for b, whose marker needs a file, and blocks, of its own.
    log.started('a.txt', ['a.txt']);
    fill(root, 0);
    let thrown: unknown;
    try {
      log.started('b.txt', ['b.txt']);
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof StateWriteError, String(thrown));
    assert.match(thrown.message, /^cannot write a started-marker \.rules\/started\/[0-9a-f]{32}: no space left on the device/);
    assert.deepEqual(told, [thrown]);
    assert.equal(log.incomplete.has('b.txt'), false, 'no S record follows a marker that was not written');
    storage.close();
  });
});
