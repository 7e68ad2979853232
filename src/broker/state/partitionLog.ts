// The durable log of one partition replica (Kafka's UnifiedLog + LocalLog), compaction included (clean()).
//
// Directory layout (`<logdir>/<topic>-<partition>/`):
//   <20-digit base offset>.log / .index / .timeindex   segments (see segment.ts)
//   leader-epoch-checkpoint                            epoch -> start offset (Kafka's text format)
//   partition-offsets-checkpoint                       log start offset and high watermark
//   <20-digit offset>.snapshot                         idempotent producers' state at that offset (producerState.ts)
//   .clean-shutdown                                    present only after close(); lets open() skip the full scan
//   <base>.log.cleaned / <base>.log.swap / <base>.swap-end   a compaction in progress (see clean())
//
// Durability (Kafka's default): no fsync per append; a rolled segment is fsynced in the background (as Kafka does) and
// the checkpoints at once; flush() and close() fsync synchronously. After a crash the last segment is fully
// re-validated and cut at the first invalid byte.
// Everything else is synchronous: the broker is single-threaded and the page cache makes these calls cheap.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ATTR_CONTROL, ATTR_TIMESTAMP_TYPE, ATTR_TRANSACTIONAL, BATCH, readInt64, writeInt64 } from '../../protocol/records/batchHeader';
import { readMarker } from '../../protocol/records/controlRecord';
import { BatchInfo, batchInfoAt, checkBatch, validateBatches } from './batchScan';
import { BatchCleaner, CleanStats, OffsetMap } from './cleaner';
import { TMP_SUFFIX, fsyncDirectory, readTextIfExists, unlinkIfExists, writeFileAtomically } from './checkpointFile';
import { EpochEntry, LeaderEpochCache } from './leaderEpochCache';
import { DEFAULT_PRODUCER_ID_EXPIRATION_MS, ProducerStateManager, SNAPSHOTS_RETAINED, lastSequenceOf } from './producerState';
import { releaseReadBuffer } from './readBuffers';
import { RecordTimestamp, TimestampDecoder } from './recordTimestamps';
import { DELETED_SUFFIX, LOG_SUFFIX, LogSegment, deleteSegmentFiles, parseSegmentLogName, segmentFileName } from './segment';

export interface LogConfig {
  segmentBytes: number;
  segmentMs: number;
  /** -1 = keep forever. */
  retentionMs: number;
  /** -1 = no size limit. */
  retentionBytes: number;
  indexIntervalBytes: number;
  /** Kafka's file.delete.delay.ms; 0/undefined deletes segment files at once. */
  fileDeleteDelayMs?: number;
}

/** Aborted transactions below the latest producer snapshot's offset (see writeAbortedTxnsCheckpoint). */
export const ABORTED_TXNS_CHECKPOINT_FILE = 'aborted-transactions-checkpoint';

function readAbortedTxnsCheckpoint(file: string): { offset: number; txns: AbortedTxn[] } | null {
  const text = readTextIfExists(file);
  if (text === null) return null;
  const lines = text.trimEnd().split('\n');
  const offset = Number(lines[1]);
  const txns = lines.slice(2, -1).map((l) => {
    const [producerId, firstOffset, lastOffset, lastStableOffset] = l.split(' ').map(Number);
    return { producerId, firstOffset, lastOffset, lastStableOffset };
  });
  const valid =
    lines[0] === '0' &&
    Number.isSafeInteger(offset) &&
    lines[lines.length - 1] === `end ${txns.length}` &&
    txns.every((t) => [t.producerId, t.firstOffset, t.lastOffset, t.lastStableOffset].every(Number.isSafeInteger));
  return valid ? { offset, txns } : null;
}

/** A compacted segment being written (deleted if a crash leaves it). */
export const CLEANED_SUFFIX = '.cleaned';
/** A compacted segment complete on disk, replacing the segments it was made from (finished if a crash leaves it). */
export const SWAP_SUFFIX = '.swap';
/** Next to a `.swap`: the offset where the segments it replaces end (every segment with a base below it goes). */
export const SWAP_END_SUFFIX = '.swap-end';

/** The compaction settings of a topic (Kafka's names in the comments). */
export interface CleanConfig {
  /** delete.retention.ms: how long tombstones and removable transaction markers stay after their first cleaning. */
  deleteRetentionMs: number;
  /** min.compaction.lag.ms: a segment with a record younger than this is not cleaned yet. */
  minCompactionLagMs: number;
  /** Bound on the keys of one cleaning (Kafka's log.cleaner.dedupe.buffer.size, counted in keys here). */
  maxMapEntries: number;
}

/** The compactable part of the log as the cleaner sees it (Kafka's LogToClean). */
export interface CleanableSection {
  firstDirtyOffset: number;
  /** Offset where the dirty section ends: no segment at or after it is cleaned (active, above the LSO, too young). */
  firstUncleanableOffset: number;
  cleanBytes: number;
  dirtyBytes: number;
  /** MaxTimestamp of the first dirty batch, -1 if none (for max.compaction.lag.ms). */
  firstDirtyTimestamp: number;
}

export interface CleanResult {
  /** The new first dirty offset: everything below it is cleaned (the cleaner checkpoint). */
  cleanedUpTo: number;
  segmentsCleaned: number;
  stats: CleanStats;
}

/**
 * Input bytes of one group of segments rewritten in one go: a bound on how long the cleaner holds the broker's event
 * loop (Kafka groups up to segment.bytes, 1 GiB by default, in a thread of its own). A compacted log keeps segments
 * of at most this size.
 */
export const MAX_CLEAN_GROUP_BYTES = 16 * 1024 * 1024;

/** Lets the event loop serve other work between steps of a cleaning. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Steps of a cleaning at which a test build may stop the process (crash-safety tests). */
export type CleanerStep = 'cleaned-written' | 'swap-renamed' | 'old-deleted';

/** Who appends as leader: a producing client (sequence checks) or a coordinator writing its own records. */
export type AppendOrigin = 'client' | 'coordinator';

/** An aborted transaction of a producer in this log (Kafka's AbortedTxn, an entry of .txnindex). */
export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  /** The offset of its abort marker. */
  lastOffset: number;
  lastStableOffset: number;
}

export interface AppendInfo {
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  /** The batch's MaxTimestamp when it uses LogAppendTime, else -1. */
  logAppendTime: number;
  size: number;
  /**
   * The batch was a retry of one already in the log (same idempotent producer, epoch and sequences): nothing was
   * written, and the offsets are the original batch's.
   */
  duplicate?: boolean;
}

