// Common storage for a segment's sparse indexes (.index and .timeindex). Entries are few (one per
// indexIntervalBytes of log, i.e. ~0.2% of the log size), so they are kept in memory and mirrored to the file:
// appends are written through on the active segment; rebuilt indexes replace the file atomically.

import * as fs from 'node:fs';
import { unlinkIfExists, writeFileAtomically } from './checkpointFile';

export abstract class SparseIndex {
  private keys = new Float64Array(32);
  private values = new Float64Array(32);
  private count = 0;
  /** Open only while the segment is active: appends are then written through to the file. */
  private appendFd: number | null = null;

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
    if (this.appendFd !== null) {
      const entry = Buffer.allocUnsafe(this.entrySize);
      this.encode(entry, 0, key, value);
      fs.writeSync(this.appendFd, entry, 0, this.entrySize, this.count * this.entrySize);
    }
    this.count++;
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
    this.count = 0;
  }

  /** Forgets the entries from `count` on (a failed append is undone), in memory and, best effort, in the file. */
  truncateEntries(count: number): void {
    if (count >= this.count) return;
    this.count = count;
    if (this.appendFd === null) return;
    try {
      fs.ftruncateSync(this.appendFd, count * this.entrySize);
    } catch {
      // openForAppend() and recovery cut entries past the in-memory ones anyway
    }
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
    if (data.length % this.entrySize !== 0) return false;
    const appendFd = this.appendFd;
    this.appendFd = null; // loading must not write back
    for (let at = 0; at < data.length; at += this.entrySize) {
      const [key, value] = this.decode(data, at);
      this.push(key, value);
    }
    this.appendFd = appendFd;
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
    if (readIfExists(this.path)?.equals(data)) return;
    const wasOpen = this.appendFd !== null;
    this.closeForAppend();
    writeFileAtomically(this.path, data);
    if (wasOpen) this.openForAppend();
  }

  openForAppend(): void {
    if (this.appendFd !== null) return;
    this.appendFd = fs.openSync(this.path, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644);
    // Entries past what is in memory (a stale longer file) must not survive.
    fs.ftruncateSync(this.appendFd, this.count * this.entrySize);
  }

  closeForAppend(): void {
    if (this.appendFd === null) return;
    fs.closeSync(this.appendFd);
    this.appendFd = null;
  }

  fsync(): void {
    if (this.appendFd !== null) fs.fsyncSync(this.appendFd);
  }

  renameTo(newPath: string): void {
    this.closeForAppend();
    try {
      fs.renameSync(this.path, newPath);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    this.path = newPath;
  }

  deleteFile(): void {
    this.closeForAppend();
    unlinkIfExists(this.path);
  }
}

function readIfExists(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch {
    return null;
  }
}
