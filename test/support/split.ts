// A fake executor for graphs that grow during the build (SPEC §7): the fake
// executor of build.ts, plus a command holding `SPLIT` that writes one file
// per line of its first input into its directory output (`DIR/LINE.txt`,
// holding the line): a step whose output count is known only when it runs.

import type { Executor, JobSpec, RunningJob } from '../../src/run/executor.js';
import { FakeExecutor } from './build.js';
import type { FakeFileSystem } from './fakefs.js';

export class SplitExecutor implements Executor {
  readonly ran: string[] = [];
  private readonly plain: FakeExecutor;

  constructor(private readonly fs: FakeFileSystem) {
    this.plain = new FakeExecutor(fs);
  }

  start(spec: JobSpec): RunningJob {
    const job = spec.job;
    this.ran.push(job.label);
    if (!spec.command.includes('SPLIT')) return this.plain.start(spec);
    const dir = [...job.dirOutputs!][0]!;
    for (const line of (this.fs.read(job.inputs[0]!) ?? '').split('\n')) if (line !== '') this.fs.put(`${dir}/${line}.txt`, line);
    const ok = !spec.command.includes('FAIL');
    return {
      done: Promise.resolve(ok ? { ok: true, exitCode: 0, signal: null, output: '' } : { ok: false, exitCode: 1, signal: null, output: '', failure: { kind: 'exit', code: 1 } }),
      kill() {},
    };
  }
}
