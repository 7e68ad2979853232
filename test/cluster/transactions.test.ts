// Transactions on the 3-broker mini-cluster (one OS process per broker): the transaction coordinator's broker is
// killed (-9) in the middle of a transaction. Its state lives in the replicated __transaction_state topic, so the
// new coordinator (the new leader of that partition) loads it and the producer can still commit; should the
// commit fail, the producer aborts and retries. Either way a read_committed reader sees each record exactly once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { FindCoordinator } from '../../src/protocol/apis/10-find-coordinator';
import { AddPartitionsToTxn, EndTxn, InitProducerId, Produce } from '../../src/protocol/apis';
import { buildBatch } from '../../src/protocol/records/recordBatch';
import { ErrorCode } from '../../src/protocol/errorCode';
import { DescribeTransactions } from '../../src/protocol/apis/65-describe-transactions';
import { WireClient } from '../../src/broker/wireClient';
import { fullIsr, startTestCluster, TestCluster } from '../helpers/cluster';

let cluster: TestCluster;
let kafka: Kafka;
const TOPIC = 'txn-failover';
const producers: Producer[] = [];

before(async () => {
  cluster = await startTestCluster();
  kafka = new Kafka({ clientId: 'txn-cluster-test', brokers: cluster.brokers, logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
  await admin.disconnect();
});

after(async () => {
  for (const p of producers) await p.disconnect().catch(() => {});
  await cluster?.stop();
});

async function coordinatorOf(transactionalId: string): Promise<number> {
  for (const bootstrap of cluster.brokers) {
    const [host, port] = bootstrap.split(':');
    const wire = new WireClient(host, Number(port), 'txn-cluster-test');
    try {
      await wire.connect();
      const found = await wire.request(FindCoordinator, 3, { key: transactionalId, keyType: 1, coordinatorKeys: [] });
      if (found.errorCode === 0) return found.nodeId;
    } catch {
      // that broker may be the dead one: ask another
    } finally {
      wire.close();
    }
  }
  throw new Error(`no coordinator found for ${transactionalId}`);
}

async function describeState(transactionalId: string): Promise<string> {
  const coordinator = await coordinatorOf(transactionalId);
  const state = await cluster.state();
  const b = state.brokers.find((x) => x.id === coordinator)!;
  const wire = new WireClient(b.host, b.port, 'txn-cluster-test');
  try {
    await wire.connect();
    const res = await wire.request(DescribeTransactions, 0, { transactionalIds: [transactionalId] });
    return res.transactionStates[0].transactionState;
  } finally {
    wire.close();
  }
}

async function readCommitted(expected: number, topic = TOPIC): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `read-${Math.random()}`, maxWaitTimeInMs: 100, sessionTimeout: 10000, heartbeatInterval: 500 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let quiet: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(quiet);
      quiet = setTimeout(resolve, got.length >= expected ? 2000 : 30000);
    };
    arm();
    consumer.run({ eachMessage: async ({ message }) => void (got.push(message.value!.toString()), arm()) }).catch(reject);
  });
  await consumer.disconnect();
  return got.sort();
}

