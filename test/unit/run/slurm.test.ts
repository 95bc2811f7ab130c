// The SLURM executor without a cluster: its parsers on outputs recorded from a
// real slurm-wlm 22.05 (scripts/slurm-up.sh), the sbatch flags a rule turns
// into, the job script under /bin/sh, and the executor driven by a fake `run`
// that plays a cluster's answers back.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { buildGraph } from '../../../src/graph/build.js';
import { renderCommand, renderEnv } from '../../../src/graph/command.js';
import { failureText } from '../../../src/report/failure.js';
import type { JobOutcome, JobSpec } from '../../../src/run/executor.js';
import { durationMs, jobScript, parseSacct, parseSacctUsage, parseScontrol, parseSqueue, sbatchArgs, SACCT_USAGE_FIELDS, sizeKb, SlurmExecutor, type SlurmOptions } from '../../../src/run/slurm.js';
import { FakeFileSystem } from '../../support/fakefs.js';
import { projectFrom, yaml } from '../../support/project.js';

// ---------------------------------------------------------------------------
// Recorded outputs (slurm-wlm 22.05.8, single node "vm", partition "main").

/** `scontrol -o show job 10` of `sbatch --wrap 'exit 3'`. */
const SCONTROL_FAILED =
  'JobId=10 JobName=wrap UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901750 Nice=0 Account=(null) QOS=(null) JobState=FAILED Reason=NonZeroExitCode Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=3:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-22T03:24:37 EligibleTime=2026-11-22T03:24:37 AccrueTime=2026-11-22T03:24:37 StartTime=2026-11-22T03:24:38 EndTime=2026-11-22T03:24:38 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-22T03:24:38 Scheduler=Main Partition=main AllocNode:Sid=localhost:23403 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=10847M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryCPU=10847M MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/tmp/slurmcap StdErr=/tmp/slurmcap/slurm-10.out StdIn=/dev/null StdOut=/tmp/slurmcap/slurm-10.out Power= \n';

/** `scontrol -o show job 11` of `sbatch --wrap 'echo ok'`. */
const SCONTROL_COMPLETED =
  'JobId=11 JobName=wrap UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901749 Nice=0 Account=(null) QOS=(null) JobState=COMPLETED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-22T03:24:37 EligibleTime=2026-11-22T03:24:37 AccrueTime=2026-11-22T03:24:37 StartTime=2026-11-22T03:24:38 EndTime=2026-11-22T03:24:38 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-22T03:24:38 Scheduler=Main Partition=main AllocNode:Sid=localhost:23403 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=10847M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryCPU=10847M MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/tmp/slurmcap StdErr=/tmp/slurmcap/slurm-11.out StdIn=/dev/null StdOut=/tmp/slurmcap/slurm-11.out Power= \n';

/** `scontrol -o show job 12` of `sbatch --wrap 'sleep 100'`, then `scancel 12`. */
const SCONTROL_CANCELLED =
  'JobId=12 JobName=wrap UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901748 Nice=0 Account=(null) QOS=(null) JobState=CANCELLED Reason=None Dependency=(null) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:15 RunTime=00:00:00 TimeLimit=UNLIMITED TimeMin=N/A SubmitTime=2026-11-22T03:24:37 EligibleTime=2026-11-22T03:24:37 AccrueTime=2026-11-22T03:24:37 StartTime=2026-11-22T03:24:39 EndTime=2026-11-22T03:24:39 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-11-22T03:24:39 Scheduler=Main Partition=main AllocNode:Sid=localhost:23403 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,mem=10847M,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryCPU=10847M MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=(null) WorkDir=/tmp/slurmcap StdErr=/tmp/slurmcap/slurm-12.out StdIn=/dev/null StdOut=/tmp/slurmcap/slurm-12.out Power= \n';

/** `scontrol -o show job 13` while `sleep 30` runs. */
const SCONTROL_RUNNING = SCONTROL_COMPLETED.replace('JobId=11', 'JobId=13').replace('JobState=COMPLETED', 'JobState=RUNNING').replace('RunTime=00:00:00', 'RunTime=00:00:01');

/** What `scontrol show job` prints (on stderr, exit 1) for a job the controller no longer knows. */
const SCONTROL_GONE = 'slurm_load_jobs error: Invalid job id specified';
/** What `sacct` prints (on stderr, exit 1) on a cluster without accounting, like the test cluster. */
const SACCT_DISABLED = 'Slurm accounting storage is disabled';

/** Recorded lines edited into states that are slow or hard to provoke on one small node. */
function edited(line: string, state: string, reason: string, exit: string): string {
  return line.replace(/JobState=\S+/, `JobState=${state}`).replace(/Reason=\S+/, `Reason=${reason}`).replace(/ ExitCode=\S+/, ` ExitCode=${exit}`);
}
const SCONTROL_TIMEOUT = edited(SCONTROL_CANCELLED, 'TIMEOUT', 'TimeLimit', '0:15').replace('TimeLimit=UNLIMITED', 'TimeLimit=00:01:00');
const SCONTROL_OOM = edited(SCONTROL_FAILED, 'OUT_OF_MEMORY', 'OutOfMemory', '0:125');
const SCONTROL_NODE_FAIL = edited(SCONTROL_FAILED, 'NODE_FAIL', 'NodeDown', '0:0');

/** `squeue -h -t all --name=cap-q -o '%i|%T'`: 4 × `sleep 30` on 2 CPUs, then during and after `scancel`. */
const SQUEUE_RUNNING = '15|PENDING\n16|PENDING\n13|RUNNING\n14|RUNNING\n';
const SQUEUE_CANCELLING = '15|CANCELLED\n16|CANCELLED\n13|COMPLETING\n14|COMPLETING\n';
const SQUEUE_CANCELLED = '13|CANCELLED\n14|CANCELLED\n15|CANCELLED\n16|CANCELLED\n';

// ---------------------------------------------------------------------------
// Parsers.

