// Log compaction on a real 3-broker cluster (one OS process per broker): every replica compacts its own log, as in
// Kafka, and after kill -9 of the leader a kafkajs consumer reading from the new leader sees the latest value of
// every key; the killed replica comes back with its compacted log and catches up.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { decodeBatch, splitBatches } from '../../src/protocol/records/recordBatch';
import { bounceLeader, partitionOf, startTestCluster, TestCluster } from '../helpers/cluster';
import { waitFor } from '../helpers/wait';

let cluster: TestCluster;
let kafka: Kafka;

before(async () => {
  cluster = await startTestCluster(['--config', 'log.cleaner.backoff.ms=200', '--config', 'log.retention.check.interval.ms=200']);
  kafka = new Kafka({ clientId: 'compaction-cluster', brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 15, initialRetryTime: 100, maxRetryTime: 1000 } });
});

after(async () => {
  await cluster?.stop();
});

/** The records in one broker's replica files, read straight from its segment files. */
function replicaRecords(brokerId: number, topic: string): Array<{ offset: number; key: string; value: string }> | null {
  const dir = join(cluster.dir, `broker-${brokerId}`, `${topic}-0`);
  try {
    const out: Array<{ offset: number; key: string; value: string }> = [];
    const logs = readdirSync(dir).filter((n) => /^\d{20}\.log$/.test(n)).sort();
    for (const name of logs) {
      const data = readFileSync(join(dir, name));
      for (const batch of data.length ? splitBatches(data) : []) {
        for (const r of decodeBatch(batch).records) out.push({ offset: r.offset, key: r.key!.toString(), value: r.value!.toString() });
      }
    }
    return out;
  } catch {
    return null; // a file swapped or torn under us (the replica is being written or cleaned): try again
  }
}

async function consumeAll(topic: string, count: number): Promise<Array<{ offset: number; key: string; value: string }>> {
  const consumer = kafka.consumer({ groupId: `reader-${Date.now()}`, maxWaitTimeInMs: 100, sessionTimeout: 10000, heartbeatInterval: 500 });
  const got: Array<{ offset: number; key: string; value: string }> = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void got.push({ offset: Number(message.offset), key: message.key!.toString(), value: message.value!.toString() }) });
  try {
    await waitFor(() => got.length >= count, 30000, () => `consumed ${got.length} of ${count}`);
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await consumer.disconnect();
  }
  return got;
}

describe('compaction in a 3-broker cluster', () => {
  test('each replica compacts its own log; after kill -9 of the leader, the new leader serves the latest value per key', async () => {
    const topic = 'compacted-replicated';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: Object.entries({ 'cleanup.policy': 'compact', 'segment.bytes': '2048', 'segment.ms': '500', 'min.cleanable.dirty.ratio': '0.01' }).map(([name, value]) => ({ name, value })) }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const keys = 8;
    const rounds = 15;
    for (let round = 0; round < rounds; round++) {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: keys }, (_, k) => ({ key: `k${k}`, value: `v${round}-${'z'.repeat(50)}` })) });
    }
    const expected = Array.from({ length: keys }, (_, k) => ({ offset: (rounds - 1) * keys + k, key: `k${k}`, value: `v${rounds - 1}-${'z'.repeat(50)}` }));

    // Every replica's files end up with one record per key: followers clean their own copies.
    const state = await cluster.state();
    const replicas = partitionOf(state, topic, 0).replicas;
    assert.equal(replicas.length, 3);
    for (const id of replicas) {
      let seen: ReturnType<typeof replicaRecords> = null;
      await waitFor(() => (seen = replicaRecords(id, topic))?.length === keys, 30000, () => `broker ${id} holds ${seen?.length} records`);
      assert.deepEqual(seen, expected, `broker ${id}'s replica is compacted to the latest values`);
    }

    // kill -9 of the leader: the new leader serves the same compacted log.
    const bounced = await bounceLeader(cluster, topic, 0);
    const leaderNow = partitionOf(await cluster.state(), topic, 0).leader;
    assert.notEqual(leaderNow, bounced.victim);
    assert.deepEqual(await consumeAll(topic, keys), expected, 'a consumer reading from the new leader gets the latest values');

    // More updates after the restart: all three replicas (the restarted one included) compact them too.
    for (let k = 0; k < keys; k++) await producer.send({ topic, acks: -1, messages: [{ key: `k${k}`, value: `final-${k}` }] });
    await producer.disconnect();
    const finalExpected = Array.from({ length: keys }, (_, k) => ({ offset: rounds * keys + k, key: `k${k}`, value: `final-${k}` }));
    for (const id of replicas) {
      let seen: ReturnType<typeof replicaRecords> = null;
      await waitFor(() => JSON.stringify(seen = replicaRecords(id, topic)) === JSON.stringify(finalExpected), 30000, () => `broker ${id} holds ${JSON.stringify(seen)}`);
    }
    assert.deepEqual(await consumeAll(topic, keys), finalExpected);
  });
});
