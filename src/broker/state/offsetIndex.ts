// A segment's .index: entries (relative offset int32, file position int32), one every indexIntervalBytes of log.
// As in Kafka, the offset of an entry is the LAST offset of the batch that starts at the position: the largest
// entry <= a target offset then points at or before the batch containing the target.

import { SparseIndex } from './sparseIndex';

export const OFFSET_INDEX_ENTRY_SIZE = 8;

export class OffsetIndex extends SparseIndex {
  constructor(path: string, baseOffset: number) {
    super(path, baseOffset, OFFSET_INDEX_ENTRY_SIZE);
  }

  protected encode(buf: Buffer, at: number, offset: number, position: number): void {
    buf.writeInt32BE(offset - this.baseOffset, at);
    buf.writeInt32BE(position, at + 4);
  }

  protected decode(buf: Buffer, at: number): [number, number] {
    return [this.baseOffset + buf.readInt32BE(at), buf.readInt32BE(at + 4)];
  }

  append(batchLastOffset: number, position: number): void {
    this.push(batchLastOffset, position);
  }

  /** File position to start scanning from to find the batch containing `offset` (0 when no entry is <= offset). */
  lookup(offset: number): number {
    const i = this.floorIndex(offset, false);
    return i < 0 ? 0 : this.valueAt(i);
  }

  lastEntry(): { offset: number; position: number } | null {
    const n = this.entryCount;
    return n === 0 ? null : { offset: this.keyAt(n - 1), position: this.valueAt(n - 1) };
  }

  /** Offsets and positions strictly increasing, inside the segment. */
  isConsistent(logSize: number, endOffsetExclusive: number | null): boolean {
    let prevOffset = this.baseOffset - 1;
    let prevPosition = -1;
    for (let i = 0; i < this.entryCount; i++) {
      const offset = this.keyAt(i);
      const position = this.valueAt(i);
      if (offset <= prevOffset || position <= prevPosition || position >= logSize) return false;
      if (endOffsetExclusive !== null && offset >= endOffsetExclusive) return false;
      prevOffset = offset;
      prevPosition = position;
    }
    return true;
  }
}