describe('parsing what SLURM prints', () => {
  test('squeue: job id → state, for every line; a trailing + is dropped', () => {
    assert.deepEqual([...parseSqueue(SQUEUE_RUNNING)], [
      ['15', 'PENDING'],
      ['16', 'PENDING'],
      ['13', 'RUNNING'],
      ['14', 'RUNNING'],
    ]);
    assert.deepEqual([...parseSqueue(SQUEUE_CANCELLING)], [
      ['15', 'CANCELLED'],
      ['16', 'CANCELLED'],
      ['13', 'COMPLETING'],
      ['14', 'COMPLETING'],
    ]);
    // States a truncating column shows with a '+', blank lines, \r\n and stray spaces.
    assert.deepEqual([...parseSqueue('  21|CANCELLED+\r\n\n22|COMPLETED\n23|OUT_OF_ME+\n')], [
      ['21', 'CANCELLED'],
      ['22', 'COMPLETED'],
      ['23', 'OUT_OF_ME'],
    ]);
    assert.equal(parseSqueue('').size, 0);
    assert.equal(parseSqueue('\n').size, 0);
  });

  test('scontrol: the final state with exit code and signal', () => {
    assert.deepEqual(parseScontrol(SCONTROL_FAILED), { state: 'FAILED', exitCode: 3, signal: 0 });
    assert.deepEqual(parseScontrol(SCONTROL_COMPLETED), { state: 'COMPLETED', exitCode: 0, signal: 0 });
    assert.deepEqual(parseScontrol(SCONTROL_CANCELLED), { state: 'CANCELLED', exitCode: 0, signal: 15 });
    assert.deepEqual(parseScontrol(SCONTROL_TIMEOUT), { state: 'TIMEOUT', exitCode: 0, signal: 15 });
    assert.deepEqual(parseScontrol(SCONTROL_OOM), { state: 'OUT_OF_MEMORY', exitCode: 0, signal: 125 });
    assert.deepEqual(parseScontrol(SCONTROL_NODE_FAIL), { state: 'NODE_FAIL', exitCode: 0, signal: 0 });
  });

  test('scontrol: a job still queued or running, or unknown, has no final state', () => {
    assert.equal(parseScontrol(SCONTROL_RUNNING), undefined);
    assert.equal(parseScontrol(SCONTROL_RUNNING.replace('JobState=RUNNING', 'JobState=PENDING')), undefined);
    assert.equal(parseScontrol(SCONTROL_RUNNING.replace('JobState=RUNNING', 'JobState=COMPLETING')), undefined);
    assert.equal(parseScontrol(SCONTROL_RUNNING.replace('JobState=RUNNING', 'JobState=CONFIGURING')), undefined);
    assert.equal(parseScontrol(''), undefined);
    assert.equal(parseScontrol(SCONTROL_GONE), undefined);
  });

  test('scontrol: fields whose names end in ExitCode or JobState are not taken for them', () => {
    // Newer SLURM versions print DerivedExitCode; a job's name or comment is free text.
    const line = SCONTROL_FAILED.replace(' ExitCode=3:0', ' DerivedExitCode=0:0 ExitCode=3:0').replace('JobName=wrap', 'JobName=OldJobState=COMPLETED');
    assert.deepEqual(parseScontrol(line), { state: 'FAILED', exitCode: 3, signal: 0 });
  });

  test('sacct -P: final states only; "CANCELLED by UID" is CANCELLED', () => {
    const text = ['12|CANCELLED by 0|0:15', '13|OUT_OF_MEMORY|0:125', '14|COMPLETED|0:0', '15|FAILED|3:0', '16|RUNNING|0:0', '17|PENDING|0:0', '18|TIMEOUT|0:0', '19|NODE_FAIL|1:0', ''].join('\n');
    assert.deepEqual(
      [...parseSacct(text)],
      [
        ['12', { state: 'CANCELLED', exitCode: 0, signal: 15 }],
        ['13', { state: 'OUT_OF_MEMORY', exitCode: 0, signal: 125 }],
        ['14', { state: 'COMPLETED', exitCode: 0, signal: 0 }],
        ['15', { state: 'FAILED', exitCode: 3, signal: 0 }],
        ['18', { state: 'TIMEOUT', exitCode: 0, signal: 0 }],
        ['19', { state: 'NODE_FAIL', exitCode: 1, signal: 0 }],
      ],
    );
    assert.equal(parseSacct('').size, 0);
  });

  test('sacct durations: Elapsed [D-]HH:MM:SS, TotalCPU [D-][HH:]MM:SS[.mmm]', () => {
    assert.equal(durationMs('00:00:05'), 5000);
    assert.equal(durationMs('01:02:03'), 3_723_000);
    assert.equal(durationMs('2-03:04:05'), ((2 * 24 + 3) * 60 + 4) * 60_000 + 5000);
    assert.equal(durationMs('00:01.350'), 1350);
    assert.equal(durationMs('12:34.5'), 754_500);
    assert.equal(durationMs('1-00:00:00'), 86_400_000);
    for (const bad of ['', 'INVALID', '5', '1:2:3:4', undefined]) assert.equal(durationMs(bad), undefined, String(bad));
  });

  test('sacct sizes: K, M, G with fractions, in KiB; a bare number is KiB', () => {
    assert.equal(sizeKb('117360K'), 117360);
    assert.equal(sizeKb('12.50M'), 12800);
    assert.equal(sizeKb('2G'), 2 * 1024 * 1024);
    assert.equal(sizeKb('0'), 0);
    assert.equal(sizeKb(''), undefined);
    assert.equal(sizeKb(undefined), undefined);
  });

  test('sacct usage: run time and CPU from the job’s line, the largest memory of its steps', () => {
    // The layout of `sacct -n -P -o JobID,Elapsed,TotalCPU,MaxRSS` (SLURM 22.05's documented formats).
    const text = ['100|00:00:02|00:01.350|', '100.batch|00:00:02|00:01.349|117360K', '100.extern|00:00:02|00:00:00|0', '101|1-02:00:00|05:00:10|', '101.batch|1-02:00:00|00:10.000|2.5G', '101.0|1-01:59:00|04:59:00|1200M', '102|00:00:00|00:00:00|', ''].join('\n');
    assert.deepEqual(
      [...parseSacctUsage(text)],
      [
        ['100', { source: 'sacct', wallMs: 2000, cpuMs: 1350, maxRssKb: 117360 }],
        ['101', { source: 'sacct', wallMs: 26 * 3_600_000, cpuMs: 18_010_000, maxRssKb: 2.5 * 1024 * 1024 }],
        ['102', { source: 'sacct', wallMs: 0, cpuMs: 0 }],
      ],
    );
  });
});

