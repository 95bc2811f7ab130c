import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { BuildLog, FileLogStorage, MemoryLogStorage } from '../../../src/state/log.js';
import { logPath } from '../../../src/state/paths.js';
import { backends, FileBackend, HEADER, info, linesOf, record, type Backend } from './helpers.js';

function withBackend(make: () => Backend, body: (b: Backend) => void): () => void {
  return () => {
    const b = make();
    try {
      body(b);
    } finally {
      b.cleanup();
    }
  };
}

function snapshot(log: BuildLog) {
  return { records: new Map(log.records), incomplete: new Map(log.incomplete) };
}

for (const { name, make } of backends) {
  describe(`BuildLog on ${name}`, () => {
    test(
      'an absent log has no records, no warnings, and load/close writes nothing',
      withBackend(make, (b) => {
        const log = BuildLog.load(b.storage());
        assert.equal(log.records.size, 0);
        assert.equal(log.incomplete.size, 0);
        assert.deepEqual(log.warnings, []);
        log.close();
        assert.equal(b.exists(), false, 'a build that records nothing leaves no log');
      }),
    );

    test(
      'round trip: signature, input/output infos with float mtimes, log path',
      withBackend(make, (b) => {
        const log = BuildLog.load(b.storage());
        const a = record('calibrate[frame=f1]', 1, { log: 'logs/calibrate_f1.log' });
        const c = record('stack', 2, { nIn: 5, nOut: 3 });
        const e = record('empty', 3, { nIn: 0, nOut: 0 });
        const u = record('uni ☃ "quoted"\\path\nnewline', 4);
        for (const r of [a, c, e, u]) {
          log.started(r.key, [...r.outputs.keys()], r.log);
          log.done(r);
        }
        log.close();

        const back = BuildLog.load(b.storage());
        assert.deepEqual(back.warnings, []);
        assert.equal(back.incomplete.size, 0);
        assert.deepEqual([...back.records.keys()], [a.key, c.key, e.key, u.key]);
        assert.deepEqual(back.records.get(a.key), a);
        assert.deepEqual(back.records.get(c.key), c);
        assert.deepEqual(back.records.get(e.key), e);
        assert.deepEqual(back.records.get(u.key), u);
        assert.equal(back.records.get(a.key)!.log, 'logs/calibrate_f1.log');
        assert.equal('log' in back.records.get(c.key)!, false, 'no log property when none was given');
        // Float mtimes survive exactly.
        const [p, fi] = [...a.inputs][0]!;
        assert.equal(back.records.get(a.key)!.inputs.get(p)!.mtimeMs, fi.mtimeMs);
        assert.notEqual(fi.mtimeMs % 1, 0);
        // The hash cache is rebuilt from the records.
        assert.deepEqual(back.knownFile(p), fi);
        for (const [op, oi] of c.outputs) assert.deepEqual(back.knownFile(op), oi);
        assert.equal(back.knownFile('never/seen'), undefined);
        back.close();
      }),
    );

    test(
      'S then D is complete; S alone is incomplete with its outputs and log',
      withBackend(make, (b) => {
        const log = BuildLog.load(b.storage());
        log.started('ok', ['out/ok.txt']);
        log.done(record('ok'));
        log.started('running', ['out/r1.txt', 'out/r2.txt'], 'logs/r.log');
        log.started('running2', ['out/r3.txt']);
        // State in the live object, too.
        assert.equal(log.incomplete.has('ok'), false);
        assert.ok(log.records.has('ok'));
        assert.deepEqual(log.incomplete.get('running'), { outputs: ['out/r1.txt', 'out/r2.txt'], log: 'logs/r.log' });
        log.close();

        const back = BuildLog.load(b.storage());
        assert.deepEqual(back.warnings, []);
        assert.deepEqual(back.records.get('ok'), record('ok'));
        assert.equal(back.incomplete.has('ok'), false);
        assert.equal(back.records.has('running'), false);
        assert.deepEqual(back.incomplete.get('running'), { outputs: ['out/r1.txt', 'out/r2.txt'], log: 'logs/r.log' });
        assert.deepEqual(back.incomplete.get('running2'), { outputs: ['out/r3.txt'] });
      }),
    );

    test(
      'D then S (a rerun that never finished) is incomplete; a later D completes it again',
      withBackend(make, (b) => {
        const log = BuildLog.load(b.storage());
        log.started('j', ['o']);
        log.done(record('j', 1));
        log.started('j', ['o']);
        log.close();

        const back = BuildLog.load(b.storage());
        assert.deepEqual(back.warnings, []);
        assert.ok(back.incomplete.has('j'), 'the interrupted rerun is incomplete');
        back.done(record('j', 2));
        back.close();

        const again = BuildLog.load(b.storage());
        assert.equal(again.incomplete.has('j'), false);
        assert.deepEqual(again.records.get('j'), record('j', 2));
      }),
    );

    test(
      'X forgets a record and an incomplete run; forgetting an unknown key writes nothing',
      withBackend(make, (b) => {
        const log = BuildLog.load(b.storage());
        log.done(record('a'));
        log.done(record('b'));
        log.started('c', ['oc']);
        log.forget('a');
        log.forget('c');
        assert.equal(log.records.has('a'), false);
        assert.equal(log.incomplete.has('c'), false);
        const before = b.text();
        log.forget('nobody');
        assert.equal(b.text(), before);
        log.close();

        const back = BuildLog.load(b.storage());
        assert.deepEqual(back.warnings, []);
        assert.deepEqual([...back.records.keys()], ['b']);
        assert.equal(back.incomplete.size, 0);
        // Forgotten, then done again: it is back.
        back.done(record('a', 7));
        back.close();
        assert.deepEqual(BuildLog.load(b.storage()).records.get('a'), record('a', 7));
      }),
    );

    test(
      'every line is "CRC32HEX JSON" and the header is the first line',
      withBackend(make, (b) => {
        const log = BuildLog.load(b.storage());
        log.started('a', ['x']);
        log.done(record('a'));
        log.forget('a');
        log.close();
        const lines = linesOf(b.text());
        assert.equal(lines[0], HEADER);
        assert.equal(lines.length, 4);
        for (const l of lines.slice(1)) assert.match(l, /^[0-9a-f]{8} \{.*\}$/);
        assert.ok(b.text().endsWith('\n'));
      }),
    );

    test(
      'the header is written once across several appending sessions',
      withBackend(make, (b) => {
        for (let s = 0; s < 4; s++) {
          const log = BuildLog.load(b.storage());
          assert.deepEqual(log.warnings, []);
          assert.equal(log.records.size, s);
          log.started(`job${s}`, [`o${s}`]);
          log.done(record(`job${s}`, s));
          log.close();
        }
        const text = b.text();
        assert.equal(text.split(HEADER).length - 1, 1, 'exactly one header');
        assert.ok(text.startsWith(HEADER + '\n'));
        assert.equal(linesOf(text).length, 1 + 4 * 2, 'appended, not rewritten');
        const back = BuildLog.load(b.storage());
        for (let s = 0; s < 4; s++) assert.deepEqual(back.records.get(`job${s}`), record(`job${s}`, s));
      }),
    );

    test(
      'a last line without its newline (a write in progress) is ignored without a warning',
      withBackend(make, (b) => {
        const log = BuildLog.load(b.storage());
        log.done(record('a'));
        log.started('b', ['ob']);
        log.close();
        const complete = b.text();
        // The next record, cut before its newline.
        const extra = new MemoryLogStorage();
        BuildLog.load(extra).done(record('b', 9));
        const dLine = extra.text.slice(extra.text.indexOf('\n') + 1); // without the header
        for (const cut of [1, 9, 20, dLine.length - 2, dLine.length - 1]) {
          b.setText(complete + dLine.slice(0, cut));
          const back = BuildLog.load(b.storage());
          assert.deepEqual(back.warnings, [], `cut at ${cut}: no warning`);
          assert.deepEqual(back.records.get('a'), record('a'), `cut at ${cut}: complete records kept`);
          assert.equal(back.records.has('b'), false, `cut at ${cut}: the cut D is not a record`);
          assert.ok(back.incomplete.has('b'), `cut at ${cut}: the job whose D was cut is incomplete`);
        }
      }),
    );

    test(
      'after a cut last line, the next session appends readable records (the tail is not glued to them)',
      withBackend(make, (b) => {
        const log = BuildLog.load(b.storage());
        log.done(record('a'));
        log.close();
        b.setText(b.text() + '1234abcd {"t":"D","k":"b","s":{"comm');
        const next = BuildLog.load(b.storage());
        next.started('c', ['oc']);
        next.done(record('c'));
        next.close();
        const back = BuildLog.load(b.storage());
        assert.deepEqual(back.warnings, []);
        assert.deepEqual(back.records.get('c'), record('c'), 'the new record is readable');
        assert.deepEqual(back.records.get('a'), record('a'), 'the old complete record survives');
        assert.equal(back.records.has('b'), false);
      }),
    );

    test(
      'a cut first write (part of the header) reads as an empty log, without a warning',
      withBackend(make, (b) => {
        for (const cut of [1, 5, HEADER.length]) {
          b.setText(HEADER.slice(0, cut));
          const back = BuildLog.load(b.storage());
          assert.equal(back.records.size, 0);
          assert.deepEqual(back.warnings, [], `header cut at ${cut}`);
        }
      }),
    );

    for (const where of ['JSON', 'CRC'] as const) {
      test(
        `a damaged complete line (a character flipped in the ${where}) → one 'damaged' warning, no finished run trusted; close rewrites`,
        withBackend(make, (b) => {
          const log = BuildLog.load(b.storage());
          log.done(record('a'));
          log.started('b', ['ob']);
          log.done(record('b'));
          log.started('c', ['oc']);
          log.close();
          const lines = linesOf(b.text());
          // Damage the second record line (the S of b).
          const l = lines[2]!;
          const at = where === 'CRC' ? 3 : l.indexOf('"k":"b"') + 5;
          const ch = l[at]!;
          const flipped = ch === '0' ? '1' : ch === 'b' ? 'c' : where === 'CRC' ? (ch === 'f' ? 'e' : '0') : 'x';
          lines[2] = l.slice(0, at) + flipped + l.slice(at + 1);
          assert.notEqual(lines[2], l);
          b.setText(lines.join('\n') + '\n');

          const back = BuildLog.load(b.storage());
          assert.equal(back.warnings.length, 1, back.warnings.join('; '));
          assert.match(back.warnings[0]!, /damaged/);
          assert.equal(back.records.size, 0);
          // c was read as started and never finished: it stays incomplete (that only makes it run).
          assert.deepEqual([...back.incomplete.keys()], ['c']);
          assert.equal(back.knownFile('raw/a_in0.fits'), undefined, 'no hash trusted either');
          back.close();

          const after = BuildLog.load(b.storage());
          assert.deepEqual(after.warnings, [], 'close() rewrote the damaged log');
          assert.equal(after.records.size, 0);
          assert.deepEqual([...after.incomplete.keys()], ['c']);
          assert.ok(b.text().startsWith(HEADER + '\n'));
        }),
      );
    }

    test(
      'a damaged log is rewritten before the next record is appended',
      withBackend(make, (b) => {
        const log = BuildLog.load(b.storage());
        log.done(record('a'));
        log.close();
        const lines = linesOf(b.text());
        lines[1] = lines[1]!.replace('"k":"a"', '"k":"A"');
        b.setText(lines.join('\n') + '\n');
        const back = BuildLog.load(b.storage());
        assert.equal(back.warnings.length, 1);
        back.started('z', ['oz']);
        back.done(record('z'));
        // Even without close(), the log is readable again.
        const mid = BuildLog.load(b.storage());
        assert.deepEqual(mid.warnings, []);
        assert.deepEqual([...mid.records.keys()], ['z']);
        back.close();
      }),
    );

    test(
      'several damaged lines → still exactly one warning',
      withBackend(make, (b) => {
        const log = BuildLog.load(b.storage());
        for (let i = 0; i < 5; i++) log.done(record(`k${i}`));
        log.close();
        const lines = linesOf(b.text());
        lines[1] = 'garbage';
        lines[3] = lines[3]!.slice(0, 30) + lines[3]!.slice(31);
        b.setText(lines.join('\n') + '\n');
        const back = BuildLog.load(b.storage());
        assert.equal(back.warnings.length, 1);
        assert.match(back.warnings[0]!, /damaged \(2 unreadable records\)/);
        assert.equal(back.records.size, 0);
      }),
    );

    test(
      'a line with a valid CRC but an unknown record type is damaged, not applied',
      withBackend(make, (b) => {
        const json = JSON.stringify({ t: 'Q', k: 'a' });
        b.setText(`${HEADER}\n${crc32(json).toString(16).padStart(8, '0')} ${json}\n`);
        const back = BuildLog.load(b.storage());
        assert.equal(back.warnings.length, 1);
        assert.match(back.warnings[0]!, /damaged/);
      }),
    );

    test(
      'a file with a different header → a warning and no records; close rewrites it in this format',
      withBackend(make, (b) => {
        const log = BuildLog.load(b.storage());
        log.done(record('a'));
        log.close();
        for (const header of ['rules-build-log 2', 'something else entirely', '']) {
          b.setText(b.text().replace(/^[^\n]*\n/, header + '\n'));
          const back = BuildLog.load(b.storage());
          assert.equal(back.warnings.length, 1, `header ${JSON.stringify(header)}`);
          assert.match(back.warnings[0]!, /not in a format/);
          assert.equal(back.records.size, 0);
          assert.equal(back.incomplete.size, 0);
        }
        const back = BuildLog.load(b.storage());
        back.close();
        const after = BuildLog.load(b.storage());
        assert.deepEqual(after.warnings, []);
        assert.ok(b.text().startsWith(HEADER + '\n'));
      }),
    );

    test(
      'compaction: 5 keys x 600 D records shrink to header + live records and load back identically',
      withBackend(make, (b) => {
        const log = BuildLog.load(b.storage());
        for (let v = 0; v < 600; v++) {
          for (let k = 0; k < 5; k++) {
            log.started(`key${k}`, [`out/key${k}_0.fits`]);
            log.done(record(`key${k}`, v));
          }
        }
        log.started('inc1', ['out/inc1.fits'], 'logs/inc1.log');
        log.done(record('inc2', 0));
        log.started('inc2', ['out/inc2.fits']); // D then S: incomplete, with a record
        const before = snapshot(log);
        const sizeBefore = b.text().length;
        assert.equal(linesOf(b.text()).length, 1 + 600 * 5 * 2 + 3);
        log.close();

        const lines = linesOf(b.text());
        assert.equal(lines[0], HEADER);
        assert.equal(lines.length, 1 + 6 + 2, 'header + 6 D records + 2 S records');
        assert.ok(b.text().length < sizeBefore / 100, 'the file shrank');
        const back = BuildLog.load(b.storage());
        assert.deepEqual(back.warnings, []);
        assert.deepEqual(snapshot(back), before);
        for (let k = 0; k < 5; k++) assert.deepEqual(back.records.get(`key${k}`), record(`key${k}`, 599));
        assert.deepEqual(back.incomplete.get('inc1'), { outputs: ['out/inc1.fits'], log: 'logs/inc1.log' });
        assert.ok(back.incomplete.has('inc2'), 'incomplete entries survive compaction');
        // Appending after compaction keeps one header and stays readable.
        back.done(record('key0', 1000));
        back.close();
        const again = BuildLog.load(b.storage());
        assert.deepEqual(again.warnings, []);
        assert.deepEqual(again.records.get('key0'), record('key0', 1000));
        assert.equal(b.text().split(HEADER).length - 1, 1);
      }),
    );

    test(
      'compaction across sessions: the count of superseded lines carries over from the loaded file',
      withBackend(make, (b) => {
        for (let s = 0; s < 3; s++) {
          const log = BuildLog.load(b.storage());
          for (let v = 0; v < 400; v++) log.done(record('only', s * 1000 + v));
          log.close();
        }
        // 1200 lines for one live record: compacted by the third close at the latest.
        assert.ok(linesOf(b.text()).length <= 1 + 1 + 400, `${linesOf(b.text()).length} lines`);
        assert.deepEqual(BuildLog.load(b.storage()).records.get('only'), record('only', 2399));
      }),
    );

    test(
      'a small log is not rewritten on close (appends stay appends)',
      withBackend(make, (b) => {
        const log = BuildLog.load(b.storage());
        for (let v = 0; v < 50; v++) log.done(record('a', v));
        log.close();
        assert.equal(linesOf(b.text()).length, 51);
      }),
    );

    test(
      'rememberFile feeds knownFile',
      withBackend(make, (b) => {
        const log = BuildLog.load(b.storage());
        assert.equal(log.knownFile('x'), undefined);
        log.rememberFile('x', info(3));
        assert.deepEqual(log.knownFile('x'), info(3));
        log.rememberFile('x', info(4));
        assert.deepEqual(log.knownFile('x'), info(4));
      }),
    );
  });
}

