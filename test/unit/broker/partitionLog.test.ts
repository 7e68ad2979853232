import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CorruptBatchError,
  LogConfig,
  OffsetOutOfRangeError,
  PartitionLog,
  PartitionLogOptions,
  UnexpectedAppendOffsetError,
} from '../../../src/broker/state/partitionLog';
import { crc32c } from '../../../src/protocol/records/crc32c';

// ------------------------------------------------------------------ helpers (no dependency on other modules in progress)

interface TestRecord {
  timestampDelta: number;
  value: Buffer;
}

interface BatchOptions {
  baseTimestamp?: number;
  /** Per-record timestamp deltas; defaults to 0, 1, 2, ... */
  timestampDeltas?: number[];
  valueSize?: number;
  /** Byte the values are filled with, to tell batches apart. */
  fill?: number;
  baseOffset?: number;
  epoch?: number;
  attributes?: number;
}

function zigZagVarint(n: number): Buffer {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  const bytes: number[] = [];
  while (z >= 0x80) {
    bytes.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  bytes.push(z);
  return Buffer.from(bytes);
}

function encodeRecord(record: TestRecord, offsetDelta: number): Buffer {
  const body = Buffer.concat([
    Buffer.from([0]), // attributes
    zigZagVarint(record.timestampDelta),
    zigZagVarint(offsetDelta),
    zigZagVarint(-1), // null key
    zigZagVarint(record.value.length),
    record.value,
    zigZagVarint(0), // no headers
  ]);
  return Buffer.concat([zigZagVarint(body.length), body]);
}

/** A valid RecordBatch v2 with uncompressed records and a correct CRC-32C. */
function makeBatch(recordCount: number, opts: BatchOptions = {}): Buffer {
  const baseTimestamp = opts.baseTimestamp ?? 1_000;
  const deltas = opts.timestampDeltas ?? Array.from({ length: recordCount }, (_, i) => i);
  const records = deltas.map((timestampDelta) => ({ timestampDelta, value: Buffer.alloc(opts.valueSize ?? 10, opts.fill ?? 0x61) }));
  const body = Buffer.concat(records.map((r, i) => encodeRecord(r, i)));
  const batch = Buffer.alloc(61 + body.length);
  batch.writeBigInt64BE(BigInt(opts.baseOffset ?? 0), 0);
  batch.writeInt32BE(batch.length - 12, 8);
  batch.writeInt32BE(opts.epoch ?? -1, 12);
  batch.writeInt8(2, 16);
  batch.writeInt16BE(opts.attributes ?? 0, 21);
  batch.writeInt32BE(records.length - 1, 23);
  batch.writeBigInt64BE(BigInt(baseTimestamp), 27);
  batch.writeBigInt64BE(BigInt(baseTimestamp + Math.max(...deltas)), 35);
  batch.writeBigInt64BE(-1n, 43);
  batch.writeInt16BE(-1, 51);
  batch.writeInt32BE(-1, 53);
  batch.writeInt32BE(records.length, 57);
  body.copy(batch, 61);
  batch.writeUInt32BE(crc32c(batch, 21, batch.length), 17);
  return batch;
}

interface ParsedBatch {
  baseOffset: number;
  lastOffset: number;
  epoch: number;
  crc: number;
  bytes: Buffer;
}

/** Splits whole batches and checks each one's CRC-32C (a read must never return a damaged or partial batch). */
function parseBatches(buf: Buffer): ParsedBatch[] {
  const out: ParsedBatch[] = [];
  let pos = 0;
  while (pos < buf.length) {
    assert.ok(pos + 61 <= buf.length, `partial batch header at byte ${pos}`);
    const size = buf.readInt32BE(pos + 8) + 12;
    assert.ok(pos + size <= buf.length, `partial batch at byte ${pos}`);
    const bytes = buf.subarray(pos, pos + size);
    assert.equal(bytes.readUInt32BE(17), crc32c(bytes, 21, size), `CRC of batch at byte ${pos}`);
    const baseOffset = Number(bytes.readBigInt64BE(0));
    out.push({ baseOffset, lastOffset: baseOffset + bytes.readInt32BE(23), epoch: bytes.readInt32BE(12), crc: bytes.readUInt32BE(17), bytes });
    pos += size;
  }
  return out;
}

/** Reads the whole log like a consumer (small fetches) and returns every batch. */
function readAll(log: PartitionLog, maxBytes = 300): ParsedBatch[] {
  const out: ParsedBatch[] = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const batches = parseBatches(log.read(offset, maxBytes, log.logEndOffset));
    assert.ok(batches.length > 0, `no progress at offset ${offset}`);
    for (const b of batches) {
      if (out.length > 0) assert.equal(b.baseOffset, out[out.length - 1].lastOffset + 1, 'batches are contiguous');
      out.push(b);
    }
    offset = batches[batches.length - 1].lastOffset + 1;
  }
  return out;
}

function config(overrides: Partial<LogConfig> = {}): LogConfig {
  return { segmentBytes: 1024 * 1024, segmentMs: 7 * 24 * 3600 * 1000, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 4096, ...overrides };
}

function captureLogger(): { info: string[]; warn: string[]; logger: NonNullable<PartitionLogOptions['logger']> } {
  const info: string[] = [];
  const warn: string[] = [];
  return { info, warn, logger: { info: (m) => info.push(m), warn: (m) => warn.push(m) } };
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'partition-log-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'topic-0');
}

function segmentFiles(dir: string, suffix: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .sort();
}

