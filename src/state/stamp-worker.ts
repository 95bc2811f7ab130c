// A thread checking the up-to-date stamp's paths alongside the main thread
// (see stamp.ts): it takes chunks of paths until none are left.

import { parentPort, workerData } from 'node:worker_threads';
import { checkChunks, type StampHeader } from './stamp.js';

interface Task {
  buffer: SharedArrayBuffer;
  pathsStart: number;
  statsStart: number;
  header: StampHeader;
  root: string;
  control: Int32Array;
  changed?: Int32Array;
}

const t = workerData as Task;
let ok = false;
try {
  ok = checkChunks(t.buffer, t.pathsStart, t.statsStart, t.header, t.root, t.control, t.changed);
} catch {
  Atomics.store(t.control, 1, 1);
}
parentPort!.postMessage(ok);
