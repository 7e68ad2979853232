// @platformatic/kafka, unmodified, using transactions against a real broker: a transactional producer commits and
// aborts; its consumers read committed by default (only committed records) or, asked to, uncommitted (all).
// An ES module: loaded with a dynamic import from this CommonJS test; only its types are imported statically.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Admin, Producer } from '@platformatic/kafka';
import { startTestBroker, TestBroker } from '../helpers/broker';

type PlatformaticKafka = typeof import('@platformatic/kafka');

let pk: PlatformaticKafka;
let broker: TestBroker;
let admin: Admin;
const producers: Array<Producer<string, string, string, string>> = [];

before(async () => {
  pk = await import('@platformatic/kafka');
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  admin = new pk.Admin({ clientId: 'platformatic-txn-test', bootstrapBrokers: [broker.bootstrap], retries: 5, retryDelay: 100 });
});

after(async () => {
  for (const p of producers) await p.close().catch(() => {});
  await admin?.close();
  await broker?.cleanup();
});

function txnProducer(transactionalId: string): Producer<string, string, string, string> {
  const p = new pk.Producer({
    clientId: 'platformatic-txn-test',
    bootstrapBrokers: [broker.bootstrap],
    serializers: pk.stringSerializers,
    idempotent: true,
    transactionalId,
    retries: 10,
    retryDelay: 100,
  });
  producers.push(p);
  return p;
}

/** Every value in `topic` read with `isolationLevel`, until `quietMs` pass without a new one. */
async function readAll(topic: string, isolationLevel: number, quietMs = 2000): Promise<string[]> {
  const consumer = new pk.Consumer({
    clientId: 'platformatic-txn-test',
    groupId: `read-${topic}-${Math.random()}`,
    bootstrapBrokers: [broker.bootstrap],
    deserializers: pk.stringDeserializers,
    isolationLevel,
    maxWaitTime: 200,
    sessionTimeout: 10000,
    heartbeatInterval: 500,
  });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: pk.MessagesStreamModes.EARLIEST, autocommit: false });
    const got: string[] = [];
    await new Promise<void>((resolve) => {
      let quiet = setTimeout(resolve, quietMs * 3);
      stream.on('data', (m: { value: string }) => {
        got.push(m.value);
        clearTimeout(quiet);
        quiet = setTimeout(resolve, quietMs);
      });
    });
    await stream.close();
    return got.sort();
  } finally {
    await consumer.close(true);
  }
}

describe('@platformatic/kafka transactions', () => {
  test('commit and abort: read_committed (its default) sees committed records only, read_uncommitted all', async () => {
    await admin.createTopics({ topics: ['plt-txn'], partitions: 2, replicas: 1 });
    const producer = txnProducer('plt-txn-id');
    const t1 = await producer.beginTransaction();
    await t1.send({ messages: [{ topic: 'plt-txn', key: 'a', value: 'c1' }, { topic: 'plt-txn', key: 'b', value: 'c2' }] });
    await t1.commit();
    const t2 = await producer.beginTransaction();
    await t2.send({ messages: [{ topic: 'plt-txn', key: 'a', value: 'x1' }] });
    await t2.abort();
    const t3 = await producer.beginTransaction();
    await t3.send({ messages: [{ topic: 'plt-txn', key: 'c', value: 'c3' }] });
    await t3.commit();

    assert.deepEqual(await readAll('plt-txn', pk.FetchIsolationLevels.READ_COMMITTED), ['c1', 'c2', 'c3']);
    assert.deepEqual(await readAll('plt-txn', pk.FetchIsolationLevels.READ_UNCOMMITTED), ['c1', 'c2', 'c3', 'x1']);
  });

  test('consume-transform-produce: addConsumer/addOffset commit the group offset with the output, once', async () => {
    await admin.createTopics({ topics: ['plt-ctp-in', 'plt-ctp-out'], partitions: 1, replicas: 1 });
    const plain = new pk.Producer({ clientId: 'platformatic-txn-test', bootstrapBrokers: [broker.bootstrap], serializers: pk.stringSerializers });
    await plain.send({ messages: ['a', 'b', 'c'].map((value) => ({ topic: 'plt-ctp-in', value })) });
    await plain.close();

    const groupId = 'plt-ctp-group';
    const consumer = new pk.Consumer({
      clientId: 'platformatic-txn-test',
      groupId,
      bootstrapBrokers: [broker.bootstrap],
      deserializers: pk.stringDeserializers,
      maxWaitTime: 200,
      sessionTimeout: 10000,
      heartbeatInterval: 500,
    });
    const producer = txnProducer('plt-ctp-id');
    try {
      const stream = await consumer.consume({ topics: ['plt-ctp-in'], mode: pk.MessagesStreamModes.EARLIEST, autocommit: false });
      let done = 0;
      for await (const message of stream) {
        const txn = await producer.beginTransaction();
        await txn.send({ messages: [{ topic: 'plt-ctp-out', value: `out-${message.value}` }] });
        await txn.addConsumer(consumer);
        await txn.addOffset(message);
        await txn.commit();
        if (++done === 3) break;
      }
      await stream.close();
      // The offset committed with the last message is the next one to read (3), visible once its marker is written.
      let committed = -1;
      for (let i = 0; i < 50 && committed !== 3; i++) {
        const offsets = await admin.listConsumerGroupOffsets({ groups: [groupId], requireStable: true }).catch(() => []);
        const p = offsets[0]?.topics.find((t) => t.name === 'plt-ctp-in')?.partitions[0];
        committed = p ? Number(p.committedOffset) : -1;
        if (committed !== 3) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(committed, 3);
    } finally {
      await consumer.close(true);
    }
    assert.deepEqual(await readAll('plt-ctp-out', pk.FetchIsolationLevels.READ_COMMITTED), ['out-a', 'out-b', 'out-c']);
  });
});
