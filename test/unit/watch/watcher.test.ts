// The directory watcher of watch mode, on real directories: what an event
// costs (the file-system calls it makes) must not grow with the directory it
// happens in; directories inside a deep root are followed as they come and
// go; a directory that cannot be watched is named in one warning at most and
// watching goes on.
//
// `node:fs` is wrapped (and the wrappers made visible to every module's
// imports) to count the calls that name a path in the test's directories, and
// to make `fs.watch` fail where a test says.

import assert from 'node:assert/strict';
import fs, { type FSWatcher } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test, type TestContext } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import { ChangeQueue } from '../../../src/watch/queue.js';
import { WatchScope } from '../../../src/watch/scope.js';
import { Watcher } from '../../../src/watch/watcher.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

const base = fs.mkdtempSync(join(tmpdir(), 'rules-watcher-'));
after(() => fs.rmSync(base, { recursive: true, force: true }));

/** File-system calls (by function name) naming a path under `base`. */
let calls: string[] = [];
/** Makes `fs.watch` of a path fail with an error of this code. */
let failWatch: (path: string) => string | undefined = () => undefined;
/** The handles `fs.watch` returned. */
const handles = new Map<string, FSWatcher>();

function touches(arg: unknown): boolean {
  return (typeof arg === 'string' && arg.startsWith(base)) || (arg instanceof URL && arg.pathname.startsWith(base));
}

function countCalls(target: Record<string, unknown>, names: string[], prefix: string): void {
  for (const name of names) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = function (this: unknown, ...args: unknown[]) {
      if (touches(args[0])) calls.push(prefix + name);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    };
  }
}

const STATS = ['stat', 'lstat', 'statSync', 'lstatSync', 'readdir', 'readdirSync', 'opendir', 'opendirSync', 'realpath', 'realpathSync', 'access', 'accessSync', 'existsSync', 'open', 'openSync'];
countCalls(fs as unknown as Record<string, unknown>, STATS, 'fs.');
countCalls(fs.promises as unknown as Record<string, unknown>, STATS, 'fs.promises.');
const realWatch = fs.watch;
(fs as { watch: unknown }).watch = (path: string, ...rest: unknown[]) => {
  const code = failWatch(path);
  if (code !== undefined) throw Object.assign(new Error(`${code}: cannot watch '${path}'`), { code });
  const handle = (realWatch as (...a: unknown[]) => FSWatcher)(path, ...rest);
  handles.set(path, handle);
  return handle;
};
syncBuiltinESMExports();

/**
 * A project in a new directory: `src/*.txt` (src/ watched flat) and
 * `raw/**\/*.dat` (raw/ watched deep), with `files` files in src/ and in
 * raw/x/.
 */
function tree(files: number): { root: string; scope: WatchScope } {
  const root = fs.mkdtempSync(join(base, 'p-'));
  fs.writeFileSync(join(root, 'Rulefile'), '');
  for (const dir of ['src', 'raw/x']) {
    fs.mkdirSync(join(root, dir), { recursive: true });
    const ext = dir === 'src' ? 'txt' : 'dat';
    for (let i = 0; i < files; i++) fs.writeFileSync(join(root, dir, `f${i}.${ext}`), `${i}\n`);
  }
  const project = projectFrom(yaml`
    rules:
      all:
        inputs: [copies.txt, sum.txt]
      copies:
        inputs: "src/*.txt"
        outputs: copies.txt
        run: cat {input} > {output}
      sum:
        inputs: "raw/**/*.dat"
        outputs: sum.txt
        run: cat {input} > {output}
  `);
  const graph = buildGraph(project, ['all'], new FakeFileSystem().write('src/f0.txt', 'raw/x/f0.dat'));
  return { root, scope: new WatchScope({ root, files: [join(root, 'Rulefile')], project, graph }) };
}

/** The next batch of the queue, or a failure after `ms`. */
async function nextBatch(queue: ChangeQueue, ms = 5_000): Promise<string[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  const paths = await queue.next(ac.signal);
  clearTimeout(timer);
  assert.ok(paths !== undefined, `no change reported within ${ms} ms`);
  return paths.sort();
}

