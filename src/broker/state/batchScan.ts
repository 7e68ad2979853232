// Walking RecordBatch v2 headers in a segment file or in memory, and validating batches (recovery, follower appends).
// Files are read through a small window so that a scan never holds a whole segment in memory.

import * as fs from 'node:fs';
import { BATCH, readBatchHeader } from '../../protocol/records/batchHeader';
import { crc32c } from '../../protocol/records/crc32c';

/** Header fields the log needs, plus where the batch sits. */
export interface BatchInfo {
  /** File position (or position in the buffer being checked). */
  position: number;
  baseOffset: number;
  lastOffset: number;
  /** Whole batch size in bytes, BaseOffset and Length included. */
  size: number;
  maxTimestamp: number;
  partitionLeaderEpoch: number;
  attributes: number;
  /** -1 unless the batch comes from an idempotent producer. */
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

/**
 * A garbage Length field must not make recovery allocate gigabytes; real batches are bounded by max.message.bytes
 * (about 1 MB by default), so anything above this is treated as corruption.
 */
export const MAX_PLAUSIBLE_BATCH_SIZE = 256 * 1024 * 1024;

export function readFully(fd: number, buf: Buffer, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

export function batchInfoAt(buf: Buffer, at: number, position: number): BatchInfo {
  const h = readBatchHeader(buf, at);
  return {
    position,
    baseOffset: h.baseOffset,
    lastOffset: h.baseOffset + h.lastOffsetDelta,
    size: h.size,
    maxTimestamp: h.maxTimestamp,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    attributes: h.attributes,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
  };
}

/** A read-through window over [0, end) of a file; avoids one syscall per batch header. */
class FileWindow {
  private start = 0;
  private length = 0;

  constructor(
    private readonly fd: number,
    private readonly end: number,
    private readonly buf: Buffer,
  ) {}

  /** A buffer and the index in it where file bytes [pos, pos+len) start, or null if the file is shorter. */
  view(pos: number, len: number): [Buffer, number] | null {
    if (pos >= this.start && pos + len <= this.start + this.length) return [this.buf, pos - this.start];
    if (pos + len > this.end) return null;
    if (len > this.buf.length) {
      const big = Buffer.allocUnsafe(len);
      return readFully(this.fd, big, len, pos) === len ? [big, 0] : null;
    }
    const want = Math.min(this.buf.length, this.end - pos);
    this.start = pos;
    this.length = readFully(this.fd, this.buf, want, pos);
    return this.length >= len ? [this.buf, 0] : null;
  }
}

// Scans never nest and the broker is single-threaded, so header scans share one window buffer.
let headerScratch: Buffer | null = null;
function sharedHeaderScratch(): Buffer {
  if (headerScratch === null) headerScratch = Buffer.allocUnsafe(16 * 1024);
  return headerScratch;
}

/**
 * Visits batch headers in [from, end) of an already-validated file without reading record bytes.
 * Stops when `visit` returns false or at a header that does not fit (which a validated file never has).
 */
export function forEachBatchHeader(fd: number, from: number, end: number, visit: (b: BatchInfo) => boolean | void): void {
  const window = new FileWindow(fd, end, sharedHeaderScratch());
  let pos = from;
  while (pos + BATCH.HEADER_SIZE <= end) {
    const view = window.view(pos, BATCH.HEADER_SIZE);
    if (view === null) return;
    const info = batchInfoAt(view[0], view[1], pos);
    if (info.size < BATCH.HEADER_SIZE || pos + info.size > end) return;
    if (visit(info) === false) return;
    pos += info.size;
  }
}

export type BatchCheck =
  | { kind: 'ok'; info: BatchInfo }
  /** Fewer bytes than the batch claims: a torn write at a file tail, or a partial batch at the end of a fetch. */
  | { kind: 'incomplete'; problem: string }
  | { kind: 'corrupt'; problem: string };

/**
 * Checks the batch starting at buf[at]: plausible Length, magic 2, CRC-32C, and BaseOffset at least
 * `expectedBaseOffset` (offsets only grow; compaction leaves gaps where whole batches were removed, as in Kafka).
 * `available` is how many bytes follow `at`.
 */
export function checkBatch(buf: Buffer, at: number, available: number, position: number, expectedBaseOffset: number): BatchCheck {
  if (available < BATCH.LOG_OVERHEAD) return { kind: 'incomplete', problem: `only ${available} bytes left for a batch header` };
  const size = buf.readInt32BE(at + BATCH.LENGTH) + BATCH.LOG_OVERHEAD;
  if (size < BATCH.HEADER_SIZE || size > MAX_PLAUSIBLE_BATCH_SIZE) {
    return { kind: 'corrupt', problem: `implausible batch size ${size}` };
  }
  if (available < size) return { kind: 'incomplete', problem: `batch of ${size} bytes but only ${available} bytes left` };
  const magic = buf.readInt8(at + BATCH.MAGIC);
  if (magic !== 2) return { kind: 'corrupt', problem: `magic ${magic}, expected 2` };
  const info = batchInfoAt(buf, at, position);
  if (info.baseOffset < expectedBaseOffset) {
    return { kind: 'corrupt', problem: `base offset ${info.baseOffset}, expected at least ${expectedBaseOffset}` };
  }
  if (info.lastOffset < info.baseOffset) return { kind: 'corrupt', problem: `negative last offset delta` };
  const storedCrc = buf.readUInt32BE(at + BATCH.CRC);
  const actualCrc = crc32c(buf, at + BATCH.ATTRIBUTES, at + size);
  if (storedCrc !== actualCrc) return { kind: 'corrupt', problem: `CRC-32C mismatch at offset ${info.baseOffset}` };
  return { kind: 'ok', info };
}

export interface ValidationResult {
  /** File position just after the last valid batch. */
  validEnd: number;
  /** Offset after the last valid batch (expectedBaseOffset if none). */
  nextOffset: number;
  /** Why the scan stopped before `end`, or null if every byte was a valid batch. */
  problem: string | null;
}

/** Validates every batch in [from, end) of a file; the first must start at or after `expectedBaseOffset`. */
export function validateBatches(
  fd: number,
  from: number,
  end: number,
  expectedBaseOffset: number,
  visit: (b: BatchInfo) => void,
): ValidationResult {
  // Recovery reads whole batches to check CRCs: a larger window means fewer syscalls; it is freed after the scan.
  const window = new FileWindow(fd, end, Buffer.allocUnsafe(Math.min(1024 * 1024, Math.max(end - from, BATCH.HEADER_SIZE))));
  let pos = from;
  let nextOffset = expectedBaseOffset;
  while (pos < end) {
    const remaining = end - pos;
    if (remaining < BATCH.HEADER_SIZE) {
      return { validEnd: pos, nextOffset, problem: `${remaining} trailing bytes, too few for a batch` };
    }
    const head = window.view(pos, BATCH.HEADER_SIZE);
    if (head === null) return { validEnd: pos, nextOffset, problem: 'short read' };
    const claimedSize = head[0].readInt32BE(head[1] + BATCH.LENGTH) + BATCH.LOG_OVERHEAD;
    // Only read the whole batch (for its CRC) when its Length is plausible; otherwise the header alone tells what is wrong.
    const plausible = claimedSize >= BATCH.HEADER_SIZE && claimedSize <= Math.min(remaining, MAX_PLAUSIBLE_BATCH_SIZE);
    const view = plausible ? window.view(pos, claimedSize) : head;
    if (view === null) return { validEnd: pos, nextOffset, problem: 'short read' };
    const check = checkBatch(view[0], view[1], remaining, pos, nextOffset);
    if (check.kind !== 'ok') return { validEnd: pos, nextOffset, problem: check.problem };
    visit(check.info);
    pos += check.info.size;
    nextOffset = check.info.lastOffset + 1;
  }
  return { validEnd: pos, nextOffset, problem: null };
}
