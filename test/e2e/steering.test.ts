// SPEC §8, questioning and steering a build, through the real CLI:
// `--question`, `-n -p` and `"command"` in `-n --json`, `-R RULE`, a pattern
// rule's name as a target, `--touch`, `-C DIR`, `rules why`; and the small
// commands beside them: `rules help [COMMAND]`, a mistyped command,
// descriptions with wildcards, and `nothing to do` for a phony default.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { CLI, nonEmptyLines, project, show, waitFor, within, yaml, type Project } from './helpers.js';

/** SPEC §1's pipeline in small: raw frames, calibrated, photometry, and a phony `all`. */
const PIPELINE = yaml(
  'default: all',
  'rules:',
  '  all:',
  '    inputs:',
  '      - expand: "phot/{frame}.csv"',
  '        frame: { glob: "raw/sci_{frame}.fits" }',
  '  calibrate:',
  '    description: Calibrate frame {frame}',
  '    inputs: "raw/sci_{frame}.fits"',
  '    outputs: "calibrated/{frame}.fits"',
  '    run: echo calibrate {frame} >> ran.log; cp {input} {output}',
  '  phot:',
  '    inputs: "calibrated/{frame}.fits"',
  '    outputs: "phot/{frame}.csv"',
  '    run: |',
  '      echo phot {frame} >> ran.log',
  '      cp {input} {output}',
);

function pipeline(t: Parameters<typeof project>[0]): Project {
  return project(t, { Rulefile: PIPELINE, 'raw/sci_f1.fits': 'one\n', 'raw/sci_f2.fits': 'two\n' });
}

function built(t: Parameters<typeof project>[0]): Project {
  const p = pipeline(t);
  const r = p.run(['build', '-j1']);
  assert.equal(r.status, 0, show(r));
  fs.rmSync(p.path('ran.log'));
  return p;
}

describe('rules build --question', () => {
  test('exit 1 when something would run, 0 when up to date; prints nothing, runs nothing, writes nothing', (t) => {
    const p = pipeline(t);
    const before = p.snapshot();
    const stale = p.run(['build', '--question']);
    assert.equal(stale.status, 1, show(stale));
    assert.equal(stale.stdout + stale.stderr, '');
    assert.deepEqual(p.snapshot(), before);
    assert.equal(p.run(['build']).status, 0);
    // Answered by the stamp (the fast path) and by the full path alike.
    assert.ok(p.exists('.rules/uptodate'));
    const fresh = p.run(['build', '--question']);
    assert.equal(fresh.status, 0, show(fresh));
    assert.equal(fresh.stdout + fresh.stderr, '');
    fs.rmSync(p.path('.rules/uptodate'));
    assert.equal(p.run(['build', '--question']).status, 0);
    // A file edited in place: the stamp does not hold, and the answer is 1 both times.
    assert.equal(p.run(['build']).status, 0);
    p.write({ 'raw/sci_f2.fits': 'changed\n' });
    assert.equal(p.run(['build', '--question']).status, 1);
    assert.equal(p.run(['build', '--question', 'phot/f1.csv']).status, 0);
    assert.equal(p.run(['build', '--question', 'phot/f2.csv']).status, 1);
  });

  test('is not blocked by a build running in the same project (no lock)', async (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  slow:', '    outputs: slow.txt', '    run: touch started; sleep 30; touch {output}'),
    });
    const running = p.start(['build']);
    await waitFor(() => p.exists('started'), 'the slow job to start');
    const r = p.run(['build', '--question']);
    assert.equal(r.status, 1, show(r));
    assert.equal(r.stderr, '');
    running.child.kill('SIGINT');
    await within(running.done, 10_000, 'the build to stop');
  });

  test('a Rulefile error is still exit 2, with the error', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  a:', '    outptus: a.txt') });
    const r = p.run(['build', '--question']);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /outptus/);
  });
});

