// RecordBatch v2 (magic 2): building, splitting, decoding and the broker-side checks of a produced batch.
// Layout and field offsets live in batchHeader.ts; the record format inside a batch is
//   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint | keyLength varint | key |
//   valueLength varint | value | headerCount varint |
//   [headerKeyLength varint | headerKey | headerValueLength varint | headerValue]
// with zig-zag varints and -1 lengths for null. Every length read from the data is checked against the bytes
// present before anything is allocated, so a hostile batch costs at most its own size (plus the bounded
// decompressed size).

import { crc32c } from './crc32c';
import {
  ATTR_COMPRESSION_MASK,
  ATTR_CONTROL,
  ATTR_TIMESTAMP_TYPE,
  ATTR_TRANSACTIONAL,
  BATCH,
  BatchHeader,
  CompressionType,
  readBatchHeader,
  writeInt64,
} from './batchHeader';
import {
  CompressionError,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  compress,
  decompress,
  isSupportedCompression,
} from './compression';

export const RECORD_BATCH_MAGIC = 2;

/** Kafka error codes this module reports (the same numbers as the protocol's error table). */
export const RecordBatchErrorCode = {
  CORRUPT_MESSAGE: 2,
  MESSAGE_TOO_LARGE: 10,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
} as const;

export class RecordBatchError extends Error {
  constructor(
    /** Kafka error code, one of RecordBatchErrorCode. */
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'RecordBatchError';
  }
}

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** A decoded record. key, value and header values are views into the batch (or its decompressed records). */
export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
  attributes: number;
}

export interface NewRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, string | Buffer> | RecordHeader[];
  /** Create time in ms; defaults to the batch's base timestamp, or now. */
  timestamp?: number;
}

export interface BuildBatchOptions {
  records: NewRecord[];
  baseOffset?: number;
  compression?: CompressionType;
  partitionLeaderEpoch?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  /** A control batch (transaction markers); only brokers write them. */
  control?: boolean;
  timestampType?: 'create' | 'logAppend';
  baseTimestamp?: number;
}

export interface DecodeBatchOptions {
  /** Bound on the decompressed records (default 64 MiB); beyond it decoding fails with MESSAGE_TOO_LARGE. */
  maxOutput?: number;
  /** Check the CRC-32C before decoding (default true). */
  verifyCrc?: boolean;
}

export interface ProducedBatchCheckOptions {
  produceVersion: number;
  /** Topic max.message.bytes (or broker message.max.bytes); Kafka's default is 1048588. */
  maxMessageBytes: number;
  /** Compacted topics: every record needs a key. Forces a decode (and decompression) of the batch. */
  requireKeys?: boolean;
  /** Bound on decompressed size when requireKeys decodes the batch (default 64 MiB). */
  maxDecompressedBytes?: number;
}

const NO_PRODUCER_ID = -1;
const NO_PARTITION_LEADER_EPOCH = -1;
const NO_SEQUENCE = -1;
/** Smallest encoded record: length, attributes, timestampDelta, offsetDelta, keyLength, valueLength, headerCount. */
const MIN_RECORD_SIZE = 7;
/** Smallest encoded header: key length and value length. */
const MIN_HEADER_SIZE = 2;

function corrupt(message: string): RecordBatchError {
  return new RecordBatchError(RecordBatchErrorCode.CORRUPT_MESSAGE, message);
}

function invalidRecord(message: string): RecordBatchError {
  return new RecordBatchError(RecordBatchErrorCode.INVALID_RECORD, message);
}

// ---------------------------------------------------------------------------------------------------------------
// Zig-zag varints. Values are JS numbers: varints are int32, varlongs must stay within 2^53 (timestamp deltas do).

