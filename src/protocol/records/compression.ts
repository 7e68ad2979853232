// The four record-batch codecs Kafka clients use (gzip, snappy, lz4, zstd), with a hard bound on output size.
//
// Wire formats, as real clients write them:
// * gzip: an ordinary gzip stream (node:zlib).
// * snappy: the Java client writes xerial "snappy-java" framing (magic 82 53 4E 41 50 50 59 00, int32 version,
//   int32 compatible version, then repeated [int32 BE length, raw snappy block]); librdkafka may write one raw
//   snappy block. Readers must accept both, so we sniff the magic. We write xerial framing by default, like the
//   Java client; raw is available (see CompressOptions) because @platformatic/kafka reads only raw.
// * lz4: the LZ4 frame format, with independent blocks (Kafka's Java reader rejects dependent blocks).
// * zstd: a zstd frame. Decompression only: fzstd is a pure-JS decoder and no encoder is installed.
//
// Why hand-written block decoders for snappy and lz4: the npm decoders do not bounds-check hostile input
// (snappyjs can be driven into a multi-billion-step loop by a negative literal length; lz4js turns bad match
// offsets into zeros and walks a truncated frame forever). A broker decodes bytes from the network, so the
// decoders here check every length and offset and refuse to grow past the caller's output bound. The npm
// packages are still used for compression, where the input is our own.

import * as zlib from 'node:zlib';
import * as snappyjs from 'snappyjs';
import { decompress as fzstdDecompress } from 'fzstd';
import { CompressionType } from './batchHeader';

/** Default bound on decompressed output: large enough for any batch a Kafka client sends, small enough not to OOM. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

export type CompressionErrorKind = 'corrupt' | 'tooLarge' | 'unsupported';

/** A codec failure. `kind` lets callers map it to a Kafka error code without parsing messages. */
export class CompressionError extends Error {
  constructor(
    readonly kind: CompressionErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'CompressionError';
  }
}

/** Codes 0..4 are the codecs defined by Kafka; all of them can be decompressed here. */
export function isSupportedCompression(code: number): boolean {
  return Number.isInteger(code) && code >= CompressionType.None && code <= CompressionType.Zstd;
}

/** Whether `compress` can produce this codec (zstd cannot: there is only a decoder). */
export function canCompress(type: CompressionType): boolean {
  return isSupportedCompression(type) && type !== CompressionType.Zstd;
}

export function decompress(type: CompressionType, data: Buffer, maxOutput = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  switch (type) {
    case CompressionType.None:
      if (data.length > maxOutput) throw tooLarge(data.length, maxOutput);
      return data;
    case CompressionType.Gzip:
      return gunzip(data, maxOutput);
    case CompressionType.Snappy:
      if (isXerialFramed(data)) return decodeXerialSnappy(data, maxOutput);
      return decodeRawSnappy(data, 0, data.length, maxOutput);
    case CompressionType.Lz4:
      return decodeLz4Frame(data, maxOutput);
    case CompressionType.Zstd:
      return decodeZstd(data, maxOutput);
    default:
      throw new CompressionError('unsupported', `unknown compression type ${String(type)}`);
  }
}

export interface CompressOptions {
  /**
   * Snappy framing to write. 'raw' (default) is one plain snappy block; 'xerial' is what the Java client writes.
   * every reader that handles xerial also falls back to raw (snappy-java, librdkafka, kafkajs-snappy,
   * kafka-python), and @platformatic/kafka 1.35 reads only raw (its wasm decoder traps on xerial framing), so
   * raw is the format every consumer of our batches can read.
   */
  snappyFraming?: 'xerial' | 'raw';
}

export function compress(type: CompressionType, data: Buffer, options: CompressOptions = {}): Buffer {
  switch (type) {
    case CompressionType.None:
      return data;
    case CompressionType.Gzip:
      return zlib.gzipSync(data);
    case CompressionType.Snappy:
      return options.snappyFraming === 'xerial' ? encodeXerialSnappy(data) : asBuffer(snappyjs.compress(data));
    case CompressionType.Lz4:
      return encodeLz4Frame(data);
    case CompressionType.Zstd:
      throw new CompressionError('unsupported', 'zstd compression is not available');
    default:
      throw new CompressionError('unsupported', `unknown compression type ${String(type)}`);
  }
}

