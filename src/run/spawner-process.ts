// A helper process that starts jobs for the scheduler (see launch.ts). It is
// small, so its forks are cheap. It exits when the scheduler disconnects.

import { startProcess, type FromSpawner, type ToSpawner } from './launch.js';

function send(m: FromSpawner): void {
  process.send?.(m);
}

process.on('message', (m: ToSpawner) => {
  const { id, ...req } = m;
  const { child, result } = startProcess(req, process.env);
  send({ id, pid: child.pid });
  void result.then((r) => send({ id, ...r }));
});

process.on('disconnect', () => process.exit(0));
