// Transactional-id ACLs with kafkajs 2.2.4 (a client we did not write) against one broker with a SASL/PLAIN
// listener and `authorizer.class.name` set, asserting what Kafka's authorizer rules answer: a transactional id
// needs DESCRIBE to be found (FindCoordinator) and WRITE to be used (InitProducerId, AddPartitionsToTxn,
// AddOffsetsToTxn, EndTxn, TxnOffsetCommit, Produce), else TRANSACTIONAL_ID_AUTHORIZATION_FAILED; sendOffsets
// needs READ on the group; ListTransactions shows, and DescribeTransactions describes, only the ids the principal
// may DESCRIBE (through this project's admin client and wire client: kafkajs has neither API).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, KafkaJSProtocolError, logLevel, ResourcePatternTypes } from 'kafkajs';
import { ClusterAdmin } from '../../src/client/admin';
import { DescribeTransactions } from '../../src/protocol/apis/65-describe-transactions';
import { WireClient } from '../../src/broker/wireClient';
import { ErrorCode } from '../../src/protocol/errorCode';
import { startSingleNode, SingleNode } from '../../src/broker/singleNode';
import { deriveCredentials } from '../../src/broker/security/sasl';
import { tempDir, testLogger } from '../helpers/broker';

const USERS = [
  { name: 'admin', password: 'admin-secret' },
  { name: 'alice', password: 'alice-secret' },
  { name: 'bob', password: 'bob-secret' },
];
const TOPIC = 'txn-acl-topic';
const GROUP = 'txn-acl-group';

let node: SingleNode;
let dir: string;
let bootstrap: string;

const password = (user: string) => USERS.find((u) => u.name === user)!.password;

/**
 * kafkajs as `user`. kafkajs answers a FindCoordinator error with its own KafkaJSGroupCoordinatorNotFound and only
 * logs the broker's error (at debug level): `brokerErrors` collects the error types it logged.
 */
function kafkaAs(user: string, brokerErrors: string[] = []): Kafka {
  const logCreator = () => (entry: { log: { message?: string; error?: unknown } }) => {
    const type = (entry.log.error as { type?: string } | undefined)?.type;
    if (type) brokerErrors.push(type);
  };
  return new Kafka({ clientId: `txn-acl-${user}`, brokers: [bootstrap], sasl: { mechanism: 'plain', username: user, password: password(user) }, logLevel: logLevel.DEBUG, logCreator, retry: { retries: 2, initialRetryTime: 50 } });
}

const allow = (resourceType: AclResourceTypes, resourceName: string, principal: string, operation: AclOperationTypes, pattern = ResourcePatternTypes.LITERAL) => ({
  resourceType,
  resourceName,
  resourcePatternType: pattern,
  principal,
  host: '*',
  operation,
  permissionType: AclPermissionTypes.ALLOW,
});

async function grant(...acl: Array<ReturnType<typeof allow>>): Promise<void> {
  const admin = kafkaAs('admin').admin();
  await admin.connect();
  try {
    await admin.createAcls({ acl });
  } finally {
    await admin.disconnect();
  }
}

/** The Kafka error type that `fn` failed with, or 'OK'. */
async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'OK';
  } catch (err) {
    for (let e: any = err; e; e = e.cause ?? e.originalError) if (e instanceof KafkaJSProtocolError) return e.type;
    if ((err as { type?: string }).type) return (err as { type: string }).type;
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}

