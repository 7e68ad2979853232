// Transactions on a secured mini-cluster (`--tls --sasl scram-sha-512`): the transaction protocol's inter-broker
// requests (WriteTxnMarkers from the coordinator, AddPartitionsToTxn verify-only from partition leaders) run over
// the brokers' internal listeners with the cluster's own credentials, as replication does. A kafkajs
// transactional producer over TLS + SCRAM writes to partitions led by every broker, commits one transaction and
// aborts another; a read_committed reader sees the committed records only, and the client facade's
// describeTransaction (this project's codec over kafkajs's TLS/SASL connection) reports the outcome.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, KafkaConfig, logLevel } from 'kafkajs';
import { ClusterAdmin } from '../../src/client/admin';
import { startTestCluster, TestCluster } from '../helpers/cluster';

let cluster: TestCluster;
let kafka: Kafka;
let clientConfig: Pick<KafkaConfig, 'ssl' | 'sasl'>;
const TOPIC = 'secure-txn';

before(async () => {
  cluster = await startTestCluster(['--tls', '--sasl', 'scram-sha-512', '--user', 'app:app-password']);
  clientConfig = {
    ssl: { ca: [readFileSync(join(cluster.dir, 'tls', 'ca.pem'), 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: 'app', password: 'app-password' },
  };
  kafka = new Kafka({ clientId: 'secure-txn-test', brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 15, initialRetryTime: 100, maxRetryTime: 1000 }, ...clientConfig });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
  await admin.disconnect();
});

after(async () => {
  await cluster?.stop();
});

describe('transactions on a secured mini-cluster', () => {
  test('commit and abort across partitions led by every broker; read_committed sees the commit only', async () => {
    const state = await cluster.state();
    const leaders = new Set(state.topics.find((t) => t.name === TOPIC)!.partitions.map((p) => p.leader));
    assert.equal(leaders.size, 3, 'each broker leads one partition');

    const producer = kafka.producer({ transactionalId: 'secure-txn-id', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({ topic: TOPIC, messages: [0, 1, 2].map((partition) => ({ partition, value: `c${partition}` })) });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic: TOPIC, messages: [0, 1, 2].map((partition) => ({ partition, value: `x${partition}` })) });
      await aborted.abort();
    } finally {
      await producer.disconnect();
    }

    const consumer = kafka.consumer({ groupId: 'secure-txn-reader', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      let quiet = setTimeout(resolve, 30000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            got.push(message.value!.toString());
            clearTimeout(quiet);
            quiet = setTimeout(resolve, got.length >= 3 ? 2000 : 30000);
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    assert.deepEqual(got.sort(), ['c0', 'c1', 'c2']);

    const admin = new ClusterAdmin({
      bootstrapServers: cluster.brokers,
      ssl: { ca: readFileSync(join(cluster.dir, 'tls', 'ca.pem'), 'utf8') },
      sasl: { mechanism: 'scram-sha-512', username: 'app', password: 'app-password' },
      connectionTimeoutMs: 3000,
      retry: { retries: 10, initialRetryTimeMs: 100, maxRetryTimeMs: 1000 },
    });
    await admin.connect();
    try {
      let described = await admin.describeTransaction('secure-txn-id');
      for (let i = 0; i < 50 && described.state !== 'CompleteAbort'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        described = await admin.describeTransaction('secure-txn-id');
      }
      assert.equal(described.state, 'CompleteAbort');
      assert.ok((await admin.listTransactions()).some((t) => t.transactionalId === 'secure-txn-id'));
    } finally {
      await admin.disconnect();
    }
  });
});