describe('transactions on the mini-cluster', () => {
  test('the transaction coordinator is killed mid-transaction; the records are committed exactly once', async (t) => {
    const transactionalId = 'failover-txn';
    const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60000 });
    producers.push(producer);
    await producer.connect();
    const messages = Array.from({ length: 9 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));

    const txn = await producer.transaction();
    await txn.send({ topic: TOPIC, messages: messages.slice(0, 5) });
    const coordinator = await coordinatorOf(transactionalId);
    await cluster.control.broker(coordinator, 'kill');
    await cluster.waitForState((s) => s.brokers.find((b) => b.id === coordinator)!.fenced, 10000, 'the coordinator to be fenced');
    const newCoordinator = await coordinatorOf(transactionalId);
    assert.notEqual(newCoordinator, coordinator);

    let outcome: string;
    try {
      await txn.send({ topic: TOPIC, messages: messages.slice(5) });
      await txn.commit();
      outcome = 'committed';
    } catch (err) {
      // Acceptable as long as it ends cleanly: abort, and write the whole batch again in a new transaction.
      outcome = `retried after ${(err as Error).message}`;
      await txn.abort().catch(() => {});
      const again = await producer.transaction();
      await again.send({ topic: TOPIC, messages });
      await again.commit();
    }
    t.diagnostic(`coordinator ${coordinator} killed, ${newCoordinator} took over; transaction ${outcome}`);
    assert.deepEqual(await readCommitted(messages.length), messages.map((m) => m.value).sort(), outcome);

    await cluster.control.broker(coordinator, 'restart');
    await cluster.waitForState((s) => fullIsr(s, TOPIC), 30000, `the full ISR of ${TOPIC} after restarting broker ${coordinator}`);
  });

  test('a coordinator that dies between PrepareCommit and its markers: the next one finishes the commit', async () => {
    const transactionalId = 'resume-txn';
    const topic = 'txn-resume';
    const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60000 });
    producers.push(producer);
    await producer.connect();
    const coordinator = await coordinatorOf(transactionalId);
    // Partition 0 lives only on another broker, which is stopped before the commit: its marker cannot be written
    // until that broker is back, so the transaction stays in PrepareCommit while its coordinator is killed.
    const state = await cluster.state();
    const lonely = state.brokers.map((b) => b.id).find((id) => id !== coordinator)!;
    const admin = kafka.admin();
    await admin.connect();
    // (All partitions of a topic have one replication factor: the replicated partition is another topic's.)
    await admin.createTopics({
      topics: [
        { topic, replicaAssignment: [{ partition: 0, replicas: [lonely] }] },
        { topic: `${topic}-wide`, numPartitions: 1, replicationFactor: 3 },
      ],
      waitForLeaders: true,
    });
    await admin.disconnect();

    const txn = await producer.transaction();
    await txn.send({ topic, messages: [{ partition: 0, value: 'p0-a' }, { partition: 0, value: 'p0-b' }] });
    await txn.send({ topic: `${topic}-wide`, messages: [{ partition: 0, value: 'wide-a' }] });
    await cluster.control.broker(lonely, 'stop');
    await cluster.waitForState((s) => s.brokers.find((b) => b.id === lonely)!.fenced, 10000, `broker ${lonely} to be stopped`);
    await txn.commit(); // answered once PrepareCommit is durable
    assert.equal(await describeState(transactionalId), 'PrepareCommit');

    await cluster.control.broker(coordinator, 'kill');
    await cluster.waitForState((s) => s.brokers.find((b) => b.id === coordinator)!.fenced, 10000, 'the coordinator to be fenced');
    assert.notEqual(await coordinatorOf(transactionalId), coordinator);
    // The new coordinator loaded PrepareCommit and keeps trying partition 0's marker.
    assert.equal(await describeState(transactionalId), 'PrepareCommit');

    await cluster.control.broker(lonely, 'restart');
    const deadline = Date.now() + 30000;
    let last = '';
    while (Date.now() < deadline && (last = await describeState(transactionalId).catch((e) => String(e))) !== 'CompleteCommit') await new Promise((r) => setTimeout(r, 200));
    assert.equal(last, 'CompleteCommit');
    // Read with every broker back: __consumer_offsets was created while a broker was down (in the previous test),
    // so some of its partitions have two replicas, and with both of them down a reader's group would have no
    // coordinator (no unclean election) until one returns.
    await cluster.control.broker(coordinator, 'restart');
    await cluster.waitForState((s) => s.brokers.every((b) => !b.fenced), 30000, 'every broker back');
    assert.deepEqual(await readCommitted(2, topic), ['p0-a', 'p0-b']);
    assert.deepEqual(await readCommitted(1, `${topic}-wide`), ['wide-a']);
  });
  test('back to back: AddPartitionsToTxn right after EndTxn waits for the markers (on other brokers) instead of CONCURRENT_TRANSACTIONS', async () => {
    // kafkajs would retry CONCURRENT_TRANSACTIONS after about 300 ms: a stall per transaction (see COMPLETION_WAIT_MS).
    const transactionalId = 'back-to-back-txn';
    const topic = 'txn-back-to-back';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    await admin.disconnect();
    await cluster.waitForState((s) => fullIsr(s, topic), 20000, `the full ISR of ${topic}`);
    const coordinator = await coordinatorOf(transactionalId);
    const state = await cluster.state();
    const connect = async (id: number) => {
      const b = state.brokers.find((x) => x.id === id)!;
      const wire = new WireClient(b.host, b.port, 'back-to-back');
      await wire.connect();
      return wire;
    };
    const wires = new Map<number, WireClient>();
    const wireOf = async (id: number) => wires.get(id) ?? wires.set(id, await connect(id)).get(id)!;
    try {
      const c = await wireOf(coordinator);
      const init = await c.request(InitProducerId, 4, { transactionalId, transactionTimeoutMs: 60000 });
      assert.equal(init.errorCode, 0);
      const { producerId, producerEpoch } = init;
      const partitions = state.topics.find((t) => t.name === topic)!.partitions;
      const sequences = new Map<number, number>();
      const answers: string[] = [];
      for (let i = 0; i < 6; i++) {
        // Every partition (led by every broker): the markers go to the other brokers too. Asked the moment EndTxn
        // answered; should the markers take longer than the broker waits (a loaded machine), the client's retry.
        for (let attempt = 0; ; attempt++) {
          const added = await c.request(AddPartitionsToTxn, 3, { transactionalId, producerId, producerEpoch, topics: [{ name: topic, partitions: partitions.map((p) => p.partition) }] });
          const codes = [...new Set(added.results[0].results.map((r) => r.partitionErrorCode))];
          if (attempt === 0) answers.push(codes.map((x) => (x === 0 ? 'ok' : x === ErrorCode.CONCURRENT_TRANSACTIONS ? 'CONCURRENT_TRANSACTIONS' : String(x))).join(','));
          if (codes.length === 1 && codes[0] === 0) break;
          assert.deepEqual(codes, [ErrorCode.CONCURRENT_TRANSACTIONS], `transaction ${i}`);
          assert.ok(attempt < 50, `transaction ${i}: still CONCURRENT_TRANSACTIONS after 50 retries`);
          await new Promise((r) => setTimeout(r, 50));
        }
        for (const p of partitions) {
          const seq = sequences.get(p.partition) ?? 0;
          const records = buildBatch({ records: [{ value: `v${i}` }], producerId, producerEpoch, baseSequence: seq, transactional: true });
          const res = await (await wireOf(p.leader)).request(Produce, 9, { transactionalId, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: p.partition, records }] }] });
          assert.equal(res.responses[0].partitionResponses[0].errorCode, 0);
          sequences.set(p.partition, seq + 1);
        }
        assert.equal((await c.request(EndTxn, 3, { transactionalId, producerId, producerEpoch, committed: true })).errorCode, 0);
      }
      assert.ok(answers.filter((a) => a === 'ok').length >= 4, `first answers: ${answers.join('; ')}`);
    } finally {
      for (const w of wires.values()) w.close();
    }
  });
});
