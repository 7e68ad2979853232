// Log compaction below the wire: the offset map and batch rules (cleaner.ts), the segment rewrite and swap of
// PartitionLog.clean(), and a real SIGKILL of a process at each step of the swap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BatchCleaner, OffsetMap } from '../../../src/broker/state/cleaner';
import { batchInfoAt } from '../../../src/broker/state/batchScan';
import { CleanConfig, LogConfig, PartitionLog } from '../../../src/broker/state/partitionLog';
import { CompressionType } from '../../../src/protocol/records/batchHeader';
import { buildMarkerBatch } from '../../../src/protocol/records/controlRecord';
import { buildBatch, decodeBatch, splitBatches } from '../../../src/protocol/records/recordBatch';
import { ATTR_DELETE_HORIZON, deleteHorizonOf } from '../../../src/protocol/records/recordFilter';

const logConfig: LogConfig = { segmentBytes: 400, segmentMs: 7 * 86400000, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 100 };
const cleanConfig: CleanConfig = { deleteRetentionMs: 1000, minCompactionLagMs: 0, maxMapEntries: 1000 };

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'minikafka-compaction-'));
}

function batchAt(baseOffset: number, records: Array<{ key: string | null; value: string | null; timestamp?: number }>, extra: Partial<Parameters<typeof buildBatch>[0]> = {}): Buffer {
  return buildBatch({ baseOffset, records: records.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp ?? 1_000_000 })), ...extra });
}

/** Every record of the log from its start: offset, key, value (null for tombstones). */
function readAll(log: PartitionLog): Array<{ offset: number; key: string | null; value: string | null; timestamp: number }> {
  const out: Array<{ offset: number; key: string | null; value: string | null; timestamp: number }> = [];
  const data = log.read(log.logStartOffset, 1 << 30, log.logEndOffset);
  for (const batch of data.length ? splitBatches(data) : []) {
    for (const r of decodeBatch(batch).records) out.push({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null, timestamp: r.timestamp });
  }
  return out;
}

function latestByKey(records: Array<{ offset: number; key: string | null; value: string | null }>): Map<string, { offset: number; value: string | null }> {
  const out = new Map<string, { offset: number; value: string | null }>();
  for (const r of records) if (r.key !== null) out.set(r.key, { offset: r.offset, value: r.value });
  return out;
}

test('OffsetMap keeps the last offset of each key', () => {
  const map = new OffsetMap();
  const batch = batchAt(10, [{ key: 'a', value: '1' }, { key: 'b', value: '1' }, { key: 'a', value: '2' }]);
  map.addBatch(batch, batchInfoAt(batch, 0, 0));
  assert.equal(map.get(Buffer.from('a')), 12);
  assert.equal(map.get(Buffer.from('b')), 11);
  assert.equal(map.get(Buffer.from('c')), undefined);
  assert.equal(map.endOffset, 13);
});

