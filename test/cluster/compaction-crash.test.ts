// kill -9 of brokers in the middle of a compaction: every broker of a 3-broker cluster SIGKILLs itself right after
// renaming its first cleaned segment to `.swap` (MINIKAFKA_TEST_CLEANER_KILL_AT, once per broker), so old segments
// and the swap are both on disk. Restarted, each broker finishes the swap; nothing acknowledged is lost, consumers
// read the latest value of every key, and the cleaner carries on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { decodeBatch, splitBatches } from '../../src/protocol/records/recordBatch';
import { startTestCluster, TestCluster } from '../helpers/cluster';
import { waitFor } from '../helpers/wait';

const STEP = process.env.COMPACTION_CRASH_STEP ?? 'swap-renamed';
let cluster: TestCluster;
let kafka: Kafka;

before(async () => {
  process.env.MINIKAFKA_TEST_CLEANER_KILL_AT = STEP;
  try {
    cluster = await startTestCluster(['--config', 'log.cleaner.backoff.ms=200', '--config', 'log.retention.check.interval.ms=200']);
  } finally {
    delete process.env.MINIKAFKA_TEST_CLEANER_KILL_AT;
  }
  kafka = new Kafka({ clientId: 'compaction-crash', brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
});

after(async () => {
  await cluster?.stop();
});

/** How many records one broker's replica files hold, or null while a file is being swapped under us. */
function replicaRecordCount(brokerId: number, topic: string): number | null {
  const dir = join(cluster.dir, `broker-${brokerId}`, `${topic}-0`);
  try {
    let n = 0;
    for (const name of readdirSync(dir).filter((f) => /^\d{20}\.log$/.test(f))) {
      const data = readFileSync(join(dir, name));
      for (const batch of data.length ? splitBatches(data) : []) n += decodeBatch(batch).records.length;
    }
    return n;
  } catch {
    return null;
  }
}

describe(`kill -9 during compaction (at ${STEP})`, () => {
  test('every broker killed mid-swap restarts with its log consistent, nothing lost, and compaction finished', async () => {
    const topic = 'compacted-crash';
    const admin = kafka.admin();
    await admin.connect();
    // One segment, rolled by time after every write is in: the kills come after the producer is done.
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: Object.entries({ 'cleanup.policy': 'compact', 'segment.ms': '3000', 'min.cleanable.dirty.ratio': '0.01' }).map(([name, value]) => ({ name, value })) }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const keys = 6;
    const rounds = 12;
    for (let round = 0; round < rounds; round++) {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: keys }, (_, k) => ({ key: `k${k}`, value: `v${round}-${'c'.repeat(50)}` })) });
    }
    await producer.disconnect();

    // Each broker dies at its first swap.
    const ids = (await cluster.state()).brokers.map((b) => b.id);
    await cluster.waitForState((s) => s.brokers.every((b) => b.pid === null), 30000, 'every broker killed by its cleaner');
    for (const id of ids) {
      const dir = join(cluster.dir, `broker-${id}`);
      assert.ok(existsSync(join(dir, '.test-cleaner-killed')), `broker ${id} was killed by the cleaner hook`);
      const swaps = readdirSync(dir, { recursive: true }).map(String).filter((n) => /\.(swap|swap-end|cleaned)$/.test(n));
      assert.ok(swaps.length > 0, `broker ${id} left swap files: ${swaps}`);
    }
    for (const id of ids) await cluster.control.broker(id, 'restart');
    await cluster.waitForState((s) => s.brokers.every((b) => b.pid !== null && !b.fenced), 30000, 'every broker back');

    // Consumers read every key's latest value; the compaction finished on every replica.
    const consumer = kafka.consumer({ groupId: `crash-reader-${Date.now()}`, maxWaitTimeInMs: 100, sessionTimeout: 10000, heartbeatInterval: 500 });
    const got = new Map<string, string>();
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void got.set(message.key!.toString(), message.value!.toString()) });
    try {
      await waitFor(() => got.size === keys && [...got.values()].every((v) => v.startsWith(`v${rounds - 1}-`)), 30000, () => JSON.stringify([...got]));
    } finally {
      await consumer.disconnect();
    }
    for (const id of ids) {
      const dir = join(cluster.dir, `broker-${id}`);
      await waitFor(() => readdirSync(dir, { recursive: true }).map(String).every((n) => !/\.(swap|swap-end|cleaned)$/.test(n)), 10000, () => `swap files left on broker ${id}`);
      let count: number | null = null;
      await waitFor(() => (count = replicaRecordCount(id, topic)) === keys, 20000, () => `broker ${id} holds ${count} records`);
    }
  });
});
