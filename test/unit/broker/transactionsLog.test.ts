// The transactional side of a real PartitionLog in a temp dir: open transactions hold the last stable offset
// back, markers close them, abort markers enter the aborted-transactions index, and all of it is rebuilt the same
// after a clean reopen, a crash (no snapshot at the end), truncation, and on a follower replaying the leader's
// batches; a marker of an older epoch is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ABORTED_TXNS_CHECKPOINT_FILE, LogConfig, PartitionLog } from '../../../src/broker/state/partitionLog';
import { ErrorCode, KafkaError } from '../../../src/protocol/errorCode';
import { buildBatch } from '../../../src/protocol/records/recordBatch';
import { buildMarkerBatch, readMarker } from '../../../src/protocol/records/controlRecord';

const T0 = 1_700_000_000_000;

function config(): LogConfig {
  return { segmentBytes: 1024 * 1024, segmentMs: 7 * 24 * 3600 * 1000, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 4096 };
}

function tempDir(t: { after(fn: () => void): void }, name = 'topic-0'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'txn-log-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, name);
}

const open = (dir: string) => PartitionLog.open(dir, config(), { now: () => T0 });

function txnBatch(pid: number, epoch: number, seq: number, count = 1): Buffer {
  return buildBatch({ records: Array.from({ length: count }, () => ({ value: 'x' })), producerId: pid, producerEpoch: epoch, baseSequence: seq, transactional: true, baseTimestamp: T0 });
}
const plain = () => buildBatch({ records: [{ value: 'p' }], baseTimestamp: T0 });
const marker = (pid: number, epoch: number, commit: boolean) => buildMarkerBatch({ producerId: pid, producerEpoch: epoch, commit, coordinatorEpoch: 3 }, T0);

/** Appends as leader and moves the HW to the log end (a single replica). */
function append(log: PartitionLog, batch: Buffer): number {
  const info = log.appendAsLeader(batch, 0);
  log.setHighWatermark(log.logEndOffset);
  return info.baseOffset;
}

test('control record codec: commit and abort markers round-trip', () => {
  assert.deepEqual(readMarker(marker(7, 2, true)), { commit: true, coordinatorEpoch: 3 });
  assert.deepEqual(readMarker(marker(7, 2, false)), { commit: false, coordinatorEpoch: 3 });
  assert.equal(readMarker(plain()), null);
});

test('an open transaction holds the LSO at its first offset; commit and abort markers release it; aborts are indexed', (t) => {
  const dir = tempDir(t);
  const log = open(dir);
  append(log, plain()); // 0
  const a = append(log, txnBatch(1, 0, 0, 2)); // 1-2, producer 1 opens
  append(log, plain()); // 3
  const b = append(log, txnBatch(2, 0, 0)); // 4, producer 2 opens
  assert.equal(log.lastStableOffset, a);
  assert.equal(log.producerState.entry(1)!.currentTxnFirstOffset, a);
  const abortAt = append(log, marker(1, 0, false)); // 5: producer 1 aborts
  assert.equal(log.lastStableOffset, b);
  append(log, marker(2, 0, true)); // 6: producer 2 commits
  assert.equal(log.lastStableOffset, log.highWatermark);
  assert.deepEqual(
    log.abortedTransactions(0, log.logEndOffset).map((x) => [x.producerId, x.firstOffset, x.lastOffset]),
    [[1, a, abortAt]],
  );
  // Only transactions overlapping the fetched range are returned.
  assert.deepEqual(log.abortedTransactions(abortAt + 1, log.logEndOffset), []);
  // A second transaction of producer 1 opens at its next transactional batch.
  const c = append(log, txnBatch(1, 0, 2));
  assert.equal(log.lastStableOffset, c);
  log.close();

  // Clean reopen (snapshot at the end): the open transaction and the index are back.
  const reopened = open(dir);
  assert.equal(reopened.producerState.entry(1)!.currentTxnFirstOffset, c);
  assert.deepEqual(reopened.abortedTransactions(0, reopened.logEndOffset).map((x) => x.firstOffset), [a]);
  reopened.close();
});

