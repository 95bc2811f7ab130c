// The up-to-date stamp is made of what the build looked at through its file
// system, whichever part of the build looked: the loader, the graph, the
// staleness check, or a kind of input added later. Nothing has to remember to
// add a path to it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import { makePlan } from '../../../src/plan/plan.js';
import { loadProject } from '../../../src/rulefile/load.js';
import { FileOracle } from '../../../src/state/files.js';
import { BuildLog, MemoryLogStorage } from '../../../src/state/log.js';
import { loadStamp, stampHolds, writeStamp, type LoadedStamp } from '../../../src/state/stamp.js';
import { CachedFileSystem, DiskFileSystem } from '../../../src/util/fs.js';

const FILES: Record<string, string> = {
  Rulefile: [
    'include: ["rules/*.yaml"]',
    'default: all',
    'rules:',
    '  all:',
    '    inputs:',
    '      - expand: "out/{name}.txt"',
    '        name: { glob: "src/{name}.txt" }',
    '',
  ].join('\n'),
  'rules/copy.yaml': ['rules:', '  copy:', '    inputs: "src/{name}.txt"', '    outputs: "out/{name}.txt"', '    run: cp {input} {output}', ''].join('\n'),
  'conf.yaml': 'header: x\n',
  'src/a.txt': 'a\n',
  'out/a.txt': 'a\n',
  'tables/t.csv': 'k,v\n',
};

function tempProject(t: { after(fn: () => void): void }): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-stamp-record-'));
  t.after(() => fs.rmSync(root, { recursive: true, force: true }));
  for (const [rel, text] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  fs.mkdirSync(path.join(root, '.rules'));
  return root;
}

/**
 * A build up to its stamp, as `rules build` does it: one cached file system
 * for the loader, the graph and the staleness check. `extra` looks at more
 * through it while the jobs are decided, as a new kind of input would.
 */
function buildAndStamp(root: string, extra: (fs: CachedFileSystem) => void = () => {}) {
  const files = new CachedFileSystem(new DiskFileSystem(root));
  const project = loadProject({ cwd: root, configFiles: ['conf.yaml'], fs: files });
  const graph = buildGraph(project, ['all'], files);
  const log = BuildLog.load(new MemoryLogStorage());
  makePlan({ project, graph, files: new FileOracle(files, log, true), log, options: { force: false, check: 'hash' } });
  extra(files);
  writeStamp(root, { key: 'k', fs: files, read: project.read, upToDate: 0, dryText: '', dryJson: '' });
  return { project, graph, stamp: loadStamp(root, 'k')! };
}

function stampedPaths(stamp: LoadedStamp): string[] {
  return Buffer.from(stamp.buffer, stamp.pathsStart, stamp.header.pathBytes).toString('utf8').split('\n').slice(0, -1);
}

async function holds(root: string): Promise<boolean> {
  const stamp = loadStamp(root, 'k');
  return stamp !== undefined && (await stampHolds(stamp, root));
}

describe('the stamp records what the build looked at', () => {
  test('a path only the staleness check stat\'ed (no source, no output) is in the stamp; changing it sends the next build down the full path', async (t) => {
    const root = tempProject(t);
    const { graph, stamp } = buildAndStamp(root, (files) => files.stat('tables/t.csv'));
    const named = new Set([...graph.sources, ...graph.jobs.flatMap((j) => j.outputs)]);
    assert.equal(named.has('tables/t.csv'), false, 'the graph does not name it');
    assert.ok(stampedPaths(stamp).includes('tables/t.csv'), stampedPaths(stamp).join(' '));
    assert.equal(await holds(root), true);
    fs.appendFileSync(path.join(root, 'tables/t.csv'), 'x,1\n');
    assert.equal(await holds(root), false);
  });

  test('without that look, the same change goes unnoticed: the stamp holds exactly what was looked at', async (t) => {
    const root = tempProject(t);
    const { stamp } = buildAndStamp(root);
    assert.deepEqual(stampedPaths(stamp).sort(), ['out/a.txt', 'src/a.txt']);
    fs.appendFileSync(path.join(root, 'tables/t.csv'), 'x,1\n');
    assert.equal(await holds(root), true);
  });

  test('the loader\'s include glob lists through the same file system: a new file there breaks the stamp', async (t) => {
    const root = tempProject(t);
    const { stamp } = buildAndStamp(root);
    assert.deepEqual(stamp.header.dirs.map(([d]) => d).sort(), ['rules', 'src']);
    assert.equal(await holds(root), true);
    fs.writeFileSync(path.join(root, 'rules/README'), 'not yaml, still a change to what the glob listed\n');
    assert.equal(await holds(root), false);
  });

  test('the files the loader read are the Rulefile, its includes and the config files: editing one breaks the stamp', async (t) => {
    const root = tempProject(t);
    const { project, stamp } = buildAndStamp(root);
    const read = ['Rulefile', 'rules/copy.yaml', 'conf.yaml'].map((f) => path.join(root, f));
    assert.deepEqual(project.read, read);
    assert.deepEqual(stamp.header.read.map(([f]) => f), read);
    for (const f of read) {
      buildAndStamp(root);
      assert.equal(await holds(root), true);
      fs.appendFileSync(f, '# edited\n');
      assert.equal(await holds(root), false, f);
    }
  });
});
