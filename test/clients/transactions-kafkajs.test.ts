// kafkajs 2.2.4, unmodified, using transactions against a real broker: commit, abort, sendOffsets (consume-
// transform-produce), fencing of a producer by a second one with the same transactional id, and the read_committed
// view (kafkajs consumers read committed by default) next to a read_uncommitted one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Admin, Kafka, logLevel, Producer } from 'kafkajs';
import { startTestBroker, TestBroker } from '../helpers/broker';
import { WireClient } from '../../src/broker/wireClient';
import { AddPartitionsToTxn, DescribeTransactions, EndTxn, FindCoordinator, InitProducerId, OffsetFetch, Produce } from '../../src/protocol/apis';
import { buildBatch } from '../../src/protocol/records/recordBatch';
import { ErrorCode } from '../../src/protocol/errorCode';

let broker: TestBroker;
let kafka: Kafka;
let admin: Admin;
const producers: Producer[] = [];

before(async () => {
  broker = await startTestBroker({
    'group.initial.rebalance.delay.ms': '0',
    'transaction.abort.timed.out.transaction.cleanup.interval.ms': '200',
  });
  kafka = new Kafka({ clientId: 'kafkajs-txn-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 50 } });
  admin = kafka.admin();
  await admin.connect();
});

after(async () => {
  for (const p of producers) await p.disconnect().catch(() => {});
  await admin?.disconnect();
  await broker?.cleanup();
});

async function txnProducer(transactionalId: string, transactionTimeout = 60000): Promise<Producer> {
  const p = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout });
  producers.push(p);
  await p.connect();
  return p;
}

/** Everything in the topic, read with the given isolation, until `expected` messages (or `quietMs` of nothing new). */
async function readAll(topic: string, readUncommitted: boolean, expected: number, quietMs = 1500): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `read-${topic}-${Math.random()}`, readUncommitted, maxWaitTimeInMs: 100, sessionTimeout: 10000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let quiet: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(quiet);
      quiet = setTimeout(resolve, got.length >= expected ? quietMs : 15000);
    };
    arm();
    consumer.run({ eachMessage: async ({ message }) => void (got.push(message.value!.toString()), arm()) }).catch(reject);
  });
  await consumer.disconnect();
  return got.sort();
}