describe('FileLogStorage', () => {
  test('lives at ROOT/.rules/log; BuildLog.open reads it; .rules/ is created on first append', () => {
    const b = new FileBackend();
    try {
      assert.equal(logPath(b.root), `${b.root}/.rules/log`);
      assert.equal(new FileLogStorage(b.root).path, `${b.root}/.rules/log`);
      const log = BuildLog.open(b.root);
      assert.equal(fs.existsSync(`${b.root}/.rules`), false);
      log.done(record('a'));
      assert.ok(fs.existsSync(`${b.root}/.rules/log`), 'written at once, before close');
      log.close();
      assert.deepEqual(BuildLog.open(b.root).records.get('a'), record('a'));
      assert.equal(fs.existsSync(`${b.root}/.rules/log.tmp`), false);
    } finally {
      b.cleanup();
    }
  });

  test('each record reaches the file when it is written (a kill after it loses nothing)', () => {
    const b = new FileBackend();
    try {
      const log = BuildLog.open(b.root);
      log.started('j', ['o']);
      // Another reader (e.g. the next build after a kill -9) sees it without close().
      assert.ok(BuildLog.open(b.root).incomplete.has('j'));
      log.done(record('j'));
      const other = BuildLog.open(b.root);
      assert.deepEqual(other.records.get('j'), record('j'));
      assert.equal(other.incomplete.has('j'), false);
      log.close();
    } finally {
      b.cleanup();
    }
  });

  test('a rewrite while records are being appended keeps appending to the new file', () => {
    const b = new FileBackend();
    try {
      b.setText('not a log\n');
      const log = BuildLog.open(b.root);
      assert.equal(log.warnings.length, 1);
      log.done(record('a')); // rewrites first, then appends
      log.done(record('b'));
      log.close();
      const back = BuildLog.open(b.root);
      assert.deepEqual(back.warnings, []);
      assert.deepEqual([...back.records.keys()], ['a', 'b']);
    } finally {
      b.cleanup();
    }
  });

  test('an unreadable log → a warning, no records', () => {
    const b = new FileBackend();
    try {
      fs.mkdirSync(b.path, { recursive: true }); // a directory where the file should be: EISDIR
      const log = BuildLog.open(b.root);
      assert.equal(log.warnings.length, 1);
      assert.match(log.warnings[0]!, /cannot read/);
      assert.equal(log.records.size, 0);
    } finally {
      b.cleanup();
    }
  });
});
