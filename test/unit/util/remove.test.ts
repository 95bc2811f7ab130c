// DiskFileSystem.remove on the real disk: a file or a symbolic link is
// unlinked, a directory is never deleted (nothing in it is touched).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { DiskFileSystem, IsDirectoryError } from '../../../src/util/fs.js';

function tempRoot(t: TestContext): string {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-remove-'));
  t.after(() => fs.rmSync(base, { recursive: true, force: true }));
  fs.mkdirSync(path.join(base, 'root'));
  fs.writeFileSync(path.join(base, 'outside.txt'), 'keep\n');
  fs.mkdirSync(path.join(base, 'outside-dir'));
  fs.writeFileSync(path.join(base, 'outside-dir', 'x.txt'), 'keep\n');
  return base;
}

describe('DiskFileSystem.remove', () => {
  test('unlinks a file; a missing path or a path under a file is nothing to do', (t) => {
    const base = tempRoot(t);
    const disk = new DiskFileSystem(path.join(base, 'root'));
    fs.writeFileSync(path.join(base, 'root', 'a.txt'), 'a');
    disk.remove('a.txt');
    assert.equal(fs.existsSync(path.join(base, 'root', 'a.txt')), false);
    disk.remove('a.txt');
    fs.writeFileSync(path.join(base, 'root', 'f'), 'f');
    disk.remove('f/below');
    assert.equal(fs.readFileSync(path.join(base, 'root', 'f'), 'utf8'), 'f');
  });

  test('a directory is refused and everything in it survives', (t) => {
    const base = tempRoot(t);
    const disk = new DiskFileSystem(path.join(base, 'root'));
    fs.mkdirSync(path.join(base, 'root', 'sub', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(base, 'root', 'sub', 'deep', 'user.txt'), 'mine');
    assert.throws(() => disk.remove('sub'), (e: unknown) => e instanceof IsDirectoryError && e.path === 'sub');
    fs.mkdirSync(path.join(base, 'root', 'empty'));
    assert.throws(() => disk.remove('empty'), IsDirectoryError, 'not even an empty one');
    assert.equal(fs.readFileSync(path.join(base, 'root', 'sub', 'deep', 'user.txt'), 'utf8'), 'mine');
    assert.ok(fs.statSync(path.join(base, 'root', 'empty')).isDirectory());
  });

  test('a symbolic link is unlinked, never what it points to', (t) => {
    const base = tempRoot(t);
    const disk = new DiskFileSystem(path.join(base, 'root'));
    fs.symlinkSync(path.join(base, 'outside.txt'), path.join(base, 'root', 'to-file'));
    fs.symlinkSync(path.join(base, 'outside-dir'), path.join(base, 'root', 'to-dir'));
    fs.symlinkSync(path.join(base, 'nowhere'), path.join(base, 'root', 'dangling'));
    disk.remove('to-file');
    disk.remove('to-dir');
    disk.remove('dangling');
    assert.deepEqual(fs.readdirSync(path.join(base, 'root')), []);
    assert.equal(fs.readFileSync(path.join(base, 'outside.txt'), 'utf8'), 'keep\n');
    assert.equal(fs.readFileSync(path.join(base, 'outside-dir', 'x.txt'), 'utf8'), 'keep\n');
  });
});

describe('DiskFileSystem.stat', () => {
  test('a path longer than the system takes (ENAMETOOLONG) does not exist; it is no internal error', (t) => {
    const base = tempRoot(t);
    const disk = new DiskFileSystem(path.join(base, 'root'));
    const long = `${'d'.repeat(250)}/`.repeat(20) + 'x.txt';
    assert.equal(disk.stat(long), undefined);
    assert.equal(disk.exists(long), false);
  });
});
