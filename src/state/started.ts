// Started-markers, `.rules/started/`: one small file per job that is running,
// so that a job cut off by a crash is known to be unfinished even when the
// build log is damaged afterwards.
//
// Why: the build log's S record says "this job started, its outputs are not to
// be trusted until D". But the log is appended without fsync and can be torn,
// garbled or cut at a line boundary by the same crash (or by a bad disk); a
// lost S turns the killed job into a job "with no record", which Make's rule
// (an output newer than its inputs is fresh) would adopt, half-written.
//
// Design (the build log, state/log.ts, drives it):
// - Before a job runs, its marker is written, then its S record is appended;
//   only then are its old outputs removed and its command started.
// - After its D record is appended, the marker is removed. After a failed or
//   interrupted run, once its outputs are removed, the marker is removed too
//   (the S record keeps it incomplete; a missing output reruns it anyway).
// - Loading the log reads every marker: each makes its job incomplete,
//   whatever the log says (no S, a damaged S, an unreadable header, or even a
//   D written just before the crash). A marker whose text cannot be read still
//   names its job: the name is a hash of the job's record key.
// A kill at any instant is safe: before the marker, nothing was started; with
// the marker and without the S, the job is incomplete by the marker; with the D
// and the marker still there, the job reruns once more (never wrong, only extra
// work). Losing a marker removal can only make a job rerun.
//
// Durability: a SIGKILL loses nothing a finished write() put in the kernel, so
// the order above is all a kill needs. Against a machine crash, markers are not
// fsynced one by one: that measured 8.8 ms per job on an ext4 disk, 44 minutes
// of a 300,000-job build spent waiting on the disk. A marker's creation is a
// metadata change made before the job creates its outputs; a file system that
// journals metadata in order (ext4, XFS; an NFS server commits a CREATE before
// replying) cannot keep a half-written output and lose the marker made before
// it. Its text may be lost (an empty file): its name still names the job.
//
// Cost: a marker file is not made and deleted per job. Once a job is done, its
// file is renamed into `.rules/started-spare/` and kept open, and the next
// job's marker is that file renamed back under the new job's name, its text
// written over the old (and cut to length): two renames and a write per job
// run, no inode made or freed. Creating a file costs more than a rename, and
// far more on a file system that skips recently freed inodes when it makes a
// new one (ext4 without a journal scans past each inode freed in the last
// half minute: 2 ms per marker in a build that freed one per job). The rename
// is a metadata change made before the job creates its outputs, as the create
// was, so the durability argument above holds; text lost in a crash leaves
// the previous job's line, whose key does not hash to the marker's name: the
// name still names the job. The spare files are deleted when the build log
// is closed. Nothing of this happens for jobs that do not run, and nothing at
// all for a no-op (the fast path only checks that `.rules/started/` is empty
// or absent).
//
// A marker: the job's S record as a log line (`CRC32HEX JSON`), so it carries
// the declared outputs and log that `rules clean` removes.

import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { spareMarkersDir, startedDir } from './paths.js';

/** A marker's file name: a hash of the job's record key (keys can be long, or hold any character). */
export function markerName(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 32);
}

/** A marker as found: its name, and its text (undefined when it cannot be read). */
export interface FoundMarker {
  name: string;
  text: string | undefined;
}

/** Where the markers live: a directory under .rules/, or memory (in tests). */
export interface MarkerStorage {
  /** Every marker there is ([] when there are none). */
  list(): FoundMarker[];
  /** Writes a marker: it exists when this returns (see the top of this module on durability). */
  write(name: string, text: string): void;
  remove(name: string): void;
  /** Releases what is kept for the next markers (files kept for reuse); called when the build log is closed. */
  close?(): void;
}

/** A marker file kept open for reuse: its name while it marks a job, its place among the spares, how long its text is. */
interface MarkerFile {
  fd: number;
  spare: string;
  bytes: number;
}

export class FileMarkerStorage implements MarkerStorage {
  readonly dir: string;
  /** Where the files of finished markers wait to mark the next jobs (see the top of this module). */
  readonly spareDir: string;
  private madeDir = false;
  /** The files of markers written by this storage, by marker name. */
  private readonly inUse = new Map<string, MarkerFile>();
  private readonly spares: MarkerFile[] = [];
  private files = 0;

  constructor(root: string) {
    this.dir = startedDir(root);
    this.spareDir = spareMarkersDir(root);
  }

  list(): FoundMarker[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names.map((name) => {
      try {
        return { name, text: readFileSync(`${this.dir}/${name}`, 'utf8') };
      } catch {
        return { name, text: undefined };
      }
    });
  }

  write(name: string, text: string): void {
    if (!this.madeDir) {
      mkdirSync(this.dir, { recursive: true });
      mkdirSync(this.spareDir, { recursive: true });
      this.madeDir = true;
    }
    const path = `${this.dir}/${name}`;
    let file = this.inUse.get(name);
    if (file === undefined) {
      file = this.spares.pop();
      if (file !== undefined) {
        try {
          renameSync(`${this.spareDir}/${file.spare}`, path);
        } catch {
          // The spare is gone (or cannot be moved): a new file instead.
          closeQuietly(file.fd);
          file = undefined;
        }
      }
      // Written in place, not renamed: a torn marker still names its job (see above).
      file ??= { fd: openSync(path, 'w'), spare: String(this.files++), bytes: 0 };
      this.inUse.set(name, file);
    }
    const bytes = Buffer.from(text);
    let at = 0;
    while (at < bytes.length) at += writeSync(file.fd, bytes, at, bytes.length - at, at);
    if (bytes.length < file.bytes) ftruncateSync(file.fd, bytes.length);
    file.bytes = bytes.length;
  }

  remove(name: string): void {
    const path = `${this.dir}/${name}`;
    const file = this.inUse.get(name);
    if (file !== undefined) {
      this.inUse.delete(name);
      try {
        renameSync(path, `${this.spareDir}/${file.spare}`);
        this.spares.push(file);
        return;
      } catch {
        // Cannot be kept for reuse: deleted as any marker.
        closeQuietly(file.fd);
      }
    }
    rmSync(path, { force: true });
  }

  close(): void {
    for (const file of [...this.spares, ...this.inUse.values()]) closeQuietly(file.fd);
    this.spares.length = 0;
    this.inUse.clear();
    // Markers still in use stay in .rules/started/; the spares (and any a killed build left) go.
    if (this.madeDir) rmSync(this.spareDir, { recursive: true, force: true });
    this.madeDir = false;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing was buffered: every write was synchronous.
  }
}

export class MemoryMarkerStorage implements MarkerStorage {
  readonly markers = new Map<string, string | undefined>();
  /** How many markers were written: a no-op must write none. */
  writes = 0;

  list(): FoundMarker[] {
    return [...this.markers].map(([name, text]) => ({ name, text }));
  }
  write(name: string, text: string): void {
    this.writes++;
    this.markers.set(name, text);
  }
  remove(name: string): void {
    this.markers.delete(name);
  }
}

/** Whether any job is marked as started (a build died while it ran): no up-to-date answer without a full look. */
export function anyStarted(root: string): boolean {
  try {
    return readdirSync(startedDir(root)).length > 0;
  } catch (e) {
    // Absent: none. Anything else (not a directory, no permission): not known to be none.
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
