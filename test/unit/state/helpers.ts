// Shared helpers for the build-log tests: records, and the two storages (memory, real files).

import { quickHash } from '../../../src/util/hash.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileLogStorage, MemoryLogStorage } from '../../../src/state/log.js';
import { logPath } from '../../../src/state/paths.js';
import type { FileInfo, JobRecord, LogStorage, Signature } from '../../../src/state/log.js';

export const HEADER = 'rules-build-log 3';

/** A file info with a float mtime (as from stat), deterministic in `n`. */
export function info(n: number, hash = `h${n.toString(16).padStart(8, '0')}`): FileInfo {
  return { size: 1000 + n, mtimeMs: 1_700_000_000_000 + n * 1.123456789 + 0.000244140625, ino: 50_000 + n, hash };
}

export function signature(tag: string | number): Signature {
  return {
    command: quickHash(`cmd-${tag}`),
    inputs: quickHash(`in-${tag}`),
    outputs: quickHash(`out-${tag}`),
    params: [
      ['alpha', quickHash(`a${tag}`)],
      ['beta', 2],
    ],
    env: [['PATH', quickHash(`p${tag}`)]],
  };
}

/** A finished run of job `key`, version `v` (different versions have different signatures and files). */
export function record(key: string, v = 0, opts: { log?: string; nIn?: number; nOut?: number } = {}): JobRecord {
  const inputs = new Map<string, FileInfo>();
  const outputs = new Map<string, FileInfo>();
  const nIn = opts.nIn ?? 2;
  const nOut = opts.nOut ?? 1;
  for (let i = 0; i < nIn; i++) inputs.set(`raw/${key}_in${i}.fits`, info(v * 10 + i));
  for (let i = 0; i < nOut; i++) outputs.set(`out/${key}_${i}.fits`, info(v * 10 + 5 + i));
  const r: JobRecord = { key, signature: signature(`${key}-${v}`), inputs, outputs };
  if (opts.log !== undefined) r.log = opts.log;
  return r;
}

/** Where a log lives, with raw access to its text. `storage()` gives a fresh storage over the same data. */
export interface Backend {
  readonly name: string;
  storage(): LogStorage;
  text(): string;
  setText(text: string): void;
  exists(): boolean;
  cleanup(): void;
}

export class MemoryBackend implements Backend {
  readonly name = 'memory';
  private readonly mem = new MemoryLogStorage();
  storage(): LogStorage {
    return this.mem;
  }
  text(): string {
    return this.mem.text;
  }
  setText(text: string): void {
    this.mem.text = text;
  }
  exists(): boolean {
    return this.mem.text !== '';
  }
  cleanup(): void {}
}

export class FileBackend implements Backend {
  readonly name = 'file';
  readonly root: string;
  constructor() {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'rules-log-test-'));
  }
  get path(): string {
    return logPath(this.root);
  }
  storage(): LogStorage {
    return new FileLogStorage(this.root);
  }
  text(): string {
    return fs.readFileSync(this.path, 'utf8');
  }
  setText(text: string): void {
    fs.mkdirSync(path.dirname(this.path), { recursive: true });
    fs.writeFileSync(this.path, text);
  }
  exists(): boolean {
    return fs.existsSync(this.path);
  }
  cleanup(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

export const backends: { name: string; make: () => Backend }[] = [
  { name: 'MemoryLogStorage', make: () => new MemoryBackend() },
  { name: 'FileLogStorage', make: () => new FileBackend() },
];

/** The lines of a log text (without the empty string after the final newline). */
export function linesOf(text: string): string[] {
  const l = text.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}
