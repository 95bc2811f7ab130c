// The build log decodes a finished run's record only when it is asked for:
// loading checks every line's CRC and keeps the records' lines as they are.
// What the log means must not change: damage, keys of any text, X lines,
// dropped inputs, and recompaction, which writes a record never decoded back
// as its line.

import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { describe, test } from 'node:test';
import { BuildLog, FileLogStorage, MemoryLogStorage } from '../../../src/state/log.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { logPath } from '../../../src/state/paths.js';
import type { JobRecord } from '../../../src/state/log.js';
import { MemoryMarkerStorage } from '../../../src/state/started.js';
import { HEADER, info, linesOf, record } from './helpers.js';

/** Counts the calls of JSON.parse while `run` runs. */
function parses<T>(run: () => T): { value: T; count: number } {
  const parse = JSON.parse;
  let count = 0;
  JSON.parse = function (this: unknown, ...args: Parameters<typeof JSON.parse>) {
    count++;
    return parse.apply(this, args);
  } as typeof JSON.parse;
  try {
    return { value: run(), count };
  } finally {
    JSON.parse = parse;
  }
}

/** A log written by BuildLog: one session of `write`, closed. */
function written(write: (log: BuildLog) => void): MemoryLogStorage {
  const mem = new MemoryLogStorage();
  const log = BuildLog.load(mem, new MemoryMarkerStorage());
  write(log);
  log.close();
  return mem;
}

