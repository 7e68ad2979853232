// ACLs with clients we did not write: kafkajs 2.2.4 (CreateAcls/DescribeAcls/DeleteAcls v1) and @platformatic/kafka
// (v3, flexible) against one broker with a SASL/PLAIN listener and `authorizer.class.name` set, asserting what
// Kafka's StandardAuthorizer answers. (confluent-kafka 1.7, Debian's, has no ACL admin API: it came in 1.9.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import {
  AclOperationTypes,
  AclPermissionTypes,
  AclResourceTypes,
  Kafka,
  KafkaJSProtocolError,
  logLevel,
  ResourcePatternTypes,
} from 'kafkajs';
import { startSingleNode, SingleNode } from '../../src/broker/singleNode';
import { deriveCredentials } from '../../src/broker/security/sasl';
import { startTestBroker, tempDir, testLogger } from '../helpers/broker';

type PlatformaticKafka = typeof import('@platformatic/kafka');

const USERS = [
  { name: 'admin', password: 'admin-secret' },
  { name: 'alice', password: 'alice-secret' },
  { name: 'bob', password: 'bob-secret' },
];

let node: SingleNode;
let dir: string;
let bootstrap: string;

before(async () => {
  dir = tempDir('minikafka-acls-');
  node = await startSingleNode({
    dir,
    port: 0,
    logger: testLogger,
    config: { 'authorizer.class.name': 'StandardAuthorizer', 'super.users': 'User:admin', 'group.initial.rebalance.delay.ms': '0' },
    security: { sasl: { mechanisms: ['PLAIN', 'SCRAM-SHA-256'], users: deriveCredentials(USERS) } },
  });
  bootstrap = `127.0.0.1:${node.broker.port}`;
});

after(async () => {
  await node?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function kafkaAs(user: string): Kafka {
  const password = USERS.find((u) => u.name === user)!.password;
  return new Kafka({
    clientId: `acl-test-${user}`,
    brokers: [bootstrap],
    sasl: { mechanism: 'plain', username: user, password },
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 50 },
  });
}

async function withAdmin<T>(user: string, fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = kafkaAs(user).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Produces one record as `user`; resolves to the Kafka error type, or 'OK'. */
async function produceAs(user: string, topic: string): Promise<string> {
  const producer = kafkaAs(user).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value: `from ${user}` }] });
    return 'OK';
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause ?? err;
    if (cause instanceof KafkaJSProtocolError) return cause.type;
    if (err instanceof KafkaJSProtocolError) return err.type;
    return `${(err as Error).name}: ${(err as Error).message}`;
  } finally {
    await producer.disconnect();
  }
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

