// Started-markers: a job that started and never finished stays incomplete
// whatever damage the build log takes afterwards (state/started.ts).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { BuildLog, FileLogStorage, MemoryLogStorage, type LogStorage } from '../../../src/state/log.js';
import { startedDir } from '../../../src/state/paths.js';
import { anyStarted, FileMarkerStorage, markerName, MemoryMarkerStorage, type MarkerStorage } from '../../../src/state/started.js';
import { HEADER, linesOf, record } from './helpers.js';

/** A log and its markers after a build was killed while `j` ran (`a` had finished, `j` had a record from before). */
function killedWhileRunning(): { mem: MemoryLogStorage; markers: MemoryMarkerStorage } {
  const mem = new MemoryLogStorage();
  const markers = new MemoryMarkerStorage();
  const first = BuildLog.load(mem, markers);
  first.started('j', ['out/j_0.fits']);
  first.done(record('j', 0));
  first.close();
  const log = BuildLog.load(mem, markers);
  log.started('a', ['out/a_0.fits']);
  log.done(record('a', 1));
  log.started('j', ['out/j_0.fits'], 'logs/j.log');
  // Killed here: no D for j, no close.
  return { mem, markers };
}

/** Each damage the log may take after the kill. */
const damages: [string, (text: string) => string][] = [
  ['the S record of j garbled', (text) => text.replace(/("t":"S","k":"j")/g, '"t":"S","k":"J"')],
  ['the S record of j torn', (text) => text.slice(0, text.length - 7)],
  ['the S record of j cut off at a line boundary', (text) => linesOf(text).slice(0, -1).join('\n') + '\n'],
  ['the header unreadable', (text) => 'XXXX' + text.slice(4)],
  ['the whole log lost', () => ''],
];

