// Common storage for a segment's sparse indexes (.index and .timeindex). Entries are few (one per
// indexIntervalBytes of log, i.e. ~0.2% of the log size), so they live in memory; the file gets the new entries only
// when the segment is flushed, sealed or closed, through a file descriptor opened for that moment. Keeping one open
// per index cost two descriptors per partition replica: 10,000 partitions ran a broker out of them (ulimit -n).
// After a crash the file may lag the log: recovery rescans the active segment and rewrites its indexes anyway.
// Rebuilt indexes replace the file atomically.

import * as fs from 'node:fs';
import { unlinkIfExists, writeFileAtomically } from './checkpointFile';
import { openLogFiles } from './openFiles';

export abstract class SparseIndex {
  private keys = new Float64Array(32);
  private values = new Float64Array(32);
  private count = 0;
  /** Entries known to be in the file as they are in memory (a prefix); the file may hold stale ones after them. */
  private persistedCount = 0;
  /** The file differs from memory (new entries, entries dropped, or not known yet): persist() writes it. */
  private dirty = true;

  protected constructor(
    public path: string,
    readonly baseOffset: number,
    private readonly entrySize: number,
  ) {}

  protected abstract encode(buf: Buffer, at: number, key: number, value: number): void;
  protected abstract decode(buf: Buffer, at: number): [key: number, value: number];

  get entryCount(): number {
    return this.count;
  }

  keyAt(i: number): number {
    return this.keys[i];
  }

  valueAt(i: number): number {
    return this.values[i];
  }

  protected push(key: number, value: number): void {
    if (this.count === this.keys.length) {
      const keys = new Float64Array(this.count * 2);
      const values = new Float64Array(this.count * 2);
      keys.set(this.keys);
      values.set(this.values);
      this.keys = keys;
      this.values = values;
    }
    this.keys[this.count] = key;
    this.values[this.count] = value;
    this.count++;
    this.dirty = true;
  }

  /** Index of the last entry whose key is <= target (< target when strict), or -1. Keys never decrease. */
  protected floorIndex(target: number, strict: boolean): number {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const key = this.keys[mid];
      if (strict ? key < target : key <= target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  clear(): void {
    this.truncateEntries(0);
  }

  /** Forgets the entries from `count` on (a failed append is undone); the file loses them at the next persist(). */
  truncateEntries(count: number): void {
    if (count >= this.count) return;
    this.count = count;
    this.persistedCount = Math.min(this.persistedCount, count);
    this.dirty = true;
  }

  /** Loads the file into memory. False when the file is missing or its length is not a whole number of entries. */
  load(): boolean {
    let data: Buffer;
    try {
      data = fs.readFileSync(this.path);
    } catch {
      return false;
    }
    this.count = 0;
    this.persistedCount = 0;
    this.dirty = true;
    if (data.length % this.entrySize !== 0) return false;
    for (let at = 0; at < data.length; at += this.entrySize) {
      const [key, value] = this.decode(data, at);
      this.push(key, value);
    }
    this.persistedCount = this.count;
    this.dirty = false;
    return true;
  }

  /**
   * Replaces the file with the in-memory entries (after a rebuild), unless it holds exactly them already: recovering
   * an intact segment (every active segment after a kill -9) then costs a read, not a rename and two fsyncs. Thousands
   * of idle partitions made a restarted broker spend most of its startup in those fsyncs.
   */
  writeAll(): void {
    const data = Buffer.allocUnsafe(this.count * this.entrySize);
    for (let i = 0; i < this.count; i++) this.encode(data, i * this.entrySize, this.keys[i], this.values[i]);
    if (!readIfExists(this.path)?.equals(data)) writeFileAtomically(this.path, data);
    this.persistedCount = this.count;
    this.dirty = false;
  }

  /**
   * Writes the entries the file lacks and cuts anything after them, through a descriptor open only for this call;
   * with `sync` the file is fsynced (flush, seal). Nothing to do when the file already mirrors memory.
   */
  persist(sync: boolean): void {
    if (!this.dirty) return;
    const fd = openLogFiles.openTransient(this.path, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644);
    try {
      const missing = this.count - this.persistedCount;
      if (missing > 0) {
        const data = Buffer.allocUnsafe(missing * this.entrySize);
        for (let i = 0; i < missing; i++) this.encode(data, i * this.entrySize, this.keys[this.persistedCount + i], this.values[this.persistedCount + i]);
        let written = 0;
        while (written < data.length) written += fs.writeSync(fd, data, written, data.length - written, this.persistedCount * this.entrySize + written);
      }
      // Entries past what is in memory (a stale longer file, entries undone) must not survive.
      fs.ftruncateSync(fd, this.count * this.entrySize);
      if (sync) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    this.persistedCount = this.count;
    this.dirty = false;
  }

  renameTo(newPath: string): void {
    try {
      fs.renameSync(this.path, newPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.path = newPath;
    this.dirty = false; // a file on its way out is not written again
  }

  deleteFile(): void {
    unlinkIfExists(this.path);
    this.dirty = false;
  }
}

function readIfExists(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch {
    return null;
  }
}
