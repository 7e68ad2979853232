// Leadership tools and the acks/min.insync.replicas rules on a real three-process mini-cluster:
// NOT_ENOUGH_REPLICAS with too few in-sync replicas, an offline partition waiting for its last in-sync
// replica (unclean election off), unclean election on request, preferred leader election, and partition
// reassignment moving replicas between brokers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ElectLeaders, AlterPartitionReassignments, ListPartitionReassignments, CreateTopics, Metadata } from '../../src/protocol/apis';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/protocol/errorCode';
import { WireClient } from '../../src/broker/wireClient';
import { partitionOf, startTestCluster, TestCluster } from '../helpers/cluster';
import { connectWire, fetchRecords, produce } from '../helpers/wire';

let cluster: TestCluster;

before(async () => {
  cluster = await startTestCluster();
});

after(async () => {
  await cluster?.stop();
});

/** A wire connection to a broker that is alive now. */
async function anyLive(exclude: number[] = []): Promise<WireClient> {
  const s = await cluster.state();
  const b = s.brokers.find((x) => x.state === 'running' && !x.fenced && !exclude.includes(x.id))!;
  return connectWire(`${b.host}:${b.port}`);
}

async function leaderConnection(topic: string, partition: number): Promise<WireClient> {
  const s = await cluster.state();
  const leader = partitionOf(s, topic, partition).leader;
  const b = s.brokers.find((x) => x.id === leader)!;
  return connectWire(`${b.host}:${b.port}`);
}

async function createTopic(name: string, assignments: number[][], configs: Record<string, string> = {}) {
  const c = await anyLive();
  const res = await c.request(CreateTopics, 5, {
    topics: [{ name, numPartitions: -1, replicationFactor: -1, assignments: assignments.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })), configs: Object.entries(configs).map(([n, v]) => ({ name: n, value: v })) }],
    timeoutMs: 5000,
  });
  c.close();
  assert.equal(res.topics[0].errorCode, 0, res.topics[0].errorMessage ?? '');
  await cluster.waitForState((s) => partitionOf(s, name, 0).isr.length === assignments[0].length, 15000, `full ISR of ${name}`);
}

