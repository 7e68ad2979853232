// Idempotent producer state of ONE partition log (Kafka's ProducerStateManager / ProducerStateEntry /
// ProducerAppendInfo in the storage module): for each producer id, its epoch and the sequence and offset ranges of
// its last five batches. It is part of the log, not of the leader: every append updates it (a leader's after the
// sequence checks, a follower's without checks, as Kafka's REPLICATION origin), so the replica that becomes leader
// already knows every producer and answers a retried batch with its original offset. It is rebuilt to match the
// log whenever the log is truncated, and persisted as snapshot files (producerSnapshot.ts) at segment roll and clean
// shutdown; opening a log loads the latest snapshot and replays the batch headers after it.

import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { deleteSnapshotFile, listSnapshotOffsets, readSnapshotFile, writeSnapshotFile } from './producerSnapshot';

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
/** Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN: producers have at most 5 requests in flight per partition. */
export const BATCHES_RETAINED = 5;
/** Snapshots kept above the active segment's base offset (clean shutdowns, opens); see PartitionLog. */
export const SNAPSHOTS_RETAINED = 2;
/** Kafka's producer.id.expiration.ms default (1 day). */
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000;
const INT32_MAX = 0x7fffffff;

/** One appended batch of a producer (Kafka's BatchMetadata). */
export interface ProducerBatch {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  /** The batch's MaxTimestamp (its append time under LogAppendTime). */
  timestamp: number;
}

export interface ProducerEntry {
  producerId: number;
  epoch: number;
  /** Oldest first, at most BATCHES_RETAINED, all of `epoch` (a new epoch starts an empty list). */
  batches: ProducerBatch[];
  /** Timestamp of the last batch: what expiry measures (Kafka uses the batch's MaxTimestamp too). */
  lastTimestamp: number;
  /** The coordinator epoch of the producer's last transaction marker, -1 before any. */
  coordinatorEpoch: number;
  /** First offset of the producer's open transaction in this log, -1 when none (what holds the LSO back). */
  currentTxnFirstOffset: number;
}

/** A batch's last sequence: sequences wrap from Int32.MAX to 0 (Kafka's DefaultRecordBatch.incrementSequence). */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  if (baseSequence > INT32_MAX - lastOffsetDelta) return lastOffsetDelta - (INT32_MAX - baseSequence) - 1;
  return baseSequence + lastOffsetDelta;
}

/** Kafka's ProducerAppendInfo.inSequence. */
function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

