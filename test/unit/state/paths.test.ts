import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventLogPath, rotateEventLog } from '../../../src/state/paths.js';

test('the event log is moved aside once it is larger than the limit, keeping one generation', () => {
  const root = mkdtempSync(join(tmpdir(), 'rules-paths-'));
  try {
    mkdirSync(join(root, '.rules/logs'), { recursive: true });
    rotateEventLog(root, 10);
    writeFileSync(eventLogPath(root), 'small\n');
    rotateEventLog(root, 10);
    assert.equal(readFileSync(eventLogPath(root), 'utf8'), 'small\n', 'under the limit: kept');
    writeFileSync(eventLogPath(root), 'x'.repeat(20));
    rotateEventLog(root, 10);
    assert.equal(existsSync(eventLogPath(root)), false);
    assert.equal(readFileSync(join(root, '.rules/logs/events.1.jsonl'), 'utf8'), 'x'.repeat(20));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
