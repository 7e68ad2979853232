// One log segment: `<20-digit base offset>.log` holding raw batches exactly as stored, plus its sparse `.index`
// and `.timeindex`. Only the last segment of a log (the active one) is appended to. The .log file's descriptor is
// held through the process's OpenFileCache (openFiles.ts), which may close it between two uses; the indexes are in
// memory and written at flush, seal and close (sparseIndex.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { BATCH, readInt64 } from '../../protocol/records/batchHeader';
import { BatchInfo, forEachBatchHeader, readFully, validateBatches } from './batchScan';
import { unlinkIfExists } from './checkpointFile';
import { OffsetIndex } from './offsetIndex';
import { CachedFileHolder, openLogFiles } from './openFiles';
import { acquireReadBuffer, releaseReadBuffer } from './readBuffers';
import { RecordTimestamp, TimestampDecoder, recordTimestamps } from './recordTimestamps';
import { TimeIndex } from './timeIndex';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
/** Files of deleted segments are renamed with this suffix and removed after fileDeleteDelayMs. */
export const DELETED_SUFFIX = '.deleted';

const EMPTY = Buffer.alloc(0);

export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(20, '0') + suffix;
}

/** Base offset of a `<20 digits>.log` file name, or null for any other file. */
export function parseSegmentLogName(fileName: string): number | null {
  const match = /^(\d{20})\.log$/.exec(fileName);
  return match ? Number(match[1]) : null;
}

/**
 * Errors of writes through a file descriptor carry no path; the storage-fault report needs to know which log failed.
 */
function withPath(err: unknown, filePath: string): unknown {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && e.path === undefined) e.path = filePath;
  return err;
}

export function deleteSegmentFiles(dir: string, baseOffset: number): void {
  for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) unlinkIfExists(path.join(dir, segmentFileName(baseOffset, suffix)));
}