describe('rules build -n -p and -n --json', () => {
  test('-p prints each command under its line, every line indented 4 spaces', (t) => {
    const p = pipeline(t);
    const r = p.run(['build', '-n', '-p', 'phot/f1.csv']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(r.stdout.split('\n'), [
      'calibrate[frame=f1] calibrated/f1.fits: output missing: calibrated/f1.fits',
      '    echo calibrate f1 >> ran.log; cp raw/sci_f1.fits calibrated/f1.fits',
      'phot[frame=f1] phot/f1.csv: output missing: phot/f1.csv',
      '    echo phot f1 >> ran.log',
      '    cp calibrated/f1.fits phot/f1.csv',
      '',
    ]);
    const long = p.run(['build', '--dry-run', '--print-commands', 'phot/f1.csv']);
    assert.equal(long.stdout, r.stdout);
  });

  test('-p: a blank line inside a command stays blank (no trailing spaces)', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  two:', '    outputs: two.txt', '    run: |', '      echo a > {output}', '', '      echo b >> {output}') });
    const r = p.run(['build', '-n', '-p']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(r.stdout.split('\n'), ['two two.txt: output missing: two.txt', '    echo a > two.txt', '', '    echo b >> two.txt', '']);
  });

  test('-p without -n is a usage error', (t) => {
    const r = pipeline(t).run(['build', '-p']);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /-p\/--print-commands goes with -n/);
  });

  test('-n --json carries "command" for every job, null for a phony rule without one', (t) => {
    const p = pipeline(t);
    const r = p.run(['build', '-n', '--json']);
    assert.equal(r.status, 0, show(r));
    const jobs = (JSON.parse(r.stdout) as { jobs: { rule: string; command: string | null }[] }).jobs;
    assert.deepEqual(
      jobs.map((j) => [j.rule, j.command]),
      [
        ['calibrate', 'echo calibrate f1 >> ran.log; cp raw/sci_f1.fits calibrated/f1.fits'],
        ['calibrate', 'echo calibrate f2 >> ran.log; cp raw/sci_f2.fits calibrated/f2.fits'],
        ['phot', 'echo phot f1 >> ran.log\ncp calibrated/f1.fits phot/f1.csv\n'],
        ['phot', 'echo phot f2 >> ran.log\ncp calibrated/f2.fits phot/f2.csv\n'],
        ['all', null],
      ],
    );
  });
});

describe('rules build -R RULE', () => {
  test('every job of RULE is forced, and what depends on them follows by row 8', (t) => {
    const p = built(t);
    const r = p.run(['build', '-n', '-R', 'calibrate']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(nonEmptyLines(r.stdout), [
      'calibrate[frame=f1] calibrated/f1.fits: forced',
      'calibrate[frame=f2] calibrated/f2.fits: forced',
      'phot[frame=f1] phot/f1.csv: upstream will run: calibrated/f1.fits',
      'phot[frame=f2] phot/f2.csv: upstream will run: calibrated/f2.fits',
      'all: always',
    ]);
    // Run for real: the forced jobs run; their outputs come out the same, so phot is spared (early cutoff).
    const b = p.run(['build', '-j1', '--force-rule', 'calibrate']);
    assert.equal(b.status, 0, show(b));
    assert.deepEqual(p.lines(), ['calibrate f1', 'calibrate f2']);
    // Repeatable.
    const two = p.run(['build', '-n', '-R', 'phot', '-R', 'calibrate', 'phot/f1.csv']);
    assert.deepEqual(nonEmptyLines(two.stdout), ['calibrate[frame=f1] calibrated/f1.fits: forced', 'phot[frame=f1] phot/f1.csv: forced']);
  });

  test('an unknown rule is exit 2 with a suggestion', (t) => {
    const p = built(t);
    const r = p.run(['build', '-R', 'calibrat']);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /no rule named 'calibrat' \(did you mean 'calibrate'\?\)/);
    assert.ok(!p.exists('ran.log'));
  });
});

