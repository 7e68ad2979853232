// RecordBatch v2 and codecs: round trips, golden vectors from independent implementations (kafkajs, the lz4 and
// zstd command-line tools, a Rust snappy encoder), corruption, truncation, output bounds and the produce checks.

import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { BATCH, CompressionType, readBatchHeader } from '../../../src/protocol/records/batchHeader';
import { crc32c } from '../../../src/protocol/records/crc32c';
import {
  CompressionError,
  LZ4_HEADER_CHECKSUM_64KB_INDEPENDENT,
  canCompress,
  compress,
  decompress,
  isSupportedCompression,
  isXerialFramed,
} from '../../../src/protocol/records/compression';
import {
  NewRecord,
  RecordBatchError,
  RecordBatchErrorCode,
  batchTimestamps,
  buildBatch,
  decodeBatch,
  iterateBatchHeaders,
  splitBatches,
  stampBatch,
  stampLogAppendTime,
  validateProducedBatches,
} from '../../../src/protocol/records/recordBatch';

// ------------------------------------------------------------------------------------------------------------
// Fixtures

/** Same text the golden vectors below were made from (python generator, reproduced here). */
function goldenText(): Buffer {
  let s = '';
  for (let i = 0; i < 40; i++) s += `minikafka golden line ${i % 7}: the quick brown fox jumps over the lazy dog\n`;
  return Buffer.from(s);
}

/** 76,800 bytes: more than one 64 KiB LZ4 block, so the dependent-block vector really links blocks. */
function dependencyText(): Buffer {
  let s = '';
  for (let i = 0; i < 2400; i++) s += `block-dependency test row ${String(i % 50).padStart(5, '0')};`;
  return Buffer.from(s);
}

const b64 = (s: string): Buffer => Buffer.from(s, 'base64');

// `zstd -19 golden.txt` (1.5.4): single segment, 2-byte content size, checksum.
const ZSTD_WITH_CONTENT_SIZE = b64(
  'KLUv/WTICQ0DAGLEEBiAbQ4AAjzxi+x2pDeJXiPyVtKC4U40VQ+HURCDALhmp6oFpUb9p4mT+dTtLLVM/pSdznWBjgRXXnhWBtt9vbbe8sYJAOIwXz4MzAuAsgCoBEAvAMoCUIEEPScuBQUOsiwP',
);
// `cat golden.txt | zstd -3`: streamed, so no content size, a window descriptor, checksum.
const ZSTD_STREAMED = b64(
  'KLUv/QRYfQUAcoYWGnBp24DqI0yxydhBaNbXqarijJXdfeBK/z6Yq4nXvJp4zauJ17yaeM2ride8mngoDTmjcRaDEu2HwtIQvmjJmaIxgStBagxHA8QBd8TSOkPIasqPSo5KLC0BKSDwNQ6bEugFygKVQC9QFqgEeoGyQCWiFygLVAK9QFmgEugFygKVQC9QFlEJ9AJlgUqgFygLVAK9QFmgEuhFlAUqgV6gLFAJ9GKhDEkqT1xyDw6yLA8=',
);
// `lz4 golden.txt` (1.9.4): independent blocks, content checksum.
const LZ4_CLI = b64(
  'BCJNGGRAp3gAAADxKG1pbmlrYWZrYSBnb2xkZW4gbGluZSAwOiB0aGUgcXVpY2sgYnJvd24gZm94IGp1bXBzIG92ZXIfAJ9sYXp5IGRvZwpFAAMfMUUAMR8yRQAxHzNFADEfNEUAMR81RQAxHzZFADEP4wH//////////79QIGRvZwoAAAAAXWrfkQ==',
);
// `lz4 -BD -B4 dep.txt`: dependent (linked) 64 KiB blocks: the second block refers back into the first.
const LZ4_CLI_DEPENDENT = b64(
  'BCJNGERAXh4CAAD/EWJsb2NrLWRlcGVuZGVuY3kgdGVzdCByb3cgMDAwMDA7IAALHzEgAAwfMiAADB8zIAAMHzQgAAwfNSAADB82IAAMHzcgAAwfOCAADB85IAALHzFAAQwfMUABDB8xQAEMHzFAAQwfMUABDB8xQAEMHzFAAQwfMUABDB8xQAEMHzFAAQwfMkABDB8yQAEMHzJAAQwfMkABDB8yQAEMHzJAAQwfMkABDB8yQAEMHzJAAQwfMkABDB8zQAEMHzNAAQwfM0ABDB8zQAEMHzNAAQwfM0ABDB8zQAEMHzNAAQwfM0ABDB8zQAEMHzRAAQwfNEABDB80QAEMHzRAAQwfNEABDB80QAEMHzRAAQwfNEABDB80QAEMHzRAAQwPQAb/////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////hVAwMDQ3OzYAAAAPAPr//////////////////////////////////////////////////////////xRQMDA0OTsAAAAAwN+7pg==',
);
// A raw snappy block of golden.txt written by the Rust snap crate (via @platformatic/wasm-utils).
const SNAPPY_RAW_RUST = b64(
  'yBXYbWluaWthZmthIGdvbGRlbiBsaW5lIDA6IHRoZSBxdWljayBicm93biBmb3gganVtcHMgb3ZlcgUfIGxhenkgZG9nClZFAAAx/kUAAUUAMv5FAAFFADP+RQABRQA0/kUAAUUANf5FAAFFADb+RQABRf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jAf7jATrjAQ==',
);

const XERIAL_HEADER = Buffer.from('82534e41505059000000000100000001', 'hex');

