// The seed tutorial with real broker processes: three brokers, a topic with replication factor 3 and two
// partitions, kill -9 of partition 0's leader, the leader moves and the ISR shrinks, consuming still works,
// the broker comes back and the ISR grows back. Then acks=all under repeated kills loses nothing acknowledged.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { assertAckedReadBack } from '../helpers/acks';
import { bounceLeader, fullIsr, partitionOf, startTestCluster, TestCluster } from '../helpers/cluster';

let cluster: TestCluster;
let kafka: Kafka;

before(async () => {
  cluster = await startTestCluster();
  kafka = new Kafka({ clientId: 'failover-test', brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 15, initialRetryTime: 100, maxRetryTime: 1000 } });
});

after(async () => {
  await cluster?.stop();
});

/** Reads from the beginning until `done(messages)` holds (the log may hold extra, unacknowledged writes). */
async function consumeFromBeginning(topic: string, done: number | ((got: Array<{ partition: number; value: string }>) => boolean)): Promise<Array<{ partition: number; value: string }>> {
  const isDone = typeof done === 'number' ? (got: unknown[]) => got.length >= done : done;
  const consumer = kafka.consumer({ groupId: `reader-${Date.now()}-${Math.random()}`, maxWaitTimeInMs: 100, sessionTimeout: 10000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: Array<{ partition: number; value: string }> = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out with ${got.length} messages read`)), 30000);
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push({ partition, value: message.value!.toString() });
        if (isDone(got)) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return got;
}

describe('mini-cluster failover', () => {
  test('killing the leader moves leadership, shrinks the ISR, and consuming still works', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'my-replicated-topic', numPartitions: 2, replicationFactor: 3 }], waitForLeaders: true });
    let state = await cluster.waitForState((s) => {
      const t = s.topics.find((x) => x.name === 'my-replicated-topic');
      return !!t && t.partitions.every((p) => p.isr.length === 3);
    }, 15000, 'full ISR');
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'my-replicated-topic', acks: -1, messages: [{ value: 'my test msg 1', partition: 0 }, { value: 'my test msg 2', partition: 0 }] });
    await producer.disconnect();

    const before0 = partitionOf(state, 'my-replicated-topic', 0);
    const victim = before0.leader;
    const killedAt = Date.now();
    await cluster.control.broker(victim, 'kill');
    state = await cluster.waitForState((s) => {
      const p = partitionOf(s, 'my-replicated-topic', 0);
      return p.leader !== victim && p.leader !== -1;
    }, 5000, 'a new leader');
    const electedIn = Date.now() - killedAt;
    const after0 = partitionOf(state, 'my-replicated-topic', 0);
    assert.ok(!after0.isr.includes(victim), `ISR ${after0.isr} must not contain the dead broker ${victim}`);
    assert.deepEqual([...after0.replicas].sort(), [...before0.replicas].sort(), 'replicas are still listed');
    assert.ok(after0.leaderEpoch > before0.leaderEpoch);
    assert.ok(electedIn < 2000, `new leader after ${electedIn} ms`);

    // kafkajs still sees the topic with a live leader, and Metadata lists the dead replica as offline.
    const md = await admin.fetchTopicMetadata({ topics: ['my-replicated-topic'] });
    const p0 = md.topics[0].partitions.find((p) => p.partitionId === 0)!;
    assert.equal(p0.leader, after0.leader);
    assert.deepEqual(p0.offlineReplicas, [victim]);

    const got = await consumeFromBeginning('my-replicated-topic', 2);
    assert.deepEqual(got.map((m) => m.value), ['my test msg 1', 'my test msg 2']);

    await cluster.control.broker(victim, 'restart');
    await cluster.waitForState((s) => partitionOf(s, 'my-replicated-topic', 0).isr.length === 3, 15000, 'the ISR to grow back');
    await admin.disconnect();
  });

  test('acks=all under repeated leader kills: every acknowledged message is read back in order', async () => {
    const topic = 'no-loss';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }], waitForLeaders: true });
    await cluster.waitForState((s) => fullIsr(s, topic), 15000, 'full ISR');
    await admin.disconnect();
    const producer = kafka.producer({ retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
    await producer.connect();
    const acked: Array<{ partition: number; value: string }> = [];
    let stop = false;
    let seq = 0;
    const produceLoop = (async () => {
      while (!stop) {
        const value = `m-${seq++}`;
        const partition = seq % 2;
        try {
          await producer.send({ topic, acks: -1, messages: [{ value, partition }] });
          acked.push({ partition, value });
        } catch {
          // not acknowledged: may or may not be in the log, and that is allowed
        }
      }
    })();
    for (let round = 0; round < 3; round++) {
      await new Promise((r) => setTimeout(r, 700));
      await bounceLeader(cluster, topic, round % 2);
    }
    stop = true;
    await produceLoop;
    await producer.disconnect();
    assert.ok(acked.length > 20, `only ${acked.length} messages were acknowledged`);
    const ackedSet = new Set(acked.map((m) => m.value));
    let seen = 0;
    const got = await consumeFromBeginning(topic, (msgs) => {
      for (; seen < msgs.length; seen++) ackedSet.delete(msgs[seen].value);
      return ackedSet.size === 0;
    }).catch((err) => {
      throw new Error(`${(err as Error).message}; never read: ${[...ackedSet].slice(0, 10).join(', ')}`);
    });
    // Order within the partition: acknowledged messages appear in the order they were acknowledged.
    assertAckedReadBack(acked, got);
  });

  test('a paused broker is fenced after the session timeout, and rejoins when resumed', async () => {
    const topic = 'my-replicated-topic';
    let state = await cluster.waitForState((s) => partitionOf(s, topic, 1).isr.length === 3, 15000, 'full ISR');
    const victim = partitionOf(state, topic, 1).leader;
    const pausedAt = Date.now();
    await cluster.control.broker(victim, 'pause');
    state = await cluster.waitForState((s) => s.brokers.find((b) => b.id === victim)!.fenced && partitionOf(s, topic, 1).leader !== victim, 8000, 'fencing of the paused broker');
    const fencedAfter = Date.now() - pausedAt;
    assert.ok(fencedAfter >= 1000, `fenced after ${fencedAfter} ms: not before the session timeout (1500 ms)`);
    assert.equal(state.brokers.find((b) => b.id === victim)!.state, 'paused');
    await cluster.control.broker(victim, 'resume');
    await cluster.waitForState((s) => !s.brokers.find((b) => b.id === victim)!.fenced && partitionOf(s, topic, 1).isr.length === 3, 15000, 'the resumed broker back in the ISR');
  });

  test('a graceful stop moves leadership before the process exits (controlled shutdown)', async () => {
    const topic = 'my-replicated-topic';
    let state = await cluster.waitForState((s) => partitionOf(s, topic, 0).isr.length === 3, 15000, 'full ISR');
    const victim = partitionOf(state, topic, 0).leader;
    await cluster.control.broker(victim, 'stop');
    state = await cluster.state();
    const p0 = partitionOf(state, topic, 0);
    assert.notEqual(p0.leader, victim);
    assert.ok(p0.leader >= 0);
    assert.ok(!p0.isr.includes(victim));
    assert.equal(state.brokers.find((b) => b.id === victim)!.state, 'stopped');
    await cluster.control.broker(victim, 'restart');
    await cluster.waitForState((s) => partitionOf(s, topic, 0).isr.length === 3, 15000, 'ISR recovery');
  });
});
