// Kafka parity on a 3-broker mini-cluster: DescribeLogDirs answered by every broker for the replicas it holds
// (@platformatic/kafka, v4, and our WireClient for v0/v1), and ACLs kept in the controller's image so that every
// broker enforces the same set (kafkajs). The authorizer is on without SASL, so clients are User:ANONYMOUS, made
// a super user here; a binding on User:ANONYMOUS with DENY shows each broker enforcing it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, KafkaJSProtocolError, logLevel, ResourcePatternTypes } from 'kafkajs';
import { DescribeLogDirs, Produce } from '../../src/protocol/apis';
import { buildBatch } from '../../src/protocol/records/recordBatch';
import { startTestCluster, TestCluster } from '../helpers/cluster';
import { connectWire } from '../helpers/wire';

type PlatformaticKafka = typeof import('@platformatic/kafka');

let cluster: TestCluster;
let kafka: Kafka;

async function addresses(): Promise<string[]> {
  return (await cluster.state()).brokers.map((b) => `${b.host}:${b.port}`);
}

before(async () => {
  cluster = await startTestCluster(['--config', 'authorizer.class.name=StandardAuthorizer', '--config', 'allow.everyone.if.no.acl.found=true']);
  kafka = new Kafka({ clientId: 'parity-cluster', brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 50 } });
});

after(async () => {
  await cluster?.stop();
});

describe('mini-cluster parity', () => {
  test('DescribeLogDirs: each broker lists its log dir with the sizes of the replicas it holds, lag 0, no future logs', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'dirs', numPartitions: 3, replicationFactor: 3 }, { topic: 'dirs-single', numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: 'dirs', acks: -1, messages: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: `value-${i}` })) });
      await producer.disconnect();
    } finally {
      await admin.disconnect();
    }
    const pk: PlatformaticKafka = await import('@platformatic/kafka');
    const pkAdmin = new pk.Admin({ clientId: 'parity-dirs', bootstrapBrokers: cluster.brokers, retries: 5, retryDelay: 100 });
    try {
      // acks=-1 writes reach every replica; followers may still be a fetch behind in their sizes, so wait.
      const deadline = Date.now() + 10000;
      let answer = await pkAdmin.describeLogDirs({ topics: [{ name: 'dirs', partitions: [0, 1, 2] }, { name: 'dirs-single', partitions: [0] }] });
      const sizes = (a: typeof answer) =>
        a.map((b) => b.results[0].topics.find((t) => t.name === 'dirs')?.partitions.map((p) => Number(p.partitionSize)).sort().join(','));
      while (new Set(sizes(answer)).size > 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        answer = await pkAdmin.describeLogDirs({ topics: [{ name: 'dirs', partitions: [0, 1, 2] }, { name: 'dirs-single', partitions: [0] }] });
      }
      const state = await cluster.state();
      assert.deepEqual(answer.map((b) => b.broker).sort(), state.brokers.map((b) => b.id).sort());
      for (const b of answer) {
        assert.equal(b.results.length, 1, `broker ${b.broker} has one log dir`);
        const dir = b.results[0];
        assert.ok(dir.logDir.startsWith(cluster.dir), `broker ${b.broker} log dir ${dir.logDir} is under the cluster dir`);
        assert.ok(Number(dir.totalBytes) > 0 && Number(dir.usableBytes) > 0, 'v4 total and usable bytes');
        const dirs = dir.topics.find((t) => t.name === 'dirs')!;
        assert.deepEqual(dirs.partitions.map((p) => p.partitionIndex).sort(), [0, 1, 2], 'RF 3: every broker holds every partition');
        for (const p of dirs.partitions) {
          assert.equal(Number(p.offsetLag), 0);
          assert.equal(p.isFutureKey, false);
        }
      }
      assert.equal(new Set(sizes(answer)).size, 1, `replicas have the same sizes: ${JSON.stringify(sizes(answer))}`);
      assert.ok(answer.every((b) => b.results[0].topics.find((t) => t.name === 'dirs')!.partitions.some((p) => Number(p.partitionSize) > 0)));
      // RF 1: exactly one broker lists dirs-single.
      assert.equal(answer.filter((b) => b.results[0].topics.some((t) => t.name === 'dirs-single')).length, 1);
    } finally {
      await pkAdmin.close();
    }

    // v0 (kafka-python and older tools) and v1: same shape without the v3/v4 fields; null topics = all.
    const w = await connectWire((await addresses())[0]);
    try {
      for (const version of [0, 1]) {
        const res = await w.request(DescribeLogDirs, version, { topics: null });
        assert.equal(res.results.length, 1);
        assert.ok(res.results[0].topics.some((t) => t.name === 'dirs'), `v${version} lists every topic for null`);
      }
    } finally {
      w.close();
    }
  });

  test('ACLs are cluster metadata: created through one broker, listed and enforced by every broker', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'acl-everywhere', numPartitions: 3, replicationFactor: 2 }], waitForLeaders: true });
      await admin.createAcls({
        acl: [
          {
            resourceType: AclResourceTypes.TOPIC,
            resourceName: 'acl-everywhere',
            resourcePatternType: ResourcePatternTypes.LITERAL,
            principal: 'User:ANONYMOUS',
            host: '*',
            operation: AclOperationTypes.WRITE,
            permissionType: AclPermissionTypes.DENY,
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
    for (const address of await addresses()) {
      const single = new Kafka({ brokers: [address], logLevel: logLevel.NOTHING, retry: { retries: 3, initialRetryTime: 50 } }).admin();
      await single.connect();
      try {
        const described = await single.describeAcls({
          resourceType: AclResourceTypes.TOPIC,
          resourceName: 'acl-everywhere',
          resourcePatternType: ResourcePatternTypes.LITERAL,
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ANY,
        });
        assert.deepEqual(described.resources.map((r) => r.acls.length), [1], `broker ${address} lists the binding`);
      } finally {
        await single.disconnect();
      }
      // Produce straight to this broker's partitions: every leader refuses with TOPIC_AUTHORIZATION_FAILED.
      const w = await connectWire(address);
      try {
        const res = await w.request(Produce, 9, {
          transactionalId: null,
          acks: 1,
          timeoutMs: 5000,
          topicData: [{ name: 'acl-everywhere', partitionData: [0, 1, 2].map((index) => ({ index, records: buildBatch({ records: [{ value: Buffer.from('x') }] }) })) }],
        });
        assert.deepEqual(res.responses[0].partitionResponses.map((p) => p.errorCode), [29, 29, 29], `broker ${address}`);
      } finally {
        w.close();
      }
    }
    // Other topics: no binding at all, and allow.everyone.if.no.acl.found=true.
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic: 'dirs', messages: [{ value: 'still allowed' }] });
      await assert.rejects(producer.send({ topic: 'acl-everywhere', messages: [{ value: 'x' }] }), (err: Error) => {
        const cause = (err as { cause?: unknown }).cause ?? err;
        return (cause instanceof KafkaJSProtocolError && cause.type === 'TOPIC_AUTHORIZATION_FAILED') || /authoriz/i.test(err.message);
      });
    } finally {
      await producer.disconnect();
    }
  });
});