export interface ProducerStateLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerEntry>();
  /** The state reflects the log below this offset (Kafka's lastMapOffset). */
  private mapEnd = 0;
  /** Offset of the latest snapshot written or loaded (Kafka's lastSnapOffset). */
  private lastSnapOffset = -1;
  /** Offsets of the snapshot files on disk, ascending. */
  private snapshots: number[];

  constructor(
    readonly dir: string,
    private readonly logger: ProducerStateLogger,
  ) {
    this.snapshots = listSnapshotOffsets(dir);
  }

  get mapEndOffset(): number {
    return this.mapEnd;
  }

  get producerCount(): number {
    return this.producers.size;
  }

  get isEmpty(): boolean {
    return this.producers.size === 0;
  }

  /** Snapshot offsets on disk, ascending (diagnostics, tests). */
  snapshotOffsets(): number[] {
    return [...this.snapshots];
  }

  entry(producerId: number): Readonly<ProducerEntry> | undefined {
    return this.producers.get(producerId);
  }

  entries(): IterableIterator<Readonly<ProducerEntry>> {
    return this.producers.values();
  }

  // ---------------------------------------------------------------- appends

  /**
   * The checks of a batch a client produces (Kafka's UnifiedLog.analyzeAndValidateProducerState with origin CLIENT,
   * then ProducerAppendInfo.checkProducerEpoch and checkSequence). Returns the original batch when this one is a
   * retry of one of the producer's last five batches (same epoch, same first and last sequence): the caller answers
   * with its offsets and appends nothing. Returns null when the batch may be appended. Throws KafkaError:
   *  - INVALID_PRODUCER_EPOCH for an epoch older than the producer's (Kafka >= 2.7 answers this, not
   *    PRODUCER_FENCED, to data batches, so that the client can abort and retry);
   *  - OUT_OF_ORDER_SEQUENCE_NUMBER for a newer epoch not starting at sequence 0, or a sequence that does not
   *    follow the producer's last one (a gap, or a retry older than the last five batches).
   * A producer without state (new, expired, or whose data were all deleted) may start at any sequence: Kafka 3.x's
   * checkSequence accepts any sequence when the current entry has no epoch (RecordBatch.NO_PRODUCER_EPOCH), and
   * since KIP-360 (2.5) the broker no longer answers UNKNOWN_PRODUCER_ID for it.
   */
  checkClientBatch(producerId: number, epoch: number, firstSeq: number, lastSeq: number): ProducerBatch | null {
    const entry = this.producers.get(producerId);
    if (entry === undefined || entry.epoch === NO_PRODUCER_EPOCH) return null;
    if (epoch === entry.epoch) {
      const duplicate = entry.batches.find((b) => b.firstSeq === firstSeq && b.lastSeq === lastSeq);
      if (duplicate !== undefined) return duplicate;
    }
    if (epoch < entry.epoch) {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, `Epoch of producer ${producerId} is ${epoch}, which is smaller than the last seen epoch ${entry.epoch}`);
    }
    if (epoch !== entry.epoch) {
      if (firstSeq !== 0) {
        throw new KafkaError(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `Invalid sequence number for new epoch of producer ${producerId}: ${epoch} (request epoch), ${firstSeq} (seq. number), ${entry.epoch} (current producer epoch)`,
        );
      }
      return null;
    }
    const currentLastSeq = entry.batches.length === 0 ? NO_SEQUENCE : entry.batches[entry.batches.length - 1].lastSeq;
    if (!inSequence(currentLastSeq, firstSeq)) {
      throw new KafkaError(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `Out of order sequence number for producer ${producerId}: ${firstSeq} (incoming seq. number), ${currentLastSeq} (current end sequence number)`,
      );
    }
    return null;
  }

  /**
   * Records an appended batch of an idempotent producer, whatever its origin (Kafka's ProducerStateEntry.addBatch):
   * a different epoch replaces the producer's batches; the oldest beyond five is forgotten.
   */
  recordBatch(
    producerId: number,
    epoch: number,
    firstSeq: number,
    lastSeq: number,
    firstOffset: number,
    lastOffset: number,
    timestamp: number,
    transactional = false,
  ): void {
    let entry = this.producers.get(producerId);
    if (entry === undefined) {
      entry = { producerId, epoch, batches: [], lastTimestamp: -1, coordinatorEpoch: -1, currentTxnFirstOffset: -1 };
      this.producers.set(producerId, entry);
    } else if (entry.epoch !== epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    entry.batches.push({ firstSeq, lastSeq, firstOffset, lastOffset, timestamp });
    if (entry.batches.length > BATCHES_RETAINED) entry.batches.shift();
    entry.lastTimestamp = timestamp;
    // The first transactional batch after a marker opens the producer's next transaction (Kafka's
    // ProducerAppendInfo.appendDataBatch): the LSO cannot pass it until a marker closes it.
    if (transactional && entry.currentTxnFirstOffset < 0) entry.currentTxnFirstOffset = firstOffset;
  }

  /**
   * A commit or abort marker of a producer was appended (Kafka's ProducerAppendInfo.appendEndTxnMarker): it closes the
   * producer's open transaction. A marker of a newer epoch (the coordinator aborting for a re-initialised producer)
   * moves the producer to that epoch, whose sequences start afresh. Returns the first offset of the transaction it
   * closed, or null when the producer had none open here.
   */
  completeTxn(producerId: number, epoch: number, coordinatorEpoch: number, timestamp: number): number | null {
    let entry = this.producers.get(producerId);
    if (entry === undefined) {
      entry = { producerId, epoch, batches: [], lastTimestamp: timestamp, coordinatorEpoch, currentTxnFirstOffset: -1 };
      this.producers.set(producerId, entry);
    }
    if (epoch > entry.epoch) {
      entry.epoch = epoch;
      entry.batches = [];
    }
    const firstOffset = entry.currentTxnFirstOffset;
    entry.currentTxnFirstOffset = -1;
    entry.coordinatorEpoch = coordinatorEpoch;
    entry.lastTimestamp = Math.max(entry.lastTimestamp, timestamp);
    return firstOffset >= 0 ? firstOffset : null;
  }

  /**
   * The checks of a marker the leader is asked to write (Kafka's checkProducerEpoch for a COORDINATOR append): a
   * marker of an older epoch than the producer's comes from a coordinator that was fenced.
   */
  checkMarker(producerId: number, epoch: number): void {
    const entry = this.producers.get(producerId);
    if (entry !== undefined && epoch < entry.epoch) {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, `Marker epoch ${epoch} of producer ${producerId} is older than its epoch ${entry.epoch}`);
    }
  }

  /** The smallest first offset of an open transaction, or null when none is open (Kafka's firstUnstableOffset). */
  firstUnstableOffset(): number | null {
    let min: number | null = null;
    for (const entry of this.producers.values()) {
      if (entry.currentTxnFirstOffset >= 0 && (min === null || entry.currentTxnFirstOffset < min)) min = entry.currentTxnFirstOffset;
    }
    return min;
  }

  /** The log now ends at `offset` and the state reflects it. */
  updateMapEndOffset(offset: number): void {
    this.mapEnd = offset;
  }

  // ---------------------------------------------------------------- expiry

  /**
   * Kafka's removeExpiredProducers: producers without an open transaction whose last batch is at least
   * `expirationMs` (producer.id.expiration.ms) older than `nowMs`. Returns how many were removed.
   */
  removeExpiredProducers(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [id, entry] of this.producers) {
      if (isExpired(entry, nowMs, expirationMs)) {
        this.producers.delete(id);
        removed++;
      }
    }
    return removed;
  }

  // ---------------------------------------------------------------- snapshots, truncation

  /**
   * Writes a snapshot at the map end offset unless the latest one is already there (Kafka's takeSnapshot). Called
   * at segment roll, clean shutdown and after loading; the log then deletes the ones it no longer needs.
   */
  takeSnapshot(): void {
    if (this.mapEnd <= this.lastSnapOffset) return;
    writeSnapshotFile(this.dir, this.mapEnd, this.producers.values());
    this.lastSnapOffset = this.mapEnd;
    this.snapshots = [...this.snapshots.filter((o) => o !== this.mapEnd), this.mapEnd].sort((a, b) => a - b);
  }

  /** Deletes every snapshot whose offset is not in `keep`. */
  deleteSnapshotsExcept(keep: ReadonlySet<number>): void {
    for (const offset of this.snapshots) if (!keep.has(offset)) deleteSnapshotFile(this.dir, offset);
    this.snapshots = this.snapshots.filter((o) => keep.has(o));
  }

  /**
   * Makes the state match a log spanning [logStartOffset, logEndOffset) (Kafka's truncateAndReload): snapshots
   * outside that range go; unless the state already ends at logEndOffset it is reloaded from the latest remaining
   * snapshot (or emptied at the log start when there is none). The caller then replays the log from mapEndOffset
   * to logEndOffset. Unlike Kafka, a snapshot exactly at the log start is kept: it holds the producers whose data
   * retention deleted, which Kafka too keeps in memory until they expire.
   */
  truncateAndReload(logStartOffset: number, logEndOffset: number, nowMs: number, expirationMs: number): void {
    this.deleteSnapshotsOutside(logStartOffset, logEndOffset);
    if (logEndOffset === this.mapEnd) return;
    this.producers.clear();
    this.loadLatestSnapshot(logStartOffset, nowMs, expirationMs);
  }

  /** A log without producers was truncated: it still has none; only snapshots beyond its new end go. */
  truncateWithoutProducers(logStartOffset: number, logEndOffset: number): void {
    this.deleteSnapshotsOutside(logStartOffset, logEndOffset);
    this.mapEnd = logEndOffset;
    this.lastSnapOffset = Math.min(this.lastSnapOffset, logEndOffset);
  }

  private deleteSnapshotsOutside(logStartOffset: number, logEndOffset: number): void {
    for (const offset of this.snapshots) {
      if (offset > logEndOffset || offset < logStartOffset) deleteSnapshotFile(this.dir, offset);
    }
    this.snapshots = this.snapshots.filter((o) => o >= logStartOffset && o <= logEndOffset);
  }

  private loadLatestSnapshot(logStartOffset: number, nowMs: number, expirationMs: number): void {
    while (this.snapshots.length > 0) {
      const offset = this.snapshots[this.snapshots.length - 1];
      const loaded = readSnapshotFile(this.dir, offset);
      if (loaded instanceof Error) {
        this.logger.warn(`${this.dir}: producer state snapshot at offset ${offset} is unusable (${loaded.message}); deleting it`);
        deleteSnapshotFile(this.dir, offset);
        this.snapshots.pop();
        continue;
      }
      for (const entry of loaded) if (!isExpired(entry, nowMs, expirationMs)) this.producers.set(entry.producerId, entry);
      this.mapEnd = offset;
      this.lastSnapOffset = offset;
      return;
    }
    this.mapEnd = logStartOffset;
    this.lastSnapOffset = logStartOffset;
  }

  /** Empties the state and deletes every snapshot: the log restarts empty at `offset`. */
  truncateFullyAndStartAt(offset: number): void {
    this.producers.clear();
    for (const o of this.snapshots) deleteSnapshotFile(this.dir, o);
    this.snapshots = [];
    this.lastSnapOffset = -1;
    this.mapEnd = offset;
  }

  /**
   * The log start moved to `logStartOffset` (retention, DeleteRecords): snapshots below it go with the segments they
   * described. Producers stay until they expire, as in Kafka 3.x (its onLogStartOffsetIncremented removes no
   * producer; older versions evicted those whose last offset fell below the log start).
   */
  onLogStartOffsetIncremented(logStartOffset: number): void {
    for (const offset of this.snapshots) if (offset < logStartOffset) deleteSnapshotFile(this.dir, offset);
    this.snapshots = this.snapshots.filter((o) => o >= logStartOffset);
    if (this.mapEnd < logStartOffset) this.mapEnd = logStartOffset;
  }
}

function isExpired(entry: ProducerEntry, nowMs: number, expirationMs: number): boolean {
  return entry.currentTxnFirstOffset < 0 && nowMs - entry.lastTimestamp >= expirationMs;
}
