// Runs the CLI named by the first argument in this very process and, at exit,
// writes its peak resident memory (KiB) to file descriptor 3: a child's peak
// memory is otherwise not reported to the process that spawned it.

import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [cli, ...args] = process.argv.slice(2);
process.argv = [process.argv[0]!, cli!, ...args];
process.on('exit', () => {
  try {
    writeSync(3, String(process.resourceUsage().maxRSS));
  } catch {
    // No descriptor 3: run by hand.
  }
});
await import(pathToFileURL(cli!).href);
