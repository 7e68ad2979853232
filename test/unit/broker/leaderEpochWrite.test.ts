// A new leader's epoch is kept in memory until its first batch: thousands of idle partitions changing leader at once
// write no files, and the entry is on disk before any batch of that epoch is (so a kill -9 after the append cannot
// leave data whose epoch the checkpoint does not know). That write has no fsync (the log's flush does it): a power loss
// that drops it is caught at the next open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PartitionLog } from '../../../src/broker/state/partitionLog';
import { buildBatch } from '../../../src/protocol/records/recordBatch';
import { tempDir } from '../../helpers/broker';

const config = { segmentBytes: 1 << 20, segmentMs: 7 * 24 * 3600_000, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 4096, fileDeleteDelayMs: 0 };
const checkpoint = (dir: string) => (existsSync(join(dir, 'leader-epoch-checkpoint')) ? readFileSync(join(dir, 'leader-epoch-checkpoint'), 'utf8').trim().split('\n').slice(2) : []);

test('a leader epoch assigned at the log end is written before the first batch of that epoch, not before', () => {
  const dir = tempDir('minikafka-epoch-');
  try {
    const log = PartitionLog.open(dir, config);
    log.leaderEpochs.assign(3, log.logEndOffset, false);
    assert.deepEqual(checkpoint(dir), [], 'nothing written for a new leader of an empty log');
    assert.equal(log.leaderEpochs.latestEpoch(), 3, 'but known in memory (OffsetForLeaderEpoch answers from it)');
    log.appendAsLeader(buildBatch({ records: [{ value: Buffer.from('a') }] }), 3);
    assert.deepEqual(checkpoint(dir), ['3 0'], 'on disk with the first batch of epoch 3');

    // Leader again with a new epoch, two more batches: written once, before the first of them.
    log.leaderEpochs.assign(5, log.logEndOffset, false);
    assert.deepEqual(checkpoint(dir), ['3 0']);
    log.appendAsLeader(buildBatch({ records: [{ value: Buffer.from('b') }] }), 5);
    log.appendAsLeader(buildBatch({ records: [{ value: Buffer.from('c') }] }), 5);
    assert.deepEqual(checkpoint(dir), ['3 0', '5 1']);

    // No close (as after kill -9): a reopened log knows both epochs.
    const reopened = PartitionLog.open(dir, config);
    assert.deepEqual(reopened.leaderEpochs.entries(), [{ epoch: 3, startOffset: 0 }, { epoch: 5, startOffset: 1 }]);
    reopened.close();
    log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Counts fs.fsyncSync calls made while `run` runs (the broker calls it through the module object, patched here). */
function countFsyncs(run: () => void): number {
  const original = fs.fsyncSync;
  let calls = 0;
  (fs as { fsyncSync: typeof fs.fsyncSync }).fsyncSync = (fd) => {
    calls++;
    original(fd);
  };
  try {
    run();
  } finally {
    (fs as { fsyncSync: typeof fs.fsyncSync }).fsyncSync = original;
  }
  return calls;
}

test('the first batch of a new epoch writes the checkpoint without an fsync; the log flush fsyncs it', () => {
  const dir = tempDir('minikafka-epoch-');
  try {
    let clock = 1_000_000;
    const log = PartitionLog.open(dir, config, { now: () => clock });
    log.appendAsLeader(buildBatch({ records: [{ value: Buffer.from('a') }] }), 1);
    log.flush();
    log.leaderEpochs.assign(2, log.logEndOffset, false);
    // Long enough after open that the HW write below is due too (HW_CHECKPOINT_INTERVAL_MS is 5 s).
    clock += 6000;
    const fsyncsOnAppend = countFsyncs(() => {
      log.appendAsLeader(buildBatch({ records: [{ value: Buffer.from('b') }] }), 2);
      log.setHighWatermark(log.logEndOffset);
    });
    assert.equal(fsyncsOnAppend, 0, 'no fsync on the path of the first write of the new epoch');
    assert.deepEqual(checkpoint(dir), ['1 0', '2 1'], 'but the file is written (a kill -9 keeps it)');
    const fsyncsOnFlush = countFsyncs(() => log.flush());
    assert.ok(fsyncsOnFlush >= 2, `flush fsyncs the segment and the epoch file (saw ${fsyncsOnFlush})`);
    assert.equal(countFsyncs(() => log.flush()), 0, 'a second flush has nothing left to fsync');
    log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a checkpoint that lost its newest epoch (power loss) is rebuilt from batch headers at the next open', () => {
  const dir = tempDir('minikafka-epoch-');
  try {
    const log = PartitionLog.open(dir, config);
    log.appendAsLeader(buildBatch({ records: [{ value: Buffer.from('a') }] }), 1);
    log.appendAsLeader(buildBatch({ records: [{ value: Buffer.from('b') }] }), 4);
    log.appendAsLeader(buildBatch({ records: [{ value: Buffer.from('c') }] }), 4);
    // The file as an earlier fsync left it; the batches of epoch 4 reached the disk. No close: an unclean shutdown.
    writeFileSync(join(dir, 'leader-epoch-checkpoint'), '0\n1\n1 0\n');
    const warnings: string[] = [];
    const reopened = PartitionLog.open(dir, config, { logger: { info: () => {}, warn: (m: string) => warnings.push(m) } });
    assert.deepEqual(reopened.leaderEpochs.entries(), [{ epoch: 1, startOffset: 0 }, { epoch: 4, startOffset: 1 }]);
    assert.equal(reopened.leaderEpochs.endOffsetFor(1).endOffset, 1, 'OffsetForLeaderEpoch(1) ends where epoch 4 starts');
    assert.ok(warnings.some((w) => w.includes('newer than leader-epoch-checkpoint')), warnings.join('\n'));
    reopened.close();
    log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
