// Recompaction forgets the records of jobs that no rule makes any more
// (`BuildLog.close(live)`), as Ninja does for outputs no longer in its manifest.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BuildLog, MemoryLogStorage } from '../../../src/state/log.js';
import { MemoryMarkerStorage } from '../../../src/state/started.js';
import { HEADER, linesOf, record } from './helpers.js';

/** An in-memory log that counts its rewrites. */
class CountingStorage extends MemoryLogStorage {
  replaced = 0;
  override replace(text: string): void {
    this.replaced++;
    super.replace(text);
  }
}

/** Keys under `new/` belong to the rules of the current project; those under `old/` to a rule since removed. */
const live = (key: string) => key.startsWith('new/');

/** A log holding `nOld` records of the removed rule and `nNew` of current ones, each written once. */
function logWith(nOld: number, nNew: number) {
  const storage = new CountingStorage();
  const markers = new MemoryMarkerStorage();
  const log = BuildLog.load(storage, markers);
  for (let i = 0; i < nOld; i++) log.done(record(`old/${i}`));
  for (let i = 0; i < nNew; i++) log.done(record(`new/${i}`));
  log.close();
  assert.equal(storage.replaced, 0, 'written by appends alone');
  return { storage, markers, load: () => BuildLog.load(storage, markers) };
}

function keys(log: BuildLog, prefix: string): string[] {
  return [...log.records.keys()].filter((k) => k.startsWith(prefix));
}

describe('recompaction drops the records of jobs that no longer exist', () => {
  test('many records of a removed rule: close(live) rewrites the log without them, and keeps the others whole', () => {
    const { storage, load } = logWith(200, 100);
    const log = load();
    log.close(live);
    assert.equal(storage.replaced, 1);
    const back = load();
    assert.deepEqual(back.warnings, []);
    assert.deepEqual(keys(back, 'old/'), []);
    assert.equal(keys(back, 'new/').length, 100);
    for (let i = 0; i < 100; i++) assert.deepEqual(back.records.get(`new/${i}`), record(`new/${i}`));
    assert.equal(linesOf(storage.text).length, 1 + 100);
    assert.equal(linesOf(storage.text)[0], HEADER);
  });

  test('a job that started and never finished is never dropped, with or without an earlier record', () => {
    const { storage, markers, load } = logWith(200, 100);
    const running = load();
    // Running when the build died: never recorded as done.
    running.started('old/running', ['old/running.txt'], 'logs/running.log');
    // Done once, then rerun and never finished.
    running.started('old/1', ['old/1.txt']);
    // A later build of the new project closes the log.
    const log = load();
    log.close(live);
    assert.equal(storage.replaced, 1, 'the other dead records are dropped');
    const back = load();
    assert.deepEqual(back.incomplete.get('old/running'), { outputs: ['old/running.txt'], log: 'logs/running.log' });
    assert.ok(back.isIncomplete('old/1'));
    assert.deepEqual(back.records.get('old/1'), record('old/1'), 'its record is kept with it: `rules clean` still knows its files');
    assert.deepEqual(keys(back, 'old/'), ['old/1']);
    assert.equal(markers.markers.size, 2, 'the markers of both are left alone');
    // Their S records survive the rewrite itself, not only the markers.
    assert.ok(linesOf(storage.text).some((l) => l.includes('"t":"S","k":"old/running"')));
    assert.ok(linesOf(storage.text).some((l) => l.includes('"t":"S","k":"old/1"')));
  });

  test('once dropped, the next close with the same project does not rewrite the log again', () => {
    const { storage, load } = logWith(200, 100);
    load().close(live);
    assert.equal(storage.replaced, 1);
    const text = storage.text;
    for (let build = 0; build < 3; build++) load().close(live);
    assert.equal(storage.replaced, 1, 'a no-op build rewrites nothing');
    assert.equal(storage.text, text);
  });

  test('dead records kept for being incomplete never make every close rewrite the log', () => {
    const { storage, load } = logWith(0, 10);
    const log = load();
    for (let i = 0; i < 300; i++) log.started(`old/${i}`, [`old/${i}.txt`]);
    log.close(live);
    const before = storage.replaced;
    for (let build = 0; build < 3; build++) load().close(live);
    assert.equal(storage.replaced, before);
    assert.equal(load().incomplete.size, 300);
  });

  test('a few dead records alone do not make a rewrite; the next recompaction for another reason drops them', () => {
    const { storage, load } = logWith(5, 100);
    load().close(live);
    assert.equal(storage.replaced, 0, 'not worth a rewrite on their own');
    assert.equal(keys(load(), 'old/').length, 5, 'still there until then');
    // Many superseded lines: the log is recompacted, and the dead records go with it.
    const log = load();
    for (let v = 1; v <= 15; v++) for (let i = 0; i < 100; i++) log.done(record(`new/${i}`, v));
    log.close(live);
    assert.equal(storage.replaced, 1);
    const back = load();
    assert.deepEqual(keys(back, 'old/'), []);
    assert.equal(keys(back, 'new/').length, 100);
    assert.deepEqual(back.records.get('new/7'), record('new/7', 15));
  });

  test('without the predicate nothing is dropped: not on close, not on a recompaction', () => {
    const { storage, load } = logWith(200, 100);
    load().close();
    assert.equal(storage.replaced, 0, 'dead records are not counted without knowing the project');
    const log = load();
    for (let v = 1; v <= 15; v++) for (let i = 0; i < 100; i++) log.done(record(`new/${i}`, v));
    log.close();
    assert.equal(storage.replaced, 1, 'recompacted for its superseded lines');
    const back = load();
    assert.equal(keys(back, 'old/').length, 200);
    assert.deepEqual(back.records.get('old/199'), record('old/199'));
    assert.equal(keys(back, 'new/').length, 100);
  });

  test('a record forgotten by close is forgotten in memory too: what the log holds is what a next load reads', () => {
    const { load } = logWith(200, 100);
    const log = load();
    log.close(live);
    assert.deepEqual([...log.records.keys()], [...load().records.keys()]);
  });
});
