// Rewriting a stored RecordBatch v2 with some of its records removed (what log compaction does to a batch).
// The batch keeps its BaseOffset and LastOffsetDelta, so offsets never change and removed records leave gaps, as
// in Kafka. Kept records are copied byte for byte, except that their TimestampDelta is re-encoded when the batch's
// BaseTimestamp becomes a delete horizon (KIP-534: attribute bit 6 says BaseTimestamp holds the time after which
// the batch's tombstones and transaction markers may be removed). Compressed batches are recompressed with their
// own codec.

import { ATTR_COMPRESSION_MASK, BATCH, CompressionType, readBatchHeader } from './batchHeader';
import { compress, decompress } from './compression';
import { crc32c } from './crc32c';

/** Attribute bit 6: BaseTimestamp is the batch's delete horizon (KIP-534, Kafka 3.1+). */
export const ATTR_DELETE_HORIZON = 0x40;

/** One record of a batch as the cleaner sees it; key and value are views into the (decompressed) records. */
export interface RecordView {
  offset: number;
  key: Buffer | null;
  /** True for a tombstone (null value). */
  nullValue: boolean;
  /** Where the record (its length prefix included) sits in the records section, and the timestamp delta. */
  start: number;
  end: number;
  timestampDelta: number;
  /** Position of the OffsetDelta field: the bytes from there to `end` are copied unchanged. */
  afterTimestamp: number;
}

function readUnsignedVarint(buf: Buffer, pos: number, maxBytes: number): [value: number, next: number] {
  let value = 0;
  for (let i = 0; i < maxBytes; i++) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return [value, pos];
  }
  throw new Error('varint too long');
}

function readVarint(buf: Buffer, pos: number, maxBytes = 5): [value: number, next: number] {
  const [u, next] = readUnsignedVarint(buf, pos, maxBytes);
  return [u % 2 === 0 ? u / 2 : -(u + 1) / 2, next];
}

function zigZag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function varintBytes(n: number): Buffer {
  let u = zigZag(n);
  const out: number[] = [];
  while (u >= 0x80) {
    out.push((u % 0x80) | 0x80);
    u = Math.floor(u / 0x80);
  }
  out.push(u);
  return Buffer.from(out);
}

/** The records section of a batch, decompressed when needed. */
export function batchRecordsSection(batch: Buffer): Buffer {
  const header = readBatchHeader(batch, 0);
  const section = batch.subarray(BATCH.HEADER_SIZE, header.size);
  const codec = header.attributes & ATTR_COMPRESSION_MASK;
  return codec === CompressionType.None ? section : decompress(codec as CompressionType, section);
}

/** Every record of a batch, in order. Throws on malformed records (the log holds only validated batches). */
export function recordViews(batch: Buffer, section = batchRecordsSection(batch)): RecordView[] {
  const header = readBatchHeader(batch, 0);
  const views: RecordView[] = [];
  let pos = 0;
  for (let i = 0; i < header.recordsCount; i++) {
    const start = pos;
    const [length, bodyStart] = readVarint(section, pos);
    const end = bodyStart + length;
    if (length < 0 || end > section.length) throw new Error(`record ${i} overruns its batch`);
    const [timestampDelta, afterTimestamp] = readVarint(section, bodyStart + 1, 10);
    const [offsetDelta, afterOffset] = readVarint(section, afterTimestamp);
    const [keyLength, afterKeyLength] = readVarint(section, afterOffset);
    const key = keyLength < 0 ? null : section.subarray(afterKeyLength, afterKeyLength + keyLength);
    const [valueLength] = readVarint(section, afterKeyLength + Math.max(keyLength, 0));
    views.push({ offset: header.baseOffset + offsetDelta, key, nullValue: valueLength < 0, start, end, timestampDelta, afterTimestamp });
    pos = end;
  }
  return views;
}

/** The batch's delete horizon (KIP-534), or null when none is set. */
export function deleteHorizonOf(batch: Buffer): number | null {
  const header = readBatchHeader(batch, 0);
  return header.attributes & ATTR_DELETE_HORIZON ? header.baseTimestamp : null;
}

/**
 * The batch with only `kept` (views from recordViews over `section`) left in it. With `deleteHorizonMs` the batch
 * gets that delete horizon as its BaseTimestamp (and the flag), record timestamp deltas re-encoded so that every
 * record keeps its timestamp. Header fields (offsets, MaxTimestamp, producer id/epoch/base sequence, epoch) stay.
 * An empty `kept` gives an empty batch (RecordsCount 0), which Kafka keeps to preserve a producer's last sequence.
 */
export function rewriteBatch(batch: Buffer, section: Buffer, kept: RecordView[], deleteHorizonMs: number | null): Buffer {
  const header = readBatchHeader(batch, 0);
  const oldBase = header.baseTimestamp;
  const newBase = deleteHorizonMs ?? oldBase;
  const parts: Buffer[] = [];
  for (const record of kept) {
    if (newBase === oldBase) {
      parts.push(section.subarray(record.start, record.end));
      continue;
    }
    // Length | Attributes | TimestampDelta (re-encoded) | the rest unchanged.
    const [, bodyStart] = readVarint(section, record.start);
    const delta = varintBytes(record.timestampDelta + oldBase - newBase);
    const rest = section.subarray(record.afterTimestamp, record.end);
    const bodyLength = 1 + delta.length + rest.length;
    parts.push(varintBytes(bodyLength), section.subarray(bodyStart, bodyStart + 1), delta, rest);
  }
  const codec = (header.attributes & ATTR_COMPRESSION_MASK) as CompressionType;
  const records = Buffer.concat(parts);
  const payload = codec === CompressionType.None || kept.length === 0 ? records : compress(codec, records);
  const out = Buffer.allocUnsafe(BATCH.HEADER_SIZE + payload.length);
  batch.copy(out, 0, 0, BATCH.HEADER_SIZE);
  out.writeInt32BE(out.length - BATCH.LOG_OVERHEAD, BATCH.LENGTH);
  // An empty batch has no records section to decompress (Kafka writes empty batches uncompressed too).
  let attributes = kept.length === 0 ? header.attributes & ~ATTR_COMPRESSION_MASK : header.attributes;
  if (deleteHorizonMs !== null) {
    attributes |= ATTR_DELETE_HORIZON;
    out.writeBigInt64BE(BigInt(newBase), BATCH.BASE_TIMESTAMP);
  }
  out.writeInt16BE(attributes, BATCH.ATTRIBUTES);
  out.writeInt32BE(kept.length, BATCH.RECORDS_COUNT);
  payload.copy(out, BATCH.HEADER_SIZE);
  out.writeUInt32BE(crc32c(out, BATCH.ATTRIBUTES, out.length), BATCH.CRC);
  return out;
}
