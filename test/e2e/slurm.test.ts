// `rules build --executor slurm` on a real single-node SLURM cluster
// (scripts/slurm-up.sh; started here if `sinfo` does not answer). Run only by
// `npm run test:slurm` (test/run.mjs --slurm), never by `npm test`. Each test's
// jobs are told apart from anyone else's on the cluster by their working
// directory: the project's.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { nonEmptyLines, project, REPO, show, within, yaml, type Project } from './helpers.js';

const SLURM_DIR = process.env.RULES_SLURM_DIR ?? path.join(process.env.TMPDIR || '/tmp', 'rules-slurm');
const SLURM_CONF = path.join(SLURM_DIR, 'slurm.conf');

/** Runs a SLURM client command; throws with its stderr if it fails. */
function slurm(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Whether the cluster answers and its node takes jobs. */
function clusterUp(): boolean {
  try {
    return /^(idle|mix|alloc)/m.test(slurm('sinfo', ['-h', '-N', '-o', '%t']));
  } catch {
    return false;
  }
}

interface SlurmJob {
  id: string;
  name: string;
  state: string;
}

/** The SLURM jobs (queued, running or ended) that ran in a project's directory, oldest first. */
function jobsOf(p: Project): SlurmJob[] {
  const dir = fs.realpathSync(p.dir);
  const out: SlurmJob[] = [];
  for (const line of nonEmptyLines(slurm('squeue', ['-h', '-t', 'all', '-o', '%i|%j|%T|%Z']))) {
    const [id, name, state, workdir] = line.split('|');
    if (workdir === dir || workdir?.startsWith(`${dir}/`)) out.push({ id: id!, name: name!, state: state! });
  }
  return out.sort((a, b) => Number(a.id) - Number(b.id));
}

/** `scontrol -o show job ID` as FIELD → value. */
function showJob(id: string): Map<string, string> {
  const text = slurm('scontrol', ['-o', 'show', 'job', id]).trim();
  const fields = new Map<string, string>();
  for (const m of text.matchAll(/(?:^|\s)([\w/:]+)=(\S*)/g)) fields.set(m[1]!, m[2]!);
  return fields;
}

const ACTIVE = new Set(['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'RESIZING']);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 200 ms (each poll may start a SLURM command) until it holds. */
async function poll(cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

/** The project's files (not .rules/), each with its content: what a build produced. */
function contents(p: Project, skip: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of p.snapshot()) {
    const rel = line.slice(0, line.indexOf(' '));
    if (line.endsWith('/') || rel.startsWith('.rules/') || skip.includes(rel)) continue;
    out[rel] = p.read(rel);
  }
  return out;
}

before(() => {
  if (process.env.SLURM_CONF === undefined && fs.existsSync(SLURM_CONF)) process.env.SLURM_CONF = SLURM_CONF;
  if (clusterUp()) return;
  const r = spawnSync('bash', [path.join(REPO, 'scripts/slurm-up.sh')], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, `scripts/slurm-up.sh failed:\n${r.stdout}${r.stderr}`);
  process.env.SLURM_CONF = SLURM_CONF;
  assert.ok(clusterUp(), `the cluster does not answer after scripts/slurm-up.sh (SLURM_CONF=${SLURM_CONF})`);
});

const SOURCES = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];

const PIPELINE = yaml(
  'env:',
  `  GREETING: 'it''s "quoted", $HOME stays'`,
  'rules:',
  '  all:',
  '    inputs: total.txt',
  '  shout:',
  '    inputs: "src/{name}.txt"',
  '    outputs: "mid/{name}.txt"',
  '    run: (echo "$GREETING"; tr a-z A-Z < {input}) > {output}; echo "$SLURM_JOB_ID" >> ids.log',
  '  total:',
  `    inputs: [${SOURCES.map((s) => `mid/${s}.txt`).join(', ')}]`,
  '    outputs: total.txt',
  '    run: cat {inputs} > {output}; cat {inputs} | wc -l >> {output}; echo "$SLURM_JOB_ID" >> ids.log',
);

function pipelineFiles(): Record<string, string> {
  const files: Record<string, string> = { Rulefile: PIPELINE };
  for (const s of SOURCES) files[`src/${s}.txt`] = `${s}\nsome text of ${s}\n`;
  return files;
}

describe('rules build --executor slurm', () => {
  test('a fan-out/fan-in pipeline builds the same outputs on the cluster as locally; a second build runs nothing', (t) => {
    const local = project(t, pipelineFiles());
    const cluster = project(t, pipelineFiles());

    const l = local.run(['build', '-j', '6']);
    assert.equal(l.status, 0, show(l));
    const r = cluster.run(['build', '--executor', 'slurm', '-j', '6']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^rules: 7 jobs done in /m);

    // Every output, byte for byte.
    const built = contents(cluster, ['ids.log']);
    assert.deepEqual(built, contents(local, ['ids.log']));
    assert.deepEqual(Object.keys(built).filter((f) => !f.startsWith('src/')).sort(), ['Rulefile', 'mid/alpha.txt', 'mid/bravo.txt', 'mid/charlie.txt', 'mid/delta.txt', 'mid/echo.txt', 'mid/foxtrot.txt', 'total.txt']);
    assert.equal(built['mid/alpha.txt'], `it's "quoted", $HOME stays\nALPHA\nSOME TEXT OF ALPHA\n`);

    // The jobs really were SLURM jobs: 7 of them, all under the build's one job name, each the job that ran the command.
    const jobs = jobsOf(cluster);
    assert.equal(jobs.length, 7, JSON.stringify(jobs));
    assert.deepEqual(new Set(jobs.map((j) => j.state)), new Set(['COMPLETED']));
    assert.equal(new Set(jobs.map((j) => j.name)).size, 1);
    assert.match(jobs[0]!.name, /^rules-\d+-/);
    assert.deepEqual(cluster.lines('ids.log').sort(), jobs.map((j) => j.id).sort());
    assert.equal(local.read('ids.log'), '\n'.repeat(7), 'locally there is no SLURM job id');
    // The succeeded jobs' scripts and logs are cleaned up.
    assert.deepEqual(fs.readdirSync(cluster.path('.rules/slurm')), []);

    const again = cluster.run(['build', '--executor', 'slurm']);
    assert.equal(again.status, 0, show(again));
    assert.match(again.stdout, /^rules: nothing to do$/m);
    assert.equal(jobsOf(cluster).length, 7, 'no job was submitted');
    // And the local build agrees that the cluster's outputs are up to date.
    const checked = cluster.run(['build']);
    assert.match(checked.stdout, /^rules: nothing to do$/m, show(checked));
  });

  test('a graph that grows (SPEC §7): the jobs a split adds are submitted in the same build, as locally', (t) => {
    const files = {
      Rulefile: yaml(
        'rules:',
        '  merge:',
        '    inputs:',
        '      - expand: "measured/{c}.txt"',
        '        c: { glob: "chunks/{c}.txt" }',
        '    outputs: merged.txt',
        '    run: cat {inputs} > {output}',
        '  split:',
        '    inputs: catalog.txt',
        '    outputs: "chunks/"',
        '    run: while read -r l; do echo "chunk $l" > chunks/$l.txt; done < {input}',
        '  measure:',
        '    inputs: "chunks/{c}.txt"',
        '    outputs: "measured/{c}.txt"',
        '    run: wc -c < {input} > {output}',
      ),
      'catalog.txt': 'a\nb\nc\n',
    };
    const local = project(t, files);
    const cluster = project(t, files);
    assert.equal(local.run(['build']).status, 0);
    const r = cluster.run(['build', '--executor', 'slurm', '-j', '4']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^rules: chunks\/ made: 3 more jobs to run for merge \(5 in all\)$/m);
    assert.match(r.stdout, /^rules: 5 jobs done in /m);
    assert.equal(cluster.read('merged.txt'), local.read('merged.txt'));
    assert.equal(jobsOf(cluster).length, 5, 'split, 3 measures and the merge, each a SLURM job');
    assert.match(cluster.run(['build', '--executor', 'slurm']).stdout, /^rules: nothing to do$/m);
  });

  test('a job that exits 3 fails the build, naming its SLURM job, and its declared output is deleted', (t) => {
    const p = project(t, {
      Rulefile: yaml('rules:', '  broken:', '    outputs: broken.txt', '    run: echo half > {output}; echo broken-job-says-hi; exit 3'),
    });
    const r = p.run(['build', '--executor', 'slurm']);
    assert.equal(r.status, 1, show(r));
    const m = /^FAILED: broken: SLURM job (\d+) FAILED, exit status 3$/m.exec(r.stderr);
    assert.ok(m, show(r));
    // Its output is shown as a local job's would be, after the failure.
    assert.match(r.stderr, /^FAILED: broken: .*\n {2}command: echo half > broken\.txt; echo broken-job-says-hi; exit 3\nbroken-job-says-hi\n/m);
    assert.match(r.stderr, /^rules: build failed: 1 job failed \(0 done\)$/m);
    assert.equal(p.exists('broken.txt'), false, 'the failed job’s output is deleted');

    const jobs = jobsOf(p);
    assert.deepEqual(jobs.map((j) => [j.id, j.state]), [[m[1], 'FAILED']]);
    assert.equal(showJob(m[1]!).get('ExitCode'), '3:0');
    // A failed job's script and log stay, to look into.
    const left = fs.readdirSync(p.path('.rules/slurm')).sort();
    assert.equal(left.length, 2, left.join(' '));
    assert.match(fs.readFileSync(p.path(`.rules/slurm/${left.find((f) => f.endsWith('.log'))}`), 'utf8'), /broken-job-says-hi/);
  });

  test('-k: the jobs that do not depend on the failed one still run', (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  all:',
        '    inputs: [broken.txt, after.txt, ok1.txt, ok2.txt, ok3.txt]',
        '  broken:',
        '    outputs: broken.txt',
        '    run: echo half > {output}; exit 3',
        '  after:',
        '    inputs: broken.txt',
        '    outputs: after.txt',
        '    run: cp {input} {output}',
        '  ok:',
        '    outputs: "ok{n}.txt"',
        '    run: echo {wildcards.n} > {output}',
      ),
    });
    const r = p.run(['build', '--executor', 'slurm', '-k', '-j', '2']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /^FAILED: broken: SLURM job \d+ FAILED, exit status 3$/m);
    assert.match(r.stderr, /^rules: build failed: 1 job failed, 1 not run \(3 done\)$/m);
    assert.deepEqual([p.read('ok1.txt'), p.read('ok2.txt'), p.read('ok3.txt')], ['1\n', '2\n', '3\n']);
    assert.equal(p.exists('broken.txt'), false);
    assert.equal(p.exists('after.txt'), false);
    assert.deepEqual(jobsOf(p).map((j) => j.state).sort(), ['COMPLETED', 'COMPLETED', 'COMPLETED', 'FAILED']);
  });

  test("resources and slurm: reach sbatch; a rule's extra flags come after --slurm-extra", (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  all:',
        '    inputs: [big.txt, plain.txt]',
        '  big:',
        '    outputs: big.txt',
        '    resources: { cpus: 2, mem_mb: 300, runtime: 7 }',
        '    slurm: { extra: "--comment=rules-test" }',
        '    run: echo "$SLURM_JOB_ID $SLURM_CPUS_PER_TASK" > {output}',
        '  plain:',
        '    outputs: plain.txt',
        '    run: echo "$SLURM_JOB_ID $SLURM_CPUS_PER_TASK" > {output}',
      ),
    });
    const r = p.run(['build', '--executor', 'slurm', '-j', '2', '--slurm-extra=--comment=from-cli', '--slurm-partition', 'main']);
    assert.equal(r.status, 0, show(r));
    const [bigId, bigCpus] = p.read('big.txt').trim().split(' ');
    const [plainId, plainCpus] = p.read('plain.txt').trim().split(' ');
    assert.deepEqual(jobsOf(p).map((j) => j.id).sort(), [bigId, plainId].sort());
    assert.equal(bigCpus, '2', 'the job sees its 2 CPUs');
    assert.equal(plainCpus, '1');

    const big = showJob(bigId!);
    assert.equal(big.get('NumCPUs'), '2');
    assert.match(big.get('TRES')!, /(^|,)mem=300M(,|$)/);
    assert.equal(big.get('TimeLimit'), '00:07:00');
    assert.equal(big.get('Comment'), 'rules-test');
    assert.equal(big.get('Partition'), 'main');

    const plain = showJob(plainId!);
    assert.equal(plain.get('NumCPUs'), '1');
    assert.equal(plain.get('Comment'), 'from-cli');
    // No --time was given: the partition's limit, INFINITE, which scontrol shows as UNLIMITED, or
    // (seen once, for a job already finished on a loaded machine) as the year slurmctld caps it at.
    assert.match(plain.get('TimeLimit')!, /^(UNLIMITED|365-00:00:00)$/);
  });

  test("a job sbatch refuses fails with sbatch's message; the rule's partition beats --slurm-partition", (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  all:',
        '    inputs: [nowhere.txt, fine.txt]',
        '  nowhere:',
        '    outputs: nowhere.txt',
        '    slurm: { partition: no-such-partition }',
        '    run: touch {output}',
        '  fine:',
        '    outputs: fine.txt',
        '    run: touch {output}',
      ),
    });
    const r = p.run(['build', '--executor', 'slurm', '-k', '--slurm-partition=main']);
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /^FAILED: nowhere: sbatch refused the job: .*invalid partition/im);
    assert.ok(p.exists('fine.txt'), show(r));
    assert.equal(p.exists('nowhere.txt'), false);
    assert.deepEqual(jobsOf(p).map((j) => j.state), ['COMPLETED'], 'only fine was submitted');
  });

  test('Ctrl-C while 3 jobs are queued or running: one exit 130 within seconds, no job left on the cluster, no output left behind', async (t) => {
    const p = project(t, {
      Rulefile: yaml(
        'rules:',
        '  all:',
        '    inputs: [s1.txt, s2.txt, s3.txt]',
        '  sleepy:',
        '    outputs: "s{n}.txt"',
        '    run: echo started > {output}; sleep 60',
      ),
    });
    const run = p.start(['build', '--executor', 'slurm', '-j', '3']);
    // All 3 submitted (the node has 2 CPUs: one may wait), and one of them running its command.
    await poll(() => jobsOf(p).length === 3 && ['s1.txt', 's2.txt', 's3.txt'].some((f) => p.exists(f)), 'the jobs to start', 20_000);
    assert.ok(jobsOf(p).every((j) => ACTIVE.has(j.state)));

    const t0 = Date.now();
    run.child.kill('SIGINT');
    const r = await within(run.done, 15_000, 'rules to exit after SIGINT');
    const took = Date.now() - t0;
    assert.equal(r.status, 130, show(r));
    assert.ok(took < 6000, `exited ${took} ms after SIGINT`);
    t.diagnostic(`exited ${took} ms after SIGINT`);
    assert.match(r.stderr, /^rules: interrupted; outputs of unfinished jobs removed/m);

    await poll(() => jobsOf(p).every((j) => !ACTIVE.has(j.state)), 'no job of the build to be left pending or running', 10_000);
    assert.deepEqual(jobsOf(p).map((j) => j.state), ['CANCELLED', 'CANCELLED', 'CANCELLED']);
    assert.deepEqual(['s1.txt', 's2.txt', 's3.txt'].filter((f) => p.exists(f)), []);
  });

  test("a job's output is printed as a local job's is; with log: it goes to the log; -j 1 submits one job at a time", async (t) => {
    const files = {
      Rulefile: yaml(
        'rules:',
        '  all:',
        '    inputs: [a.txt, b.txt, c.txt]',
        '  say:',
        '    outputs: "{x}.txt"',
        '    run: echo marker-out-{wildcards.x}; echo marker-err-{wildcards.x} >&2; touch {output}',
        '  logged:',
        '    outputs: c.txt',
        '    log: logs/c.log',
        '    run: echo marker-in-log; touch {output}',
      ),
    };
    const local = project(t, files);
    const l = local.run(['build', '-j', '1']);
    assert.equal(l.status, 0, show(l));

    const p = project(t, files);
    const run = p.start(['build', '--executor', 'slurm', '-j', '1']);
    let mostAtOnce = 0;
    let exited = false;
    void run.done.then(() => (exited = true));
    while (!exited) {
      mostAtOnce = Math.max(mostAtOnce, jobsOf(p).filter((j) => ACTIVE.has(j.state)).length);
      await sleep(100);
    }
    const r = await run.done;
    assert.equal(r.status, 0, show(r));
    assert.equal(jobsOf(p).length, 3);
    assert.equal(mostAtOnce, 1, 'never more than one job in the queue with -j 1');

    const withoutSummary = (s: string) => s.replace(/^rules: \d+ jobs done in .*\n/m, '');
    assert.equal(withoutSummary(r.stdout), withoutSummary(l.stdout));
    assert.match(r.stdout, /^marker-out-a\nmarker-err-a$/m);
    assert.doesNotMatch(r.stdout, /marker-in-log/);
    assert.equal(p.read('logs/c.log'), 'marker-in-log\n');
    assert.equal(p.read('logs/c.log'), local.read('logs/c.log'));
  });

  test('exported bash functions in env: (like `module` on HPC systems) work on the cluster as they do locally', (t) => {
    const files = {
      Rulefile: yaml('shell: bash -c', 'env: { "BASH_FUNC_greet%%": "() { echo hello-from-function > \\"$1\\"; }" }', 'rules:', '  a:', '    outputs: a.txt', '    run: greet {output}'),
    };
    const local = project(t, files);
    assert.equal(local.run(['build']).status, 0);
    const p = project(t, files);
    const r = p.run(['build', '--executor', 'slurm']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('a.txt'), 'hello-from-function\n');
  });

  test('script: reads $RULES_JOB on the cluster (cpus as sbatch grants them), and a depfile is read after the SLURM job', (t) => {
    const files = {
      Rulefile: yaml(
        'rules:',
        '  all:',
        '    inputs: [count.txt, dep.txt]',
        '  count:',
        '    inputs: { text: in.txt }',
        '    outputs: count.txt',
        '    resources: { cpus: 2 }',
        '    script: count.py',
        '  dep:',
        '    outputs: dep.txt',
        '    depfile: "{output}.d"',
        '    run: \'cat h.txt > {output}; printf "%s: h.txt" {output} > {output}.d\'',
      ),
      'count.py': [
        'import json, os',
        'job = json.load(open(os.environ["RULES_JOB"]))',
        'words = len(open(job["named_inputs"]["text"][0]).read().split())',
        'open(job["outputs"][0], "w").write(f"{words} {job[\'resources\'][\'cpus\']}\\n")',
        '',
      ].join('\n'),
      'in.txt': 'one two three\n',
      'h.txt': 'h1\n',
    };
    const p = project(t, files);
    const r = p.run(['build', '--executor', 'slurm', '-j', '1']);
    assert.equal(r.status, 0, show(r));
    assert.equal(p.read('count.txt'), '3 2\n', 'the cluster grants the request, whatever -j says');
    assert.equal(p.exists('dep.txt.d'), false, 'the depfile is read and deleted');
    assert.deepEqual(fs.readdirSync(p.path('.rules/jobs')), [], 'the job description is removed after the run');
    p.write({ 'h.txt': 'h2\n', 'count.py': `${files['count.py']}# edited\n` });
    assert.deepEqual(nonEmptyLines(p.run(['build', '-n']).stdout), ['count count.txt: input changed: count.py', 'dep dep.txt: input changed: h.txt', 'all: always']);
  });

  test('--slurm-output-wait: a job that succeeds without making its output fails once the wait is over', (t) => {
    const p = project(t, { Rulefile: yaml('rules:', '  lazy:', '    outputs: lazy.txt', '    run: echo made nothing') });
    const t0 = Date.now();
    const r = p.run(['build', '--executor', 'slurm', '--slurm-output-wait', '1']);
    const took = Date.now() - t0;
    assert.equal(r.status, 1, show(r));
    assert.match(r.stderr, /^FAILED: lazy: the command succeeded but did not create output 'lazy\.txt'$/m);
    assert.match(r.stderr, /^made nothing$/m);
    assert.ok(took >= 1000 && took < 15_000, `${took} ms`);
    assert.deepEqual(jobsOf(p).map((j) => j.state), ['COMPLETED']);
  });

  test('a project whose path holds a % (a SLURM filename pattern) builds', (t) => {
    const p = project(t, { 'run%j/Rulefile': yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo said-a; touch {output}') });
    const r = p.run(['build', '--executor', 'slurm'], { cwd: 'run%j' });
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^said-a$/m);
    assert.ok(p.exists('run%j/a.txt'));
  });

  test('a project whose path holds a backslash builds', (t) => {
    const p = project(t, { 'back\\slash/Rulefile': yaml('rules:', '  a:', '    outputs: a.txt', '    run: echo said-a; touch {output}') });
    const r = p.run(['build', '--executor', 'slurm'], { cwd: 'back\\slash' });
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^said-a$/m);
    assert.ok(p.exists('back\\slash/a.txt'));
  });
});
