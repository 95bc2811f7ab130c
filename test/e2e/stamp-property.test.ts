// Property: whenever the up-to-date stamp answers a build, the full path
// agrees that nothing is stale, and prints the same. Random DAGs of `cat`
// jobs (some of which leave their output dated in the past, so that under
// --check mtime they are never up to date), random edits, touches and
// deletions between builds, through the real CLI, under both --check modes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { project, show, type Project } from './helpers.js';
import { rng } from '../support/rng.js';

function randomRulefile(r: () => number): { text: string; sources: string[]; outputs: string[] } {
  const pick = (n: number) => Math.floor(r() * n);
  const sources = Array.from({ length: 2 + pick(3) }, (_, i) => `s${i}.txt`);
  const outputs: string[] = [];
  let text = 'rules:\n  all:\n    inputs: [ALL]\n';
  const n = 3 + pick(5);
  for (let i = 0; i < n; i++) {
    const pool = [...sources, ...outputs];
    const inputs = pool.filter(() => r() < 0.4);
    if (inputs.length === 0) inputs.push(pool[pick(pool.length)]!);
    const out = `o${i}.txt`;
    const past = r() < 0.15 ? '; touch -d @1000000000 {output}' : '';
    text += `  r${i}:\n    inputs: [${inputs.join(', ')}]\n    outputs: ${out}\n    run: cat {input} > {output}${past}\n`;
    outputs.push(out);
  }
  return { text: text.replace('ALL', outputs.join(', ')), sources, outputs };
}

/** The dry run of the full path: the stamp moved aside, then put back. */
function fullDryRun(p: Project, check: string): string {
  const stamp = p.path('.rules/uptodate');
  const aside = `${stamp}.aside`;
  fs.renameSync(stamp, aside);
  try {
    const r = p.run(['build', '-n', '--check', check]);
    assert.equal(r.status, 0, show(r));
    return r.stdout;
  } finally {
    fs.renameSync(aside, stamp);
  }
}

test('when the stamp answers, the full path finds nothing stale and prints the same', (t) => {
  let answered = 0;
  for (let seed = 1; seed <= 10; seed++) {
    const check = seed % 2 === 0 ? 'hash' : 'mtime';
    const r = rng(seed);
    const dag = randomRulefile(r);
    const p = project(t, { Rulefile: dag.text, ...Object.fromEntries(dag.sources.map((s) => [s, `${s}\n`])) });
    for (let round = 0; round < 5; round++) {
      const b = p.run(['build', '-j2', '--check', check]);
      assert.equal(b.status, 0, show(b));
      const fast = p.run(['build', '-n', '-v', '--check', check]);
      assert.equal(fast.status, 0, show(fast));
      if (/as the last build left them/.test(fast.stderr)) {
        answered++;
        const full = fullDryRun(p, check);
        assert.equal(full, '', `seed ${seed} (${check}) round ${round}: the stamp answered for a stale tree`);
        assert.equal(fast.stdout, full);
      }
      // Edits for the next round: a content change, a touch, a deleted or hand-edited output.
      const what = Math.floor(r() * 4);
      const src = dag.sources[Math.floor(r() * dag.sources.length)]!;
      const out = dag.outputs[Math.floor(r() * dag.outputs.length)]!;
      if (what === 0) p.write({ [src]: `${src} ${seed}.${round}\n` });
      if (what === 1) fs.utimesSync(p.path(src), new Date(), new Date(Date.now() + 5000));
      if (what === 2) fs.rmSync(p.path(out));
      if (what === 3) p.write({ [out]: 'by hand\n' });
    }
  }
  // Most builds leave a tree the stamp answers for; those with a job dated in the past under mtime do not.
  assert.ok(answered >= 25, `the stamp answered only ${answered} times`);
});