describe('ACLs (StandardAuthorizer rules)', () => {
  test('without an authorizer the ACL APIs answer SECURITY_DISABLED', async () => {
    const plain = await startTestBroker();
    const admin = new Kafka({ brokers: [plain.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    await admin.connect();
    try {
      await assert.rejects(
        admin.describeAcls({
          resourceType: AclResourceTypes.ANY,
          resourcePatternType: ResourcePatternTypes.ANY,
          operation: AclOperationTypes.ANY,
          permissionType: AclPermissionTypes.ANY,
        }),
        (err: Error) => err instanceof KafkaJSProtocolError && err.type === 'SECURITY_DISABLED',
      );
    } finally {
      await admin.disconnect();
      await plain.cleanup();
    }
  });

  test('kafkajs createAcls / describeAcls / deleteAcls round trip; only ALTER/DESCRIBE on the cluster may use them', async () => {
    await withAdmin('admin', (admin) => admin.createTopics({ topics: [{ topic: 'acl-rt' }], waitForLeaders: true }));
    const binding = allow(AclResourceTypes.TOPIC, 'acl-rt', 'User:alice', AclOperationTypes.WRITE);
    const prefixed = allow(AclResourceTypes.GROUP, 'acl-', 'User:*', AclOperationTypes.READ, ResourcePatternTypes.PREFIXED);
    await withAdmin('admin', async (admin) => {
      assert.equal(await admin.createAcls({ acl: [binding, prefixed] }), true);
      const described = await admin.describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      assert.deepEqual(
        described.resources.map((r) => [r.resourceType, r.resourceName, r.resourcePatternType, r.acls.map((a) => [a.principal, a.host, a.operation, a.permissionType])]),
        [
          [AclResourceTypes.TOPIC, 'acl-rt', ResourcePatternTypes.LITERAL, [['User:alice', '*', AclOperationTypes.WRITE, AclPermissionTypes.ALLOW]]],
          [AclResourceTypes.GROUP, 'acl-', ResourcePatternTypes.PREFIXED, [['User:*', '*', AclOperationTypes.READ, AclPermissionTypes.ALLOW]]],
        ],
      );
      // MATCH finds the bindings that apply to a resource name: the PREFIXED one applies to group acl-group.
      const matching = await admin.describeAcls({
        resourceType: AclResourceTypes.GROUP,
        resourceName: 'acl-group',
        resourcePatternType: ResourcePatternTypes.MATCH,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      });
      assert.deepEqual(matching.resources.map((r) => r.resourceName), ['acl-']);
    });

    // alice is no super user and has no ALTER on the cluster.
    await withAdmin('alice', async (admin) => {
      await assert.rejects(admin.createAcls({ acl: [binding] }), (err: Error) => err instanceof KafkaJSProtocolError && err.type === 'CLUSTER_AUTHORIZATION_FAILED');
    });

    await withAdmin('admin', async (admin) => {
      const deleted = await admin.deleteAcls({
        filters: [{ resourceType: AclResourceTypes.GROUP, resourcePatternType: ResourcePatternTypes.ANY, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY }],
      });
      assert.equal(deleted.filterResponses[0].errorCode, 0);
      assert.deepEqual(deleted.filterResponses[0].matchingAcls.map((a) => [a.resourceName, a.principal, a.operation]), [['acl-', 'User:*', AclOperationTypes.READ]]);
    });
  });

  test('producing needs WRITE on the topic (TOPIC_AUTHORIZATION_FAILED without), granted by LITERAL or PREFIXED bindings', async () => {
    await withAdmin('admin', (admin) => admin.createTopics({ topics: [{ topic: 'orders' }, { topic: 'logs-app' }], waitForLeaders: true }));
    assert.equal(await produceAs('bob', 'orders'), 'TOPIC_AUTHORIZATION_FAILED');
    await withAdmin('admin', (admin) =>
      admin.createAcls({
        acl: [
          allow(AclResourceTypes.TOPIC, 'orders', 'User:bob', AclOperationTypes.WRITE),
          allow(AclResourceTypes.TOPIC, 'logs-', 'User:bob', AclOperationTypes.WRITE, ResourcePatternTypes.PREFIXED),
        ],
      }),
    );
    assert.equal(await produceAs('bob', 'orders'), 'OK');
    assert.equal(await produceAs('bob', 'logs-app'), 'OK');
    // alice has no binding on these topics, and WRITE for bob is not WRITE for her.
    assert.equal(await produceAs('alice', 'orders'), 'TOPIC_AUTHORIZATION_FAILED');
    // Metadata lists only the topics a principal may describe (WRITE implies DESCRIBE).
    const listed = await withAdmin('bob', (admin) => admin.listTopics());
    assert.deepEqual(listed.sort(), ['logs-app', 'orders']);
  });

  test('DENY beats ALLOW; User:* applies to everyone', async () => {
    await withAdmin('admin', async (admin) => {
      await admin.createTopics({ topics: [{ topic: 'guarded' }], waitForLeaders: true });
      await admin.createAcls({
        acl: [
          allow(AclResourceTypes.TOPIC, 'guarded', 'User:*', AclOperationTypes.ALL),
          { ...allow(AclResourceTypes.TOPIC, 'guarded', 'User:alice', AclOperationTypes.WRITE), permissionType: AclPermissionTypes.DENY },
        ],
      });
    });
    assert.equal(await produceAs('bob', 'guarded'), 'OK');
    assert.equal(await produceAs('alice', 'guarded'), 'TOPIC_AUTHORIZATION_FAILED');
  });

  test('consuming needs READ on the group and the topic (GROUP_AUTHORIZATION_FAILED without the group)', async () => {
    await withAdmin('admin', async (admin) => {
      await admin.createTopics({ topics: [{ topic: 'readable' }], waitForLeaders: true });
      await admin.createAcls({ acl: [allow(AclResourceTypes.TOPIC, 'readable', 'User:alice', AclOperationTypes.READ)] });
    });
    const consume = async (group: string) => {
      const consumer = kafkaAs('alice').consumer({ groupId: group, sessionTimeout: 10000, heartbeatInterval: 500, retry: { retries: 0, restartOnFailure: async () => false } });
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: 'readable', fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
          consumer.on(consumer.events.GROUP_JOIN, () => resolve());
          consumer.run({ eachMessage: async () => {} }).catch(reject);
        });
        return 'joined';
      } catch (err) {
        const cause = (err as { cause?: unknown }).cause;
        if (cause instanceof KafkaJSProtocolError) return cause.type;
        return err instanceof KafkaJSProtocolError ? err.type : (err as Error).name;
      } finally {
        await consumer.disconnect();
      }
    };
    // Without DESCRIBE on the group FindCoordinator answers GROUP_AUTHORIZATION_FAILED, which kafkajs reports as
    // "Failed to find group coordinator"; with DESCRIBE but not READ, JoinGroup answers GROUP_AUTHORIZATION_FAILED.
    assert.equal(await consume('alice-group'), 'KafkaJSGroupCoordinatorNotFound');
    await withAdmin('admin', (admin) => admin.createAcls({ acl: [allow(AclResourceTypes.GROUP, 'alice-group', 'User:alice', AclOperationTypes.DESCRIBE)] }));
    assert.equal(await consume('alice-group'), 'GROUP_AUTHORIZATION_FAILED');
    await withAdmin('admin', (admin) => admin.createAcls({ acl: [allow(AclResourceTypes.GROUP, 'alice-', 'User:alice', AclOperationTypes.READ, ResourcePatternTypes.PREFIXED)] }));
    assert.equal(await consume('alice-group'), 'joined');
  });

  test('@platformatic/kafka (ACL APIs v3, flexible) creates, describes and deletes bindings; ACLs survive a restart', async () => {
    const pk: PlatformaticKafka = await import('@platformatic/kafka');
    const admin = new pk.Admin({ clientId: 'acl-pk', bootstrapBrokers: [bootstrap], sasl: { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' }, retries: 2 });
    try {
      const acl = {
        resourceType: pk.ResourceTypes.TRANSACTIONAL_ID,
        resourceName: 'tx-',
        resourcePatternType: pk.ResourcePatternTypes.PREFIXED,
        principal: 'User:bob',
        host: '*',
        operation: pk.AclOperations.WRITE,
        permissionType: pk.AclPermissionTypes.ALLOW,
      };
      await admin.createAcls({ creations: [acl] });
      const filter = { ...acl, resourceName: null, principal: null, host: null, resourcePatternType: pk.ResourcePatternTypes.ANY };
      const described = await admin.describeAcls({ filter });
      assert.deepEqual(
        described.map((r) => [r.resourceType, r.resourceName, r.resourcePatternType, r.acls.map((a) => [a.principal, a.operation, a.permissionType])]),
        [[pk.ResourceTypes.TRANSACTIONAL_ID, 'tx-', pk.ResourcePatternTypes.PREFIXED, [['User:bob', pk.AclOperations.WRITE, pk.AclPermissionTypes.ALLOW]]]],
      );
      const deleted = await admin.deleteAcls({ filters: [filter] });
      assert.deepEqual(deleted.map((a) => [a.resourceName, a.principal]), [['tx-', 'User:bob']]);
      assert.deepEqual(await admin.describeAcls({ filter }), []);
    } finally {
      await admin.close();
    }
    // The bindings are part of the persisted metadata image: a restarted broker enforces the same set.
    const port = node.broker.port;
    await node.stop();
    node = await startSingleNode({
      dir,
      port,
      logger: testLogger,
      config: { 'authorizer.class.name': 'StandardAuthorizer', 'super.users': 'User:admin', 'group.initial.rebalance.delay.ms': '0' },
      security: { sasl: { mechanisms: ['PLAIN', 'SCRAM-SHA-256'], users: deriveCredentials(USERS) } },
    });
    assert.equal(await produceAs('bob', 'orders'), 'OK');
    assert.equal(await produceAs('alice', 'guarded'), 'TOPIC_AUTHORIZATION_FAILED');
  });
});
