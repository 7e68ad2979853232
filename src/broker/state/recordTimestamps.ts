// Per-record (offset, timestamp) of a batch, needed to answer ListOffsets by timestamp exactly inside a batch.
// Uncompressed batches are decoded here; compressed ones need the injected decoder (the log has no codecs).

import { ATTR_COMPRESSION_MASK, ATTR_TIMESTAMP_TYPE, BATCH, readBatchHeader } from '../../protocol/records/batchHeader';

export interface RecordTimestamp {
  offset: number;
  timestamp: number;
}

export type TimestampDecoder = (batch: Buffer) => RecordTimestamp[];

/**
 * Timestamps of the records of one whole batch, or null when they cannot be known (compressed, no decoder).
 * With LogAppendTime every record carries the batch's MaxTimestamp (that is how Kafka defines it).
 */
export function recordTimestamps(batch: Buffer, decodeCompressed: TimestampDecoder | undefined): RecordTimestamp[] | null {
  const header = readBatchHeader(batch, 0);
  if (header.attributes & ATTR_TIMESTAMP_TYPE) {
    const timestamps: RecordTimestamp[] = [];
    for (let delta = 0; delta <= header.lastOffsetDelta; delta++) {
      timestamps.push({ offset: header.baseOffset + delta, timestamp: header.maxTimestamp });
    }
    return timestamps;
  }
  if ((header.attributes & ATTR_COMPRESSION_MASK) !== 0) return decodeCompressed ? decodeCompressed(batch) : null;
  return decodeUncompressedTimestamps(batch);
}

/** Walks uncompressed v2 records: length varint, attributes int8, timestampDelta varlong, offsetDelta varint, ... */
export function decodeUncompressedTimestamps(batch: Buffer): RecordTimestamp[] {
  const header = readBatchHeader(batch, 0);
  const result: RecordTimestamp[] = [];
  const cursor = { pos: BATCH.HEADER_SIZE as number };
  const end = Math.min(batch.length, header.size);
  for (let i = 0; i < header.recordsCount && cursor.pos < end; i++) {
    const length = readZigZagVarint(batch, cursor);
    const recordEnd = cursor.pos + length;
    cursor.pos += 1; // record attributes
    const timestampDelta = readZigZagVarint(batch, cursor);
    const offsetDelta = readZigZagVarint(batch, cursor);
    result.push({ offset: header.baseOffset + offsetDelta, timestamp: header.baseTimestamp + timestampDelta });
    cursor.pos = recordEnd;
  }
  return result;
}

/** Zig-zag varint/varlong; Number arithmetic is exact for the magnitudes found in records. */
function readZigZagVarint(buf: Buffer, cursor: { pos: number }): number {
  let raw = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (cursor.pos >= buf.length) throw new RangeError('varint runs past the end of the batch');
    const byte = buf[cursor.pos++];
    raw += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    scale *= 128;
  }
  throw new RangeError('varint longer than 10 bytes');
}