// ---------------------------------------------------------------------------
// Job specs from Rulefiles.

const OPTS: SlurmOptions = { dir: '/p/.rules/slurm', jobName: 'rules-1-x', extra: [], pollMs: 250, outputWaitMs: 0 };

/** The job specs of a Rulefile's jobs (those with a command), by job label. */
function specsOf(rulefile: string, targets: string[], sources: string[] = [], cwd = '/p'): Map<string, JobSpec> {
  const project = projectFrom(rulefile);
  const graph = buildGraph(project, targets, new FakeFileSystem().write(...sources));
  const out = new Map<string, JobSpec>();
  for (const job of graph.jobs) {
    const command = renderCommand(project, job);
    if (command === undefined) continue;
    out.set(job.label, { job, command, shell: project.shell, cwd, env: renderEnv(project, job) });
  }
  return out;
}

function specOf(rulefile: string, target: string, sources: string[] = [], cwd = '/p'): JobSpec {
  const specs = specsOf(rulefile, [target], sources, cwd);
  assert.equal(specs.size, 1);
  return [...specs.values()][0]!;
}

const BASE = ['--parsable', '--job-name=rules-1-x', '--output=/p/j.log', '--chdir=/p', '--export=ALL'];
/** Every rule has cpus: 1 unless it says otherwise. */
const ONE_CPU = '--cpus-per-task=1';

describe('sbatch flags', () => {
  test('a rule without resources or slurm: gets the base flags and one CPU, the script last', () => {
    const spec = specOf(yaml`
      rules:
        a:
          outputs: a.txt
          run: touch {output}
    `, 'a.txt');
    assert.deepEqual(sbatchArgs(spec, OPTS, '/p/j.sh', '/p/j.log'), [...BASE, ONE_CPU, '/p/j.sh']);
  });

  test('resources become --cpus-per-task, --mem (MB) and --time (minutes)', () => {
    const spec = specOf(yaml`
      rules:
        a:
          outputs: a.txt
          resources: { cpus: 2, mem_mb: 300, runtime: 7, gpu: 1 }
          run: touch {output}
    `, 'a.txt');
    assert.deepEqual(sbatchArgs(spec, OPTS, '/p/j.sh', '/p/j.log'), [...BASE, '--cpus-per-task=2', '--mem=300M', '--time=7', '/p/j.sh']);
  });

  test('fractions are rounded up and zero CPUs is one: SLURM takes whole CPUs, MB and minutes', () => {
    const spec = specOf(yaml`
      rules:
        a:
          outputs: a.txt
          resources: { cpus: 0, mem_mb: 300.2, runtime: 0.25 }
          run: touch {output}
    `, 'a.txt');
    assert.deepEqual(sbatchArgs(spec, OPTS, '/p/j.sh', '/p/j.log'), [...BASE, ONE_CPU, '--mem=301M', '--time=1', '/p/j.sh']);
  });

  test("the build's partition and account apply to rules that name none", () => {
    const spec = specOf(yaml`
      rules:
        a:
          outputs: a.txt
          run: touch {output}
    `, 'a.txt');
    const opts = { ...OPTS, partition: 'short', account: 'lab' };
    assert.deepEqual(sbatchArgs(spec, opts, '/p/j.sh', '/p/j.log'), [...BASE, ONE_CPU, '--partition=short', '--account=lab', '/p/j.sh']);
  });

  test("a rule's slurm: partition and account beat the build's; extras come after the build's, the script stays last", () => {
    const specs = specsOf(
      yaml`
        rules:
          all:
            inputs: [a.txt, b.txt, c.txt]
          a:
            outputs: a.txt
            slurm: { partition: gpu, account: proj, extra: "--qos=long  --gres=gpu:1" }
            run: touch {output}
          b:
            outputs: b.txt
            slurm:
              partition: big
              extra: [--exclusive, "--comment=two words"]
            run: touch {output}
          c:
            outputs: c.txt
            slurm: { account: other }
            run: touch {output}
      `,
      ['all'],
    );
    const opts = { ...OPTS, partition: 'short', account: 'lab', extra: ['--qos=normal', '--requeue'] };
    assert.deepEqual(sbatchArgs(specs.get('a')!, opts, '/p/j.sh', '/p/j.log'), [
      ...BASE,
      ONE_CPU,
      '--partition=gpu',
      '--account=proj',
      '--qos=normal',
      '--requeue',
      '--qos=long',
      '--gres=gpu:1',
      '/p/j.sh',
    ]);
    assert.deepEqual(sbatchArgs(specs.get('b')!, opts, '/p/j.sh', '/p/j.log'), [
      ...BASE,
      ONE_CPU,
      '--partition=big',
      '--account=lab',
      '--qos=normal',
      '--requeue',
      '--exclusive',
      '--comment=two words',
      '/p/j.sh',
    ]);
    assert.deepEqual(sbatchArgs(specs.get('c')!, opts, '/p/j.sh', '/p/j.log'), [...BASE, ONE_CPU, '--partition=short', '--account=other', '--qos=normal', '--requeue', '/p/j.sh']);
  });

  test('the job runs in its working directory, logging to the path given', () => {
    const spec = specOf(yaml`
      rules:
        a:
          outputs: a.txt
          run: touch {output}
    `, 'a.txt', [], '/home/me/my project');
    const args = sbatchArgs(spec, OPTS, '/home/me/my project/.rules/slurm/9-1.sh', '/home/me/my project/.rules/slurm/9-1.log');
    assert.ok(args.includes('--chdir=/home/me/my project'));
    assert.ok(args.includes('--output=/home/me/my project/.rules/slurm/9-1.log'));
    assert.equal(args.at(-1), '/home/me/my project/.rules/slurm/9-1.sh');
  });

  test('a % in the log path is escaped: --output is a filename pattern (%j is the job id)', () => {
    const spec = specOf(yaml`
      rules:
        a:
          outputs: a.txt
          run: touch {output}
    `, 'a.txt', [], '/data/100%j');
    const args = sbatchArgs(spec, OPTS, '/data/100%j/.rules/slurm/9-1.sh', '/data/100%j/.rules/slurm/9-1.log');
    assert.ok(args.includes('--output=/data/100%%j/.rules/slurm/9-1.log'), args.join(' '));
    assert.ok(args.includes('--chdir=/data/100%j'), 'the working directory is no pattern');
    assert.equal(args.at(-1), '/data/100%j/.rules/slurm/9-1.sh');
  });
});

