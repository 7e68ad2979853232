// `minikafka start --broker-id-base 0`: brokers numbered 0, 1, 2 as in Kafka's quickstart, and broker 0 treated like
// any other (no "0 is falsy" slips): clients see it, it leads, it can be killed and restarted from the CLI, a broker
// added later takes the next id, and broker configs can be described and altered on resource "0" (and on "", which
// every broker process then reports).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { runCli } from '../helpers/cli';
import { startTestCluster, TestCluster } from '../helpers/cluster';

let cluster: TestCluster;
const kafka = () => new Kafka({ clientId: 'id-base', brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });

before(async () => {
  cluster = await startTestCluster(['--broker-id-base', '0', '--config', 'min.insync.replicas=2'], 3);
});

after(async () => {
  await cluster?.stop();
});

test('brokers 0, 1, 2: Metadata, leadership, kill and restart of broker 0, broker add, configs of resource "0"', async () => {
  assert.deepEqual((await cluster.state()).brokers.map((b) => b.id), [0, 1, 2]);
  const admin = kafka().admin();
  await admin.connect();
  try {
    const described = await admin.describeCluster();
    assert.deepEqual(described.brokers.map((b) => b.nodeId).sort(), [0, 1, 2]);
    assert.ok([0, 1, 2].includes(described.controller!));

    // A topic whose partition 0 is led by broker 0, written with acks=all.
    await admin.createTopics({ topics: [{ topic: 'zero', replicaAssignment: [{ partition: 0, replicas: [0, 1, 2] }] }] });
    const meta = await admin.fetchTopicMetadata({ topics: ['zero'] });
    assert.equal(meta.topics[0].partitions[0].leader, 0);
    const producer = kafka().producer();
    await producer.connect();
    await producer.send({ topic: 'zero', acks: -1, messages: [{ value: 'before' }] });

    // `minikafka broker kill 0`: leadership moves, writes go on; `broker restart 0` brings it back into the ISR.
    const killed = await runCli(['broker', 'kill', '0', '--dir', cluster.dir]);
    assert.equal(killed.code, 0, killed.stderr);
    await cluster.waitForState((s) => s.topics.find((t) => t.name === 'zero')?.partitions[0].leader !== 0, 15000, 'a new leader for zero-0');
    await producer.send({ topic: 'zero', acks: -1, messages: [{ value: 'after' }] });
    await producer.disconnect();
    const restarted = await runCli(['broker', 'restart', '0', '--dir', cluster.dir]);
    assert.equal(restarted.code, 0, restarted.stderr);
    await cluster.waitForState((s) => s.topics.find((t) => t.name === 'zero')?.partitions[0].isr.length === 3, 20000, 'broker 0 back in the ISR');

    const added = await runCli(['broker', 'add', '--dir', cluster.dir]);
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual((await cluster.state()).brokers.map((b) => b.id), [0, 1, 2, 3]);

    // Broker configs on resource "0" (kafkajs sends a broker resource to that broker).
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 4, name: '0', configEntries: [{ name: 'log.retention.ms', value: '3600000' }] }] });
    const configs = await admin.describeConfigs({ resources: [{ type: 4, name: '0', configNames: ['log.retention.ms', 'broker.id'] }], includeSynonyms: false });
    const byName = Object.fromEntries(configs.resources[0].configEntries.map((e) => [e.configName, e.configValue]));
    assert.deepEqual(byName, { 'broker.id': '0', 'log.retention.ms': '3600000' });

    // The cluster-wide default ("") through the controller reaches every broker process (@platformatic/kafka sends
    // a broker resource to broker Number(name), which for "" is broker 0, here a real broker).
    const pk = await import('@platformatic/kafka');
    const pAdmin = new pk.Admin({ clientId: 'id-base-pk', bootstrapBrokers: cluster.brokers, retries: 5, retryDelay: 100 });
    try {
      await pAdmin.incrementalAlterConfigs({ resources: [{ resourceType: 4, resourceName: '', configs: [{ name: 'log.segment.bytes', configOperation: 0, value: '5000000' }] }] });
    } finally {
      await pAdmin.close();
    }
    for (const id of ['1', '2']) {
      const seen = await admin.describeConfigs({ resources: [{ type: 4, name: id, configNames: ['log.segment.bytes'] }], includeSynonyms: false });
      const e = seen.resources[0].configEntries[0];
      assert.deepEqual([e.configValue, e.configSource], ['5000000', 3], `broker ${id}: DYNAMIC_DEFAULT_BROKER_CONFIG`);
    }
    const topicConfig = await admin.describeConfigs({ resources: [{ type: 2, name: 'zero', configNames: ['segment.bytes'] }], includeSynonyms: false });
    assert.equal(topicConfig.resources[0].configEntries[0].configValue, '5000000', 'a topic without its own segment.bytes follows');
  } finally {
    await admin.disconnect();
  }
});
