// SPEC §6 "Directories", decided against the in-memory file system: a
// directory input stands for every file under it (hash mode: its tree; mtime
// mode: the newest mtime in it), and directory outputs are removed, made,
// checked and compared whole.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Plan } from '../../../src/plan/plan.js';
import { failureText } from '../../../src/report/failure.js';
import { reasonText } from '../../../src/report/reason.js';
import type { Project } from '../../../src/rulefile/model.js';
import { applyClean, planClean } from '../../../src/run/clean.js';
import { buildGraph } from '../../../src/graph/build.js';
import { UserError } from '../../../src/util/errors.js';
import { buildOnce, MemoryState, planOf, type EventLog } from '../../support/build.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

const READER = yaml`
  rules:
    report:
      inputs: data
      outputs: report.txt
      run: summarize {input} > {output}
`;

function lines(p: Plan): string[] {
  return p.order.map((j) => `${j.label} ${j.name}: ${reasonText(p.reasons.get(j)!)}`);
}

function failures(events: EventLog): string[] {
  return events.events.flatMap((e) => (e.type === 'job-fail' ? [`${e.job.label}: ${failureText(e.failure)}`] : []));
}

/** `data/` with a nested directory, built once under `check`. */
async function builtReader(check: 'hash' | 'mtime', fs = new FakeFileSystem().put('data/a.txt', 'A').put('data/sub/b.txt', 'B')) {
  const project = projectFrom(READER);
  const state = new MemoryState();
  const first = await buildOnce(project, ['report.txt'], fs, state, { check });
  assert.equal(first.result.ok, true, failures(first.events).join('\n'));
  assert.deepEqual(first.ran, ['report.txt']);
  const dry = () => lines(planOf(project, ['report.txt'], fs, state.log(), { check }));
  assert.deepEqual(dry(), [], 'up to date after the build');
  return { fs, state, project, dry };
}

describe('a directory input, --check hash', () => {
  const cases: [string, (fs: FakeFileSystem) => void][] = [
    ['a file edited', (fs) => fs.put('data/a.txt', 'A2')],
    ['a file in a nested directory edited', (fs) => fs.put('data/sub/b.txt', 'B2')],
    ['a file added', (fs) => fs.put('data/new.txt', 'N')],
    ['a file added in a new nested directory', (fs) => fs.put('data/sub/deeper/c.txt', 'C')],
    ['a file removed', (fs) => fs.rm('data/a.txt')],
    ['a file renamed', (fs) => (fs.rm('data/a.txt'), fs.put('data/z.txt', 'A'))],
    ['an empty directory added', (fs) => fs.mkdirp('data/empty')],
    ['a symbolic link added', (fs) => fs.link('data/l', 'a.txt')],
  ];
  for (const [what, edit] of cases) {
    test(`${what}: input changed: data`, async () => {
      const { fs, dry } = await builtReader('hash');
      edit(fs);
      assert.deepEqual(dry(), ['report report.txt: input changed: data']);
    });
  }

  test('a touch that changes nothing is no change, and costs no read in the build after', async () => {
    const { fs, state, project, dry } = await builtReader('hash');
    fs.touch('data/a.txt').touch('data/sub/b.txt');
    fs.hashes = 0;
    assert.deepEqual(dry(), []);
    assert.equal(fs.hashes, 2, 'the touched files are read once to see they are the same');
    // The job's record is refreshed with the new stats: the next build reads nothing.
    await buildOnce(project, ['report.txt'], fs, state);
    fs.hashes = 0;
    assert.deepEqual(dry(), []);
    assert.equal(fs.hashes, 0);
  });

  test('an unchanged tree costs stats, not reads, build after build', async () => {
    const { fs, state, project, dry } = await builtReader('hash');
    fs.hashes = 0;
    assert.deepEqual(dry(), []);
    const again = await buildOnce(project, ['report.txt'], fs, state);
    assert.deepEqual(again.ran, []);
    assert.equal(fs.hashes, 0);
    // One file edited: only that one is read.
    fs.put('data/sub/b.txt', 'B2');
    assert.deepEqual(dry(), ['report report.txt: input changed: data']);
    assert.equal(fs.hashes, 1);
  });

  test('an empty directory is an input like any: a file appearing in it is a change', async () => {
    const fs = new FakeFileSystem();
    fs.mkdirp('data');
    const { dry } = await builtReader('hash', fs);
    fs.put('data/first.txt', '1');
    assert.deepEqual(dry(), ['report report.txt: input changed: data']);
  });

  test('a symbolic link inside is its target text: retargeting it is a change, editing what it points to is not', async () => {
    const fs = new FakeFileSystem().put('data/a.txt', 'A').put('elsewhere/x.txt', 'X').put('elsewhere/y.txt', 'Y');
    fs.link('data/l', '../elsewhere/x.txt');
    const { dry } = await builtReader('hash', fs);
    fs.put('elsewhere/x.txt', 'X2');
    assert.deepEqual(dry(), [], 'the link is not followed');
    fs.link('data/l', '../elsewhere/y.txt');
    assert.deepEqual(dry(), ['report report.txt: input changed: data']);
  });

  test('a file where the directory was (and the reverse) is a change', async () => {
    const { fs, dry } = await builtReader('hash');
    fs.rm('data/a.txt');
    fs.rm('data/sub/b.txt');
    fs.put('data', 'now a file');
    assert.deepEqual(dry(), ['report report.txt: input changed: data']);
  });

  test('a file inside that cannot be read: stale, and the job fails before it runs, naming the job and the file', async () => {
    const { fs, state, project } = await builtReader('hash');
    fs.put('data/secret.txt', 'S').forbid('data/secret.txt');
    const b = await buildOnce(project, ['report.txt'], fs, state);
    assert.equal(b.result.ok, false);
    assert.deepEqual(b.ran, [], 'the command never ran');
    assert.deepEqual(failures(b.events), ["report: cannot read 'data/secret.txt' in input directory 'data': permission denied; the job was not run"]);
    assert.equal(fs.has('report.txt'), false, 'its stale output is removed as after any failure');
    assert.equal(fs.has('data/secret.txt'), true, 'nothing of the input touched');
  });
});