/** Appends `count` batches of `recordsPerBatch` records; returns the stored bytes of each batch. */
function appendMany(log: PartitionLog, count: number, recordsPerBatch = 1, epoch = 0, opts: BatchOptions = {}): Buffer[] {
  const stored: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const batch = makeBatch(recordsPerBatch, { fill: 0x41 + (i % 26), ...opts });
    log.appendAsLeader(batch, epoch);
    stored.push(batch);
  }
  return stored;
}

// ------------------------------------------------------------------ child process for the kill -9 test

const CHILD_DIR_ENV = 'PARTITION_LOG_TEST_CHILD_DIR';
const CHILD_CONFIG = config({ segmentBytes: 64 * 1024, indexIntervalBytes: 1024 });

/**
 * Appends batches of random sizes as fast as it can, printing "APPENDED base last crc" after each append returns,
 * until the parent kills it. Runs before any test is registered, and never returns.
 */
function runAppendingChild(dir: string): never {
  const log = PartitionLog.open(dir, CHILD_CONFIG, { logger: { info: () => {}, warn: () => {} } });
  for (let i = 0; i < 200_000; i++) {
    const batch = makeBatch(1 + (i % 7), { valueSize: 1 + Math.floor(Math.random() * 3000), fill: i % 256, baseTimestamp: Date.now() });
    const info = log.appendAsLeader(batch, 0);
    log.setHighWatermark(info.lastOffset + 1);
    process.stdout.write(`APPENDED ${info.baseOffset} ${info.lastOffset} ${batch.readUInt32BE(17)}\n`);
  }
  process.exit(0);
}

if (process.env[CHILD_DIR_ENV]) runAppendingChild(process.env[CHILD_DIR_ENV]);

// ------------------------------------------------------------------ tests

test('append and read round trip across several segment rolls', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, config({ segmentBytes: 600, indexIntervalBytes: 100 }));
  assert.equal(log.logEndOffset, 0);
  const stored: Buffer[] = [];
  let expectedOffset = 0;
  for (let i = 0; i < 40; i++) {
    const batch = makeBatch(1 + (i % 3), { valueSize: 20 + i, fill: i });
    const info = log.appendAsLeader(batch, 3);
    assert.equal(info.baseOffset, expectedOffset);
    assert.equal(info.lastOffset, expectedOffset + (i % 3));
    assert.equal(info.size, batch.length);
    assert.equal(info.logAppendTime, -1);
    // BaseOffset and PartitionLeaderEpoch rewritten in place, CRC untouched and still valid.
    assert.equal(Number(batch.readBigInt64BE(0)), expectedOffset);
    assert.equal(batch.readInt32BE(12), 3);
    assert.equal(batch.readUInt32BE(17), crc32c(batch, 21, batch.length));
    stored.push(batch);
    expectedOffset = info.lastOffset + 1;
  }
  assert.equal(log.logEndOffset, expectedOffset);
  assert.ok(log.segmentCount() >= 5, `expected several segments, got ${log.segmentCount()}`);
  assert.equal(segmentFiles(dir, '.log').length, log.segmentCount());
  assert.equal(log.sizeInBytes(), stored.reduce((n, b) => n + b.length, 0));
  for (const file of segmentFiles(dir, '.log')) {
    assert.ok(fs.statSync(path.join(dir, file)).size <= 600 || fs.statSync(path.join(dir, file)).size === 0);
  }
  // Segment files are named after the base offset of their first batch.
  const baseOffsets = log.segmentBaseOffsets();
  const batchBases = new Set(stored.map((b) => Number(b.readBigInt64BE(0))));
  for (const base of baseOffsets) assert.ok(batchBases.has(base) || base === log.logEndOffset);
  assert.deepEqual(segmentFiles(dir, '.log'), baseOffsets.map((b) => String(b).padStart(20, '0') + '.log'));

  const all = readAll(log);
  assert.equal(all.length, stored.length);
  all.forEach((b, i) => assert.deepEqual(b.bytes, stored[i]));
  // One big read crosses segment boundaries and returns everything.
  assert.deepEqual(log.read(0, 1 << 20, log.logEndOffset), Buffer.concat(stored));
  log.close();
});

test('a fetch from inside a batch returns the whole containing batch', (t) => {
  const log = PartitionLog.open(tempDir(t), config({ indexIntervalBytes: 50 }));
  appendMany(log, 4, 1);
  const five = makeBatch(5, { fill: 0x7a });
  log.appendAsLeader(five, 0); // offsets 4..8
  appendMany(log, 3, 1); // 9..11
  for (const offset of [4, 5, 6, 8]) {
    const batches = parseBatches(log.read(offset, 10_000, log.logEndOffset));
    assert.equal(batches[0].baseOffset, 4, `fetch at ${offset}`);
    assert.deepEqual(batches[0].bytes, five);
    assert.equal(batches[batches.length - 1].lastOffset, 11);
  }
  assert.equal(parseBatches(log.read(9, 10_000, log.logEndOffset))[0].baseOffset, 9);
  log.close();
});

test('maxBytes smaller than one batch still returns that batch, and reads stop at batch boundaries', (t) => {
  const log = PartitionLog.open(tempDir(t), config());
  const stored = appendMany(log, 5, 2, 0, { valueSize: 100 });
  const one = parseBatches(log.read(0, 1, log.logEndOffset));
  assert.equal(one.length, 1);
  assert.deepEqual(one[0].bytes, stored[0]);
  assert.equal(parseBatches(log.read(0, 0, log.logEndOffset)).length, 1);
  const size = stored[0].length;
  assert.equal(parseBatches(log.read(0, 2 * size, log.logEndOffset)).length, 2);
  assert.equal(parseBatches(log.read(0, 3 * size - 1, log.logEndOffset)).length, 2);
  log.close();
});

