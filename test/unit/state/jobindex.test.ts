// The incremental shortcut's pieces below the builder: the stamp check that
// says which files changed (and only when nothing else did), the job index
// written beside the stamp (who reads and makes each file, who needs each
// job) and refused when damaged or foreign, and the stamp merged after a
// build the shortcut answered. End to end: test/e2e/incremental*.test.ts.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import { makePlan } from '../../../src/plan/plan.js';
import { loadProject } from '../../../src/rulefile/load.js';
import { FileOracle } from '../../../src/state/files.js';
import { JobIndex, newIndexId, writeJobIndex } from '../../../src/state/jobindex.js';
import { BuildLog, MemoryLogStorage } from '../../../src/state/log.js';
import { jobIndexPath } from '../../../src/state/paths.js';
import { checkPaths, checkStamp, loadStamp, MAX_CHANGED, mergeStamp, writeStamp, type LoadedStamp } from '../../../src/state/stamp.js';
import { CachedFileSystem, DiskFileSystem } from '../../../src/util/fs.js';

/** s/{x}.txt -> a/{x}.txt -> b/{x}.txt for x in p, q; all.txt from both b's; a phony `all`. */
const RULEFILE = [
  'default: all',
  'rules:',
  '  all:',
  '    inputs: all.txt',
  '  a:',
  '    inputs: "s/{x}.txt"',
  '    outputs: "a/{x}.txt"',
  '    run: cp {input} {output}',
  '  b:',
  '    inputs: "a/{x}.txt"',
  '    outputs: "b/{x}.txt"',
  '    run: cp {input} {output}',
  '  join:',
  '    inputs: ["b/p.txt", "b/q.txt"]',
  '    outputs: all.txt',
  '    run: cat {inputs} > {output}',
  '',
].join('\n');

function tempProject(t: { after(fn: () => void): void }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-jobindex-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  const files: Record<string, string> = { Rulefile: RULEFILE, 's/p.txt': 'p\n', 's/q.txt': 'q\n', 'a/p.txt': 'p\n', 'a/q.txt': 'q\n', 'b/p.txt': 'p\n', 'b/q.txt': 'q\n', 'all.txt': 'p\nq\n' };
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  fs.mkdirSync(path.join(root, '.rules'));
  fs.writeFileSync(path.join(root, '.rules/log'), 'rules-build-log 3\n');
  return root;
}

/** A build's stamp and index, as the full path writes them after a build that left every job up to date. */
function stampAndIndex(root: string) {
  const files = new CachedFileSystem(new DiskFileSystem(root));
  const project = loadProject({ cwd: root, fs: files });
  const graph = buildGraph(project, ['all'], files);
  const log = BuildLog.load(new MemoryLogStorage());
  makePlan({ project, graph, files: new FileOracle(files, log, true), log, options: { force: false, check: 'hash' } });
  const id = newIndexId();
  const { paths } = writeStamp(root, { key: 'k', fs: files, read: project.read, upToDate: graph.jobs.length, dryText: '', dryJson: '', index: id })!;
  assert.ok(writeJobIndex(root, id, paths, graph, log, () => undefined));
  const stamp = loadStamp(root, 'k')!;
  return { graph, stamp, id };
}

function indexOf(root: string, stamp: LoadedStamp): JobIndex | undefined {
  const { header } = stamp;
  return JobIndex.load(root, header.index!, { bytes: new Uint8Array(stamp.buffer), start: stamp.pathsStart }, header.count, header.pathBytes);
}

function edit(root: string, rel: string, text: string): void {
  fs.writeFileSync(path.join(root, rel), text);
}

