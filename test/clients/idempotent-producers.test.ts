// Idempotent producers of @platformatic/kafka 1.35 (unmodified) against a real broker: separate producers get
// separate producer ids (the client always sends producerId 0 / epoch 0 in InitProducerId, and a broker echoing
// them made two producers share id 0 and silently dropped one's records as duplicates of the other's), and ids
// stay unique across a broker restart, where a producer also goes on with its sequences (the partition log's
// producer state is snapshotted at shutdown and loaded at start).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Admin, Message, Producer } from '@platformatic/kafka';
import { startTestBroker, TestBroker } from '../helpers/broker';
import { WireClient } from '../../src/broker/wireClient';
import { InitProducerId } from '../../src/protocol/apis/22-init-producer-id';

type PlatformaticKafka = typeof import('@platformatic/kafka');
type StringProducer = Producer<string, string, string, string>;

const CLIENT_ID = 'idempotent-producers-test';
let pk: PlatformaticKafka;
let broker: TestBroker;

before(async () => {
  pk = await import('@platformatic/kafka');
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
});

after(async () => {
  await broker?.cleanup();
});

function newProducer(): StringProducer {
  return new pk.Producer({
    clientId: CLIENT_ID,
    bootstrapBrokers: [broker.bootstrap],
    serializers: pk.stringSerializers,
    idempotent: true,
    retries: 5,
    retryDelay: 100,
  });
}

async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new pk.Admin({ clientId: CLIENT_ID, bootstrapBrokers: [broker.bootstrap], retries: 5, retryDelay: 100 });
  try {
    return await fn(admin);
  } finally {
    await admin.close();
  }
}

/** Every value in partition 0 of `topic`, in offset order (reads until `expected` arrived). */
async function readAll(topic: string, expected: number): Promise<string[]> {
  const consumer = new pk.Consumer({
    clientId: CLIENT_ID,
    groupId: `g-${topic}-${Date.now()}`,
    bootstrapBrokers: [broker.bootstrap],
    deserializers: pk.stringDeserializers,
    retries: 5,
    retryDelay: 100,
  });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: pk.MessagesStreamModes.EARLIEST, autocommit: false });
    const got: Array<Message<string, string, string, string>> = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out with ${got.length}/${expected} messages`)), 15000);
      stream.on('data', (m: Message<string, string, string, string>) => {
        got.push(m);
        if (got.length >= expected) {
          clearTimeout(timer);
          resolve();
        }
      });
      stream.on('error', reject);
    });
    await stream.close();
    return got.sort((a, b) => (a.offset < b.offset ? -1 : 1)).map((m) => m.value);
  } finally {
    await consumer.close(true);
  }
}

async function initProducerId(requestedId: number, requestedEpoch: number): Promise<{ producerId: number; producerEpoch: number; errorCode: number }> {
  const wire = new WireClient('127.0.0.1', broker.broker.port, 'init-producer-id-test');
  await wire.connect();
  try {
    return await wire.request(InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60000, producerId: requestedId, producerEpoch: requestedEpoch });
  } finally {
    wire.close();
  }
}

describe('idempotent producers (@platformatic/kafka)', () => {
  test('two separate idempotent producers get distinct producer ids and neither loses records', async () => {
    const topic = 'two-idempotent-producers';
    await withAdmin((admin) => admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 }));
    const a = newProducer();
    const b = newProducer();
    try {
      for (let i = 0; i < 10; i++) {
        // Interleaved sends: with a shared producer id, b's sequence 0 was a "duplicate" of a's first batch.
        await a.send({ messages: [{ topic, partition: 0, value: `a${i}` }] });
        await b.send({ messages: [{ topic, partition: 0, value: `b${i}` }] });
      }
      assert.notEqual(a.producerId, undefined);
      assert.notEqual(a.producerId, b.producerId, `both producers got producer id ${a.producerId}`);
    } finally {
      await a.close();
      await b.close();
    }
    const values = await readAll(topic, 20);
    assert.deepEqual(values, Array.from({ length: 10 }, (_, i) => [`a${i}`, `b${i}`]).flat());
  });

  test('InitProducerId without a transactional id always allocates a new id, whatever id and epoch it carries', async () => {
    const first = await initProducerId(-1, -1);
    const again = await initProducerId(first.producerId, first.producerEpoch);
    const zero = await initProducerId(0, 0);
    for (const r of [first, again, zero]) assert.deepEqual([r.errorCode, r.producerEpoch], [0, 0]);
    assert.equal(new Set([first.producerId, again.producerId, zero.producerId]).size, 3);
  });

  test('producer ids stay unique across a broker restart, and a producer goes on with its sequences', async () => {
    const topic = 'idempotent-across-restart';
    await withAdmin((admin) => admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 }));
    const longLived = newProducer();
    try {
      await longLived.send({ messages: [{ topic, partition: 0, value: 'before 1' }] });
      await longLived.send({ messages: [{ topic, partition: 0, value: 'before 2' }] });
      const idsBefore = [Number(longLived.producerId), (await initProducerId(-1, -1)).producerId];

      broker = await broker.restart();

      // The same producer (same id, sequence 2 next) reconnects: the restarted broker knows it from the snapshot.
      await longLived.send({ messages: [{ topic, partition: 0, value: 'before 3, after the restart' }] });
      const idsAfter = [(await initProducerId(-1, -1)).producerId, (await initProducerId(0, 0)).producerId];
      const fresh = newProducer();
      try {
        await fresh.send({ messages: [{ topic, partition: 0, value: 'fresh' }] });
        idsAfter.push(Number(fresh.producerId));
      } finally {
        await fresh.close();
      }
      const all = [...idsBefore, ...idsAfter];
      assert.equal(new Set(all).size, all.length, `producer ids ${all.join(', ')}`);
      assert.ok(Math.min(...idsAfter) > Math.max(...idsBefore), `ids after the restart come from a new block: ${all.join(', ')}`);
    } finally {
      await longLived.close();
    }
    assert.deepEqual(await readAll(topic, 4), ['before 1', 'before 2', 'before 3, after the restart', 'fresh']);
  });
});