describe('a directory input, --check mtime', () => {
  test('no record: a file inside newer than the output', async () => {
    const fs = new FakeFileSystem().put('data/a.txt', 'A').put('report.txt', 'old');
    fs.put('data/sub/b.txt', 'B');
    const project = projectFrom(READER);
    assert.deepEqual(lines(planOf(project, ['report.txt'], fs, new MemoryState().log(), { check: 'mtime' })), [
      'report report.txt: no record: input newer than output: data',
    ]);
    assert.deepEqual(lines(planOf(project, ['report.txt'], fs, new MemoryState().log(), { check: 'hash' })), [
      'report report.txt: no record: input newer than output: data',
    ]);
  });

  const cases: [string, (fs: FakeFileSystem) => void][] = [
    ['a file edited', (fs) => fs.put('data/a.txt', 'A2')],
    ['a nested file touched', (fs) => fs.touch('data/sub/b.txt')],
    ['a file added', (fs) => fs.put('data/new.txt', 'N')],
    ['a file removed (its directory is newer)', (fs) => fs.rm('data/sub/b.txt')],
  ];
  for (const [what, edit] of cases) {
    test(`${what}: input newer than output: data`, async () => {
      const { fs, dry } = await builtReader('mtime');
      assert.equal(fs.hashes, 0, 'nothing is hashed under --check mtime');
      edit(fs);
      assert.deepEqual(dry(), ['report report.txt: input newer than output: data']);
      assert.equal(fs.hashes, 0);
    });
  }
});

const SPLIT = yaml`
  rules:
    summary:
      inputs: ["chunks/s1/part.txt", "chunks/s2"]
      outputs: summary.txt
      run: cat {inputs} > {output}
    split:
      inputs: "raw/{sample}.txt"
      outputs: "chunks/{sample}/"
      run: split {input} {output}
`;

async function builtSplit(run = 'split {input} {output}') {
  const project = projectFrom(SPLIT.replace('split {input} {output}', run));
  const fs = new FakeFileSystem().put('raw/s1.txt', '1').put('raw/s2.txt', '2').put('chunks/keep.txt', 'mine');
  const state = new MemoryState();
  const b = await buildOnce(project, ['summary.txt'], fs, state);
  return { project, fs, state, b, dry: () => lines(planOf(project, ['summary.txt'], fs, state.log())) };
}