test('a crash (no snapshot at the end) rebuilds open transactions and the aborted index from the log', (t) => {
  const dir = tempDir(t);
  const log = open(dir);
  const a = append(log, txnBatch(5, 0, 0));
  const abortAt = append(log, marker(5, 0, false));
  const b = append(log, txnBatch(5, 0, 1));
  // No close(): the state on disk is what an unclean shutdown leaves.
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.snapshot')) fs.rmSync(path.join(dir, f));
  const recovered = open(dir);
  assert.equal(recovered.producerState.entry(5)!.currentTxnFirstOffset, b);
  assert.deepEqual(recovered.abortedTransactions(0, recovered.logEndOffset).map((x) => [x.firstOffset, x.lastOffset]), [[a, abortAt]]);
  recovered.close();
  log.close();
});

test('truncation below a marker reopens its transaction and forgets its abort', (t) => {
  const dir = tempDir(t);
  const log = open(dir);
  const a = append(log, txnBatch(9, 0, 0));
  const abortAt = append(log, marker(9, 0, false));
  log.truncateTo(abortAt);
  assert.deepEqual(log.abortedTransactions(0, log.logEndOffset + 1), []);
  assert.equal(log.producerState.entry(9)!.currentTxnFirstOffset, a);
  log.close();
});

test('a follower replaying the leader batches (markers included) ends with the same transactional state', (t) => {
  const leader = open(tempDir(t, 'leader-0'));
  append(leader, txnBatch(3, 0, 0));
  append(leader, marker(3, 0, false));
  const open3 = append(leader, txnBatch(3, 0, 1));
  const follower = open(tempDir(t, 'follower-0'));
  follower.appendAsFollower(leader.read(0, 1 << 20, leader.logEndOffset));
  assert.equal(follower.producerState.entry(3)!.currentTxnFirstOffset, open3);
  assert.deepEqual(follower.abortedTransactions(0, follower.logEndOffset), leader.abortedTransactions(0, leader.logEndOffset));
  leader.close();
  follower.close();
});

test('a marker of an older epoch than the producer is refused (a fenced coordinator); a newer one moves the epoch', (t) => {
  const log = open(tempDir(t));
  append(log, txnBatch(4, 2, 0));
  assert.throws(() => log.appendAsLeader(marker(4, 1, true), 0), (err: KafkaError) => err.code === ErrorCode.INVALID_PRODUCER_EPOCH);
  // The coordinator aborting for a re-initialised producer writes the marker with epoch + 1.
  append(log, marker(4, 3, false));
  assert.equal(log.producerState.entry(4)!.epoch, 3);
  // The new instance starts its sequences at 0 under epoch 3; the old one (epoch 2) is fenced.
  append(log, txnBatch(4, 3, 0));
  assert.throws(() => log.appendAsLeader(txnBatch(4, 2, 1), 0), (err: KafkaError) => err.code === ErrorCode.INVALID_PRODUCER_EPOCH);
  log.close();
});

test('the aborted-transactions checkpoint written with the snapshot is used on reopen; a stale or torn one means a scan', (t) => {
  const dir = tempDir(t);
  const log = open(dir);
  const a = append(log, txnBatch(6, 0, 0));
  const abortAt = append(log, marker(6, 0, false));
  log.close();
  const file = path.join(dir, ABORTED_TXNS_CHECKPOINT_FILE);
  const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
  assert.deepEqual(lines, ['0', String(abortAt + 1), `6 ${a} ${abortAt} ${abortAt + 1}`, 'end 1']);

  // Proof that the checkpoint is read rather than the log: an entry only the file has comes back.
  fs.writeFileSync(file, ['0', lines[1], lines[2], `77 0 0 1`, 'end 2'].join('\n') + '\n');
  let reopened = open(dir);
  assert.deepEqual(reopened.abortedTransactions(0, reopened.logEndOffset).map((x) => x.producerId).sort(), [6, 77]);
  reopened.close();

  // At another offset than the snapshot the file is ignored and the log scanned: only the real abort.
  fs.writeFileSync(file, ['0', '1', lines[2], `77 0 0 1`, 'end 2'].join('\n') + '\n');
  reopened = open(dir);
  assert.deepEqual(reopened.abortedTransactions(0, reopened.logEndOffset).map((x) => x.producerId), [6]);
  reopened.close();

  // Torn: scanned too.
  fs.writeFileSync(file, '0\n' + lines[1] + '\n77 0');
  reopened = open(dir);
  assert.deepEqual(reopened.abortedTransactions(0, reopened.logEndOffset).map((x) => x.producerId), [6]);
  reopened.close();
});
