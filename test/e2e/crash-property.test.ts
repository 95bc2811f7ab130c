// Property: a crash followed by damage to the build log never leaves a
// half-written output looking fresh. `rules build` is SIGKILLed (and its jobs
// with it, as in a machine crash) at a random instant while jobs write their
// outputs slowly in pieces; then the log is damaged (a torn last line, whole
// last lines lost, the last S record garbled, the header garbled, or bytes
// flipped). The next build must make every output equal to what a
// from-scratch build makes, and the build after it must do nothing.
//
// Each run picks a base seed and prints it; RULES_CRASH_SEED=N replays one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { killOrphans, project, show, waitFor, within, type Project } from './helpers.js';
import { rng } from '../support/rng.js';

const TRIALS = 12;
/** Trials per random DAG: its from-scratch build is made once. */
const PER_DAG = 3;

interface Dag {
  rulefile: string;
  sources: Record<string, string>;
  outputs: string[];
}

/** A random DAG of jobs that each append four pieces to their output, slowly, then their inputs. */
function randomDag(r: () => number): Dag {
  const pick = (n: number) => Math.floor(r() * n);
  const sources: Record<string, string> = {};
  for (let i = 0; i < 2 + pick(2); i++) sources[`s${i}.txt`] = `source ${i}\n`;
  const outputs: string[] = [];
  let rulefile = 'rules:\n  all:\n    inputs: [ALL]\n';
  const n = 4 + pick(3);
  for (let i = 0; i < n; i++) {
    const pool = [...Object.keys(sources), ...outputs];
    const inputs = pool.filter(() => r() < 0.35);
    if (inputs.length === 0) inputs.push(pool[pick(pool.length)]!);
    const out = `out/o${i}.txt`;
    rulefile +=
      `  r${i}:\n    inputs: [${inputs.join(', ')}]\n    outputs: ${out}\n` +
      `    run: 'echo r${i} >> started.log; for k in 1 2 3 4; do echo "r${i} piece $k" >> {output}; sleep 0.02; done; cat {inputs} >> {output}'\n`;
    outputs.push(out);
  }
  return { rulefile: rulefile.replace('ALL', outputs.join(', ')), sources, outputs };
}

/** Whether the k-th job to start has written at least m pieces of its output. */
function jobWrote(p: Project, k: number, m: number): boolean {
  const started = p.lines('started.log');
  if (started.length < k) return false;
  try {
    // Being written meanwhile: it may not exist yet, or be removed between two calls.
    return fs.readFileSync(p.path(`out/o${started[k - 1]!.slice(1)}.txt`), 'utf8').split('\n').length - 1 >= m;
  } catch {
    return false;
  }
}

const DAMAGES = ['torn last line', 'last lines lost', 'last S record garbled', 'header garbled', 'bytes flipped'] as const;
type Damage = (typeof DAMAGES)[number];

/** Damages the log as `kind` says; returns what was done, for messages. */
function damageLog(path: string, kind: Damage, r: () => number): string {
  if (!fs.existsSync(path)) return 'no log to damage';
  const buf = fs.readFileSync(path);
  if (buf.length === 0) return 'empty log';
  // Where each line starts (a line ends with its newline).
  const starts = [0];
  for (let i = 0; i < buf.length; i++) if (buf[i] === 10 && i + 1 < buf.length) starts.push(i + 1);
  const pick = (n: number) => Math.floor(r() * n);
  const garble = (from: number, to: number) => {
    const at = from + pick(to - from);
    buf[at] = buf[at] === 0x23 ? 0x24 : 0x23;
    return at;
  };
  switch (kind) {
    case 'torn last line': {
      const last = starts[starts.length - 1]!;
      const cut = last + 1 + pick(Math.max(1, buf.length - last - 2));
      fs.truncateSync(path, Math.min(cut, buf.length - 1));
      return `cut at byte ${cut} of ${buf.length}`;
    }
    case 'last lines lost': {
      const n = Math.min(1 + pick(3), starts.length - 1);
      if (n === 0) return 'only a header';
      fs.truncateSync(path, starts[starts.length - n]!);
      return `${n} last lines lost`;
    }
    case 'last S record garbled': {
      const text = buf.toString('latin1');
      let line = -1;
      for (let k = starts.length - 1; k >= 1 && line < 0; k--) if (text.startsWith('{"t":"S"', starts[k]! + 9)) line = k;
      if (line < 0) line = starts.length - 1;
      const end = line + 1 < starts.length ? starts[line + 1]! - 1 : buf.length - 1;
      const at = garble(starts[line]! + 9, Math.max(starts[line]! + 10, end));
      fs.writeFileSync(path, buf);
      return `line ${line + 1} garbled at byte ${at}`;
    }
    case 'header garbled':
      buf.write('XXXX', 0, 'latin1');
      fs.writeFileSync(path, buf);
      return 'header garbled';
    case 'bytes flipped': {
      const at = [0, 1, 2].map(() => garble(0, buf.length));
      fs.writeFileSync(path, buf);
      return `bytes flipped at ${at.join(', ')}`;
    }
  }
}

