// A secured mini-cluster: three broker processes with `--tls --sasl scram-sha-512`. Clients authenticate over TLS;
// replication between the brokers runs over their internal listeners (authenticated with the cluster's own
// secret), so an RF 3 acks=all produce works and the ISR is full; after a kill -9 and a restart the broker
// authenticates again and rejoins the ISR. Metadata advertises only the client-facing (TLS) listeners.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterAdmin } from '../../src/client/admin';
import { KafkaConnectionOptions } from '../../src/client/connection';
import { openConsumer } from '../../src/client/consumer';
import { RecordProducer } from '../../src/client/producer';
import { partitionOf, startTestCluster, TestCluster } from '../helpers/cluster';

let cluster: TestCluster;
let connection: KafkaConnectionOptions;
const TOPIC = 'secure-rf3';

before(async () => {
  cluster = await startTestCluster(['--tls', '--sasl', 'scram-sha-512', '--user', 'app:app-password', '--config', 'min.insync.replicas=2']);
  connection = {
    bootstrapServers: cluster.brokers,
    ssl: { ca: readFileSync(join(cluster.dir, 'tls', 'ca.pem'), 'utf8') },
    sasl: { mechanism: 'scram-sha-512', username: 'app', password: 'app-password' },
    connectionTimeoutMs: 3000,
    retry: { retries: 10, initialRetryTimeMs: 100, maxRetryTimeMs: 1000 },
  };
});

after(async () => {
  await cluster?.stop();
});

async function produce(values: string[]): Promise<void> {
  const producer = new RecordProducer(connection, { acks: -1 });
  await producer.connect();
  try {
    await producer.send(TOPIC, values.map((value, i) => ({ value, partition: i % 2 })));
  } finally {
    await producer.disconnect();
  }
}

async function readAll(count: number): Promise<string[]> {
  const stream = await openConsumer(connection, { topic: TOPIC, from: 'earliest', maxWaitMs: 100 });
  const got: string[] = [];
  try {
    while (got.length < count) {
      const r = await stream.next({ timeoutMs: 15000 });
      assert.ok(r, `timed out after ${got.length} of ${count} records`);
      got.push(r.value!.toString());
    }
  } finally {
    await stream.stop();
  }
  return got.sort();
}

const fullIsr = (s: Awaited<ReturnType<TestCluster['state']>>) => {
  const t = s.topics.find((x) => x.name === TOPIC);
  return !!t && t.partitions.every((p) => p.isr.length === 3 && p.leader > 0);
};

describe('secured mini-cluster (SASL_SSL, SCRAM-SHA-512)', () => {
  test('RF 3 acks=all produce works and the ISR is full: replication works with security on', async () => {
    const state0 = await cluster.state();
    assert.equal(state0.security?.protocol, 'SASL_SSL');
    const admin = new ClusterAdmin(connection);
    await admin.connect();
    try {
      await admin.createTopic({ name: TOPIC, partitions: 2, replicationFactor: 3 });
      // Metadata advertises the TLS listeners clients connect to, never the internal ones.
      const cluster1 = await admin.describeCluster();
      assert.deepEqual(cluster1.brokers.map((b) => `${b.host}:${b.port}`).sort(), [...cluster.brokers].sort());
    } finally {
      await admin.disconnect();
    }
    await cluster.waitForState(fullIsr, 15000, 'full ISR');
    const values = Array.from({ length: 20 }, (_, i) => `secure-${i}`);
    await produce(values);
    // acks=all with min.insync.replicas=2 succeeded, so followers fetched; they stay in sync.
    const state = await cluster.waitForState(fullIsr, 15000, 'full ISR after produce');
    for (const p of [0, 1]) assert.deepEqual([...partitionOf(state, TOPIC, p).isr].sort(), [1, 2, 3]);
    assert.deepEqual(await readAll(values.length), [...values].sort());
  });

  test('a killed broker restarts, authenticates to the leaders again and rejoins the ISR', async () => {
    const before0 = partitionOf(await cluster.state(), TOPIC, 0);
    const victim = before0.leader;
    await cluster.control.broker(victim, 'kill');
    await cluster.waitForState((s) => {
      const p = partitionOf(s, TOPIC, 0);
      return p.leader > 0 && p.leader !== victim && !p.isr.includes(victim);
    }, 10000, 'a new leader without the killed broker');
    await produce(['while-down-0', 'while-down-1']);
    await cluster.control.broker(victim, 'restart');
    await cluster.waitForState(fullIsr, 20000, 'the restarted broker back in every ISR');
    const all = await readAll(22);
    assert.ok(all.includes('while-down-0') && all.includes('while-down-1'));
  });
});