/** snappy-java framing around the given raw blocks, as the Java client writes it. */
function xerialFrame(...blocks: Buffer[]): Buffer {
  const parts: Buffer[] = [XERIAL_HEADER];
  for (const block of blocks) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(block.length);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

/** A valid zstd frame made of raw (stored) blocks: enough to put zstd batches through fzstd without an encoder. */
function zstdRawFrame(data: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUInt32LE(0xfd2fb528, 0);
  header[4] = 0xa0; // 4-byte content size, single segment
  header.writeUInt32LE(data.length, 5);
  const parts: Buffer[] = [header];
  const blockMax = 128 * 1024;
  for (let pos = 0; pos === 0 || pos < data.length; pos += blockMax) {
    const chunk = data.subarray(pos, Math.min(pos + blockMax, data.length));
    const last = pos + blockMax >= data.length ? 1 : 0;
    const blockHeader = Buffer.alloc(3);
    blockHeader.writeUIntLE((chunk.length << 3) | last, 0, 3); // block type 0 = raw
    parts.push(blockHeader, chunk);
  }
  return Buffer.concat(parts);
}

function assertCompressionError(fn: () => unknown, kind: CompressionError['kind']): void {
  assert.throws(fn, (e: unknown) => e instanceof CompressionError && e.kind === kind);
}

function assertBatchError(fn: () => unknown, code: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RecordBatchError, `expected RecordBatchError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** Recomputes the CRC after a test has edited bytes it covers, so later checks are reached. */
function withFreshCrc(batch: Buffer): Buffer {
  batch.writeUInt32BE(crc32c(batch, BATCH.ATTRIBUTES, batch.length), BATCH.CRC);
  return batch;
}

const T0 = 1_700_000_000_000;

const sampleRecords: NewRecord[] = [
  { key: 'k0', value: 'v0', timestamp: T0, headers: { trace: 'abc', bin: Buffer.from([0, 1, 2]) } },
  { key: null, value: Buffer.alloc(300, 7), timestamp: T0 - 5 }, // negative timestamp delta, 2-byte varint length
  { key: Buffer.from([0xff]), value: null, timestamp: T0 + 70_000, headers: [{ key: 'nullable', value: null }] },
  { value: 'x'.repeat(9000), timestamp: T0 + 1 }, // 3-byte varint length
];

function assertSampleDecoded(records: ReturnType<typeof decodeBatch>['records'], baseOffset: number): void {
  assert.equal(records.length, 4);
  assert.deepEqual(
    records.map((r) => r.offset),
    [0, 1, 2, 3].map((i) => baseOffset + i),
  );
  assert.deepEqual(
    records.map((r) => r.timestamp),
    [T0, T0 - 5, T0 + 70_000, T0 + 1],
  );
  assert.equal(records[0].key?.toString(), 'k0');
  assert.equal(records[0].value?.toString(), 'v0');
  assert.deepEqual(records[0].headers, [
    { key: 'trace', value: Buffer.from('abc') },
    { key: 'bin', value: Buffer.from([0, 1, 2]) },
  ]);
  assert.equal(records[1].key, null);
  assert.deepEqual(records[1].value, Buffer.alloc(300, 7));
  assert.deepEqual(records[2].key, Buffer.from([0xff]));
  assert.equal(records[2].value, null);
  assert.deepEqual(records[2].headers, [{ key: 'nullable', value: null }]);
  assert.equal(records[3].key, null);
  assert.equal(records[3].value?.toString(), 'x'.repeat(9000));
  assert.deepEqual(records[3].headers, []);
}

// ------------------------------------------------------------------------------------------------------------
// kafkajs internals (devDependency; only tests touch it). Narrow types for the parts used.

interface KafkajsEncoder {
  buffer: Buffer;
}
interface KafkajsRecordBatchModule {
  RecordBatch(opts: {
    compression?: number;
    firstOffset?: unknown;
    firstTimestamp: number;
    maxTimestamp: number;
    partitionLeaderEpoch?: number;
    lastOffsetDelta: number;
    transactional?: boolean;
    producerId?: unknown;
    producerEpoch?: number;
    firstSequence?: number;
    records: unknown[];
  }): Promise<KafkajsEncoder>;
}
type KafkajsRecord = (opts: {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string>;
}) => unknown;
interface KafkajsDecodedBatch {
  firstOffset: string;
  lastOffsetDelta: number;
  producerId: string;
  records: Array<{
    offset: string;
    timestamp: string;
    key: Buffer | null;
    value: Buffer | null;
    headers: Record<string, Buffer>;
  }>;
}
type KafkajsBatchDecoder = (decoder: unknown) => Promise<KafkajsDecodedBatch>;
type KafkajsDecoderClass = new (buffer: Buffer) => unknown;

/**
 * require() that also looks in the working directory's node_modules, so this file still finds kafkajs when it is
 * bundled into a temporary directory with kafkajs left external.
 */
function requireFromProject<T>(id: string): T {
  return require(require.resolve(id, { paths: [__dirname, process.cwd()] })) as T;
}

const kafkajsRecordBatch = requireFromProject<KafkajsRecordBatchModule>('kafkajs/src/protocol/recordBatch/v0');
const kafkajsRecord = requireFromProject<KafkajsRecord>('kafkajs/src/protocol/recordBatch/record/v0');
const kafkajsDecodeBatch = requireFromProject<KafkajsBatchDecoder>('kafkajs/src/protocol/recordBatch/v0/decoder');
const KafkajsDecoder = requireFromProject<KafkajsDecoderClass>('kafkajs/src/protocol/decoder');

interface KafkajsMessage {
  key: string | Buffer | null;
  value: string | Buffer | null;
  timestamp: number;
  headers?: Record<string, string | Buffer>;
}

/** Builds a batch exactly as kafkajs's Produce v3 request encoder does (partitionsEncoder in produce/v3/request.js). */
async function kafkajsBatch(messages: KafkajsMessage[], compression: number): Promise<Buffer> {
  const firstTimestamp = Math.min(...messages.map((m) => m.timestamp));
  const maxTimestamp = Math.max(...messages.map((m) => m.timestamp));
  const records = messages.map((m, i) =>
    kafkajsRecord({ key: m.key, value: m.value, headers: m.headers, offsetDelta: i, timestampDelta: m.timestamp - firstTimestamp }),
  );
  const batch = await kafkajsRecordBatch.RecordBatch({
    compression,
    records,
    firstTimestamp,
    maxTimestamp,
    lastOffsetDelta: records.length - 1,
  });
  return batch.buffer;
}

const kafkajsMessages: KafkajsMessage[] = [
  { key: 'user-1', value: 'hello', timestamp: T0 + 3, headers: { 'content-type': 'text/plain' } },
  { key: null, value: Buffer.from([1, 2, 3]), timestamp: T0 },
  { key: Buffer.from('k'), value: null, timestamp: T0 + 9, headers: { a: 'x', b: Buffer.from('y') } },
];

// ------------------------------------------------------------------------------------------------------------

describe('compression codecs', () => {
  const inputs: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from('x')],
    ['text', goldenText()],
    ['random 150 KiB (several xerial chunks and lz4 blocks)', randomBytes(150 * 1024)],
    ['compressible 300 KiB', Buffer.concat(Array.from({ length: 3 }, () => dependencyText())).subarray(0, 300 * 1024)],
  ];
  const codecs: Array<[string, CompressionType]> = [
    ['none', CompressionType.None],
    ['gzip', CompressionType.Gzip],
    ['snappy', CompressionType.Snappy],
    ['lz4', CompressionType.Lz4],
  ];

  for (const [codecName, type] of codecs) {
    for (const [inputName, input] of inputs) {
      it(`${codecName} round-trips ${inputName}`, () => {
        const compressed = compress(type, input);
        assert.deepEqual(decompress(type, compressed), input);
      });
    }
  }

  it('compresses compressible data (the codecs are not storing everything raw)', () => {
    const text = dependencyText();
    for (const type of [CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4]) {
      assert.ok(compress(type, text).length < text.length / 4, `codec ${type}`);
    }
  });

  it('zstd compression is refused with a clear error; decompression is supported', () => {
    assert.throws(() => compress(CompressionType.Zstd, Buffer.from('x')), /zstd compression is not available/);
    assert.equal(canCompress(CompressionType.Zstd), false);
    assert.equal(canCompress(CompressionType.Lz4), true);
    assert.deepEqual(decompress(CompressionType.Zstd, zstdRawFrame(goldenText())), goldenText());
  });

  it('isSupportedCompression accepts exactly the codes 0..4', () => {
    assert.deepEqual(
      [-1, 0, 1, 2, 3, 4, 5, 7, 1.5].map(isSupportedCompression),
      [false, true, true, true, true, true, false, false, false],
    );
  });

  describe('snappy', () => {
    it('writes xerial framing when asked (magic, version 1, compatible 1, then 32 KiB chunks)', () => {
      const input = randomBytes(70 * 1024);
      const framed = compress(CompressionType.Snappy, input, { snappyFraming: 'xerial' });
      assert.deepEqual(framed.subarray(0, 16), XERIAL_HEADER);
      assert.ok(isXerialFramed(framed));
      // walk the chunks: 32 KiB + 32 KiB + 6 KiB of input
      let pos = 16;
      let chunks = 0;
      while (pos < framed.length) {
        pos += 4 + framed.readUInt32BE(pos);
        chunks++;
      }
      assert.equal(pos, framed.length);
      assert.equal(chunks, 3);
    });

    it('writes a single raw block by default (the one format every client reads)', () => {
      const raw = compress(CompressionType.Snappy, goldenText());
      assert.equal(isXerialFramed(raw), false);
      assert.deepEqual(decompress(CompressionType.Snappy, raw), goldenText());
    });

    it('decodes a raw block written by another implementation, bare and inside xerial framing', () => {
      assert.deepEqual(decompress(CompressionType.Snappy, SNAPPY_RAW_RUST), goldenText());
      const twoChunks = xerialFrame(SNAPPY_RAW_RUST, SNAPPY_RAW_RUST);
      assert.deepEqual(decompress(CompressionType.Snappy, twoChunks), Buffer.concat([goldenText(), goldenText()]));
    });

    it('decodes xerial framing with no chunks as empty', () => {
      assert.equal(decompress(CompressionType.Snappy, XERIAL_HEADER).length, 0);
    });

    it('rejects malformed blocks', () => {
      // copy with offset 1 before any output
      assertCompressionError(() => decompress(CompressionType.Snappy, Buffer.from([0x04, 0x01, 0x01])), 'corrupt');
      // declares 10 bytes, delivers 1
      assertCompressionError(() => decompress(CompressionType.Snappy, Buffer.from([0x0a, 0x00, 0x41])), 'corrupt');
      // 4-byte literal length of 2^31: snappyjs would walk backwards for billions of steps; we refuse at once
      const hostile = Buffer.from([0x05, 0xfc, 0xff, 0xff, 0xff, 0x7f, 0x41]);
      assertCompressionError(() => decompress(CompressionType.Snappy, hostile), 'corrupt');
      // xerial chunk longer than the data
      const truncatedChunk = xerialFrame(SNAPPY_RAW_RUST).subarray(0, 40);
      assertCompressionError(() => decompress(CompressionType.Snappy, truncatedChunk), 'corrupt');
    });
  });

  describe('lz4', () => {
    it('writes a frame Kafka accepts: independent 64 KiB blocks, header checksum = xxh32 byte', () => {
      const xxh32 = requireFromProject<{ hash(seed: number, src: Uint8Array, index: number, length: number): number }>('lz4js/xxh32.js');
      const descriptor = new Uint8Array([0x60, 0x40]);
      assert.equal((xxh32.hash(0, descriptor, 0, 2) >> 8) & 0xff, LZ4_HEADER_CHECKSUM_64KB_INDEPENDENT);

      const frame = compress(CompressionType.Lz4, randomBytes(200 * 1024));
      assert.equal(frame.readUInt32LE(0), 0x184d2204);
      assert.equal(frame[4], 0x60); // version 01, block independence (lz4js alone writes 0x40: dependent blocks)
      assert.equal(frame[5], 0x40); // 64 KiB maximum block
      assert.equal(frame[6], LZ4_HEADER_CHECKSUM_64KB_INDEPENDENT);
      for (let pos = 7; ; ) {
        const word = frame.readUInt32LE(pos);
        if (word === 0) {
          assert.equal(pos + 4, frame.length);
          break;
        }
        assert.ok((word & 0x7fffffff) <= 64 * 1024);
        pos += 4 + (word & 0x7fffffff);
      }
    });

    it('decodes frames from the lz4 tool, with content checksum and with dependent blocks', () => {
      assert.deepEqual(decompress(CompressionType.Lz4, LZ4_CLI), goldenText());
      assert.equal(LZ4_CLI_DEPENDENT[4] & 0x20, 0, 'vector has linked blocks');
      assert.deepEqual(decompress(CompressionType.Lz4, LZ4_CLI_DEPENDENT), dependencyText());
    });

    it('ignores a wrong header checksum, as written by pre-0.10 Kafka clients', () => {
      const frame = compress(CompressionType.Lz4, goldenText());
      frame[6] ^= 0xff;
      assert.deepEqual(decompress(CompressionType.Lz4, frame), goldenText());
    });

    it('rejects malformed frames', () => {
      const frame = compress(CompressionType.Lz4, goldenText());
      assertCompressionError(() => decompress(CompressionType.Lz4, frame.subarray(0, frame.length - 4)), 'corrupt'); // no end mark
      assertCompressionError(() => decompress(CompressionType.Lz4, frame.subarray(0, 20)), 'corrupt');
      const badMagic = Buffer.from(frame);
      badMagic[0] = 0;
      assertCompressionError(() => decompress(CompressionType.Lz4, badMagic), 'corrupt');
      const withDictionary = Buffer.from(frame);
      withDictionary[4] |= 0x01;
      assertCompressionError(() => decompress(CompressionType.Lz4, withDictionary), 'corrupt');
      // one block: token "0 literals, match 4" with offset 0
      const zeroOffset = Buffer.concat([frame.subarray(0, 7), Buffer.from([3, 0, 0, 0, 0x00, 0x00, 0x00]), Buffer.alloc(4)]);
      assertCompressionError(() => decompress(CompressionType.Lz4, zeroOffset), 'corrupt');
      // offset reaching before the start of the output
      const farOffset = Buffer.concat([frame.subarray(0, 7), Buffer.from([4, 0, 0, 0, 0x10, 0x41, 0x05, 0x00]), Buffer.alloc(4)]);
      assertCompressionError(() => decompress(CompressionType.Lz4, farOffset), 'corrupt');
    });
  });

  describe('zstd', () => {
    it('decodes frames from the zstd tool, with and without a content size', () => {
      assert.deepEqual(decompress(CompressionType.Zstd, ZSTD_WITH_CONTENT_SIZE), goldenText());
      assert.deepEqual(decompress(CompressionType.Zstd, ZSTD_STREAMED), goldenText());
      assert.deepEqual(
        decompress(CompressionType.Zstd, Buffer.concat([ZSTD_STREAMED, ZSTD_WITH_CONTENT_SIZE])),
        Buffer.concat([goldenText(), goldenText()]),
      );
    });

    it('rejects garbage and truncation', () => {
      assertCompressionError(() => decompress(CompressionType.Zstd, Buffer.from('not zstd at all')), 'corrupt');
      assertCompressionError(() => decompress(CompressionType.Zstd, ZSTD_STREAMED.subarray(0, 40)), 'corrupt');
    });
  });

  describe('output bound', () => {
    const zeros = Buffer.alloc(2 * 1024 * 1024);
    const limit = 1024 * 1024;

    for (const [name, type] of [
      ['gzip', CompressionType.Gzip],
      ['snappy', CompressionType.Snappy],
      ['lz4', CompressionType.Lz4],
    ] as const) {
      it(`${name}: 2 MiB of zeros is refused under a 1 MiB bound and accepted at exactly 2 MiB`, () => {
        const bomb = compress(type, zeros);
        assert.ok(bomb.length < 200 * 1024);
        assertCompressionError(() => decompress(type, bomb, limit), 'tooLarge');
        assert.equal(decompress(type, bomb, zeros.length).length, zeros.length);
      });
    }

    it('zstd: 2 MiB of zeros in raw blocks is refused under a 1 MiB bound', () => {
      assertCompressionError(() => decompress(CompressionType.Zstd, zstdRawFrame(zeros), limit), 'tooLarge');
    });

    it('refuses declared sizes before allocating them', () => {
      // snappy preamble of 2^32-1 bytes
      assertCompressionError(() => decompress(CompressionType.Snappy, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00])), 'tooLarge');
      // lz4 frame with a content size of 1 TiB
      const lz4 = Buffer.alloc(7 + 8 + 4);
      lz4.writeUInt32LE(0x184d2204, 0);
      lz4[4] = 0x68; // version, independent, content size
      lz4[5] = 0x40;
      lz4.writeBigUInt64LE(1n << 40n, 6);
      assertCompressionError(() => decompress(CompressionType.Lz4, lz4), 'tooLarge');
      // zstd frame with a content size of 1 TiB (8-byte field), one empty raw block
      const zstdHuge = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0]), Buffer.alloc(8), Buffer.from([0x01, 0, 0])]);
      zstdHuge.writeBigUInt64LE(1n << 40n, 5);
      assertCompressionError(() => decompress(CompressionType.Zstd, zstdHuge), 'tooLarge');
      // zstd frame without content size whose window descriptor asks for 2 GiB
      const zstdWindow = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3, 0x01, 0, 0]);
      assertCompressionError(() => decompress(CompressionType.Zstd, zstdWindow), 'corrupt');
    });

    it('gzip garbage is corrupt, not too large', () => {
      assertCompressionError(() => decompress(CompressionType.Gzip, Buffer.from('definitely not gzip')), 'corrupt');
    });
  });
});

describe('RecordBatch v2', () => {
  describe('build and decode', () => {
    for (const [name, compression] of [
      ['uncompressed', CompressionType.None],
      ['gzip', CompressionType.Gzip],
      ['snappy', CompressionType.Snappy],
      ['lz4', CompressionType.Lz4],
    ] as const) {
      it(`round-trips records and header fields (${name})`, () => {
        const batch = buildBatch({
          records: sampleRecords,
          baseOffset: 2 ** 40,
          compression,
          partitionLeaderEpoch: 7,
          producerId: 123456789012,
          producerEpoch: 3,
          baseSequence: 42,
          transactional: true,
        });
        const { header, records } = decodeBatch(batch);
        assert.equal(header.size, batch.length);
        assert.equal(header.magic, 2);
        assert.equal(header.baseOffset, 2 ** 40);
        assert.equal(header.partitionLeaderEpoch, 7);
        assert.equal(header.attributes, compression | 0x10);
        assert.equal(header.lastOffsetDelta, 3);
        assert.equal(header.recordsCount, 4);
        assert.equal(header.baseTimestamp, T0);
        assert.equal(header.maxTimestamp, T0 + 70_000);
        assert.equal(header.producerId, 123456789012);
        assert.equal(header.producerEpoch, 3);
        assert.equal(header.baseSequence, 42);
        assert.equal(header.crc, crc32c(batch, BATCH.ATTRIBUTES, batch.length));
        assertSampleDecoded(records, 2 ** 40);
      });
    }

    it('defaults: offset 0, epoch -1, no producer id/epoch/sequence, create time', () => {
      const before = Date.now();
      const header = readBatchHeader(buildBatch({ records: [{ value: 'v' }] }));
      assert.equal(header.baseOffset, 0);
      assert.equal(header.partitionLeaderEpoch, -1);
      assert.equal(header.producerId, -1);
      assert.equal(header.producerEpoch, -1);
      assert.equal(header.baseSequence, -1);
      assert.equal(header.attributes, 0);
      assert.ok(header.baseTimestamp >= before && header.baseTimestamp <= Date.now());
    });

    it('decodes a zstd batch (records wrapped in a zstd frame)', () => {
      const plain = buildBatch({ records: sampleRecords });
      const frame = zstdRawFrame(plain.subarray(BATCH.HEADER_SIZE));
      const zstdBatch = Buffer.concat([plain.subarray(0, BATCH.HEADER_SIZE), frame]);
      zstdBatch.writeInt32BE(zstdBatch.length - BATCH.LOG_OVERHEAD, BATCH.LENGTH);
      zstdBatch.writeInt16BE(CompressionType.Zstd, BATCH.ATTRIBUTES);
      assertSampleDecoded(decodeBatch(withFreshCrc(zstdBatch)).records, 0);
    });

    it('refuses to build an empty batch', () => {
      assert.throws(() => buildBatch({ records: [] }), RangeError);
    });

    it('LogAppendTime batches report MaxTimestamp for every record', () => {
      const batch = buildBatch({ records: sampleRecords, timestampType: 'logAppend' });
      const { header, records } = decodeBatch(batch);
      assert.equal(header.attributes & 0x08, 0x08);
      assert.deepEqual(
        records.map((r) => r.timestamp),
        [T0 + 70_000, T0 + 70_000, T0 + 70_000, T0 + 70_000],
      );
    });

    it('batchTimestamps gives per-record offsets and times, through compression', () => {
      const batch = buildBatch({ records: sampleRecords, compression: CompressionType.Lz4, baseOffset: 100 });
      assert.deepEqual(batchTimestamps(batch), [
        { offset: 100, timestamp: T0 },
        { offset: 101, timestamp: T0 - 5 },
        { offset: 102, timestamp: T0 + 70_000 },
        { offset: 103, timestamp: T0 + 1 },
      ]);
    });
  });

  describe('interop with kafkajs', () => {
    const ourRecords: NewRecord[] = kafkajsMessages.map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp, headers: m.headers }));

    it('an uncompressed batch is byte-identical to what kafkajs encodes', async () => {
      const theirs = await kafkajsBatch(kafkajsMessages, 0);
      // kafkajs writes partition leader epoch 0, producer epoch 0 and sequence 0 where the Java client writes -1
      const ours = buildBatch({ records: ourRecords, partitionLeaderEpoch: 0, producerEpoch: 0, baseSequence: 0, baseTimestamp: T0 });
      assert.equal(ours.toString('hex'), theirs.toString('hex'));
    });

    for (const [name, compression] of [
      ['uncompressed', CompressionType.None],
      ['gzip', CompressionType.Gzip],
    ] as const) {
      it(`decodes a ${name} batch encoded by kafkajs`, async () => {
        const theirs = await kafkajsBatch(kafkajsMessages, compression);
        const { header, records } = decodeBatch(theirs); // also checks kafkajs's CRC against ours
        assert.equal(header.attributes & 7, compression);
        assert.equal(header.baseTimestamp, T0);
        assert.equal(header.maxTimestamp, T0 + 9);
        assert.deepEqual(
          records.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString('hex') ?? null]),
          [
            [0, T0 + 3, 'user-1', Buffer.from('hello').toString('hex')],
            [1, T0, null, '010203'],
            [2, T0 + 9, 'k', null],
          ],
        );
        assert.deepEqual(records[0].headers, [{ key: 'content-type', value: Buffer.from('text/plain') }]);
        assert.deepEqual(records[2].headers, [
          { key: 'a', value: Buffer.from('x') },
          { key: 'b', value: Buffer.from('y') },
        ]);
        const checked = validateProducedBatches(theirs, { produceVersion: 3, maxMessageBytes: 1048588 });
        assert.ok(!(checked instanceof RecordBatchError), checked instanceof RecordBatchError ? checked.message : '');
      });

      it(`kafkajs decodes a ${name} batch we build`, async () => {
        const ours = buildBatch({ records: ourRecords, compression, baseOffset: 500 });
        const decoded = await kafkajsDecodeBatch(new KafkajsDecoder(ours));
        assert.equal(decoded.firstOffset, '500');
        assert.equal(decoded.lastOffsetDelta, 2);
        assert.equal(decoded.producerId, '-1');
        assert.deepEqual(
          decoded.records.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString('hex') ?? null]),
          [
            ['500', String(T0 + 3), 'user-1', Buffer.from('hello').toString('hex')],
            ['501', String(T0), null, '010203'],
            ['502', String(T0 + 9), 'k', null],
          ],
        );
        assert.deepEqual(decoded.records[2].headers, { a: Buffer.from('x'), b: Buffer.from('y') });
      });
    }
  });

  describe('corruption and truncation', () => {
    it('detects a flipped bit anywhere under the CRC', () => {
      const batch = buildBatch({ records: sampleRecords });
      for (const pos of [BATCH.ATTRIBUTES, BATCH.MAX_TIMESTAMP + 3, BATCH.HEADER_SIZE + 5, batch.length - 1]) {
        const damaged = Buffer.from(batch);
        damaged[pos] ^= 0x01;
        assertBatchError(() => decodeBatch(damaged), RecordBatchErrorCode.CORRUPT_MESSAGE);
      }
    });

    it('a damaged CRC is still detected, and can be skipped on request', () => {
      const batch = buildBatch({ records: sampleRecords });
      batch[BATCH.CRC] ^= 0x80;
      assertBatchError(() => decodeBatch(batch), RecordBatchErrorCode.CORRUPT_MESSAGE);
      assertSampleDecoded(decodeBatch(batch, { verifyCrc: false }).records, 0);
    });

    it('BaseOffset and PartitionLeaderEpoch are outside the CRC: stampBatch keeps the batch valid', () => {
      const batch = buildBatch({ records: sampleRecords, compression: CompressionType.Snappy });
      const crcBefore = batch.readUInt32BE(BATCH.CRC);
      stampBatch(batch, 9_000_000_000, 12);
      assert.equal(batch.readUInt32BE(BATCH.CRC), crcBefore);
      const { header, records } = decodeBatch(batch);
      assert.equal(header.baseOffset, 9_000_000_000);
      assert.equal(header.partitionLeaderEpoch, 12);
      assertSampleDecoded(records, 9_000_000_000);
    });

    it('stampLogAppendTime sets the timestamp type and MaxTimestamp and recomputes the CRC', () => {
      const batch = buildBatch({ records: sampleRecords, compression: CompressionType.Gzip });
      stampLogAppendTime(batch, T0 + 999);
      const { header } = decodeBatch(batch); // throws if the CRC were stale
      assert.equal(header.attributes, CompressionType.Gzip | 0x08);
      assert.equal(header.maxTimestamp, T0 + 999);
      assert.equal(header.baseTimestamp, T0);
      assert.deepEqual(
        batchTimestamps(batch).map((t) => t.timestamp),
        [T0 + 999, T0 + 999, T0 + 999, T0 + 999],
      );
    });

    it('every truncation of a batch is rejected by splitBatches and decodeBatch', () => {
      const batch = buildBatch({ records: sampleRecords.slice(0, 2) });
      for (let cut = 1; cut < batch.length; cut++) {
        const truncated = batch.subarray(0, cut);
        assertBatchError(() => splitBatches(truncated), RecordBatchErrorCode.CORRUPT_MESSAGE);
        assertBatchError(() => decodeBatch(truncated), RecordBatchErrorCode.CORRUPT_MESSAGE);
      }
    });

    it('splitBatches returns views of each batch; iterateBatchHeaders gives positions', () => {
      const a = buildBatch({ records: [{ value: 'a' }], baseOffset: 0 });
      const b = buildBatch({ records: sampleRecords, baseOffset: 1, compression: CompressionType.Lz4 });
      const c = buildBatch({ records: [{ value: 'c' }], baseOffset: 5 });
      const all = Buffer.concat([a, b, c]);
      const parts = splitBatches(all);
      assert.deepEqual(parts, [a, b, c]);
      assert.equal(parts[1].buffer, all.buffer, 'a view, not a copy');
      assert.deepEqual(
        [...iterateBatchHeaders(all)].map(({ pos, header }) => [pos, header.baseOffset]),
        [
          [0, 0],
          [a.length, 1],
          [a.length + b.length, 5],
        ],
      );
      assert.deepEqual(splitBatches(Buffer.alloc(0)), []);
      assertBatchError(() => splitBatches(Buffer.concat([all, c.subarray(0, 30)])), RecordBatchErrorCode.CORRUPT_MESSAGE);
    });

    it('a Length below the header size is corrupt (no endless loop on zero-length batches)', () => {
      const batch = buildBatch({ records: [{ value: 'a' }] });
      batch.writeInt32BE(0, BATCH.LENGTH);
      assertBatchError(() => splitBatches(batch), RecordBatchErrorCode.CORRUPT_MESSAGE);
      batch.writeInt32BE(-12, BATCH.LENGTH);
      assertBatchError(() => splitBatches(batch), RecordBatchErrorCode.CORRUPT_MESSAGE);
    });

    it('legacy message formats (magic 0/1) are reported as unsupported', () => {
      const batch = buildBatch({ records: [{ value: 'a' }] });
      batch[BATCH.MAGIC] = 1;
      assertBatchError(() => splitBatches(batch), RecordBatchErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
      assertBatchError(() => decodeBatch(batch), RecordBatchErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
      batch[BATCH.MAGIC] = 3;
      assertBatchError(() => decodeBatch(batch), RecordBatchErrorCode.CORRUPT_MESSAGE);
    });

    it('malformed records under a valid CRC are corrupt, never an over-allocation', () => {
      const base = buildBatch({ records: [{ key: 'k', value: 'v', headers: { h: 'x' } }] });
      // RecordsCount far larger than the bytes could hold
      const manyRecords = Buffer.from(base);
      manyRecords.writeInt32BE(2_000_000_000, BATCH.RECORDS_COUNT);
      assertBatchError(() => decodeBatch(withFreshCrc(manyRecords)), RecordBatchErrorCode.CORRUPT_MESSAGE);
      // record length varint larger than the rest of the batch
      const longRecord = Buffer.from(base);
      longRecord[BATCH.HEADER_SIZE] = 0x7e; // zig-zag 63
      assertBatchError(() => decodeBatch(withFreshCrc(longRecord)), RecordBatchErrorCode.CORRUPT_MESSAGE);
      // key length pointing past the record
      const longKey = Buffer.from(base);
      longKey[BATCH.HEADER_SIZE + 4] = 0x40; // keyLength zig-zag 32
      assertBatchError(() => decodeBatch(withFreshCrc(longKey)), RecordBatchErrorCode.CORRUPT_MESSAGE);
      // bytes left over after the declared records
      const trailing = Buffer.concat([base, Buffer.from([0, 0, 0])]);
      trailing.writeInt32BE(trailing.length - BATCH.LOG_OVERHEAD, BATCH.LENGTH);
      assertBatchError(() => decodeBatch(withFreshCrc(trailing)), RecordBatchErrorCode.CORRUPT_MESSAGE);
      // unknown compression code
      const badCodec = Buffer.from(base);
      badCodec.writeInt16BE(6, BATCH.ATTRIBUTES);
      assertBatchError(() => decodeBatch(withFreshCrc(badCodec)), RecordBatchErrorCode.CORRUPT_MESSAGE);
      // compression flag set on uncompressed records
      const notReallyGzip = Buffer.from(base);
      notReallyGzip.writeInt16BE(CompressionType.Gzip, BATCH.ATTRIBUTES);
      assertBatchError(() => decodeBatch(withFreshCrc(notReallyGzip)), RecordBatchErrorCode.CORRUPT_MESSAGE);
    });

    it('decompression beyond maxOutput is MESSAGE_TOO_LARGE', () => {
      const batch = buildBatch({ records: [{ value: Buffer.alloc(2 * 1024 * 1024) }], compression: CompressionType.Gzip });
      assert.ok(batch.length < 100 * 1024);
      assertBatchError(() => decodeBatch(batch, { maxOutput: 1024 * 1024 }), RecordBatchErrorCode.MESSAGE_TOO_LARGE);
      assert.equal(decodeBatch(batch, { maxOutput: 3 * 1024 * 1024 }).records[0].value?.length, 2 * 1024 * 1024);
    });
  });

  describe('validateProducedBatches', () => {
    const opts = { produceVersion: 9, maxMessageBytes: 1048588 };
    const good = (): Buffer => buildBatch({ records: sampleRecords, compression: CompressionType.Lz4 });

    function expectError(records: Buffer, code: number, options: Parameters<typeof validateProducedBatches>[1] = opts): void {
      const result = validateProducedBatches(records, options);
      assert.ok(result instanceof RecordBatchError, 'expected an error result');
      assert.equal(result.code, code, result.message);
    }

    it('accepts a valid batch and returns it with its header', () => {
      const batch = good();
      const result = validateProducedBatches(batch, opts);
      assert.ok(!(result instanceof RecordBatchError));
      assert.equal(result.batch, batch);
      assert.equal(result.header.recordsCount, 4);
    });

    it('no batch at all: INVALID_RECORD', () => expectError(Buffer.alloc(0), RecordBatchErrorCode.INVALID_RECORD));

    it('two batches: INVALID_RECORD', () => expectError(Buffer.concat([good(), good()]), RecordBatchErrorCode.INVALID_RECORD));

    it('stray bytes after the batch: CORRUPT_MESSAGE', () =>
      expectError(Buffer.concat([good(), Buffer.from([1, 2, 3])]), RecordBatchErrorCode.CORRUPT_MESSAGE));

    it('Length larger than the bytes sent: CORRUPT_MESSAGE', () => {
      const batch = good();
      expectError(batch.subarray(0, batch.length - 1), RecordBatchErrorCode.CORRUPT_MESSAGE);
    });

    it('legacy magic: INVALID_RECORD on Produce v3+, UNSUPPORTED_FOR_MESSAGE_FORMAT before; unknown magic: CORRUPT_MESSAGE', () => {
      const batch = good();
      batch[BATCH.MAGIC] = 1;
      expectError(batch, RecordBatchErrorCode.INVALID_RECORD, { ...opts, produceVersion: 3 });
      expectError(batch, RecordBatchErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, { ...opts, produceVersion: 2 });
      batch[BATCH.MAGIC] = 9;
      expectError(batch, RecordBatchErrorCode.CORRUPT_MESSAGE);
    });

    it('bad CRC: CORRUPT_MESSAGE', () => {
      const batch = good();
      batch[batch.length - 2] ^= 0x10;
      expectError(batch, RecordBatchErrorCode.CORRUPT_MESSAGE);
    });

    it('non-zero BaseOffset: CORRUPT_MESSAGE', () => {
      const batch = good();
      stampBatch(batch, 5, -1);
      expectError(batch, RecordBatchErrorCode.CORRUPT_MESSAGE);
    });

    it('LastOffsetDelta != RecordsCount-1, or no records: INVALID_RECORD', () => {
      const batch = good();
      batch.writeInt32BE(2, BATCH.LAST_OFFSET_DELTA);
      expectError(withFreshCrc(batch), RecordBatchErrorCode.INVALID_RECORD);
      const empty = good();
      empty.writeInt32BE(0, BATCH.RECORDS_COUNT);
      empty.writeInt32BE(-1, BATCH.LAST_OFFSET_DELTA);
      expectError(withFreshCrc(empty), RecordBatchErrorCode.INVALID_RECORD);
    });

    it('compression code above 4: CORRUPT_MESSAGE', () => {
      for (const code of [5, 7]) {
        const batch = good();
        batch.writeInt16BE(code, BATCH.ATTRIBUTES);
        expectError(withFreshCrc(batch), RecordBatchErrorCode.CORRUPT_MESSAGE);
      }
    });

    it('zstd needs Produce v7+: UNSUPPORTED_COMPRESSION_TYPE before', () => {
      const plain = buildBatch({ records: sampleRecords });
      const zstdBatch = Buffer.concat([plain.subarray(0, BATCH.HEADER_SIZE), zstdRawFrame(plain.subarray(BATCH.HEADER_SIZE))]);
      zstdBatch.writeInt32BE(zstdBatch.length - BATCH.LOG_OVERHEAD, BATCH.LENGTH);
      zstdBatch.writeInt16BE(CompressionType.Zstd, BATCH.ATTRIBUTES);
      withFreshCrc(zstdBatch);
      expectError(zstdBatch, RecordBatchErrorCode.UNSUPPORTED_COMPRESSION_TYPE, { ...opts, produceVersion: 6 });
      assert.ok(!(validateProducedBatches(zstdBatch, { ...opts, produceVersion: 7, requireKeys: false }) instanceof RecordBatchError));
    });

    it('control batch from a client: INVALID_RECORD', () => {
      const batch = good();
      batch.writeInt16BE(batch.readInt16BE(BATCH.ATTRIBUTES) | 0x20, BATCH.ATTRIBUTES);
      expectError(withFreshCrc(batch), RecordBatchErrorCode.INVALID_RECORD);
    });

    it('larger than max.message.bytes: MESSAGE_TOO_LARGE (the limit itself is allowed)', () => {
      const batch = good();
      expectError(batch, RecordBatchErrorCode.MESSAGE_TOO_LARGE, { ...opts, maxMessageBytes: batch.length - 1 });
      assert.ok(!(validateProducedBatches(batch, { ...opts, maxMessageBytes: batch.length }) instanceof RecordBatchError));
    });

    it('producer id without a sequence: INVALID_RECORD', () => {
      const batch = buildBatch({ records: sampleRecords, producerId: 7, producerEpoch: 0 });
      expectError(batch, RecordBatchErrorCode.INVALID_RECORD);
      const idempotent = buildBatch({ records: sampleRecords, producerId: 7, producerEpoch: 0, baseSequence: 0 });
      assert.ok(!(validateProducedBatches(idempotent, opts) instanceof RecordBatchError));
    });

    it('compacted topics: a null key is INVALID_RECORD, also inside a compressed batch', () => {
      for (const compression of [CompressionType.None, CompressionType.Snappy]) {
        const keyed = buildBatch({ records: [{ key: 'a', value: '1' }, { key: 'b', value: null }], compression });
        assert.ok(!(validateProducedBatches(keyed, { ...opts, requireKeys: true }) instanceof RecordBatchError));
        const keyless = buildBatch({ records: [{ key: 'a', value: '1' }, { key: null, value: '2' }], compression });
        assert.ok(!(validateProducedBatches(keyless, opts) instanceof RecordBatchError), 'keys only required when asked');
        expectError(keyless, RecordBatchErrorCode.INVALID_RECORD, { ...opts, requireKeys: true });
      }
    });

    it('compacted topics: a decompression bomb is MESSAGE_TOO_LARGE, not an OOM', () => {
      const batch = buildBatch({ records: [{ key: 'k', value: Buffer.alloc(2 * 1024 * 1024) }], compression: CompressionType.Gzip });
      expectError(batch, RecordBatchErrorCode.MESSAGE_TOO_LARGE, { ...opts, requireKeys: true, maxDecompressedBytes: 1024 * 1024 });
    });
  });
});