// ---------------------------------------------------------------------------
// The job script.

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'rules-slurm-unit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes the script as the executor does and runs it as SLURM would: by its path, in the job's directory. */
function runScript(t: TestContext, spec: JobSpec, env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const dir = tempDir(t);
  const script = join(dir, 'job.sh');
  writeFileSync(script, jobScript(spec));
  chmodSync(script, 0o755);
  // stdin not a socket: bash -c would take itself for a remote shell and read ~/.bashrc.
  const r = spawnSync(script, [], { cwd: spec.cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the job script', () => {
  const NASTY = {
    QUOTES: `it's "double" and 'single'`,
    SPACES: '  a  b\tc  ',
    DOLLARS: '$HOME ${PATH} $(echo no) `echo no` \\n \\',
    EMPTY: '',
    LINES: 'one\ntwo\n',
    GLOB: '* ? [a] ~',
  };

  test('exports the environment values exactly, whatever they contain', (t) => {
    const spec = specOf(yaml`
      rules:
        a:
          outputs: a.txt
          run: printf '<%s>' "$QUOTES" "$SPACES" "$DOLLARS" "$EMPTY" "$LINES" "$GLOB"
    `, 'a.txt', [], tempDir(t));
    spec.env = { ...NASTY };
    const r = runScript(t, spec);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.equal(r.stdout, Object.values(NASTY).map((v) => `<${v}>`).join(''));
  });

  test("values rendered from the Rulefile's env: reach the command", (t) => {
    const spec = specOf(yaml`
      rules:
        a:
          outputs: "out/{name}.txt"
          inputs: "src/{name}.txt"
          env:
            WHO: "{wildcards.name}"
            ODD: "it's $HOME"
          run: echo "$WHO|$ODD|" {output}
    `, 'out/x y.txt', ['src/x y.txt'], tempDir(t));
    const r = runScript(t, spec);
    assert.equal(r.stdout, `x y|it's $HOME| out/x y.txt\n`);
  });

  test("runs the command with the Rulefile's shell, in the working directory, with the exit status of the command", (t) => {
    const dir = tempDir(t);
    const spec = specOf(yaml`
      rules:
        a:
          outputs: a.txt
          run: pwd; echo "it's here" > {output}; echo to-stderr >&2; exit 3
    `, 'a.txt', [], dir);
    const r = runScript(t, spec);
    assert.equal(r.status, 3);
    assert.equal(r.stdout, `${dir}\n`);
    assert.equal(r.stderr, 'to-stderr\n');
    assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), "it's here\n");

    const bash = specOf(yaml`
      shell: bash -euo pipefail -c
      rules:
        a:
          outputs: a.txt
          run: false | true; echo after
    `, 'a.txt', [], dir);
    const rb = runScript(t, bash);
    assert.equal(rb.status, 1, 'pipefail: bash runs the command, not sh');
    assert.equal(rb.stdout, '');
  });

  test('an exported bash function in env: (like `module` on HPC systems) works, as it does for a local job', (t) => {
    const dir = tempDir(t);
    const spec = specOf(yaml`
      shell: bash -c
      env: { "BASH_FUNC_greet%%": "() { echo hello-from-function > \\"$1\\"; }" }
      rules:
        a:
          outputs: a.txt
          run: greet {output}
    `, 'a.txt', [], dir);
    assert.deepEqual(Object.keys(spec.env), ['BASH_FUNC_greet%%']);
    const r = runScript(t, spec);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 0);
    assert.equal(readFileSync(join(dir, 'a.txt'), 'utf8'), 'hello-from-function\n');
  });

  test('keeps the environment it was started with (sbatch --export=ALL), rule values winning', (t) => {
    const spec = specOf(yaml`
      rules:
        a:
          outputs: a.txt
          run: echo "$OUTER $SHARED"
    `, 'a.txt', [], tempDir(t));
    spec.env = { SHARED: 'from-rule' };
    const r = runScript(t, spec, { OUTER: 'from-outside', SHARED: 'from-outside' });
    assert.equal(r.stdout, 'from-outside from-rule\n');
  });
});

// ---------------------------------------------------------------------------
// The executor against a fake cluster.

interface Call {
  cmd: string;
  args: string[];
  at: number;
}

interface Plan {
  /** How many squeue answers show the job queued or running before it ends (default 1). */
  polls?: number;
  /** The recorded scontrol line of its end, or 'vanish' (gone from squeue and scontrol). */
  end?: string | 'vanish';
  /** What sacct answers; by default it fails as on a cluster without accounting. */
  sacct?: string;
  /** What sacct answers about what the job used (the cluster's `accounting` on). */
  usage?: string;
  /** What the job writes to its SLURM log. */
  log?: string;
}

interface FakeJob {
  id: string;
  name: string;
  args: string[];
  plan: Plan;
  /** squeue answers so far that listed the job. */
  seen: number;
  cancelled: boolean;
}

/**
 * Answers sbatch, squeue, scontrol, sacct and scancel as a cluster would,
 * from recorded text. `plan(script)` decides each job's fate from its script.
 */
class FakeCluster {
  readonly calls: Call[] = [];
  readonly jobs = new Map<string, FakeJob>();
  private next = 100;
  private readonly t0 = Date.now();
  /** Runs before the cluster looks at a command (a delay, or throw to make the command fail). */
  before: (cmd: string, args: string[]) => Promise<unknown> | void = () => {};
  /** Runs after the cluster took its answer, before the answer comes back (a slow command). */
  after: (cmd: string, args: string[]) => Promise<unknown> | void = () => {};
  /** The script of each job, as submitted. */
  readonly scripts = new Map<string, string>();
  sbatchAnswer = (id: string) => `${id}\n`;
  /** A cluster with accounting (slurmdbd) answers sacct's questions about usage; the test cluster has none. */
  accounting = false;

  constructor(private readonly plan: (script: string) => Plan = () => ({})) {}

