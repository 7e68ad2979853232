// kafkajs 2.2.4, unmodified, against a real broker on a loopback socket.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompressionCodecs, CompressionTypes, Kafka, logLevel, Admin, ConfigResourceTypes } from 'kafkajs';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const SnappyCodec = require('kafkajs-snappy');
import * as lz4js from 'lz4js';
import { startTestBroker, TestBroker } from '../helpers/broker';
import { waitFor } from '../helpers/wait';

CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
// kafkajs-lz4 needs a native module; this codec uses the pure-JS lz4js package directly.
CompressionCodecs[CompressionTypes.LZ4] = () => ({
  async compress(encoder: { buffer: Buffer }) {
    return Buffer.from(lz4js.compress(encoder.buffer));
  },
  async decompress(buffer: Buffer) {
    return Buffer.from(lz4js.decompress(buffer));
  },
});

let broker: TestBroker;
let kafka: Kafka;
let admin: Admin;

function client(bootstrap: string): Kafka {
  return new Kafka({ clientId: 'kafkajs-test', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 50 } });
}

before(async () => {
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  kafka = client(broker.bootstrap);
  admin = kafka.admin();
  await admin.connect();
});

after(async () => {
  await admin?.disconnect();
  await broker?.cleanup();
});

async function consumeAll(topic: string, expected: number, groupId = `g-${topic}-${Math.random()}`): Promise<Array<{ partition: number; offset: string; key: string | null; value: string | null; headers: Record<string, string> }>> {
  const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 500, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: Array<{ partition: number; offset: string; key: string | null; value: string | null; headers: Record<string, string> }> = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out with ${got.length}/${expected} messages`)), 20000);
    consumer
      .run({
        autoCommitInterval: 100,
        eachMessage: async ({ partition, message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
          got.push({ partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, headers });
          if (got.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return got;
}

describe('kafkajs', () => {
  test('creates a topic and sees it in metadata with a leader', async () => {
    assert.equal(await admin.createTopics({ topics: [{ topic: 'created', numPartitions: 3 }], waitForLeaders: true }), true);
    const md = await admin.fetchTopicMetadata({ topics: ['created'] });
    assert.equal(md.topics[0].partitions.length, 3);
    for (const p of md.topics[0].partitions) assert.equal(p.leader, 1);
    await assert.rejects(admin.createTopics({ topics: [{ topic: 'bad name!' }] }), (err: { errors?: Array<{ type: string; message: string }> }) => {
      assert.equal(err.errors?.[0].type, 'INVALID_TOPIC_EXCEPTION');
      return true;
    });
    // kafkajs reports TOPIC_ALREADY_EXISTS as `false` rather than an error.
    assert.equal(await admin.createTopics({ topics: [{ topic: 'created' }] }), false);
  });

  for (const [name, codec] of [
    ['none', CompressionTypes.None],
    ['gzip', CompressionTypes.GZIP],
    ['snappy', CompressionTypes.Snappy],
    ['lz4', CompressionTypes.LZ4],
  ] as const) {
    test(`produces with ${name} compression and consumes from the beginning`, async () => {
      const topic = `codec-${name}`;
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
      const producer = kafka.producer();
      await producer.connect();
      const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 5}`, value: `value ${i} ${'x'.repeat(i)}`, headers: { n: String(i) } }));
      const res = await producer.send({ topic, messages, compression: codec, acks: -1 });
      assert.ok(res.every((r) => r.errorCode === 0));
      await producer.disconnect();
      const got = await consumeAll(topic, 50);
      assert.deepEqual(got.map((m) => m.value).sort(), messages.map((m) => m.value).sort());
      // Same key, same partition, in order.
      for (const key of ['k0', 'k1']) {
        const values = got.filter((m) => m.key === key).map((m) => Number(m.value!.split(' ')[1]));
        assert.deepEqual(values, [...values].sort((a, b) => a - b));
        assert.equal(new Set(got.filter((m) => m.key === key).map((m) => m.partition)).size, 1);
      }
      assert.equal(got.find((m) => m.value === 'value 7 xxxxxxx')?.headers.n, '7');
    });
  }

  test('lists offsets: earliest, latest and by timestamp', async () => {
    const topic = 'offsets-by-time';
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    const t0 = Date.now() - 100000;
    for (let i = 0; i < 10; i++) await producer.send({ topic, messages: [{ value: `m${i}`, timestamp: String(t0 + i * 1000) }] });
    await producer.disconnect();
    const offsets = await admin.fetchTopicOffsets(topic);
    assert.deepEqual(offsets.map((o) => [o.low, o.high]), [['0', '10']]);
    const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, t0 + 4500);
    assert.equal(byTime[0].offset, '5');
  });

  test('describes and alters topic configs', async () => {
    const topic = 'configured';
    await admin.createTopics({ topics: [{ topic, configEntries: [{ name: 'retention.ms', value: '3600000' }] }], waitForLeaders: true });
    const described = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
    const entries = described.resources[0].configEntries;
    assert.equal(entries.find((e) => e.configName === 'retention.ms')?.configValue, '3600000');
    assert.equal(entries.find((e) => e.configName === 'cleanup.policy')?.configValue, 'delete');
    assert.ok(entries.length >= 20, 'every topic config is listed');
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '1000' }] }] });
    const again = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
    assert.equal(again.resources[0].configEntries.find((e) => e.configName === 'retention.ms')?.configValue, '1000');
    await assert.rejects(
      admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: 'soon' }] }] }),
      /config/i,
    );
  });

  test('describeConfigs with includeSynonyms lists each source in precedence order, as Kafka does', async () => {
    // A broker of its own, started with a static log.retention.ms (as if from server.properties).
    const configured = await startTestBroker({ 'log.retention.ms': '172800000' });
    const other = client(configured.bootstrap).admin();
    try {
      await other.connect();
      await other.createTopics({
        topics: [
          { topic: 'with-override', configEntries: [{ name: 'retention.ms', value: '3600000' }] },
          { topic: 'without-override' },
        ],
        waitForLeaders: true,
      });
      const describe = async (topic: string, includeSynonyms: boolean) => {
        const res = await other.describeConfigs({
          resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'segment.ms', 'cleanup.policy', 'max.message.bytes'] }],
          includeSynonyms,
        });
        assert.equal(res.resources[0].errorCode, 0);
        return Object.fromEntries(
          res.resources[0].configEntries.map((e) => [
            e.configName,
            { value: e.configValue, source: e.configSource, synonyms: e.configSynonyms.map((s) => [s.configSource, s.configName, s.configValue]) },
          ]),
        );
      };
      // Sources: 1 DYNAMIC_TOPIC_CONFIG, 4 STATIC_BROKER_CONFIG, 5 DEFAULT_CONFIG. The entry's source is its first
      // synonym's. Kafka lists broker synonyms from the topic config's own broker name on (ConfigHelper.configSynonyms
      // drops those before it): log.retention.ms has no default (log.retention.hours=168 holds it), so the default is
      // listed after a static log.retention.ms, and segment.ms (log.roll.ms unset, default in log.roll.hours) has none.
      const overridden = await describe('with-override', true);
      assert.deepEqual(overridden['retention.ms'], {
        value: '3600000',
        source: 1,
        synonyms: [
          [1, 'retention.ms', '3600000'],
          [4, 'log.retention.ms', '172800000'],
          [5, 'log.retention.hours', '168'],
        ],
      });
      assert.deepEqual(overridden['segment.ms'], { value: '604800000', source: 5, synonyms: [] });
      assert.deepEqual(overridden['cleanup.policy'], { value: 'delete', source: 5, synonyms: [[5, 'log.cleanup.policy', 'delete']] });
      assert.deepEqual(overridden['max.message.bytes'], { value: '1048588', source: 5, synonyms: [[5, 'message.max.bytes', '1048588']] });

      const inherited = await describe('without-override', true);
      assert.deepEqual(inherited['retention.ms'], {
        value: '172800000',
        source: 4,
        synonyms: [
          [4, 'log.retention.ms', '172800000'],
          [5, 'log.retention.hours', '168'],
        ],
      });

      // On a broker with no log.* settings, Kafka answers retention.ms, segment.ms, segment.jitter.ms and flush.ms
      // with empty synonym lists (their defaults live in log.retention.hours, log.roll.hours, log.roll.jitter.hours
      // and log.flush.scheduler.interval.ms); a config whose own broker name has a default lists it.
      await admin.createTopics({ topics: [{ topic: 'synonyms-defaults' }], waitForLeaders: true });
      const defaults = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'synonyms-defaults', configNames: ['retention.ms', 'segment.ms', 'segment.jitter.ms', 'flush.ms', 'retention.bytes'] }],
        includeSynonyms: true,
      });
      const bare = Object.fromEntries(defaults.resources[0].configEntries.map((e) => [e.configName, [e.configValue, e.configSource, e.configSynonyms.map((s) => [s.configSource, s.configName, s.configValue])]]));
      assert.deepEqual(bare, {
        'retention.ms': ['604800000', 5, []],
        'segment.ms': ['604800000', 5, []],
        'segment.jitter.ms': ['0', 5, []],
        'flush.ms': ['9223372036854775807', 5, []],
        'retention.bytes': ['-1', 5, [[5, 'log.retention.bytes', '-1']]],
      });

      // Without includeSynonyms the values and sources are the same and no synonyms are sent.
      const plain = await describe('with-override', false);
      assert.deepEqual(plain['retention.ms'], { value: '3600000', source: 1, synonyms: [] });
    } finally {
      await other.disconnect();
      await configured.cleanup();
    }
  });

  test('two consumers in one group split the partitions, and rebalance when one leaves', async () => {
    const topic = 'grouped';
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
    const groupId = 'split-group';
    const assigned = new Map<string, Set<number>>();
    const makeConsumer = async (name: string) => {
      const c = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 300, rebalanceTimeout: 5000, maxWaitTimeInMs: 100 });
      c.on(c.events.GROUP_JOIN, (e) => {
        assigned.set(name, new Set((e.payload.memberAssignment[topic] ?? []) as number[]));
      });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ eachMessage: async () => {} });
      return c;
    };
    const a = await makeConsumer('a');
    const b = await makeConsumer('b');
    await waitFor(() => (assigned.get('a')?.size ?? 0) + (assigned.get('b')?.size ?? 0) === 4 && (assigned.get('a')?.size ?? 0) === 2, 20000, () => JSON.stringify([...assigned].map(([k, v]) => [k, [...v]])));
    const union = new Set([...assigned.get('a')!, ...assigned.get('b')!]);
    assert.equal(union.size, 4, 'partitions are split without overlap');
    assigned.delete('a');
    await b.disconnect();
    await waitFor(() => assigned.get('a')?.size === 4, 20000, () => JSON.stringify([...assigned].map(([k, v]) => [k, [...v]])));
    await a.disconnect();
  });

  test('commits offsets and reads them back', async () => {
    const topic = 'committed';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.setOffsets({ groupId: 'committer', topic, partitions: [{ partition: 0, offset: '0' }, { partition: 1, offset: '0' }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }, { value: 'c', partition: 1 }] });
    await producer.disconnect();
    const got = await consumeAll(topic, 3, 'committer');
    assert.equal(got.length, 3);
    await waitFor(async () => {
      const offsets = await admin.fetchOffsets({ groupId: 'committer', topics: [topic] });
      const parts = offsets[0].partitions.sort((x, y) => x.partition - y.partition);
      return parts[0].offset === '2' && parts[1].offset === '1';
    }, 10000);
    const groups = await admin.listGroups();
    assert.ok(groups.groups.some((g) => g.groupId === 'committer'));
  });
});
