import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { stampPath } from '../../../src/state/paths.js';
import { loadStamp, stampHolds, writeStamp, type StampFacts } from '../../../src/state/stamp.js';

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

/** A small project: a Rulefile, two sources, an output, a log; a glob over src/. */
function facts(root: string, over: Partial<StampFacts> = {}): StampFacts {
  return {
    key: 'k1',
    files: [path.join(root, 'Rulefile')],
    globs: new Map([['src/*.txt', ['src/a.txt', 'src/b.txt']]]),
    paths: ['src/a.txt', 'src/b.txt', 'out/a.txt', 'out/never.txt'],
    stat: diskStat(root),
    upToDate: 3,
    dryText: 'all: always\n',
    dryJson: '{"jobs":[]}\n',
    ...over,
  };
}

function setUp(root: string): void {
  put(root, 'Rulefile', 'rules: {}\n');
  put(root, 'src/a.txt', 'a\n');
  put(root, 'src/b.txt', 'b\n');
  put(root, 'out/a.txt', 'A\n');
  put(root, '.rules/log', 'rules-build-log 3\n');
}

const globsFrom = (root: string) => async () => (pattern: string) =>
  pattern === 'src/*.txt'
    ? fs
        .readdirSync(path.join(root, 'src'))
        .filter((n) => n.endsWith('.txt'))
        .sort()
        .map((n) => `src/${n}`)
    : [];

async function holds(root: string, key = 'k1'): Promise<boolean> {
  const stamp = loadStamp(root, key);
  if (!stamp) return false;
  return stampHolds(stamp, root, globsFrom(root));
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

  test('a file that does not match a glob may come and go', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    writeStamp(root, facts(root));
    put(root, 'src/notes.md', 'n\n');
    assert.equal(await holds(root), true);
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
    writeStamp(root, facts(root, { paths: ['src/a.txt', 'odd\nname'] }));
    assert.equal(fs.existsSync(stampPath(root)), false);
  });

  test('what the build knew is what is compared, not what is on disk when the stamp is written', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    // The build saw out/a.txt before someone changed it: the stamp must not vouch for the new content.
    const before = diskStat(root)('out/a.txt')!;
    put(root, 'out/a.txt', 'changed after the build looked\n');
    writeStamp(root, facts(root, { stat: (p) => (p === 'out/a.txt' ? before : diskStat(root)(p)) }));
    assert.equal(await holds(root), false);
  });

  test('large stamps are checked on several threads: a difference anywhere is found', async (t) => {
    const root = tempRoot(t);
    setUp(root);
    // 60,000 entries (past the threshold for threads) naming the same few files.
    const names = ['src/a.txt', 'src/b.txt', 'out/a.txt', 'out/never.txt'];
    const paths = Array.from({ length: 60_000 }, (_, i) => names[i % names.length]!);
    writeStamp(root, facts(root, { paths }));
    assert.equal(await holds(root), true);
    for (const wrongAt of [0, 30_001, 59_998]) {
      const real = diskStat(root);
      let i = 0;
      const stat = (p: string) => {
        const st = real(p);
        return i++ === wrongAt ? { ...st!, mtimeMs: 1 } : st;
      };
      writeStamp(root, facts(root, { paths, stat }));
      assert.equal(await holds(root), false, `difference at ${wrongAt}`);
    }
  });
});