describe('started-markers', () => {
  test('the marker is written before the S record, and removed only after the D record', () => {
    const order: string[] = [];
    const mem = new MemoryLogStorage();
    const storage: LogStorage = {
      read: () => mem.read(),
      append: (t) => {
        order.push(`log ${/"t":"(.)"/.exec(t)![1]}`);
        mem.append(t);
      },
      replace: (t) => mem.replace(t),
      close: () => {},
    };
    const inner = new MemoryMarkerStorage();
    const markers: MarkerStorage = {
      list: () => inner.list(),
      write: (n, t) => {
        order.push(`write ${n === markerName('j') ? 'j' : n}`);
        inner.write(n, t);
      },
      remove: (n) => {
        order.push(`remove ${n === markerName('j') ? 'j' : n}`);
        inner.remove(n);
      },
    };
    const log = BuildLog.load(storage, markers);
    log.started('j', ['out/j_0.fits']);
    log.done(record('j'));
    assert.deepEqual(order, ['write j', 'log S', 'log D', 'remove j']);
    assert.equal(inner.markers.size, 0);
  });

  for (const [what, damage] of damages) {
    test(`a killed job stays incomplete with ${what}`, () => {
      const { mem, markers } = killedWhileRunning();
      mem.text = damage(mem.text);
      const log = BuildLog.load(mem, markers);
      assert.ok(log.isIncomplete('j'), 'j is incomplete by its marker');
      assert.deepEqual(log.incomplete.get('j'), { outputs: ['out/j_0.fits'], log: 'logs/j.log' }, 'with its outputs and log, for rules clean');
      assert.equal(log.isIncomplete('a'), false, 'a finished: no marker');
      assert.equal(log.isIncomplete('never'), false);
    });
  }

  test('without the markers the same damage loses the killed job (what they are for)', () => {
    const { mem } = killedWhileRunning();
    mem.text = damages[0]![1](mem.text);
    assert.equal(BuildLog.load(mem, new MemoryMarkerStorage()).isIncomplete('j'), false);
  });

  test('a marker wins over a D record written just before the kill', () => {
    const mem = new MemoryLogStorage();
    const markers = new MemoryMarkerStorage();
    const log = BuildLog.load(mem, markers);
    log.started('j', ['out/j_0.fits']);
    const leftBehind = [...markers.markers];
    log.done(record('j'));
    // Killed between appending D and removing the marker.
    for (const [n, t] of leftBehind) markers.markers.set(n, t);
    const next = BuildLog.load(mem, markers);
    assert.ok(next.isIncomplete('j'));
    assert.deepEqual(next.records.get('j'), record('j'), 'the record stays, as the hash cache');
  });

  test('a marker whose text is unreadable still names its job; the job\'s D removes it', () => {
    const { mem, markers } = killedWhileRunning();
    markers.markers.set(markerName('j'), undefined);
    markers.markers.set(markerName('k'), '00000000 {garbage');
    mem.text = damages[0]![1](mem.text);
    const log = BuildLog.load(mem, markers);
    assert.ok(log.isIncomplete('j'));
    assert.ok(log.isIncomplete('k'));
    assert.equal(log.isIncomplete('a'), false);
    log.done(record('k'));
    assert.equal(log.isIncomplete('k'), false);
    assert.equal(markers.markers.has(markerName('k')), false);
    log.started('j', ['out/j_0.fits']);
    log.done(record('j', 2));
    log.close();
    assert.equal(markers.markers.size, 0);
    const after = BuildLog.load(mem, markers);
    assert.deepEqual(after.warnings, []);
    assert.equal(after.isIncomplete('j'), false);
  });

  test('a stopped run (failed, outputs removed) loses its marker and keeps its S record', () => {
    const mem = new MemoryLogStorage();
    const markers = new MemoryMarkerStorage();
    const log = BuildLog.load(mem, markers);
    log.started('j', ['out/j_0.fits']);
    log.stopped('j');
    log.close();
    assert.equal(markers.markers.size, 0);
    assert.ok(BuildLog.load(mem, markers).isIncomplete('j'), 'incomplete by its S record');
  });

  test('forgetting a job (rules clean) removes its marker', () => {
    const { mem, markers } = killedWhileRunning();
    const log = BuildLog.load(mem, markers);
    log.forget('j');
    log.close();
    assert.equal(markers.markers.size, 0);
    assert.equal(BuildLog.load(mem, markers).isIncomplete('j'), false);
  });

  test('a build that runs nothing writes no marker; records of jobs that did not run remove none', () => {
    const { mem, markers } = killedWhileRunning();
    const writes = markers.writes;
    const log = BuildLog.load(mem, markers);
    log.done(record('a', 3)); // an adopted or re-stat'ed job
    log.close();
    assert.equal(markers.writes, writes);
    assert.ok(markers.markers.has(markerName('j')));
  });

  test('markers that cannot be listed: a warning, and every job is incomplete', () => {
    const mem = new MemoryLogStorage();
    mem.text = `${HEADER}\n`;
    const markers: MarkerStorage = {
      list: () => {
        throw new Error('EACCES: permission denied');
      },
      write: () => {},
      remove: () => {},
    };
    const log = BuildLog.load(mem, markers);
    assert.equal(log.warnings.length, 1);
    assert.match(log.warnings[0]!, /\.rules\/started.*EACCES/);
    assert.ok(log.isIncomplete('anything'));
  });
});

