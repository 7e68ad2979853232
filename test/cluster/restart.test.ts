// `minikafka start` on the same data directory brings the same cluster back: brokers on the same ports,
// topics, data, committed offsets, and leaders spread over the brokers rather than piled on the first one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { startTestCluster } from '../helpers/cluster';

test('a restarted mini-cluster keeps its topics, data, offsets and ports', async () => {
  let cluster = await startTestCluster();
  const dir = cluster.dir;
  const firstBootstrap = cluster.bootstrap;
  try {
    let kafka = new Kafka({ clientId: 'restart', brokers: cluster.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kept', numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    await admin.setOffsets({ groupId: 'kept-group', topic: 'kept', partitions: [{ partition: 0, offset: '1' }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'kept', acks: -1, messages: Array.from({ length: 30 }, (_, i) => ({ value: `kept-${i}`, partition: i % 3 })) });
    await producer.disconnect();
    await cluster.stop(true);

    cluster = await startTestCluster([], 3, dir);
    assert.equal(cluster.bootstrap, firstBootstrap, 'brokers come back on the same ports');
    const state = await cluster.waitForState((s) => s.topics.find((t) => t.name === 'kept')?.partitions.every((p) => p.isr.length === 3) ?? false, 15000, 'full ISR after restart');
    const leaders = new Set(state.topics.find((t) => t.name === 'kept')!.partitions.map((p) => p.leader));
    assert.ok(leaders.size > 1, `leaders spread over brokers, got ${[...leaders]}`);

    kafka = new Kafka({ clientId: 'restart-2', brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
    const admin2 = kafka.admin();
    await admin2.connect();
    const offsets = await admin2.fetchOffsets({ groupId: 'kept-group', topics: ['kept'] });
    assert.equal(offsets[0].partitions.find((p) => p.partition === 0)?.offset, '1');
    const high = await admin2.fetchTopicOffsets('kept');
    assert.deepEqual(high.map((o) => o.high).sort(), ['10', '10', '10']);
    await admin2.disconnect();
  } finally {
    await cluster.stop();
  }
});
