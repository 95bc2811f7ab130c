import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { stampPath } from '../../../src/state/paths.js';
import { loadStamp, stampHolds, writeStamp, type LookedAt, type StampFacts } from '../../../src/state/stamp.js';
import { startCheckThreads } from '../../../src/state/stamp-check.js';
import { spawnSync } from 'node:child_process';
import { CachedFileSystem, DiskFileSystem } from '../../../src/util/fs.js';

function tempRoot(t: { after(fn: () => void): void }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-stamp-test-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, '.rules'));
  return root;
}

function put(root: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), text);
}

function diskStat(root: string) {
  return (p: string) => {
    const st = fs.statSync(p.startsWith('/') ? p : path.join(root, p), { throwIfNoEntry: false });
    return st && { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
  };
}

/**
 * What a build of a small project looked at: two sources, an output, a path
 * that did not exist, and a listing of src/ (a glob over it); the Rulefile read.
 */
function looked(root: string, paths = ['src/a.txt', 'src/b.txt', 'out/a.txt', 'out/never.txt']): CachedFileSystem {
  const fs = new CachedFileSystem(new DiskFileSystem(root));
  fs.readdir('src');
  for (const p of paths) fs.stat(p);
  return fs;
}

/** A record given as is: any paths, stats as `stat` says. */
function record(paths: string[], stat: LookedAt['stat']): LookedAt {
  return { lookedAt: new Set(paths), listings: new Map(), stat };
}

function facts(root: string, over: Partial<StampFacts> = {}): StampFacts {
  return {
    key: 'k1',
    read: [path.join(root, 'Rulefile')],
    upToDate: 3,
    dryText: 'all: always\n',
    dryJson: '{"jobs":[]}\n',
    ...over,
    fs: over.fs ?? looked(root),
  };
}

function setUp(root: string): void {
  put(root, 'Rulefile', 'rules: {}\n');
  put(root, 'src/a.txt', 'a\n');
  put(root, 'src/b.txt', 'b\n');
  put(root, 'out/a.txt', 'A\n');
  put(root, '.rules/log', 'rules-build-log 3\n');
}

async function holds(root: string, key = 'k1'): Promise<boolean> {
  const stamp = loadStamp(root, key);
  if (!stamp) return false;
  return stampHolds(stamp, root);
}

describe('the up-to-date stamp', () => {
  test('holds while nothing changes, and carries what a no-op prints', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    writeStamp(root, facts(root));
    assert.equal(await holds(root), true);
    assert.equal(await holds(root), true);
    const stamp = loadStamp(root, 'k1')!;
    assert.equal(stamp.header.upToDate, 3);
    assert.equal(stamp.header.dryText, 'all: always\n');
    assert.equal(stamp.header.count, 4);
  });

  test('is ignored for another key', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    writeStamp(root, facts(root));
    assert.equal(loadStamp(root, 'k2'), undefined);
  });

  const changes: [string, (root: string) => void][] = [
    ['a source edited (same size, new mtime)', (r) => {
      put(r, 'src/a.txt', 'x\n');
      fs.utimesSync(path.join(r, 'src/a.txt'), 1_000_000, 1_000_000);
    }],
    ['a source touched', (r) => fs.utimesSync(path.join(r, 'src/b.txt'), 2_000_000, 2_000_000)],
    ['a source replaced by another file (new inode)', (r) => {
      const st = fs.statSync(path.join(r, 'src/a.txt'));
      put(r, 'src/a.new', 'a\n');
      fs.utimesSync(path.join(r, 'src/a.new'), st.atime, st.mtime);
      fs.renameSync(path.join(r, 'src/a.new'), path.join(r, 'src/a.txt'));
    }],
    ['an output deleted', (r) => fs.rmSync(path.join(r, 'out/a.txt'))],
    ['a path that was missing now exists', (r) => put(r, 'out/never.txt', 'n\n')],
    ['the Rulefile edited', (r) => put(r, 'Rulefile', 'rules: { }\n')],
    ['the Rulefile deleted', (r) => fs.rmSync(path.join(r, 'Rulefile'))],
    ['the build log appended to', (r) => fs.appendFileSync(path.join(r, '.rules/log'), 'x\n')],
    ['the build log deleted', (r) => fs.rmSync(path.join(r, '.rules/log'))],
    ['a new file matching a glob', (r) => put(r, 'src/c.txt', 'c\n')],
    ['a file matching a glob deleted', (r) => fs.rmSync(path.join(r, 'src/b.txt'))],
    ['a new file in a listed directory, whatever its name', (r) => put(r, 'src/notes.md', 'n\n')],
    ['a new directory in a listed directory', (r) => fs.mkdirSync(path.join(r, 'src/sub'))],
    ['a file in a listed directory replaced by a link to it', (r) => {
      fs.renameSync(path.join(r, 'src/b.txt'), path.join(r, 'b.txt'));
      fs.symlinkSync('../b.txt', path.join(r, 'src/b.txt'));
    }],
    ['a listed directory deleted', (r) => fs.rmSync(path.join(r, 'src'), { recursive: true })],
    ['the directory of a path that was missing made', (r) => fs.mkdirSync(path.join(r, 'out/never.txt'))],
  ];
  for (const [what, change] of changes) {
    test(`no longer holds after: ${what}`, async (t) => {
      const root = tempRoot(t);
      setUp(root);
      writeStamp(root, facts(root));
      assert.equal(await holds(root), true);
      change(root);
      assert.equal(await holds(root), false);
    });
  }

  test('a file the build did not look at may come and go, also in a directory it stat\'ed a file in', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    writeStamp(root, facts(root));
    put(root, 'docs/notes.md', 'n\n');
    put(root, 'out/other.txt', 'o\n');
    put(root, 'notes.md', 'n\n');
    assert.equal(await holds(root), true);
    fs.rmSync(path.join(root, 'out/other.txt'));
    assert.equal(await holds(root), true);
  });

  test('a listed directory that did not exist: made, it breaks the stamp', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    const seen = looked(root);
    assert.equal(seen.readdir('raw'), undefined);
    writeStamp(root, facts(root, { fs: seen }));
    assert.equal(loadStamp(root, 'k1')!.header.dirs.length, 2);
    assert.equal(await holds(root), true);
    fs.mkdirSync(path.join(root, 'raw'));
    assert.equal(await holds(root), false);
  });

  test('a listed directory that cannot be listed now breaks the stamp; one that could not be listed gives no stamp', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    writeStamp(root, facts(root));
    // A link to itself in its place: listing it fails (ELOOP), whoever asks.
    fs.rmSync(path.join(root, 'src'), { recursive: true });
    fs.symlinkSync('src', path.join(root, 'src'));
    assert.throws(() => new DiskFileSystem(root).readdir('src'), /ELOOP/);
    assert.equal(await holds(root), false);
    assert.ok(fs.existsSync(stampPath(root)));
    const listings = new Map([['locked', 'unlistable' as const]]);
    writeStamp(root, facts(root, { fs: { lookedAt: new Set(['out/a.txt']), listings, stat: diskStat(root) } }));
    assert.equal(fs.existsSync(stampPath(root)), false);
  });

  test('every file read is compared by content, and one that cannot be read gives no stamp', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    put(root, 'conf.yaml', 'a: 1\n');
    const read = [path.join(root, 'Rulefile'), path.join(root, 'conf.yaml')];
    writeStamp(root, facts(root, { read }));
    assert.equal(await holds(root), true);
    // The same size and mtime: only the content says it changed.
    const st = fs.statSync(path.join(root, 'conf.yaml'));
    put(root, 'conf.yaml', 'a: 2\n');
    fs.utimesSync(path.join(root, 'conf.yaml'), st.atime, st.mtime);
    assert.equal(await holds(root), false);
    writeStamp(root, facts(root, { read: [...read, path.join(root, 'gone.yaml')] }));
    assert.equal(fs.existsSync(stampPath(root)), false);
  });

  test('a path only hashed is in the stamp too', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    put(root, 'table.csv', 'x,1\n');
    const seen = looked(root);
    seen.hash('table.csv');
    writeStamp(root, facts(root, { fs: seen }));
    assert.equal(loadStamp(root, 'k1')!.header.count, 5);
    assert.equal(await holds(root), true);
    fs.utimesSync(path.join(root, 'table.csv'), 3_000_000, 3_000_000);
    assert.equal(await holds(root), false);
  });

  test('a damaged stamp is no stamp', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    writeStamp(root, facts(root));
    const good = fs.readFileSync(stampPath(root));
    const flipped = (at: number) => {
      const b = Buffer.from(good);
      b[at] = b[at]! ^ 1;
      return b;
    };
    // A header rewritten to check nothing, with the digest of the original: caught by the digest.
    const text = good.toString('latin1');
    const noChunks = Buffer.from(text.replace(/"chunks":\[[0-9,]*\]/, '"chunks":[]'), 'latin1');
    assert.notEqual(noChunks.length, good.length);
    const damaged = [Buffer.alloc(0), good.subarray(0, good.length - 8), good.subarray(0, 30), Buffer.from('garbage\n{}\n'), Buffer.concat([good, Buffer.from('x')])];
    damaged.push(flipped(good.length - 3), flipped(good.indexOf('src/a.txt')), flipped(20), noChunks);
    for (const bad of damaged) {
      fs.writeFileSync(stampPath(root), bad);
      assert.equal(loadStamp(root, 'k1'), undefined, `${bad.length} bytes`);
    }
  });

  test('no stamp is written when a path has a newline in its name', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    writeStamp(root, facts(root));
    writeStamp(root, facts(root, { fs: record(['src/a.txt', 'odd\nname'], diskStat(root)) }));
    assert.equal(fs.existsSync(stampPath(root)), false);
  });

  test('what the build knew is what is compared, not what is on disk when the stamp is written', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    // The build saw out/a.txt before someone changed it: the stamp must not vouch for the new content.
    const seen = looked(root);
    put(root, 'out/a.txt', 'changed after the build looked\n');
    writeStamp(root, facts(root, { fs: seen }));
    assert.equal(await holds(root), false);
  });

  test('large stamps are checked on several threads: a difference anywhere is found', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    // 60,000 paths (past the threshold for threads): the few files, then paths that do not exist.
    const names = ['src/a.txt', 'src/b.txt', 'out/a.txt', 'out/never.txt'];
    const paths = Array.from({ length: 60_000 }, (_, i) => names[i] ?? `out/never-${i}.txt`);
    writeStamp(root, facts(root, { fs: record(paths, diskStat(root)) }));
    assert.equal(await holds(root), true);
    for (const wrongAt of [0, 30_001, 59_998]) {
      const real = diskStat(root);
      let i = 0;
      const stat = (p: string) => {
        const st = real(p);
        if (i++ !== wrongAt) return st;
        return st ? { ...st, mtimeMs: 1 } : { size: 1, mtimeMs: 1, ino: 1 };
      };
      writeStamp(root, facts(root, { fs: record(paths, stat) }));
      assert.equal(await holds(root), false, `difference at ${wrongAt}`);
    }
  });

  test('threads started ahead of the check, as the command line does, take part in it', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    const names = ['src/a.txt', 'src/b.txt', 'out/a.txt', 'out/never.txt'];
    const paths = Array.from({ length: 60_000 }, (_, i) => names[i] ?? `out/never-${i}.txt`);
    const helpers = Math.max(0, Math.min(3, os.availableParallelism() - 1));
    writeStamp(root, facts(root, { fs: record(paths, diskStat(root)) }));
    assert.equal(startCheckThreads(stampPath(root)), helpers);
    assert.equal(await holds(root), true);
    // The last path differs: whichever thread takes the last chunk finds it.
    const real = diskStat(root);
    let i = 0;
    writeStamp(root, facts(root, { fs: record(paths, (p) => (i++ === 59_999 ? { size: 1, mtimeMs: 1, ino: 1 } : real(p))) }));
    assert.equal(startCheckThreads(stampPath(root)), helpers);
    assert.equal(await holds(root), false);
    // A small stamp, or none: no threads.
    assert.equal(startCheckThreads(path.join(root, 'no-such-stamp')), 0);
    writeStamp(root, facts(root));
    assert.equal(startCheckThreads(stampPath(root)), 0);
  });

  test('threads started ahead that no check takes do not keep the process alive', (t) => {
    const root = tempRoot(t);
    const big = path.join(root, 'big-stamp');
    fs.writeFileSync(big, Buffer.alloc(2_000_000));
    const module = new URL('../../../src/state/stamp-check.js', import.meta.url).href;
    const script = `const { startCheckThreads } = await import(${JSON.stringify(module)}); console.log(startCheckThreads(${JSON.stringify(big)}));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.signal, null, 'the process did not end by itself');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), String(Math.max(0, Math.min(3, os.availableParallelism() - 1))));
  });
});
