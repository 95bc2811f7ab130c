import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FileOracle, sameStat } from '../../../src/state/files.js';
import { BuildLog, MemoryLogStorage } from '../../../src/state/log.js';
import type { FileInfo } from '../../../src/state/log.js';
import { FakeFileSystem } from '../../support/fakefs.js';

function emptyLog(): BuildLog {
  return BuildLog.load(new MemoryLogStorage());
}

/** A log written with one record, whose only input is `path` with `info`. */
function logWith(path: string, info: FileInfo): MemoryLogStorage {
  const mem = new MemoryLogStorage();
  const w = BuildLog.load(mem);
  w.done({
    key: 'j',
    signature: { command: 1, inputs: 2, outputs: 3, params: [], env: [] },
    inputs: new Map([[path, info]]),
    outputs: new Map(),
  });
  w.close();
  return mem;
}

/**
 * That log loaded back, its record asked for (as deciding its job does): the
 * hash cache learns a record's files when it is decoded.
 */
function logKnowing(path: string, info: FileInfo): BuildLog {
  const log = BuildLog.load(logWith(path, info));
  assert.ok(log.records.get('j'));
  return log;
}

describe('sameStat', () => {
  const st = { size: 10, mtimeMs: 1000.5, ino: 7, isDirectory: false };
  const info = { size: 10, mtimeMs: 1000.5, ino: 7, hash: 'abc' };
  test('equal on size, mtime and inode; the hash and isDirectory do not matter', () => {
    assert.equal(sameStat(st, info), true);
    assert.equal(sameStat(st, { ...info, hash: '' }), true);
    assert.equal(sameStat({ ...st, isDirectory: true }, info), true);
  });
  test('any of size, mtime (even by a fraction of a ms), inode differing', () => {
    assert.equal(sameStat({ ...st, size: 11 }, info), false);
    assert.equal(sameStat({ ...st, mtimeMs: 1000.5001 }, info), false);
    assert.equal(sameStat({ ...st, ino: 8 }, info), false);
  });
});