describe('a pattern rule as a target', () => {
  test("builds every job of the rule that the default targets need, and nothing downstream", (t) => {
    const p = pipeline(t);
    const n = p.run(['build', '-n', 'calibrate']);
    assert.equal(n.status, 0, show(n));
    assert.deepEqual(nonEmptyLines(n.stdout), [
      'calibrate[frame=f1] calibrated/f1.fits: output missing: calibrated/f1.fits',
      'calibrate[frame=f2] calibrated/f2.fits: output missing: calibrated/f2.fits',
    ]);
    const r = p.run(['build', '-j1', 'calibrate']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(p.lines(), ['calibrate f1', 'calibrate f2']);
    assert.ok(!p.exists('phot'));
    // Bare `rules calibrate` too, and then it is up to date.
    const again = p.run(['calibrate']);
    assert.equal(again.status, 0, show(again));
    assert.deepEqual(p.lines(), ['calibrate f1', 'calibrate f2']);
  });

  test('a rule none of whose jobs the defaults need is an error naming it', (t) => {
    const p = project(t, {
      Rulefile: yaml('default: a.txt', 'rules:', '  a:', '    outputs: a.txt', '    run: touch {output}', '  b:', '    outputs: "b/{x}.txt"', '    run: touch {output}'),
    });
    const r = p.run(['build', 'b']);
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /rule 'b' has wildcards, and the default targets need none of its jobs/);
  });
});

describe('rules build --touch', () => {
  test('records the stale jobs as if they had run; the next build is a no-op, by the stamp too', (t) => {
    const p = built(t);
    p.write({ 'raw/sci_f2.fits': 'changed\n', 'calibrated/f2.fits': 'changed\n', 'phot/f2.csv': 'changed\n' });
    p.age('raw/sci_f2.fits', -100);
    p.age('calibrated/f2.fits', -200);
    p.age('phot/f2.csv', -200);
    const r = p.run(['build', '--touch', '-j1']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(nonEmptyLines(r.stdout), ['touched calibrate[frame=f2]', 'touched phot[frame=f2]']);
    assert.ok(!p.exists('ran.log'), 'no command ran');
    assert.ok(p.mtimeMs('calibrated/f2.fits') > Date.now() - 60_000, 'outputs made as new as now');
    assert.equal(p.read('phot/f2.csv'), 'changed\n', 'contents untouched');
    // Up to date now: the full path says so, and it leaves the stamp whose answer is the same.
    const n = p.run(['build', '-n']);
    assert.equal(n.stdout, '');
    assert.equal(n.stderr, 'rules: nothing to do\n');
    const b = p.run(['build', '-v']);
    assert.equal(b.status, 0, show(b));
    assert.ok(!p.exists('ran.log'));
    assert.ok(p.exists('.rules/uptodate'));
    const fast = p.run(['build', '-v']);
    assert.match(fast.stderr + fast.stdout, /as the last build left them/);
    assert.equal(p.run(['build', '--question']).status, 0);
  });

  test('a missing output cannot be touched: exit 1 naming it, nothing touched', (t) => {
    const p = built(t);
    p.write({ 'raw/sci_f1.fits': 'changed\n' });
    fs.rmSync(p.path('phot/f1.csv'));
    const before = p.mtimeMs('calibrated/f1.fits');
    const r = p.run(['build', '--touch']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /cannot touch 'phot\/f1.csv'/);
    assert.equal(r.stdout, '');
    assert.equal(p.mtimeMs('calibrated/f1.fits'), before);
  });
});

describe('--executor slurm without sbatch', () => {
  test('--touch and --question run nothing, so they need no sbatch; a build does', (t) => {
    const p = built(t);
    p.write({ 'raw/sci_f1.fits': 'changed\n' });
    // A PATH without SLURM's commands (or any other): these runs start no process.
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: p.path('no-bin'), NO_COLOR: '1' };
    delete env.NODE_TEST_CONTEXT;
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: p.dir, env, encoding: 'utf8' });
    const build = run('build', '--executor', 'slurm');
    assert.equal(build.status, 2, build.stderr);
    assert.match(build.stderr, /'sbatch' is not on PATH/);
    const q = run('build', '--executor', 'slurm', '--question');
    assert.equal(q.status, 1, q.stderr);
    const touched = run('build', '--executor', 'slurm', '--touch');
    assert.equal(touched.status, 0, touched.stderr);
    assert.match(touched.stdout, /^touched calibrate\[frame=f1\]$/m);
  });
});

