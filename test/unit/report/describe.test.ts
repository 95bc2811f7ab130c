// A job's description with its wildcards filled in.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeJob } from '../../../src/report/describe.js';

test('{NAME} and {wildcards.NAME} take the job\'s values; braces and other placeholders stay', () => {
  const job = (description: string | undefined) => ({ rule: description === undefined ? {} : { description }, wildcards: { frame: 'f2', band: 'r' } });
  assert.equal(describeJob(job('Calibrate {frame} in {wildcards.band}')), 'Calibrate f2 in r');
  assert.equal(describeJob(job('{{literal}} {other} {config.x}')), '{literal} {other} {config.x}');
  assert.equal(describeJob(job('plain')), 'plain');
  assert.equal(describeJob(job(undefined)), undefined);
});