test('reads stop before batches at or beyond maxOffset', (t) => {
  const log = PartitionLog.open(tempDir(t), config());
  appendMany(log, 4, 3); // [0-2] [3-5] [6-8] [9-11]
  let batches = parseBatches(log.read(0, 1 << 20, 5));
  assert.deepEqual(batches.map((b) => b.baseOffset), [0, 3]);
  batches = parseBatches(log.read(0, 1 << 20, 6));
  assert.deepEqual(batches.map((b) => b.baseOffset), [0, 3]);
  batches = parseBatches(log.read(4, 1 << 20, 7));
  assert.deepEqual(batches.map((b) => b.baseOffset), [3, 6]);
  assert.equal(log.read(6, 1 << 20, 6).length, 0);
  assert.equal(log.read(12, 1 << 20, 12).length, 0);
  assert.equal(log.read(8, 1 << 20, 6).length, 0, 'offset between HW and LEO gives an empty result');
  log.close();
});

test('offsets outside [logStart, LEO] throw OffsetOutOfRangeError', (t) => {
  const log = PartitionLog.open(tempDir(t), config({ segmentBytes: 200 }));
  appendMany(log, 10, 1, 0, { valueSize: 30 });
  assert.throws(() => log.read(11, 100, 10), OffsetOutOfRangeError);
  assert.throws(() => log.read(-1, 100, 10), OffsetOutOfRangeError);
  assert.equal(log.read(10, 100, 10).length, 0);
  log.setHighWatermark(10);
  log.deleteRecordsBefore(3);
  assert.throws(() => log.read(2, 100, 10), (err: unknown) => err instanceof OffsetOutOfRangeError && err.logStartOffset === 3);
  assert.equal(parseBatches(log.read(3, 1, 10))[0].baseOffset, 3);
  log.close();
});

test('reopening restores LEO, log start offset, HW and epochs; HW is checkpointed lazily', (t) => {
  const dir = tempDir(t);
  let clock = 1_000_000;
  const opts = { now: () => clock, logger: captureLogger().logger };
  let log = PartitionLog.open(dir, config({ segmentBytes: 300 }), opts);
  appendMany(log, 12, 2, 5, { valueSize: 40 });
  log.setHighWatermark(20);
  log.deleteRecordsBefore(4);
  log.close();

  log = PartitionLog.open(dir, config({ segmentBytes: 300 }), opts);
  assert.equal(log.logEndOffset, 24);
  assert.equal(log.logStartOffset, 4);
  assert.equal(log.highWatermark, 20);
  assert.deepEqual(log.leaderEpochs.entries(), [{ epoch: 5, startOffset: 4 }]);
  assert.equal(readAll(log).length, 10);

  // Within the checkpoint interval the HW only lives in memory: a crash (no close) loses it...
  clock += 100;
  log.setHighWatermark(22);
  assert.equal(log.highWatermark, 22);
  let reopened = PartitionLog.open(dir, config({ segmentBytes: 300 }), opts);
  assert.equal(reopened.highWatermark, 20);
  reopened.close();
  // ...and once the interval has passed it is written.
  clock += 6_000;
  log.setHighWatermark(23);
  reopened = PartitionLog.open(dir, config({ segmentBytes: 300 }), opts);
  assert.equal(reopened.highWatermark, 23);
  reopened.close();
  // HW is clamped to the LEO.
  log.setHighWatermark(1_000);
  assert.equal(log.highWatermark, 24);
});

test('an empty or missing directory opens as an empty log at offset 0', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, config());
  assert.equal(log.logStartOffset, 0);
  assert.equal(log.logEndOffset, 0);
  assert.equal(log.highWatermark, 0);
  assert.equal(log.read(0, 100, 0).length, 0);
  assert.equal(log.offsetForTimestamp(0), null);
  assert.equal(log.maxTimestampOffset(), null);
  assert.deepEqual(log.leaderEpochs.endOffsetFor(0), { epoch: -1, endOffset: -1 });
  log.close();
  const again = PartitionLog.open(dir, config());
  assert.equal(again.logEndOffset, 0);
  again.close();
});

for (const shutdown of ['crash', 'clean close'] as const) {
  test(`a torn tail (half batch + garbage) is cut on open after a ${shutdown}`, (t) => {
    const dir = tempDir(t);
    const { warn, logger } = captureLogger();
    let log = PartitionLog.open(dir, config({ segmentBytes: 2000, indexIntervalBytes: 200 }), { logger });
    const stored = appendMany(log, 20, 3, 0, { valueSize: 50 });
    const leo = log.logEndOffset;
    if (shutdown === 'clean close') log.close();
    // What kill -9 in the middle of a write leaves: part of the next batch, then junk.
    const lastLog = path.join(dir, segmentFiles(dir, '.log').pop()!);
    const sizeBefore = fs.statSync(lastLog).size;
    const next = makeBatch(3, { baseOffset: leo, valueSize: 50 });
    fs.appendFileSync(lastLog, Buffer.concat([next.subarray(0, 70), Buffer.from('\x00\xff garbage \x13\x37'.repeat(5), 'latin1')]));

    log = PartitionLog.open(dir, config({ segmentBytes: 2000, indexIntervalBytes: 200 }), { logger });
    assert.equal(log.logEndOffset, leo);
    assert.equal(fs.statSync(lastLog).size, sizeBefore, 'file cut exactly at the end of the last valid batch');
    assert.ok(warn.some((m) => m.includes('cut')), `expected a warning about the cut, got ${JSON.stringify(warn)}`);
    const all = readAll(log);
    assert.equal(all.length, stored.length);
    all.forEach((b, i) => assert.deepEqual(b.bytes, stored[i]));
    // Appending continues right after the recovered data.
    const info = log.appendAsLeader(makeBatch(2), 0);
    assert.equal(info.baseOffset, leo);
    assert.equal(readAll(log).length, stored.length + 1);
    log.close();
  });
}

