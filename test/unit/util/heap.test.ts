import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Heap } from '../../../src/util/heap.js';

test('push/pop give the items in order, for a million items', () => {
  const n = 1_000_000;
  const less = (a: number, b: number) => a < b;
  const h = new Heap(less);
  for (let i = 0; i < n; i++) h.push((i * 7919) % n);
  assert.equal(h.size, n);
  for (let i = 0; i < n; i++) assert.equal(h.pop(), i);
  assert.equal(h.pop(), undefined);
  const p = new Heap(less);
  for (const x of [5, 1, 4, 1, 3]) p.push(x);
  assert.deepEqual([p.pop(), p.pop(), p.pop(), p.pop(), p.pop()], [1, 1, 3, 4, 5]);
});