  run = async (cmd: string, args: string[]): Promise<string> => {
    this.calls.push({ cmd, args, at: Date.now() - this.t0 });
    await this.before(cmd, args);
    // squeue takes its snapshot when it is asked, however long the answer takes to come back.
    const answer = this.answer(cmd, args);
    await this.after(cmd, args);
    return answer();
  };

  count(cmd: string): number {
    return this.calls.filter((c) => c.cmd === cmd).length;
  }

  callsOf(cmd: string): Call[] {
    return this.calls.filter((c) => c.cmd === cmd);
  }

  private answer(cmd: string, args: string[]): () => string {
    switch (cmd) {
      case 'sbatch': {
        const id = String(this.next++);
        const script = args.at(-1)!;
        const text = readFileSync(script, 'utf8');
        this.scripts.set(id, text);
        const plan = this.plan(text);
        const name = args.find((a) => a.startsWith('--job-name='))!.slice('--job-name='.length);
        this.jobs.set(id, { id, name, args, plan, seen: 0, cancelled: false });
        const log = args.find((a) => a.startsWith('--output='))!.slice('--output='.length);
        if (plan.log !== undefined) writeFileSync(log, plan.log);
        return () => this.sbatchAnswer(id);
      }
      case 'squeue': {
        const name = args.find((a) => a.startsWith('--name='))!.slice('--name='.length);
        let text = '';
        for (const j of this.jobs.values()) {
          if (j.name !== name) continue;
          const state = this.state(j);
          j.seen++;
          if (state !== undefined) text += `${j.id}|${state}\n`;
        }
        return () => text;
      }
      case 'scontrol': {
        const j = this.jobs.get(args.at(-1)!);
        const state = j && this.state(j);
        return () => {
          if (!j || state === undefined) throw new Error(SCONTROL_GONE);
          if (state === 'RUNNING' || state === 'PENDING') return SCONTROL_RUNNING.replace('JobId=13', `JobId=${j.id}`).replace('JobState=RUNNING', `JobState=${state}`);
          return this.endOf(j)!.replace(/^JobId=\d+/, `JobId=${j.id}`);
        };
      }
      case 'sacct': {
        const ids = args[args.indexOf('-j') + 1]!.split(',');
        if (args.includes(SACCT_USAGE_FIELDS)) {
          return () => {
            if (!this.accounting) throw new Error(SACCT_DISABLED);
            return ids.map((id) => this.jobs.get(id)?.plan.usage ?? '').join('');
          };
        }
        return () => {
          const lines = ids.map((id) => this.jobs.get(id)?.plan.sacct).filter((s) => s !== undefined);
          if (lines.length === 0) throw new Error(SACCT_DISABLED);
          return lines.join('\n') + '\n';
        };
      }
      case 'scancel':
        for (const id of args) {
          const j = this.jobs.get(id);
          if (j) j.cancelled = true;
        }
        return () => '';
      default:
        return () => {
          throw new Error(`${cmd}: command not found`);
        };
    }
  }

  private endOf(j: FakeJob): string | undefined {
    if (j.cancelled) return SCONTROL_CANCELLED;
    return j.plan.end === 'vanish' ? undefined : (j.plan.end ?? SCONTROL_COMPLETED);
  }

  /** The job's state in squeue now; undefined if it has left squeue. */
  private state(j: FakeJob): string | undefined {
    if (j.cancelled) return 'CANCELLED';
    if (j.seen < (j.plan.polls ?? 1)) return j.seen === 0 ? 'PENDING' : 'RUNNING';
    const end = this.endOf(j);
    return end && /JobState=(\S+)/.exec(end)![1];
  }
}

function executor(t: TestContext, cluster: FakeCluster, opts: Partial<SlurmOptions> = {}): { ex: SlurmExecutor; dir: string } {
  const dir = tempDir(t);
  const ex = new SlurmExecutor({ dir: join(dir, '.rules/slurm'), jobName: 'rules-42-test', extra: [], pollMs: 5, outputWaitMs: 0, run: cluster.run, ...opts });
  t.after(() => ex.close());
  return { ex, dir };
}

/** `n` independent jobs `j0.txt` … whose commands are `echo jI`, run in `cwd`. */
function jobs(n: number, cwd: string): JobSpec[] {
  const rulefile = yaml`
    rules:
      j:
        outputs: "j{i}.txt"
        run: echo {output} > {output}
  `;
  const targets = Array.from({ length: n }, (_, i) => `j${i}.txt`);
  return [...specsOf(rulefile, targets, [], cwd).values()];
}

/** An outcome with its failure as users read it (report/failure.ts). */
type ShownOutcome = Omit<JobOutcome, 'ok'> & { ok: boolean; error?: string };

function shown(o: JobOutcome): ShownOutcome {
  if (o.ok) return o;
  const { failure, ...rest } = o;
  return { ...rest, error: failureText(failure) };
}