export interface LogLogger {
  debug?(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

export interface PartitionLogOptions {
  logger?: LogLogger;
  now?: () => number;
  /** Record timestamps of a compressed batch (the log has no codecs); used by offsetForTimestamp. */
  decodeTimestamps?: TimestampDecoder;
  /** Kafka's producer.id.expiration.ms: idle idempotent producers are forgotten after this long. */
  producerIdExpirationMs?: number;
  /** A background write (high-watermark checkpoint) failed; default: a warning. */
  onWriteError?: (err: Error) => void;
  /** Called between the steps of a segment swap (tests kill the process there). */
  onCleanerStep?: (step: CleanerStep) => void;
  /**
   * Whether this log was closed cleanly, when the owner keeps one marker for its whole log directory (the broker, as
   * Kafka keeps one .kafka_cleanshutdown per log dir); the log then neither reads nor writes a marker of its own.
   * Unset: the log's own marker file decides.
   */
  cleanShutdown?: boolean;
}

/** Fetch/ListOffsets offset outside [logStartOffset, logEndOffset] (Kafka error OFFSET_OUT_OF_RANGE). */
export class OffsetOutOfRangeError extends Error {
  override name = 'OffsetOutOfRangeError';
  constructor(
    readonly offset: number,
    readonly logStartOffset: number,
    readonly logEndOffset: number,
  ) {
    super(`offset ${offset} is out of range [${logStartOffset}, ${logEndOffset}]`);
  }
}

/** Follower data that does not start at the log end offset. */
export class UnexpectedAppendOffsetError extends Error {
  override name = 'UnexpectedAppendOffsetError';
  constructor(
    readonly firstOffset: number,
    readonly logEndOffset: number,
  ) {
    super(`appended batches start at offset ${firstOffset}, but the log end offset is ${logEndOffset}`);
  }
}

/** Bytes that are not a valid RecordBatch v2 (Kafka error CORRUPT_MESSAGE). */
export class CorruptBatchError extends Error {
  override name = 'CorruptBatchError';
}

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
export const OFFSETS_CHECKPOINT_FILE = 'partition-offsets-checkpoint';
export const CLEAN_SHUTDOWN_FILE = '.clean-shutdown';
/** The high watermark is checkpointed lazily: at most this often from setHighWatermark, and on roll/flush/close. */
export const HW_CHECKPOINT_INTERVAL_MS = 5000;

const OFFSETS_CHECKPOINT_VERSION = 0;
/** Relative offsets in .index/.timeindex are int32. */
const MAX_RELATIVE_OFFSET = 0x7fffffff;
const EMPTY = Buffer.alloc(0);

const defaultLogger: LogLogger = {
  info: () => {},
  warn: (msg) => console.warn(msg),
};

/** `end` is the offset after the segment (the next segment's base, or the LEO for the active one). */
type SegmentPredicate = (segment: LogSegment, end: number, isLast: boolean) => boolean;

/** Segments entirely below the log start offset (the active segment always stays). */
const belowLogStart = (logStart: number): SegmentPredicate => (_segment, end, isLast) => !isLast && end <= logStart;

export class PartitionLog {
  readonly leaderEpochs: LeaderEpochCache;
  private config: LogConfig;
  private readonly logger: LogLogger;
  private readonly now: () => number;
  private readonly decodeTimestamps: TimestampDecoder | undefined;
  private readonly producerIdExpirationMs: number;
  /** The idempotent producers' state; created by load(). */
  private producers!: ProducerStateManager;
  /**
   * Aborted transactions with their abort marker in this log, by the marker's offset (Kafka's .txnindex, kept in
   * memory: rebuilt from the log when it is opened and cut with it on truncation).
   */
  private readonly abortedTxns = new Map<number, AbortedTxn>();
  /** Where the last producer state rebuild started replaying batches (aborts from there on were re-recorded). */
  private replayedFrom = 0;
  /** The offset of the aborted-transactions checkpoint last written (-1: none yet). */
  private abortedCheckpointOffset = -1;
  private readonly onWriteError: (err: Error) => void;
  /** Ordered by base offset (compacted ones may end before the next starts); the last one is the active segment. */
  private segments: LogSegment[] = [];
  private startOffset = 0;
  private hw = 0;
  private checkpointed = { logStartOffset: -1, highWatermark: -1 };
  private lastCheckpointAtMs = Number.NEGATIVE_INFINITY;
  private closed = false;
  /** Bumped whenever closed segments go or change (truncation, deletion): an ongoing cleaning then stops. */
  private layoutVersion = 0;
  private readonly onCleanerStep: (step: CleanerStep) => void;
  /** Bytes appended since the last cleaning: lets the cleaner skip idle logs without looking at their segments. */
  bytesAppendedSinceClean = 0;
  /** The latest delete horizon stamped by a cleaning on a batch still holding tombstones or markers (-1: none). */
  latestDeleteHorizon = -1;
  /**
   * The lowest log end a truncation left since the last cleaning: a cleaner checkpoint above it is stale (the
   * offsets from there were written again), as Kafka's LogCleanerManager.maybeTruncateCheckpoint handles.
   */
  truncatedSinceClean = Number.POSITIVE_INFINITY;

  private constructor(
    readonly dir: string,
    config: LogConfig,
    opts: PartitionLogOptions,
  ) {
    this.config = { ...config };
    this.logger = opts.logger ?? defaultLogger;
    this.now = opts.now ?? Date.now;
    this.decodeTimestamps = opts.decodeTimestamps;
    this.producerIdExpirationMs = opts.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS;
    this.onWriteError = opts.onWriteError ?? ((err) => this.logger.warn(`${dir}: checkpoint not written: ${err.message}`));
    this.onCleanerStep = opts.onCleanerStep ?? (() => {});
    this.ownerCleanShutdown = opts.cleanShutdown;
    this.leaderEpochs = new LeaderEpochCache(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), () => this.logEndOffset);
  }

  /** Opens the log in `dir`, creating an empty one at offset 0 or recovering what a crash left. */
  /** True when open() made the directory (a new replica): it held no file the broker wrote before. */
  createdDir = false;
  /** See PartitionLogOptions.cleanShutdown: set when the owner keeps the clean-shutdown marker. */
  private readonly ownerCleanShutdown: boolean | undefined;

  static open(dir: string, config: LogConfig, opts: PartitionLogOptions = {}): PartitionLog {
    const log = new PartitionLog(dir, config, opts);
    log.load();
    return log;
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  /** The next offset to assign. */
  get logEndOffset(): number {
    return this.activeSegment.nextOffset;
  }

  get highWatermark(): number {
    return this.hw;
  }

  /**
   * The last stable offset: consumers in read_committed read below it. The high watermark, held back by the first
   * offset of the earliest transaction still open in this log (Kafka's UnifiedLog.lastStableOffset).
   */
  get lastStableOffset(): number {
    const unstable = this.producers.firstUnstableOffset();
    return unstable === null ? this.hw : Math.min(this.hw, unstable);
  }

  /**
   * Aborted transactions a read_committed consumer needs for records in [fetchOffset, upperBoundOffset): those whose
   * abort marker is at or after fetchOffset and which started before upperBoundOffset, by first offset (Kafka's
   * collectAbortedTransactions).
   */
  abortedTransactions(fetchOffset: number, upperBoundOffset: number): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    for (const txn of this.abortedTxns.values()) if (txn.lastOffset >= fetchOffset && txn.firstOffset < upperBoundOffset) out.push(txn);
    return out.sort((a, b) => a.firstOffset - b.firstOffset);
  }

  /** The idempotent producers' state of this log (read-only use outside the log). */
  get producerState(): ProducerStateManager {
    return this.producers;
  }

  /** Clamped to [logStartOffset, logEndOffset]; checkpointed at most every HW_CHECKPOINT_INTERVAL_MS (and on flush). */
  setHighWatermark(hw: number): void {
    this.ensureOpen();
    this.hw = Math.min(Math.max(hw, this.startOffset), this.logEndOffset);
    if (this.now() - this.lastCheckpointAtMs < HW_CHECKPOINT_INTERVAL_MS) return;
    try {
      this.writeOffsetsCheckpoint();
    } catch (err) {
      // The checkpoint is an optimisation (a restart recomputes the HW from the ISR); a full disk must not fail the
      // fetch or produce that moved the HW. It is tried again after the interval.
      this.onWriteError(err as Error);
    }
  }

  updateConfig(config: LogConfig): void {
    this.config = { ...config };
  }

  sizeInBytes(): number {
    return this.segments.reduce((sum, segment) => sum + segment.size, 0);
  }

  segmentCount(): number {
    return this.segments.length;
  }

  /** Base offsets of the segments, oldest first (diagnostics, tests). */
  segmentBaseOffsets(): number[] {
    return this.segments.map((segment) => segment.baseOffset);
  }

  private get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1];
  }

  // ---------------------------------------------------------------- opening and recovery

  private load(): void {
    // A directory made here is empty: none of the reads below could find anything. Skipping them matters when a
    // broker creates thousands of partitions (a dozen failing file-system calls each, on the broker's only thread).
    const fresh = (this.createdDir = makeDirectory(this.dir));
    if (!fresh) {
      this.removeLeftoverFiles();
      this.finishInterruptedClean();
    }
    const ownMarker = this.ownerCleanShutdown === undefined && !fresh;
    const cleanShutdown = ownMarker ? fs.existsSync(path.join(this.dir, CLEAN_SHUTDOWN_FILE)) : !fresh && this.ownerCleanShutdown === true;
    // From here on a crash is unclean again.
    if (ownMarker) unlinkIfExists(path.join(this.dir, CLEAN_SHUTDOWN_FILE));
    const checkpoint = fresh ? null : this.readOffsetsCheckpoint();

    if (!fresh) this.loadSegments(cleanShutdown);
    if (this.segments.length === 0) {
      this.segments.push(LogSegment.create(this.dir, checkpoint?.logStartOffset ?? 0, this.now()));
    }
    this.activeSegment.openIndexesForAppend();

    this.startOffset = Math.max(checkpoint?.logStartOffset ?? 0, this.segments[0].baseOffset);
    if (this.startOffset > this.logEndOffset) {
      // The checkpoint is ahead of the data that survived: the data below it was deleted anyway.
      this.logger.warn(`${this.dir}: log start offset ${this.startOffset} is past the recovered log end ${this.logEndOffset}; starting an empty log there`);
      this.replaceSegmentsWithEmptyOneAt(this.startOffset);
    }
    this.hw = Math.min(Math.max(checkpoint?.highWatermark ?? 0, this.startOffset), this.logEndOffset);
    if (!fresh) this.loadLeaderEpochs(cleanShutdown);
    // No checkpoint reads as log start 0 and HW 0: a new log need not write (and fsync) that.
    if (checkpoint === null && this.startOffset === 0 && this.hw === 0 && (fresh || !fs.existsSync(path.join(this.dir, OFFSETS_CHECKPOINT_FILE)))) {
      this.checkpointed = { logStartOffset: 0, highWatermark: 0 };
    }
    this.writeOffsetsCheckpoint();
    this.loadProducerState();
    if (!fresh) this.loadAbortedTxns();
    if (!this.isEmpty) this.takeSnapshot();
    // Until the cleaner has looked at it, all of it may be dirty.
    this.bytesAppendedSinceClean = this.sizeInBytes();
  }

  /** No records at all (a new or idle partition): no producer state worth a snapshot. */
  private get isEmpty(): boolean {
    return this.logEndOffset === this.startOffset && this.startOffset === 0;
  }

  /**
   * Finds the abort markers of the whole log with the first offsets of their transactions. Kafka keeps them in a
   * .txnindex file per segment; here one scan of the batch headers at open rebuilds them (markers are rare and the
   * scan reads only headers, plus the record of each control batch).
   */
  private loadAbortedTxns(): void {
    // The replay from the producer snapshot recorded the aborts after it; those before it are in the checkpoint
    // written with that snapshot. Without a checkpoint at exactly that offset, the whole log is scanned.
    const checkpoint = readAbortedTxnsCheckpoint(path.join(this.dir, ABORTED_TXNS_CHECKPOINT_FILE));
    if (checkpoint && checkpoint.offset === this.replayedFrom) {
      for (const txn of checkpoint.txns) if (txn.lastOffset >= this.startOffset && txn.lastOffset < checkpoint.offset) this.abortedTxns.set(txn.lastOffset, txn);
      this.abortedCheckpointOffset = checkpoint.offset;
      return;
    }
    this.abortedTxns.clear();
    const openTxnFirstOffset = new Map<number, number>();
    // Where each producer's previous marker was: compaction may have removed an aborted transaction's data and left
    // its marker, and the transaction then cannot have started before the previous marker.
    const lastMarkerOffset = new Map<number, number>();
    for (const segment of this.segments) {
      segment.forEachBatchFrom(Math.max(this.startOffset, segment.baseOffset), (batch) => {
        if (batch.producerId < 0 || (batch.attributes & ATTR_TRANSACTIONAL) === 0) return;
        if ((batch.attributes & ATTR_CONTROL) === 0) {
          if (!openTxnFirstOffset.has(batch.producerId)) openTxnFirstOffset.set(batch.producerId, batch.baseOffset);
          return;
        }
        const marker = readMarker(segment.readBatchAt(batch.position, batch.size));
        if (!marker) return;
        const firstOffset = openTxnFirstOffset.get(batch.producerId) ?? (lastMarkerOffset.has(batch.producerId) ? lastMarkerOffset.get(batch.producerId)! + 1 : undefined);
        openTxnFirstOffset.delete(batch.producerId);
        lastMarkerOffset.set(batch.producerId, batch.lastOffset);
        // A transaction that began below the log start (retention cut its start) still hides what is left of it.
        if (!marker.commit) {
          this.abortedTxns.set(batch.lastOffset, { producerId: batch.producerId, firstOffset: firstOffset ?? this.startOffset, lastOffset: batch.lastOffset, lastStableOffset: batch.lastOffset + 1 });
        }
      });
    }
    for (let i = 0; i < this.segments.length - 1; i++) this.segments[i].releaseFile();
  }

  /**
   * After recovery cut any torn tail: the latest snapshot at or below the log end, then the batch headers after it
   * (the whole log when there is no snapshot); load() then takes a snapshot at the log end (with the aborted
   * transactions) so that the next open is quick (Kafka's UnifiedLog.rebuildProducerState).
   */
  private loadProducerState(): void {
    this.producers = new ProducerStateManager(this.dir, this.logger);
    this.rebuildProducerState();
    for (let i = 0; i < this.segments.length - 1; i++) this.segments[i].releaseFile();
  }

  /** A producer state snapshot, and the aborted transactions before the same offset next to it. */
  private takeSnapshot(): void {
    this.takeProducerSnapshot();
    this.writeAbortedTxnsCheckpoint(this.producers.mapEndOffset);
  }

  /**
   * A producer state snapshot at the log end, and old snapshots deleted. Kept: those at the bases of the last two
   * segments (written at roll: a truncation into either replays at most one segment of headers; Kafka too keeps
   * every snapshot from the second-to-last segment's base on) and the latest SNAPSHOTS_RETAINED above the active
   * segment's base (clean shutdowns, opens), so that restarts do not pile them up.
   */
  private takeProducerSnapshot(): void {
    this.producers.takeSnapshot();
    const bases = this.segments.slice(-2).map((segment) => segment.baseOffset);
    const activeBase = this.activeSegment.baseOffset;
    const offsets = this.producers.snapshotOffsets();
    const keep = new Set([...offsets.filter((o) => bases.includes(o)), ...offsets.filter((o) => o > activeBase).slice(-SNAPSHOTS_RETAINED)]);
    this.producers.deleteSnapshotsExcept(keep);
  }

  /**
   * Reloads the producer state to match the log as it is now (open, truncation): snapshot plus replay. A truncation
   * of a log without producers skips the replay (Kafka's isEmptyBeforeTruncation: most topics have none, and a
   * follower's truncation would otherwise read up to a segment of headers for nothing).
   */
  private rebuildProducerState(afterTruncation = false): void {
    if (afterTruncation && this.producers.isEmpty) {
      this.producers.truncateWithoutProducers(this.startOffset, this.logEndOffset);
      return;
    }
    this.producers.truncateAndReload(this.startOffset, this.logEndOffset, this.now(), this.producerIdExpirationMs);
    const from = Math.max(this.producers.mapEndOffset, this.startOffset);
    this.replayedFrom = from;
    const end = this.logEndOffset;
    if (from < end) {
      let batches = 0;
      for (let i = this.segmentIndexFor(from); i < this.segments.length; i++) {
        const segment = this.segments[i];
        segment.forEachBatchFrom(Math.max(from, segment.baseOffset), (batch) => {
          this.recordInProducerState(batch, () => segment.readBatchAt(batch.position, batch.size));
          batches++;
        });
      }
      this.logger.info(`${this.dir}: producer state rebuilt from ${batches} batch header(s) in [${from}, ${end}): ${this.producers.producerCount} producer(s)`);
    }
    this.producers.updateMapEndOffset(end);
  }

  /**
   * The aborted transactions whose marker is below `offset`, next to the producer snapshot at that offset. Not
   * fsynced: a missing, stale or torn file only costs the next open a scan of the log (see loadAbortedTxns).
   */
  private writeAbortedTxnsCheckpoint(offset: number): void {
    if (offset === this.abortedCheckpointOffset) return;
    const txns = [...this.abortedTxns.values()].filter((t) => t.lastOffset < offset).sort((a, b) => a.lastOffset - b.lastOffset);
    const lines = ['0', String(offset), ...txns.map((t) => `${t.producerId} ${t.firstOffset} ${t.lastOffset} ${t.lastStableOffset}`), `end ${txns.length}`];
    const file = path.join(this.dir, ABORTED_TXNS_CHECKPOINT_FILE);
    writeFileAtomically(file, lines.join('\n') + '\n', { fsync: false });
    this.abortedCheckpointOffset = offset;
  }

  /**
   * An appended (or replayed) batch of an idempotent or transactional producer updates its state without checks; a
   * transaction marker closes the producer's open transaction, and an abort marker records it as aborted.
   * `bytes` gives the batch itself, read only for control batches.
   */
  private recordInProducerState(batch: BatchInfo, bytes: () => Buffer): void {
    if (batch.producerId < 0) return;
    if (batch.attributes & ATTR_CONTROL) {
      const marker = readMarker(bytes());
      if (!marker) return;
      const firstOffset = this.producers.completeTxn(batch.producerId, batch.producerEpoch, marker.coordinatorEpoch, batch.maxTimestamp);
      if (!marker.commit && firstOffset !== null) {
        this.abortedTxns.set(batch.lastOffset, {
          producerId: batch.producerId,
          firstOffset,
          lastOffset: batch.lastOffset,
          lastStableOffset: Math.min(this.producers.firstUnstableOffset() ?? batch.lastOffset + 1, batch.lastOffset + 1),
        });
      }
      return;
    }
    const lastSeq = lastSequenceOf(batch.baseSequence, batch.lastOffset - batch.baseOffset);
    const transactional = (batch.attributes & ATTR_TRANSACTIONAL) !== 0;
    this.producers.recordBatch(batch.producerId, batch.producerEpoch, batch.baseSequence, lastSeq, batch.baseOffset, batch.lastOffset, batch.maxTimestamp, transactional);
  }

  /** Forgets idempotent producers idle for longer than producer.id.expiration.ms; returns how many. */
  removeExpiredProducers(): number {
    this.ensureOpen();
    return this.producers.removeExpiredProducers(this.now(), this.producerIdExpirationMs);
  }

  private removeLeftoverFiles(): void {
    for (const name of fs.readdirSync(this.dir)) {
      if (name.endsWith(TMP_SUFFIX) || name.endsWith(DELETED_SUFFIX) || name.endsWith(CLEANED_SUFFIX)) unlinkIfExists(path.join(this.dir, name));
    }
  }

  /**
   * Old segments are trusted if their indexes are consistent (cheap check); the active one is fully re-validated
   * unless the last shutdown was clean. A segment whose data had to be cut ends the log: later segments would leave
   * a gap in the offsets, so they are deleted (a follower re-fetches them).
   */
  private loadSegments(cleanShutdown: boolean): void {
    const baseOffsets = fs
      .readdirSync(this.dir)
      .map(parseSegmentLogName)
      .filter((base): base is number => base !== null)
      .sort((a, b) => a - b);
    for (let i = 0; i < baseOffsets.length; i++) {
      const isLast = i === baseOffsets.length - 1;
      const nextBase = isLast ? null : baseOffsets[i + 1];
      const segment = LogSegment.openExisting(this.dir, baseOffsets[i], this.now());
      this.segments.push(segment);
      const continuous = this.loadSegment(segment, nextBase, isLast && !cleanShutdown);
      if (!continuous) {
        const later = baseOffsets.slice(i + 1);
        this.logger.warn(
          `${this.dir}: ${segment.name} now ends at offset ${segment.nextOffset}, before the next segment; deleting ${later.length} later segment(s)`,
        );
        for (const base of later) deleteSegmentFiles(this.dir, base);
        return;
      }
      if (!isLast) segment.releaseFile();
    }
  }

  /** Loads or recovers one segment; false when it lost data that the next segment does not start after. */
  private loadSegment(segment: LogSegment, nextBase: number | null, fullScan: boolean): boolean {
    if (!fullScan) {
      const problem = segment.loadAndVerify(nextBase);
      if (problem === null) {
        segment.markFlushed();
        return true;
      }
      this.logger.warn(`${this.dir}: ${segment.name}: ${problem}; rebuilding it from the log`);
    }
    const sizeBefore = segment.size;
    const { truncatedBytes, problem } = segment.recover(this.config.indexIntervalBytes, nextBase !== null);
    if (truncatedBytes > 0) {
      this.logger.warn(
        `${this.dir}: ${segment.name}: cut ${truncatedBytes} of ${sizeBefore} bytes at position ${segment.size} ` +
          `(log now ends at offset ${segment.nextOffset}): ${problem}`,
      );
    } else if (fullScan) {
      // An empty segment recovers to nothing: at debug, or a restart after kill -9 logs a line per idle partition.
      const message = `${this.dir}: ${segment.name}: recovered ${segment.size} bytes up to offset ${segment.nextOffset}`;
      if (segment.size > 0) this.logger.info(message);
      else this.logger.debug?.(message);
    }
    // A compacted segment may end before the next one starts; a segment cut by recovery has lost data, so the log
    // must end there.
    return nextBase === null || (truncatedBytes === 0 && segment.nextOffset <= nextBase);
  }

  private loadLeaderEpochs(cleanShutdown: boolean): void {
    const hasData = this.logEndOffset > this.segments[0].baseOffset;
    if (!this.leaderEpochs.load()) {
      if (hasData) this.logger.warn(`${this.dir}: ${LEADER_EPOCH_CHECKPOINT_FILE} missing or corrupt; rebuilding it from batch headers`);
      // An empty log has no history to keep: no file is the same as an empty one (thousands of new partitions
      // each wrote and fsynced one).
      if (hasData) this.leaderEpochs.replaceAll(this.epochsFromBatchHeaders());
    } else if (hasData && !cleanShutdown) {
      // The file is fsynced with the log, not at each new epoch (LeaderEpochCache): after a power loss it may lack
      // the epoch of batches that reached the disk. The last batch tells.
      const lastEpoch = this.lastBatchEpoch();
      if (lastEpoch > this.leaderEpochs.latestEpoch()) {
        this.logger.warn(
          `${this.dir}: the log's last batch has leader epoch ${lastEpoch}, newer than ${LEADER_EPOCH_CHECKPOINT_FILE} (${this.leaderEpochs.latestEpoch()}); rebuilding it from batch headers`,
        );
        this.leaderEpochs.replaceAll(this.epochsFromBatchHeaders());
      }
    }
    this.leaderEpochs.truncateFromEnd(this.logEndOffset, false);
    this.leaderEpochs.truncateFromStart(this.startOffset);
  }

  /** The partition leader epoch of the log's last batch, -1 when the log has none. */
  private lastBatchEpoch(): number {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      const segment = this.segments[i];
      if (segment.nextOffset <= segment.baseOffset) continue;
      const last = segment.findBatchContaining(segment.nextOffset - 1);
      if (last !== null) return last.partitionLeaderEpoch;
    }
    return -1;
  }

  private epochsFromBatchHeaders(): EpochEntry[] {
    const entries: EpochEntry[] = [];
    for (const segment of this.segments) {
      segment.forEachBatch((batch) => {
        const latest = entries.length === 0 ? -1 : entries[entries.length - 1].epoch;
        if (batch.partitionLeaderEpoch > latest) entries.push({ epoch: batch.partitionLeaderEpoch, startOffset: batch.baseOffset });
      });
    }
    return entries;
  }

  // ---------------------------------------------------------------- checkpoints

  private readOffsetsCheckpoint(): { logStartOffset: number; highWatermark: number } | null {
    const text = readTextIfExists(path.join(this.dir, OFFSETS_CHECKPOINT_FILE));
    if (text === null) return null;
    const values = new Map<string, number>();
    const lines = text.split('\n').filter((line) => line.trim() !== '');
    for (const line of lines.slice(1)) {
      const [key, value] = line.trim().split(/\s+/);
      values.set(key, Number(value));
    }
    const logStartOffset = values.get('logStartOffset');
    const highWatermark = values.get('highWatermark');
    const valid = (n: number | undefined): n is number => n !== undefined && Number.isSafeInteger(n) && n >= 0;
    if (Number(lines[0]) !== OFFSETS_CHECKPOINT_VERSION || !valid(logStartOffset) || !valid(highWatermark)) {
      this.logger.warn(`${this.dir}: ${OFFSETS_CHECKPOINT_FILE} is unreadable; ignoring it`);
      return null;
    }
    return { logStartOffset, highWatermark };
  }

  /** Atomically rewrites the log start / HW checkpoint if either changed since the last write. */
  private writeOffsetsCheckpoint(): void {
    this.lastCheckpointAtMs = this.now();
    if (this.checkpointed.logStartOffset === this.startOffset && this.checkpointed.highWatermark === this.hw) return;
    const text = `${OFFSETS_CHECKPOINT_VERSION}\nlogStartOffset ${this.startOffset}\nhighWatermark ${this.hw}\n`;
    // fsynced when the log start moved (DeleteRecords, retention: data answered as deleted must stay deleted); a
    // high watermark alone is not: a stale one is only lower, and a restart finds the true one from the ISR. That
    // write comes with the first HW move after 5 s, often the first acks=all write after a failover.
    const fsync = this.checkpointed.logStartOffset !== this.startOffset;
    writeFileAtomically(path.join(this.dir, OFFSETS_CHECKPOINT_FILE), text, { fsync });
    this.checkpointed = { logStartOffset: this.startOffset, highWatermark: this.hw };
  }

  // ---------------------------------------------------------------- appending

  /**
   * Appends one already-validated batch as the leader: BaseOffset := LEO and PartitionLeaderEpoch := leaderEpoch are
   * rewritten in `batch` itself (both are outside the CRC). A new epoch is recorded in the leader-epoch cache.
   * A batch of an idempotent producer is checked against the producer's state first: a retry of one of its last
   * five batches is not written and gets the original offsets (`duplicate`); an epoch or sequence error throws
   * KafkaError (INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER).
   */
  appendAsLeader(batch: Buffer, leaderEpoch: number, origin: AppendOrigin = 'client'): AppendInfo {
    this.ensureOpen();
    if (batch.length < BATCH.HEADER_SIZE) throw new CorruptBatchError(`batch of ${batch.length} bytes is shorter than a header`);
    const header = batchInfoAt(batch, 0, 0);
    if (header.size !== batch.length) throw new CorruptBatchError(`batch Length says ${header.size} bytes, buffer has ${batch.length}`);
    if (batch.readInt8(BATCH.MAGIC) !== 2) throw new CorruptBatchError(`magic ${batch.readInt8(BATCH.MAGIC)}, expected 2`);
    if (leaderEpoch < this.leaderEpochs.latestEpoch()) {
      throw new Error(`leader epoch ${leaderEpoch} is older than the latest epoch ${this.leaderEpochs.latestEpoch()} in ${this.dir}`);
    }
    const idempotent = header.producerId >= 0 && (header.attributes & ATTR_CONTROL) === 0;
    const marker = header.producerId >= 0 && (header.attributes & ATTR_CONTROL) !== 0;
    if (marker) this.producers.checkMarker(header.producerId, header.producerEpoch);
    // A coordinator's own transactional writes (TxnOffsetCommit into __consumer_offsets) carry no sequence and are
    // not checked, as Kafka's AppendOrigin.COORDINATOR.
    if (idempotent && origin === 'client') {
      const lastSeq = lastSequenceOf(header.baseSequence, header.lastOffset - header.baseOffset);
      const original = this.producers.checkClientBatch(header.producerId, header.producerEpoch, header.baseSequence, lastSeq);
      // Kafka's UnifiedLog.append answers a duplicate with the original's offsets and its timestamp as the append time.
      if (original !== null) {
        return { baseOffset: original.firstOffset, lastOffset: original.lastOffset, maxTimestamp: original.timestamp, logAppendTime: original.timestamp, size: 0, duplicate: true };
      }
    }

    const baseOffset = this.logEndOffset;
    const stored: BatchInfo = {
      ...header,
      baseOffset,
      lastOffset: baseOffset + (header.lastOffset - header.baseOffset),
      partitionLeaderEpoch: leaderEpoch,
    };
    this.maybeRollFor(batch.length, stored.lastOffset, stored.maxTimestamp);
    if (leaderEpoch > this.leaderEpochs.latestEpoch()) this.leaderEpochs.assign(leaderEpoch, baseOffset);
    else this.leaderEpochs.writePending(); // the epoch a new leader assigned at the log end: on disk before its first batch
    writeInt64(batch, baseOffset, BATCH.BASE_OFFSET);
    batch.writeInt32BE(leaderEpoch, BATCH.PARTITION_LEADER_EPOCH);
    this.activeSegment.append(batch, [stored], this.config.indexIntervalBytes);
    this.bytesAppendedSinceClean += batch.length;
    if (idempotent || marker) this.recordInProducerState(stored, () => batch);
    this.producers.updateMapEndOffset(this.logEndOffset);
    return {
      baseOffset,
      lastOffset: stored.lastOffset,
      maxTimestamp: stored.maxTimestamp,
      logAppendTime: stored.attributes & ATTR_TIMESTAMP_TYPE ? stored.maxTimestamp : -1,
      size: batch.length,
    };
  }

  /**
   * Appends batches fetched from the leader (offsets already assigned). They are validated (size, magic, CRC,
   * growing offsets); a trailing partial batch is ignored, as Kafka's followers do. Data must start at or after the
   * LEO (after it where the leader's log was compacted),
   * with one exception handled like Kafka: on an empty log whose start offset falls inside the leader's first batch
   * (DeleteRecords moved it mid-batch), the log restarts at that batch's base offset and keeps its log start offset.
   * Returns null when there was no whole batch.
   */
  appendAsFollower(batches: Buffer): AppendInfo | null {
    this.ensureOpen();
    const infos = parseFollowerBatches(batches);
    if (infos.length === 0) return null;
    const first = infos[0];
    const last = infos[infos.length - 1];
    const data = batches.subarray(0, last.position + last.size);

    let restoreLogStart: number | null = null;
    // A gap (first.baseOffset > LEO) is fine: the leader's log is compacted there.
    if (first.baseOffset < this.logEndOffset) {
      const startsInsideFirstBatch =
        this.logEndOffset === this.startOffset && first.baseOffset < this.logEndOffset && first.lastOffset >= this.logEndOffset;
      if (!startsInsideFirstBatch) throw new UnexpectedAppendOffsetError(first.baseOffset, this.logEndOffset);
      restoreLogStart = this.startOffset;
      this.truncateFullyAndStartAt(first.baseOffset);
    }

    const maxTimestamp = infos.reduce((max, info) => Math.max(max, info.maxTimestamp), -1);
    this.maybeRollFor(data.length, last.lastOffset, maxTimestamp);
    for (const info of infos) {
      if (info.partitionLeaderEpoch > this.leaderEpochs.latestEpoch()) this.leaderEpochs.assign(info.partitionLeaderEpoch, info.baseOffset);
    }
    this.leaderEpochs.writePending();
    this.activeSegment.append(data, infos, this.config.indexIntervalBytes);
    this.bytesAppendedSinceClean += data.length;
    // Followers record producers without checking them (Kafka's REPLICATION origin): the leader did.
    for (const info of infos) this.recordInProducerState(info, () => data.subarray(info.position, info.position + info.size));
    this.producers.updateMapEndOffset(this.logEndOffset);

    if (restoreLogStart !== null) {
      this.startOffset = restoreLogStart;
      this.hw = Math.max(this.hw, restoreLogStart);
      this.leaderEpochs.truncateFromStart(restoreLogStart);
      this.writeOffsetsCheckpoint();
    }
    return { baseOffset: first.baseOffset, lastOffset: last.lastOffset, maxTimestamp, logAppendTime: -1, size: data.length };
  }

  // ---------------------------------------------------------------- rolling

  /** Rolls the active segment if it is older than segmentMs (also checked on every append). */
  maybeRoll(): void {
    this.ensureOpen();
    const now = this.now();
    if (this.activeSegment.size > 0 && this.segmentTooOld(this.activeSegment, now, now)) this.roll();
  }

  private maybeRollFor(bytes: number, lastOffset: number, maxTimestamp: number): void {
    const active = this.activeSegment;
    if (active.size === 0) return;
    const full = active.size + bytes > this.config.segmentBytes;
    const relativeOffsetOverflow = lastOffset - active.baseOffset > MAX_RELATIVE_OFFSET;
    if (full || relativeOffsetOverflow || this.segmentTooOld(active, maxTimestamp, this.now())) this.roll();
  }

  /**
   * Kafka's rule: the segment's age is measured from its first batch's MaxTimestamp to the incoming timestamp
   * (the clock for maybeRoll); segments whose batches carry no timestamp use their wall-clock creation time.
   */
  private segmentTooOld(segment: LogSegment, incomingTimestamp: number, now: number): boolean {
    if (segment.firstBatchTimestamp >= 0 && incomingTimestamp >= 0) {
      return incomingTimestamp - segment.firstBatchTimestamp > this.config.segmentMs;
    }
    return now - segment.createdAtMs > this.config.segmentMs;
  }

  private roll(): void {
    const previous = this.activeSegment;
    previous.seal((err) => this.logger.warn(`${this.dir}: background fsync of ${previous.name} failed: ${err.message}`));
    let next: LogSegment;
    try {
      next = LogSegment.create(this.dir, previous.nextOffset, this.now());
    } catch (err) {
      // No room for a new segment (disk full): the previous one stays active, with its index writers open again.
      previous.openIndexesForAppend();
      throw err;
    }
    this.segments.push(next);
    // The producers' state as of the new segment's base offset: reopening or truncating replays from here.
    this.takeSnapshot();
    fsyncDirectory(this.dir);
    this.writeOffsetsCheckpoint();
  }

  // ---------------------------------------------------------------- reading

  /**
   * Whole batches starting with the one containing `offset`, up to `maxBytes` (at least one batch, KIP-74), never a
   * batch whose base offset is >= maxOffset (HW for consumers, LEO for followers). Continues into later segments.
   */
  read(offset: number, maxBytes: number, maxOffset: number): Buffer {
    this.ensureOpen();
    if (offset < this.startOffset || offset > this.logEndOffset) {
      throw new OffsetOutOfRangeError(offset, this.startOffset, this.logEndOffset);
    }
    if (offset >= maxOffset) return EMPTY;
    const parts: Buffer[] = [];
    let total = 0;
    for (let i = this.segmentIndexFor(offset); i < this.segments.length; i++) {
      const segment = this.segments[i];
      let position = 0;
      if (parts.length === 0) {
        const containing = segment.findBatchContaining(offset);
        if (containing === null) continue;
        position = containing.position;
      }
      const { data, exhausted } = segment.readBatches(position, maxBytes - total, maxOffset, parts.length === 0);
      if (data.length > 0) parts.push(data);
      total += data.length;
      if (!exhausted) break;
    }
    if (parts.length === 0) return EMPTY;
    if (parts.length === 1) return parts[0];
    const joined = Buffer.concat(parts, total);
    for (const part of parts) releaseReadBuffer(part);
    return joined;
  }

  /**
   * ListOffsets by timestamp: the first record at or after the log start with timestamp >= `timestamp`, or null.
   * Exact inside uncompressed and LogAppendTime batches; compressed batches need the `decodeTimestamps` option
   * (without it the containing batch's base offset is returned).
   */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    this.ensureOpen();
    for (let i = this.segmentIndexFor(this.startOffset); i < this.segments.length; i++) {
      const segment = this.segments[i];
      if (segment.maxTimestamp < timestamp) continue;
      const found = segment.findOffsetByTimestamp(timestamp, this.startOffset, this.decodeTimestamps);
      if (found !== null) return clampToStart(found, this.startOffset);
    }
    return null;
  }

  /** ListOffsets -3 (KIP-734): the first record holding the largest timestamp in the log, or null if empty. */
  maxTimestampOffset(): { offset: number; timestamp: number } | null {
    this.ensureOpen();
    let best: LogSegment | null = null;
    for (const segment of this.segments) {
      if (segment.offsetOfMaxTimestamp >= 0 && (best === null || segment.maxTimestamp > best.maxTimestamp)) best = segment;
    }
    const found = best === null ? null : best.recordWithMaxTimestamp(this.decodeTimestamps);
    return found === null ? null : clampToStart(found, this.startOffset);
  }

  /** Index of the segment whose range contains `offset` (the first one if it is below all of them). */
  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid].baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  // ---------------------------------------------------------------- deleting from the start

  /**
   * DeleteRecords: moves the log start offset forward (the caller checks offset <= HW; the HW is raised if needed to
   * keep logStart <= HW) and deletes the segments entirely below it. Persisted before returning.
   */
  deleteRecordsBefore(offset: number): number {
    this.ensureOpen();
    if (offset > this.logEndOffset || offset < 0) throw new OffsetOutOfRangeError(offset, this.startOffset, this.logEndOffset);
    if (offset <= this.startOffset) return this.startOffset;
    this.advanceLogStart(offset);
    this.deleteOldestSegments(this.deletableSegmentCount(belowLogStart(this.startOffset)));
    return this.startOffset;
  }

  /**
   * Deletes whole segments, oldest first, that are below the log start, older than retentionMs, or beyond
   * retentionBytes — never one holding offsets at or above the HW. If every segment, including the active one,
   * goes, a new empty active segment is rolled first (as Kafka does).
   */
  applyRetention(): { deletedSegments: number; newLogStartOffset: number } {
    this.ensureOpen();
    const now = this.now();
    let deleted = this.deleteOldestSegments(this.deletableSegmentCount(belowLogStart(this.startOffset)));
    const { retentionMs, retentionBytes } = this.config;
    if (retentionMs >= 0) {
      deleted += this.deleteOldestSegments(
        this.deletableSegmentCount((segment) => now - segment.largestTimestampForRetention() > retentionMs),
      );
    }
    if (retentionBytes >= 0) {
      let excess = this.sizeInBytes() - retentionBytes;
      deleted += this.deleteOldestSegments(
        this.deletableSegmentCount((segment) => {
          if (excess - segment.size < 0) return false;
          excess -= segment.size;
          return true;
        }),
      );
    }
    return { deletedSegments: deleted, newLogStartOffset: this.startOffset };
  }

  /** How many of the oldest segments satisfy `predicate` in a row, with the HW at or beyond their end. */
  private deletableSegmentCount(predicate: SegmentPredicate): number {
    let count = 0;
    for (let i = 0; i < this.segments.length; i++) {
      const segment = this.segments[i];
      const isLast = i === this.segments.length - 1;
      const end = isLast ? this.logEndOffset : this.segments[i + 1].baseOffset;
      if (isLast && segment.size === 0) break;
      if (this.hw < end || !predicate(segment, end, isLast)) break;
      count++;
    }
    return count;
  }

  private deleteOldestSegments(count: number): number {
    if (count === 0) return 0;
    this.layoutVersion++;
    if (count === this.segments.length) this.roll();
    const doomed = this.segments.splice(0, count);
    this.advanceLogStart(this.segments[0].baseOffset);
    for (const segment of doomed) segment.delete(this.config.fileDeleteDelayMs ?? 0);
    this.logger.info(`${this.dir}: deleted ${count} segment(s); log start offset is ${this.startOffset}`);
    return count;
  }

  /** Raises the log start offset (never lowers it) and persists it at once: deleted records must stay deleted. */
  private advanceLogStart(offset: number): void {
    if (offset <= this.startOffset) return;
    this.startOffset = offset;
    this.hw = Math.max(this.hw, offset);
    this.leaderEpochs.truncateFromStart(offset);
    this.producers.onLogStartOffsetIncremented(offset);
    for (const [markerOffset, txn] of [...this.abortedTxns]) if (txn.lastOffset < offset) this.abortedTxns.delete(markerOffset);
    this.writeOffsetsCheckpoint();
  }

  // ---------------------------------------------------------------- compaction

  /**
   * The clean and dirty sections (Kafka's LogToClean): below `checkpoint` the log was cleaned before; the dirty
   * section runs from there over whole closed segments up to the first one that is active, reaches past the last
   * stable offset (never compact what read_committed consumers cannot see yet, nor past the HW) or holds a record
   * younger than min.compaction.lag.ms.
   */
  cleanableSection(checkpoint: number, minCompactionLagMs: number): CleanableSection {
    this.ensureOpen();
    const now = this.now();
    // A checkpoint past a truncation is cut back to it; one past the log end or below the log start (retention)
    // starts over from the log start.
    checkpoint = Math.min(checkpoint, this.truncatedSinceClean);
    const firstDirtyOffset = checkpoint < this.startOffset || checkpoint > this.logEndOffset ? this.startOffset : checkpoint;
    const lso = this.lastStableOffset;
    let cleanBytes = 0;
    let dirtyBytes = 0;
    let firstUncleanableOffset = firstDirtyOffset;
    let firstDirtyTimestamp = -1;
    for (let i = 0; i < this.segments.length - 1; i++) {
      const segment = this.segments[i];
      const end = this.segments[i + 1].baseOffset;
      if (end <= firstDirtyOffset) {
        cleanBytes += segment.size;
        continue;
      }
      if (end > lso || now - segment.maxTimestamp < minCompactionLagMs) break;
      if (firstDirtyTimestamp < 0 && segment.size > 0) firstDirtyTimestamp = segment.firstBatchTimestamp;
      dirtyBytes += segment.size;
      firstUncleanableOffset = end;
    }
    return { firstDirtyOffset, firstUncleanableOffset, cleanBytes, dirtyBytes, firstDirtyTimestamp };
  }

  /**
   * Compacts the log (Kafka's Cleaner.doClean): builds the offset map over the dirty section (whole segments, as many
   * as maxMapEntries allow), then rewrites every segment below the map's end, in groups of at most segment.bytes,
   * keeping what BatchCleaner keeps. Offsets never change. Each group is written to `<base>.log.cleaned`, renamed to
   * `.swap`, the segments it replaces are deleted and the `.swap` renamed into place; a crash at any point leaves
   * either the old segments or the new one (finishInterruptedClean completes or discards the swap on open).
   * With an empty dirty section, only the clean section is rewritten (tombstones past their delete horizon).
   */
  async clean(checkpoint: number, config: CleanConfig, yieldToOthers: () => Promise<void> = nextTurn): Promise<CleanResult> {
    this.ensureOpen();
    const layout = this.layoutVersion;
    const section = this.cleanableSection(checkpoint, config.minCompactionLagMs);
    const nothing: CleanResult = { cleanedUpTo: checkpoint, segmentsCleaned: 0, stats: { batchesRead: 0, recordsRead: 0, recordsKept: 0, bytesRead: 0, bytesWritten: 0 } };
    // Between segments and groups the broker serves its clients (Kafka cleans in threads of its own). A truncation,
    // a retention deletion or a close meanwhile changes the segments under the plan: the pass stops there, having
    // claimed nothing (what it rewrote already is valid; the next pass starts from the old checkpoint).
    const stillValid = () => !this.closed && this.layoutVersion === layout;
    const map = new OffsetMap();
    map.endOffset = section.firstDirtyOffset;
    const aborted = this.abortedTxnsByProducer();
    const isAborted = (b: BatchInfo) => (aborted.get(b.producerId) ?? []).some((t) => t.firstOffset <= b.baseOffset && b.lastOffset < t.lastOffset);
    // The dirty segments, whole, while the map has room (at least one).
    let mapEnd = section.firstDirtyOffset;
    const dirty = this.segments.filter((segment, i) => i < this.segments.length - 1 && this.segments[i + 1].baseOffset > section.firstDirtyOffset && this.segments[i + 1].baseOffset <= section.firstUncleanableOffset);
    for (const segment of dirty) {
      if (map.size >= config.maxMapEntries && mapEnd > section.firstDirtyOffset) break;
      if (mapEnd > section.firstDirtyOffset) {
        await yieldToOthers();
        if (!stillValid()) return nothing;
      }
      segment.forEachBatch((info) => {
        if (info.attributes & ATTR_CONTROL) return;
        if (info.producerId >= 0 && info.attributes & ATTR_TRANSACTIONAL && isAborted(info)) return;
        map.addBatch(segment.readBatchAt(info.position, info.size), info);
      });
      segment.releaseFile();
      mapEnd = this.segments[this.segments.indexOf(segment) + 1].baseOffset;
    }
    const lastBatchOffsets = new Set<number>();
    for (const entry of this.producers.entries()) {
      const last = entry.batches[entry.batches.length - 1];
      if (last) lastBatchOffsets.add(last.lastOffset);
    }
    const cleaner = new BatchCleaner({
      map,
      nowMs: this.now(),
      deleteRetentionMs: config.deleteRetentionMs,
      isAborted,
      producerLastBatchOffsets: lastBatchOffsets,
      highWatermark: this.hw,
    });
    let segmentsCleaned = 0;
    for (const group of this.groupSegmentsToClean(mapEnd)) {
      if (segmentsCleaned > 0 || mapEnd > section.firstDirtyOffset) {
        await yieldToOthers();
        if (!stillValid()) {
          this.latestDeleteHorizon = Math.max(this.latestDeleteHorizon, cleaner.latestDeleteHorizon);
          return { ...nothing, segmentsCleaned, stats: cleaner.stats };
        }
      }
      this.cleanGroup(group, cleaner);
      segmentsCleaned += group.length;
    }
    this.latestDeleteHorizon = cleaner.latestDeleteHorizon;
    this.truncatedSinceClean = Number.POSITIVE_INFINITY;
    // What is left to clean later: the segments from the map's end on (the active one included).
    this.bytesAppendedSinceClean = this.segments.filter((segment) => segment.baseOffset >= mapEnd).reduce((sum, segment) => sum + segment.size, 0);
    if (segmentsCleaned > 0) {
      const st = cleaner.stats;
      this.logger.info(
        `${this.dir}: cleaned ${segmentsCleaned} segment(s) below offset ${mapEnd}: ${st.recordsKept} of ${st.recordsRead} record(s) kept, ` +
          `${st.bytesRead} -> ${st.bytesWritten} bytes (${map.size} key(s) in the dirty section)`,
      );
    }
    return { cleanedUpTo: mapEnd, segmentsCleaned, stats: cleaner.stats };
  }

  private abortedTxnsByProducer(): Map<number, AbortedTxn[]> {
    const out = new Map<number, AbortedTxn[]>();
    for (const txn of this.abortedTxns.values()) {
      const list = out.get(txn.producerId) ?? [];
      list.push(txn);
      out.set(txn.producerId, list);
    }
    return out;
  }

  /**
   * The closed segments below `endOffset`, grouped so that each group's cleaned output fits a segment (its input is
   * at most segment.bytes) and its offsets fit the int32 relative offsets of the indexes (Kafka's groupSegmentsBySize).
   * A group is rewritten without yielding, so it is also kept to MAX_CLEAN_GROUP_BYTES of input.
   */
  private groupSegmentsToClean(endOffset: number): LogSegment[][] {
    const groups: LogSegment[][] = [];
    let group: LogSegment[] = [];
    let groupBytes = 0;
    for (let i = 0; i < this.segments.length - 1; i++) {
      const segment = this.segments[i];
      const end = this.segments[i + 1].baseOffset;
      if (end > endOffset) break;
      const maxBytes = Math.min(this.config.segmentBytes, MAX_CLEAN_GROUP_BYTES);
      const fits = group.length > 0 && groupBytes + segment.size <= maxBytes && end - 1 - group[0].baseOffset <= MAX_RELATIVE_OFFSET;
      if (group.length > 0 && !fits) {
        groups.push(group);
        group = [];
        groupBytes = 0;
      }
      group.push(segment);
      groupBytes += segment.size;
    }
    if (group.length > 0) groups.push(group);
    return groups;
  }

  /** Rewrites one group of segments into one, crash-safely (see clean()). */
  private cleanGroup(group: LogSegment[], cleaner: BatchCleaner): void {
    const base = group[0].baseOffset;
    const last = group[group.length - 1];
    const end = this.segments[this.segments.indexOf(last) + 1].baseOffset;
    const logName = path.join(this.dir, segmentFileName(base, LOG_SUFFIX));
    const cleanedPath = logName + CLEANED_SUFFIX;
    const swapPath = logName + SWAP_SUFFIX;
    const swapEndPath = path.join(this.dir, segmentFileName(base, SWAP_END_SUFFIX));

    const fd = fs.openSync(cleanedPath, 'w');
    try {
      let position = 0;
      for (const segment of group) {
        segment.forEachBatch((info) => {
          const out = cleaner.clean(segment.readBatchAt(info.position, info.size), info);
          if (out === null) return;
          let written = 0;
          while (written < out.length) written += fs.writeSync(fd, out, written, out.length - written, position + written);
          position += out.length;
        });
        segment.releaseFile();
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    writeFileAtomically(swapEndPath, `${end}\n`);
    fsyncDirectory(this.dir);
    this.onCleanerStep('cleaned-written');
    fs.renameSync(cleanedPath, swapPath);
    fsyncDirectory(this.dir);
    this.onCleanerStep('swap-renamed');
    for (const segment of group) segment.delete(0);
    fsyncDirectory(this.dir);
    this.onCleanerStep('old-deleted');
    fs.renameSync(swapPath, logName);
    unlinkIfExists(swapEndPath);
    fsyncDirectory(this.dir);

    const cleaned = LogSegment.openExisting(this.dir, base, this.now());
    cleaned.recover(this.config.indexIntervalBytes, true);
    cleaned.close();
    const at = this.segments.indexOf(group[0]);
    this.segments.splice(at, group.length, cleaned);
  }

  /**
   * Completes or discards a segment swap that a crash interrupted (Kafka's LogLoader handling of .swap files):
   * `.cleaned` files were removed with the other leftovers; a `.swap` is complete, so the segments it replaces (every
   * one with a base in [swap base, swap end)) are deleted and it takes its final name. Its indexes are rebuilt by
   * loadSegments.
   */
  private finishInterruptedClean(): void {
    const names = fs.readdirSync(this.dir);
    for (const name of names) {
      const match = /^(\d{20})\.log\.swap$/.exec(name);
      if (!match) continue;
      const base = Number(match[1]);
      const swapEndPath = path.join(this.dir, segmentFileName(base, SWAP_END_SUFFIX));
      const swapPath = path.join(this.dir, name);
      let end = Number((readTextIfExists(swapEndPath) ?? '').trim());
      if (!Number.isSafeInteger(end) || end <= base) {
        // No end recorded (it is written before the rename, so this is not expected): Kafka's rule, the swap's range.
        const fd = fs.openSync(swapPath, 'r');
        try {
          end = validateBatches(fd, 0, fs.fstatSync(fd).size, base, () => {}).nextOffset;
        } finally {
          fs.closeSync(fd);
        }
      }
      const replaced = names.map(parseSegmentLogName).filter((b): b is number => b !== null && b >= base && b < end);
      for (const b of replaced) deleteSegmentFiles(this.dir, b);
      fs.renameSync(swapPath, path.join(this.dir, segmentFileName(base, LOG_SUFFIX)));
      fsyncDirectory(this.dir);
      this.logger.warn(`${this.dir}: finished an interrupted compaction: ${segmentFileName(base, LOG_SUFFIX)} replaces ${replaced.length} segment(s) below offset ${end}`);
    }
    for (const name of fs.readdirSync(this.dir)) {
      if (name.endsWith(SWAP_END_SUFFIX) || name.endsWith(SWAP_SUFFIX)) unlinkIfExists(path.join(this.dir, name));
    }
  }

  // ---------------------------------------------------------------- truncation (followers)

  /**
   * Drops every record >= `offset` (follower truncation to a divergence point). If `offset` falls inside a batch,
   * that whole batch goes and the LEO becomes its base offset. Epochs starting at or after the new LEO are dropped.
   */
  truncateTo(offset: number): void {
    this.ensureOpen();
    if (offset >= this.logEndOffset) {
      // Nothing to cut, but the epoch cache is truncated anyway, as Kafka's UnifiedLog.truncateTo does: a broker
      // that led an epoch without appending to it keeps an entry starting at its log end. Reporting that epoch as
      // its last fetched one, a follower got the same divergence answer again and again, "truncated" to its own
      // log end each time, and never rejoined the ISR (a busy loop, seen in the failover tests).
      this.leaderEpochs.truncateFromEnd(this.logEndOffset);
      return;
    }
    if (offset < this.segments[0].baseOffset) {
      this.truncateFullyAndStartAt(offset);
      return;
    }
    this.layoutVersion++;
    const keep = this.segmentIndexFor(offset);
    const doomed = this.segments.splice(keep + 1);
    for (const segment of doomed) segment.delete(this.config.fileDeleteDelayMs ?? 0);
    const segment = this.activeSegment;
    segment.truncateTo(offset, this.config.indexIntervalBytes);
    segment.openIndexesForAppend();
    this.leaderEpochs.truncateFromEnd(this.logEndOffset);
    this.startOffset = Math.min(this.startOffset, this.logEndOffset);
    this.hw = Math.min(this.hw, this.logEndOffset);
    this.writeOffsetsCheckpoint();
    this.truncatedSinceClean = Math.min(this.truncatedSinceClean, this.logEndOffset);
    for (const markerOffset of [...this.abortedTxns.keys()]) if (markerOffset >= this.logEndOffset) this.abortedTxns.delete(markerOffset);
    this.abortedCheckpointOffset = -1; // the next snapshot rewrites it, even at an offset it had before
    // Producers whose batches were cut must not keep them (a stale state made a former leader refuse the producer's
    // next sequences, or accept a retry as a duplicate of a batch no longer in the log).
    this.rebuildProducerState(true);
    for (let i = 0; i < this.segments.length - 1; i++) this.segments[i].releaseFile();
    this.logger.info(`${this.dir}: truncated to offset ${this.logEndOffset} (requested ${offset})`);
  }

  /** Deletes everything and restarts the log empty at `offset` (log start = HW = offset, no epochs). */
  truncateFullyAndStartAt(offset: number): void {
    this.ensureOpen();
    this.replaceSegmentsWithEmptyOneAt(offset);
    this.startOffset = offset;
    this.hw = offset;
    this.leaderEpochs.clear();
    this.producers.truncateFullyAndStartAt(offset);
    this.truncatedSinceClean = Math.min(this.truncatedSinceClean, offset);
    this.abortedTxns.clear();
    this.abortedCheckpointOffset = -1;
    this.writeOffsetsCheckpoint();
  }

  private replaceSegmentsWithEmptyOneAt(offset: number): void {
    this.layoutVersion++;
    for (const segment of this.segments) segment.delete(this.config.fileDeleteDelayMs ?? 0);
    this.segments = [LogSegment.create(this.dir, offset, this.now())];
    fsyncDirectory(this.dir);
  }

  // ---------------------------------------------------------------- lifecycle

  /** fsyncs the active segment and its indexes, and writes the checkpoints. */
  flush(): void {
    this.ensureOpen();
    this.activeSegment.flush();
    this.leaderEpochs.sync();
    this.writeOffsetsCheckpoint();
  }

  /** Flushes, closes every file and leaves the clean-shutdown marker (the next open skips the full scan). */
  close(): void {
    if (this.closed) return;
    // The directory is fsynced (for the marker and any file made since) only when data was written: without it a
    // lost marker costs a recovery scan at the next open, nothing more, and idle partitions close without an fsync.
    const wrote = this.activeSegment.hasUnflushedWrites;
    this.flush();
    if (!this.isEmpty) this.takeSnapshot();
    for (const segment of this.segments) {
      segment.finishBackgroundFlush();
      segment.close();
    }
    if (this.ownerCleanShutdown === undefined) fs.writeFileSync(path.join(this.dir, CLEAN_SHUTDOWN_FILE), '');
    if (wrote) fsyncDirectory(this.dir);
    this.closed = true;
  }

  /** Closes the log and removes its directory (topic deletion). */
  delete(): void {
    if (!this.closed) {
      for (const segment of this.segments) segment.releaseFile(); // not close(): its index files are about to go
      this.closed = true;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error(`partition log ${this.dir} is closed`);
  }
}

function clampToStart(found: RecordTimestamp, logStartOffset: number): { offset: number; timestamp: number } {
  return { offset: Math.max(found.offset, logStartOffset), timestamp: found.timestamp };
}

/** Whole, valid batches with growing offsets at the start of `data` (a trailing partial batch is left out). */
function parseFollowerBatches(data: Buffer): BatchInfo[] {
  const infos: BatchInfo[] = [];
  let position = 0;
  let expectedBase = data.length >= 8 ? readInt64(data, 0) : 0;
  while (position < data.length) {
    const check = checkBatch(data, position, data.length - position, position, expectedBase);
    if (check.kind === 'incomplete') break;
    if (check.kind === 'corrupt') throw new CorruptBatchError(`follower data at byte ${position}: ${check.problem}`);
    infos.push(check.info);
    position += check.info.size;
    expectedBase = check.info.lastOffset + 1;
  }
  return infos;
}

/** Makes `dir` (and its parents if needed); true if `dir` itself did not exist before. */
function makeDirectory(dir: string): boolean {
  try {
    fs.mkdirSync(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return fs.mkdirSync(dir, { recursive: true }) !== undefined;
}
