import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChangeQueue } from '../../../src/watch/queue.js';

describe('the change queue', () => {
  test('a burst is one batch, delivered once the changes stop', async () => {
    const q = new ChangeQueue(30, 5000);
    const ac = new AbortController();
    const t0 = Date.now();
    const batch = q.next(ac.signal);
    for (let i = 0; i < 200; i++) q.add(`f${i % 50}`);
    const paths = await batch;
    assert.equal(paths!.length, 50);
    assert.ok(Date.now() - t0 >= 25);
    q.close();
  });

  test('changes made while nobody waits (a build runs) are kept for the next batch', async () => {
    const q = new ChangeQueue(10, 5000);
    const ac = new AbortController();
    q.add('a');
    q.add('b');
    await new Promise((r) => setTimeout(r, 40));
    q.add('c');
    assert.deepEqual((await q.next(ac.signal))!.sort(), ['a', 'b', 'c']);
    q.add('d');
    assert.deepEqual(await q.next(ac.signal), ['d']);
    q.close();
  });

  test('a steady stream of changes still gives a batch after maxMs', async () => {
    const q = new ChangeQueue(50, 120);
    const ac = new AbortController();
    const batch = q.next(ac.signal);
    let n = 0;
    const iv = setInterval(() => q.add(`f${n++}`), 10);
    const paths = await batch;
    clearInterval(iv);
    assert.ok(paths!.length >= 5 && paths!.length <= 20, `${paths!.length} paths`);
    q.close();
  });

  test('retain drops the waiting changes that no longer matter', async () => {
    const q = new ChangeQueue(10, 100);
    const ac = new AbortController();
    q.add('out/a.txt');
    q.add('src/a.txt');
    q.retain((p) => p.startsWith('src/'));
    assert.deepEqual(await q.next(ac.signal), ['src/a.txt']);
    q.add('out/b.txt');
    q.retain(() => false);
    q.add('src/c.txt');
    assert.deepEqual(await q.next(ac.signal), ['src/c.txt']);
    q.close();
  });

  test('an abort ends the wait with undefined', async () => {
    const q = new ChangeQueue(10, 100);
    const ac = new AbortController();
    const batch = q.next(ac.signal);
    ac.abort();
    assert.equal(await batch, undefined);
    assert.equal(await q.next(ac.signal), undefined);
    q.close();
  });
});
