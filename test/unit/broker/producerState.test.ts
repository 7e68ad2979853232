// The idempotent producers' state of a real PartitionLog in a temp dir (Kafka's ProducerStateManager rules):
// duplicates, sequence and epoch checks, follower appends, truncation, snapshots and reloading, crash recovery,
// expiry and retention.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogConfig, PartitionLog, PartitionLogOptions } from '../../../src/broker/state/partitionLog';
import { BATCHES_RETAINED, lastSequenceOf, ProducerEntry } from '../../../src/broker/state/producerState';
import { snapshotFileName } from '../../../src/broker/state/producerSnapshot';
import { ErrorCode, KafkaError } from '../../../src/protocol/errorCode';
import { buildBatch } from '../../../src/protocol/records/recordBatch';

const T0 = 1_700_000_000_000;

function config(overrides: Partial<LogConfig> = {}): LogConfig {
  return { segmentBytes: 1024 * 1024, segmentMs: 7 * 24 * 3600 * 1000, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 4096, ...overrides };
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'producer-state-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'topic-0');
}

interface Opened {
  log: PartitionLog;
  info: string[];
  warn: string[];
}

function open(dir: string, cfg = config(), opts: PartitionLogOptions = {}): Opened {
  const info: string[] = [];
  const warn: string[] = [];
  const log = PartitionLog.open(dir, cfg, { logger: { info: (m) => info.push(m), warn: (m) => warn.push(m) }, now: () => T0, ...opts });
  return { log, info, warn };
}

/** A batch of `count` records from producer `pid` (epoch, first sequence), with MaxTimestamp `ts`. */
function idem(pid: number, epoch: number, seq: number, count = 1, ts = T0, valueSize = 10): Buffer {
  return buildBatch({
    records: Array.from({ length: count }, (_, i) => ({ value: Buffer.alloc(valueSize, 0x61 + (i % 26)) })),
    producerId: pid,
    producerEpoch: epoch,
    baseSequence: seq,
    baseTimestamp: ts,
  });
}

function plain(count = 1): Buffer {
  return buildBatch({ records: Array.from({ length: count }, () => ({ value: 'p' })), baseTimestamp: T0 });
}

function expectKafkaError(fn: () => unknown, code: number): void {
  assert.throws(fn, (err: unknown) => err instanceof KafkaError && err.code === code);
}

function snapshotFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.snapshot'))
    .sort();
}

function stateOf(log: PartitionLog): ProducerEntry[] {
  return [...log.producerState.entries()].map((e) => structuredClone(e) as ProducerEntry).sort((a, b) => a.producerId - b.producerId);
}

