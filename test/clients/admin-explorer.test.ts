// The admin reads behind the explorer's Transactions and ACLs folders, a partition's LSO and a broker's log dirs,
// against real brokers: ClusterAdmin (kafkajs's connection, with this project's codec for DescribeProducers,
// DescribeLogDirs and read_uncommitted ListOffsets) while a kafkajs transactional producer (a client we did not
// write) holds a transaction open, then commits it; kafkajs's own ACL requests on a broker with an authorizer, and
// SECURITY_DISABLED from one without.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { BrokerError, ClusterAdmin } from '../../src/client/admin';
import { explainOpenTransactions, readTransactions } from '../../src/extension/model/transactions';
import { startTestBroker, TestBroker } from '../helpers/broker';

let broker: TestBroker;
let secured: TestBroker;
let producer: Producer | undefined;
let admin: ClusterAdmin;

before(async () => {
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  // No SASL: every client is User:ANONYMOUS; allowed where no binding names the resource.
  secured = await startTestBroker({ 'authorizer.class.name': 'StandardAuthorizer', 'allow.everyone.if.no.acl.found': 'true' });
  admin = new ClusterAdmin({ bootstrapServers: [broker.bootstrap], clientId: 'explorer-test' });
  await admin.connect();
});

after(async () => {
  await producer?.disconnect().catch(() => {});
  await admin?.disconnect().catch(() => {});
  await broker?.cleanup();
  await secured?.cleanup();
});

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  let v = await read();
  while (!ok(v)) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
    v = await read();
  }
  return v;
}

describe('explorer admin reads', () => {
  test('an open transaction: listed with its partitions, LSO < HW explained, then gone after commit', async () => {
    const kafka = new Kafka({ clientId: 'explorer-txn', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    await admin.createTopic({ name: 'ex-txn', partitions: 2, replicationFactor: 1 });
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic: 'ex-txn', messages: [{ value: 'before', partition: 0 }] });
    await plain.disconnect();
    producer = kafka.producer({ transactionalId: 'ex-txn-id', idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60000 });
    await producer.connect();
    const txn = await producer.transaction();
    const started = Date.now();
    await txn.send({ topic: 'ex-txn', messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 0 }] });

    const [t] = await admin.describeTopics(['ex-txn'], { includeOffsets: true });
    const p0 = t.partitions[0];
    // HW 3 (one committed record, two open); read_committed stops at the open transaction's first offset, 1.
    assert.deepEqual([p0.low, p0.high, p0.stable], ['0', '3', '1']);
    assert.deepEqual([t.partitions[1].high, t.partitions[1].stable], ['0', '0']);

    const overview = await readTransactions(admin, ['ex-txn']);
    assert.equal(overview.orphans.length, 0, JSON.stringify(overview.orphans));
    const open = overview.open.find((o) => o.transactionalId === 'ex-txn-id');
    assert.ok(open, JSON.stringify(overview));
    assert.equal(open.state, 'Ongoing');
    assert.equal(open.timeoutMs, 60000);
    assert.equal(open.hanging, undefined);
    assert.deepEqual(open.partitions, [{ topic: 'ex-txn', partition: 0 }]);
    assert.ok(Math.abs(open.startTimeMs - started) < 5000, `start ${open.startTimeMs} vs ${started}`);

    const onPartitions = await admin.openTransactionsOn(['ex-txn']);
    assert.deepEqual(
      onPartitions.map((p) => [p.partition, p.producerId, p.startOffset]),
      [[0, open.producerId, 1]],
    );
    const why = await explainOpenTransactions(admin, 'ex-txn', [0]);
    assert.match(why.get(0) ?? '', new RegExp(`^open transaction of ex-txn-id \\(producer ${open.producerId}, epoch ${open.producerEpoch}\\) since ${new Date(open.startTimeMs).toISOString()}, from offset 1$`));

    await txn.commit();
    const after = await until(() => admin.describeTopics(['ex-txn'], { includeOffsets: true }), ([x]) => x.partitions[0].stable === x.partitions[0].high, 'the LSO to reach the HW');
    // The commit marker takes an offset: HW 4, LSO 4.
    assert.deepEqual([after[0].partitions[0].high, after[0].partitions[0].stable], ['4', '4']);
    const done = await until(() => readTransactions(admin, ['ex-txn']), (o) => o.open.length === 0, 'no open transaction');
    assert.deepEqual(done.listed.map((l) => [l.transactionalId, l.state]), [['ex-txn-id', 'CompleteCommit']]);
    assert.deepEqual(await admin.openTransactionsOn(['ex-txn']), []);
  });

  test('log dirs: one directory with the size of every partition replica', async () => {
    const dirs = await admin.describeLogDirs(1);
    assert.equal(dirs.length, 1);
    assert.equal(dirs[0].error, undefined);
    assert.ok(dirs[0].path.startsWith(broker.dir), `${dirs[0].path} under ${broker.dir}`);
    // v4: the volume's total and usable bytes.
    assert.ok(dirs[0].totalBytes > 0 && dirs[0].usableBytes > 0 && dirs[0].usableBytes <= dirs[0].totalBytes, JSON.stringify(dirs[0]));
    const p0 = dirs[0].partitions.find((p) => p.topic === 'ex-txn' && p.partition === 0);
    const p1 = dirs[0].partitions.find((p) => p.topic === 'ex-txn' && p.partition === 1);
    assert.ok(p0 && p1, JSON.stringify(dirs[0].partitions));
    assert.ok(p0.sizeBytes > 100, `four records and a marker take bytes: ${p0.sizeBytes}`);
    assert.equal(p1.sizeBytes, 0);
    await assert.rejects(admin.describeLogDirs(42), /broker|42|not/i);
  });

  test('ACLs: SECURITY_DISABLED without an authorizer; created, listed and deleted with one', async () => {
    await assert.rejects(admin.describeAcls(), (err: unknown) => err instanceof BrokerError && err.type === 'SECURITY_DISABLED');
    const sec = new ClusterAdmin({ bootstrapServers: [secured.bootstrap], clientId: 'explorer-acls' });
    await sec.connect();
    try {
      assert.deepEqual(await sec.describeAcls(), []);
      const alice = { principal: 'User:alice', host: '*', operation: 'READ', permission: 'ALLOW', resourceType: 'TOPIC', resourceName: 'orders', patternType: 'LITERAL' } as const;
      const bob = { principal: 'User:bob', host: '10.0.0.1', operation: 'WRITE', permission: 'DENY', resourceType: 'TOPIC', resourceName: 'ord', patternType: 'PREFIXED' } as const;
      await sec.createAcl(alice);
      await sec.createAcl(bob);
      assert.deepEqual(await sec.describeAcls(), [bob, alice]);
      assert.equal(await sec.deleteAcl(bob), 1);
      assert.equal(await sec.deleteAcl(bob), 0);
      assert.deepEqual(await sec.describeAcls(), [alice]);
    } finally {
      await sec.disconnect();
    }
  });
});