test('a flipped byte inside the last batch CRC range truncates exactly that batch', (t) => {
  const dir = tempDir(t);
  const { warn, logger } = captureLogger();
  const log = PartitionLog.open(dir, config({ indexIntervalBytes: 100 }), { logger });
  const stored = appendMany(log, 6, 4, 0, { valueSize: 30 });
  log.flush();
  const file = path.join(dir, segmentFiles(dir, '.log')[0]);
  const lastStart = stored.slice(0, 5).reduce((n, b) => n + b.length, 0);
  const bytes = fs.readFileSync(file);
  bytes[lastStart + 70] ^= 0x10; // inside the records of the last batch
  fs.writeFileSync(file, bytes);

  const reopened = PartitionLog.open(dir, config({ indexIntervalBytes: 100 }), { logger });
  assert.equal(reopened.logEndOffset, 20, 'the damaged batch (offsets 20..23) is gone');
  assert.equal(fs.statSync(file).size, lastStart);
  assert.ok(warn.some((m) => m.includes('CRC')), JSON.stringify(warn));
  const all = readAll(reopened);
  assert.equal(all.length, 5);
  all.forEach((b, i) => assert.deepEqual(b.bytes, stored[i]));
  reopened.close();
});

test('after a crash the whole active segment is re-validated, not just its tail', (t) => {
  const dir = tempDir(t);
  const { warn, logger } = captureLogger();
  const cfg = config({ indexIntervalBytes: 100 });
  const log = PartitionLog.open(dir, cfg, { logger });
  const stored = appendMany(log, 12, 2, 0, { valueSize: 40 });
  // Crash (no close), with damage in the third batch, well before the last index entry.
  const file = path.join(dir, segmentFiles(dir, '.log')[0]);
  const thirdStart = stored[0].length + stored[1].length;
  const bytes = fs.readFileSync(file);
  bytes[thirdStart + 65] ^= 0x01;
  fs.writeFileSync(file, bytes);

  const reopened = PartitionLog.open(dir, cfg, { logger });
  assert.equal(reopened.logEndOffset, 4, 'the log ends before the damaged batch (offsets 4..5)');
  assert.ok(warn.some((m) => m.includes('CRC')), JSON.stringify(warn));
  assert.deepEqual(readAll(reopened).map((b) => b.bytes), stored.slice(0, 2));
  reopened.close();
});

test('missing or corrupt index files are rebuilt identically on open', (t) => {
  const dir = tempDir(t);
  const { warn, logger } = captureLogger();
  // An entry every ~3 batches, so a segment's last batches are usually not indexed and its final time entry matters.
  const cfg = config({ segmentBytes: 1500, indexIntervalBytes: 350 });
  let log = PartitionLog.open(dir, cfg, { logger });
  // Rising timestamps, so that time indexes have several entries including each sealed segment's final one.
  const stored: Buffer[] = [];
  for (let i = 0; i < 40; i++) {
    const batch = makeBatch(2, { valueSize: 40, baseTimestamp: 5_000 + 10 * i, fill: i });
    log.appendAsLeader(batch, 0);
    stored.push(batch);
  }
  log.close();
  const indexes = segmentFiles(dir, '.index');
  const timeIndexes = segmentFiles(dir, '.timeindex');
  assert.ok(indexes.length >= 4);
  const original = new Map([...indexes, ...timeIndexes].map((f) => [f, fs.readFileSync(path.join(dir, f))]));
  assert.ok(original.get(indexes[1])!.length > 0, 'the test needs non-empty indexes');
  assert.ok(original.get(timeIndexes[0])!.length >= 24, 'the test needs several time index entries');

  fs.unlinkSync(path.join(dir, indexes[0]));
  fs.writeFileSync(path.join(dir, indexes[1]), Buffer.from([1, 2, 3, 4, 5, 6, 7])); // not a whole entry
  const reversed = Buffer.from(original.get(indexes[2])!);
  reversed.reverse(); // whole entries, but nonsense
  fs.writeFileSync(path.join(dir, indexes[2]), reversed);
  fs.writeFileSync(path.join(dir, timeIndexes[3]), Buffer.alloc(24, 0xff));
  fs.unlinkSync(path.join(dir, timeIndexes[timeIndexes.length - 1])); // the active segment's, after a clean close

  log = PartitionLog.open(dir, cfg, { logger });
  assert.equal(warn.length, 5, JSON.stringify(warn));
  for (const [file, content] of original) assert.deepEqual(fs.readFileSync(path.join(dir, file)), content, `${file} rebuilt`);
  const all = readAll(log, 1);
  assert.equal(all.length, stored.length);
  all.forEach((b, i) => assert.deepEqual(b.bytes, stored[i]));
  for (let offset = 0; offset < log.logEndOffset; offset++) {
    const [first] = parseBatches(log.read(offset, 1, log.logEndOffset));
    assert.ok(first.baseOffset <= offset && offset <= first.lastOffset, `read at ${offset}`);
  }
  log.close();
});

