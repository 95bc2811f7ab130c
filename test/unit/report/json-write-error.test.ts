import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const JSON_REPORTER = fileURLToPath(new URL('../../../src/report/json.js', import.meta.url));

describe('the JSON reporter on a destination that fails every write', () => {
  test('hands the error on, never throws, and closes without retrying for ever', () => {
    // /dev/full fails every write (ENOSPC), as a closed stderr does (EPIPE). Run apart: a close
    // that retried for ever would hang this process.
    const script = `
      import { openSync } from 'node:fs';
      const { JsonReporter } = await import(${JSON.stringify(JSON_REPORTER)});
      const codes = [];
      const r = JsonReporter.toDescriptor(openSync('/dev/full', 'w'), {}, (e) => codes.push(e.code));
      r.emit({ type: 'build-start', total: 1, upToDate: 0 });
      r.emit({ type: 'watch-idle', files: 1, dirs: 1 });
      r.close();
      console.log(JSON.stringify(codes));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.signal, null, `the reporter hung: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    const codes = JSON.parse(r.stdout) as string[];
    assert.ok(codes.length > 0 && codes.every((c) => c === 'ENOSPC'), r.stdout);
  });
});
