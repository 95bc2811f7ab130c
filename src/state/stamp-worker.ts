// A thread checking the up-to-date stamp's paths alongside the main thread
// (see stamp-check.ts): it waits for its task, takes chunks of paths until
// none are left, answers, and ends.

import { parentPort } from 'node:worker_threads';
import { checkChunks, type CheckTask } from './stamp-check.js';

parentPort!.once('message', (task: CheckTask) => {
  let ok = false;
  try {
    ok = checkChunks(task);
  } catch {
    Atomics.store(task.control, 1, 1);
  }
  parentPort!.postMessage(ok);
});