/** A line as the log writes it: CRC, then the JSON. */
function line(json: string): string {
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}`;
}

/** Keys that make the key scanner work: quotes, backslashes, escaped control characters, non-ASCII, text that looks like the layout. */
const ODD_KEYS = [
  'plain',
  'say "hi"',
  'back\\slash\\',
  'ends with a quote"',
  'line\nbreak\tand tab\r',
  'bell\u0007 and nul\u0000',
  'ü ☃ 日本 😀',
  'line separator \u2028 paragraph \u2029',
  'lone surrogate \ud800',
  '","s":[1,2,3],"x":"',
  'has "n":["dropped"] in it',
  '"n":',
  '{"t":"D","k":"nested"}',
  '',
];

describe('BuildLog: records decoded when first asked for', () => {
  test('loading parses no D line; each record is parsed once, when asked for; keys, size, has, delete parse nothing', () => {
    const mem = written((log) => {
      for (let i = 0; i < 50; i++) log.done(record(`job${i}`, i));
    });
    const { value: log, count } = parses(() => BuildLog.load(mem, new MemoryMarkerStorage()));
    assert.equal(count, 0, 'no line parsed at load');
    assert.deepEqual(log.warnings, []);
    const { count: reading } = parses(() => {
      assert.equal(log.records.size, 50);
      assert.ok(log.records.has('job7'));
      assert.equal(log.records.has('job50'), false);
      assert.deepEqual([...log.records.keys()], Array.from({ length: 50 }, (_, i) => `job${i}`));
      assert.ok(log.records.delete('job49'));
      assert.equal(log.records.size, 49);
    });
    assert.equal(reading, 0);
    const { value: got, count: once } = parses(() => [log.records.get('job7'), log.records.get('job7'), log.records.get('job8')]);
    assert.equal(once, 2, 'one parse per record, the first time');
    assert.deepEqual(got, [record('job7', 7), record('job7', 7), record('job8', 8)]);
    assert.equal(got[0], got[1], 'the same record object each time');
    // Every value, every entry: all decoded, in the log's order.
    assert.deepEqual([...log.records.values()], Array.from({ length: 49 }, (_, i) => record(`job${i}`, i)));
    assert.deepEqual(
      [...log.records].map(([k]) => k),
      Array.from({ length: 49 }, (_, i) => `job${i}`),
    );
  });

  test('S, X and T lines, and D lines that drop implicit inputs, are decoded at load', () => {
    const dropping: JobRecord = { ...record('drops'), dropped: ['notes.txt'] };
    const mem = written((log) => {
      log.done(record('a'));
      log.started('b', ['out/b']);
      log.done(record('c'));
      log.forget('c');
      log.rememberTree('dir', new Map([['dir/x', info(1)]]));
      log.done(dropping);
    });
    const { value: log, count } = parses(() => BuildLog.load(mem, new MemoryMarkerStorage()));
    assert.equal(count, 4, 'S, X, T and the dropping D');
    assert.deepEqual([...log.droppedKeys], ['drops']);
    assert.deepEqual(log.incomplete.get('b'), { outputs: ['out/b'] });
    assert.deepEqual(log.knownFile('dir/x'), info(1), 'trees feed the hash cache at load');
    assert.deepEqual([...log.records.keys()], ['a', 'drops']);
    assert.deepEqual(log.records.get('drops'), dropping);
  });

  test('keys of any text are read back exactly, with and without decoding, and no odd key passes for dropped inputs', () => {
    const mem = written((log) => {
      for (const [i, k] of ODD_KEYS.entries()) log.done(record(k, i));
    });
    const log = BuildLog.load(mem, new MemoryMarkerStorage());
    assert.deepEqual(log.warnings, []);
    assert.deepEqual([...log.records.keys()], ODD_KEYS);
    assert.deepEqual([...log.droppedKeys], []);
    for (const [i, k] of ODD_KEYS.entries()) {
      assert.ok(log.records.has(k), JSON.stringify(k));
      assert.deepEqual(log.records.get(k), record(k, i), JSON.stringify(k));
    }
    // Superseded and forgotten by key, undecoded: the key read from the line is the key.
    const again = written((w) => {
      for (const [i, k] of ODD_KEYS.entries()) w.done(record(k, i));
      for (const [i, k] of ODD_KEYS.entries()) if (i % 2 === 0) w.done(record(k, 100 + i));
      for (const [i, k] of ODD_KEYS.entries()) if (i % 3 === 0) w.forget(k);
    });
    const back = BuildLog.load(again, new MemoryMarkerStorage());
    assert.deepEqual(
      [...back.records.keys()],
      ODD_KEYS.filter((_, i) => i % 3 !== 0),
    );
    for (const [i, k] of ODD_KEYS.entries()) if (i % 3 !== 0) assert.deepEqual(back.records.get(k), record(k, i % 2 === 0 ? 100 + i : i));
  });

  test('a line not laid out as our encoder lays it out is parsed whole at load, and means what it says', () => {
    const rec = record('odd');
    const json = JSON.stringify({ t: 'D', k: 'odd', s: [rec.signature.command, rec.signature.inputs, rec.signature.outputs, rec.signature.params, rec.signature.env], i: [], o: [] });
    const reordered = JSON.stringify({ k: 'other', t: 'D', s: [1, 2, 3, [], []], i: [], o: [] });
    const escaped = json.replace('"k":"odd"', '"k":"\\u006fdd"');
    const mem = new MemoryLogStorage();
    mem.text = [HEADER, line(reordered), line(escaped), ''].join('\n');
    const { value: log, count } = parses(() => BuildLog.load(mem, new MemoryMarkerStorage()));
    assert.deepEqual(log.warnings, []);
    assert.equal(count, 2, 'the reordered line whole; the escaped key as a string literal');
    assert.deepEqual([...log.records.keys()], ['other', 'odd']);
    assert.deepEqual(log.records.get('other')!.signature, { command: 1, inputs: 2, outputs: 3, params: [], env: [] });
    assert.equal(log.records.get('odd')!.key, 'odd');
  });

  test('a damaged line anywhere, undecoded records or not, means no record is trusted; incomplete runs stay incomplete', () => {
    const mem = written((log) => {
      for (let i = 0; i < 20; i++) log.done(record(`job${i}`, i));
      log.started('running', ['out/running']);
      log.done({ ...record('drops'), dropped: ['x'] });
      log.rememberTree('dir', new Map([['dir/x', info(1)]]));
    });
    const whole = linesOf(mem.text);
    const damages: [string, (l: string) => string][] = [
      ['a flipped CRC digit', (l) => (l[0] === '0' ? '1' : '0') + l.slice(1)],
      ['a changed byte in the JSON', (l) => l.slice(0, -3) + (l.at(-3) === '1' ? '2' : '1') + l.slice(-2)],
      ['a line cut short, newline kept', (l) => l.slice(0, l.length >> 1)],
      ['a right CRC over text that is not JSON', () => line('{"t":"S","k":')],
      ['a right CRC over JSON that is no record', () => line('{"t":"Q","k":"job1"}')],
    ];
    for (let at = 1; at < whole.length; at++) {
      for (const [what, damage] of damages) {
        const lines = [...whole];
        lines[at] = damage(lines[at]!);
        const storage = new MemoryLogStorage();
        storage.text = lines.join('\n') + '\n';
        const where = `${what} on line ${at}`;
        const log = BuildLog.load(storage, new MemoryMarkerStorage());
        assert.equal(log.records.size, 0, where);
        assert.equal(log.records.get('job0'), undefined, where);
        assert.deepEqual([...log.droppedKeys], [], where);
        assert.equal(log.knownFile('dir/x'), undefined, where);
        assert.match(log.warnings.join('\n'), /is damaged \(1 unreadable record\)/, where);
        if (!whole[at]!.includes('"k":"running"')) assert.ok(log.isIncomplete('running'), where);
      }
    }
  });

  test('a CRC not written as 8 lowercase hex digits is damage, even when it has the right value', () => {
    // A D line whose CRC starts with 0 and has a letter in it.
    let json = '';
    let crc = '';
    for (let n = 0; !(crc.startsWith('0') && /[a-f]/.test(crc)); n++) {
      json = JSON.stringify({ t: 'D', k: `k${n}`, s: [1, 2, 3, [], []], i: [], o: [] });
      crc = crc32(json).toString(16).padStart(8, '0');
    }
    for (const written of [crc.toUpperCase(), `+${crc.slice(1)}`, ` ${crc.slice(1)}`, `0x${crc.slice(2)}`]) {
      const mem = new MemoryLogStorage();
      mem.text = [HEADER, line(JSON.stringify({ t: 'X', k: 'z' })), `${written} ${json}`, ''].join('\n');
      const log = BuildLog.load(mem, new MemoryMarkerStorage());
      assert.equal(log.records.size, 0, written);
      assert.match(log.warnings.join('\n'), /is damaged \(1 unreadable record\)/, written);
    }
    const mem = new MemoryLogStorage();
    mem.text = [HEADER, `${crc} ${json}`, ''].join('\n');
    assert.equal(BuildLog.load(mem, new MemoryMarkerStorage()).records.size, 1, 'as written, it is read');
  });

  test('a D line after an X of the same key is the record again; an X after a D forgets it', () => {
    const mem = written((log) => {
      log.done(record('a', 1));
      log.done(record('b', 1));
      log.forget('a');
      log.done(record('a', 2));
      log.forget('b');
    });
    const log = BuildLog.load(mem, new MemoryMarkerStorage());
    assert.deepEqual([...log.records.keys()], ['a']);
    assert.deepEqual(log.records.get('a'), record('a', 2));
    assert.equal(log.records.get('b'), undefined);
  });

  test('dropped inputs stay exact: a later D without them clears the key, a later D with them sets it', () => {
    const clears = written((log) => {
      log.done({ ...record('a', 1), dropped: ['n.txt'] });
      log.done(record('a', 2));
    });
    const cleared = BuildLog.load(clears, new MemoryMarkerStorage());
    assert.deepEqual([...cleared.droppedKeys], []);
    assert.equal(cleared.records.get('a')!.dropped, undefined);

    const sets = written((log) => {
      log.done(record('a', 1));
      log.done({ ...record('a', 2), dropped: ['n.txt'] });
      log.done(record('b', 1));
    });
    const set = BuildLog.load(sets, new MemoryMarkerStorage());
    assert.deepEqual([...set.droppedKeys], ['a']);
    assert.deepEqual(set.records.get('a')!.dropped, ['n.txt']);

    // Its version changes with what it holds, so caches of it are dropped.
    const v = set.droppedVersion;
    set.done(record('a', 3));
    assert.deepEqual([...set.droppedKeys], []);
    assert.notEqual(set.droppedVersion, v);
  });
});

describe('BuildLog: recompaction writes an undecoded record back as its line', () => {
  /** A log of odd keys, with depfile deps, logs, table rows and trees, each record superseded many times: worth recompacting. */
  function history(): MemoryLogStorage {
    const mem = new MemoryLogStorage();
    const log = BuildLog.load(mem, new MemoryMarkerStorage());
    {
      log.rememberTree('data', new Map([['data/a', info(1)], ['data/b', info(2)]]));
      // A tree no record names as an input or output: only as a dependency, a param's name, a key.
      log.rememberTree('alpha', new Map([['alpha/x', info(3)]]));
      log.rememberTree('dep-only', new Map([['dep-only/y', info(4)]]));
      log.rememberTree('a"q\\uote', new Map([['a"q\\uote/z', info(5)]]));
      for (let v = 0; v < 100; v++) {
        for (const [i, k] of ODD_KEYS.entries()) {
          const r = record(k, v, i % 2 === 0 ? { log: `logs/${k}.log` } : {});
          if (i === 1) r.inputs.set('data', info(9));
          if (i === 2) r.deps = new Map([['dep-only', info(10)]]);
          if (i === 3) r.signature.tables = [['samples', 42]];
          if (i === 4) r.outputs.set('a"q\\uote', info(11));
          log.done(r);
        }
      }
    }
    // Not closed: closing would recompact it.
    return mem;
  }

  /** Loads `text` (with a cut last line, which makes the log be rewritten), decodes `decode` of its records, closes it: the text rewritten. */
  function recompacted(text: string, decode: (log: BuildLog) => void): string {
    const mem = new MemoryLogStorage();
    mem.text = text + '12345678 {"t":"D"';
    const log = BuildLog.load(mem, new MemoryMarkerStorage());
    decode(log);
    log.close();
    return mem.text;
  }

  test('byte for byte what the decoded records write, and the trees live records name, undecoded or not', () => {
    const text = history().text;
    const none = recompacted(text, () => {});
    const all = recompacted(text, (log) => [...log.records.values()]);
    const some = recompacted(text, (log) => log.records.get(ODD_KEYS[3]!));
    assert.equal(none, all);
    assert.equal(some, all);
    const lines = linesOf(none);
    assert.equal(lines[0], HEADER);
    assert.deepEqual(
      lines.filter((l) => l.includes('"t":"T"')).map((l) => JSON.parse(l.slice(9)).k),
      ['data', 'a"q\\uote'],
      'trees named by an input or an output only',
    );
    assert.equal(lines.length, 1 + 2 + ODD_KEYS.length);
    // Each record line is the last one the log held for its key, as written.
    const last = new Map<string, string>();
    for (const l of linesOf(text)) if (l.includes('"t":"D"')) last.set(JSON.parse(l.slice(9)).k, l);
    assert.deepEqual(lines.slice(3), [...last.values()]);
    // And the rewritten log means the same.
    const back = BuildLog.load(Object.assign(new MemoryLogStorage(), { text: none }), new MemoryMarkerStorage());
    assert.deepEqual(back.warnings, []);
    const before = BuildLog.load(Object.assign(new MemoryLogStorage(), { text }), new MemoryMarkerStorage());
    assert.deepEqual(new Map(back.records), new Map(before.records));
  });

  test('a recompaction when closing decodes only the records that name a directory with a tree as an input or output', () => {
    const mem = history();
    const log = BuildLog.load(mem, new MemoryMarkerStorage());
    const before = mem.text.length;
    log.close();
    assert.ok(mem.text.length < before / 10, 'recompacted');
    // A decoded record teaches the hash cache its files: that tells which were decoded.
    const decoded = ODD_KEYS.filter((k) => log.knownFile(`raw/${k}_in0.fits`) !== undefined);
    assert.deepEqual(decoded, [ODD_KEYS[1], ODD_KEYS[4]]);
  });
});

describe('BuildLog.loadTail: the part appended since a point, the rest fetched by key', () => {
  /** A log on disk written in two sessions; `from` is where the second began. */
  function twoSessions(t: { after(fn: () => void): void }, second: (log: BuildLog) => void): { storage: FileLogStorage; from: number; earlier: Map<string, string> } {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-log-tail-'));
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const first = BuildLog.load(new FileLogStorage(root));
    for (const k of ['a', 'b', 'd']) first.done(record(k, 1));
    first.close();
    const text = fs.readFileSync(logPath(root), 'utf8');
    // What the job index would fetch: each record's line from before, by key.
    const earlier = new Map(linesOf(text).slice(1).map((l) => [JSON.parse(l.slice(9)).k as string, l]));
    const log = BuildLog.load(new FileLogStorage(root));
    second(log);
    log.close();
    return { storage: new FileLogStorage(root), from: Buffer.byteLength(text), earlier };
  }

  test('records appended later win, are decoded when first asked for, and an X line forgets', (t) => {
    const { storage, from, earlier } = twoSessions(t, (log) => {
      log.done(record('a', 2));
      log.forget('b');
      log.done(record('c', 2));
    });
    const fetched: string[] = [];
    const { value: tail, count } = parses(() =>
      BuildLog.loadTail(storage, from, [], (k) => {
        fetched.push(k);
        return earlier.get(k);
      }),
    );
    assert.ok(tail !== undefined);
    assert.equal(count, 1, 'only the X line is parsed at load');
    assert.deepEqual(tail.records.get('a'), record('a', 2));
    assert.deepEqual(tail.records.get('c'), record('c', 2));
    assert.equal(tail.records.get('b'), undefined, 'forgotten in the tail, not fetched back');
    assert.deepEqual(tail.records.get('d'), record('d', 1), 'from before the tail: fetched');
    assert.equal(tail.records.get('e'), undefined);
    assert.deepEqual(fetched.sort(), ['d', 'e']);
  });

  test('a damaged line or a cut last line in the tail: no tail log (the caller loads the whole log)', (t) => {
    const { storage, from, earlier } = twoSessions(t, (log) => log.done(record('a', 2)));
    const file = logPath(storage.root);
    const whole = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, whole.slice(0, -20) + 'x'.repeat(19) + '\n');
    assert.equal(BuildLog.loadTail(storage, from, [], (k) => earlier.get(k)), undefined);
    fs.writeFileSync(file, whole.slice(0, -1));
    assert.equal(BuildLog.loadTail(storage, from, [], (k) => earlier.get(k)), undefined);
    fs.writeFileSync(file, whole);
    assert.deepEqual(BuildLog.loadTail(storage, from, [], (k) => earlier.get(k))?.records.get('a'), record('a', 2));
  });
});