describe('FileMarkerStorage', () => {
  test('writes, lists, removes; an absent directory has none', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-started-test-'));
    try {
      const s = new FileMarkerStorage(root);
      assert.deepEqual(s.list(), []);
      assert.equal(anyStarted(root), false);
      s.write('abc', 'text\n');
      s.write('def', 'more\n');
      assert.equal(anyStarted(root), true);
      assert.deepEqual(
        s.list().sort((x, y) => x.name.localeCompare(y.name)),
        [
          { name: 'abc', text: 'text\n' },
          { name: 'def', text: 'more\n' },
        ],
      );
      s.remove('abc');
      s.remove('never');
      assert.deepEqual(s.list(), [{ name: 'def', text: 'more\n' }]);
      s.remove('def');
      assert.equal(anyStarted(root), false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a finished marker\'s file marks the next job: no file is made or deleted per job, and close leaves nothing', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-started-test-'));
    try {
      const s = new FileMarkerStorage(root);
      s.write('abc', 'a longer text of the first job\n');
      const ino = fs.statSync(`${startedDir(root)}/abc`).ino;
      s.remove('abc');
      assert.deepEqual(fs.readdirSync(startedDir(root)), [], 'removed from .rules/started');
      assert.equal(anyStarted(root), false);
      s.write('def', 'short\n');
      assert.equal(fs.statSync(`${startedDir(root)}/def`).ino, ino, 'the same file, renamed');
      assert.deepEqual(s.list(), [{ name: 'def', text: 'short\n' }], 'its text cut to the new one');
      // A second job while the first runs takes a file of its own; a retry rewrites its marker in place.
      s.write('ghi', 'third\n');
      s.write('def', 'short again\n');
      assert.deepEqual(
        s.list().sort((x, y) => x.name.localeCompare(y.name)),
        [
          { name: 'def', text: 'short again\n' },
          { name: 'ghi', text: 'third\n' },
        ],
      );
      s.remove('def');
      s.remove('ghi');
      assert.equal(fs.readdirSync(s.spareDir).length, 2, 'both files kept for the next jobs');
      s.close();
      assert.deepEqual(fs.readdirSync(startedDir(root)), []);
      assert.equal(fs.existsSync(s.spareDir), false, 'the spare files are gone');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a marker still in use when the storage is closed stays; spares a killed build left are deleted', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-started-test-'));
    try {
      const killed = new FileMarkerStorage(root);
      killed.write('old', 'old\n');
      killed.remove('old');
      killed.write('running', 'running\n');
      // Killed: its spare and its marker stay.
      const s = new FileMarkerStorage(root);
      assert.deepEqual(s.list(), [{ name: 'running', text: 'running\n' }]);
      s.write('running', 'again\n');
      s.write('next', 'next\n');
      s.remove('next');
      s.close();
      assert.deepEqual(s.list(), [{ name: 'running', text: 'again\n' }]);
      assert.equal(fs.existsSync(s.spareDir), false);
      // A marker found at load and not written again is deleted as before.
      const t = new FileMarkerStorage(root);
      t.remove('running');
      t.close();
      assert.equal(anyStarted(root), false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('BuildLog.open keeps its markers under .rules/started, and a killed run is found by a new process', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-started-test-'));
    try {
      const log = BuildLog.open(root);
      log.started('calibrate[frame=f1]', ['out/f1.fits']);
      assert.deepEqual(fs.readdirSync(startedDir(root)), [markerName('calibrate[frame=f1]')]);
      // Killed: the log is then lost altogether.
      fs.rmSync(`${root}/.rules/log`);
      const next = BuildLog.open(root);
      assert.ok(next.isIncomplete('calibrate[frame=f1]'));
      next.started('calibrate[frame=f1]', ['out/f1.fits']);
      next.done(record('calibrate[frame=f1]'));
      next.close();
      assert.deepEqual(fs.readdirSync(startedDir(root)), []);
      assert.equal(anyStarted(root), false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a log loaded from its file storage has its markers on disk too (the CLI opens it that way)', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-started-test-'));
    try {
      const log = BuildLog.load(new FileLogStorage(root));
      log.started('fit[obj=m31]', ['fits/m31.txt']);
      assert.deepEqual(fs.readdirSync(startedDir(root)), [markerName('fit[obj=m31]')]);
      log.close();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('a .rules/started that is not a directory is not taken for "none started"', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-started-test-'));
    try {
      fs.mkdirSync(`${root}/.rules`);
      fs.writeFileSync(startedDir(root), 'a file\n');
      assert.equal(anyStarted(root), true);
      assert.throws(() => new FileMarkerStorage(root).list(), /ENOTDIR/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
