// Changes waiting for the next build. Bursts (an editor's save, `cp -r` of a
// thousand files) become one batch: a batch is ready once no change has come
// for `quietMs`, or `maxMs` after its first change. Changes that come while a
// build runs wait for the next batch: none is lost.

export class ChangeQueue {
  private pending = new Set<string>();
  private firstAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private ready = false;
  private waiter: ((paths: string[] | undefined) => void) | undefined;

  constructor(
    private readonly quietMs = 50,
    private readonly maxMs = 2000,
  ) {}

  add(path: string): void {
    if (this.pending.size === 0) this.firstAt = Date.now();
    this.pending.add(path);
    if (this.ready) return;
    clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.quietMs, this.firstAt + this.maxMs - Date.now()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ready = true;
      this.deliver();
    }, wait);
  }

  /** The next batch of changed paths, or undefined once `signal` aborts. */
  next(signal: AbortSignal): Promise<string[] | undefined> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(undefined);
      const onAbort = () => {
        this.waiter = undefined;
        resolve(undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiter = (paths) => {
        signal.removeEventListener('abort', onAbort);
        resolve(paths);
      };
      this.deliver();
    });
  }

  /** Drops the waiting changes that no longer matter (after a build changed what is watched). */
  retain(keep: (path: string) => boolean): void {
    for (const p of this.pending) if (!keep(p)) this.pending.delete(p);
    if (this.pending.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.ready = false;
    }
  }

  close(): void {
    clearTimeout(this.timer);
  }

  private deliver(): void {
    if (!this.ready || !this.waiter || this.pending.size === 0) return;
    const paths = [...this.pending];
    this.pending = new Set();
    this.ready = false;
    const w = this.waiter;
    this.waiter = undefined;
    w(paths);
  }
}