test('BatchCleaner: latest per key with offsets kept, tombstones stamped then removed, record timestamps unchanged', () => {
  const map = new OffsetMap();
  const b1 = batchAt(0, [{ key: 'a', value: '1', timestamp: 5000 }, { key: 'b', value: '1', timestamp: 5001 }, { key: 'c', value: '1', timestamp: 5002 }], { compression: CompressionType.Gzip });
  const b2 = batchAt(3, [{ key: 'a', value: '2', timestamp: 6000 }, { key: 'b', value: null, timestamp: 6001 }]);
  for (const b of [b1, b2]) map.addBatch(b, batchInfoAt(b, 0, 0));
  const first = new BatchCleaner({ map, nowMs: 100_000, deleteRetentionMs: 1000, isAborted: () => false, producerLastBatchOffsets: new Set() });
  const out1 = first.clean(b1, batchInfoAt(b1, 0, 0))!;
  const kept1 = decodeBatch(out1);
  assert.deepEqual(kept1.records.map((r) => [r.offset, r.key!.toString(), r.value!.toString(), r.timestamp]), [[2, 'c', '1', 5002]]);
  assert.equal(kept1.header.lastOffsetDelta, 2, 'the batch keeps its last offset');
  const out2 = first.clean(b2, batchInfoAt(b2, 0, 0))!;
  const kept2 = decodeBatch(out2);
  assert.deepEqual(kept2.records.map((r) => [r.offset, r.key!.toString(), r.value?.toString() ?? null, r.timestamp]), [[3, 'a', '2', 6000], [4, 'b', null, 6001]]);
  assert.ok(kept2.header.attributes & ATTR_DELETE_HORIZON, 'a batch keeping a tombstone gets a delete horizon');
  assert.equal(deleteHorizonOf(out2), 101_000);
  assert.equal(first.latestDeleteHorizon, 101_000);

  // Before the horizon the tombstone stays; after it, it goes.
  const again = new BatchCleaner({ map: new OffsetMap(), nowMs: 100_500, deleteRetentionMs: 1000, isAborted: () => false, producerLastBatchOffsets: new Set() });
  assert.equal(decodeBatch(again.clean(out2, batchInfoAt(out2, 0, 0))!).records.length, 2);
  const later = new BatchCleaner({ map: new OffsetMap(), nowMs: 101_000, deleteRetentionMs: 1000, isAborted: () => false, producerLastBatchOffsets: new Set() });
  const out3 = decodeBatch(later.clean(out2, batchInfoAt(out2, 0, 0))!);
  assert.deepEqual(out3.records.map((r) => [r.offset, r.key!.toString(), r.timestamp]), [[3, 'a', 6000]]);
});

test('BatchCleaner: aborted data goes, a producer\'s last batch stays empty, markers go once empty and past their horizon', () => {
  const pid = 7;
  const txData = batchAt(0, [{ key: 'x', value: 'aborted' }], { producerId: pid, producerEpoch: 1, baseSequence: 0, transactional: true });
  const abort = buildMarkerBatch({ producerId: pid, producerEpoch: 1, commit: false, coordinatorEpoch: 0 });
  abort.writeBigInt64BE(1n, 0);
  const idem = batchAt(2, [{ key: 'y', value: 'old' }], { producerId: 9, producerEpoch: 0, baseSequence: 4 });
  const idem2 = batchAt(3, [{ key: 'y', value: 'new' }]);
  const map = new OffsetMap();
  map.addBatch(idem, batchInfoAt(idem, 0, 0));
  map.addBatch(idem2, batchInfoAt(idem2, 0, 0));
  const opts = { map, deleteRetentionMs: 1000, isAborted: (b: { producerId: number }) => b.producerId === pid, producerLastBatchOffsets: new Set([2]) };
  const c = new BatchCleaner({ ...opts, nowMs: 50_000 });
  assert.equal(c.clean(txData, batchInfoAt(txData, 0, 0)), null, 'aborted data is removed');
  const marker1 = c.clean(abort, batchInfoAt(abort, 0, 0))!;
  assert.equal(deleteHorizonOf(marker1), 51_000, 'an abort marker with no data left is kept until its horizon');
  const emptied = c.clean(idem, batchInfoAt(idem, 0, 0))!;
  const decoded = decodeBatch(emptied);
  assert.equal(decoded.records.length, 0, "the producer's last batch is kept empty");
  assert.deepEqual([decoded.header.producerId, decoded.header.producerEpoch, decoded.header.baseSequence, decoded.header.baseOffset], [9, 0, 4, 2]);
  const c2 = new BatchCleaner({ ...opts, nowMs: 51_000 });
  assert.equal(c2.clean(marker1, batchInfoAt(marker1, 0, 0)), null, 'the marker goes after its horizon');
});

function fillLog(log: PartitionLog, keys: number, rounds: number): void {
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < keys; k++) {
      const value = round === rounds - 1 && k === 0 ? null : `v${round}`;
      log.appendAsLeader(batchAt(0, [{ key: `k${k}`, value }]), 0);
    }
  }
  log.setHighWatermark(log.logEndOffset);
}