function zigZagEncode(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function zigZagDecode(u: number): number {
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

function unsignedVarintSize(u: number): number {
  let size = 1;
  while (u >= 0x80) {
    u = Math.floor(u / 0x80);
    size++;
  }
  return size;
}

function varintSize(n: number): number {
  return unsignedVarintSize(zigZagEncode(n));
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  let u = zigZagEncode(n);
  while (u >= 0x80) {
    buf[pos++] = (u % 0x80) | 0x80;
    u = Math.floor(u / 0x80);
  }
  buf[pos++] = u;
  return pos;
}

/** Bounds-checked reader over one region of a buffer; every failure is CORRUPT_MESSAGE. */
class RecordCursor {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    public end: number,
  ) {}

  int8(): number {
    if (this.pos >= this.end) throw corrupt('truncated record');
    return this.buf.readInt8(this.pos++);
  }

  /** A zig-zag varint that must fit in int32. */
  varint(): number {
    const u = this.unsignedVarint(5);
    if (u > 0xffffffff) throw corrupt('varint out of int32 range');
    return zigZagDecode(u);
  }

  /** A zig-zag varlong; values beyond ±2^52 are refused rather than silently rounded. */
  varlong(): number {
    const u = this.unsignedVarint(10);
    if (u > Number.MAX_SAFE_INTEGER) throw corrupt('varlong out of the supported range');
    return zigZagDecode(u);
  }

  /** A length-prefixed byte field; -1 means null. Returns a view, not a copy. */
  nullableBytes(what: string): Buffer | null {
    const length = this.varint();
    if (length === -1) return null;
    return this.bytes(length, what);
  }

  bytes(length: number, what: string): Buffer {
    if (length < 0 || length > this.end - this.pos) throw corrupt(`invalid ${what} length ${length}`);
    const view = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }

  private unsignedVarint(maxBytes: number): number {
    let value = 0;
    for (let i = 0; i < maxBytes; i++) {
      if (this.pos >= this.end) throw corrupt('truncated varint');
      const b = this.buf[this.pos++];
      value += (b & 0x7f) * 2 ** (7 * i);
      if (b < 0x80) return value;
    }
    throw corrupt('varint too long');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Building

interface EncodableHeader {
  key: Buffer;
  value: Buffer | null;
}

interface EncodableRecord {
  timestampDelta: number;
  offsetDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: EncodableHeader[];
  /** Encoded size after the length prefix. */
  bodySize: number;
}

function toBuffer(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

function toHeaderList(headers: NewRecord['headers']): EncodableHeader[] {
  if (!headers) return [];
  const list: RecordHeader[] = Array.isArray(headers)
    ? headers
    : Object.entries(headers).map(([key, value]) => ({ key, value: toBuffer(value) }));
  return list.map((h) => ({ key: Buffer.from(h.key, 'utf8'), value: h.value }));
}

function nullableBytesSize(b: Buffer | null): number {
  return b === null ? varintSize(-1) : varintSize(b.length) + b.length;
}

function toEncodable(record: NewRecord, offsetDelta: number, timestampDelta: number): EncodableRecord {
  const key = toBuffer(record.key);
  const value = toBuffer(record.value);
  const headers = toHeaderList(record.headers);
  let bodySize =
    1 + // attributes
    varintSize(timestampDelta) +
    varintSize(offsetDelta) +
    nullableBytesSize(key) +
    nullableBytesSize(value) +
    varintSize(headers.length);
  for (const h of headers) bodySize += varintSize(h.key.length) + h.key.length + nullableBytesSize(h.value);
  return { timestampDelta, offsetDelta, key, value, headers, bodySize };
}

function writeNullableBytes(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, b.length);
  return pos + b.copy(buf, pos);
}

function writeRecord(buf: Buffer, pos: number, r: EncodableRecord): number {
  pos = writeVarint(buf, pos, r.bodySize);
  buf[pos++] = 0; // record attributes: unused by Kafka
  pos = writeVarint(buf, pos, r.timestampDelta);
  pos = writeVarint(buf, pos, r.offsetDelta);
  pos = writeNullableBytes(buf, pos, r.key);
  pos = writeNullableBytes(buf, pos, r.value);
  pos = writeVarint(buf, pos, r.headers.length);
  for (const h of r.headers) {
    pos = writeNullableBytes(buf, pos, h.key);
    pos = writeNullableBytes(buf, pos, h.value);
  }
  return pos;
}

function encodeRecords(records: EncodableRecord[]): Buffer {
  let total = 0;
  for (const r of records) total += varintSize(r.bodySize) + r.bodySize;
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const r of records) pos = writeRecord(buf, pos, r);
  return buf;
}

/** Builds one complete batch with a correct CRC. Throws on an empty record list (Kafka rejects empty batches). */
export function buildBatch(opts: BuildBatchOptions): Buffer {
  const { records } = opts;
  if (records.length === 0) throw new RangeError('a record batch needs at least one record');
  const now = Date.now();
  const timestamps = records.map((r) => r.timestamp ?? opts.baseTimestamp ?? now);
  const baseTimestamp = opts.baseTimestamp ?? timestamps[0];
  let maxTimestamp = timestamps[0];
  for (const t of timestamps) if (t > maxTimestamp) maxTimestamp = t;

  const encodable = records.map((r, i) => toEncodable(r, i, timestamps[i] - baseTimestamp));
  const compression = opts.compression ?? CompressionType.None;
  const payload = compress(compression, encodeRecords(encodable));

  let attributes = compression & ATTR_COMPRESSION_MASK;
  if (opts.timestampType === 'logAppend') attributes |= ATTR_TIMESTAMP_TYPE;
  if (opts.transactional) attributes |= ATTR_TRANSACTIONAL;
  if (opts.control) attributes |= ATTR_CONTROL;

  const batch = Buffer.allocUnsafe(BATCH.HEADER_SIZE + payload.length);
  batch.writeBigInt64BE(BigInt(opts.baseOffset ?? 0), BATCH.BASE_OFFSET);
  batch.writeInt32BE(batch.length - BATCH.LOG_OVERHEAD, BATCH.LENGTH);
  batch.writeInt32BE(opts.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH, BATCH.PARTITION_LEADER_EPOCH);
  batch.writeInt8(RECORD_BATCH_MAGIC, BATCH.MAGIC);
  batch.writeInt16BE(attributes, BATCH.ATTRIBUTES);
  batch.writeInt32BE(records.length - 1, BATCH.LAST_OFFSET_DELTA);
  batch.writeBigInt64BE(BigInt(baseTimestamp), BATCH.BASE_TIMESTAMP);
  batch.writeBigInt64BE(BigInt(maxTimestamp), BATCH.MAX_TIMESTAMP);
  batch.writeBigInt64BE(BigInt(opts.producerId ?? NO_PRODUCER_ID), BATCH.PRODUCER_ID);
  batch.writeInt16BE(opts.producerEpoch ?? -1, BATCH.PRODUCER_EPOCH);
  batch.writeInt32BE(opts.baseSequence ?? NO_SEQUENCE, BATCH.BASE_SEQUENCE);
  batch.writeInt32BE(records.length, BATCH.RECORDS_COUNT);
  payload.copy(batch, BATCH.HEADER_SIZE);
  writeCrc(batch, 0, batch.length);
  return batch;
}

function writeCrc(buf: Buffer, pos: number, size: number): void {
  buf.writeUInt32BE(crc32c(buf, pos + BATCH.ATTRIBUTES, pos + size), pos + BATCH.CRC);
}

// ---------------------------------------------------------------------------------------------------------------
// Framing: finding batches in a Produce/Fetch records field

/**
 * Reads the header of the batch at pos after checking that the whole batch is present and is magic 2.
 * Magic 0/1 (legacy message sets) is UNSUPPORTED_FOR_MESSAGE_FORMAT; anything else malformed is CORRUPT_MESSAGE.
 */
function readCheckedHeader(buf: Buffer, pos: number): BatchHeader {
  const remaining = buf.length - pos;
  if (remaining < BATCH.MAGIC + 1) throw corrupt(`truncated batch header: ${remaining} bytes at offset ${pos}`);
  const magic = buf.readInt8(pos + BATCH.MAGIC);
  if (magic === 0 || magic === 1) {
    throw new RecordBatchError(
      RecordBatchErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT,
      `message format v${magic} is not supported, only record batches (magic 2)`,
    );
  }
  if (magic !== RECORD_BATCH_MAGIC) throw corrupt(`invalid magic ${magic} at offset ${pos}`);
  const size = buf.readInt32BE(pos + BATCH.LENGTH) + BATCH.LOG_OVERHEAD;
  if (size < BATCH.HEADER_SIZE) throw corrupt(`batch size ${size} is smaller than a batch header`);
  if (size > remaining) throw corrupt(`truncated batch: declares ${size} bytes, ${remaining} present`);
  return readBatchHeader(buf, pos);
}

/** Yields each batch's position and header without copying. Throws RecordBatchError on a truncated or bad batch. */
export function* iterateBatchHeaders(buf: Buffer): Generator<{ pos: number; header: BatchHeader }> {
  for (let pos = 0; pos < buf.length; ) {
    const header = readCheckedHeader(buf, pos);
    yield { pos, header };
    pos += header.size;
  }
}

/** Splits a concatenation of batches into views (no copies), one per batch. */
export function splitBatches(buf: Buffer): Buffer[] {
  const batches: Buffer[] = [];
  for (const { pos, header } of iterateBatchHeaders(buf)) batches.push(buf.subarray(pos, pos + header.size));
  return batches;
}

function crcMatches(batch: Buffer, header: BatchHeader): boolean {
  return crc32c(batch, BATCH.ATTRIBUTES, header.size) === header.crc;
}

// ---------------------------------------------------------------------------------------------------------------
// Decoding

/** The records section of a batch, decompressed if needed. */
function recordsSection(batch: Buffer, header: BatchHeader, maxOutput: number): Buffer {
  const section = batch.subarray(BATCH.HEADER_SIZE, header.size);
  const codec = header.attributes & ATTR_COMPRESSION_MASK;
  if (!isSupportedCompression(codec)) throw corrupt(`invalid compression type ${codec}`);
  if (codec === CompressionType.None) return section; // already in memory: no output bound to enforce
  try {
    return decompress(codec as CompressionType, section, maxOutput);
  } catch (e) {
    if (!(e instanceof CompressionError)) throw e;
    const code =
      e.kind === 'tooLarge'
        ? RecordBatchErrorCode.MESSAGE_TOO_LARGE
        : e.kind === 'unsupported'
          ? RecordBatchErrorCode.UNSUPPORTED_COMPRESSION_TYPE
          : RecordBatchErrorCode.CORRUPT_MESSAGE;
    throw new RecordBatchError(code, e.message);
  }
}

function readHeaders(cursor: RecordCursor): RecordHeader[] {
  const count = cursor.varint();
  if (count < 0 || count > (cursor.end - cursor.pos) / MIN_HEADER_SIZE) throw corrupt(`invalid header count ${count}`);
  const headers: RecordHeader[] = [];
  for (let i = 0; i < count; i++) {
    const keyLength = cursor.varint();
    const key = cursor.bytes(keyLength, 'header key').toString('utf8');
    headers.push({ key, value: cursor.nullableBytes('header value') });
  }
  return headers;
}

function readRecord(cursor: RecordCursor, header: BatchHeader, logAppendTime: boolean): DecodedRecord {
  const length = cursor.varint();
  if (length < 0 || length > cursor.end - cursor.pos) throw corrupt(`invalid record length ${length}`);
  const recordStart = cursor.pos;
  const recordEnd = recordStart + length;
  const sectionEnd = cursor.end;
  cursor.end = recordEnd; // nothing inside a record may read past its declared length
  const attributes = cursor.int8();
  const timestampDelta = cursor.varlong();
  const offsetDelta = cursor.varint();
  const key = cursor.nullableBytes('key');
  const value = cursor.nullableBytes('value');
  const headers = readHeaders(cursor);
  if (cursor.pos !== recordEnd) {
    throw corrupt(`record declares ${length} bytes but its fields use ${cursor.pos - recordStart}`);
  }
  cursor.end = sectionEnd;
  return {
    offset: header.baseOffset + offsetDelta,
    // LogAppendTime batches carry the broker's append time in MaxTimestamp; Kafka reports it for every record.
    timestamp: logAppendTime ? header.maxTimestamp : header.baseTimestamp + timestampDelta,
    key,
    value,
    headers,
    attributes,
  };
}

function readRecords(section: Buffer, header: BatchHeader): DecodedRecord[] {
  const count = header.recordsCount;
  if (count < 0 || count > section.length / MIN_RECORD_SIZE) {
    throw corrupt(`records count ${count} does not fit in ${section.length} bytes of records`);
  }
  const logAppendTime = (header.attributes & ATTR_TIMESTAMP_TYPE) !== 0;
  const cursor = new RecordCursor(section, 0, section.length);
  const records: DecodedRecord[] = [];
  for (let i = 0; i < count; i++) records.push(readRecord(cursor, header, logAppendTime));
  if (cursor.pos !== section.length) throw corrupt(`${section.length - cursor.pos} bytes left after the last record`);
  return records;
}

/** Decodes one batch (the first in `batch`): header and records, decompressing when needed. */
export function decodeBatch(
  batch: Buffer,
  opts: DecodeBatchOptions = {},
): { header: BatchHeader; records: DecodedRecord[] } {
  const header = readCheckedHeader(batch, 0);
  if (opts.verifyCrc !== false && !crcMatches(batch, header)) throw corrupt('record batch CRC mismatch');
  const section = recordsSection(batch, header, opts.maxOutput ?? DEFAULT_MAX_DECOMPRESSED_BYTES);
  return { header, records: readRecords(section, header) };
}

/** Offset and timestamp of every record of a batch (exact answers for ListOffsets by timestamp). */
export function batchTimestamps(
  batch: Buffer,
  opts: DecodeBatchOptions = {},
): Array<{ offset: number; timestamp: number }> {
  return decodeBatch(batch, opts).records.map((r) => ({ offset: r.offset, timestamp: r.timestamp }));
}

// ---------------------------------------------------------------------------------------------------------------
// Broker-side checks of a Produce request's records (ProduceRequest.validateRecords + LogValidator in Kafka,
// 00_produce.go in kfake)

/** Whether `rest` starts with at least one complete, plausible batch (as opposed to stray trailing bytes). */
function startsWithCompleteBatch(rest: Buffer): boolean {
  if (rest.length < BATCH.HEADER_SIZE) return false;
  const size = rest.readInt32BE(BATCH.LENGTH) + BATCH.LOG_OVERHEAD;
  return size >= BATCH.HEADER_SIZE && size <= rest.length;
}

/**
 * Checks one partition's records from a Produce request. Returns the batch (a view of `records`) and its header,
 * or the RecordBatchError to answer with; never throws for bad input.
 */
export function validateProducedBatches(
  records: Buffer,
  opts: ProducedBatchCheckOptions,
): { batch: Buffer; header: BatchHeader } | RecordBatchError {
  try {
    return checkProducedBatch(records, opts);
  } catch (e) {
    if (e instanceof RecordBatchError) return e;
    throw e;
  }
}

function checkProducedBatch(records: Buffer, opts: ProducedBatchCheckOptions): { batch: Buffer; header: BatchHeader } {
  const v = opts.produceVersion;
  if (records.length === 0) {
    throw invalidRecord(`Produce requests with version ${v} must have at least one record batch per partition`);
  }
  if (records.length > BATCH.MAGIC) {
    // Kafka refuses non-v2 batches on Produce v3+ as INVALID_RECORD; older versions would need the legacy format.
    const magic = records.readInt8(BATCH.MAGIC);
    if ((magic === 0 || magic === 1) && v >= 3) {
      throw invalidRecord(
        `Produce requests with version ${v} are only allowed to contain record batches with magic version 2`,
      );
    }
  }
  const header = readCheckedHeader(records, 0);
  if (header.size < records.length) {
    if (startsWithCompleteBatch(records.subarray(header.size))) {
      throw invalidRecord(
        `Produce requests with version ${v} are only allowed to contain exactly one record batch per partition`,
      );
    }
    const sent = records.length - BATCH.LOG_OVERHEAD;
    throw corrupt(`batch length ${header.size - BATCH.LOG_OVERHEAD} does not match the ${sent} bytes sent`);
  }
  const batch = records;

  const codec = header.attributes & ATTR_COMPRESSION_MASK;
  if (!isSupportedCompression(codec)) throw corrupt(`invalid compression type ${codec}`);
  if (codec === CompressionType.Zstd && v < 7) {
    throw new RecordBatchError(
      RecordBatchErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
      `Produce requests with version ${v} are not allowed to use ZStandard compression`,
    );
  }
  if (header.size > opts.maxMessageBytes) {
    throw new RecordBatchError(
      RecordBatchErrorCode.MESSAGE_TOO_LARGE,
      `The record batch size ${header.size} bytes exceeds the maximum configured value of ${opts.maxMessageBytes}`,
    );
  }
  if (!crcMatches(batch, header)) throw corrupt('record batch CRC mismatch');
  if (header.baseOffset !== 0) throw corrupt(`base offset of a produced batch must be 0, got ${header.baseOffset}`);
  if (header.recordsCount <= 0) throw invalidRecord(`Invalid reported count for record batch: ${header.recordsCount}`);
  if (header.lastOffsetDelta !== header.recordsCount - 1) {
    throw invalidRecord(
      `Inconsistent batch offset range: last offset delta ${header.lastOffsetDelta}, ${header.recordsCount} records`,
    );
  }
  if (header.attributes & ATTR_CONTROL) throw invalidRecord('Clients are not allowed to write control records');
  if (header.producerId !== NO_PRODUCER_ID && header.baseSequence < 0) {
    throw invalidRecord(
      `Invalid sequence number ${header.baseSequence} in record batch with producerId ${header.producerId}`,
    );
  }
  if (codec === CompressionType.None) checkRecordsParse(batch, header);
  if (opts.requireKeys) checkKeysPresent(batch, opts.maxDecompressedBytes);
  return { batch, header };
}

/**
 * Walks the records of an uncompressed batch without copying or decoding anything: each must parse within its
 * declared length, and together they must fill the batch exactly. Kafka's LogValidator refuses anything else with
 * CORRUPT_MESSAGE; stored as sent, such a batch (a valid CRC over garbage) stalls every consumer that reaches it.
 * (Plain integer varint reads: this runs on every produced batch.)
 */
function checkRecordsParse(batch: Buffer, header: BatchHeader): void {
  const count = header.recordsCount;
  const end = header.size;
  if (count > (end - BATCH.HEADER_SIZE) / MIN_RECORD_SIZE) throw corrupt(`records count ${count} does not fit in ${end - BATCH.HEADER_SIZE} bytes of records`);
  let pos: number = BATCH.HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    const length = walkVarint(batch, pos, end);
    pos = walkPos;
    if (length < 0 || length > end - pos) throw corrupt(`invalid record ${i} length ${length}`);
    const recordEnd = pos + length;
    pos += 1; // attributes
    pos = skipVarlong(batch, pos, recordEnd); // timestamp delta
    walkVarint(batch, pos, recordEnd); // offset delta
    pos = skipBytesField(batch, walkPos, recordEnd, 'key');
    pos = skipBytesField(batch, pos, recordEnd, 'value');
    const headers = walkVarint(batch, pos, recordEnd);
    pos = walkPos;
    if (headers < 0 || headers > (recordEnd - pos) / MIN_HEADER_SIZE) throw corrupt(`invalid header count ${headers} in record ${i}`);
    for (let h = 0; h < headers; h++) {
      const keyLength = walkVarint(batch, pos, recordEnd);
      pos = walkPos;
      if (keyLength < 0 || keyLength > recordEnd - pos) throw corrupt(`invalid header key length ${keyLength} in record ${i}`);
      pos = skipBytesField(batch, pos + keyLength, recordEnd, 'header value');
    }
    if (pos !== recordEnd) throw corrupt(`record ${i} declares ${length} bytes but its fields use ${length - (recordEnd - pos)}`);
  }
  if (pos !== end) throw corrupt(`${end - pos} bytes left after the last record`);
}

/** Where the last walkVarint stopped (a module variable rather than an allocated pair: this is a hot path). */
let walkPos = 0;

/** A zig-zag varint of at most 32 bits at `pos`, which must end before `end`. */
function walkVarint(buf: Buffer, pos: number, end: number): number {
  let u = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) throw corrupt('truncated varint');
    const b = buf[pos++];
    if (shift === 28 && b > 0x0f) throw corrupt('varint out of int32 range');
    u |= (b & 0x7f) << shift;
    if (b < 0x80) {
      walkPos = pos;
      return (u >>> 1) ^ -(u & 1);
    }
  }
  throw corrupt('varint too long');
}

