// A job that prints far more than anyone reads: rules keeps the last MiB,
// writes the whole output under .rules/output/, and its memory stays bounded,
// whether jobs start in-process or through helper processes (32+ jobs).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { project, show, within, yaml, type AsyncRun, type RunResult } from './helpers.js';

const PRINTED = 100_000_000;
const LAST = 'the last line: é€😀';
/** Prints PRINTED bytes of x, then LAST; fails while the file `fail` exists. */
const LOUD = `head -c ${PRINTED} /dev/zero | tr '\\0' x; printf '\\n%s\\n' '${LAST}'; if [ -e fail ]; then exit 1; fi; echo ok > {output}`;
const TOTAL = PRINTED + Buffer.byteLength(`\n${LAST}\n`);
const TAIL = 1024 * 1024;
/**
 * About 60 MiB is rules itself, 95 once it has streamed the output through;
 * holding the whole output cost about 480 MiB for 60 MB before it was bounded.
 */
const RSS_BOUND_MIB = 160;

/** The high-water mark of a process's resident memory (VmHWM), in MiB; undefined once it is gone. */
function hwmMiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The node processes rules started (its helper processes). */
function helperPids(pid: number): number[] {
  try {
    const kids = fs.readdirSync(`/proc/${pid}/task`).flatMap((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' '));
    return kids.filter((k) => k.trim() !== '' && fs.readFileSync(`/proc/${k.trim()}/cmdline`, 'utf8').includes('spawner-process')).map(Number);
  } catch {
    return [];
  }
}

/** Runs to the end, sampling the peak memory of rules and its helpers until it exits (VmHWM only grows). */
async function measured(run: AsyncRun): Promise<{ r: RunResult; rules: number; helpers: number[] }> {
  const pid = run.child.pid!;
  let rules = 0;
  const helpers = new Map<number, number>();
  const sample = () => {
    rules = Math.max(rules, hwmMiB(pid) ?? 0);
    for (const h of helperPids(pid)) helpers.set(h, Math.max(helpers.get(h) ?? 0, hwmMiB(h) ?? 0));
  };
  const timer = setInterval(sample, 20);
  sample();
  try {
    const r = await within(run.done, 60_000, 'the build to end');
    return { r, rules, helpers: [...helpers.values()] };
  } finally {
    clearInterval(timer);
  }
}

/** The note before a cut output, and the spill file it names. */
function spillOf(text: string): string {
  const m = /^\[\.\.\. ([\d.]+) MB of output cut; the whole output is in (\.rules\/output\/[^\]]+)\]$/m.exec(text);
  assert.ok(m, `a note on the cut output in:\n${text.slice(0, 2000)}`);
  assert.equal(m[1], ((TOTAL - TAIL) / 1e6).toFixed(1));
  return m[2]!;
}

describe('a job printing 100 MB', () => {
  test('in-process: memory stays bounded, the failure shows the tail and names the whole output; a success too', async (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  loud:', '    outputs: loud.txt', `    run: ${JSON.stringify(LOUD)}`, '  quiet:', '    outputs: quiet.txt', '    run: echo quiet > {output}'),
      fail: '',
    });
    const { r, rules } = await measured(p.start(['build', 'loud']));
    assert.equal(r.status, 1, show({ ...r, stderr: r.stderr.slice(0, 2000) }));
    assert.ok(rules > 0 && rules < RSS_BOUND_MIB, `rules peaked at ${rules.toFixed(1)} MiB`);
    assert.ok(r.stderr.length < TAIL + 4096, `the report holds the tail only (${r.stderr.length} chars)`);
    assert.match(r.stderr, new RegExp(`^x+\\n${LAST}\\n`, 'm'));
    const spill = spillOf(r.stderr);
    assert.equal(fs.statSync(p.path(spill)).size, TOTAL);
    assert.ok(fs.readFileSync(p.path(spill)).subarray(-TAIL).toString().endsWith(`${LAST}\n`));

    // A job that succeeds says the same on stdout; its whole output is kept as well.
    fs.rmSync(p.path('fail'));
    const ok = await measured(p.start(['build', 'loud']));
    assert.equal(ok.r.status, 0, show({ ...ok.r, stdout: ok.r.stdout.slice(0, 2000) }));
    assert.equal(fs.statSync(p.path(spillOf(ok.r.stdout))).size, TOTAL);

    // The next build that runs jobs starts without the last one's files.
    const quiet = p.run(['build', 'quiet']);
    assert.equal(quiet.status, 0, show(quiet));
    assert.equal(p.exists('.rules/output'), false);
  });

  test('through helper processes (a build of 40 jobs): rules and its helpers stay bounded', async (t) => {
    const ids = Array.from({ length: 39 }, (_, i) => i);
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  all:',
        '    inputs:',
        '      - loud.txt',
        '      - expand: "out/{i}.txt"',
        `        i: [${ids.join(', ')}]`,
        '  loud:',
        '    outputs: loud.txt',
        `    run: ${JSON.stringify(LOUD)}`,
        '  make:',
        '    outputs: "out/{i}.txt"',
        '    run: echo {i} > {output}',
      ),
      fail: '',
    });
    const { r, rules, helpers } = await measured(p.start(['build', '-j2', '-k']));
    assert.equal(r.status, 1, show({ ...r, stderr: r.stderr.slice(0, 2000) }));
    assert.ok(helpers.length >= 1, 'the jobs were started by helper processes');
    assert.ok(rules > 0 && rules < RSS_BOUND_MIB, `rules peaked at ${rules.toFixed(1)} MiB`);
    for (const h of helpers) assert.ok(h < RSS_BOUND_MIB, `a helper peaked at ${h.toFixed(1)} MiB`);
    assert.match(r.stderr, new RegExp(`^FAILED: loud: exit status 1\\n(.*\\n)*\\[\\.\\.\\. .* cut; .*\\]\\nx+\\n${LAST}\\n`, 'm'));
    assert.equal(fs.statSync(p.path(spillOf(r.stderr))).size, TOTAL);
    for (const i of ids) assert.equal(p.read(`out/${i}.txt`), `${i}\n`);
  });
});
