// The per-batch rules of log compaction (Kafka's LogCleaner.cleanInto / MemoryRecords.filterTo), kept apart from the
// file handling in partitionLog.ts so they can be tested on their own:
// - OffsetMap: the last offset of every key in the dirty section.
// - BatchCleaner: decides, batch by batch and in log order, what a cleaned segment keeps.
//   * a record is kept when no later record has its key (offset >= the map's offset for the key); keyless records go;
//   * a tombstone (null value) stays until its batch's delete horizon has passed: the first cleaning that keeps it
//     stamps the batch with horizon = now + delete.retention.ms (KIP-534), a later cleaning after that removes it;
//   * records of aborted transactions go;
//   * a transaction marker goes once no batch of its transaction is left and its own delete horizon has passed;
//   * the last data batch of every producer the log still remembers is kept, even empty, so that its producer id,
//     epoch and last sequence survive (an idempotent producer continuing after a cleaning gets no OUT_OF_ORDER);
//   * so is a batch ending right below the high watermark (the log's last offset stays readable).

import { ATTR_CONTROL, ATTR_TRANSACTIONAL } from '../../protocol/records/batchHeader';
import { readMarker } from '../../protocol/records/controlRecord';
import { RecordView, batchRecordsSection, deleteHorizonOf, recordViews, rewriteBatch } from '../../protocol/records/recordFilter';
import { BatchInfo } from './batchScan';

/** Key -> offset of its last record in the dirty section. Keys are compared by their bytes. */
export class OffsetMap {
  private readonly offsets = new Map<string, number>();
  /** Offset after the last batch put in the map (-1 while empty). */
  endOffset = -1;

  get size(): number {
    return this.offsets.size;
  }

  put(key: Buffer, offset: number): void {
    this.offsets.set(key.toString('latin1'), offset);
  }

  get(key: Buffer): number | undefined {
    return this.offsets.get(key.toString('latin1'));
  }

  /** Adds every keyed record of a batch that is part of the compacted data (not a marker, not aborted). */
  addBatch(batch: Buffer, info: BatchInfo): void {
    for (const record of recordViews(batch)) if (record.key !== null) this.put(record.key, record.offset);
    this.endOffset = info.lastOffset + 1;
  }
}

/** Where a transaction of a producer stands while the cleaner walks the log. */
interface TxnProgress {
  /** A batch of the producer's current transaction was kept. */
  dataKept: boolean;
}

export interface BatchCleanerOptions {
  map: OffsetMap;
  nowMs: number;
  deleteRetentionMs: number;
  /** Whether a transactional data batch belongs to an aborted transaction. */
  isAborted: (batch: BatchInfo) => boolean;
  /** Offsets of the last data batch of each producer the log remembers: kept even when emptied. */
  producerLastBatchOffsets: ReadonlySet<number>;
  /**
   * The high watermark: a batch ending right below it is kept, empty if need be, so that the offset after it stays
   * readable (a follower fetching from there would otherwise get nothing, never reaching the leader's log end;
   * Kafka's KAFKA-17076).
   */
  highWatermark?: number;
}

export interface CleanStats {
  batchesRead: number;
  recordsRead: number;
  recordsKept: number;
  bytesRead: number;
  bytesWritten: number;
}

export class BatchCleaner {
  readonly stats: CleanStats = { batchesRead: 0, recordsRead: 0, recordsKept: 0, bytesRead: 0, bytesWritten: 0 };
  /** The latest delete horizon of a batch kept with tombstones or a removable marker (-1: none). */
  latestDeleteHorizon = -1;
  private readonly txns = new Map<number, TxnProgress>();

  constructor(private readonly opts: BatchCleanerOptions) {}

  /** The batch as the cleaned log keeps it: the same bytes, a rewritten batch, or null when it goes. */
  clean(batch: Buffer, info: BatchInfo): Buffer | null {
    this.stats.batchesRead++;
    this.stats.bytesRead += batch.length;
    const control = (info.attributes & ATTR_CONTROL) !== 0;
    let out = control ? this.cleanMarker(batch, info) : this.cleanData(batch, info);
    if (out === null && info.lastOffset + 1 === this.opts.highWatermark) out = control ? batch : rewriteBatch(batch, batchRecordsSection(batch), [], null);
    if (out !== null) this.stats.bytesWritten += out.length;
    return out;
  }

  private horizonPassed(batch: Buffer): boolean {
    const horizon = deleteHorizonOf(batch);
    return horizon !== null && this.opts.nowMs >= horizon;
  }

  private noteHorizon(horizon: number | null): void {
    if (horizon !== null && horizon > this.latestDeleteHorizon) this.latestDeleteHorizon = horizon;
  }

  private cleanMarker(batch: Buffer, info: BatchInfo): Buffer | null {
    const progress = this.txns.get(info.producerId);
    this.txns.delete(info.producerId);
    const marker = readMarker(batch);
    // Kafka keeps a marker while any batch of its transaction is left (a reader needs it to end the transaction).
    if (marker === null || progress?.dataKept) return batch;
    if (this.horizonPassed(batch)) return null;
    if (deleteHorizonOf(batch) !== null) {
      this.noteHorizon(deleteHorizonOf(batch));
      return batch;
    }
    const horizon = this.opts.nowMs + this.opts.deleteRetentionMs;
    this.noteHorizon(horizon);
    return rewriteBatch(batch, batchRecordsSection(batch), recordViews(batch), horizon);
  }

  private cleanData(batch: Buffer, info: BatchInfo): Buffer | null {
    const transactional = (info.attributes & ATTR_TRANSACTIONAL) !== 0 && info.producerId >= 0;
    const aborted = transactional && this.opts.isAborted(info);
    const section = batchRecordsSection(batch);
    const records = recordViews(batch, section);
    this.stats.recordsRead += records.length;
    const horizonPassed = this.horizonPassed(batch);
    let tombstonesKept = false;
    const kept: RecordView[] = [];
    if (!aborted) {
      for (const record of records) {
        if (record.key === null) continue;
        const latest = this.opts.map.get(record.key);
        if (latest !== undefined && record.offset < latest) continue;
        if (record.nullValue) {
          if (horizonPassed) continue;
          tombstonesKept = true;
        }
        kept.push(record);
      }
    }
    this.stats.recordsKept += kept.length;
    const retainEmpty = info.producerId >= 0 && this.opts.producerLastBatchOffsets.has(info.lastOffset);
    if (kept.length === 0 && !retainEmpty) return null;
    if (transactional) this.txns.set(info.producerId, { dataKept: true });

    const existingHorizon = deleteHorizonOf(batch);
    const newHorizon = tombstonesKept && existingHorizon === null ? this.opts.nowMs + this.opts.deleteRetentionMs : null;
    if (tombstonesKept) this.noteHorizon(newHorizon ?? existingHorizon);
    if (kept.length === records.length && newHorizon === null) return batch;
    return rewriteBatch(batch, section, kept, newHorizon);
  }
}
