// A segment's .timeindex: entries (timestamp int64, relative offset int32). Each entry is the segment's running
// maximum timestamp and the (batch last) offset where that maximum was first reached, so timestamps strictly
// increase. Every record at or before an entry's offset has a timestamp <= the entry's timestamp. When a segment
// stops being active, a final entry with its overall maximum is added, so the last entry gives the segment's
// largest timestamp (used by retention).

import { SparseIndex } from './sparseIndex';

export const TIME_INDEX_ENTRY_SIZE = 12;

export class TimeIndex extends SparseIndex {
  constructor(path: string, baseOffset: number) {
    super(path, baseOffset, TIME_INDEX_ENTRY_SIZE);
  }

  protected encode(buf: Buffer, at: number, timestamp: number, offset: number): void {
    buf.writeBigInt64BE(BigInt(timestamp), at);
    buf.writeInt32BE(offset - this.baseOffset, at + 8);
  }

  protected decode(buf: Buffer, at: number): [number, number] {
    return [Number(buf.readBigInt64BE(at)), this.baseOffset + buf.readInt32BE(at + 8)];
  }

  /** Adds an entry only if it raises the maximum (equal timestamps keep the earlier offset). */
  maybeAppend(timestamp: number, offset: number): void {
    if (timestamp < 0) return;
    const last = this.lastEntry();
    if (last !== null && timestamp <= last.timestamp) return;
    this.push(timestamp, offset);
  }

  /** The last entry whose timestamp is strictly below `timestamp`: every record up to its offset is older. */
  entryBefore(timestamp: number): { timestamp: number; offset: number } | null {
    const i = this.floorIndex(timestamp, true);
    return i < 0 ? null : { timestamp: this.keyAt(i), offset: this.valueAt(i) };
  }

  lastEntry(): { timestamp: number; offset: number } | null {
    const n = this.entryCount;
    return n === 0 ? null : { timestamp: this.keyAt(n - 1), offset: this.valueAt(n - 1) };
  }

  /** Timestamps strictly increasing, offsets not decreasing and inside the segment. */
  isConsistent(endOffsetExclusive: number | null): boolean {
    let prevTimestamp = -1;
    let prevOffset = this.baseOffset;
    for (let i = 0; i < this.entryCount; i++) {
      const timestamp = this.keyAt(i);
      const offset = this.valueAt(i);
      if (timestamp <= prevTimestamp || offset < prevOffset) return false;
      if (endOffsetExclusive !== null && offset >= endOffsetExclusive) return false;
      prevTimestamp = timestamp;
      prevOffset = offset;
    }
    return true;
  }
}