test('time retention deletes only expired segments below the HW, and rolls when everything expired', (t) => {
  const dir = tempDir(t);
  let clock = 100_000;
  const cfg = config({ segmentBytes: 400, retentionMs: 10_000 });
  const log = PartitionLog.open(dir, cfg, { now: () => clock, logger: captureLogger().logger });
  // Six segments of two batches each; the segment starting at offset 2*k holds timestamps around 50_000 + 1000*k.
  const batchSize = makeBatch(1, { valueSize: 100 }).length;
  assert.ok(2 * batchSize <= 400 && 3 * batchSize > 400);
  for (let i = 0; i < 12; i++) log.appendAsLeader(makeBatch(1, { valueSize: 100, baseTimestamp: 50_000 + 1000 * Math.floor(i / 2) }), 0);
  assert.equal(log.segmentCount(), 6);
  assert.deepEqual(log.segmentBaseOffsets(), [0, 2, 4, 6, 8, 10]);

  // now - 10_000 = 52_500 -> segments with max timestamp 50_000, 51_000, 52_000 are expired, but the HW protects the third.
  clock = 62_500;
  log.setHighWatermark(5);
  let result = log.applyRetention();
  assert.deepEqual(result, { deletedSegments: 2, newLogStartOffset: 4 });
  assert.deepEqual(log.segmentBaseOffsets(), [4, 6, 8, 10]);
  assert.equal(fs.existsSync(path.join(dir, '00000000000000000000.log')), false);
  assert.throws(() => log.read(3, 100, 12), OffsetOutOfRangeError);

  log.setHighWatermark(6);
  assert.equal(log.applyRetention().deletedSegments, 1);
  assert.equal(log.logStartOffset, 6);

  // Everything expired and fully replicated: a new empty active segment is rolled, then all old ones go.
  clock = 1_000_000;
  log.setHighWatermark(12);
  result = log.applyRetention();
  assert.deepEqual(result, { deletedSegments: 3, newLogStartOffset: 12 });
  assert.deepEqual(log.segmentBaseOffsets(), [12]);
  assert.equal(log.sizeInBytes(), 0);
  assert.equal(log.logEndOffset, 12);
  assert.equal(log.read(12, 100, 12).length, 0);
  assert.equal(log.appendAsLeader(makeBatch(1, { baseTimestamp: clock }), 0).baseOffset, 12);
  log.setHighWatermark(13);
  // Nothing more to delete: the new data is recent.
  assert.equal(log.applyRetention().deletedSegments, 0);
  log.close();
  const reopened = PartitionLog.open(dir, cfg, { now: () => clock });
  assert.equal(reopened.logStartOffset, 12);
  assert.equal(reopened.logEndOffset, 13);
  reopened.close();
});

test('size retention deletes the oldest segments while the log stays over retentionBytes', (t) => {
  const dir = tempDir(t);
  const batchSize = makeBatch(1, { valueSize: 100 }).length;
  const cfg = config({ segmentBytes: 2 * batchSize, retentionBytes: 5 * batchSize });
  const log = PartitionLog.open(dir, cfg);
  appendMany(log, 10, 1, 0, { valueSize: 100 });
  assert.equal(log.segmentCount(), 5);
  assert.equal(log.sizeInBytes(), 10 * batchSize);
  log.setHighWatermark(10);
  // 10 batches, limit 5: deleting 2 segments (4 batches) leaves 6 > 5, deleting a third would leave 4 < 5.
  assert.deepEqual(log.applyRetention(), { deletedSegments: 2, newLogStartOffset: 4 });
  assert.equal(log.sizeInBytes(), 6 * batchSize);
  assert.deepEqual(log.applyRetention(), { deletedSegments: 0, newLogStartOffset: 4 });
  // Over the limit again, but only segments entirely below the HW may go: [4,6) yes, [6,8) not with HW 7.
  appendMany(log, 4, 1, 0, { valueSize: 100 });
  log.setHighWatermark(7);
  assert.deepEqual(log.applyRetention(), { deletedSegments: 1, newLogStartOffset: 6 });
  log.setHighWatermark(14);
  assert.deepEqual(log.applyRetention(), { deletedSegments: 1, newLogStartOffset: 8 });
  log.close();
});

test('deleteRecordsBefore moves the log start, deletes whole segments below it, and persists', (t) => {
  const dir = tempDir(t);
  const batchSize = makeBatch(1, { valueSize: 60 }).length;
  const cfg = config({ segmentBytes: 2 * batchSize });
  const log = PartitionLog.open(dir, cfg);
  appendMany(log, 10, 1, 0, { valueSize: 60 });
  log.setHighWatermark(10);
  assert.equal(log.deleteRecordsBefore(5), 5);
  assert.deepEqual(log.segmentBaseOffsets(), [4, 6, 8]);
  assert.equal(segmentFiles(dir, '.log').length, 3);
  assert.throws(() => log.read(4, 100, 10), OffsetOutOfRangeError);
  assert.equal(parseBatches(log.read(5, 1, 10))[0].baseOffset, 5);
  assert.equal(log.deleteRecordsBefore(2), 5, 'never moves backwards');
  assert.throws(() => log.deleteRecordsBefore(11), OffsetOutOfRangeError);
  // Up to the LEO: the active segment stays (empty of readable records).
  assert.equal(log.deleteRecordsBefore(10), 10);
  assert.deepEqual(log.segmentBaseOffsets(), [8]);
  assert.equal(log.read(10, 100, 10).length, 0);
  const reopened = PartitionLog.open(dir, cfg); // crash-style reopen: the log start was persisted immediately
  assert.equal(reopened.logStartOffset, 10);
  assert.equal(reopened.logEndOffset, 10);
  reopened.close();
});