describe('FileOracle (hashing)', () => {
  test('a new file is hashed once; asking again does not read it', () => {
    const fs = new FakeFileSystem().put('a.txt', 'A');
    const files = new FileOracle(fs, emptyLog(), true);
    const first = files.current('a.txt')!;
    assert.equal(fs.hashes, 1);
    assert.deepEqual(first, { size: 1, mtimeMs: fs.mtime('a.txt'), ino: fs.stat('a.txt')!.ino, hash: 'h(A)' });
    for (let i = 0; i < 5; i++) assert.deepEqual(files.current('a.txt'), first);
    assert.equal(fs.hashes, 1);
  });

  test('a file whose stat matches the loaded log is never hashed', () => {
    const fs = new FakeFileSystem().put('a.txt', 'A');
    const st = fs.stat('a.txt')!;
    const known = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash: 'recorded-hash' };
    const files = new FileOracle(fs, logKnowing('a.txt', known), true);
    assert.deepEqual(files.current('a.txt'), known);
    assert.equal(files.changedSince('a.txt', known), false);
    assert.equal(fs.hashes, 0);
  });

  test('the cache learns a record of the log when it is decoded: a file of a record never asked for costs one hash, never a wrong answer', () => {
    const fs = new FakeFileSystem().put('a.txt', 'A');
    const st = fs.stat('a.txt')!;
    const known = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash: 'recorded-hash' };
    const log = BuildLog.load(logWith('a.txt', known));
    assert.equal(log.knownFile('a.txt'), undefined, 'record j not decoded yet');
    assert.equal(new FileOracle(fs, log, true).current('a.txt')!.hash, 'h(A)');
    assert.equal(fs.hashes, 1);

    const asked = BuildLog.load(logWith('a.txt', known));
    asked.records.get('j');
    assert.deepEqual(asked.knownFile('a.txt'), known);
    assert.deepEqual(new FileOracle(fs, asked, true).current('a.txt'), known);
    assert.equal(fs.hashes, 1, 'no read once the record is decoded');
  });

  test('of two records of the log, the newer info of a file is kept, whichever is decoded last; what the build saw beats both', () => {
    const older = { size: 1, mtimeMs: 1000, ino: 5, hash: 'old' };
    const newer = { size: 2, mtimeMs: 2000, ino: 5, hash: 'new' };
    const sig = { command: 1, inputs: 2, outputs: 3, params: [], env: [] };
    const mem = new MemoryLogStorage();
    const w = BuildLog.load(mem);
    // The producer's record (newer output), then a reader's record from before it was remade.
    w.done({ key: 'maker', signature: sig, inputs: new Map(), outputs: new Map([['f', newer]]) });
    w.done({ key: 'reader', signature: sig, inputs: new Map([['f', older]]), outputs: new Map() });
    w.close();
    for (const order of [['maker', 'reader'], ['reader', 'maker']]) {
      const log = BuildLog.load(mem);
      for (const key of order) log.records.get(key);
      assert.deepEqual(log.knownFile('f'), newer, order.join(' then '));
    }
    // Hashed in this build (whatever its mtime), then records decoded: the build's own is kept.
    const log = BuildLog.load(mem);
    const now = { size: 1, mtimeMs: 500, ino: 6, hash: 'now' };
    log.rememberFile('f', now);
    log.records.get('maker');
    log.records.get('reader');
    assert.deepEqual(log.knownFile('f'), now);
  });

  test('a touched file is hashed once and found unchanged', () => {
    const fs = new FakeFileSystem().put('a.txt', 'A');
    const files = new FileOracle(fs, emptyLog(), true);
    const recorded = files.current('a.txt')!;
    assert.equal(fs.hashes, 1);
    fs.touch('a.txt');
    assert.equal(files.changedSince('a.txt', recorded), false);
    assert.equal(fs.hashes, 2);
    // The new stat is remembered: no further reads.
    assert.equal(files.changedSince('a.txt', recorded), false);
    const now = files.current('a.txt')!;
    assert.equal(now.hash, recorded.hash);
    assert.equal(now.mtimeMs, fs.mtime('a.txt'));
    assert.equal(fs.hashes, 2);
  });

  test('a touched file known from the log: one hash, unchanged', () => {
    const fs = new FakeFileSystem().put('a.txt', 'A');
    const st = fs.stat('a.txt')!;
    const recorded = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash: 'h(A)' };
    const files = new FileOracle(fs, logKnowing('a.txt', recorded), true);
    fs.touch('a.txt');
    assert.equal(files.changedSince('a.txt', recorded), false);
    assert.equal(files.changedSince('a.txt', recorded), false);
    assert.equal(fs.hashes, 1);
  });

  test('changed content is found; rewriting the same content is not a change', () => {
    const fs = new FakeFileSystem().put('a.txt', 'A');
    const files = new FileOracle(fs, emptyLog(), true);
    const recorded = files.current('a.txt')!;
    fs.put('a.txt', 'A'); // same content, new mtime
    assert.equal(files.changedSince('a.txt', recorded), false);
    fs.put('a.txt', 'B'); // same size, new content
    assert.equal(files.changedSince('a.txt', recorded), true);
    assert.equal(files.current('a.txt')!.hash, 'h(B)');
    fs.put('a.txt', 'longer');
    assert.equal(files.changedSince('a.txt', recorded), true);
  });

  test('a missing file: current is undefined, and it counts as changed', () => {
    const fs = new FakeFileSystem().put('a.txt', 'A');
    const files = new FileOracle(fs, emptyLog(), true);
    const recorded = files.current('a.txt')!;
    fs.remove('a.txt');
    assert.equal(files.current('a.txt'), undefined);
    assert.equal(files.changedSince('a.txt', recorded), true);
    assert.equal(files.current('never.txt'), undefined);
  });

  test('a file recorded without a hash (--check mtime) is hashed once under --check hash', () => {
    const fs = new FakeFileSystem().put('a.txt', 'A');
    const st = fs.stat('a.txt')!;
    const files = new FileOracle(fs, logKnowing('a.txt', { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash: '' }), true);
    assert.equal(files.current('a.txt')!.hash, 'h(A)');
    assert.equal(files.current('a.txt')!.hash, 'h(A)');
    assert.equal(fs.hashes, 1);
  });

  test('a changed stat against a record without a hash counts as a change', () => {
    const fs = new FakeFileSystem().put('a.txt', 'A');
    const st = fs.stat('a.txt')!;
    const recorded = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash: '' };
    const files = new FileOracle(fs, emptyLog(), true);
    fs.touch('a.txt');
    assert.equal(files.changedSince('a.txt', recorded), true);
  });

  // SPEC §6: a directory stands for every file under it (this replaces the old mtime-only "dir:" hash).
  test('a directory is hashed by its tree: paths and contents, not its mtime', () => {
    const fs = new FakeFileSystem().put('d/x.txt', 'X').put('d/sub/y.txt', 'Y');
    const files = new FileOracle(fs, emptyLog(), true);
    const d = files.current('d')!;
    assert.match(d.hash, /^tree:[0-9a-f]{64}$/);
    assert.equal(d.mtimeMs, fs.mtime('d/sub/y.txt'), 'the newest mtime inside');
    assert.equal(fs.hashes, 2);
    assert.deepEqual([...files.inside('d')!.files.keys()].sort(), ['d/sub/y.txt', 'd/x.txt']);
    // Within a build a walk stands until a job runs; here each change is as if one had.
    fs.touch('d/x.txt');
    files.forgetWalks();
    assert.equal(files.changedSince('d', d), false, 'a touch changes no content');
    fs.put('d/x.txt', 'X2');
    files.forgetWalks();
    assert.equal(files.changedSince('d', d), true);
  });

  test('an unchanged tree costs stats, not reads, in the next build (the log keeps the files inside)', () => {
    const fs = new FakeFileSystem().put('d/x.txt', 'X').put('d/sub/y.txt', 'Y');
    const mem = new MemoryLogStorage();
    const w = BuildLog.load(mem);
    const first = new FileOracle(fs, w, true);
    const d = first.current('d')!;
    w.done({ key: 'j', signature: { command: 1, inputs: 2, outputs: 3, params: [], env: [] }, inputs: new Map([['d', d]]), outputs: new Map() });
    w.rememberTree('d', first.inside('d')!.files);
    w.close();
    assert.equal(fs.hashes, 2);
    const next = new FileOracle(fs, BuildLog.load(mem), true);
    assert.equal(next.current('d')!.hash, d.hash);
    assert.equal(next.changedSince('d', d), false);
    assert.equal(fs.hashes, 2, 'no file read again');
    fs.put('d/x.txt', 'X2');
    const third = new FileOracle(fs, BuildLog.load(mem), true);
    assert.notEqual(third.current('d')!.hash, d.hash);
    assert.equal(fs.hashes, 3, 'only the edited file is read');
  });

  test('a tree read by many jobs is written to the log once, and again only when it changed; recompaction keeps the live ones', () => {
    const fs = new FakeFileSystem().put('d/x.txt', 'X').put('d/sub/y.txt', 'Y');
    const mem = new MemoryLogStorage();
    const sig = { command: 1, inputs: 2, outputs: 3, params: [], env: [] };
    const w = BuildLog.load(mem);
    const files = new FileOracle(fs, w, true);
    const d = files.current('d')!;
    for (let i = 0; i < 50; i++) {
      w.done({ key: `j${i}`, signature: sig, inputs: new Map([['d', d]]), outputs: new Map() });
      w.rememberTree('d', files.inside('d')!.files);
    }
    w.close();
    const treeLines = () => mem.read().split('\n').filter((l) => l.includes('"t":"T"')).length;
    assert.equal(treeLines(), 1, 'one T line for 50 jobs');

    fs.put('d/x.txt', 'X2');
    const w2 = BuildLog.load(mem);
    const again = new FileOracle(fs, w2, true);
    again.current('d');
    w2.rememberTree('d', again.inside('d')!.files);
    w2.rememberTree('d', again.inside('d')!.files);
    w2.close();
    assert.equal(treeLines(), 2, 'a changed tree is written once more');

    // A recompaction keeps one T line per directory a live record names, and none for the others.
    const w3 = BuildLog.load(mem);
    w3.rememberTree('gone', new Map([['gone/a', { size: 1, mtimeMs: 1, ino: 1, hash: 'h' }]]));
    for (let i = 0; i < 2000; i++) w3.done({ key: 'j0', signature: sig, inputs: new Map([['d', d]]), outputs: new Map() });
    w3.close();
    assert.equal(treeLines(), 1);
    assert.ok(!mem.read().includes('"k":"gone"'));
    const hashes = fs.hashes;
    const next = new FileOracle(fs, BuildLog.load(mem), true);
    next.current('d');
    assert.equal(fs.hashes, hashes, 'the kept tree still feeds the hash cache');
  });

  test('a directory read by many jobs is walked once, until a job runs', () => {
    const fs = new FakeFileSystem().put('d/x.txt', 'X').put('d/sub/y.txt', 'Y');
    const files = new FileOracle(fs, emptyLog(), true);
    const d = files.current('d')!;
    const lists = fs.readdirs;
    for (let i = 0; i < 10; i++) assert.deepEqual(files.current('d'), d);
    assert.equal(fs.readdirs, lists, 'no listing again');
    fs.put('d/x.txt', 'X2');
    files.forgetWalks();
    assert.notEqual(files.current('d')!.hash, d.hash);
  });

  test('a file that cannot be read inside a directory is named', () => {
    const fs = new FakeFileSystem().put('d/ok.txt', 'A').put('d/secret.txt', 'S').forbid('d/secret.txt');
    const files = new FileOracle(fs, emptyLog(), true);
    files.current('d');
    assert.deepEqual(files.inside('d')!.problem, { path: 'd/secret.txt', message: 'permission denied' });
  });

  test('a subdirectory that cannot be listed is named', () => {
    const fs = new FakeFileSystem().put('d/ok.txt', 'A').put('d/locked/x.txt', 'S').deny('d/locked');
    const files = new FileOracle(fs, emptyLog(), true);
    files.current('d');
    assert.deepEqual(files.inside('d')!.problem, { path: 'd/locked', message: 'permission denied' });
  });
});