describe('the stamp check, for the shortcut', () => {
  test('names the files whose contents changed, and only when nothing else did', async (t) => {
    const root = tempProject(t);
    const { stamp } = stampAndIndex(root);
    assert.deepEqual(await checkStamp(stamp, root, true), { holds: true });
    edit(root, 's/q.txt', 'q changed\n');
    const check = await checkStamp(stamp, root, true);
    assert.equal(check.holds, false);
    const index = indexOf(root, stamp)!;
    assert.deepEqual(
      check.holds ? [] : check.changed!.map((k) => index.path(k)),
      ['s/q.txt'],
    );
    // Without `collect`, as the no-op asks: just "does not hold".
    assert.deepEqual(await checkStamp(stamp, root, false), { holds: false });
    // A file that vanished is no edit: the graph may differ.
    fs.rmSync(path.join(root, 's/p.txt'));
    assert.deepEqual(await checkStamp(stamp, root, true), { holds: false });
  });

  test('a file that appeared where the last build found none, or a directory now, is no edit either', async (t) => {
    const root = tempProject(t);
    const files = new CachedFileSystem(new DiskFileSystem(root));
    files.stat('s/p.txt');
    files.stat('s/none.txt');
    files.stat('s/dir');
    fs.writeFileSync(path.join(root, 's/dir'), 'a file\n');
    writeStamp(root, { key: 'k', fs: files, read: [], upToDate: 0, dryText: '', dryJson: '' });
    const stamp = loadStamp(root, 'k')!;
    edit(root, 's/none.txt', 'new\n');
    assert.deepEqual(await checkStamp(stamp, root, true), { holds: false });
    fs.rmSync(path.join(root, 's/none.txt'));
    fs.rmSync(path.join(root, 's/dir'));
    fs.mkdirSync(path.join(root, 's/dir'));
    assert.deepEqual(await checkStamp(stamp, root, true), { holds: false });
  });

  test('more changed files than the shortcut takes: the full path', async (t) => {
    const root = tempProject(t);
    const files = new CachedFileSystem(new DiskFileSystem(root));
    const names = Array.from({ length: MAX_CHANGED + 1 }, (_, i) => `many/${i}.txt`);
    fs.mkdirSync(path.join(root, 'many'));
    for (const n of names) fs.writeFileSync(path.join(root, n), 'x\n');
    for (const n of names) files.stat(n);
    writeStamp(root, { key: 'k', fs: files, read: [], upToDate: 0, dryText: '', dryJson: '' });
    const stamp = loadStamp(root, 'k')!;
    for (const n of names.slice(0, MAX_CHANGED)) fs.writeFileSync(path.join(root, n), 'changed\n');
    const some = await checkStamp(stamp, root, true);
    assert.equal(some.holds ? 0 : some.changed?.length, MAX_CHANGED);
    fs.writeFileSync(path.join(root, names[MAX_CHANGED]!), 'changed\n');
    assert.deepEqual(await checkStamp(stamp, root, true), { holds: false });
  });

  test('watch mode: only the paths the watcher reported are compared', async (t) => {
    const root = tempProject(t);
    const { stamp } = stampAndIndex(root);
    const index = indexOf(root, stamp)!;
    edit(root, 's/p.txt', 'p changed\n');
    edit(root, 's/q.txt', 'q changed\n');
    const check = checkPaths(stamp, root, [{ k: index.find('s/q.txt')!, path: 's/q.txt' }]);
    assert.deepEqual(check.holds ? [] : check.changed!.map((k) => index.path(k)), ['s/q.txt']);
    // The Rulefile is compared whatever the watcher said.
    edit(root, 'Rulefile', RULEFILE + '# edited\n');
    assert.deepEqual(checkPaths(stamp, root, [{ k: index.find('s/q.txt')!, path: 's/q.txt' }]), { holds: false });
  });
});

