// min.insync.replicas larger than the replication factor, as Kafka >= 3.7 treats it: the topic is created and the
// setting kept as given (DescribeConfigs shows it), and the effective minimum is the replica count
// (Partition.effectiveMinIsr, KAFKA-15583): acks=all writes to a fully in-sync partition succeed and are visible.
// (Kafka <= 3.6 refused every such acks=all write with NOT_ENOUGH_REPLICAS.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { startTestBroker, TestBroker } from '../helpers/broker';

let broker: TestBroker;
let kafka: Kafka;

before(async () => {
  broker = await startTestBroker();
  kafka = new Kafka({ clientId: 'min-isr', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
});

after(async () => {
  await broker?.cleanup();
});

describe('min.insync.replicas above the replication factor', () => {
  test('accepted at creation and alteration, shown as given; acks=all succeeds with the whole (one-replica) ISR', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({
        topics: [{ topic: 'min-isr-3-rf-1', numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'min.insync.replicas', value: '3' }] }],
        waitForLeaders: true,
      });
      assert.equal(created, true);
      const describe = async () =>
        (await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'min-isr-3-rf-1', configNames: ['min.insync.replicas'] }] }))
          .resources[0].configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue;
      assert.equal(await describe(), '3');

      const producer = kafka.producer();
      await producer.connect();
      const [sent] = await producer.send({ topic: 'min-isr-3-rf-1', acks: -1, messages: [{ value: 'acks=all with min.insync.replicas 3 and one replica' }] });
      assert.equal(sent.errorCode, 0);
      await producer.disconnect();
      // The HW advanced: a consumer sees the record.
      const offsets = await admin.fetchTopicOffsets('min-isr-3-rf-1');
      assert.equal(offsets[0].high, '1');

      await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'min-isr-3-rf-1', configEntries: [{ name: 'min.insync.replicas', value: '5' }] }] });
      assert.equal(await describe(), '5');
      // Below 1 is what Kafka refuses (INVALID_CONFIG).
      await assert.rejects(
        admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'min-isr-3-rf-1', configEntries: [{ name: 'min.insync.replicas', value: '0' }] }] }),
        /min\.insync\.replicas|Invalid|config/i,
      );
    } finally {
      await admin.disconnect();
    }
  });
});