test('SIGKILL at a random instant, then damage to the build log: the next build makes what a from-scratch build makes', async (t) => {
  const base = process.env.RULES_CRASH_SEED ? Number(process.env.RULES_CRASH_SEED) : Math.floor(Math.random() * 1e9);
  t.diagnostic(`base seed ${base} (replay with RULES_CRASH_SEED=${base})`);
  let killedMidBuild = 0;
  let partialSeen = 0;
  let ref: Project | undefined;
  for (let trial = 0; trial < TRIALS; trial++) {
    const seed = base + trial;
    const r = rng(seed);
    const kind = DAMAGES[trial % DAMAGES.length]!;
    const dag = randomDag(rng(base - Math.floor(trial / PER_DAG)));
    if (trial % PER_DAG === 0) {
      ref = project(t, { Rulefile: dag.rulefile, ...dag.sources });
      const scratch = ref.run(['build', '-j2']);
      assert.equal(scratch.status, 0, show(scratch));
    }
    const files = { Rulefile: dag.rulefile, ...dag.sources };
    const p = project(t, files);
    // When to kill: once the k-th job has started and written m of its pieces (or the build ended).
    const k = 1 + Math.floor(r() * dag.outputs.length);
    const m = Math.floor(r() * 5);
    const run = p.start(['build', '-j2']);
    let exited = false;
    void run.done.then(() => (exited = true));
    await waitFor(() => exited || jobWrote(p, k, m), `seed ${seed}: job ${k} to write ${m} pieces`, 20_000);
    run.child.kill('SIGKILL');
    const killed = await within(run.done, 10_000, 'rules to die');
    await killOrphans(p);
    if (killed.signal === 'SIGKILL') killedMidBuild++;
    if (dag.outputs.some((o) => p.exists(o) && p.read(o) !== ref!.read(o))) partialSeen++;

    const did = damageLog(p.path('.rules/log'), kind, r);
    const context = `seed ${seed} (base ${base}), killed after job ${k} wrote ${m} pieces, ${kind}: ${did}`;

    const again = p.run(['build', '-j2']);
    assert.equal(again.status, 0, `${context}\n${show(again)}`);
    assert.doesNotMatch(again.stderr, /internal error/, context);
    for (const out of dag.outputs) assert.equal(p.read(out), ref!.read(out), `${context}: ${out} differs from a from-scratch build`);

    const before = p.lines('started.log').length;
    const last = p.run(['build', '-j2']);
    assert.equal(last.status, 0, `${context}\n${show(last)}`);
    assert.match(last.stdout, /nothing to do/, `${context}: the build after the repair does nothing\n${show(last)}`);
    assert.equal(p.lines('started.log').length, before, `${context}: no job ran`);
    assert.equal(last.stderr, '', `${context}: no warning once repaired\n${show(last)}`);
  }
  t.diagnostic(`${killedMidBuild} builds killed while running, ${partialSeen} left an output unlike the from-scratch one`);
  // The property is only shown if builds were really cut off with outputs half-written.
  assert.ok(killedMidBuild >= TRIALS / 2, `only ${killedMidBuild} of ${TRIALS} builds were killed while running (base seed ${base})`);
  assert.ok(partialSeen >= 3, `only ${partialSeen} of ${TRIALS} kills left an output unlike the from-scratch one (base seed ${base})`);
});
