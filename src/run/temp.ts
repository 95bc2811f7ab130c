// Deleting temporary outputs during a build (SPEC §7): each is deleted as
// soon as every job of the plan that needs it has finished well (run, or
// skipped by early cutoff), and only when this build ran its job or one of
// those that need it. Kept while one may still need it (a job that needs it
// failed, never started, or the build was interrupted), when the build was
// asked for it (graph/temp.ts), and with --keep-temp. The records stay, so a
// gone temporary output makes nothing stale (plan/staleness.ts).

import type { Job } from '../graph/model.js';
import { askedTemps, neededTemps } from '../graph/temp.js';
import type { Plan } from '../plan/plan.js';
import { isInert } from '../plan/staleness.js';
import type { FileOracle } from '../state/files.js';

interface Pending {
  producer: Job;
  /** Jobs of the plan that need it and have not finished well yet. */
  left: number;
  /** Its job or one that needs it ran in this build. */
  touched: boolean;
}

export class TempOutputs {
  private readonly pending = new Map<string, Pending>();
  /** The temporary outputs each job of the plan needs. */
  private readonly needs = new Map<Job, string[]>();
  freedBytes = 0;
  /** Temporary outputs deleted (a directory counts once). */
  freedFiles = 0;

  /** Undefined when nothing can be deleted: no rule has `temp`, or --keep-temp. */
  static of(plan: Plan, keepTemp: boolean): TempOutputs | undefined {
    if (keepTemp || !plan.context.project.rules.some((r) => r.temp !== undefined)) return undefined;
    return new TempOutputs(plan);
  }

  private readonly asked: ReadonlySet<string>;

  private constructor(private readonly plan: Plan) {
    this.asked = askedTemps(plan.graph);
    this.add(plan.order);
  }

  private entry(producer: Job, temp: string): Pending {
    let p = this.pending.get(temp);
    if (p === undefined) this.pending.set(temp, (p = { producer, left: 0, touched: false }));
    return p;
  }

  /** Jobs of the plan: the temporary outputs they make, and those they need. */
  private add(jobs: readonly Job[]): void {
    const asked = this.asked;
    for (const job of jobs) {
      if (job.tempOutputs !== undefined) for (const t of job.tempOutputs) if (!asked.has(t)) this.entry(job, t);
      // A phony grouping reads nothing: the jobs that need it need what it groups.
      if (isInert(job)) continue;
      let mine: string[] | undefined;
      neededTemps(this.plan.graph, job, (producer, temp) => {
        if (asked.has(temp) || mine?.includes(temp)) return;
        (mine ??= []).push(temp);
        this.entry(producer, temp).left++;
      });
      if (mine !== undefined) this.needs.set(job, mine);
    }
  }

  /**
   * The graph grew (SPEC §7): `job`'s pending globs were matched, and
   * `planned` joined the plan. `job` now needs what its new inputs need
   * (before, the directories it waited for); the new jobs are counted in.
   * Called before the job whose run made the growth is counted finished.
   */
  grew(job: Job, planned: readonly Job[]): void {
    const before = this.needs.get(job);
    this.needs.delete(job);
    this.add([job, ...planned]);
    // Needed before only for the wait: no longer needed by this job.
    const now = this.needs.get(job);
    for (const t of before ?? []) {
      const p = this.pending.get(t);
      if (p === undefined) continue;
      p.left--;
      if (!now?.includes(t)) this.deleteIfDone(t, p);
    }
  }

  /** A job of the plan is done: `ok` finished well, `ran` its command ran (not skipped). */
  finished(job: Job, ok: boolean, ran: boolean): void {
    if (!ok) return;
    if (ran && job.tempOutputs !== undefined) {
      for (const t of job.tempOutputs) {
        const p = this.pending.get(t);
        if (p === undefined || p.producer !== job) continue;
        p.touched = true;
        this.deleteIfDone(t, p);
      }
    }
    const mine = this.needs.get(job);
    if (mine === undefined) return;
    for (const t of mine) {
      const p = this.pending.get(t);
      if (p === undefined) continue;
      p.left--;
      if (ran) p.touched = true;
      this.deleteIfDone(t, p);
    }
  }

  private deleteIfDone(temp: string, p: Pending): void {
    if (p.left > 0 || !p.touched) return;
    this.pending.delete(temp);
    const files = this.plan.context.files;
    const fs = files.fs;
    const st = fs.stat(temp);
    if (st === undefined) return;
    const dir = p.producer.dirOutputs?.has(temp) === true;
    // A directory where a file is declared (or the reverse) is nobody's to delete.
    if (st.isDirectory !== dir) return;
    const bytes = dir ? treeBytes(files, temp) : st.size;
    try {
      // Never follows a link: one at the path is unlinked, links inside a directory output too.
      if (dir) fs.removeTree(temp);
      else fs.remove(temp);
    } catch {
      // Left where it is (no permission): it is only disk space, and the next build tries again.
      return;
    }
    this.freedBytes += bytes;
    this.freedFiles++;
  }
}

/** The bytes in the files under directory `path`: from its last walk when there was one. */
function treeBytes(files: FileOracle, path: string): number {
  const walked = files.inside(path);
  let bytes = 0;
  if (walked !== undefined) {
    for (const info of walked.files.values()) bytes += info.size;
    return bytes;
  }
  const fs = files.fs;
  const stack = [path];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let entries;
    try {
      entries = fs.readdir(dir) ?? [];
    } catch {
      continue;
    }
    for (const e of entries) {
      if (e.isLink) continue;
      const p = `${dir}/${e.name}`;
      if (e.isDirectory) stack.push(p);
      else bytes += fs.stat(p)?.size ?? 0;
    }
  }
  return bytes;
}
