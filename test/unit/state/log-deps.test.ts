// The build log keeps the dependencies a job discovered in its depfile (field
// `d` of a D record, SPEC §6): through a reload, a recompaction, and into the
// hash cache, absolute paths (system headers) included.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BuildLog, MemoryLogStorage } from '../../../src/state/log.js';
import { info, record } from './helpers.js';

function withDeps(key: string) {
  const r = record(key, 1);
  r.deps = new Map([
    ['include/a.h', info(70)],
    ['/usr/include/stdio.h', info(71)],
  ]);
  return r;
}

describe('build log: discovered dependencies (d)', () => {
  test('written and read back with their stat and hash', () => {
    const storage = new MemoryLogStorage();
    const log = BuildLog.load(storage);
    const r = withDeps('obj/a.o');
    log.started(r.key, [...r.outputs.keys()]);
    log.done(r);
    log.close();
    assert.match(storage.text, /"d":\[\["include\/a\.h",/);
    const back = BuildLog.load(storage);
    assert.deepEqual(back.records.get('obj/a.o'), r);
    assert.deepEqual(back.knownFile('/usr/include/stdio.h'), info(71));
    assert.deepEqual(back.knownFile('include/a.h'), info(70));
  });

  test('a record without deps has no d field (older logs read the same)', () => {
    const storage = new MemoryLogStorage();
    const log = BuildLog.load(storage);
    const r = record('plain', 1);
    log.done(r);
    const none = withDeps('none');
    none.deps = new Map();
    log.done(none);
    log.close();
    assert.doesNotMatch(storage.text, /"d":/);
    assert.equal(BuildLog.load(storage).records.get('plain')!.deps, undefined);
    assert.equal(BuildLog.load(storage).records.get('none')!.deps, undefined);
  });

  test('kept through a recompaction', () => {
    const storage = new MemoryLogStorage();
    const log = BuildLog.load(storage);
    const r = withDeps('obj/a.o');
    for (let i = 0; i < 1200; i++) log.done(r);
    log.close(() => true);
    assert.equal(storage.text.split('\n').length, 3, 'recompacted: header, one record, end');
    assert.deepEqual(BuildLog.load(storage).records.get('obj/a.o')!.deps, r.deps);
  });
});