describe('directory outputs', () => {
  test('a path inside one is made by its job; it is made empty, and the job writes into it', async () => {
    const { b, fs, dry } = await builtSplit();
    assert.equal(b.result.ok, true, failures(b.events).join('\n'));
    assert.deepEqual(b.ran, ['chunks/s1', 'chunks/s2', 'summary.txt']);
    assert.equal(fs.stat('chunks/s1')?.isDirectory, true);
    assert.equal(fs.has('chunks/s1/part.txt'), true);
    assert.deepEqual(dry(), []);
  });

  test('a target inside a directory output resolves to its job', () => {
    const project = projectFrom(SPLIT);
    const graph = buildGraph(project, ['chunks/s1/part.txt', 'chunks/s2/'], new FakeFileSystem().put('raw/s1.txt', '1').put('raw/s2.txt', '2'));
    assert.deepEqual(graph.targets.map((j) => j.label), ['split[sample=s1]', 'split[sample=s2]']);
    assert.deepEqual(graph.sources, ['raw/s1.txt', 'raw/s2.txt']);
  });

  test('removed with everything in it before the job runs; nothing outside it touched, links in it not followed', async () => {
    const { fs, state, project } = await builtSplit();
    fs.put('chunks/s1/stale.txt', 'from an old run');
    fs.put('outside/precious.txt', 'P');
    fs.link('chunks/s1/link', '../../outside');
    fs.put('raw/s1.txt', '1b');
    const b = await buildOnce(project, ['summary.txt'], fs, state);
    assert.equal(b.result.ok, true, failures(b.events).join('\n'));
    assert.deepEqual(b.ran, ['chunks/s1', 'summary.txt']);
    assert.equal(fs.has('chunks/s1/stale.txt'), false);
    assert.equal(fs.readlink('chunks/s1/link'), undefined);
    assert.equal(fs.read('outside/precious.txt'), 'P');
    assert.equal(fs.read('chunks/keep.txt'), 'mine');
    assert.equal(fs.has('chunks/s2/part.txt'), true);
  });

  test('anything changed inside it outside the build: output modified', async () => {
    const { fs, dry } = await builtSplit();
    fs.put('chunks/s2/extra.txt', 'x');
    // The reader's recorded tree differs too: row 6 comes before row 8.
    assert.deepEqual(dry(), ['split[sample=s2] chunks/s2: output modified: chunks/s2', 'summary summary.txt: input changed: chunks/s2']);
  });

  test('a file inside it edited by hand: its job reruns (output modified), and so does what reads it', async () => {
    const { fs, dry } = await builtSplit();
    fs.put('chunks/s1/part.txt', 'edited');
    assert.deepEqual(dry(), ['split[sample=s1] chunks/s1: output modified: chunks/s1', 'summary summary.txt: input changed: chunks/s1/part.txt']);
  });

  test('a directory output that is missing, or a file, is missing', async () => {
    const { fs, dry } = await builtSplit();
    fs.removeTree('chunks/s1');
    fs.put('chunks/s2', 'a file');
    assert.deepEqual(dry(), [
      'split[sample=s1] chunks/s1: output missing: chunks/s1',
      'split[sample=s2] chunks/s2: output missing: chunks/s2',
      'summary summary.txt: input changed: chunks/s2',
    ]);
  });

  test('missing after the run: the job fails naming it', async () => {
    const { b, fs } = await builtSplit('split {input} {output} NO_DIR');
    assert.equal(b.result.ok, false);
    assert.deepEqual(failures(b.events), [
      "split[sample=s1]: the command succeeded but did not create output 'chunks/s1'",
      "split[sample=s2]: the command succeeded but did not create output 'chunks/s2'",
    ]);
    assert.equal(fs.has('chunks/keep.txt'), true);
  });

  test('a file left where the directory should be: the job fails naming it, and the file is removed', async () => {
    const { b, fs } = await builtSplit('split {input} {output} LEAVE_FILE');
    assert.equal(b.result.ok, false);
    assert.deepEqual(failures(b.events), [
      "split[sample=s1]: the command succeeded but directory output 'chunks/s1/' is not a directory (a file is there)",
      "split[sample=s2]: the command succeeded but directory output 'chunks/s2/' is not a directory (a file is there)",
    ]);
    assert.equal(fs.stat('chunks/s1'), undefined);
    assert.equal(fs.read('chunks/keep.txt'), 'mine');
  });

  test('removed after the job fails, with what it wrote; nothing else', async () => {
    const { b, fs } = await builtSplit('split {input} {output} FAIL');
    assert.equal(b.result.ok, false);
    assert.equal(fs.stat('chunks/s1'), undefined);
    assert.equal(fs.read('chunks/keep.txt'), 'mine');
    assert.equal(fs.read('raw/s1.txt'), '1');
  });

  test('rules clean removes it whole; nothing beside it', async () => {
    const { fs, state, project } = await builtSplit();
    const log = state.log();
    const items = planClean(project, log, fs, undefined);
    assert.deepEqual(items.map((i) => i.trees).flat().sort(), ['chunks/s1', 'chunks/s2']);
    assert.deepEqual(items.map((i) => i.directories).flat(), []);
    applyClean(items, log, fs);
    log.close();
    assert.deepEqual(fs.paths(), ['chunks/keep.txt', 'raw/s1.txt', 'raw/s2.txt']);
  });
});

describe('directories where files are expected, and the reverse', () => {
  const load = (text: string): Project => projectFrom(text);

  test('an input written with a trailing / that is a file is an error naming the job and the path', () => {
    const project = load(yaml`
      rules:
        r:
          inputs: "notes.txt/"
          outputs: out.txt
          run: x
    `);
    assert.throws(
      () => buildGraph(project, ['out.txt'], new FakeFileSystem().put('notes.txt', 'n')),
      (e: unknown) => e instanceof UserError && /input 'notes\.txt\/' of r is a file, not a directory/.test(e.message),
    );
  });

  test("an input written with a trailing / that another rule makes as a file", () => {
    const project = load(yaml`
      rules:
        r:
          inputs: "made/"
          outputs: out.txt
          run: x
        m:
          outputs: made
          run: y
    `);
    assert.throws(
      () => buildGraph(project, ['out.txt'], new FakeFileSystem()),
      (e: unknown) => e instanceof UserError && /input 'made\/' of r is made by rule 'm' as a file, not a directory/.test(e.message),
    );
  });

  test('an input written with a trailing / that is a directory, or a directory output, is fine', () => {
    const project = load(yaml`
      rules:
        r:
          inputs: ["data/", "made/"]
          outputs: out.txt
          run: x
        m:
          outputs: made/
          run: y
    `);
    const graph = buildGraph(project, ['out.txt'], new FakeFileSystem().put('data/a.txt', 'a'));
    assert.deepEqual(graph.jobs[0]!.inputs, ['data', 'made']);
  });
});