describe('kafkajs transactions', () => {
  test('committed records are visible to read_committed, aborted ones are not (but are to read_uncommitted)', async () => {
    await admin.createTopics({ topics: [{ topic: 'txn-basic', numPartitions: 2 }], waitForLeaders: true });
    const producer = await txnProducer('txn-basic-id');
    const t1 = await producer.transaction();
    await t1.send({ topic: 'txn-basic', messages: [{ key: 'a', value: 'c1' }, { key: 'b', value: 'c2' }] });
    await t1.commit();
    const t2 = await producer.transaction();
    await t2.send({ topic: 'txn-basic', messages: [{ key: 'a', value: 'x1' }, { key: 'b', value: 'x2' }] });
    await t2.abort();
    const t3 = await producer.transaction();
    await t3.send({ topic: 'txn-basic', messages: [{ key: 'c', value: 'c3' }] });
    await t3.commit();

    assert.deepEqual(await readAll('txn-basic', false, 3), ['c1', 'c2', 'c3']);
    assert.deepEqual(await readAll('txn-basic', true, 5), ['c1', 'c2', 'c3', 'x1', 'x2']);
    // Nothing is open any more: the LSO is the HW; the aborted transaction is in the aborted index of the
    // partitions it wrote to.
    let aborted = 0;
    for (const i of [0, 1]) {
      const p = broker.broker.partition('txn-basic', i)!;
      assert.equal(p.log.lastStableOffset, p.highWatermark);
      aborted += p.log.abortedTransactions(0, p.highWatermark).length;
    }
    assert.ok(aborted >= 1 && aborted <= 2, `aborted transactions indexed: ${aborted}`);
  });

  test('an open transaction holds read_committed consumers back until it commits', async () => {
    await admin.createTopics({ topics: [{ topic: 'txn-open', numPartitions: 1 }], waitForLeaders: true });
    const plain = kafka.producer();
    producers.push(plain);
    await plain.connect();
    await plain.send({ topic: 'txn-open', messages: [{ value: 'before' }] });
    const producer = await txnProducer('txn-open-id');
    const txn = await producer.transaction();
    await txn.send({ topic: 'txn-open', messages: [{ value: 'inside' }] });
    await plain.send({ topic: 'txn-open', messages: [{ value: 'after' }] });
    // Only what precedes the open transaction is stable.
    assert.deepEqual(await readAll('txn-open', false, 1, 1000), ['before']);
    await txn.commit();
    assert.deepEqual(await readAll('txn-open', false, 3), ['after', 'before', 'inside']);
  });

  test('sendOffsets: the group offsets move only when the transaction commits', async () => {
    await admin.createTopics({ topics: [{ topic: 'txn-in', numPartitions: 1 }, { topic: 'txn-out', numPartitions: 1 }], waitForLeaders: true });
    const producer = await txnProducer('txn-ctp-id');
    const groupId = 'txn-ctp-group';
    const aborted = await producer.transaction();
    await aborted.send({ topic: 'txn-out', messages: [{ value: 'dropped' }] });
    await aborted.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: 'txn-in', partitions: [{ partition: 0, offset: '7' }] }] });
    await aborted.abort();
    let fetched = await admin.fetchOffsets({ groupId, topics: ['txn-in'] });
    assert.equal(fetched[0].partitions[0].offset, '-1');

    const committed = await producer.transaction();
    await committed.send({ topic: 'txn-out', messages: [{ value: 'kept' }] });
    await committed.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: 'txn-in', partitions: [{ partition: 0, offset: '5' }] }] });
    // While the transaction is open, an OffsetFetch with require_stable gets UNSTABLE_OFFSET_COMMIT (KIP-447).
    const wire = new WireClient('127.0.0.1', broker.broker.port, 'txn-test');
    await wire.connect();
    const stable = async () =>
      (await wire.request(OffsetFetch, 7, { groupId, topics: [{ name: 'txn-in', partitionIndexes: [0] }], requireStable: true, groups: [] })).topics[0].partitions[0];
    assert.equal((await stable()).errorCode, ErrorCode.UNSTABLE_OFFSET_COMMIT);
    await committed.commit();
    // The marker reaches __consumer_offsets just after EndTxn is answered.
    for (let i = 0; i < 50; i++) {
      fetched = await admin.fetchOffsets({ groupId, topics: ['txn-in'] });
      if (fetched[0].partitions[0].offset === '5') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(fetched[0].partitions[0].offset, '5');
    assert.deepEqual(await stable().then((p) => [p.errorCode, p.committedOffset]), [0, 5]);
    wire.close();
    assert.deepEqual(await readAll('txn-out', false, 1), ['kept']);
  });

  test('a second producer with the same transactional id fences the first', async () => {
    await admin.createTopics({ topics: [{ topic: 'txn-fence', numPartitions: 1 }], waitForLeaders: true });
    const first = await txnProducer('txn-fence-id');
    const t1 = await first.transaction();
    await t1.send({ topic: 'txn-fence', messages: [{ value: 'zombie' }] });
    // The second instance's InitProducerId aborts the first's open transaction and bumps the epoch.
    const second = await txnProducer('txn-fence-id');
    const t2 = await second.transaction();
    await t2.send({ topic: 'txn-fence', messages: [{ value: 'fresh' }] });
    await t2.commit();
    await assert.rejects(
      (async () => {
        await t1.send({ topic: 'txn-fence', messages: [{ value: 'zombie-2' }] });
        await t1.commit();
      })(),
      (err: Error & { type?: string }) => {
        assert.match(String(err.type ?? err.message), /PRODUCER_FENCED|INVALID_PRODUCER_EPOCH|fenced|epoch/i);
        return true;
      },
    );
    assert.deepEqual(await readAll('txn-fence', false, 1), ['fresh']);
  });

  test('a transaction open longer than its timeout is aborted by the coordinator', async () => {
    await admin.createTopics({ topics: [{ topic: 'txn-timeout', numPartitions: 1 }], waitForLeaders: true });
    const producer = await txnProducer('txn-timeout-id', 1000);
    const txn = await producer.transaction();
    await txn.send({ topic: 'txn-timeout', messages: [{ value: 'expires' }] });
    await new Promise((r) => setTimeout(r, 2000));
    // The abort marker closed it: the LSO moved past it and a read_committed reader sees nothing.
    const p = broker.broker.partition('txn-timeout', 0)!;
    assert.equal(p.log.lastStableOffset, p.highWatermark);
    assert.deepEqual(await readAll('txn-timeout', false, 0, 500), []);
    await assert.rejects(txn.commit());
  });

  test('a transactional batch to a partition outside the transaction is refused (KIP-890 verification)', async () => {
    await admin.createTopics({ topics: [{ topic: 'txn-verify', numPartitions: 2 }], waitForLeaders: true });
    const wire = new WireClient('127.0.0.1', broker.broker.port, 'txn-verify-test');
    await wire.connect();
    try {
      const transactionalId = 'txn-verify-id';
      await wire.request(FindCoordinator, 3, { key: transactionalId, keyType: 1, coordinatorKeys: [] });
      const init = await wire.request(InitProducerId, 4, { transactionalId, transactionTimeoutMs: 60000 });
      assert.equal(init.errorCode, 0);
      const { producerId, producerEpoch } = init;
      let sequence = 0;
      const produce = async (version: number, partition: number) => {
        const records = buildBatch({ records: [{ value: 'v' }], producerId, producerEpoch, baseSequence: sequence, transactional: true });
        const res = await wire.request(Produce, version, { transactionalId, acks: -1, timeoutMs: 5000, topicData: [{ name: 'txn-verify', partitionData: [{ index: partition, records }] }] });
        const code = res.responses[0].partitionResponses[0].errorCode;
        if (code === 0) sequence++;
        return code;
      };
      // No AddPartitionsToTxn yet: refused, INVALID_TXN_STATE before Produce v11, TRANSACTION_ABORTABLE from v11.
      assert.equal(await produce(9, 0), ErrorCode.INVALID_TXN_STATE);
      assert.equal(await produce(11, 0), ErrorCode.TRANSACTION_ABORTABLE);
      const p0 = broker.broker.partition('txn-verify', 0)!;
      assert.equal(p0.log.lastStableOffset, p0.highWatermark, 'nothing was appended, nothing hangs');

      const added = await wire.request(AddPartitionsToTxn, 3, { transactionalId, producerId, producerEpoch, topics: [{ name: 'txn-verify', partitions: [0] }] });
      assert.equal(added.results[0].results[0].partitionErrorCode, 0);
      assert.equal(await produce(11, 0), 0);
      assert.equal(await produce(11, 0), 0); // the transaction is open here now: no second question
      assert.equal(await produce(11, 1), ErrorCode.TRANSACTION_ABORTABLE); // partition 1 was never added
      assert.equal(p0.log.lastStableOffset, 0);
      const ended = await wire.request(EndTxn, 3, { transactionalId, producerId, producerEpoch, committed: false });
      assert.equal(ended.errorCode, 0);
    } finally {
      wire.close();
    }
  });

  test('a transactional id idle for transactional.id.expiration.ms is forgotten; its next producer gets a new id', async () => {
    const wire = new WireClient('127.0.0.1', broker.broker.port, 'txn-expiry-test');
    await wire.connect();
    try {
      const transactionalId = 'txn-expiry-id';
      await wire.request(FindCoordinator, 3, { key: transactionalId, keyType: 1, coordinatorKeys: [] });
      const first = await wire.request(InitProducerId, 4, { transactionalId, transactionTimeoutMs: 60000 });
      assert.equal(first.errorCode, 0);
      const described = () => wire.request(DescribeTransactions, 0, { transactionalIds: [transactionalId] });
      assert.equal((await described()).transactionStates[0].transactionState, 'Empty');
      // As if transactional.id.expiration.ms (7 days by default) had passed.
      await broker.broker.txns.removeExpiredTransactionalIds(Date.now() + 7 * 24 * 3600 * 1000 + 1);
      assert.equal((await described()).transactionStates[0].errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
      const second = await wire.request(InitProducerId, 4, { transactionalId, transactionTimeoutMs: 60000 });
      assert.equal(second.errorCode, 0);
      assert.notEqual(second.producerId, first.producerId);
      assert.equal(second.producerEpoch, 0);
    } finally {
      wire.close();
    }
  });
});
