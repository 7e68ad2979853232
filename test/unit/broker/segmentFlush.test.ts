// Rolled segments are fsynced in the background: appends go on at once, a segment deleted or released while its
// fsync runs loses nothing and leaks no file descriptor, and close() leaves everything readable after reopening.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogConfig, PartitionLog } from '../../../src/broker/state/partitionLog';
import { buildBatch } from '../../../src/protocol/records/recordBatch';

const quiet = { logger: { info: () => {}, warn: (m: string) => assert.fail(m) } };
const config = (o: Partial<LogConfig> = {}): LogConfig => ({ segmentBytes: 64 * 1024, segmentMs: 7 * 24 * 3600 * 1000, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 4096, ...o });
const openFds = () => fs.readdirSync('/proc/self/fd').length;
const settle = () => new Promise((r) => setTimeout(r, 200));

function batchOf(i: number): Buffer {
  return buildBatch({ records: Array.from({ length: 10 }, (_, k) => ({ value: Buffer.alloc(1000, (i + k) & 0xff) })) });
}

test('rolling many segments, deleting them right away and closing: data intact, no descriptor left open', { skip: process.platform !== 'linux' }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-segflush-'));
  try {
    const before = openFds();
    const log = PartitionLog.open(dir, config(), quiet);
    for (let i = 0; i < 60; i++) log.appendAsLeader(batchOf(i), 0);
    assert.ok(log.segmentCount() > 5, `rolled ${log.segmentCount()} segments`);
    log.setHighWatermark(log.logEndOffset);
    log.deleteRecordsBefore(300); // deletes rolled segments whose fsync may still run
    for (let i = 60; i < 80; i++) log.appendAsLeader(batchOf(i), 0);
    const end = log.logEndOffset;
    log.close();
    await settle();
    assert.equal(openFds(), before, 'every fd closed once the background fsyncs returned');

    const again = PartitionLog.open(dir, config(), quiet);
    assert.equal(again.logEndOffset, end);
    assert.equal(again.logStartOffset, 300);
    const data = again.read(again.logStartOffset, 1 << 20, end);
    assert.ok(data.length > 0);
    again.close();
    await settle();
    assert.equal(openFds(), before);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