describe('FileOracle (hashing=false, --check mtime)', () => {
  test('no file is ever hashed; changes are by stat', () => {
    const fs = new FakeFileSystem().put('a.txt', 'A').put('b.txt', 'B');
    const files = new FileOracle(fs, emptyLog(), false);
    const a = files.current('a.txt')!;
    const b = files.current('b.txt')!;
    assert.equal(a.hash, '');
    assert.equal(b.hash, '');
    assert.equal(files.changedSince('a.txt', a), false);
    fs.touch('a.txt');
    assert.equal(files.changedSince('a.txt', a), true, 'a touch is a change without hashes');
    fs.put('b.txt', 'C');
    assert.equal(files.changedSince('b.txt', b), true);
    assert.equal(files.current('a.txt')!.hash, '');
    assert.equal(fs.hashes, 0);
  });

  test('a hash known from the log is kept while the stat matches, and never recomputed', () => {
    const fs = new FakeFileSystem().put('a.txt', 'A');
    const st = fs.stat('a.txt')!;
    const known = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash: 'h(A)' };
    const files = new FileOracle(fs, logKnowing('a.txt', known), false);
    assert.deepEqual(files.current('a.txt'), known);
    fs.touch('a.txt');
    assert.equal(files.current('a.txt')!.hash, '');
    assert.equal(files.changedSince('a.txt', known), true);
    assert.equal(fs.hashes, 0);
  });
});

describe('an unreadable file', () => {
  test('counts as changed (never equal to a recorded hash), without an exception', () => {
    const fs = new FakeFileSystem().put('a.txt', 'x');
    fs.hash = () => {
      throw new Error('EACCES: permission denied');
    };
    const log = BuildLog.load(new MemoryLogStorage());
    const oracle = new FileOracle(fs, log, true);
    const info = oracle.current('a.txt')!;
    assert.match(info.hash, /^unreadable:/);
    assert.equal(oracle.changedSince('a.txt', { ...info, mtimeMs: 1, hash: 'h(x)' }), true);
  });
});
