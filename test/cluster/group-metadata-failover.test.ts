// Group metadata in __consumer_offsets across a coordinator failover (issue 13): the group's GroupMetadataValue is
// replicated with its offsets partition, so the broker that takes the partition over after `kill -9` of the
// coordinator loads the members back, as Kafka's GroupMetadataManager does. A kafkajs consumer then finds the new
// coordinator and goes on heartbeating in the same generation: no rejoin, no rebalance.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { FindCoordinator } from '../../src/protocol/apis/10-find-coordinator';
import { WireClient } from '../../src/broker/wireClient';
import { startTestCluster, TestCluster } from '../helpers/cluster';

let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster();
});

after(async () => {
  await cluster?.stop();
});

test('after kill -9 of the coordinator, the new one knows the members: the consumer carries on without rejoining', async () => {
  const kafka = new Kafka({ clientId: 'failover-member', brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'gm-failover', numPartitions: 2, replicationFactor: 3 }], waitForLeaders: true });

  const consumer = kafka.consumer({ groupId: 'gm-group', sessionTimeout: 10000, heartbeatInterval: 300, rebalanceTimeout: 10000, maxWaitTimeInMs: 100 });
  const joins: string[] = [];
  consumer.on(consumer.events.GROUP_JOIN, (e) => joins.push(e.payload.memberId));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: 'gm-failover', fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    const deadline = Date.now() + 30000;
    while (joins.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(joins.length, 1, 'joined once');
    const before = await admin.describeGroups(['gm-group']);
    assert.equal(before.groups[0].state, 'Stable');
    // The assignment was handed out only once the group record reached the ISR of its offsets partition.

    const [host, port] = cluster.brokers[0].split(':');
    const wire = new WireClient(host, Number(port), 'gm-inspector');
    await wire.connect();
    const found = await wire.request(FindCoordinator, 3, { key: 'gm-group', keyType: 0, coordinatorKeys: [] });
    wire.close();
    const coordinator = found.nodeId;
    await cluster.control.broker(coordinator, 'kill');
    await cluster.waitForState((s) => s.brokers.find((b) => b.id === coordinator)!.fenced, 5000, 'the coordinator to be fenced');

    // Heartbeats reach the new coordinator; the consumer keeps its member id and generation and reads new records.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'gm-failover', acks: -1, messages: [{ value: 'after-failover-0', partition: 0 }, { value: 'after-failover-1', partition: 1 }] });
    await producer.disconnect();
    const readBy = Date.now() + 30000;
    while (seen.length < 2 && Date.now() < readBy) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(seen.sort(), ['after-failover-0', 'after-failover-1']);
    await new Promise((r) => setTimeout(r, 1500)); // several heartbeats to the new coordinator
    const after = await admin.describeGroups(['gm-group']);
    assert.equal(after.groups[0].state, 'Stable');
    assert.deepEqual(after.groups[0].members.map((m) => m.memberId), before.groups[0].members.map((m) => m.memberId), 'the same member');
    assert.equal(joins.length, 1, 'no rejoin: the new coordinator loaded the member from __consumer_offsets');
  } finally {
    await consumer.disconnect();
    await admin.disconnect();
  }
});
