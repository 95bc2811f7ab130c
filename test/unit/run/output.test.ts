import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { OutputTail, readOutputTail } from '../../../src/run/output.js';
import { rng as seeded } from '../../support/rng.js';

const dir = mkdtempSync(join(tmpdir(), 'rules-output-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Feeds `text` to a tail in pieces of the given sizes (cycled). */
function feed(tail: OutputTail, data: Buffer, sizes: number[]): void {
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    tail.push(data.subarray(off, off + n));
    off += n;
  }
}

describe('the bounded output of a job', () => {
  test('output within the limit is kept whole, nothing cut, no spill file', () => {
    const spill = join(dir, 'small.log');
    const tail = new OutputTail(spill, 100);
    feed(tail, Buffer.from('a'.repeat(100)), [7, 30]);
    assert.deepEqual(tail.finish(), { text: 'a'.repeat(100) });
    assert.equal(existsSync(spill), false);
  });

  test('longer output: exactly the last `limit` bytes, the count of the rest, the whole of it in the spill file', () => {
    const rng = seeded(7);
    for (const limit of [1, 10, 64, 1000]) {
      for (let round = 0; round < 20; round++) {
        const length = limit + 1 + Math.floor(rng() * limit * 5);
        const data = Buffer.from(Array.from({ length }, () => 'abcdefghij'[Math.floor(rng() * 10)]).join(''));
        const sizes = Array.from({ length: 5 }, () => 1 + Math.floor(rng() * limit * 2));
        const spill = join(dir, `ascii-${limit}-${round}.log`);
        const tail = new OutputTail(spill, limit);
        feed(tail, data, sizes);
        assert.ok(tail.bytesHeld <= limit + Math.max(...sizes), `${tail.bytesHeld} bytes held`);
        const r = tail.finish();
        assert.equal(r.text, data.subarray(length - limit).toString(), `limit ${limit}, sizes ${sizes}`);
        assert.deepEqual(r.cut, { bytes: length - limit, path: spill });
        assert.deepEqual(readFileSync(spill), data);
      }
    }
  });

  test('many small pieces (a job printing a line at a time) are merged, the tail stays exact', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i}\n`).join('');
    const tail = new OutputTail(join(dir, 'lines.log'), 4096);
    feed(tail, Buffer.from(lines), [1, 3, 9]);
    assert.ok(tail.bytesHeld <= 4096 + 9, `${tail.bytesHeld} bytes held`);
    const r = tail.finish();
    assert.equal(r.text, lines.slice(lines.length - 4096));
    assert.equal(r.cut?.bytes, lines.length - 4096);
  });

  test('a cut inside a multi-byte character starts the tail at the next whole character', () => {
    // 'é' is 2 bytes, '€' 3, '😀' 4: cut after each of their first bytes in turn.
    for (const ch of ['é', '€', '😀']) {
      const size = Buffer.byteLength(ch);
      for (let into = 1; into < size; into++) {
        const data = Buffer.from(`x${ch}yz`);
        const limit = data.length - 1 - into;
        const r = (() => {
          const tail = new OutputTail(undefined, limit);
          feed(tail, data, [1]);
          return tail.finish();
        })();
        assert.equal(r.text, 'yz', `${ch} cut after byte ${into}`);
        assert.deepEqual(r.cut, { bytes: data.length - 2 });
        assert.ok(!r.text.includes('\ufffd'));
      }
    }
    const whole = new OutputTail(undefined, 4);
    feed(whole, Buffer.from('ab😀'), [2]);
    assert.deepEqual(whole.finish(), { text: '😀', cut: { bytes: 2 } });
  });

  test('a spill file that cannot be written: the tail is still kept, the cut says why', () => {
    writeFileSync(join(dir, 'not-a-dir'), '');
    const tail = new OutputTail(join(dir, 'not-a-dir', 'job.log'), 8);
    feed(tail, Buffer.from('0123456789abcdef'), [5]);
    const r = tail.finish();
    assert.equal(r.text, '89abcdef');
    assert.equal(r.cut?.bytes, 8);
    assert.equal(r.cut?.path, undefined);
    assert.match(r.cut?.error ?? '', /EEXIST|ENOTDIR/);
  });

  test('the tail of an output already in a file (a SLURM log): its last bytes, the rest counted, the file named', () => {
    const log = join(dir, 'slurm.log');
    writeFileSync(log, `${'x'.repeat(50)}€tail\n`);
    // 50 + 3 + 5 = 58 bytes; a limit of 7 cuts inside the euro sign.
    assert.deepEqual(readOutputTail(log, 7), { text: 'tail\n', cut: { bytes: 53, path: log } });
    assert.deepEqual(readOutputTail(log, 100), { text: `${'x'.repeat(50)}€tail\n` });
    assert.deepEqual(readOutputTail(join(dir, 'missing.log'), 7), { text: '' });
  });
});