test('truncateTo drops records, indexes and leader epochs from the divergence point', (t) => {
  const dir = tempDir(t);
  const cfg = config({ segmentBytes: 500, indexIntervalBytes: 100 });
  const log = PartitionLog.open(dir, cfg);
  appendMany(log, 3, 2, 1, { valueSize: 50 }); // epoch 1: 0..5
  appendMany(log, 3, 2, 2, { valueSize: 50 }); // epoch 2: 6..11
  appendMany(log, 2, 2, 4, { valueSize: 50 }); // epoch 4: 12..15
  assert.ok(log.segmentCount() >= 3);
  const epochs = log.leaderEpochs;
  assert.deepEqual(epochs.entries(), [
    { epoch: 1, startOffset: 0 },
    { epoch: 2, startOffset: 6 },
    { epoch: 4, startOffset: 12 },
  ]);
  assert.equal(epochs.latestEpoch(), 4);
  assert.equal(epochs.startOffset(2), 6);
  assert.equal(epochs.startOffset(3), -1);
  assert.deepEqual(epochs.endOffsetFor(1), { epoch: 1, endOffset: 6 });
  assert.deepEqual(epochs.endOffsetFor(3), { epoch: 2, endOffset: 12 });
  assert.deepEqual(epochs.endOffsetFor(4), { epoch: 4, endOffset: 16 });
  assert.deepEqual(epochs.endOffsetFor(0), { epoch: 0, endOffset: 0 }, 'older than all known: Kafka answers the first start');
  assert.deepEqual(epochs.endOffsetFor(5), { epoch: -1, endOffset: -1 });
  assert.deepEqual(epochs.endOffsetFor(-1), { epoch: -1, endOffset: -1 });
  assert.throws(() => log.appendAsLeader(makeBatch(1), 3), /older than the latest epoch/);

  log.setHighWatermark(16);
  log.truncateTo(12); // the follower diverged at the start of epoch 4
  assert.equal(log.logEndOffset, 12);
  assert.equal(log.highWatermark, 12);
  assert.deepEqual(epochs.endOffsetFor(2), { epoch: 2, endOffset: 12 });
  assert.equal(epochs.latestEpoch(), 2);

  log.truncateTo(7); // inside the batch 6..7: the whole batch goes
  assert.equal(log.logEndOffset, 6);
  assert.deepEqual(epochs.entries(), [{ epoch: 1, startOffset: 0 }]);
  assert.equal(readAll(log).length, 3);
  const segmentsAfter = log.segmentBaseOffsets();
  assert.equal(segmentFiles(dir, '.log').length, segmentsAfter.length);

  // The follower continues with the new leader's data for epoch 3.
  const fromLeader = Buffer.concat([makeBatch(2, { baseOffset: 6, epoch: 3 }), makeBatch(1, { baseOffset: 8, epoch: 3 })]);
  assert.deepEqual(log.appendAsFollower(fromLeader), { baseOffset: 6, lastOffset: 8, maxTimestamp: 1001, logAppendTime: -1, size: fromLeader.length });
  assert.deepEqual(epochs.entries(), [
    { epoch: 1, startOffset: 0 },
    { epoch: 3, startOffset: 6 },
  ]);
  // Indexes of the truncated segment are usable: every offset is found.
  for (let offset = 0; offset < 9; offset++) {
    const [first] = parseBatches(log.read(offset, 1, 9));
    assert.ok(first.baseOffset <= offset && offset <= first.lastOffset);
  }
  log.close();
  const reopened = PartitionLog.open(dir, cfg);
  assert.equal(reopened.logEndOffset, 9);
  assert.deepEqual(reopened.leaderEpochs.entries(), [
    { epoch: 1, startOffset: 0 },
    { epoch: 3, startOffset: 6 },
  ]);
  reopened.truncateTo(0);
  assert.equal(reopened.logEndOffset, 0);
  assert.deepEqual(reopened.leaderEpochs.entries(), []);
  reopened.close();
});

test('truncateTo the log end still drops an epoch that starts there (a leader that appended nothing in it)', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, config());
  appendMany(log, 2, 1, 0); // epoch 0: 0..1
  log.leaderEpochs.assign(1, 2); // became leader of epoch 1 at its log end, then lost leadership before any append
  assert.equal(log.leaderEpochs.latestEpoch(), 1);
  // The new leader never had epoch 1: its divergence answer is (epoch 0, end 2), which is this log's end.
  log.truncateTo(2);
  assert.equal(log.logEndOffset, 2, 'no record is dropped');
  assert.deepEqual(log.leaderEpochs.entries(), [{ epoch: 0, startOffset: 0 }], 'the empty epoch 1 is gone, so the next fetch reports epoch 0');
  log.close();
  const reopened = PartitionLog.open(dir, config());
  assert.deepEqual(reopened.leaderEpochs.entries(), [{ epoch: 0, startOffset: 0 }], 'and stays gone');
  reopened.close();
});

test('truncateFullyAndStartAt restarts an empty log at the given offset', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, config({ segmentBytes: 300 }));
  appendMany(log, 10, 1, 2, { valueSize: 50 });
  log.truncateFullyAndStartAt(1000);
  assert.equal(log.logStartOffset, 1000);
  assert.equal(log.logEndOffset, 1000);
  assert.equal(log.highWatermark, 1000);
  assert.deepEqual(log.leaderEpochs.entries(), []);
  assert.deepEqual(segmentFiles(dir, '.log'), ['00000000000000001000.log']);
  assert.equal(log.appendAsLeader(makeBatch(1), 7).baseOffset, 1000);
  log.close();
});