describe('rules -C DIR', () => {
  test('changes to DIR before anything else, -f taken from there', (t) => {
    const p = pipeline(t);
    fs.mkdirSync(p.path('elsewhere'));
    fs.renameSync(p.path('Rulefile'), p.path('pipeline.yaml'));
    const r = p.run(['-C', '..', 'build', '-f', 'pipeline.yaml', '-j1', 'phot/f1.csv'], { cwd: 'elsewhere' });
    assert.equal(r.status, 0, show(r));
    assert.ok(p.exists('phot/f1.csv'));
    const n = p.run(['build', '-C', p.dir, '-f', 'pipeline.yaml', '-n'], { cwd: 'elsewhere' });
    assert.equal(n.status, 0, show(n));
    assert.deepEqual(nonEmptyLines(n.stdout), [
      'calibrate[frame=f2] calibrated/f2.fits: output missing: calibrated/f2.fits',
      'phot[frame=f2] phot/f2.csv: output missing: phot/f2.csv',
      'all: always',
    ]);
    const list = p.run(['list', '--directory', p.dir, '-f', 'pipeline.yaml'], { cwd: 'elsewhere' });
    assert.equal(list.status, 0, show(list));
    const missing = p.run(['-C', 'nowhere', 'build']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /-C nowhere: no such directory/);
  });
});

describe('rules why TARGET', () => {
  test('the chain of reasons from the target down to what changed', (t) => {
    const p = built(t);
    p.write({ 'raw/sci_f2.fits': 'changed\n' });
    const r = p.run(['why', 'phot/f2.csv']);
    assert.equal(r.status, 0, show(r));
    assert.deepEqual(r.stdout.split('\n'), [
      'phot/f2.csv: upstream will run: calibrated/f2.fits',
      'calibrated/f2.fits: input changed: raw/sci_f2.fits',
      '',
    ]);
    // Through a phony grouping.
    const all = p.run(['why', 'all']);
    assert.deepEqual(nonEmptyLines(all.stdout), ['all: always', 'phot/f2.csv: upstream will run: calibrated/f2.fits', 'calibrated/f2.fits: input changed: raw/sci_f2.fits']);
    const fresh = p.run(['why', 'phot/f1.csv']);
    assert.equal(fresh.status, 0, show(fresh));
    assert.equal(fresh.stdout, 'nothing to do\n');
    const none = p.run(['why']);
    assert.equal(none.status, 2);
    const bad = p.run(['why', 'phot/f9.csv']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /no rule to make 'raw\/sci_f9.fits'/);
  });
});

describe('help and mistyped commands', () => {
  test('rules help [COMMAND] is --help', (t) => {
    const p = pipeline(t);
    const main = p.run(['help']);
    assert.equal(main.status, 0);
    assert.equal(main.stdout, p.run(['--help']).stdout);
    assert.match(main.stdout, /^ {2}why /m);
    const build = p.run(['help', 'build']);
    assert.equal(build.stdout, p.run(['build', '--help']).stdout);
    for (const f of ['--question', '--print-commands', '--force-rule RULE', '--touch', '--directory DIR']) assert.ok(build.stdout.includes(f), f);
    const bad = p.run(['help', 'biuld']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown command 'biuld' \(did you mean 'build'\?\)/);
  });

  test("a word close to a command that is no target: 'did you mean'", (t) => {
    const p = pipeline(t);
    const r = p.run(['biuld']);
    assert.equal(r.status, 2, show(r));
    assert.equal(r.stderr, "rules: unknown command or target 'biuld' (did you mean 'build'?)\n");
    assert.ok(!p.exists('ran.log'));
    // A rule named like that, or a file, is still built.
    const q = project(t, { Rulefile: yaml('rules:', '  biuld:', '    run: echo built-it') });
    const ok = q.run(['biuld']);
    assert.equal(ok.status, 0, show(ok));
    assert.match(ok.stdout, /built-it/);
  });
});

describe('descriptions and a phony default', () => {
  test('a description fills in the wildcards in progress lines', (t) => {
    const p = pipeline(t);
    const r = p.run(['build', '-j1', 'calibrated/f1.fits']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /calibrate\[frame=f1\]: Calibrate frame f1/);
  });

  test('a dry run of an up-to-date tree whose default is a phony all says nothing to do', (t) => {
    const p = built(t);
    fs.rmSync(p.path('.rules/uptodate'));
    const r = p.run(['build', '-n']);
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'rules: nothing to do\n');
  });
});