function tooLarge(size: number | string, maxOutput: number): CompressionError {
  return new CompressionError('tooLarge', `decompressed data (${size} bytes) exceeds the limit of ${maxOutput} bytes`);
}

function corrupt(codec: string, detail: string): CompressionError {
  return new CompressionError('corrupt', `invalid ${codec} data: ${detail}`);
}

/** Buffer view of a Uint8Array without copying. */
function asBuffer(u8: Uint8Array): Buffer {
  return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.length);
}

/** Returns out[0, used), copying when most of the allocation would otherwise be kept alive for nothing. */
function trimmed(out: Buffer, used: number): Buffer {
  if (used === out.length) return out;
  return used < out.length / 2 ? Buffer.from(out.subarray(0, used)) : out.subarray(0, used);
}

// ---------------------------------------------------------------------------------------------------------------
// gzip

function gunzip(data: Buffer, maxOutput: number): Buffer {
  try {
    // maxOutputLength makes zlib stop (with ERR_BUFFER_TOO_LARGE) instead of inflating a bomb into memory.
    return zlib.gunzipSync(data, { maxOutputLength: maxOutput });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(`more than ${maxOutput}`, maxOutput);
    throw corrupt('gzip', (e as Error).message);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// snappy

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
/** Magic, then int32 version and int32 minimum compatible version (both 1, as snappy-java writes). */
const XERIAL_HEADER_SIZE = 16;
/** snappy-java's default chunk size: what the Java client produces. */
const XERIAL_CHUNK_SIZE = 32 * 1024;

export function isXerialFramed(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_SIZE && data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
}

function decodeXerialSnappy(data: Buffer, maxOutput: number): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  let pos = XERIAL_HEADER_SIZE; // version fields are not checked: every writer uses 1/1 and readers ignore them
  while (pos < data.length) {
    if (pos + 4 > data.length) throw corrupt('snappy', 'truncated xerial chunk length');
    const chunkLength = data.readUInt32BE(pos);
    pos += 4;
    if (chunkLength > data.length - pos) throw corrupt('snappy', 'xerial chunk longer than the data');
    const chunk = decodeRawSnappy(data, pos, pos + chunkLength, maxOutput - total);
    chunks.push(chunk);
    total += chunk.length;
    pos += chunkLength;
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}

/** Decodes one raw snappy block held in src[start, end). */
function decodeRawSnappy(src: Buffer, start: number, end: number, maxOutput: number): Buffer {
  // Preamble: the uncompressed length as an unsigned varint (at most 32 bits).
  let pos = start;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (pos >= end || shift > 28) throw corrupt('snappy', 'bad length preamble');
    const b = src[pos++];
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  if (length > maxOutput) throw tooLarge(length, maxOutput);

  const out = Buffer.allocUnsafe(length);
  let op = 0;
  while (pos < end) {
    const tag = src[pos++];
    const elementType = tag & 3;
    if (elementType === 0) {
      let literalLength = (tag >>> 2) + 1;
      if (literalLength > 60) {
        const lengthBytes = literalLength - 60; // 1..4 little-endian bytes holding length-1
        if (pos + lengthBytes > end) throw corrupt('snappy', 'truncated literal length');
        literalLength = src.readUIntLE(pos, lengthBytes) + 1;
        pos += lengthBytes;
      }
      if (literalLength > end - pos || literalLength > length - op) throw corrupt('snappy', 'literal out of bounds');
      src.copy(out, op, pos, pos + literalLength);
      pos += literalLength;
      op += literalLength;
      continue;
    }
    let copyLength: number;
    let offset: number;
    if (elementType === 1) {
      if (pos + 1 > end) throw corrupt('snappy', 'truncated copy');
      copyLength = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[pos];
      pos += 1;
    } else if (elementType === 2) {
      if (pos + 2 > end) throw corrupt('snappy', 'truncated copy');
      copyLength = (tag >>> 2) + 1;
      offset = src.readUInt16LE(pos);
      pos += 2;
    } else {
      if (pos + 4 > end) throw corrupt('snappy', 'truncated copy');
      copyLength = (tag >>> 2) + 1;
      offset = src.readUInt32LE(pos);
      pos += 4;
    }
    if (offset === 0 || offset > op) throw corrupt('snappy', 'copy offset out of range');
    if (copyLength > length - op) throw corrupt('snappy', 'copy overruns the declared length');
    copyWithinOverlapping(out, op, offset, copyLength);
    op += copyLength;
  }
  if (op !== length) throw corrupt('snappy', `decoded ${op} bytes, preamble said ${length}`);
  return out;
}

/** LZ-style back-reference copy: the source may overlap the destination (offset < length repeats a pattern). */
function copyWithinOverlapping(out: Buffer, op: number, offset: number, length: number): void {
  if (offset >= length) {
    out.copyWithin(op, op - offset, op - offset + length);
    return;
  }
  for (let i = 0; i < length; i++) out[op + i] = out[op + i - offset];
}

function encodeXerialSnappy(data: Buffer): Buffer {
  const parts: Buffer[] = [xerialHeader()];
  for (let pos = 0; pos < data.length; pos += XERIAL_CHUNK_SIZE) {
    const block = asBuffer(snappyjs.compress(data.subarray(pos, Math.min(pos + XERIAL_CHUNK_SIZE, data.length))));
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

function xerialHeader(): Buffer {
  const header = Buffer.alloc(XERIAL_HEADER_SIZE);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(1, 8); // version
  header.writeInt32BE(1, 12); // minimum compatible version
  return header;
}

// ---------------------------------------------------------------------------------------------------------------
// lz4 (frame format: https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md)

const LZ4_MAGIC = 0x184d2204;
const LZ4_FLG_VERSION_MASK = 0xc0;
const LZ4_FLG_VERSION_01 = 0x40;
const LZ4_FLG_BLOCK_INDEPENDENCE = 0x20;
const LZ4_FLG_BLOCK_CHECKSUM = 0x10;
const LZ4_FLG_CONTENT_SIZE = 0x08;
const LZ4_FLG_DICTIONARY_ID = 0x01;
const LZ4_BLOCK_UNCOMPRESSED = 0x80000000;
/** Expansion limit of one LZ4 block: every input byte yields at most 255 output bytes. */
const LZ4_MAX_EXPANSION = 255;

/** BD byte for 64 KiB maximum blocks, the size the Java client writes. */
const LZ4_BD_64KB = 0x40;
const LZ4_BLOCK_MAX_64KB = 64 * 1024;
/**
 * Input per block that we compress. lz4js may start the last match 10 bytes before the end of a block, which the
 * LZ4 spec forbids (MFLIMIT = 12); the reference decoders only enforce that rule against the end of their output
 * buffer, which is at least one maximum block long, so leaving 16 bytes of slack keeps our frames decodable by
 * liblz4 and lz4-java.
 */
const LZ4_BLOCK_INPUT = LZ4_BLOCK_MAX_64KB - 16;
/** Header checksum byte for FLG=0x60 BD=0x40: (xxh32([0x60, 0x40], seed 0) >> 8) & 0xff. Checked by a test. */
export const LZ4_HEADER_CHECKSUM_64KB_INDEPENDENT = 0x82;

/** The part of lz4js used here (its type declaration in types/ covers only compress/decompress). */
interface Lz4BlockCompressor {
  compressBlock(src: Uint8Array, dst: Uint8Array, srcIndex: number, srcLength: number, hashTable: Uint32Array): number;
  compressBound(n: number): number;
}
let lz4BlockCompressor: Lz4BlockCompressor | undefined;
/** lz4js allocates a 5 MiB scratch buffer when loaded; load it only in processes that actually write lz4. */
function lz4Block(): Lz4BlockCompressor {
  lz4BlockCompressor ??= require('lz4js') as Lz4BlockCompressor;
  return lz4BlockCompressor;
}

interface Lz4FrameHeader {
  flags: number;
  maxBlockSize: number;
  contentSize: number | undefined;
  /** Offset of the first block. */
  dataStart: number;
}

function readLz4FrameHeader(data: Buffer): Lz4FrameHeader {
  if (data.length < 7) throw corrupt('lz4', 'truncated frame header');
  if (data.readUInt32LE(0) !== LZ4_MAGIC) throw corrupt('lz4', 'bad frame magic');
  const flags = data[4];
  if ((flags & LZ4_FLG_VERSION_MASK) !== LZ4_FLG_VERSION_01) throw corrupt('lz4', 'unsupported frame version');
  if (flags & LZ4_FLG_DICTIONARY_ID) throw corrupt('lz4', 'frames with a dictionary are not supported');
  const blockSizeId = (data[5] >> 4) & 7;
  if (blockSizeId < 4) throw corrupt('lz4', `invalid block size id ${blockSizeId}`);
  const maxBlockSize = 1 << (2 * blockSizeId + 8); // 64 KiB, 256 KiB, 1 MiB, 4 MiB
  let pos = 6;
  let contentSize: number | undefined;
  if (flags & LZ4_FLG_CONTENT_SIZE) {
    if (data.length < pos + 9) throw corrupt('lz4', 'truncated content size');
    contentSize = Number(data.readBigUInt64LE(pos));
    pos += 8;
  }
  // The header checksum byte is skipped, not verified: Kafka clients before 0.10 computed it over the wrong bytes
  // (KAFKA-3160), and the Java broker tolerates that too.
  pos += 1;
  return { flags, maxBlockSize, contentSize, dataStart: pos };
}

/**
 * Walks the blocks once to get an upper bound on the output, so the output buffer can be allocated once
 * and a bomb refused before any work.
 */
function lz4OutputBound(data: Buffer, header: Lz4FrameHeader): number {
  const blockChecksumSize = header.flags & LZ4_FLG_BLOCK_CHECKSUM ? 4 : 0;
  let bound = 0;
  let pos = header.dataStart;
  for (;;) {
    if (pos + 4 > data.length) throw corrupt('lz4', 'truncated block header (missing end mark?)');
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) return bound;
    const size = word & ~LZ4_BLOCK_UNCOMPRESSED;
    if (size > header.maxBlockSize) throw corrupt('lz4', `block of ${size} bytes exceeds the frame maximum`);
    if (size + blockChecksumSize > data.length - pos) throw corrupt('lz4', 'truncated block');
    const uncompressed = (word & LZ4_BLOCK_UNCOMPRESSED) !== 0;
    bound += uncompressed ? size : Math.min(header.maxBlockSize, size * LZ4_MAX_EXPANSION);
    pos += size + blockChecksumSize;
  }
}

function decodeLz4Frame(data: Buffer, maxOutput: number): Buffer {
  const header = readLz4FrameHeader(data);
  if (header.contentSize !== undefined && header.contentSize > maxOutput) throw tooLarge(header.contentSize, maxOutput);
  const bound = lz4OutputBound(data, header);
  const out = Buffer.allocUnsafe(Math.min(bound, maxOutput));
  const blockChecksumSize = header.flags & LZ4_FLG_BLOCK_CHECKSUM ? 4 : 0;
  let op = 0;
  let pos = header.dataStart;
  for (;;) {
    const word = data.readUInt32LE(pos); // in bounds: lz4OutputBound walked the same blocks
    pos += 4;
    if (word === 0) break;
    const size = word & ~LZ4_BLOCK_UNCOMPRESSED;
    const blockLimit = Math.min(out.length, op + header.maxBlockSize);
    // Past blockLimit is either past the output bound (when that is what limits) or a block larger than the frame allows.
    const overflow = (): CompressionError =>
      blockLimit === out.length && out.length < bound
        ? tooLarge(`more than ${maxOutput}`, maxOutput)
        : corrupt('lz4', 'block decodes past its maximum size');
    if (word & LZ4_BLOCK_UNCOMPRESSED) {
      if (size > blockLimit - op) throw overflow();
      data.copy(out, op, pos, pos + size);
      op += size;
    } else {
      // Back-references may reach into earlier blocks: that decodes dependent-block frames too.
      op = decodeLz4Block(data, pos, pos + size, out, op, blockLimit, overflow);
    }
    pos += size + blockChecksumSize;
  }
  // Block and content checksums (xxh32) are not verified: the batch CRC already covers the compressed bytes.
  return trimmed(out, op);
}

/**
 * Decodes the LZ4 block src[start, end) into out starting at op, never writing at or past outLimit.
 * Returns the new output position.
 */
function decodeLz4Block(
  src: Buffer,
  start: number,
  end: number,
  out: Buffer,
  op: number,
  outLimit: number,
  overflow: () => Error,
): number {
  let pos = start;
  while (pos < end) {
    const token = src[pos++];
    let literalLength = token >>> 4;
    if (literalLength === 15) {
      for (let b = 255; b === 255; ) {
        if (pos >= end) throw corrupt('lz4', 'truncated literal length');
        b = src[pos++];
        literalLength += b;
      }
    }
    if (literalLength > end - pos) throw corrupt('lz4', 'literal run past the end of the block');
    if (literalLength > outLimit - op) throw overflow();
    src.copy(out, op, pos, pos + literalLength);
    pos += literalLength;
    op += literalLength;
    if (pos === end) break; // the last sequence has literals only

    if (pos + 2 > end) throw corrupt('lz4', 'truncated match offset');
    const offset = src.readUInt16LE(pos);
    pos += 2;
    if (offset === 0 || offset > op) throw corrupt('lz4', 'match offset out of range');
    let matchLength = token & 15;
    if (matchLength === 15) {
      for (let b = 255; b === 255; ) {
        if (pos >= end) throw corrupt('lz4', 'truncated match length');
        b = src[pos++];
        matchLength += b;
      }
    }
    matchLength += 4; // minimum match
    if (matchLength > outLimit - op) throw overflow();
    copyWithinOverlapping(out, op, offset, matchLength);
    op += matchLength;
  }
  return op;
}

function encodeLz4Frame(data: Buffer): Buffer {
  const header = Buffer.alloc(7);
  header.writeUInt32LE(LZ4_MAGIC, 0);
  header[4] = LZ4_FLG_VERSION_01 | LZ4_FLG_BLOCK_INDEPENDENCE;
  header[5] = LZ4_BD_64KB;
  header[6] = LZ4_HEADER_CHECKSUM_64KB_INDEPENDENT;
  const parts: Buffer[] = [header];

  const lz4 = lz4Block();
  const hashTable = new Uint32Array(1 << 16);
  const scratch = Buffer.allocUnsafe(lz4.compressBound(LZ4_BLOCK_INPUT));
  for (let pos = 0; pos < data.length; pos += LZ4_BLOCK_INPUT) {
    const block = data.subarray(pos, Math.min(pos + LZ4_BLOCK_INPUT, data.length));
    hashTable.fill(0); // a fresh table per block keeps blocks independent: matches never reach a previous block
    const compressedSize = lz4.compressBlock(block, scratch, 0, block.length, hashTable);
    const blockHeader = Buffer.allocUnsafe(4);
    if (compressedSize === 0 || compressedSize >= block.length) {
      // lz4js returns 0 when it found nothing to match: store the block as is
      blockHeader.writeUInt32LE((block.length | LZ4_BLOCK_UNCOMPRESSED) >>> 0, 0);
      parts.push(blockHeader, block);
    } else {
      blockHeader.writeUInt32LE(compressedSize, 0);
      parts.push(blockHeader, Buffer.from(scratch.subarray(0, compressedSize)));
    }
  }
  parts.push(Buffer.alloc(4)); // end mark
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------------------------
// zstd (frame format: RFC 8878)

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const ZSTD_SKIPPABLE_MAGIC = 0x184d2a50;
const ZSTD_MAX_BLOCK = 128 * 1024;
/**
 * fzstd allocates the frame's window when the content size is unknown. The spec asks decoders to support 8 MiB
 * windows; beyond that (and beyond the output bound) we refuse rather than allocate what a header asks for.
 */
const ZSTD_MIN_WINDOW_LIMIT = 8 * 1024 * 1024;

interface ZstdFrameInfo {
  /** Offset just past the frame. */
  end: number;
  /** Upper bound of the frame's decompressed size. */
  outputBound: number;
  /** Bytes fzstd will allocate for this frame's window/output buffer. */
  allocation: number;
}

function decodeZstd(data: Buffer, maxOutput: number): Buffer {
  // Check every frame's declared sizes before fzstd allocates anything based on them.
  const windowLimit = Math.max(maxOutput, ZSTD_MIN_WINDOW_LIMIT);
  let total = 0;
  for (let pos = 0; pos < data.length; ) {
    const frame = readZstdFrame(data, pos);
    total += frame.outputBound;
    if (total > maxOutput) throw tooLarge(`up to ${total}`, maxOutput);
    if (frame.allocation > windowLimit) throw corrupt('zstd', `window of ${frame.allocation} bytes is too large`);
    pos = frame.end;
  }
  let out: Uint8Array;
  try {
    out = fzstdDecompress(data);
  } catch (e) {
    throw corrupt('zstd', (e as Error).message);
  }
  if (out.length > maxOutput) throw tooLarge(out.length, maxOutput);
  return asBuffer(out);
}

/** Parses one zstd (or skippable) frame's header and block headers, without decoding. */
function readZstdFrame(data: Buffer, start: number): ZstdFrameInfo {
  if (start + 4 > data.length) throw corrupt('zstd', 'truncated frame magic');
  const magic = data.readUInt32LE(start);
  if (((magic & ZSTD_SKIPPABLE_MAGIC_MASK) >>> 0) === ZSTD_SKIPPABLE_MAGIC) {
    if (start + 8 > data.length) throw corrupt('zstd', 'truncated skippable frame');
    const end = start + 8 + data.readUInt32LE(start + 4);
    if (end > data.length) throw corrupt('zstd', 'truncated skippable frame');
    return { end, outputBound: 0, allocation: 0 };
  }
  if (magic !== ZSTD_MAGIC) throw corrupt('zstd', 'bad frame magic');

  let pos = start + 4;
  if (pos + 1 > data.length) throw corrupt('zstd', 'truncated frame header');
  const descriptor = data[pos++];
  const contentSizeFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  const hasChecksum = (descriptor & 0x04) !== 0;
  const dictionaryIdFlag = descriptor & 3;
  if (descriptor & 0x08) throw corrupt('zstd', 'reserved frame header bit set');

  let windowSize = 0;
  if (!singleSegment) {
    if (pos + 1 > data.length) throw corrupt('zstd', 'truncated window descriptor');
    const windowDescriptor = data[pos++];
    const windowBase = 2 ** (10 + (windowDescriptor >> 3));
    windowSize = windowBase + (windowBase / 8) * (windowDescriptor & 7);
  }
  pos += [0, 1, 2, 4][dictionaryIdFlag];
  const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][contentSizeFlag];
  if (pos + contentSizeBytes > data.length) throw corrupt('zstd', 'truncated frame header');
  let contentSize: number | undefined;
  if (contentSizeBytes > 0) {
    contentSize = readUIntLE(data, pos, contentSizeBytes);
    if (contentSizeBytes === 2) contentSize += 256; // the 2-byte field is stored minus 256
    pos += contentSizeBytes;
  }
  if (singleSegment) windowSize = contentSize ?? 0;

  const blockMax = Math.min(ZSTD_MAX_BLOCK, Math.max(windowSize, 1));
  let blocksBound = 0;
  for (let last = false; !last; ) {
    if (pos + 3 > data.length) throw corrupt('zstd', 'truncated block header');
    const blockHeader = data.readUIntLE(pos, 3);
    pos += 3;
    last = (blockHeader & 1) === 1;
    const blockType = (blockHeader >> 1) & 3;
    const blockSize = blockHeader >>> 3;
    if (blockType === 3) throw corrupt('zstd', 'reserved block type');
    const stored = blockType === 1 ? 1 : blockSize; // an RLE block stores one byte, repeated blockSize times
    if (stored > data.length - pos) throw corrupt('zstd', 'truncated block');
    blocksBound += blockType === 2 ? blockMax : blockSize;
    pos += stored;
  }
  if (hasChecksum) pos += 4;
  if (pos > data.length) throw corrupt('zstd', 'truncated frame checksum');

  const outputBound = contentSize ?? blocksBound;
  return { end: pos, outputBound, allocation: contentSize !== undefined && contentSize > 0 ? contentSize : windowSize };
}

/** Little-endian unsigned integer of 1..8 bytes as a number (exact up to 2^53, which is far past any bound). */
function readUIntLE(buf: Buffer, pos: number, byteLength: number): number {
  let value = 0;
  for (let i = byteLength - 1; i >= 0; i--) value = value * 256 + buf[pos + i];
  return value;
}