describe('the job index', () => {
  test('says which jobs read or make a file, and every job that needs them', (t) => {
    const root = tempProject(t);
    const { graph, stamp } = stampAndIndex(root);
    const index = indexOf(root, stamp)!;
    assert.equal(index.jobs, graph.jobs.length);
    const names = (ks: number[] | undefined) => ks?.map((j) => index.name(j)).sort();
    // A source: its reader and everything downstream, the phony `all` too.
    assert.deepEqual(names(index.affected([index.find('s/q.txt')!])), ['a/q.txt', 'all', 'all.txt', 'b/q.txt']);
    // An output: its maker and its readers.
    assert.deepEqual(names(index.affected([index.find('b/p.txt')!])), ['all', 'all.txt', 'b/p.txt']);
    assert.deepEqual(index.outputsOf(index.jobNamed('b/p.txt')!), ['b/p.txt']);
    assert.equal(index.jobNamed('s/p.txt'), undefined, 'a source is no job');
    assert.equal(index.find('no/such.txt'), undefined);
    // Every job is named by the path it is built for.
    for (const job of graph.jobs) assert.equal(index.name(job.id), job.name);
  });

  test('a path no job reads or makes: the shortcut cannot say what it is to the build', (t) => {
    const root = tempProject(t);
    const files = new CachedFileSystem(new DiskFileSystem(root));
    const project = loadProject({ cwd: root, fs: files });
    const graph = buildGraph(project, ['all'], files);
    const log = BuildLog.load(new MemoryLogStorage());
    makePlan({ project, graph, files: new FileOracle(files, log, true), log, options: { force: false, check: 'hash' } });
    files.stat('elsewhere.txt');
    const id = newIndexId();
    const { paths } = writeStamp(root, { key: 'k', fs: files, read: project.read, upToDate: 0, dryText: '', dryJson: '', index: id })!;
    writeJobIndex(root, id, paths, graph, log, () => undefined);
    const stamp = loadStamp(root, 'k')!;
    const index = indexOf(root, stamp)!;
    assert.equal(index.affected([index.find('elsewhere.txt')!]), undefined);
  });

  test('a damaged, cut or foreign index is no index', (t) => {
    const root = tempProject(t);
    const { stamp } = stampAndIndex(root);
    assert.ok(indexOf(root, stamp));
    const good = fs.readFileSync(jobIndexPath(root));
    for (const at of [0, 30, good.length - 1, Math.floor(good.length / 2)]) {
      const bad = Buffer.from(good);
      bad[at] = bad[at]! ^ 0x20;
      fs.writeFileSync(jobIndexPath(root), bad);
      assert.equal(indexOf(root, stamp), undefined, `byte ${at} flipped`);
    }
    fs.writeFileSync(jobIndexPath(root), good.subarray(0, good.length - 4));
    assert.equal(indexOf(root, stamp), undefined, 'cut short');
    fs.writeFileSync(jobIndexPath(root), good);
    const { header } = stamp;
    assert.equal(JobIndex.load(root, 'another id', { bytes: new Uint8Array(stamp.buffer), start: stamp.pathsStart }, header.count, header.pathBytes), undefined);
    fs.rmSync(jobIndexPath(root));
    assert.equal(indexOf(root, stamp), undefined, 'missing');
  });
});

describe('the stamp merged after a shortcut', () => {
  test('keeps what the build did not look at, takes what it did, and holds', async (t) => {
    const root = tempProject(t);
    const { stamp } = stampAndIndex(root);
    const index = indexOf(root, stamp)!;
    edit(root, 's/q.txt', 'q changed\n');
    edit(root, 'a/q.txt', 'q changed\n');
    // The build looked at the changed source and the output it rewrote, nothing else.
    const files = new CachedFileSystem(new DiskFileSystem(root));
    files.stat('s/q.txt');
    files.stat('a/q.txt');
    assert.ok(mergeStamp(root, stamp, files, (p) => index.find(p)));
    const merged = loadStamp(root, 'k')!;
    assert.equal(merged.header.index, stamp.header.index, 'the same graph: the same index');
    assert.deepEqual(await checkStamp(merged, root, true), { holds: true });
  });

  test('a path the last stamp did not hold: no stamp (a full build must say what it holds)', (t) => {
    const root = tempProject(t);
    const { stamp } = stampAndIndex(root);
    const index = indexOf(root, stamp)!;
    const files = new CachedFileSystem(new DiskFileSystem(root));
    files.stat('new.txt');
    assert.equal(mergeStamp(root, stamp, files, (p) => index.find(p)), undefined);
    assert.equal(loadStamp(root, 'k'), undefined);
  });
});