async function settled(p: Promise<JobOutcome>, ms = 5000): Promise<ShownOutcome> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return shown(
      await Promise.race([
        p,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`the job did not end within ${ms} ms`)), ms);
        }),
      ]),
    );
  } finally {
    clearTimeout(timer);
  }
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('the SLURM executor', () => {
  test('a job that completes: its script and flags are submitted, its SLURM log is its output', async (t) => {
    const cluster = new FakeCluster(() => ({ polls: 3, log: 'hello from the node\n' }));
    const { ex, dir } = executor(t, cluster);
    const [spec] = jobs(1, dir);
    const outcome = await settled(ex.start(spec!).done);
    assert.deepEqual(outcome, { ok: true, exitCode: 0, signal: null, output: 'hello from the node\n' });

    const [sbatch] = cluster.callsOf('sbatch');
    const base = join(dir, '.rules/slurm', `${process.pid}-1`);
    assert.deepEqual(sbatch!.args, sbatchArgs(spec!, { dir: join(dir, '.rules/slurm'), jobName: 'rules-42-test', extra: [], pollMs: 5, outputWaitMs: 0 }, `${base}.sh`, `${base}.log`));
    assert.equal(cluster.scripts.get('100'), jobScript(spec!));
    // Done with: a succeeded job's script and log are removed.
    assert.equal(existsSync(`${base}.sh`), false);
    assert.equal(existsSync(`${base}.log`), false);
    // squeue until it shows the end, then one scontrol, and one sacct for what it used (refused: no accounting).
    for (const c of cluster.callsOf('squeue')) assert.deepEqual(c.args, ['-h', '-t', 'all', '--name=rules-42-test', '-o', '%i|%T']);
    assert.ok(cluster.count('squeue') >= 3, `${cluster.count('squeue')} squeue calls`);
    assert.deepEqual(cluster.callsOf('scontrol').map((c) => c.args), [['-o', 'show', 'job', '100']]);
    assert.deepEqual(cluster.callsOf('sacct').map((c) => c.args), [['-n', '-P', '-j', '100', '-o', 'JobID,Elapsed,TotalCPU,MaxRSS']]);
    assert.equal(ex.queries, cluster.count('squeue') + cluster.count('scontrol') + 1);
  });

  test('sbatch --parsable on a multi-cluster site answers "ID;CLUSTER"', async (t) => {
    const cluster = new FakeCluster();
    cluster.sbatchAnswer = (id) => `${id};rules\n`;
    const { ex, dir } = executor(t, cluster);
    const outcome = await settled(ex.start(jobs(1, dir)[0]!).done);
    assert.equal(outcome.ok, true, outcome.error);
    assert.deepEqual(cluster.callsOf('scontrol').map((c) => c.args.at(-1)), ['100']);
  });

  test('a job that fails: its exit status, the SLURM id and state in the message, its log as output', async (t) => {
    const cluster = new FakeCluster(() => ({ polls: 2, end: SCONTROL_FAILED, log: 'partial\n' }));
    const { ex, dir } = executor(t, cluster);
    const outcome = await settled(ex.start(jobs(1, dir)[0]!).done);
    assert.deepEqual(outcome, { ok: false, exitCode: 3, signal: null, output: 'partial\n', error: 'SLURM job 100 FAILED, exit status 3' });
    // A failed job's script and log stay, to look into.
    const base = join(dir, '.rules/slurm', `${process.pid}-1`);
    assert.equal(readFileSync(`${base}.sh`, 'utf8'), cluster.scripts.get('100'));
    assert.equal(readFileSync(`${base}.log`, 'utf8'), 'partial\n');
  });

  test('TIMEOUT, OUT_OF_MEMORY, NODE_FAIL and CANCELLED (by someone else) fail the job, naming the state', async (t) => {
    const ends = [SCONTROL_TIMEOUT, SCONTROL_OOM, SCONTROL_NODE_FAIL, SCONTROL_CANCELLED];
    const cluster = new FakeCluster((script) => ({ end: ends[Number(/j(\d)\.txt/.exec(script)![1])] }));
    const { ex, dir } = executor(t, cluster);
    const outcomes = await Promise.all(jobs(4, dir).map((s) => settled(ex.start(s).done)));
    assert.deepEqual(
      outcomes.map((o) => [o.ok, o.error, o.signal]),
      [
        [false, 'SLURM job 100 TIMEOUT, signal 15', '15'],
        [false, 'SLURM job 101 OUT_OF_MEMORY, signal 125', '125'],
        [false, 'SLURM job 102 NODE_FAIL, exit status 0', null],
        [false, 'SLURM job 103 CANCELLED, signal 15', '15'],
      ],
    );
  });

  test('a job gone from squeue, scontrol and sacct fails: it left the queue in an unknown state', async (t) => {
    const cluster = new FakeCluster(() => ({ polls: 2, end: 'vanish' }));
    const { ex, dir } = executor(t, cluster);
    const outcome = await settled(ex.start(jobs(1, dir)[0]!).done);
    assert.equal(outcome.ok, false);
    assert.equal(outcome.error, 'SLURM job 100 left the queue in an unknown state');
    assert.equal(cluster.count('scontrol'), 1);
    assert.deepEqual(cluster.callsOf('sacct').map((c) => c.args), [['-n', '-P', '-X', '-j', '100', '-o', 'JobID,State,ExitCode']]);
  });

  test('a job the controller forgot is read from sacct', async (t) => {
    const cluster = new FakeCluster((script) =>
      script.includes('j0.txt') ? { end: 'vanish', sacct: '100|CANCELLED by 0|0:15' } : script.includes('j1.txt') ? { end: 'vanish', sacct: '101|COMPLETED|0:0' } : { end: 'vanish', sacct: '102|OUT_OF_MEMORY|0:125' },
    );
    const { ex, dir } = executor(t, cluster);
    const outcomes = await Promise.all(jobs(3, dir).map((s) => settled(ex.start(s).done)));
    assert.deepEqual(
      outcomes.map((o) => [o.ok, o.error]),
      [
        [false, 'SLURM job 100 CANCELLED, signal 15'],
        [true, undefined],
        [false, 'SLURM job 102 OUT_OF_MEMORY, signal 125'],
      ],
    );
  });

  test('sbatch refusing the job fails it with sbatch’s message; nothing is polled', async (t) => {
    const cluster = new FakeCluster();
    cluster.before = (cmd) => {
      if (cmd === 'sbatch') throw new Error('sbatch: error: invalid partition specified: nope\nsbatch: error: Batch job submission failed: Invalid partition name specified');
    };
    const { ex, dir } = executor(t, cluster);
    const outcome = await settled(ex.start(jobs(1, dir)[0]!).done);
    assert.equal(outcome.ok, false);
    assert.match(outcome.error!, /sbatch refused the job: .*Invalid partition name specified/s);
    await tick(50);
    assert.equal(cluster.count('squeue'), 0);
    assert.equal(cluster.count('scancel'), 0);
  });

  test('a failing squeue (controller busy) is retried; the job still ends well', async (t) => {
    const cluster = new FakeCluster(() => ({ polls: 2 }));
    let failures = 3;
    cluster.before = (cmd) => {
      if (cmd === 'squeue' && failures-- > 0) throw new Error('squeue: error: slurm_load_jobs: Socket timed out on send/recv operation');
    };
    const { ex, dir } = executor(t, cluster);
    const outcome = await settled(ex.start(jobs(1, dir)[0]!).done);
    assert.equal(outcome.ok, true, outcome.error);
    assert.ok(cluster.count('squeue') >= 5);
  });

  test('a job squeue shows ended but scontrol cannot read yet is asked again, not given up', async (t) => {
    const cluster = new FakeCluster(() => ({ polls: 1, end: SCONTROL_FAILED }));
    let failures = 2;
    cluster.before = (cmd) => {
      if (cmd === 'scontrol' && failures-- > 0) throw new Error('slurm_load_jobs error: Socket timed out on send/recv operation');
    };
    const { ex, dir } = executor(t, cluster);
    const outcome = await settled(ex.start(jobs(1, dir)[0]!).done);
    assert.equal(outcome.error, 'SLURM job 100 FAILED, exit status 3');
    assert.equal(cluster.count('scontrol'), 3);
    // Not for its state: only once, for what it used.
    assert.deepEqual(cluster.callsOf('sacct').map((c) => c.args.at(-1)), [SACCT_USAGE_FIELDS]);
  });

  test('kill() after submission: one scancel for all the jobs killed together; they end interrupted', async (t) => {
    const cluster = new FakeCluster(() => ({ polls: 1_000_000 }));
    const { ex, dir } = executor(t, cluster);
    const running = jobs(3, dir).map((s) => ex.start(s));
    // Wait until they are submitted and running.
    while (cluster.count('squeue') < 3) await tick(5);
    for (const r of running) r.kill();
    const outcomes = await Promise.all(running.map((r) => settled(r.done)));
    assert.deepEqual(cluster.callsOf('scancel').map((c) => c.args.slice().sort()), [['100', '101', '102']]);
    assert.deepEqual(outcomes.map((o) => [o.ok, o.error]), [
      [false, 'interrupted'],
      [false, 'interrupted'],
      [false, 'interrupted'],
    ]);
  });

  test('kill() before sbatch answers: the jobs are cancelled as soon as their ids are known, in one scancel', async (t) => {
    const cluster = new FakeCluster(() => ({ polls: 1_000_000 }));
    // sbatch answers only after the kills, for all three at once.
    let answer!: () => void;
    const answered = new Promise<void>((r) => (answer = r));
    cluster.before = (cmd) => (cmd === 'sbatch' ? answered : undefined);
    const { ex, dir } = executor(t, cluster);
    const running = jobs(3, dir).map((s) => ex.start(s));
    for (const r of running) r.kill();
    await tick(20);
    assert.equal(cluster.count('scancel'), 0, 'no id to cancel yet');
    answer();
    const outcomes = await Promise.all(running.map((r) => settled(r.done)));
    assert.deepEqual(cluster.callsOf('scancel').map((c) => c.args.slice().sort()), [['100', '101', '102']]);
    assert.ok(outcomes.every((o) => !o.ok && o.error === 'interrupted'), JSON.stringify(outcomes));
  });

  test('kill() of a job already ended changes nothing', async (t) => {
    const cluster = new FakeCluster(() => ({ polls: 1 }));
    const { ex, dir } = executor(t, cluster);
    const r = ex.start(jobs(1, dir)[0]!);
    const outcome = await settled(r.done);
    assert.equal(outcome.ok, true);
    // The scheduler kills only running jobs; a late kill must still not break anything.
    r.kill();
    await tick(20);
    assert.deepEqual(await r.done, outcome);
  });

  test('with accounting: what each job used, from one sacct per poll for the jobs that ended in it', async (t) => {
    const cluster = new FakeCluster((script) => {
      const i = Number(/j(\d+)\.txt/.exec(script)![1]);
      const id = 100 + i;
      return {
        polls: i < 2 ? 1 : 3,
        end: i === 2 ? SCONTROL_FAILED : SCONTROL_COMPLETED,
        usage: i === 3 ? '' : `${id}|00:00:0${i + 1}|00:0${i}.500|\n${id}.batch|00:00:0${i + 1}|00:0${i}.500|${i + 1}0M\n${id}.extern|00:00:0${i + 1}|00:00:00|0\n`,
      };
    });
    cluster.accounting = true;
    const { ex, dir } = executor(t, cluster);
    const outcomes = await Promise.all(jobs(4, dir).map((s) => settled(ex.start(s).done)));
    assert.deepEqual(
      outcomes.map((o) => [o.ok, o.usage]),
      [
        [true, { source: 'sacct', wallMs: 1000, cpuMs: 500, maxRssKb: 10 * 1024 }],
        [true, { source: 'sacct', wallMs: 2000, cpuMs: 1500, maxRssKb: 20 * 1024 }],
        // A failed job has its usage too; a job sacct does not know (yet) has none.
        [false, { source: 'sacct', wallMs: 3000, cpuMs: 2500, maxRssKb: 30 * 1024 }],
        [true, undefined],
      ],
    );
    assert.deepEqual(
      cluster.callsOf('sacct').map((c) => c.args),
      [
        ['-n', '-P', '-j', '100,101', '-o', SACCT_USAGE_FIELDS],
        ['-n', '-P', '-j', '102,103', '-o', SACCT_USAGE_FIELDS],
      ],
    );
  });

  test('without accounting: sacct is asked once, the jobs have no usage and no error', async (t) => {
    const cluster = new FakeCluster((script) => ({ polls: script.includes('j0.txt') ? 1 : 3 }));
    const { ex, dir } = executor(t, cluster);
    const outcomes = await Promise.all(jobs(3, dir).map((s) => settled(ex.start(s).done)));
    assert.deepEqual(
      outcomes.map((o) => [o.ok, o.usage]),
      [
        [true, undefined],
        [true, undefined],
        [true, undefined],
      ],
    );
    assert.deepEqual(cluster.callsOf('sacct').map((c) => c.args.at(3)), ['100']);
  });

  test('a sacct that fails otherwise (slurmdbd busy) leaves those jobs without usage, and is asked again for later ones', async (t) => {
    const cluster = new FakeCluster((script) => ({ polls: script.includes('j0.txt') ? 1 : 3, usage: script.includes('j0.txt') ? '100|00:00:01|00:00.100|\n' : '101|00:00:02|00:00.200|\n' }));
    cluster.accounting = true;
    let failures = 1;
    cluster.before = (cmd) => {
      if (cmd === 'sacct' && failures-- > 0) throw new Error('sacct: error: Problem talking to the database: Connection refused');
    };
    const { ex, dir } = executor(t, cluster);
    const outcomes = await Promise.all(jobs(2, dir).map((s) => settled(ex.start(s).done)));
    assert.deepEqual(
      outcomes.map((o) => o.usage),
      [undefined, { source: 'sacct', wallMs: 2000, cpuMs: 200 }],
    );
  });

  test('many jobs: one squeue per poll for all of them, one scontrol per job that ended', async (t) => {
    const n = 60;
    const cluster = new FakeCluster(() => ({ polls: 4 }));
    const { ex, dir } = executor(t, cluster, { pollMs: 10 });
    const outcomes = await Promise.all(jobs(n, dir).map((s) => settled(ex.start(s).done)));
    assert.ok(outcomes.every((o) => o.ok));
    const squeues = cluster.count('squeue');
    assert.ok(squeues >= 4 && squeues <= 8, `${squeues} squeue calls for ${n} jobs`);
    assert.equal(cluster.count('scontrol'), n);
    // One sacct for what the first jobs to end used: it says there is no accounting, and is not asked again.
    assert.equal(cluster.count('sacct'), 1);
    assert.equal(ex.queries, squeues + n + 1);
  });

  test('polls back off ×1.5 up to 10× the first interval while nothing changes, and speed up when something does', async (t) => {
    const cluster = new FakeCluster((script) => ({ polls: script.includes('j0.txt') ? 12 : 16 }));
    const { ex, dir } = executor(t, cluster, { pollMs: 20 });
    await Promise.all(jobs(2, dir).map((s) => settled(ex.start(s).done, 10_000)));
    const at = cluster.callsOf('squeue').map((c) => c.at);
    const gaps = at.slice(1).map((a, i) => a - at[i]!);
    // 20 30 45 68 101 152 200 200 ... (j0 ends) 20 30 45 68 (j1 ends)
    const shown = gaps.join(' ');
    assert.ok(gaps[0]! < 60, shown);
    assert.ok(gaps[4]! >= 80, `the 5th interval has grown: ${shown}`);
    // Never more than 10× the first. A timer may fire late on a loaded machine, so one gap or two
    // may come out longer; without the cap, the 9th and every one after it would pass 500 ms.
    assert.ok(gaps.filter((g) => g > 200 + 60).length <= 2 && Math.max(...gaps) < 500, `never more than 10× the first: ${shown}`);
    assert.ok(gaps.filter((g) => g >= 180).length >= 2, `it stays at 10×: ${shown}`);
    // The 13th squeue (index 12) shows j0 ended.
    assert.ok(gaps[12]! < 60, `after j0 ended the next poll comes soon: ${shown}`);
  });

  test('a finished job waits (a while) for its outputs to appear on a lagging file system', async (t) => {
    const cluster = new FakeCluster(() => ({ polls: 1 }));
    const { ex, dir } = executor(t, cluster, { outputWaitMs: 5000 });
    const [spec] = jobs(1, dir);
    const t0 = Date.now();
    setTimeout(() => writeFileSync(join(dir, 'j0.txt'), 'late\n'), 300);
    const outcome = await settled(ex.start(spec!).done);
    assert.equal(outcome.ok, true);
    assert.ok(existsSync(join(dir, 'j0.txt')), 'it returned only once the output was there');
    assert.ok(Date.now() - t0 < 3000, 'and did not wait out the whole time');
  });

  test('outputs that never appear: it gives up after the wait and leaves the verdict to the scheduler', async (t) => {
    const cluster = new FakeCluster(() => ({ polls: 1 }));
    const { ex, dir } = executor(t, cluster, { outputWaitMs: 300 });
    const t0 = Date.now();
    const outcome = await settled(ex.start(jobs(1, dir)[0]!).done);
    const took = Date.now() - t0;
    assert.equal(outcome.ok, true);
    assert.ok(took >= 290 && took < 2000, `${took} ms`);
  });

  test('a job with a log: file is logged there by SLURM; no output is captured', async (t) => {
    const cluster = new FakeCluster(() => ({ polls: 1, log: 'into the rule log\n' }));
    const { ex, dir } = executor(t, cluster);
    const spec = { ...jobs(1, dir)[0]!, logPath: join(dir, 'logs/j0.log') };
    mkdirSync(join(dir, 'logs')); // the scheduler makes the log's directory
    const outcome = await settled(ex.start(spec).done);
    assert.deepEqual(outcome, { ok: true, exitCode: 0, signal: null, output: '' });
    assert.ok(cluster.callsOf('sbatch')[0]!.args.includes(`--output=${join(dir, 'logs/j0.log')}`));
    assert.equal(readFileSync(join(dir, 'logs/j0.log'), 'utf8'), 'into the rule log\n');
  });

  test('a failed job with a log: file: the end of that file comes back with the failure', async (t) => {
    const cluster = new FakeCluster(() => ({ polls: 1, end: SCONTROL_FAILED, log: 'first\nwhy it failed\n' }));
    const { ex, dir } = executor(t, cluster);
    const spec = { ...jobs(1, dir)[0]!, logPath: join(dir, 'logs/j0.log') };
    mkdirSync(join(dir, 'logs'));
    const outcome = await settled(ex.start(spec).done);
    assert.deepEqual(outcome, { ok: false, exitCode: 3, signal: null, output: '', logTail: 'first\nwhy it failed\n', error: 'SLURM job 100 FAILED, exit status 3' });
  });

  test('a job submitted while a squeue is under way is not taken for one that vanished', async (t) => {
    // Job 100 is being polled; job 101's sbatch answers after that squeue took its snapshot
    // but before the answer came back (a busy controller: sbatch and squeue each take a while).
    const cluster = new FakeCluster(() => ({ polls: 6 }));
    let squeueStarted!: () => void;
    const inSqueue = new Promise<void>((r) => (squeueStarted = r));
    cluster.after = (cmd) => {
      if (cmd === 'squeue') {
        squeueStarted();
        return tick(60);
      }
    };
    const { ex, dir } = executor(t, cluster, { pollMs: 10 });
    const [a, b] = jobs(2, dir);
    const first = ex.start(a!);
    await inSqueue;
    const second = ex.start(b!);
    const outcomes = await Promise.all([settled(first.done), settled(second.done)]);
    assert.deepEqual(
      outcomes.map((o) => [o.ok, o.error]),
      [
        [true, undefined],
        [true, undefined],
      ],
    );
  });
});