function skipVarlong(buf: Buffer, pos: number, end: number): number {
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw corrupt('truncated varlong');
    if (buf[pos++] < 0x80) return pos;
  }
  throw corrupt('varlong too long');
}

/** Skips a varint-length-prefixed field (-1 = null); returns the position after it. */
function skipBytesField(buf: Buffer, pos: number, end: number, what: string): number {
  const length = walkVarint(buf, pos, end);
  pos = walkPos;
  if (length === -1) return pos;
  if (length < 0 || length > end - pos) throw corrupt(`invalid ${what} length ${length}`);
  return pos + length;
}

function checkKeysPresent(batch: Buffer, maxOutput: number | undefined): void {
  const { records } = decodeBatch(batch, { maxOutput, verifyCrc: false });
  const keyless = records.findIndex((r) => r.key === null);
  if (keyless >= 0) {
    throw invalidRecord(`Compacted topic cannot accept message without key (record ${keyless} of the batch)`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// In-place rewrites done by the leader on append

/** Sets BaseOffset and PartitionLeaderEpoch. Both lie outside the CRC, so the CRC stays valid. */
export function stampBatch(batch: Buffer, baseOffset: number, partitionLeaderEpoch: number): void {
  writeInt64(batch, baseOffset, BATCH.BASE_OFFSET);
  batch.writeInt32BE(partitionLeaderEpoch, BATCH.PARTITION_LEADER_EPOCH);
}

/**
 * Marks the batch as LogAppendTime with `now` as MaxTimestamp (what Kafka does for message.timestamp.type=LogAppendTime)
 * and recomputes the CRC, which covers both fields.
 */
export function stampLogAppendTime(batch: Buffer, now: number): void {
  const size = batch.readInt32BE(BATCH.LENGTH) + BATCH.LOG_OVERHEAD;
  if (size < BATCH.HEADER_SIZE || size > batch.length) throw corrupt(`batch size ${size} does not fit the buffer`);
  batch.writeInt16BE(batch.readInt16BE(BATCH.ATTRIBUTES) | ATTR_TIMESTAMP_TYPE, BATCH.ATTRIBUTES);
  writeInt64(batch, now, BATCH.MAX_TIMESTAMP);
  writeCrc(batch, 0, size);
}