/** Resolves once no file-system call has been counted for `ms` (work an event started has ended). */
async function quiet(ms = 150): Promise<void> {
  let seen = -1;
  while (seen !== calls.length) {
    seen = calls.length;
    await new Promise((r) => setTimeout(r, ms));
  }
}

/** Batches of what comes within a few ms (one edit's events), at once. */
function newQueue(): ChangeQueue {
  return new ChangeQueue(20, 1_000);
}

/** A watcher adding to `queue`, its warnings kept in `warnings`; both closed when the test ends, even one that fails. */
function watcher(t: TestContext, queue: ChangeQueue, warnings: string[] = []): Watcher {
  const w = new Watcher(queue, new Set(), (text) => warnings.push(text));
  t.after(() => {
    w.close();
    queue.close();
  });
  return w;
}

/** Each edit in a tree of `files` files per directory: what the watcher reported, and the calls it made for it. */
async function editCosts(files: number): Promise<{ edit: string; reported: string[]; calls: string[] }[]> {
  const { root, scope } = tree(files);
  const queue = newQueue();
  const w = new Watcher(queue, new Set(), () => {});
  const edits: [string, () => void][] = [
    ['src/f1.txt rewritten', () => fs.writeFileSync(join(root, 'src/f1.txt'), 'x\n')],
    ['src/new.txt made', () => fs.writeFileSync(join(root, 'src/new.txt'), 'x\n')],
    ['src/f2.txt removed', () => fs.rmSync(join(root, 'src/f2.txt'))],
    ['raw/x/f1.dat rewritten', () => fs.writeFileSync(join(root, 'raw/x/f1.dat'), 'x\n')],
    ['raw/x/new.dat made', () => fs.writeFileSync(join(root, 'raw/x/new.dat'), 'x\n')],
    ['raw/x/f2.dat removed', () => fs.rmSync(join(root, 'raw/x/f2.dat'))],
  ];
  const out = [];
  try {
    w.use(scope);
    await quiet();
    for (const [edit, act] of edits) {
      act();
      calls = [];
      const reported = (await nextBatch(queue)).map((p) => p.slice(root.length + 1));
      await quiet();
      out.push({ edit, reported, calls: [...calls] });
    }
  } finally {
    w.close();
    queue.close();
  }
  return out;
}