describe('leadership and durability rules', () => {
  test('acks=all is refused with NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas', async () => {
    await createTopic('min-isr', [[1, 2, 3]], { 'min.insync.replicas': '2' });
    await cluster.control.broker(2, 'kill');
    await cluster.control.broker(3, 'kill');
    await cluster.waitForState((s) => partitionOf(s, 'min-isr', 0).isr.length === 1, 5000, 'ISR of one');
    const c = await leaderConnection('min-isr', 0);
    const all = await produce(c, 'min-isr', 0, [{ value: 'needs two' }], -1);
    assert.equal(all.errorCode, ErrorCode.NOT_ENOUGH_REPLICAS);
    // acks=1 is accepted, but (Kafka >= 3.7) stays invisible to consumers until the ISR recovers.
    const one = await produce(c, 'min-isr', 0, [{ value: 'written, not yet visible' }], 1);
    assert.equal(one.errorCode, 0);
    const before = await fetchRecords(c, 'min-isr', 0, 0);
    assert.equal(before.decoded.length, 0);
    assert.equal(before.highWatermark, 0);
    c.close();
    await cluster.control.broker(2, 'restart');
    await cluster.control.broker(3, 'restart');
    await cluster.waitForState((s) => partitionOf(s, 'min-isr', 0).isr.length === 3, 20000, 'ISR recovery');
    const c2 = await leaderConnection('min-isr', 0);
    const after = await fetchRecords(c2, 'min-isr', 0, 0, 2000);
    assert.deepEqual(after.decoded.map((r) => r.value?.toString()), ['written, not yet visible']);
    c2.close();
  });

  test('min.insync.replicas above the replication factor counts as the replica count (Kafka >= 3.7): kafkajs acks=all works with the full ISR, NOT_ENOUGH_REPLICAS below it', async () => {
    await createTopic('min-isr-above-rf', [[1, 2]], { 'min.insync.replicas': '3' });
    const kafka = new Kafka({ clientId: 'min-isr-above-rf', brokers: cluster.brokers, logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ retry: { retries: 0 } });
    await producer.connect();
    try {
      const [ok] = await producer.send({ topic: 'min-isr-above-rf', acks: -1, messages: [{ value: 'both replicas in sync' }] });
      assert.equal(ok.errorCode, 0);
      await cluster.control.broker(2, 'kill');
      await cluster.waitForState((s) => partitionOf(s, 'min-isr-above-rf', 0).isr.length === 1, 5000, 'ISR of one');
      await assert.rejects(producer.send({ topic: 'min-isr-above-rf', acks: -1, messages: [{ value: 'one replica in sync' }] }), (err: Error & { type?: string }) => {
        // kafkajs wraps it (retriable, and retries are off) in KafkaJSNumberOfRetriesExceeded.
        assert.equal(err.type ?? (err as { cause?: { type?: string } }).cause?.type, 'NOT_ENOUGH_REPLICAS', String(err));
        return true;
      });
    } finally {
      await producer.disconnect();
      await cluster.control.broker(2, 'restart');
      await cluster.waitForState((s) => partitionOf(s, 'min-isr-above-rf', 0).isr.length === 2, 20000, 'ISR recovery');
    }
  });

  test('with every in-sync replica dead the partition is offline (leader -1) until one returns; unclean election on request', async () => {
    await createTopic('offline', [[2, 3]]);
    await cluster.control.broker(3, 'kill');
    await cluster.waitForState((s) => partitionOf(s, 'offline', 0).isr.length === 1, 5000, 'ISR [2]');
    await cluster.control.broker(2, 'kill');
    let s = await cluster.waitForState((st) => partitionOf(st, 'offline', 0).leader === -1, 5000, 'offline partition');
    assert.deepEqual(partitionOf(s, 'offline', 0).isr, [2], 'the ISR keeps its last member');
    const c = await anyLive([2, 3]);
    const md = await c.request(Metadata, 12, { topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'offline' }], allowAutoTopicCreation: false });
    assert.equal(md.topics[0].partitions[0].errorCode, ErrorCode.LEADER_NOT_AVAILABLE);
    assert.equal(md.topics[0].partitions[0].leaderId, -1);
    assert.deepEqual(md.topics[0].partitions[0].offlineReplicas.sort(), [2, 3]);
    // Broker 3 (out of sync) returns: with unclean election off, it does not become leader.
    await cluster.control.broker(3, 'restart');
    await new Promise((r) => setTimeout(r, 500));
    s = await cluster.state();
    assert.equal(partitionOf(s, 'offline', 0).leader, -1);
    // An explicit unclean election makes it leader (data may be lost: that is what unclean means).
    const res = await c.request(ElectLeaders, 2, { electionType: 1, topicPartitions: [{ topic: 'offline', partitionId: [0] }], timeoutMs: 5000 });
    assert.equal(res.replicaElectionResults[0].partitionResult[0].errorCode, 0);
    s = await cluster.waitForState((st) => partitionOf(st, 'offline', 0).leader === 3, 5000, 'unclean leader 3');
    assert.deepEqual(partitionOf(s, 'offline', 0).isr, [3]);
    c.close();
    await cluster.control.broker(2, 'restart');
    await cluster.waitForState((st) => partitionOf(st, 'offline', 0).isr.length === 2, 20000, 'broker 2 back in the ISR');
  });

  test('preferred leader election moves leadership back to the first replica', async () => {
    await createTopic('preferred', [[1, 2, 3]]);
    await cluster.control.broker(1, 'stop');
    await cluster.waitForState((s) => partitionOf(s, 'preferred', 0).leader !== 1, 5000, 'leader moved off 1');
    await cluster.control.broker(1, 'restart');
    await cluster.waitForState((s) => partitionOf(s, 'preferred', 0).isr.length === 3, 20000, 'broker 1 in sync');
    const c = await anyLive();
    const res = await c.request(ElectLeaders, 2, { electionType: 0, topicPartitions: [{ topic: 'preferred', partitionId: [0] }], timeoutMs: 5000 });
    assert.equal(res.replicaElectionResults[0].partitionResult[0].errorCode, 0);
    await cluster.waitForState((s) => partitionOf(s, 'preferred', 0).leader === 1, 5000, 'preferred leader 1');
    const again = await c.request(ElectLeaders, 2, { electionType: 0, topicPartitions: [{ topic: 'preferred', partitionId: [0] }], timeoutMs: 5000 });
    assert.equal(again.replicaElectionResults[0].partitionResult[0].errorCode, ErrorCode.ELECTION_NOT_NEEDED);
    c.close();
  });

  test('reassignment copies the partition to new replicas, then drops the old ones', async () => {
    await createTopic('moving', [[1, 2]]);
    const p = await leaderConnection('moving', 0);
    for (let i = 0; i < 5; i++) assert.equal((await produce(p, 'moving', 0, [{ value: `r${i}` }], -1)).errorCode, 0);
    p.close();
    const c = await anyLive();
    const res = await c.request(AlterPartitionReassignments, 0, { timeoutMs: 5000, topics: [{ name: 'moving', partitions: [{ partitionIndex: 0, replicas: [3, 2] }] }] });
    assert.equal(res.responses[0].partitions[0].errorCode, 0);
    const s = await cluster.waitForState((st) => {
      const q = partitionOf(st, 'moving', 0);
      return q.replicas.join() === '3,2' && q.addingReplicas.length === 0 && q.isr.includes(3);
    }, 20000, 'reassignment to [3,2]');
    assert.ok(!partitionOf(s, 'moving', 0).isr.includes(1));
    const listed = await c.request(ListPartitionReassignments, 0, { timeoutMs: 5000, topics: null });
    assert.equal(listed.topics.length, 0, 'nothing in progress any more');
    c.close();
    // The new replica has the data: make it the leader and read.
    await cluster.control.broker(2, 'kill');
    await cluster.waitForState((st) => partitionOf(st, 'moving', 0).leader === 3, 5000, 'leader 3');
    const l = await leaderConnection('moving', 0);
    const read = await fetchRecords(l, 'moving', 0, 0);
    assert.deepEqual(read.decoded.map((r) => r.value?.toString()), ['r0', 'r1', 'r2', 'r3', 'r4']);
    l.close();
    await cluster.control.broker(2, 'restart');
  });
});