test('followers append leader batches verbatim and reject misplaced or corrupt data', (t) => {
  const leader = PartitionLog.open(tempDir(t), config({ segmentBytes: 500 }));
  appendMany(leader, 8, 3, 2, { valueSize: 30 });
  const follower = PartitionLog.open(tempDir(t), config({ segmentBytes: 500 }));
  while (follower.logEndOffset < leader.logEndOffset) {
    const data = leader.read(follower.logEndOffset, 250, leader.logEndOffset);
    const info = follower.appendAsFollower(data);
    assert.ok(info !== null);
  }
  assert.deepEqual(follower.read(0, 1 << 20, follower.logEndOffset), leader.read(0, 1 << 20, leader.logEndOffset));
  assert.deepEqual(follower.leaderEpochs.entries(), [{ epoch: 2, startOffset: 0 }]);

  // Data before the LEO is misplaced; data after it is not (a gap the leader's compaction left, as Kafka accepts).
  const next = makeBatch(2, { baseOffset: 20, epoch: 2 });
  assert.throws(() => follower.appendAsFollower(next), UnexpectedAppendOffsetError);
  const bad = makeBatch(2, { baseOffset: 24, epoch: 2 });
  bad[bad.length - 1] ^= 1;
  assert.throws(() => follower.appendAsFollower(bad), CorruptBatchError);
  assert.equal(follower.logEndOffset, 24);
  // A trailing partial batch (as a size-limited fetch may return) is ignored.
  const good = makeBatch(2, { baseOffset: 24, epoch: 5 });
  const partial = makeBatch(2, { baseOffset: 26, epoch: 5 }).subarray(0, 40);
  assert.equal(follower.appendAsFollower(Buffer.concat([good, partial]))!.lastOffset, 25);
  assert.equal(follower.appendAsFollower(partial), null);
  assert.equal(follower.logEndOffset, 26);
  assert.deepEqual(follower.leaderEpochs.entries(), [
    { epoch: 2, startOffset: 0 },
    { epoch: 5, startOffset: 24 },
  ]);
  leader.close();
  follower.close();
});

test('a follower whose log start falls inside the leader first batch restarts at that batch', (t) => {
  const follower = PartitionLog.open(tempDir(t), config());
  follower.truncateFullyAndStartAt(12); // the leader's log start is 12 (DeleteRecords), inside batch 10..14
  const batch = makeBatch(5, { baseOffset: 10, epoch: 1 });
  const info = follower.appendAsFollower(batch);
  assert.equal(info!.baseOffset, 10);
  assert.equal(follower.logStartOffset, 12);
  assert.equal(follower.logEndOffset, 15);
  assert.equal(parseBatches(follower.read(12, 1, 15))[0].baseOffset, 10);
  assert.throws(() => follower.read(11, 1, 15), OffsetOutOfRangeError);
  follower.close();
});

test('offsetForTimestamp finds the first record at or after a timestamp, exactly inside batches', (t) => {
  const dir = tempDir(t);
  const log = PartitionLog.open(dir, config({ segmentBytes: 700, indexIntervalBytes: 120 }));
  // Each batch i: two records with timestamps 10_000 + 100*i and 10_000 + 100*i + 50, out of order inside the batch.
  const expected: Array<{ offset: number; timestamp: number }> = [];
  for (let i = 0; i < 60; i++) {
    const base = 10_000 + 100 * i;
    log.appendAsLeader(makeBatch(2, { baseTimestamp: base, timestampDeltas: [50, 0], valueSize: 20 }), 0);
    expected.push({ offset: 2 * i, timestamp: base + 50 }, { offset: 2 * i + 1, timestamp: base });
  }
  assert.ok(log.segmentCount() >= 4);
  const bruteForce = (ts: number) => expected.find((r) => r.timestamp >= ts) ?? null;
  for (const ts of [0, 10_000, 10_001, 10_050, 10_051, 12_345, 15_900, 15_950, 15_951]) {
    assert.deepEqual(log.offsetForTimestamp(ts), bruteForce(ts), `timestamp ${ts}`);
  }
  assert.equal(log.offsetForTimestamp(15_951), null);
  assert.deepEqual(log.maxTimestampOffset(), { offset: 118, timestamp: 15_950 });

  // Records below the log start are never answered.
  log.setHighWatermark(log.logEndOffset);
  log.deleteRecordsBefore(21);
  assert.deepEqual(log.offsetForTimestamp(0), { offset: 21, timestamp: 11_000 });
  log.close();
  // Same answers after a reopen (indexes loaded from disk).
  const reopened = PartitionLog.open(dir, config({ segmentBytes: 700, indexIntervalBytes: 120 }));
  assert.deepEqual(reopened.offsetForTimestamp(12_345), bruteForce(12_345));
  assert.deepEqual(reopened.maxTimestampOffset(), { offset: 118, timestamp: 15_950 });
  reopened.close();
});

