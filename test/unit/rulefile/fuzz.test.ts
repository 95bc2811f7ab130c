// A few hundred mutated Rulefiles through the loader and the graph builder
// (a share of them through the real CLI): none may end in an internal error,
// take too long or use too much memory. `npm run fuzz` runs thousands.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeCase, fuzz } from '../../support/fuzz.js';

test('300 mutated Rulefiles: user errors at worst', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-fuzz-'));
  const failures: string[] = [];
  try {
    const s = fuzz({ seed: 1, count: 300, cliShare: 0.03, dir: path.join(dir, 'p'), onFailure: (c, o) => failures.push(describeCase(c, o)) });
    assert.equal(s.cases, 300);
    assert.ok(s.cliCases > 0, 'some cases ran through the CLI');
    assert.ok(s.userErrors > 30 && s.userErrors < 300, `mutations give a mix of valid and invalid Rulefiles (${s.userErrors} user errors)`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(failures, []);
});
