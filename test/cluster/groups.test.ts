// Consumer groups on the mini-cluster, as the seed tutorial describes them: consumers in one group share the
// partitions (queue); every group gets every message (publish-subscribe); and committed offsets survive the
// group coordinator's broker dying, because they live in the replicated __consumer_offsets topic.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Consumer, Kafka, logLevel } from 'kafkajs';
import { FindCoordinator } from '../../src/protocol/apis/10-find-coordinator';
import { WireClient } from '../../src/broker/wireClient';
import { startTestCluster, TestCluster } from '../helpers/cluster';

let cluster: TestCluster;
let kafka: Kafka;
const TOPIC = 'seed-groups';

before(async () => {
  cluster = await startTestCluster();
  kafka = new Kafka({ clientId: 'groups-test', brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 15, initialRetryTime: 100, maxRetryTime: 1000 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 2, replicationFactor: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
  await producer.disconnect();
});

after(async () => {
  await cluster?.stop();
});

interface Received {
  member: string;
  partition: number;
  value: string;
}

async function startMember(groupId: string, member: string, sink: Received[], topic = TOPIC, assigned?: Map<string, number[]>): Promise<Consumer> {
  const c = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10000, heartbeatInterval: 300, rebalanceTimeout: 5000 });
  c.on(c.events.GROUP_JOIN, (e) => assigned?.set(member, (e.payload.memberAssignment[topic] ?? []) as number[]));
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await c.run({ autoCommitInterval: 100, eachMessage: async ({ partition, message }) => void sink.push({ member, partition, value: message.value!.toString() }) });
  return c;
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('consumer groups on the mini-cluster', () => {
  test('queue: two consumers in one group split the partitions and together read each message once', async () => {
    // Both members join first (each is then assigned one partition), and only then are messages produced,
    // so each member reads its own partition's share.
    const topic = 'seed-queue';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 3 }], waitForLeaders: true });
    await admin.disconnect();
    const got: Received[] = [];
    const assigned = new Map<string, number[]>();
    const a = await startMember('queue', 'a', got, topic, assigned);
    const b = await startMember('queue', 'b', got, topic, assigned);
    await until(() => assigned.get('a')?.length === 1 && assigned.get('b')?.length === 1, 20000, 'one partition per member');
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `q${i}` })) });
    await producer.disconnect();
    await until(() => new Set(got.map((m) => m.value)).size === 20, 20000, 'all messages to be consumed');
    assert.equal(got.length, 20, 'each message is read once');
    assert.equal(new Set(got.map((m) => m.member)).size, 2, 'both members consumed');
    await a.disconnect();
    await b.disconnect();
    const partitionsOf = (m: string) => new Set(got.filter((x) => x.member === m).map((x) => x.partition));
    assert.equal([...partitionsOf('a')].filter((p) => partitionsOf('b').has(p)).length, 0, 'no partition is read by both members');
  });

  test('publish-subscribe: each group gets every message', async () => {
    const g1: Received[] = [];
    const g2: Received[] = [];
    const c1 = await startMember('sub-1', 'x', g1);
    const c2 = await startMember('sub-2', 'y', g2);
    await until(() => g1.length >= 20 && g2.length >= 20, 20000, 'both groups to read everything');
    await c1.disconnect();
    await c2.disconnect();
    assert.equal(new Set(g1.map((m) => m.value)).size, 20);
    assert.equal(new Set(g2.map((m) => m.value)).size, 20);
  });

  test('committed offsets survive the coordinator broker dying', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: 'durable-group', topic: TOPIC, partitions: [{ partition: 0, offset: '3' }, { partition: 1, offset: '5' }] });
    const [host, port] = cluster.brokers[0].split(':');
    const wire = new WireClient(host, Number(port));
    await wire.connect();
    const found = await wire.request(FindCoordinator, 3, { key: 'durable-group', keyType: 0, coordinatorKeys: [] });
    wire.close();
    assert.equal(found.errorCode, 0);
    const coordinator = found.nodeId;
    await cluster.control.broker(coordinator, 'kill');
    await cluster.waitForState((s) => s.brokers.find((b) => b.id === coordinator)!.fenced, 5000, 'the coordinator to be fenced');
    const offsets = await admin.fetchOffsets({ groupId: 'durable-group', topics: [TOPIC] });
    const byPartition = Object.fromEntries(offsets[0].partitions.map((p) => [p.partition, p.offset]));
    assert.deepEqual(byPartition, { 0: '3', 1: '5' });
    await admin.disconnect();
    await cluster.control.broker(coordinator, 'restart');
  });
});
