// Globbing with symbolic links: a link is what it leads to, each real
// directory is searched once (so `**` ends and no file is matched twice), and
// an entry that leads nowhere is skipped and reported, never the directory
// holding it. Each case runs on a real directory with real links and on the
// fake file system, which must agree.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CachedFileSystem, DiskFileSystem, type FileSystem } from '../../../src/util/fs.js';
import { glob, type SkippedEntry } from '../../../src/util/glob.js';
import { FakeFileSystem } from '../../support/fakefs.js';

/** A tree: files (path → content) and links (path → target, relative to the link's directory). */
interface Tree {
  files: string[];
  links?: Record<string, string>;
}

const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function onDisk(tree: Tree): FileSystem {
  const root = mkdtempSync(join(tmpdir(), 'rules-glob-'));
  roots.push(root);
  for (const f of tree.files) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), f);
  }
  for (const [path, target] of Object.entries(tree.links ?? {})) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    symlinkSync(target, join(root, path));
  }
  return new DiskFileSystem(root);
}

function inMemory(tree: Tree): FileSystem {
  const fs = new FakeFileSystem().write(...tree.files);
  for (const [path, target] of Object.entries(tree.links ?? {})) fs.link(path, target);
  return fs;
}

const KINDS: [string, (t: Tree) => FileSystem][] = [
  ['disk', onDisk],
  ['cached disk', (t) => new CachedFileSystem(onDisk(t))],
  ['fake', inMemory],
];

function globWithSkips(fs: FileSystem, pattern: string): { matches: string[]; skipped: SkippedEntry[] } {
  const skipped: SkippedEntry[] = [];
  const matches = glob(fs, pattern, (s) => skipped.push(s));
  return { matches, skipped: skipped.sort((a, b) => (a.path < b.path ? -1 : 1)) };
}