/** One committed transaction of `user` with transactional id `id`: connect, send, (sendOffsets), commit. */
async function transactAs(user: string, id: string, opts: { sendOffsets?: boolean } = {}): Promise<string> {
  const brokerErrors: string[] = [];
  const producer = kafkaAs(user, brokerErrors).producer({ transactionalId: id, idempotent: true, maxInFlightRequests: 1 });
  try {
    const result = await outcome(async () => {
      await producer.connect();
      const txn = await producer.transaction();
      try {
        await txn.send({ topic: TOPIC, messages: [{ value: `${user}/${id}` }] });
        if (opts.sendOffsets) await txn.sendOffsets({ consumerGroupId: GROUP, topics: [{ topic: TOPIC, partitions: [{ partition: 0, offset: '1' }] }] });
        await txn.commit();
      } catch (err) {
        await txn.abort().catch(() => {});
        throw err;
      }
    });
    return result.startsWith('KafkaJSGroupCoordinatorNotFound') ? `FindCoordinator: ${[...new Set(brokerErrors)].join(',')}` : result;
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

function adminAs(user: string): ClusterAdmin {
  return new ClusterAdmin({ bootstrapServers: [bootstrap], sasl: { mechanism: 'plain', username: user, password: password(user) }, connectionTimeoutMs: 3000, retry: { retries: 1, initialRetryTimeMs: 50, maxRetryTimeMs: 200 } });
}

before(async () => {
  dir = tempDir('minikafka-txn-acls-');
  node = await startSingleNode({
    dir,
    port: 0,
    logger: testLogger,
    config: { 'authorizer.class.name': 'StandardAuthorizer', 'super.users': 'User:admin', 'group.initial.rebalance.delay.ms': '0', 'transaction.state.log.replication.factor': '1', 'transaction.state.log.min.isr': '1' },
    security: { sasl: { mechanisms: ['PLAIN'], users: deriveCredentials(USERS) } },
  });
  bootstrap = `127.0.0.1:${node.broker.port}`;
  const admin = kafkaAs('admin').admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  // Both users may write the topic: what follows is about transactional ids and groups only.
  await grant(allow(AclResourceTypes.TOPIC, TOPIC, 'User:alice', AclOperationTypes.WRITE), allow(AclResourceTypes.TOPIC, TOPIC, 'User:bob', AclOperationTypes.WRITE));
});

after(async () => {
  await node?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('transactional-id ACLs', () => {
  test('without any binding on the transactional id: TRANSACTIONAL_ID_AUTHORIZATION_FAILED (FindCoordinator needs DESCRIBE)', async () => {
    assert.equal(await transactAs('alice', 'alice-tx-1'), 'FindCoordinator: TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
  });

  test('DESCRIBE alone finds the coordinator but InitProducerId needs WRITE', async () => {
    await grant(allow(AclResourceTypes.TRANSACTIONAL_ID, 'alice-tx-2', 'User:alice', AclOperationTypes.DESCRIBE));
    assert.equal(await transactAs('alice', 'alice-tx-2'), 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
  });

  test('WRITE on a PREFIXED pattern: the transaction commits; sendOffsets also needs READ on the group and the topic', async () => {
    await grant(allow(AclResourceTypes.TRANSACTIONAL_ID, 'alice-app-', 'User:alice', AclOperationTypes.WRITE, ResourcePatternTypes.PREFIXED));
    assert.equal(await transactAs('alice', 'alice-app-1'), 'OK');
    // Not bob: the binding names alice.
    assert.equal(await transactAs('bob', 'alice-app-1'), 'FindCoordinator: TRANSACTIONAL_ID_AUTHORIZATION_FAILED');
    assert.equal(await transactAs('alice', 'alice-app-2', { sendOffsets: true }), 'GROUP_AUTHORIZATION_FAILED');
    await grant(allow(AclResourceTypes.GROUP, GROUP, 'User:alice', AclOperationTypes.READ));
    // TxnOffsetCommit: committing offsets of a topic needs READ on it (alice may only write it so far).
    assert.equal(await transactAs('alice', 'alice-app-2', { sendOffsets: true }), 'TOPIC_AUTHORIZATION_FAILED');
    await grant(allow(AclResourceTypes.TOPIC, TOPIC, 'User:alice', AclOperationTypes.READ));
    assert.equal(await transactAs('alice', 'alice-app-2', { sendOffsets: true }), 'OK');
  });

  test('ListTransactions and DescribeTransactions show only the transactional ids the principal may DESCRIBE', async () => {
    for (const [user, sees] of [['alice', true], ['bob', false], ['admin', true]] as const) {
      const admin = adminAs(user);
      await admin.connect();
      try {
        const listed = (await admin.listTransactions()).map((t) => t.transactionalId);
        assert.equal(listed.includes('alice-app-1'), sees, `${user} lists ${JSON.stringify(listed)}`);
        if (!sees) assert.deepEqual(listed, [], `${user} may describe no transactional id`);
      } finally {
        await admin.disconnect();
      }
      // DescribeTransactions straight to the coordinator (the only broker), past FindCoordinator's own check.
      const wire = new WireClient('127.0.0.1', node.broker.port, `txn-acl-${user}`);
      try {
        await wire.connect();
        await wire.authenticatePlain(user, password(user));
        const res = await wire.request(DescribeTransactions, 0, { transactionalIds: ['alice-app-1'] });
        const t = res.transactionStates[0];
        assert.equal(t.errorCode, sees ? 0 : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, `${user} describes alice-app-1`);
        if (sees) assert.equal(t.transactionState, 'CompleteCommit');
      } finally {
        wire.close();
      }
    }
  });
});
