// What real jobs used, measured through both launchers and the local
// executor: a job burning CPU and holding 100 MB, alone, as the child of its
// shell, and split between two processes whose memory must be summed.

import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, test, type TestContext } from 'node:test';
import type { Job } from '../../../src/graph/model.js';
import type { JobUsage } from '../../../src/run/executor.js';
import { InProcessLauncher, SpawnerLauncher, type Launcher } from '../../../src/run/launch.js';
import { LocalExecutor } from '../../../src/run/local.js';

/**
 * Holds MB megabytes (every page touched) while it burns 300 ms of CPU and
 * then sleeps a second; prints the CPU its own process used, in ms.
 */
const hog = (mb: number) =>
  `python3 -c 'import resource, time
b = bytearray(${mb} << 20)
for i in range(0, len(b), 4096): b[i] = 1
t = time.process_time()
while time.process_time() - t < 0.3: pass
time.sleep(1)
r = resource.getrusage(resource.RUSAGE_SELF)
print(round((r.ru_utime + r.ru_stime) * 1000))'`;

/** The CPU the Python processes said they used. */
const selfCpu = (output: string) =>
  output
    .trim()
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number)
    .reduce((a, b) => a + b, 0);

/**
 * The CPU of the shell and of the children it waited for, as its `times`
 * prints it at the end of the job (`0m0.004000s 0m0.000000s`, twice): what the
 * kernel counts for the whole tree, Python's exit included.
 */
function shellTimes(output: string): number | undefined {
  const times = [...output.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60_000 + Number(m[2]) * 1000);
  return times.length === 4 ? times.reduce((a, b) => a + b, 0) : undefined;
}

function skipUnlessLinux(t: TestContext): boolean {
  if (process.platform === 'linux') return false;
  t.skip(`usage is read from Linux's /proc; this is ${process.platform}`);
  return true;
}

/**
 * The job's CPU is what its shell's `times` says, to a clock tick or two (the
 * kernel counts in ticks of 10 ms); a job without a shell used at least what
 * Python said before its exit, and some more to free its memory. Its peak
 * memory is at least the 100 MB held at once.
 */
function check(usage: JobUsage | undefined, output: string): void {
  assert.ok(usage, 'the job has a usage');
  const own = selfCpu(output);
  assert.ok(own >= 250, `the Python processes used ${own} ms`);
  assert.equal(usage.source, 'exact', 'a job reaped alone');
  assert.ok(usage.cpuMs !== undefined);
  const shell = shellTimes(output);
  if (shell !== undefined) assert.ok(Math.abs(usage.cpuMs - shell) <= 30, `cpuMs ${usage.cpuMs}, the shell's times said ${shell}`);
  else assert.ok(usage.cpuMs >= own - 20 && usage.cpuMs <= own * 1.5 + 100, `cpuMs ${usage.cpuMs}, the process said ${own}`);
  assert.ok(usage.maxRssKb !== undefined && usage.maxRssKb >= 80 * 1024, `maxRssKb ${usage.maxRssKb}`);
  // The machine's other processes are not counted: nothing here holds a GB.
  assert.ok(usage.maxRssKb < 1024 * 1024, `maxRssKb ${usage.maxRssKb}`);
}

const commands: [string, string][] = [
  ['a job that is the Python process itself', `exec ${hog(100)}`],
  ['a job whose shell runs Python as its child', `${hog(100)}; times`],
  ['a job whose two children hold 50 MB each at once (their memory summed)', `${hog(50)} & ${hog(50)}; wait; times`],
];

for (const [name, make] of [
  ['in-process', () => new InProcessLauncher()],
  ['helper processes', () => new SpawnerLauncher(2)],
] as [string, () => Launcher][]) {
  describe(`usage of real jobs, launched ${name}`, () => {
    for (const [what, command] of commands) {
      test(what, async (t) => {
        if (skipUnlessLinux(t)) return;
        const l = make();
        try {
          const r = await l.launch({ file: '/bin/sh', args: ['-c', command], cwd: tmpdir(), env: {} }).result;
          assert.equal(r.code, 0, r.output);
          check(r.usage, r.output);
        } finally {
          l.close();
        }
      });
    }
  });
}

describe('the local executor', () => {
  test("hands the usage on in the job's outcome", async (t) => {
    if (skipUnlessLinux(t)) return;
    const ex = new LocalExecutor(new SpawnerLauncher(1));
    try {
      const o = await ex.start({ job: {} as Job, command: `${hog(100)}; times`, shell: ['/bin/sh', '-c'], cwd: tmpdir(), env: {} }).done;
      assert.ok(o.ok, o.output);
      check(o.usage, o.output);
    } finally {
      ex.close();
    }
  });
});