for (const [kind, make] of KINDS) {
  describe(`globbing through symbolic links (${kind})`, () => {
    test('a self-loop and a dangling loop skip themselves, not the directory', () => {
      const fs = make({ files: ['raw/a.txt', 'raw/b.txt'], links: { 'raw/self': 'self', 'raw/ping': 'pong', 'raw/pong': 'ping' } });
      assert.deepEqual(globWithSkips(fs, 'raw/*.txt'), { matches: ['raw/a.txt', 'raw/b.txt'], skipped: [] });
      // Where the loops could match, they are reported by path.
      const all = globWithSkips(fs, 'raw/*');
      assert.deepEqual(all.matches, ['raw/a.txt', 'raw/b.txt']);
      assert.deepEqual(
        all.skipped.map((s) => s.path),
        ['raw/ping', 'raw/pong', 'raw/self'],
      );
      for (const s of all.skipped) assert.equal(s.reason, 'a symbolic link in a loop');
    });

    test('a dangling link that matches is skipped and reported', () => {
      const fs = make({ files: ['raw/a.txt'], links: { 'raw/c.txt': 'nowhere.txt' } });
      assert.deepEqual(globWithSkips(fs, 'raw/*.txt'), {
        matches: ['raw/a.txt'],
        skipped: [{ path: 'raw/c.txt', reason: 'a symbolic link to nothing' }],
      });
      // A stat says it is not there, as for a missing file.
      assert.equal(fs.stat('raw/c.txt'), undefined);
      assert.equal(fs.stat('raw/a.txt')?.isDirectory, false);
    });

    test('a self-loop is not there for stat, and is no match as a plain path', () => {
      const fs = make({ files: ['raw/a.txt'], links: { 'raw/self': 'self' } });
      assert.equal(fs.stat('raw/self'), undefined);
      assert.deepEqual(glob(fs, 'raw/self'), []);
    });

    test('a link that cannot match and holds nothing that could is not reported (an editor lock file)', () => {
      const fs = make({ files: ['raw/a.txt', 'deep/x/1.csv'], links: { 'raw/.#a.txt': 'user@host.123', 'raw/b.dat': 'gone', 'deep/x/.#1.csv': 'gone' } });
      assert.deepEqual(globWithSkips(fs, 'raw/*.txt'), { matches: ['raw/a.txt'], skipped: [] });
      assert.deepEqual(globWithSkips(fs, 'deep/**/*.csv'), { matches: ['deep/x/1.csv'], skipped: [] });
    });

    test('under **, a broken entry that could be a directory of matches is reported', () => {
      const fs = make({ files: ['deep/x/1.csv'], links: { 'deep/lost': '../gone' } });
      assert.deepEqual(globWithSkips(fs, 'deep/**/*.csv'), {
        matches: ['deep/x/1.csv'],
        skipped: [{ path: 'deep/lost', reason: 'a symbolic link to nothing' }],
      });
    });

    test('** through a link to an ancestor matches each file once', () => {
      const fs = make({ files: ['data/x.csv', 'data/sub/y.csv'], links: { 'data/sub/up': '..' } });
      assert.deepEqual(globWithSkips(fs, 'data/**/*.csv'), { matches: ['data/sub/y.csv', 'data/x.csv'], skipped: [] });
      assert.deepEqual(glob(fs, '**/*.csv'), ['data/sub/y.csv', 'data/x.csv']);
    });

    // Without the once-per-directory rule this case does not end (three ways back at every level).
    test('several links back up the tree: each file once', () => {
      const fs = make({ files: ['data/x.csv', 'data/sub/y.csv', 'data/sub/deeper/z.csv'], links: { 'data/sub/up': '..', 'data/sub/deeper/top': '../..', 'data/here': '.' } });
      assert.deepEqual(globWithSkips(fs, 'data/**/*.csv'), {
        matches: ['data/sub/deeper/z.csv', 'data/sub/y.csv', 'data/x.csv'],
        skipped: [],
      });
    });

    test('a link to a file is matched as a file; a link to a directory is searched', () => {
      const fs = make({ files: ['store/run7/r1.fq', 'store/run7/r2.fq', 'store/ref.fa'], links: { 'samples/s1': '../store/run7', 'samples/ref.fa': '../store/ref.fa' } });
      assert.deepEqual(glob(fs, 'samples/*/*.fq'), ['samples/s1/r1.fq', 'samples/s1/r2.fq']);
      assert.deepEqual(glob(fs, 'samples/*.fa'), ['samples/ref.fa']);
      assert.deepEqual(glob(fs, 'samples/**/*'), ['samples/ref.fa', 'samples/s1/r1.fq', 'samples/s1/r2.fq']);
    });

    test('a directory reached by its own path and through a link is searched once, by its own path', () => {
      const fs = make({ files: ['data/real/a.csv'], links: { 'data/alias': 'real', 'data/0-first': 'real' } });
      assert.deepEqual(glob(fs, 'data/**/*.csv'), ['data/real/a.csv']);
    });

    test('two links to one directory outside: the first by code point is searched', () => {
      const fs = make({ files: ['elsewhere/a.csv'], links: { 'data/zeta': '../elsewhere', 'data/beta': '../elsewhere' } });
      assert.deepEqual(glob(fs, 'data/**/*.csv'), ['data/beta/a.csv']);
    });

    test('mutual links between two directories end', () => {
      const fs = make({ files: ['t/a/1.txt', 't/b/2.txt'], links: { 't/a/to-b': '../b', 't/b/to-a': '../a' } });
      assert.deepEqual(glob(fs, 't/**/*.txt'), ['t/a/1.txt', 't/b/2.txt']);
    });
  });
}

describe('globbing a directory that cannot be listed (fake)', () => {
  test('the directory is reported and skipped; its neighbours are matched', () => {
    const fs = new FakeFileSystem().write('d/ok/1.csv', 'd/secret/2.csv').deny('d/secret');
    assert.deepEqual(globWithSkips(fs, 'd/**/*.csv'), {
      matches: ['d/ok/1.csv'],
      skipped: [{ path: 'd/secret', reason: 'a directory that cannot be listed (permission denied)' }],
    });
  });
});

describe('the order of a listing does not change the answer (fake)', () => {
  test('links written in either order give the same matches', () => {
    const a = new FakeFileSystem().write('elsewhere/a.csv').link('data/zeta', '../elsewhere').link('data/beta', '../elsewhere');
    const b = new FakeFileSystem().write('elsewhere/a.csv').link('data/beta', '../elsewhere').link('data/zeta', '../elsewhere');
    assert.deepEqual(glob(a, 'data/**/*.csv'), ['data/beta/a.csv']);
    assert.deepEqual(glob(b, 'data/**/*.csv'), ['data/beta/a.csv']);
  });
});

describe('the cost of links (fake)', () => {
  test('a tree without links to directories is searched without a stat', () => {
    class CountingFs extends FakeFileSystem {
      stats = 0;
      override stat(path: string) {
        this.stats++;
        return super.stat(path);
      }
    }
    const fs = new CountingFs().write('a/1.csv', 'a/b/2.csv', 'a/b/c/3.csv');
    assert.deepEqual(glob(fs, 'a/**/*.csv'), ['a/1.csv', 'a/b/2.csv', 'a/b/c/3.csv']);
    assert.equal(fs.stats, 0);
  });
});
