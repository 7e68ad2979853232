// Fixed layout of a RecordBatch v2 header (DefaultRecordBatch in Apache Kafka). Offsets are from the batch start.
//   BaseOffset int64 | Length int32 | PartitionLeaderEpoch int32 | Magic int8 | CRC uint32 | Attributes int16 |
//   LastOffsetDelta int32 | BaseTimestamp int64 | MaxTimestamp int64 | ProducerId int64 | ProducerEpoch int16 |
//   BaseSequence int32 | RecordsCount int32 | records...
// The CRC covers bytes from Attributes to the end, so BaseOffset and PartitionLeaderEpoch can be rewritten in place.

export const BATCH = {
  BASE_OFFSET: 0,
  LENGTH: 8,
  PARTITION_LEADER_EPOCH: 12,
  MAGIC: 16,
  CRC: 17,
  ATTRIBUTES: 21,
  LAST_OFFSET_DELTA: 23,
  BASE_TIMESTAMP: 27,
  MAX_TIMESTAMP: 35,
  PRODUCER_ID: 43,
  PRODUCER_EPOCH: 51,
  BASE_SEQUENCE: 53,
  RECORDS_COUNT: 57,
  HEADER_SIZE: 61,
  /** BaseOffset + Length: the bytes not counted by Length. */
  LOG_OVERHEAD: 12,
} as const;

export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_TIMESTAMP_TYPE = 0x08;
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;

export enum CompressionType {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

/** Header fields of one batch, read without touching the records. */
export interface BatchHeader {
  baseOffset: number;
  /** Total size of the batch in bytes, including BaseOffset and Length. */
  size: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

/**
 * An int64 as a JS number without a BigInt allocation: the same value as Number(buf.readBigInt64BE(pos)) (exact below
 * 2^53, rounded to nearest above, like Number() of the BigInt). Batch headers are read on every produce and fetch.
 */
export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * 0x100000000 + buf.readUInt32BE(pos + 4);
}

/** Writes an integral number as an int64 without a BigInt allocation (what writeBigInt64BE(BigInt(v)) writes). */
export function writeInt64(buf: Buffer, value: number, pos: number): void {
  if (!Number.isSafeInteger(value)) {
    buf.writeBigInt64BE(BigInt(value), pos); // the exact BigInt path for the rare value beyond 2^53 (and its errors)
    return;
  }
  const hi = Math.floor(value / 0x100000000);
  buf.writeInt32BE(hi, pos);
  buf.writeUInt32BE(value - hi * 0x100000000, pos + 4);
}

export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  return {
    baseOffset: readInt64(buf, pos + BATCH.BASE_OFFSET),
    size: buf.readInt32BE(pos + BATCH.LENGTH) + BATCH.LOG_OVERHEAD,
    partitionLeaderEpoch: buf.readInt32BE(pos + BATCH.PARTITION_LEADER_EPOCH),
    magic: buf.readInt8(pos + BATCH.MAGIC),
    crc: buf.readUInt32BE(pos + BATCH.CRC),
    attributes: buf.readInt16BE(pos + BATCH.ATTRIBUTES),
    lastOffsetDelta: buf.readInt32BE(pos + BATCH.LAST_OFFSET_DELTA),
    baseTimestamp: readInt64(buf, pos + BATCH.BASE_TIMESTAMP),
    maxTimestamp: readInt64(buf, pos + BATCH.MAX_TIMESTAMP),
    producerId: readInt64(buf, pos + BATCH.PRODUCER_ID),
    producerEpoch: buf.readInt16BE(pos + BATCH.PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(pos + BATCH.BASE_SEQUENCE),
    recordsCount: buf.readInt32BE(pos + BATCH.RECORDS_COUNT),
  };
}