test('PartitionLog.clean keeps the latest record per key in closed segments, with gaps in offsets, and survives a reopen', async () => {
  const dir = tempDir();
  try {
    let now = 1_000_000;
    let log = PartitionLog.open(dir, logConfig, { now: () => now });
    fillLog(log, 5, 6);
    const before = readAll(log);
    const segmentsBefore = log.segmentCount();
    assert.ok(segmentsBefore > 3, `several segments (${segmentsBefore})`);
    const result = await log.clean(0, cleanConfig);
    assert.ok(result.segmentsCleaned > 0);
    const after = readAll(log);
    assert.deepEqual(latestByKey(after), latestByKey(before), 'the latest value (and offset) of every key is kept');
    assert.ok(after.length < before.length, `${after.length} < ${before.length} records`);
    // Offsets are never renumbered: every kept record is the same (offset, key, value) as before.
    const original = new Map(before.map((r) => [r.offset, r]));
    for (const r of after) assert.deepEqual(r, original.get(r.offset));
    const leo = log.logEndOffset;
    // A read from an offset in a gap returns the next batch.
    const gap = before.find((r) => !after.some((a) => a.offset === r.offset))!.offset;
    const fromGap = splitBatches(log.read(gap, 1 << 20, leo));
    assert.ok(fromGap.length > 0 && decodeBatch(fromGap[0]).header.baseOffset > gap);

    // A later cleaning past the horizon removes the tombstone (k0 in the last round).
    assert.ok(after.some((r) => r.key === 'k0' && r.value === null), 'the tombstone is kept at first');
    log.close();
    log = PartitionLog.open(dir, logConfig, { now: () => now });
    assert.deepEqual(readAll(log), after, 'the cleaned log reads the same after a reopen');
    assert.equal(log.logEndOffset, leo);
    log.appendAsLeader(batchAt(0, [{ key: 'k1', value: 'final' }]), 0);
    log.appendAsLeader(batchAt(0, [{ key: 'pad', value: 'x'.repeat(400) }]), 0);
    log.setHighWatermark(log.logEndOffset);
    const second = await log.clean(result.cleanedUpTo, cleanConfig);
    assert.ok(readAll(log).some((r) => r.key === 'k0' && r.value === null), 'the tombstone stays until its horizon');
    assert.equal(log.latestDeleteHorizon, now + cleanConfig.deleteRetentionMs, 'the cleaning stamped a delete horizon');
    now += cleanConfig.deleteRetentionMs;
    // Nothing new is dirty: the passed horizon alone makes the clean section be cleaned again.
    await log.clean(second.cleanedUpTo, cleanConfig);
    const final = readAll(log);
    assert.ok(!final.some((r) => r.key === 'k0'), 'the tombstone is gone after delete.retention.ms');
    assert.equal(final.filter((r) => r.key === 'k1').length, 1);
    log.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('PartitionLog.clean never cleans the active segment nor above the high watermark', async () => {
  const dir = tempDir();
  try {
    const log = PartitionLog.open(dir, logConfig, { now: () => 1_000_000 });
    fillLog(log, 5, 6);
    log.setHighWatermark(0);
    const section = log.cleanableSection(0, 0);
    assert.equal(section.dirtyBytes, 0, 'nothing below the HW (0) is cleanable');
    assert.equal((await log.clean(0, cleanConfig)).segmentsCleaned, 0);
    log.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// A child process fills a log, then cleans it with a hook that SIGKILLs the process at one step of the swap.
const CHILD = `
const { PartitionLog } = require(${JSON.stringify(path.resolve(__dirname, '../../../src/broker/state/partitionLog.js'))});
const { buildBatch } = require(${JSON.stringify(path.resolve(__dirname, '../../../src/protocol/records/recordBatch.js'))});
const [dir, step] = process.argv.slice(1);
const config = ${JSON.stringify(logConfig)};
const log = PartitionLog.open(dir, config, { onCleanerStep: (s) => { if (s === step) process.kill(process.pid, 'SIGKILL'); } });
for (let round = 0; round < 6; round++) for (let k = 0; k < 5; k++) log.appendAsLeader(buildBatch({ records: [{ key: 'k' + k, value: 'v' + round, timestamp: 1000000 }] }), 0);
log.setHighWatermark(log.logEndOffset);
log.flush();
process.stdout.write('filled\\n');
log.clean(0, ${JSON.stringify(cleanConfig)}).then(() => process.stdout.write('cleaned\\n'));
`;

for (const step of ['cleaned-written', 'swap-renamed', 'old-deleted']) {
  test(`a process killed (SIGKILL) at ${step} of a compaction loses nothing: the log opens consistent`, async () => {
    const dir = tempDir();
    try {
      const child = childProcess.spawnSync(process.execPath, ['-e', CHILD, dir, step], { encoding: 'utf8' });
      assert.equal(child.signal, 'SIGKILL', `the child was killed (stdout ${child.stdout}, stderr ${child.stderr})`);
      assert.match(child.stdout, /filled/);
      assert.doesNotMatch(child.stdout, /cleaned/);
      const leftovers = fs.readdirSync(dir).filter((n) => /\.(cleaned|swap|swap-end)$/.test(n));
      assert.ok(leftovers.length > 0, 'the kill left swap files behind');
      const log = PartitionLog.open(dir, logConfig, { now: () => 1_000_000 });
      const records = readAll(log);
      const latest = latestByKey(records);
      for (let k = 0; k < 5; k++) assert.equal(latest.get(`k${k}`)?.value, 'v5', `k${k} still has its latest value`);
      assert.equal(log.logEndOffset, 30);
      for (let i = 1; i < records.length; i++) assert.ok(records[i].offset > records[i - 1].offset, 'offsets grow');
      assert.deepEqual(fs.readdirSync(dir).filter((n) => /\.(cleaned|swap|swap-end)$/.test(n)), [], 'no swap files left after open');
      // The log is still cleanable and appendable after recovery.
      await log.clean(0, cleanConfig);
      assert.equal(latestByKey(readAll(log)).get('k3')?.value, 'v5');
      log.appendAsLeader(batchAt(0, [{ key: 'k9', value: 'after' }]), 0);
      log.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('the batch ending at the high watermark is kept (empty) so that a follower fetching there reaches the log end', async () => {
  const dir = tempDir();
  try {
    let now = 1_000_000;
    const log = PartitionLog.open(dir, { ...logConfig, segmentMs: 1 }, { now: () => now });
    log.appendAsLeader(batchAt(0, [{ key: 'a', value: '1' }]), 0);
    log.appendAsLeader(batchAt(0, [{ key: 'a', value: null }]), 0);
    now += 10;
    log.maybeRoll(); // the active segment is now empty: the tombstone's batch ends at the log end
    log.setHighWatermark(log.logEndOffset);
    const first = await log.clean(0, cleanConfig);
    now += cleanConfig.deleteRetentionMs;
    await log.clean(first.cleanedUpTo, cleanConfig);
    assert.deepEqual(readAll(log), [], 'the record and, past its horizon, the tombstone are gone');
    const fromEnd = splitBatches(log.read(1, 1 << 20, log.logEndOffset));
    assert.equal(fromEnd.length, 1, 'a fetch from offset 1 still gets a batch');
    const header = decodeBatch(fromEnd[0]).header;
    assert.equal(header.baseOffset + header.lastOffsetDelta + 1, log.logEndOffset, 'its last offset is just below the log end');
    assert.equal(header.recordsCount, 0);
    log.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a truncation below the cleaner checkpoint makes the rewritten offsets dirty again', async () => {
  const dir = tempDir();
  try {
    const log = PartitionLog.open(dir, logConfig, { now: () => 1_000_000 });
    fillLog(log, 5, 6);
    const first = await log.clean(0, cleanConfig);
    assert.ok(first.cleanedUpTo > 10);
    // A follower's truncation below the checkpoint, then other data at those offsets.
    const cut = first.cleanedUpTo - 5;
    log.truncateTo(cut);
    for (let i = 0; i < 40; i++) log.appendAsLeader(batchAt(0, [{ key: `k${i % 5}`, value: `again${i}` }]), 0);
    log.setHighWatermark(log.logEndOffset);
    const section = log.cleanableSection(first.cleanedUpTo, 0);
    assert.equal(section.firstDirtyOffset <= cut, true, `dirty from ${section.firstDirtyOffset}, at or below the truncation point ${cut}`);
    await log.clean(first.cleanedUpTo, cleanConfig);
    // Below the end of the dirty section, each key is left once (without the truncation cap, the records written
    // again between the truncation point and the old checkpoint counted as clean, and older copies stayed).
    const cleanedPart = readAll(log).filter((r) => r.offset < section.firstUncleanableOffset);
    assert.equal(cleanedPart.length, new Set(cleanedPart.map((r) => r.key)).size, JSON.stringify(cleanedPart));
    log.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a cleaning yields between groups, and stops without claiming progress when segments change meanwhile', async () => {
  const dir = tempDir();
  try {
    const log = PartitionLog.open(dir, logConfig, { now: () => 1_000_000 });
    fillLog(log, 5, 6);
    const before = latestByKey(readAll(log));
    let yields = 0;
    const result = await log.clean(0, cleanConfig, async () => {
      yields++;
      // Retention (here DeleteRecords) removes the first segment while the cleaner waits.
      if (yields === 2) log.deleteRecordsBefore(log.segmentBaseOffsets()[1]);
    });
    assert.ok(yields >= 2, `the cleaner yielded ${yields} times`);
    assert.equal(result.cleanedUpTo, 0, 'no progress is claimed');
    const after = readAll(log);
    for (const [key, r] of latestByKey(after)) assert.deepEqual(r, before.get(key), `${key} keeps its latest value`);
    assert.equal((await log.clean(0, cleanConfig)).segmentsCleaned > 0, true, 'the next pass cleans');
    log.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a new follower copies a compacted leader from offset 0: gaps accepted, the same records at the same offsets', async () => {
  const leaderDir = tempDir();
  const followerDir = tempDir();
  try {
    const leader = PartitionLog.open(leaderDir, logConfig, { now: () => 1_000_000 });
    fillLog(leader, 5, 6);
    await leader.clean(0, cleanConfig);
    const follower = PartitionLog.open(followerDir, logConfig, { now: () => 1_000_000 });
    while (follower.logEndOffset < leader.logEndOffset) {
      const data = leader.read(follower.logEndOffset, 300, leader.logEndOffset);
      assert.ok(data.length > 0, `the leader returns data from ${follower.logEndOffset}`);
      follower.appendAsFollower(data);
    }
    follower.setHighWatermark(follower.logEndOffset);
    assert.equal(follower.logEndOffset, leader.logEndOffset);
    assert.deepEqual(readAll(follower), readAll(leader));
    // It compacts its own copy on its own segment boundaries: maybe more than the leader did (a superseded record
    // the leader still has in its active segment), but the same latest value per key, every record one of the leader's.
    await follower.clean(0, cleanConfig);
    const leaderRecords = readAll(leader);
    assert.deepEqual(latestByKey(readAll(follower)), latestByKey(leaderRecords));
    for (const r of readAll(follower)) assert.ok(leaderRecords.some((l) => JSON.stringify(l) === JSON.stringify(r)), `${JSON.stringify(r)} is one of the leader's records`);
    leader.close();
    follower.close();
  } finally {
    fs.rmSync(leaderDir, { recursive: true, force: true });
    fs.rmSync(followerDir, { recursive: true, force: true });
  }
});