test('offsetForTimestamp uses the injected decoder for compressed batches', (t) => {
  const GZIP = 1;
  let decoded = 0;
  // The "compressed" test batch carries plain records; the decoder knows that.
  const decodeTimestamps = (batch: Buffer) => {
    decoded++;
    const baseOffset = Number(batch.readBigInt64BE(0));
    const baseTimestamp = Number(batch.readBigInt64BE(27));
    return [80, 10, 90].map((delta, i) => ({ offset: baseOffset + i, timestamp: baseTimestamp + delta }));
  };
  const withDecoder = PartitionLog.open(tempDir(t), config(), { decodeTimestamps });
  const without = PartitionLog.open(tempDir(t), config());
  for (const log of [withDecoder, without]) {
    log.appendAsLeader(makeBatch(1, { baseTimestamp: 500 }), 0); // offset 0, ts 500
    log.appendAsLeader(makeBatch(3, { baseTimestamp: 1000, timestampDeltas: [80, 10, 90], attributes: GZIP }), 0); // 1..3
  }
  assert.deepEqual(withDecoder.offsetForTimestamp(1085), { offset: 3, timestamp: 1090 });
  assert.deepEqual(withDecoder.maxTimestampOffset(), { offset: 3, timestamp: 1090 });
  assert.ok(decoded >= 2);
  // Without a decoder the containing batch is the best answer.
  assert.deepEqual(without.offsetForTimestamp(1085), { offset: 1, timestamp: 1090 });
  withDecoder.close();
  without.close();
});

test('LogAppendTime batches report their append time and answer timestamp lookups with the batch start', (t) => {
  const log = PartitionLog.open(tempDir(t), config());
  const LOG_APPEND_TIME = 0x08;
  const info = log.appendAsLeader(makeBatch(3, { baseTimestamp: 7000, timestampDeltas: [0, 0, 0], attributes: LOG_APPEND_TIME }), 0);
  assert.equal(info.logAppendTime, 7000);
  assert.deepEqual(log.offsetForTimestamp(6000), { offset: 0, timestamp: 7000 });
  log.close();
});

test('maybeRoll rolls the active segment by age (segmentMs)', (t) => {
  let clock = 1_000_000;
  const log = PartitionLog.open(tempDir(t), config({ segmentMs: 60_000 }), { now: () => clock });
  log.maybeRoll();
  assert.equal(log.segmentCount(), 1, 'an empty segment is never rolled');
  log.appendAsLeader(makeBatch(1, { baseTimestamp: clock }), 0);
  clock += 30_000;
  log.maybeRoll();
  log.appendAsLeader(makeBatch(1, { baseTimestamp: clock }), 0);
  assert.equal(log.segmentCount(), 1);
  clock += 31_000;
  log.maybeRoll();
  assert.deepEqual(log.segmentBaseOffsets(), [0, 2]);
  // Appends check it too: a batch timestamped more than segmentMs after the segment's first batch rolls.
  log.appendAsLeader(makeBatch(1, { baseTimestamp: clock }), 0);
  log.appendAsLeader(makeBatch(1, { baseTimestamp: clock + 60_001 }), 0);
  assert.deepEqual(log.segmentBaseOffsets(), [0, 2, 3]);
  log.close();
});

test('delete() removes the partition directory; delayed file deletion renames first', async (t) => {
  const dir = tempDir(t);
  const batchSize = makeBatch(1).length;
  const log = PartitionLog.open(dir, config({ segmentBytes: batchSize, fileDeleteDelayMs: 30 }));
  appendMany(log, 3, 1);
  log.setHighWatermark(3);
  log.deleteRecordsBefore(2);
  assert.ok(segmentFiles(dir, '.deleted').length >= 3, 'renamed to *.deleted first');
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.deepEqual(segmentFiles(dir, '.deleted'), []);
  log.delete();
  assert.equal(fs.existsSync(dir), false);
});

test('kill -9 while appending: every batch reported as written survives reopening', async (t) => {
  const dir = tempDir(t);
  const reported: Array<{ base: number; last: number; crc: number }> = [];
  for (let round = 0; round < 3; round++) {
    const lines = await runChildUntilKilled(dir, 150 + round * 100);
    for (const line of lines) {
      const [, base, last, crc] = line.split(' ').map(Number);
      reported.push({ base, last, crc });
    }
  }
  assert.ok(reported.length >= 450, `child reported only ${reported.length} appends`);
  const { logger } = captureLogger();
  const log = PartitionLog.open(dir, CHILD_CONFIG, { logger });
  const maxReported = Math.max(...reported.map((r) => r.last));
  assert.ok(log.logEndOffset >= maxReported + 1, `LEO ${log.logEndOffset} lost reported offset ${maxReported}`);
  assert.ok(log.highWatermark <= log.logEndOffset);
  assert.ok(log.segmentCount() > 3, 'the child rolled segments');
  // readAll checks that the batches are whole, CRC-valid and contiguous from offset 0 to the LEO.
  assert.equal(log.logStartOffset, 0);
  const byBase = new Map(readAll(log, 64 * 1024).map((b) => [b.baseOffset, b]));
  for (const r of reported) {
    const stored = byBase.get(r.base);
    assert.ok(stored, `batch at offset ${r.base} missing`);
    assert.equal(stored.lastOffset, r.last);
    assert.equal(stored.crc, r.crc);
  }
  // (Reported offsets may have gaps: a child can die after an append returned but before it printed the report.)
  log.close();
});

/** Starts the appending child on `dir`, kills it with SIGKILL after `appends` reports, returns the report lines. */
function runChildUntilKilled(dir: string, appends: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, [CHILD_DIR_ENV]: dir };
    delete env.NODE_TEST_CONTEXT; // the child is a plain script, not part of the test run
    const child = childProcess.spawn(process.execPath, [__filename], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (!killed && (stdout.match(/\n/g)?.length ?? 0) >= appends) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`child exited with ${code}/${signal}: ${stderr}`));
      // Only complete lines: a report cut by the kill was maybe not fully printed.
      resolve(stdout.split('\n').filter((line) => line.startsWith('APPENDED ') && line.split(' ').length === 4));
    });
  });
}
