import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CachedFileSystem, DiskFileSystem, sameFile, type DirEntry, type FileStat } from '../../../src/util/fs.js';
import { glob } from '../../../src/util/glob.js';

class CountingFs extends DiskFileSystem {
  stats: string[] = [];
  override stat(path: string): FileStat | undefined {
    this.stats.push(path);
    return super.stat(path);
  }
}

/** The disk, except that listing `locked` is refused. */
class RefusingFs extends DiskFileSystem {
  override readdir(path: string) {
    if (path === 'locked') throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    return super.readdir(path);
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

  test('paths under a missing directory are recorded but not cached: once it is made, the disk answers for them', () => {
    const root = mkdtempSync(join(tmpdir(), 'rules-cfs-'));
    try {
      const disk = new CountingFs(root);
      const fs = new CachedFileSystem(disk);
      assert.equal(fs.stat('out/a.txt'), undefined);
      assert.equal(fs.stat('out/sub/b.txt'), undefined);
      assert.equal(fs.exists('out/a.txt'), false);
      assert.deepEqual([...fs.lookedAt], ['out/a.txt', 'out/sub/b.txt']);
      assert.deepEqual(disk.stats, ['out']);
      fs.mkdirp('out');
      writeFileSync(join(root, 'out/a.txt'), 'x');
      assert.equal(fs.stat('out/a.txt')?.size, 1);
      assert.equal(fs.stat('out/sub/b.txt'), undefined);
      assert.deepEqual([...fs.lookedAt], ['out/a.txt', 'out/sub/b.txt']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('without a record (a dry run), paths are answered and cached as with one, and none is recorded', () => {
    const root = mkdtempSync(join(tmpdir(), 'rules-cfs-'));
    try {
      writeFileSync(join(root, 'a.txt'), 'x');
      const disk = new CountingFs(root);
      const fs = new CachedFileSystem(disk, { record: false });
      assert.equal(fs.stat('a.txt')?.size, 1);
      assert.equal(fs.stat('a.txt')?.size, 1);
      assert.equal(fs.stat('out/b.txt'), undefined);
      assert.equal(fs.exists('a.txt'), true);
      assert.deepEqual(disk.stats, ['a.txt', 'out']);
      assert.deepEqual([...fs.lookedAt], []);
      const recorded = new CachedFileSystem(new DiskFileSystem(root));
      recorded.stat('a.txt');
      assert.deepEqual([...recorded.lookedAt], ['a.txt']);
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

  test('a listed directory answers for any name, asked in any order, its listing sorted or not', () => {
    const names = ['a', 'a-b', 'a.txt', 'b', 'broken', 'c\uFFFD', 'c\u{1F600}', 'd', 'é'];
    const entries: DirEntry[] = names.map((name) => (name === 'broken' ? { name, isDirectory: false, isLink: true, broken: 'a symbolic link to nothing' } : { name, isDirectory: false }));
    const absent = ['', '0', 'a-', 'a.t', 'aa', 'broke', 'c', 'c\uD83D', 'e', 'z', '\u{1F601}'];
    const orders = [names, [...names].reverse(), [...names, ...absent].sort(() => 0.5 - Math.random()), ['d', 'a', 'é', 'a', 'b', 'b', 'c\u{1F600}']];
    for (const listing of [entries, [...entries].reverse(), [entries[3]!, ...entries.slice(0, 3), ...entries.slice(4)]]) {
      for (const asked of orders) {
        const disk = new (class extends CountingFs {
          override readdir(): DirEntry[] {
            return listing;
          }
        })('/nowhere');
        const fs = new CachedFileSystem(disk);
        fs.readdir('dir');
        for (const name of asked) assert.equal(fs.exists(`dir/${name}`), names.includes(name) && name !== 'broken', `${name} in ${listing.map((e) => e.name).join(' ')}`);
        for (const name of absent) assert.equal(fs.exists(`dir/${name}`), false, name);
        assert.deepEqual(disk.stats, []);
      }
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

  test('records every path stat\'ed or hashed, through invalidate, remove and mkdirp', () => {
    const root = mkdtempSync(join(tmpdir(), 'rules-cfs-'));
    try {
      writeFileSync(join(root, 'a.txt'), 'x');
      writeFileSync(join(root, 'b.txt'), 'y');
      writeFileSync(join(root, 'h.txt'), 'z');
      const fs = new CachedFileSystem(new DiskFileSystem(root));
      fs.stat('a.txt');
      assert.equal(fs.exists('b.txt'), true);
      fs.stat('out/c.txt');
      fs.hash('h.txt');
      fs.invalidate('a.txt');
      fs.remove('b.txt');
      fs.mkdirp('out');
      assert.deepEqual([...fs.lookedAt], ['a.txt', 'b.txt', 'out/c.txt', 'h.txt']);
      // After invalidate the stat is the disk's again, and still recorded once.
      writeFileSync(join(root, 'a.txt'), 'longer');
      assert.equal(fs.stat('a.txt')?.size, 6);
      assert.equal(fs.stat('b.txt'), undefined);
      assert.deepEqual([...fs.lookedAt], ['a.txt', 'b.txt', 'out/c.txt', 'h.txt']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('the parents it stats on its own are not recorded; a parent asked about is', () => {
    const root = mkdtempSync(join(tmpdir(), 'rules-cfs-'));
    try {
      mkdirSync(join(root, 'out'));
      const disk = new CountingFs(root);
      const fs = new CachedFileSystem(disk);
      fs.stat('out/a.txt');
      fs.stat('gone/deep/b.txt');
      assert.deepEqual(disk.stats, ['out', 'out/a.txt', 'gone'], 'each directory stat\'ed once');
      assert.deepEqual([...fs.lookedAt], ['out/a.txt', 'gone/deep/b.txt']);
      // Asked about: recorded, answered from the cache.
      assert.equal(fs.exists('out'), true);
      assert.equal(fs.stat('gone'), undefined);
      assert.deepEqual(disk.stats, ['out', 'out/a.txt', 'gone']);
      assert.deepEqual([...fs.lookedAt], ['out/a.txt', 'gone/deep/b.txt', 'out', 'gone']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a name answered from a listing is not a stat: the listing is recorded instead', () => {
    const root = mkdtempSync(join(tmpdir(), 'rules-cfs-'));
    try {
      writeFileSync(join(root, 'a.txt'), 'x');
      const fs = new CachedFileSystem(new DiskFileSystem(root));
      const listing = fs.readdir('');
      assert.equal(fs.exists('a.txt'), true);
      assert.equal(fs.exists('b.txt'), false);
      assert.deepEqual([...fs.lookedAt], []);
      assert.deepEqual([...fs.listings], [['', listing]]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('records every directory listed with the first listing used: missing, listed again after mkdirp, unlistable', () => {
    const root = mkdtempSync(join(tmpdir(), 'rules-cfs-'));
    try {
      mkdirSync(join(root, 'src'));
      writeFileSync(join(root, 'src/a.txt'), 'x');
      const fs = new CachedFileSystem(new DiskFileSystem(root));
      assert.deepEqual(fs.readdir('src')?.map((e) => e.name), ['a.txt']);
      assert.equal(fs.readdir('none'), undefined);
      // A job made a file there; the directory is listed again: the record keeps what the build went by first.
      fs.mkdirp('src');
      writeFileSync(join(root, 'src/b.txt'), 'y');
      assert.deepEqual(fs.readdir('src')?.map((e) => e.name).sort(), ['a.txt', 'b.txt']);
      assert.deepEqual(
        [...fs.listings].map(([dir, l]) => [dir, l === undefined || l === 'unlistable' ? l : l.map((e) => e.name)]),
        [
          ['src', ['a.txt']],
          ['none', undefined],
        ],
      );
      // A directory there but not listable (root may list anything: a file system that refuses).
      const refusing = new CachedFileSystem(new RefusingFs(root));
      assert.throws(() => refusing.readdir('locked'), /EACCES/);
      assert.equal(refusing.listings.get('locked'), 'unlistable');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a directory a job wrote (invalidated) is recorded as listed next, and so is everything under it', () => {
    const root = mkdtempSync(join(tmpdir(), 'rules-cfs-'));
    try {
      mkdirSync(join(root, 'chunks/sub'), { recursive: true });
      writeFileSync(join(root, 'chunks/a.txt'), 'x');
      const fs = new CachedFileSystem(new DiskFileSystem(root));
      assert.deepEqual(fs.readdir('chunks')?.map((e) => e.name).sort(), ['a.txt', 'sub']);
      assert.deepEqual(fs.readdir('chunks/sub'), []);
      // The job making chunks/ ran: it holds other files now.
      rmSync(join(root, 'chunks'), { recursive: true });
      mkdirSync(join(root, 'chunks'));
      writeFileSync(join(root, 'chunks/b.txt'), 'y');
      fs.invalidate('chunks');
      assert.deepEqual(fs.readdir('chunks')?.map((e) => e.name), ['b.txt']);
      assert.deepEqual(
        [...fs.listings].map(([dir, l]) => [dir, l === undefined || l === 'unlistable' ? l : l.map((e) => e.name)]),
        [['chunks', ['b.txt']]],
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a directory a glob listed keeps that first listing in the record, even after a job wrote it: the graph was made from it', () => {
    const root = mkdtempSync(join(tmpdir(), 'rules-cfs-'));
    try {
      mkdirSync(join(root, 'chunks/a'), { recursive: true });
      writeFileSync(join(root, 'chunks/a/old.txt'), 'x');
      const fs = new CachedFileSystem(new DiskFileSystem(root));
      // A glob starting above a directory output (it does not wait for the job making it).
      assert.deepEqual(glob(fs, 'chunks/*/*.txt'), ['chunks/a/old.txt']);
      rmSync(join(root, 'chunks/a'), { recursive: true });
      mkdirSync(join(root, 'chunks/a'));
      writeFileSync(join(root, 'chunks/a/new.txt'), 'y');
      fs.invalidate('chunks/a');
      assert.deepEqual(glob(fs, 'chunks/*/*.txt'), ['chunks/a/new.txt']);
      const listing = fs.listings.get('chunks/a');
      assert.deepEqual(Array.isArray(listing) ? listing.map((e) => e.name) : listing, ['old.txt'], 'the next build must see the change and take the full path');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('sameFile: the one test of "unchanged"', () => {
  const f = { size: 10, mtimeMs: 1000.5, ino: 7 };
  test('the same size, mtime and inode is the same file, whatever else differs', () => {
    assert.equal(sameFile(f, { ...f }), true);
    assert.equal(sameFile({ ...f, isDirectory: false, dev: 3 } as FileStat, f), true);
    assert.equal(sameFile(undefined, undefined), true, 'missing then, missing now');
  });
  test('any of them different, or one of the two missing, is another file', () => {
    assert.equal(sameFile(f, { ...f, size: 11 }), false);
    assert.equal(sameFile(f, { ...f, mtimeMs: 1000.5001 }), false);
    assert.equal(sameFile(f, { ...f, ino: 8 }), false);
    assert.equal(sameFile(f, undefined), false);
    assert.equal(sameFile(undefined, f), false);
  });
});
