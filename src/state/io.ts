// Writing the engine's own files under .rules/: appends that land whole or
// not at all, and failures (a full disk, a read-only file system, a file where
// a directory belongs) turned into one line the user can act on.

import { closeSync, fstatSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../util/errors.js';

/** What went wrong, in words, and what the user can do about it. */
function explain(code: string | undefined, shown: string): string {
  switch (code) {
    case 'ENOSPC':
      return 'no space left on the device; free some space and run rules again';
    case 'EDQUOT':
      return 'disk quota exceeded; free some space and run rules again';
    case 'EROFS':
      return 'the file system is read-only; rules needs to write its state under .rules/';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied; rules needs to write its state under .rules/';
    case 'EISDIR':
      return `${shown} is a directory; rules keeps a file there: move it away`;
    case 'ENOTDIR':
    case 'EEXIST':
      return `a file stands where rules keeps a directory on the way to ${shown}: move it away`;
    default:
      return code ?? 'unknown error';
  }
}

/** A failure to write rules' own state: one line, exit status 2 unless told otherwise. */
export class StateWriteError extends UserError {
  readonly code: string | undefined;

  /** `what` names the file for the user ("the build log"), `shown` is its path relative to the root. */
  constructor(what: string, shown: string, cause: unknown, exitCode = 2) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(`cannot write ${what} ${shown}: ${explain(code, shown)}`, exitCode);
    this.name = 'StateWriteError';
    this.code = code;
  }
}

/** `e` as a StateWriteError about `what`, unless it already is a user error. */
export function stateWriteError(what: string, shown: string, e: unknown): UserError {
  if (e instanceof UserError) return e;
  if (typeof (e as NodeJS.ErrnoException | undefined)?.code !== 'string') throw e; // a bug, not the disk
  return new StateWriteError(what, shown, e);
}

/**
 * A file appended to in whole pieces: a piece that cannot be written entirely
 * (the disk filled up halfway) is cut off again, so the file never ends in
 * half a record. Errors are thrown as they come (node's errors, with a code).
 */
export class AppendFile {
  private fd: number | undefined;
  private size = 0;

  constructor(readonly path: string) {}

  /** Opens (creating the file and its directory) now, so a file that cannot be written is known before it is needed. */
  open(): void {
    if (this.fd !== undefined) return;
    mkdirSync(dirname(this.path), { recursive: true });
    const fd = openSync(this.path, 'a');
    try {
      this.size = fstatSync(fd).size;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    this.fd = fd;
  }

  append(text: string): void {
    this.open();
    const fd = this.fd!;
    const bytes = Buffer.from(text);
    try {
      // writeSync may write part of a buffer (a nearly full disk): the rest follows, or fails.
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
    } catch (e) {
      try {
        ftruncateSync(fd, this.size);
      } catch {
        // Cannot be cut back: the reader ignores a last line without its newline.
      }
      throw e;
    }
    this.size += bytes.length;
  }

  close(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // Every write was synchronous: nothing is lost by a failed close.
    }
  }
}

/**
 * Replaces the file at `path` whole: written to a temporary file beside it
 * (named for this process), then renamed over it, so a reader, or a kill at
 * any instant, sees the old file or the new, never half of one. On a failure
 * the temporary file is removed and the error thrown.
 */
export function replaceFile(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