test('a retry of any of the last 5 batches gets its original offsets; the 6th-oldest is out of order', (t) => {
  const { log } = open(tempDir(t));
  log.appendAsLeader(plain(3), 0); // offsets 0-2: not every batch is idempotent
  const originals: Array<{ seq: number; count: number; base: number; last: number }> = [];
  let seq = 0;
  for (let i = 0; i < 6; i++) {
    const count = 1 + (i % 3);
    const info = log.appendAsLeader(idem(7, 0, seq, count), 0);
    assert.equal(info.duplicate, undefined);
    originals.push({ seq, count, base: info.baseOffset, last: info.lastOffset });
    seq += count;
  }
  const leo = log.logEndOffset;
  for (const o of originals.slice(-BATCHES_RETAINED)) {
    const retry = log.appendAsLeader(idem(7, 0, o.seq, o.count), 0);
    assert.equal(retry.duplicate, true);
    assert.equal(retry.baseOffset, o.base);
    assert.equal(retry.lastOffset, o.last);
  }
  assert.equal(log.logEndOffset, leo, 'duplicates are not written');
  const oldest = originals[0];
  expectKafkaError(() => log.appendAsLeader(idem(7, 0, oldest.seq, oldest.count), 0), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  // Same first sequence with another length is no duplicate either.
  const last = originals[originals.length - 1];
  expectKafkaError(() => log.appendAsLeader(idem(7, 0, last.seq, last.count + 1), 0), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(log.logEndOffset, leo);
});

test('sequences: gaps are out of order, an unknown producer may start anywhere, sequences wrap at Int32.MAX', (t) => {
  const { log } = open(tempDir(t));
  // Unknown producer (new, expired or deleted by retention): any sequence, as Kafka 3.x.
  assert.equal(log.appendAsLeader(idem(1, 0, 42, 2), 0).baseOffset, 0);
  expectKafkaError(() => log.appendAsLeader(idem(1, 0, 45), 0), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  expectKafkaError(() => log.appendAsLeader(idem(1, 0, 43), 0), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(log.appendAsLeader(idem(1, 0, 44), 0).baseOffset, 2);
  // Other producers do not interfere.
  assert.equal(log.appendAsLeader(idem(2, 0, 0), 0).baseOffset, 3);

  assert.equal(lastSequenceOf(2147483646, 2), 0);
  assert.equal(lastSequenceOf(2147483647, 0), 2147483647);
  assert.equal(log.appendAsLeader(idem(3, 0, 2147483645, 2), 0).baseOffset, 4); // 2147483645..2147483646
  assert.equal(log.appendAsLeader(idem(3, 0, 2147483647, 3), 0).baseOffset, 6); // 2147483647, 0, 1
  assert.equal(log.appendAsLeader(idem(3, 0, 2147483647, 3), 0).duplicate, true);
  assert.equal(log.appendAsLeader(idem(3, 0, 2), 0).baseOffset, 9);
});

test('epochs: an older epoch is INVALID_PRODUCER_EPOCH, a newer one must start at sequence 0', (t) => {
  const { log } = open(tempDir(t));
  log.appendAsLeader(idem(5, 3, 0, 2), 0);
  expectKafkaError(() => log.appendAsLeader(idem(5, 2, 2), 0), ErrorCode.INVALID_PRODUCER_EPOCH);
  expectKafkaError(() => log.appendAsLeader(idem(5, 4, 2), 0), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(log.appendAsLeader(idem(5, 4, 0), 0).baseOffset, 2);
  // The old epoch's batches are gone: a retry of one is fenced, not a duplicate.
  expectKafkaError(() => log.appendAsLeader(idem(5, 3, 0, 2), 0), ErrorCode.INVALID_PRODUCER_EPOCH);
  assert.deepEqual(
    log.producerState.entry(5)?.batches.map((b) => [b.firstSeq, b.lastSeq, b.firstOffset]),
    [[0, 0, 2]],
  );
});

test('a follower builds the producer state from replicated batches, and recognises retries once it leads', (t) => {
  const leader = open(tempDir(t)).log;
  const follower = open(tempDir(t)).log;
  leader.appendAsLeader(idem(9, 1, 0, 3), 0);
  leader.appendAsLeader(plain(2), 0);
  leader.appendAsLeader(idem(9, 1, 3, 2), 0);
  leader.appendAsLeader(idem(10, 0, 0), 0);
  follower.appendAsFollower(leader.read(0, 1 << 20, leader.logEndOffset));
  assert.deepEqual(stateOf(follower), stateOf(leader));

  // The follower is elected: a retry of a replicated batch is a duplicate with the original offsets.
  const retry = follower.appendAsLeader(idem(9, 1, 3, 2), 1);
  assert.deepEqual([retry.duplicate, retry.baseOffset, retry.lastOffset], [true, 5, 6]);
  expectKafkaError(() => follower.appendAsLeader(idem(9, 1, 6), 1), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(follower.appendAsLeader(idem(9, 1, 5), 1).baseOffset, 8);
});

test('truncation rebuilds the producer state to match the truncated log (with and without a snapshot below)', (t) => {
  const dir = tempDir(t);
  const { log } = open(dir, config({ segmentBytes: 400 }));
  const offsets: number[] = [];
  for (let seq = 0; seq < 12; seq++) offsets.push(log.appendAsLeader(idem(4, 0, seq, 1, T0, 100), 0).baseOffset);
  assert.ok(log.segmentCount() > 3, `${log.segmentCount()} segments`);
  const snapshots = log.producerState.snapshotOffsets();
  assert.deepEqual(snapshots, log.segmentBaseOffsets().slice(-2), 'snapshots at the bases of the last 2 segments are kept');
  assert.deepEqual(snapshotFiles(dir), snapshots.map(snapshotFileName));

  // Into the active segment: replay from the snapshot at its base.
  log.truncateTo(offsets[10]);
  assert.equal(log.producerState.entry(4)?.batches.at(-1)?.lastSeq, 9);
  assert.equal(log.appendAsLeader(idem(4, 0, 10, 1, T0, 100), 0).baseOffset, offsets[10], 'sequence 10 is new again, not a duplicate');
  // Below every snapshot: snapshots beyond the end are deleted and the state comes from the whole log.
  log.truncateTo(offsets[2]);
  assert.deepEqual(snapshotFiles(dir), []);
  assert.deepEqual(
    log.producerState.entry(4)?.batches.map((b) => b.firstSeq),
    [0, 1],
  );
  expectKafkaError(() => log.appendAsLeader(idem(4, 0, 3), 0), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  assert.equal(log.appendAsLeader(idem(4, 0, 0), 0).duplicate, true);
  assert.equal(log.appendAsLeader(idem(4, 0, 2), 0).baseOffset, 2);

  log.truncateFullyAndStartAt(50);
  assert.equal(log.producerState.producerCount, 0);
  assert.equal(log.appendAsLeader(idem(4, 0, 17), 0).baseOffset, 50, 'the producer is unknown again');
});

test('a former leader that truncates drops its stale state (the producer continues on the new leader)', (t) => {
  const oldLeader = open(tempDir(t)).log;
  const newLeader = open(tempDir(t)).log;
  oldLeader.appendAsLeader(idem(3, 0, 0, 2), 0);
  newLeader.appendAsFollower(oldLeader.read(0, 1 << 20, oldLeader.logEndOffset));
  // Written on the old leader only (never replicated, never acknowledged), then leadership moves.
  oldLeader.appendAsLeader(idem(3, 0, 2, 2), 0);
  // The producer retries sequences 2-3 on the new leader, then goes on with 4.
  newLeader.appendAsLeader(plain(1), 1);
  assert.equal(newLeader.appendAsLeader(idem(3, 0, 2, 2), 1).baseOffset, 3);
  newLeader.appendAsLeader(idem(3, 0, 4), 1);
  // The old leader follows: it truncates to the divergence point and fetches.
  oldLeader.truncateTo(2);
  oldLeader.appendAsFollower(newLeader.read(2, 1 << 20, newLeader.logEndOffset));
  assert.deepEqual(stateOf(oldLeader), stateOf(newLeader));
  // Leading again it accepts the producer's next sequence.
  assert.equal(oldLeader.appendAsLeader(idem(3, 0, 5), 2).baseOffset, 6);
});

test('snapshots at segment roll and clean close; reopening loads the latest and replays nothing', (t) => {
  const dir = tempDir(t);
  const first = open(dir, config({ segmentBytes: 500 }));
  let seq = 0;
  for (let i = 0; i < 5; i++, seq += 2) first.log.appendAsLeader(idem(11, 2, seq, 2, T0 + i, 100), 0);
  first.log.appendAsLeader(idem(12, 0, 0), 0);
  assert.ok(first.log.segmentCount() >= 2);
  const activeBase = first.log.segmentBaseOffsets().at(-1)!;
  assert.ok(snapshotFiles(dir).includes(snapshotFileName(activeBase)), `a snapshot at the roll, ${snapshotFiles(dir)}`);
  const before = stateOf(first.log);
  const leo = first.log.logEndOffset;
  first.log.close();
  assert.ok(snapshotFiles(dir).includes(snapshotFileName(leo)), 'a snapshot at the log end on close');
  assert.deepEqual(snapshotFiles(dir), [...first.log.segmentBaseOffsets().slice(-2), leo].map(snapshotFileName));

  const second = open(dir, config({ segmentBytes: 500 }));
  assert.deepEqual(stateOf(second.log), before);
  assert.deepEqual(second.info.filter((m) => m.includes('producer state rebuilt')), [], 'nothing replayed');
  const retry = second.log.appendAsLeader(idem(11, 2, 8, 2), 0);
  assert.equal(retry.duplicate, true, 'all 5 retained batches survive the snapshot');
  assert.equal(second.log.appendAsLeader(idem(11, 2, 0, 2), 0).duplicate, true);
  second.log.close();

  // Restarts inside one segment keep the segment-base snapshots and only the latest 2 above them.
  for (let i = 0; i < 3; i++) {
    const again = open(dir, config({ segmentBytes: 500 }));
    again.log.appendAsLeader(idem(12, 0, 1 + i), 0);
    again.log.close();
  }
  const last = open(dir, config({ segmentBytes: 500 }));
  const bases = last.log.segmentBaseOffsets().slice(-2);
  const above = last.log.producerState.snapshotOffsets().filter((o) => o > bases[bases.length - 1]);
  assert.deepEqual(last.log.producerState.snapshotOffsets(), [...bases, ...above]);
  assert.deepEqual(above, [last.log.logEndOffset - 1, last.log.logEndOffset]);
  last.log.close();
});

test('after a crash (no clean close, torn tail) the state is rebuilt from the log; a corrupt snapshot is ignored', (t) => {
  const dir = tempDir(t);
  const first = open(dir, config({ segmentBytes: 600 }));
  for (let seq = 0; seq < 8; seq++) first.log.appendAsLeader(idem(21, 0, seq, 1, T0, 100), 0);
  first.log.appendAsLeader(idem(22, 1, 0, 3), 0);
  const expected = stateOf(first.log);
  const leo = first.log.logEndOffset;
  // A batch that was half written when the process died.
  first.log.appendAsLeader(idem(21, 0, 8, 1, T0, 100), 0);
  const active = path.join(dir, String(first.log.segmentBaseOffsets().at(-1)).padStart(20, '0') + '.log');
  fs.truncateSync(active, fs.statSync(active).size - 30);
  // (no close: the process was killed)

  const second = open(dir, config({ segmentBytes: 600 }));
  assert.equal(second.log.logEndOffset, leo);
  assert.deepEqual(stateOf(second.log), expected);
  assert.equal(second.log.appendAsLeader(idem(21, 0, 8, 1, T0, 100), 0).baseOffset, leo, 'the lost batch is accepted again');
  second.log.close();

  // Without any snapshot the whole log is replayed; a corrupt snapshot is deleted and an older one (none) used.
  for (const f of snapshotFiles(dir)) fs.rmSync(path.join(dir, f));
  fs.writeFileSync(path.join(dir, snapshotFileName(leo + 1)), Buffer.from('garbage'));
  const third = open(dir, config({ segmentBytes: 600 }));
  assert.ok(third.warn.some((m) => m.includes('unusable')), third.warn.join('\n'));
  assert.ok(third.info.some((m) => m.includes('producer state rebuilt')), 'replayed from the log start');
  assert.equal(third.log.producerState.entry(21)?.batches.at(-1)?.lastSeq, 8);
  assert.equal(third.log.producerState.entry(22)?.epoch, 1);
  third.log.close();
});

test('producers idle for producer.id.expiration.ms are forgotten; retention moving the log start keeps them', (t) => {
  const dir = tempDir(t);
  let now = T0;
  const opts = { now: () => now, producerIdExpirationMs: 60_000 };
  const first = open(dir, config({ segmentBytes: 300 }), opts);
  first.log.appendAsLeader(idem(31, 0, 0, 1, T0 - 50_000, 100), 0);
  first.log.appendAsLeader(idem(32, 0, 0, 1, T0, 100), 0);
  first.log.appendAsLeader(idem(32, 0, 1, 1, T0, 100), 0);
  first.log.appendAsLeader(plain(), 0);
  first.log.setHighWatermark(first.log.logEndOffset);

  // Retention deletes the segments holding both producers' batches: they stay (Kafka 3.x).
  first.log.deleteRecordsBefore(3);
  assert.equal(first.log.producerState.producerCount, 2);
  assert.ok(first.log.producerState.snapshotOffsets().every((o) => o >= 3), `${first.log.producerState.snapshotOffsets()}`);
  assert.equal(first.log.appendAsLeader(idem(32, 0, 1, 1, T0, 100), 0).duplicate, true);

  now = T0 + 10_000;
  assert.equal(first.log.removeExpiredProducers(), 1, 'producer 31 (last batch 60 s old) expired');
  assert.equal(first.log.producerState.entry(31), undefined);
  assert.equal(first.log.appendAsLeader(idem(31, 0, 99, 1, T0 + 50_000), 0).duplicate, undefined, 'an expired producer may continue anywhere');
  first.log.close();

  // Expired producers (32: last batch at T0) are not loaded from a snapshot either.
  now = T0 + 61_000;
  const second = open(dir, config({ segmentBytes: 300 }), opts);
  assert.deepEqual(stateOf(second.log).map((e) => e.producerId), [31]);
  second.log.close();
});

test('truncating a log without producers replays nothing (Kafka skips it too) and drops snapshots beyond the end', (t) => {
  const dir = tempDir(t);
  const { log, info } = open(dir, config({ segmentBytes: 300 }));
  for (let i = 0; i < 12; i++) log.appendAsLeader(plain(3), 0);
  assert.ok(log.producerState.snapshotOffsets().length > 0);
  log.truncateTo(4);
  assert.deepEqual(info.filter((m) => m.includes('producer state rebuilt')), []);
  assert.ok(log.producerState.snapshotOffsets().every((o) => o <= log.logEndOffset), `${log.producerState.snapshotOffsets()}`);
  assert.equal(log.appendAsLeader(idem(1, 0, 5), 0).baseOffset, log.logEndOffset - 1);
  log.close();
  const reopened = open(dir, config({ segmentBytes: 300 }));
  assert.equal(reopened.log.producerState.entry(1)?.batches[0].firstSeq, 5);
  reopened.log.close();
});
