import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CachedFileSystem, DiskFileSystem, type FileStat } from '../../../src/util/fs.js';

class CountingFs extends DiskFileSystem {
  stats: string[] = [];
  override stat(path: string): FileStat | undefined {
    this.stats.push(path);
    return super.stat(path);
  }
}

describe('the cached file system', () => {
  test('files in a missing directory cost one stat of the directory', () => {
    const root = mkdtempSync(join(tmpdir(), 'rules-cfs-'));
    try {
      const disk = new CountingFs(root);
      const fs = new CachedFileSystem(disk);
      for (let i = 0; i < 100; i++) assert.equal(fs.stat(`out/deep/${i}.txt`), undefined);
      assert.deepEqual(disk.stats, ['out'], 'one stat, of the missing top directory');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('mkdirp forgets that a directory was missing', () => {
    const root = mkdtempSync(join(tmpdir(), 'rules-cfs-'));
    try {
      const fs = new CachedFileSystem(new DiskFileSystem(root));
      assert.equal(fs.stat('out/a.txt'), undefined);
      fs.mkdirp('out');
      writeFileSync(join(root, 'out/a.txt'), 'x');
      fs.invalidate('out/a.txt');
      assert.equal(fs.stat('out/a.txt')?.size, 1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a listed directory answers whether a name exists, without a stat', () => {
    const root = mkdtempSync(join(tmpdir(), 'rules-cfs-'));
    try {
      writeFileSync(join(root, 'a.txt'), 'x');
      const disk = new CountingFs(root);
      const fs = new CachedFileSystem(disk);
      fs.readdir('');
      assert.equal(fs.exists('a.txt'), true);
      assert.equal(fs.exists('b.txt'), false);
      assert.deepEqual(disk.stats, []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a listed directory does not take a dangling link for an existing file', () => {
    const root = mkdtempSync(join(tmpdir(), 'rules-cfs-'));
    try {
      writeFileSync(join(root, 'a.txt'), 'x');
      symlinkSync('gone.txt', join(root, 'b.txt'));
      symlinkSync('self', join(root, 'self'));
      const fs = new CachedFileSystem(new DiskFileSystem(root));
      assert.deepEqual(
        fs.readdir('')!.map((e) => e.name).sort(),
        ['a.txt', 'b.txt', 'self'],
      );
      assert.equal(fs.exists('a.txt'), true);
      assert.equal(fs.exists('b.txt'), false, 'as stat says');
      assert.equal(fs.exists('self'), false);
      assert.equal(fs.stat('self'), undefined);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
