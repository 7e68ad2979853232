// `minikafka transactions` (kafka-transactions.sh's list, describe and describe-producers) against a real broker,
// while a kafkajs transactional producer has a transaction open and after it commits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { startTestBroker, TestBroker } from '../helpers/broker';
import { runCli } from '../helpers/cli';

let broker: TestBroker;
let producer: Producer;

before(async () => {
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
});

after(async () => {
  await producer?.disconnect().catch(() => {});
  await broker?.cleanup();
});

async function ok(args: string[]): Promise<string[][]> {
  const r = await runCli(['transactions', '--bootstrap-server', broker.bootstrap, ...args]);
  assert.equal(r.code, 0, `minikafka transactions ${args.join(' ')}\n${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
}

describe('minikafka transactions', () => {
  test('list, describe and describe-producers show an open transaction, then its commit', async () => {
    const kafka = new Kafka({ clientId: 'cli-txn', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'cli-txn', numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    producer = kafka.producer({ transactionalId: 'cli-txn-id', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const txn = await producer.transaction();
    await txn.send({ topic: 'cli-txn', messages: [{ value: 'a' }, { value: 'b' }] });

    const list = await ok(['--list']);
    assert.deepEqual(list[0], ['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState']);
    const row = list.find((r) => r[0] === 'cli-txn-id');
    assert.ok(row, list.join('\n'));
    assert.equal(row[1], '1');
    assert.equal(row[3], 'Ongoing');
    const producerId = row[2];

    const described = await ok(['--describe', '--transactional-id', 'cli-txn-id']);
    assert.equal(described[0][0], 'CoordinatorId');
    assert.deepEqual([described[1][0], described[1][1], described[1][2], described[1][4], described[1][8]], ['1', 'cli-txn-id', producerId, 'Ongoing', 'cli-txn-0']);

    // The subcommand form, as kafka-transactions.sh is used.
    const producers = await ok(['describe-producers', '--topic', 'cli-txn', '--partition', '0']);
    assert.equal(producers[0][5], 'CurrentTransactionStartOffset');
    assert.deepEqual([producers[1][0], producers[1][3], producers[1][5]], [producerId, '1', '0']);

    await txn.commit();
    for (let i = 0; i < 40; i++) {
      const again = await ok(['describe', '--transactional-id', 'cli-txn-id']);
      if (again[1][4] === 'CompleteCommit') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const after = await ok(['describe', '--transactional-id', 'cli-txn-id']);
    // As Kafka's coordinator, the completed transaction keeps its start time; its partitions are cleared.
    assert.equal(after[1][4], 'CompleteCommit');
    assert.equal(after[1].length, 8, `no TopicPartitions: ${after[1].join(' ')}`);
    assert.equal((await ok(['describe-producers', '--topic', 'cli-txn', '--partition', '0']))[1][5], 'None');

    const unknown = await runCli(['transactions', '--bootstrap-server', broker.bootstrap, '--describe', '--transactional-id', 'nope']);
    assert.notEqual(unknown.code, 0);
  });
});
