import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { hashFileSync, quickHash } from '../../../src/util/hash.js';

const sha = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const MiB = 1 << 20;

describe('hashFileSync', () => {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-hash-test-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function file(name: string, data: Buffer | string): string {
    const p = path.join(dir, name);
    fs.writeFileSync(p, data);
    return p;
  }

  test('a file bigger than the 1 MiB chunk (3 MiB + 17 bytes) matches node:crypto SHA-256, first 32 hex chars', () => {
    const data = randomBytes(3 * MiB + 17);
    const h = hashFileSync(file('big.bin', data));
    assert.match(h, /^[0-9a-f]{32}$/);
    assert.equal(h, sha(data).slice(0, 32));
  });

  test('a FIFO is never read (that would wait for a writer for ever): it hashes as its kind, at once', () => {
    const fifo = path.join(dir, 'pipe');
    const made = spawnSync('mkfifo', [fifo]);
    assert.equal(made.status, 0, String(made.stderr));
    const h = hashFileSync(fifo);
    assert.match(h, /^[0-9a-f]{32}$/);
    assert.equal(hashFileSync(fifo), h);
    assert.notEqual(h, hashFileSync(file('empty-for-fifo', '')));
  });

  test('an empty file', () => {
    assert.equal(hashFileSync(file('empty', '')), sha('').slice(0, 32));
    assert.equal(hashFileSync(file('empty', '')), 'e3b0c44298fc1c149afbf4c8996fb924');
  });

  test('sizes around the chunk boundary', () => {
    for (const size of [1, MiB - 1, MiB, MiB + 1, 2 * MiB]) {
      const data = randomBytes(size);
      assert.equal(hashFileSync(file(`s${size}`, data)), sha(data).slice(0, 32), `size ${size}`);
    }
  });

  test('the shared read buffer does not leak between files (a big file, then a small one)', () => {
    const big = randomBytes(2 * MiB + 5);
    const small = Buffer.from('tiny');
    const pb = file('b1', big);
    const ps = file('s1', small);
    assert.equal(hashFileSync(pb), sha(big).slice(0, 32));
    assert.equal(hashFileSync(ps), sha(small).slice(0, 32));
    assert.equal(hashFileSync(pb), sha(big).slice(0, 32));
  });

  test('same content, same hash; one byte different, different hash', () => {
    const data = randomBytes(MiB + 3);
    const a = hashFileSync(file('x1', data));
    assert.equal(hashFileSync(file('x2', Buffer.from(data))), a);
    data[MiB + 1]! ^= 1;
    assert.notEqual(hashFileSync(file('x3', data)), a);
  });

  test('a missing file throws ENOENT', () => {
    assert.throws(() => hashFileSync(path.join(dir, 'nope')), /ENOENT/);
  });
});

describe('quickHash', () => {
  test('deterministic', () => {
    for (const t of ['', 'a', 'cp {input} {output}', '☃𝄞']) assert.equal(quickHash(t), quickHash(String(t)));
    assert.ok(Number.isSafeInteger(quickHash('anything')) && quickHash('anything') >= 0);
  });

  test('no collisions among 100,000 distinct short strings', () => {
    const seen = new Map<number, string>();
    const check = (s: string) => {
      const h = quickHash(s);
      const prev = seen.get(h);
      assert.ok(prev === undefined || prev === s, `collision: ${JSON.stringify(prev)} and ${JSON.stringify(s)} → ${h}`);
      seen.set(h, s);
    };
    for (let i = 0; i < 100_000; i++) check(`job${i}`);
    assert.equal(seen.size, 100_000);
  });

  test('differs for near-identical strings (one char, order, length, empty vs NUL)', () => {
    const cases: [string, string][] = [
      ['ab', 'ba'],
      ['a', 'b'],
      ['', '\0'],
      ['a', 'a\0'],
      ['cmd x', 'cmd y'],
      ['params=1', 'params=10'],
      ['é', 'e\u0301'],
    ];
    for (const [x, y] of cases) assert.notEqual(quickHash(x), quickHash(y), `${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
    // All single characters of the BMP's first plane slice are distinct.
    const singles = new Set<number>();
    for (let c = 0; c < 0x3000; c++) singles.add(quickHash(String.fromCharCode(c)));
    assert.equal(singles.size, 0x3000);
  });
});