export class LogSegment implements CachedFileHolder {
  /** Bytes of valid batches in the .log file. */
  size = 0;
  /** Offset after the last batch (the base offset while empty). */
  nextOffset: number;
  /** Largest batch MaxTimestamp in the segment, -1 if none. */
  maxTimestamp = -1;
  /** Last offset of the first batch that reached maxTimestamp. */
  offsetOfMaxTimestamp = -1;
  /** MaxTimestamp of the first batch: the reference for time-based rolling (as in Kafka). */
  firstBatchTimestamp = -1;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  private logPath: string;
  private fd: number | null = null;
  private bytesSinceLastIndexEntry = 0;
  /** fsyncs started by seal() that have not returned; their fd stays open until they have (closeAfter: then close it). */
  private backgroundFlush: { fd: number; pending: number; closeAfter: boolean } | null = null;
  /**
   * Written since the last flush (or opened from a previous process that may not have flushed): flush() fsyncs only
   * then. Closing a broker with thousands of idle partitions paid three fsyncs per partition for nothing.
   */
  private unflushed = false;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    /** Wall-clock creation (or load) time, used for rolling only when batches carry no timestamp. */
    readonly createdAtMs: number,
  ) {
    this.logPath = path.join(dir, segmentFileName(baseOffset, LOG_SUFFIX));
    this.offsetIndex = new OffsetIndex(path.join(dir, segmentFileName(baseOffset, INDEX_SUFFIX)), baseOffset);
    this.timeIndex = new TimeIndex(path.join(dir, segmentFileName(baseOffset, TIME_INDEX_SUFFIX)), baseOffset);
    this.nextOffset = baseOffset;
  }

  get name(): string {
    return path.basename(this.logPath);
  }

  /** A new empty segment, ready to append to. */
  static create(dir: string, baseOffset: number, nowMs: number): LogSegment {
    const segment = new LogSegment(dir, baseOffset, nowMs);
    try {
      segment.fd = openLogFiles.open(segment, segment.logPath, 'w+');
      segment.openIndexesForAppend();
    } catch (err) {
      // Not close(): writing the index files again would fail the same way and hide this error.
      segment.releaseFile();
      throw withPath(err, segment.logPath);
    }
    return segment;
  }

  /** An existing segment; nothing is trusted until loadAndVerify() or recover() has run. */
  static openExisting(dir: string, baseOffset: number, nowMs: number): LogSegment {
    const segment = new LogSegment(dir, baseOffset, nowMs);
    segment.size = fs.fstatSync(segment.file()).size;
    segment.unflushed = segment.size > 0; // an empty file holds nothing to lose
    return segment;
  }

  /**
   * The .log descriptor, reopened if the cache closed it. Callers use it at once and do not keep it across other
   * segments' opens: the cache may close it for them (it closes the least recently used first, so only after
   * `minikafka.log.open.files.max` other files were opened in between).
   */
  private file(): number {
    if (this.fd === null) this.fd = openLogFiles.open(this, this.logPath, 'r+');
    else openLogFiles.touch(this);
    return this.fd;
  }

  // ---- loading and recovery ----

  /**
   * Trusts the index files if they are consistent, and checks (CRC included) only the batches after the last index
   * entries, which is cheap. Returns why the segment needs recovery, or null when it is fine.
   * `nextSegmentBase` (null for the last segment) must not be below the offset after the last batch (a compacted
   * segment may end before the next one starts).
   */
  loadAndVerify(nextSegmentBase: number | null): string | null {
    if (!this.offsetIndex.load()) return 'offset index missing or malformed';
    if (!this.timeIndex.load()) return 'time index missing or malformed';
    if (!this.offsetIndex.isConsistent(this.size, nextSegmentBase)) return 'offset index inconsistent with the log';
    if (!this.timeIndex.isConsistent(nextSegmentBase)) return 'time index inconsistent with the log';

    const lastIndexEntry = this.offsetIndex.lastEntry();
    const lastTimeEntry = this.timeIndex.lastEntry();
    // Both indexes get their entries at the same moments, so the time index's last entry is the running maximum up
    // to the last offset-index entry: only the batches from there on need reading.
    const from = lastIndexEntry === null ? 0 : lastIndexEntry.position;
    const expectedBase = from === 0 ? this.baseOffset : this.baseOffsetAt(from);
    if (expectedBase === null || (from > 0 && expectedBase <= this.baseOffset)) return 'offset index points at no batch';

    this.maxTimestamp = lastTimeEntry === null ? -1 : lastTimeEntry.timestamp;
    this.offsetOfMaxTimestamp = lastTimeEntry === null ? -1 : lastTimeEntry.offset;
    let indexEntryMatches = lastIndexEntry === null;
    const result = validateBatches(this.file(), from, this.size, expectedBase, (batch) => {
      if (lastIndexEntry !== null && batch.position === lastIndexEntry.position) indexEntryMatches = batch.lastOffset === lastIndexEntry.offset;
      this.noteMaxTimestamp(batch);
    });
    if (result.problem !== null) return `invalid batch at position ${result.validEnd}: ${result.problem}`;
    if (!indexEntryMatches) return 'last offset index entry does not match its batch';
    if (nextSegmentBase !== null && result.nextOffset > nextSegmentBase) {
      return `ends at offset ${result.nextOffset} but the next segment starts at ${nextSegmentBase}`;
    }
    this.nextOffset = result.nextOffset;
    this.firstBatchTimestamp = this.size === 0 ? -1 : this.maxTimestampAt(0);
    this.bytesSinceLastIndexEntry = this.size - (lastIndexEntry === null ? 0 : lastIndexEntry.position);
    return null;
  }

  /**
   * Validates every batch from the start (size, magic, CRC-32C, growing offsets), cuts the file at the first
   * invalid byte and rebuilds both indexes. `sealed` adds the final time-index entry of an inactive segment.
   */
  recover(indexIntervalBytes: number, sealed: boolean): { truncatedBytes: number; problem: string | null } {
    // Rewritten indexes (and what a previous process wrote) are flushed at the next flush; an empty segment has
    // nothing to flush (thousands of idle partitions after a kill -9 paid three fsyncs each at the next stop).
    this.unflushed = this.size > 0;
    this.resetStats();
    const result = validateBatches(this.file(), 0, this.size, this.baseOffset, (batch) => this.track(batch, batch.position, indexIntervalBytes));
    const truncatedBytes = this.size - result.validEnd;
    if (truncatedBytes > 0) {
      fs.ftruncateSync(this.file(), result.validEnd);
      this.size = result.validEnd;
    }
    this.nextOffset = result.nextOffset;
    if (sealed) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    this.offsetIndex.writeAll();
    this.timeIndex.writeAll();
    return { truncatedBytes, problem: result.problem };
  }

  /** Drops the batch containing `offset` and everything after it; indexes and statistics are rebuilt. */
  truncateTo(offset: number, indexIntervalBytes: number): void {
    const cut = this.findBatchContaining(offset);
    if (cut === null) return;
    fs.ftruncateSync(this.file(), cut.position);
    this.size = cut.position;
    this.recover(indexIntervalBytes, false);
  }

  private resetStats(): void {
    this.offsetIndex.clear();
    this.timeIndex.clear();
    this.nextOffset = this.baseOffset;
    this.maxTimestamp = -1;
    this.offsetOfMaxTimestamp = -1;
    this.firstBatchTimestamp = -1;
    this.bytesSinceLastIndexEntry = 0;
  }

  // ---- appending ----

  /**
   * Writes whole batches at the end of the file and indexes them. `batches` describe `data`, positions relative to it.
   * No fsync: durability comes from replication, and flush() on roll/close (Kafka's default).
   */
  append(data: Buffer, batches: BatchInfo[], indexIntervalBytes: number): void {
    const before = this.appendState();
    const fd = this.file();
    try {
      let written = 0;
      while (written < data.length) written += fs.writeSync(fd, data, written, data.length - written, before.size + written);
      this.unflushed = true;
      this.size += data.length;
      for (const batch of batches) this.track(batch, before.size + batch.position, indexIntervalBytes);
    } catch (err) {
      // A failed write (disk full, I/O error) must leave the segment exactly as it was: no partial batch in the file
      // (the next append would follow garbage) and no index entry or statistic for bytes that are not there.
      this.rollBackTo(before, fd);
      throw withPath(err, this.logPath);
    }
  }

  /** What append() changes, so that a failed append can be undone. */
  private appendState() {
    return {
      size: this.size,
      nextOffset: this.nextOffset,
      maxTimestamp: this.maxTimestamp,
      offsetOfMaxTimestamp: this.offsetOfMaxTimestamp,
      firstBatchTimestamp: this.firstBatchTimestamp,
      bytesSinceLastIndexEntry: this.bytesSinceLastIndexEntry,
      offsetIndexEntries: this.offsetIndex.entryCount,
      timeIndexEntries: this.timeIndex.entryCount,
    };
  }

  private rollBackTo(state: ReturnType<LogSegment['appendState']>, fd: number): void {
    this.size = state.size;
    this.nextOffset = state.nextOffset;
    this.maxTimestamp = state.maxTimestamp;
    this.offsetOfMaxTimestamp = state.offsetOfMaxTimestamp;
    this.firstBatchTimestamp = state.firstBatchTimestamp;
    this.bytesSinceLastIndexEntry = state.bytesSinceLastIndexEntry;
    this.offsetIndex.truncateEntries(state.offsetIndexEntries);
    this.timeIndex.truncateEntries(state.timeIndexEntries);
    try {
      // Shrinking a file needs no free space. Should it fail anyway, recovery on the next open cuts the torn tail.
      fs.ftruncateSync(fd, state.size);
    } catch {
      // see above
    }
  }

  /** Updates statistics and adds index entries for a batch now stored at `position` (Kafka's index interval rule). */
  private track(batch: BatchInfo, position: number, indexIntervalBytes: number): void {
    if (position === 0) this.firstBatchTimestamp = batch.maxTimestamp;
    this.noteMaxTimestamp(batch);
    if (this.bytesSinceLastIndexEntry > indexIntervalBytes) {
      this.offsetIndex.append(batch.lastOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += batch.size;
    this.nextOffset = batch.lastOffset + 1;
  }

  private noteMaxTimestamp(batch: BatchInfo): void {
    if (batch.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = batch.maxTimestamp;
      this.offsetOfMaxTimestamp = batch.lastOffset;
    }
  }

  /** The segment becomes active: its index files must exist and hold exactly the entries in memory. */
  openIndexesForAppend(): void {
    this.offsetIndex.persist(false);
    this.timeIndex.persist(false);
  }

  /**
   * The segment stops being active: final time-index entry (segment maximum), indexes fsynced and their writers
   * closed, and the log data fsynced in the background, as Kafka does after a roll (UnifiedLog.roll schedules an
   * asynchronous flush). A synchronous fsync of up to segment.bytes (1 GiB) of dirty pages blocked every client of
   * the broker for as long as the disk took. Nothing depends on the old segment being on disk before the next append
   * (its loading on restart checks it anyway); close() waits for a pending flush (finishBackgroundFlush).
   */
  seal(onFlushError: (err: Error) => void = () => {}): void {
    this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    this.offsetIndex.persist(true);
    this.timeIndex.persist(true);
    // The cache may have closed the file since the last write: reopened, as its data must still be fsynced.
    if (this.fd === null && !this.unflushed) return;
    const fd = this.file();
    const flush = this.backgroundFlush?.fd === fd ? this.backgroundFlush : { fd, pending: 0, closeAfter: false };
    this.backgroundFlush = flush;
    flush.pending++;
    fs.fsync(flush.fd, (err) => {
      if (--flush.pending === 0) {
        if (this.backgroundFlush === flush) this.backgroundFlush = null;
        if (flush.closeAfter) fs.close(flush.fd, () => {});
      }
      if (err) onFlushError(err);
    });
  }

  /** Makes a background flush started by seal() complete now (before a clean shutdown). */
  finishBackgroundFlush(): void {
    if (this.backgroundFlush !== null) fs.fsyncSync(this.backgroundFlush.fd);
  }

  flush(): void {
    if (!this.unflushed) return;
    // fsync reaches the file's dirty pages through any descriptor, also one reopened after the cache closed the first.
    fs.fsyncSync(this.file());
    this.offsetIndex.persist(true);
    this.timeIndex.persist(true);
    this.unflushed = false;
  }

  get hasUnflushedWrites(): boolean {
    return this.unflushed;
  }

  /** The segment was found as a clean shutdown left it (flushed then): nothing to flush until it changes. */
  markFlushed(): void {
    this.unflushed = false;
  }

  // ---- reading ----

  /** The first batch whose last offset is >= `offset`, or null when the segment ends before it. */
  findBatchContaining(offset: number): BatchInfo | null {
    if (offset >= this.nextOffset) return null;
    let found: BatchInfo | null = null;
    forEachBatchHeader(this.file(), this.offsetIndex.lookup(offset), this.size, (batch) => {
      if (batch.lastOffset < offset) return true;
      found = batch;
      return false;
    });
    return found;
  }

  /**
   * Whole batches from `position`: as many as fit in `budget` bytes, stopping before a batch whose base offset is
   * >= maxOffset; with `includeFirst` the first batch is returned even if larger than the budget (KIP-74).
   * `exhausted` is true when the segment end was reached without hitting the budget or maxOffset.
   */
  readBatches(position: number, budget: number, maxOffset: number, includeFirst: boolean): { data: Buffer; exhausted: boolean } {
    const available = this.size - position;
    if (available <= 0) return { data: EMPTY, exhausted: true };
    let length = Math.min(available, Math.max(0, budget));
    if (includeFirst) length = Math.max(length, this.batchSizeAt(position));
    if (length < BATCH.LOG_OVERHEAD) return { data: EMPTY, exhausted: false };
    const buf = acquireReadBuffer(length);
    const got = readFully(this.file(), buf, length, position);
    let end = 0;
    let stoppedEarly = false;
    while (end + BATCH.LOG_OVERHEAD <= got) {
      const baseOffset = readInt64(buf, end + BATCH.BASE_OFFSET);
      const size = buf.readInt32BE(end + BATCH.LENGTH) + BATCH.LOG_OVERHEAD;
      if (baseOffset >= maxOffset || end + size > got) {
        stoppedEarly = true;
        break;
      }
      end += size;
    }
    // Do not pin a large, mostly unused read buffer in the fetch response.
    let data = buf.subarray(0, end);
    if (end * 2 < length) {
      data = Buffer.from(data);
      releaseReadBuffer(buf);
    }
    return { data, exhausted: !stoppedEarly && end === available };
  }

  /** The whole batch stored at `position`. */
  readBatchAt(position: number, size: number): Buffer {
    const buf = Buffer.allocUnsafe(size);
    if (readFully(this.file(), buf, size, position) !== size) throw new Error(`${this.name}: short read at position ${position}`);
    return buf;
  }

  forEachBatch(visit: (batch: BatchInfo) => boolean | void): void {
    forEachBatchHeader(this.file(), 0, this.size, visit);
  }

  /** Visits the headers of the batch containing `offset` and every later batch of the segment (headers only). */
  forEachBatchFrom(offset: number, visit: (batch: BatchInfo) => boolean | void): void {
    if (offset >= this.nextOffset) return;
    forEachBatchHeader(this.file(), this.offsetIndex.lookup(offset), this.size, (batch) => (batch.lastOffset < offset ? true : visit(batch)));
  }

  private batchSizeAt(position: number): number {
    const head = Buffer.allocUnsafe(BATCH.LOG_OVERHEAD);
    if (readFully(this.file(), head, BATCH.LOG_OVERHEAD, position) !== BATCH.LOG_OVERHEAD) return 0;
    return head.readInt32BE(BATCH.LENGTH) + BATCH.LOG_OVERHEAD;
  }

  private baseOffsetAt(position: number): number | null {
    if (position + BATCH.HEADER_SIZE > this.size) return null;
    const head = Buffer.allocUnsafe(8);
    readFully(this.file(), head, 8, position);
    return Number(head.readBigInt64BE(0));
  }

  private maxTimestampAt(position: number): number {
    const head = Buffer.allocUnsafe(BATCH.HEADER_SIZE);
    readFully(this.file(), head, BATCH.HEADER_SIZE, position);
    return Number(head.readBigInt64BE(BATCH.MAX_TIMESTAMP));
  }

  /** First record at or after `minOffset` with timestamp >= `timestamp`, or null if this segment has none. */
  findOffsetByTimestamp(timestamp: number, minOffset: number, decode: TimestampDecoder | undefined): RecordTimestamp | null {
    // Records up to the offset of the last time-index entry older than `timestamp` are all older: skip them.
    const older = this.timeIndex.entryBefore(timestamp);
    const from = older === null ? 0 : this.offsetIndex.lookup(older.offset);
    let result: RecordTimestamp | null = null;
    forEachBatchHeader(this.file(), from, this.size, (batch) => {
      if (batch.maxTimestamp < timestamp || batch.lastOffset < minOffset) return true;
      result = this.firstRecordInBatch(batch, decode, (r) => r.timestamp >= timestamp && r.offset >= minOffset);
      return result === null;
    });
    return result;
  }

  /** The record holding this segment's largest timestamp (KIP-734), or null when the segment is empty. */
  recordWithMaxTimestamp(decode: TimestampDecoder | undefined): RecordTimestamp | null {
    if (this.offsetOfMaxTimestamp < 0) return null;
    const batch = this.findBatchContaining(this.offsetOfMaxTimestamp);
    if (batch === null) return null;
    const maxTimestamp = this.maxTimestamp;
    return this.firstRecordInBatch(batch, decode, (r) => r.timestamp === maxTimestamp);
  }

  /**
   * The first record of a batch matching `wanted`. When record timestamps cannot be decoded (compressed batch and
   * no decoder), the batch's base offset and MaxTimestamp stand in: the client then fetches the right batch.
   */
  private firstRecordInBatch(
    batch: BatchInfo,
    decode: TimestampDecoder | undefined,
    wanted: (r: RecordTimestamp) => boolean,
  ): RecordTimestamp | null {
    let records: RecordTimestamp[] | null = null;
    try {
      records = recordTimestamps(this.readBatchAt(batch.position, batch.size), decode);
    } catch {
      records = null;
    }
    if (records === null) return { offset: batch.baseOffset, timestamp: batch.maxTimestamp };
    return records.find(wanted) ?? null;
  }

  /** Largest timestamp for retention; the file's mtime when batches carry none (as Kafka does). */
  largestTimestampForRetention(): number {
    if (this.maxTimestamp >= 0) return this.maxTimestamp;
    try {
      return fs.statSync(this.logPath).mtimeMs;
    } catch {
      return -1;
    }
  }

  // ---- lifecycle ----

  /** Closes the log file (reopened lazily on the next read); the indexes are not written. */
  releaseFile(): void {
    if (this.fd === null) return;
    openLogFiles.forget(this);
    // An fd with an fsync in flight is closed when the fsync returns.
    if (this.backgroundFlush?.fd === this.fd) this.backgroundFlush.closeAfter = true;
    else fs.closeSync(this.fd);
    this.fd = null;
  }

  /** Closes the log file and writes index entries the index files lack (fsynced only by a flush before). */
  close(): void {
    this.releaseFile();
    this.offsetIndex.persist(false);
    this.timeIndex.persist(false);
  }

  /**
   * Removes the files. With a delay (Kafka's file.delete.delay.ms) they are first renamed to `*.deleted`, so a reader
   * still holding the old path fails cleanly, and unlinked later; leftovers are removed on the next open.
   */
  delete(delayMs: number): void {
    this.releaseFile();
    if (delayMs <= 0) {
      unlinkIfExists(this.logPath);
      this.offsetIndex.deleteFile();
      this.timeIndex.deleteFile();
      return;
    }
    const renamed: string[] = [];
    try {
      fs.renameSync(this.logPath, this.logPath + DELETED_SUFFIX);
      renamed.push(this.logPath + DELETED_SUFFIX);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const index of [this.offsetIndex, this.timeIndex]) {
      index.renameTo(index.path + DELETED_SUFFIX);
      renamed.push(index.path);
    }
    const timer = setTimeout(() => {
      for (const file of renamed) {
        try {
          fs.unlinkSync(file);
        } catch {
          // already gone (directory deleted, or removed by a later open)
        }
      }
    }, delayMs);
    timer.unref();
  }
}