describe('the directory watcher', () => {
  test('an event costs the same few calls in a directory of 20,000 files as in one of 20', async () => {
    const small = await editCosts(20);
    const large = await editCosts(20_000);
    const expected = ['src/f1.txt', 'src/new.txt', 'src/f2.txt', 'raw/x/f1.dat', 'raw/x/new.dat', 'raw/x/f2.dat'];
    assert.deepEqual(
      small.map((e) => e.reported),
      expected.map((p) => [p]),
    );
    assert.deepEqual(
      large.map((e) => e.reported),
      expected.map((p) => [p]),
    );
    for (let i = 0; i < large.length; i++) {
      const { edit, calls: made } = large[i]!;
      assert.ok(made.length <= 2, `${edit}: ${made.length} calls (${[...new Set(made)].join(', ')})`);
      assert.ok(made.length <= small[i]!.calls.length + 1, `${edit}: ${made.length} calls for 20,000 files, ${small[i]!.calls.length} for 20`);
    }
  });

  test('inside a deep root: a directory made is watched (a change where the glob searches), files made in it are seen; one removed is no longer watched', async (t) => {
    const { root, scope } = tree(2);
    const queue = newQueue();
    const w = watcher(t, queue);
    w.use(scope);
    const rel = () => w.directories.map((d) => d.slice(root.length + 1));
    assert.deepEqual(rel(), ['', 'raw', 'raw/x', 'src'], 'the roots, and below raw/ (deep) every directory');
    fs.mkdirSync(join(root, 'raw/y/z'), { recursive: true });
    assert.deepEqual(await nextBatch(queue), [join(root, 'raw/y'), join(root, 'raw/y/z')]);
    assert.deepEqual(rel(), ['', 'raw', 'raw/x', 'raw/y', 'raw/y/z', 'src']);
    fs.writeFileSync(join(root, 'raw/y/z/1.dat'), '1\n');
    assert.deepEqual(await nextBatch(queue), [join(root, 'raw/y/z/1.dat')]);
    // Not .rules/, .git/ or node_modules/, anywhere.
    fs.mkdirSync(join(root, 'raw/node_modules/pkg'), { recursive: true });
    fs.writeFileSync(join(root, 'raw/y/2.dat'), '2\n');
    assert.deepEqual(await nextBatch(queue), [join(root, 'raw/y/2.dat')]);
    assert.ok(!rel().some((d) => d.includes('node_modules')), rel().join(' '));
    // Moved away: its watch (which would follow it) ends, and the new name is watched.
    fs.renameSync(join(root, 'raw/y'), join(root, 'raw/w'));
    assert.deepEqual(await nextBatch(queue), [join(root, 'raw/w'), join(root, 'raw/w/z'), join(root, 'raw/y'), join(root, 'raw/y/z')]);
    assert.deepEqual(rel(), ['', 'raw', 'raw/w', 'raw/w/z', 'raw/x', 'src']);
    fs.rmSync(join(root, 'raw/w'), { recursive: true });
    assert.deepEqual(await nextBatch(queue), [join(root, 'raw/w'), join(root, 'raw/w/2.dat'), join(root, 'raw/w/z'), join(root, 'raw/w/z/1.dat')]);
    assert.deepEqual(rel(), ['', 'raw', 'raw/x', 'src']);
  });

  test('a root removed is a change and no longer watched; made again, the next scope watches it', async (t) => {
    const { root, scope } = tree(2);
    const queue = newQueue();
    const w = watcher(t, queue);
    w.use(scope);
    fs.rmSync(join(root, 'src'), { recursive: true });
    assert.ok((await nextBatch(queue)).includes(join(root, 'src')));
    assert.ok(!w.directories.includes(join(root, 'src')));
    fs.mkdirSync(join(root, 'src'));
    assert.deepEqual(await nextBatch(queue), [join(root, 'src')], 'seen from the root directory');
    w.use(scope);
    assert.ok(w.directories.includes(join(root, 'src')));
    fs.writeFileSync(join(root, 'src/a.txt'), 'a\n');
    assert.deepEqual(await nextBatch(queue), [join(root, 'src/a.txt')]);
  });

  test('a root whose parent is not watched, removed or moved away: its own watch says so, and ends', async (t) => {
    const root = fs.mkdtempSync(join(base, 'p-'));
    fs.writeFileSync(join(root, 'Rulefile'), '');
    fs.mkdirSync(join(root, 'a/b'), { recursive: true });
    fs.writeFileSync(join(root, 'a/b/c.txt'), 'c\n');
    const project = projectFrom(yaml`
      rules:
        copy:
          inputs: a/b/c.txt
          outputs: c.out
          run: cp {input} {output}
    `);
    const graph = buildGraph(project, ['copy'], new FakeFileSystem().write('a/b/c.txt'));
    const scope = new WatchScope({ root, files: [join(root, 'Rulefile')], project, graph });
    const queue = newQueue();
    const w = watcher(t, queue);
    w.use(scope);
    assert.deepEqual(w.directories, [root, join(root, 'a/b')]);
    fs.renameSync(join(root, 'a/b'), join(root, 'a/moved'));
    assert.deepEqual(await nextBatch(queue), [join(root, 'a/b')]);
    assert.deepEqual(w.directories, [root], 'a watch follows its directory: it would report changes in a/moved as in a/b');
    fs.mkdirSync(join(root, 'a/b'));
    fs.rmSync(join(root, 'a/moved'), { recursive: true });
    w.use(scope);
    assert.deepEqual(w.directories, [root, join(root, 'a/b')]);
    fs.rmSync(join(root, 'a/b'), { recursive: true });
    assert.deepEqual(await nextBatch(queue), [join(root, 'a/b')]);
    assert.deepEqual(w.directories, [root]);
  });

  test('a root gone before its watch began is a change (the next build watches where it was)', async (t) => {
    const { root, scope } = tree(2);
    fs.rmSync(join(root, 'raw'), { recursive: true });
    const queue = newQueue();
    const warnings: string[] = [];
    const w = watcher(t, queue, warnings);
    w.use(scope);
    assert.deepEqual(await nextBatch(queue), [join(root, 'raw'), join(root, 'raw/x')]);
    assert.deepEqual(warnings, [], 'a directory that is gone needs no warning');
  });

  test('a link back up inside a deep root is followed once, not forever', async (t) => {
    const { root, scope } = tree(1);
    fs.symlinkSync('..', join(root, 'raw/x/up'));
    fs.symlinkSync(join(root, 'src'), join(root, 'raw/src-link'));
    const queue = newQueue();
    const w = watcher(t, queue);
    w.use(scope);
    assert.deepEqual(
      w.directories.map((d) => d.slice(root.length + 1)),
      ['', 'raw', 'raw/src-link', 'raw/x', 'src'],
    );
  });

  test('a directory that cannot be watched is named in one warning, and the others are watched', async (t) => {
    const { root, scope } = tree(1);
    t.after(() => (failWatch = () => undefined));
    failWatch = (path) => (path === join(root, 'raw/x') ? 'EACCES' : undefined);
    const queue = newQueue();
    const warnings: string[] = [];
    const w = watcher(t, queue, warnings);
    w.use(scope);
    w.use(scope);
    assert.deepEqual(warnings, [`cannot watch raw/x: EACCES: cannot watch '${join(root, 'raw/x')}'; changes in it are not seen`]);
    fs.writeFileSync(join(root, 'src/a.txt'), 'a\n');
    assert.deepEqual(await nextBatch(queue), [join(root, 'src/a.txt')]);
    // Watchable again: the next scope watches it.
    failWatch = () => undefined;
    w.use(scope);
    fs.writeFileSync(join(root, 'raw/x/a.dat'), 'a\n');
    assert.deepEqual(await nextBatch(queue), [join(root, 'raw/x/a.dat')]);
    assert.equal(warnings.length, 1);
  });

  test('the system limit of watches reached: one warning for every directory past it', async (t) => {
    const { root, scope } = tree(1);
    t.after(() => (failWatch = () => undefined));
    failWatch = (path) => (path.startsWith(join(root, 'raw')) ? 'ENOSPC' : undefined);
    const queue = newQueue();
    const warnings: string[] = [];
    const w = watcher(t, queue, warnings);
    w.use(scope);
    w.use(scope);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0]!, /^cannot watch raw: the system's limit of watched directories is reached \(fs\.inotify\.max_user_watches\)/);
    assert.deepEqual(
      w.directories.map((d) => d.slice(root.length + 1)),
      ['', 'src'],
    );
    fs.writeFileSync(join(root, 'src/a.txt'), 'a\n');
    assert.deepEqual(await nextBatch(queue), [join(root, 'src/a.txt')]);
  });

  test('a watch that fails later is dropped with one warning; the others go on', async (t) => {
    const { root, scope } = tree(1);
    const queue = newQueue();
    const warnings: string[] = [];
    const w = watcher(t, queue, warnings);
    w.use(scope);
    const handle = handles.get(join(root, 'raw/x'))!;
    handle.emit('error', Object.assign(new Error('EIO: i/o error, watch'), { code: 'EIO' }));
    handle.emit('error', Object.assign(new Error('EIO: i/o error, watch'), { code: 'EIO' }));
    assert.deepEqual(warnings, ['cannot watch raw/x: EIO: i/o error, watch; changes in it are not seen']);
    assert.ok(!w.directories.includes(join(root, 'raw/x')));
    fs.writeFileSync(join(root, 'src/a.txt'), 'a\n');
    assert.deepEqual(await nextBatch(queue), [join(root, 'src/a.txt')]);
  });
});
