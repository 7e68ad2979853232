// Transactional-id ACLs on the 3-broker mini-cluster with SASL (`--sasl scram-sha-512`, authorizer on): kafkajs as
// a user whose bindings allow the topic, the group and a PREFIXED transactional id commits a transaction over
// partitions led by every broker (the coordinator's WriteTxnMarkers and the leaders' verification go between
// brokers as the cluster's own user, which the authorizer lets through); a transactional id it may only DESCRIBE is
// refused with TRANSACTIONAL_ID_AUTHORIZATION_FAILED, and a read_committed reader sees the committed records only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, KafkaJSProtocolError, logLevel, ResourcePatternTypes } from 'kafkajs';
import { fullIsr, startTestCluster, TestCluster } from '../helpers/cluster';

let cluster: TestCluster;
const TOPIC = 'acl-txn';
const USERS = { admin: 'admin-secret', app: 'app-secret' };

const kafkaAs = (user: keyof typeof USERS) =>
  new Kafka({ clientId: `acl-txn-${user}`, brokers: cluster.brokers, sasl: { mechanism: 'scram-sha-512', username: user, password: USERS[user] }, logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 1000 } });

const allow = (resourceType: AclResourceTypes, resourceName: string, operation: AclOperationTypes, pattern = ResourcePatternTypes.LITERAL) => ({
  resourceType,
  resourceName,
  resourcePatternType: pattern,
  principal: 'User:app',
  host: '*',
  operation,
  permissionType: AclPermissionTypes.ALLOW,
});

before(async () => {
  cluster = await startTestCluster(['--sasl', 'scram-sha-512', '--user', `admin:${USERS.admin}`, '--user', `app:${USERS.app}`, '--config', 'authorizer.class.name=StandardAuthorizer', '--config', 'super.users=User:admin']);
  const admin = kafkaAs('admin').admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    await admin.createAcls({
      acl: [
        allow(AclResourceTypes.TOPIC, TOPIC, AclOperationTypes.WRITE),
        allow(AclResourceTypes.TOPIC, TOPIC, AclOperationTypes.READ),
        allow(AclResourceTypes.GROUP, 'acl-txn-', AclOperationTypes.READ, ResourcePatternTypes.PREFIXED),
        allow(AclResourceTypes.TRANSACTIONAL_ID, 'app-', AclOperationTypes.WRITE, ResourcePatternTypes.PREFIXED),
        allow(AclResourceTypes.TRANSACTIONAL_ID, 'other-', AclOperationTypes.DESCRIBE, ResourcePatternTypes.PREFIXED),
      ],
    });
  } finally {
    await admin.disconnect();
  }
  await cluster.waitForState((s) => fullIsr(s, TOPIC), 20000, `the full ISR of ${TOPIC}`);
});

after(async () => {
  await cluster?.stop();
});

describe('transactional-id ACLs on a SASL mini-cluster', () => {
  test('an allowed transactional id commits across every broker; another is refused', async () => {
    const state = await cluster.state();
    assert.equal(new Set(state.topics.find((t) => t.name === TOPIC)!.partitions.map((p) => p.leader)).size, 3, 'each broker leads one partition');
    const kafka = kafkaAs('app');

    const producer = kafka.producer({ transactionalId: 'app-1', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({ topic: TOPIC, messages: [0, 1, 2].map((partition) => ({ partition, value: `c${partition}` })) });
      await committed.sendOffsets({ consumerGroupId: 'acl-txn-group', topics: [{ topic: TOPIC, partitions: [{ partition: 0, offset: '1' }] }] });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic: TOPIC, messages: [0, 1, 2].map((partition) => ({ partition, value: `x${partition}` })) });
      await aborted.abort();
    } finally {
      await producer.disconnect();
    }

    // May DESCRIBE (find its coordinator) but not WRITE: InitProducerId (kafkajs sends it at the first transaction)
    // is refused.
    const refused = kafka.producer({ transactionalId: 'other-1', idempotent: true, maxInFlightRequests: 1, retry: { retries: 1 } });
    await refused.connect();
    await assert.rejects(refused.transaction(), (err: unknown) => {
      for (let e: any = err; e; e = e.cause ?? e.originalError) if (e instanceof KafkaJSProtocolError) return e.type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED';
      return false;
    });
    await refused.disconnect().catch(() => {});

    const consumer = kafka.consumer({ groupId: 'acl-txn-reader', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      let quiet = setTimeout(resolve, 30000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            got.push(message.value!.toString());
            clearTimeout(quiet);
            quiet = setTimeout(resolve, got.length >= 3 ? 2000 : 30000);
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    assert.deepEqual(got.sort(), ['c0', 'c1', 'c2']);
  });
});
