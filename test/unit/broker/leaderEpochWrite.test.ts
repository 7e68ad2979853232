// A new leader's epoch is kept in memory until its first batch: thousands of idle partitions changing leader at once
// write no files, and the entry is on disk before any batch of that epoch is (so a kill -9 after the append cannot
// leave data whose epoch the checkpoint does not know).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, rmSync } from 'node:fs';
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
