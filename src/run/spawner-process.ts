// A helper process that starts jobs for the scheduler (see launch.ts). It is
// small, so its forks are cheap. It exits when the scheduler disconnects.

import { startProcess, type FromSpawner, type ToSpawner } from './launch.js';

function send(m: FromSpawner): void {
  process.send?.(m);
}

// A plain copy of the environment, taken once: handing `process.env` itself to
// spawn() costs a getenv() per variable per job.
const baseEnv: NodeJS.ProcessEnv = { ...process.env };

process.on('message', (m: ToSpawner) => {
  const { id, ...req } = m;
  const { child, result } = startProcess(req, baseEnv);
  send({ id, pid: child.pid });
  void result.then((r) => send({ id, ...r }));
});

// Ctrl-C reaches the whole foreground process group, this helper included: the
// scheduler decides what happens to the jobs, and this helper leaves when it disconnects.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
process.on('disconnect', () => process.exit(0));
