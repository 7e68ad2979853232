// Kafka parity, second part (issue 13): group-metadata records in __consumer_offsets, dynamic broker configs, SCRAM
// credential APIs, client quotas. Checked with clients we did not write (kafkajs 2.2.4, @platformatic/kafka,
// confluent-kafka under Debian's /usr/bin/python3), plus our WireClient where the exact first answer matters.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startTestBroker, TestBroker } from '../helpers/broker';
import { WireClient } from '../../src/broker/wireClient';
import { DescribeConfigs, Fetch, FindCoordinator, Heartbeat, JoinGroup, Metadata, Produce, SyncGroup } from '../../src/protocol/apis';
import { buildBatch } from '../../src/protocol/records/recordBatch';
import { ErrorCode } from '../../src/protocol/errorCode';

let broker: TestBroker;
let wire: WireClient;

const kafka = () => new Kafka({ clientId: 'parity2', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });

async function connectWire(): Promise<void> {
  wire?.close();
  wire = new WireClient('127.0.0.1', broker.broker.port, 'parity2-inspector');
  await wire.connect();
}

before(async () => {
  // Quota rates over 2 samples of 1 s (Kafka: 11), so that a rate test of a few seconds sees the quota, not the burst.
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0', 'quota.window.num': '2' });
  await connectWire();
});

after(async () => {
  wire?.close();
  await broker?.cleanup();
});

/** Runs a Python script (Debian's /usr/bin/python3 with confluent-kafka) with JSON params; its last stdout line is JSON. */
async function runPython<T>(source: string, params: Record<string, unknown>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'minikafka-parity2-'));
  try {
    const file = join(dir, 'script.py');
    writeFileSync(file, source);
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile('/usr/bin/python3', [file, JSON.stringify(params)], { timeout: 60000, env: { ...process.env, PYTHONPATH: '' } }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    assert.equal(r.code, 0, `python exited with ${r.code}\n${r.stdout}\n${r.stderr.slice(-4000)}`);
    return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- an independent reader of Kafka's __consumer_offsets schemas (GroupMetadataKey v2, GroupMetadataValue v0-3) ----

class Cursor {
  off = 0;
  constructor(readonly b: Buffer) {}
  i16(): number {
    const v = this.b.readInt16BE(this.off);
    this.off += 2;
    return v;
  }
  i32(): number {
    const v = this.b.readInt32BE(this.off);
    this.off += 4;
    return v;
  }
  i64(): bigint {
    const v = this.b.readBigInt64BE(this.off);
    this.off += 8;
    return v;
  }
  str(): string | null {
    const n = this.i16();
    if (n < 0) return null;
    const s = this.b.toString('utf8', this.off, this.off + n);
    this.off += n;
    return s;
  }
  bytes(): Buffer {
    const n = this.i32();
    const v = this.b.subarray(this.off, this.off + Math.max(0, n));
    this.off += Math.max(0, n);
    return v;
  }
}

interface GroupValue {
  version: number;
  protocolType: string | null;
  generation: number;
  protocol: string | null;
  leader: string | null;
  stateTimestamp: bigint;
  members: Array<{ memberId: string | null; instanceId: string | null; clientId: string | null; clientHost: string | null; rebalanceTimeout: number; sessionTimeout: number; topics: string[]; assigned: Record<string, number[]> }>;
}

function decodeGroupValue(b: Buffer): GroupValue {
  const c = new Cursor(b);
  const version = c.i16();
  const v: GroupValue = { version, protocolType: c.str(), generation: c.i32(), protocol: c.str(), leader: c.str(), stateTimestamp: version >= 2 ? c.i64() : -1n, members: [] };
  const n = c.i32();
  for (let i = 0; i < n; i++) {
    const memberId = c.str();
    const instanceId = version >= 3 ? c.str() : null;
    const clientId = c.str();
    const clientHost = c.str();
    const rebalanceTimeout = version >= 1 ? c.i32() : -1;
    const sessionTimeout = c.i32();
    // ConsumerProtocolSubscription: version, topics; ConsumerProtocolAssignment: version, [topic, [partition]].
    const sub = new Cursor(c.bytes());
    sub.i16();
    const topics = Array.from({ length: sub.i32() }, () => sub.str()!);
    const asg = new Cursor(c.bytes());
    const assigned: Record<string, number[]> = {};
    if (asg.b.length > 0) {
      asg.i16();
      const tn = asg.i32();
      for (let t = 0; t < tn; t++) {
        const name = asg.str()!;
        assigned[name] = Array.from({ length: asg.i32() }, () => asg.i32());
      }
    }
    v.members.push({ memberId, instanceId, clientId, clientHost, rebalanceTimeout, sessionTimeout, topics, assigned });
  }
  return v;
}

/** Every group record (key version 2) of `group` in __consumer_offsets, read from the beginning with kafkajs. */
async function readGroupRecords(group: string, atLeast: (records: Array<GroupValue | null>) => boolean): Promise<Array<GroupValue | null>> {
  const consumer = kafka().consumer({ groupId: `reader-${Date.now()}-${Math.random()}`, sessionTimeout: 10000 });
  const found: Array<GroupValue | null> = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: '__consumer_offsets', fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const key = new Cursor(message.key!);
        if (key.i16() !== 2 || key.str() !== group) return;
        found.push(message.value ? decodeGroupValue(message.value) : null);
      },
    });
    const deadline = Date.now() + 30000;
    while (!atLeast(found) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  } finally {
    await consumer.disconnect();
  }
  return found;
}

describe('group metadata in __consumer_offsets', () => {
  test('a Metadata request naming __consumer_offsets before any group exists creates it, as Kafka does', async () => {
    const ask = () => wire.request(Metadata, 12, { topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: '__consumer_offsets' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
    const first = await ask();
    assert.equal(first.topics[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'the request that creates it is answered UNKNOWN_TOPIC_OR_PARTITION (KRaft), which clients retry');
    const second = await ask();
    assert.equal(second.topics[0].errorCode, 0);
    assert.equal(second.topics[0].isInternal, true);
    assert.equal(second.topics[0].partitions.length, 10, 'offsets.topic.num.partitions');
    // __transaction_state likewise, with its own partition count.
    const txnAsk = () => wire.request(Metadata, 12, { topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: '__transaction_state' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false });
    assert.equal((await txnAsk()).topics[0].errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const txnTopic = (await txnAsk()).topics[0];
    assert.deepEqual([txnTopic.errorCode, txnTopic.isInternal, txnTopic.partitions.length], [0, true, 10]);
    // kafkajs's admin sees it as any tool would.
    const admin = kafka().admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
    await admin.disconnect();
    assert.equal(meta.topics[0].partitions.length, 10);
  });

  test('a rebalance, the group emptying and its deletion are written as GroupMetadataKey v2 / GroupMetadataValue v3', async () => {
    const group = 'meta-group';
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'meta-t', numPartitions: 2 }] });
    const consumer = new Kafka({ clientId: 'meta-client', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).consumer({ groupId: group, sessionTimeout: 12000, rebalanceTimeout: 20000 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'meta-t' });
    let memberId = '';
    consumer.on(consumer.events.GROUP_JOIN, (e) => (memberId = e.payload.memberId));
    await consumer.run({ eachMessage: async () => undefined });
    for (let i = 0; i < 200 && !memberId; i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(memberId, 'the consumer joined');
    await consumer.disconnect();

    const records = await readGroupRecords(group, (r) => r.some((v) => v && v.members.length === 0));
    const stable = records.find((v) => v && v.members.length === 1);
    assert.ok(stable, `a record of the completed rebalance among ${JSON.stringify(records, (_, x) => (typeof x === 'bigint' ? String(x) : x))}`);
    assert.equal(stable.version, 3);
    assert.equal(stable.protocolType, 'consumer');
    assert.equal(stable.generation, 1);
    assert.equal(stable.protocol, 'RoundRobinAssigner', "kafkajs's default assignor");
    assert.equal(stable.leader, memberId);
    assert.ok(stable.stateTimestamp > 0n);
    const m = stable.members[0];
    assert.equal(m.memberId, memberId);
    assert.equal(m.instanceId, null);
    assert.equal(m.clientId, 'meta-client');
    assert.equal(m.clientHost, '/127.0.0.1');
    assert.equal(m.sessionTimeout, 12000);
    assert.equal(m.rebalanceTimeout, 20000);
    assert.deepEqual(m.topics, ['meta-t']);
    assert.deepEqual(m.assigned, { 'meta-t': [0, 1] });
    const empty = records.at(-1)!;
    assert.ok(empty);
    assert.deepEqual([empty.generation, empty.protocolType, empty.protocol, empty.leader, empty.members.length], [2, 'consumer', null, null, 0], 'left: the next generation, empty');

    const [deleted] = await admin.deleteGroups([group]);
    assert.equal(deleted.errorCode, 0);
    await admin.disconnect();
    const after = await readGroupRecords(group, (r) => r.at(-1) === null);
    assert.equal(after.at(-1), null, 'DeleteGroups writes a tombstone for the group key');
  });

  test('a coordinator that loads the partition again (restart) restores members: they heartbeat on without rejoining', async () => {
    const group = 'restored-group';
    const join = () =>
      wire.request(JoinGroup, 5, { groupId: group, sessionTimeoutMs: 30000, rebalanceTimeoutMs: 30000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('sub') }] });
    let joined = await join();
    for (let i = 0; i < 100 && joined.errorCode !== 0; i++) {
      await wire.request(FindCoordinator, 2, { key: group, keyType: 0 });
      await new Promise((r) => setTimeout(r, 100));
      joined = await join();
    }
    assert.equal(joined.errorCode, 0);
    const synced = await wire.request(SyncGroup, 3, { groupId: group, generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null, assignments: [{ memberId: joined.memberId, assignment: Buffer.from('mine') }] });
    assert.equal(synced.errorCode, 0);
    // SyncGroup is answered once the group record is replicated: nothing to wait for before the restart.

    broker = await broker.restart();
    await connectWire();
    let hb = await wire.request(Heartbeat, 3, { groupId: group, generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null });
    for (let i = 0; i < 100 && (hb.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || hb.errorCode === ErrorCode.NOT_COORDINATOR); i++) {
      await new Promise((r) => setTimeout(r, 100));
      hb = await wire.request(Heartbeat, 3, { groupId: group, generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null });
    }
    assert.equal(hb.errorCode, 0, 'the member is known to the reloaded coordinator, in the same generation');
    const again = await wire.request(SyncGroup, 3, { groupId: group, generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null, assignments: [] });
    assert.equal(again.assignment.toString(), 'mine', 'with its assignment');
    const described = broker.broker.groups.describe(group);
    assert.equal(described.state, 'Stable');
  });
});

describe('dynamic broker and cluster-default configs', () => {
  const SRC = { DYNAMIC_TOPIC: 1, DYNAMIC_BROKER: 2, DYNAMIC_DEFAULT_BROKER: 3, STATIC_BROKER: 4, DEFAULT: 5 };
  const describeTopic = async (admin: ReturnType<ReturnType<typeof kafka>['admin']>, topic: string, name: string) => {
    const r = await admin.describeConfigs({ resources: [{ type: 2, name: topic, configNames: [name] }], includeSynonyms: true });
    const e = r.resources[0].configEntries[0];
    return { value: e.configValue, source: e.configSource, synonyms: e.configSynonyms.map((s) => [s.configName, s.configValue, s.configSource]) };
  };

  test('kafkajs and @platformatic/kafka alter "" and "<id>": sources and synonyms as Kafka lists them, and topics follow', async () => {
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'dyn-t' }] });
    assert.deepEqual(await describeTopic(admin, 'dyn-t', 'retention.ms'), { value: '604800000', source: SRC.DEFAULT, synonyms: [] });

    // The cluster-wide default (resource name ""), with kafka-python (kafkajs and confluent-kafka 1.7 refuse an empty
    // resource name, @platformatic/kafka sends it to a broker with id Number("") = 0).
    await runPython(
      `
import json, sys
from kafka.admin import KafkaAdminClient, ConfigResource, ConfigResourceType
p = json.loads(sys.argv[1])
a = KafkaAdminClient(bootstrap_servers=p['bootstrap'])
r = a.alter_configs([ConfigResource(ConfigResourceType.BROKER, '', configs={'log.retention.ms': '3600000'})])
print(json.dumps([list(x) for x in r.resources]))
a.close()
`,
      { bootstrap: broker.bootstrap },
    ).then((r) => assert.deepEqual(r, [[0, null, 4, '']]));
    const clusterDefault = await wire.request(DescribeConfigs, 4, { resources: [{ resourceType: 4, resourceName: '', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
    assert.deepEqual(
      clusterDefault.results[0].configs.map((e) => [e.name, e.value, e.configSource, e.readOnly]),
      [['log.retention.ms', '3600000', SRC.DYNAMIC_DEFAULT_BROKER, false]],
      'the "" resource lists only the dynamic defaults',
    );
    assert.deepEqual(await describeTopic(admin, 'dyn-t', 'retention.ms'), {
      value: '3600000',
      source: SRC.DYNAMIC_DEFAULT_BROKER,
      synonyms: [['log.retention.ms', '3600000', SRC.DYNAMIC_DEFAULT_BROKER], ['log.retention.hours', '168', SRC.DEFAULT]],
    });

    // One broker (resource name "1"), with @platformatic/kafka's IncrementalAlterConfigs.
    const pk = await import('@platformatic/kafka');
    const pAdmin = new pk.Admin({ clientId: 'parity2-pk', bootstrapBrokers: [broker.bootstrap], retries: 5, retryDelay: 100 });
    try {
      await pAdmin.incrementalAlterConfigs({
        resources: [{ resourceType: 4, resourceName: '1', configs: [{ name: 'log.retention.ms', configOperation: 0, value: '7200000' }, { name: 'message.max.bytes', configOperation: 0, value: '2000' }] }],
      });
    } finally {
      await pAdmin.close();
    }
    assert.deepEqual(await describeTopic(admin, 'dyn-t', 'retention.ms'), {
      value: '7200000',
      source: SRC.DYNAMIC_BROKER,
      synonyms: [['log.retention.ms', '7200000', SRC.DYNAMIC_BROKER], ['log.retention.ms', '3600000', SRC.DYNAMIC_DEFAULT_BROKER], ['log.retention.hours', '168', SRC.DEFAULT]],
    });
    const brokerRes = await admin.describeConfigs({ resources: [{ type: 4, name: '1', configNames: ['message.max.bytes', 'broker.id'] }], includeSynonyms: true });
    const byName = Object.fromEntries(brokerRes.resources[0].configEntries.map((e) => [e.configName, e]));
    assert.equal(byName['message.max.bytes'].configValue, '2000');
    assert.equal(byName['message.max.bytes'].configSource, SRC.DYNAMIC_BROKER);
    assert.equal(byName['message.max.bytes'].readOnly, false);
    assert.deepEqual(byName['message.max.bytes'].configSynonyms.map((s) => [s.configValue, s.configSource]), [['2000', SRC.DYNAMIC_BROKER], ['1048588', SRC.DEFAULT]]);
    assert.equal(byName['broker.id'].readOnly, true);

    // Effective: a topic without max.message.bytes now refuses a 5 KB record (MESSAGE_TOO_LARGE), and takes it again
    // once the broker's value is gone.
    const producer = kafka().producer({ retry: { retries: 0 } });
    await producer.connect();
    await assert.rejects(producer.send({ topic: 'dyn-t', messages: [{ value: Buffer.alloc(5000, 1) }] }), /too large|MESSAGE_TOO_LARGE|larger than/i);
    // kafkajs's AlterConfigs replaces the resource's whole dynamic set: naming only log.retention.ms drops message.max.bytes.
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 4, name: '1', configEntries: [{ name: 'log.retention.ms', value: '7200000' }] }] });
    await producer.send({ topic: 'dyn-t', messages: [{ value: Buffer.alloc(5000, 1) }] });
    await producer.disconnect();
    assert.equal(broker.broker.partition('dyn-t', 0)!.config['retention.ms'], '7200000', "the partition log's retention follows");
    await admin.disconnect();
  });

  test('confluent-kafka: read-only broker configs are refused with INVALID_REQUEST, bad values with INVALID_CONFIG', async () => {
    const r = await runPython<{ readOnly: string; badValue: string }>(
      `
import json, sys
from confluent_kafka.admin import AdminClient, ConfigResource
p = json.loads(sys.argv[1])
a = AdminClient({'bootstrap.servers': p['bootstrap']})
def attempt(name, value):
    res = ConfigResource(ConfigResource.Type.BROKER, '1', set_config={name: value})
    try:
        list(a.alter_configs([res]).values())[0].result(15)
        return 'ok'
    except Exception as e:
        return e.args[0].name()
print(json.dumps({'readOnly': attempt('broker.id', '7'), 'badValue': attempt('log.retention.ms', 'soon')}))
`,
      { bootstrap: broker.bootstrap },
    );
    assert.deepEqual(r, { readOnly: 'INVALID_REQUEST', badValue: 'INVALID_CONFIG' });
  });
});

describe('client quotas', () => {
  const QUOTA = 50_000; // bytes/s

  test('@platformatic/kafka alters and describes quotas; Kafka\'s INVALID_REQUEST for a bad key', async () => {
    const pk = await import('@platformatic/kafka');
    const admin = new pk.Admin({ clientId: 'parity2-quotas', bootstrapBrokers: [broker.bootstrap], retries: 5, retryDelay: 100 });
    try {
      await admin.alterClientQuotas({
        entries: [
          { entities: [{ entityType: 'client-id', entityName: 'slow-producer' }], ops: [{ key: 'producer_byte_rate', value: QUOTA, remove: false }] },
          { entities: [{ entityType: 'client-id', entityName: 'slow-consumer' }], ops: [{ key: 'consumer_byte_rate', value: QUOTA, remove: false }] },
          { entities: [{ entityType: 'user', entityName: null }], ops: [{ key: 'request_percentage', value: 200, remove: false }] },
        ],
      });
      const byClient = await admin.describeClientQuotas({ components: [{ entityType: 'client-id', matchType: 2 }] });
      assert.deepEqual(
        byClient.map((e) => [e.entity.map((p) => [p.entityType, p.entityName]), e.values.map((v) => [v.key, v.value])]).sort(),
        [
          [[['client-id', 'slow-consumer']], [['consumer_byte_rate', QUOTA]]],
          [[['client-id', 'slow-producer']], [['producer_byte_rate', QUOTA]]],
        ],
      );
      const defaultUser = await admin.describeClientQuotas({ components: [{ entityType: 'user', matchType: 1 }], strict: true });
      assert.deepEqual(defaultUser.map((e) => e.values.map((v) => [v.key, v.value])), [[['request_percentage', 200]]]);
      await assert.rejects(
        admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'client-id', entityName: 'x' }], ops: [{ key: 'connection_creation_rate' as 'producer_byte_rate', value: 5, remove: false }] }] }),
        (err: Error & { errors?: Array<{ response?: { entries: Array<{ errorCode: number; errorMessage: string }> } }> }) => {
          const entry = err.errors?.[0]?.response?.entries[0];
          assert.deepEqual([entry?.errorCode, entry?.errorMessage], [ErrorCode.INVALID_REQUEST, 'Invalid configuration key connection_creation_rate']);
          return true;
        },
      );
      // Removing the last key removes the entity.
      await admin.alterClientQuotas({ entries: [{ entities: [{ entityType: 'user', entityName: null }], ops: [{ key: 'request_percentage', remove: true }] }] });
      assert.deepEqual(await admin.describeClientQuotas({ components: [{ entityType: 'user', matchType: 2 }] }), []);
    } finally {
      await admin.close();
    }
  });

  test("a quota'd kafkajs producer and consumer are held near their byte rates while other clients are not; throttle_time_ms is reported and the connection muted", async () => {
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'quota-t' }] });
    await admin.disconnect();
    const value = Buffer.alloc(1000, 7);
    const rate = async (clientId: string, ms: number) => {
      const producer = new Kafka({ clientId, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      let bytes = 0;
      const start = Date.now();
      while (Date.now() - start < ms) {
        await producer.send({ topic: 'quota-t', acks: 1, messages: Array.from({ length: 10 }, () => ({ value })) });
        bytes += 10 * value.length;
      }
      const elapsed = Date.now() - start;
      await producer.disconnect();
      return (bytes * 1000) / elapsed;
    };
    const free = await rate('free-producer', 1500);
    const slow = await rate('slow-producer', 4000);
    console.log(`# produce rate: free-producer ${Math.round(free)} B/s, slow-producer ${Math.round(slow)} B/s (quota ${QUOTA} B/s)`);
    assert.ok(slow < QUOTA * 1.6, `slow-producer ran at ${Math.round(slow)} B/s, quota ${QUOTA}`);
    assert.ok(free > QUOTA * 5, `free-producer ran at ${Math.round(free)} B/s: the baseline must be far above the quota`);

    // The exact answer: one 200 KB produce of a quota'd client is answered at once with a throttle time, and the
    // broker reads that client's next request only after it.
    const c = new WireClient('127.0.0.1', broker.broker.port, 'slow-producer');
    await c.connect();
    try {
      await new Promise((r) => setTimeout(r, 2100)); // the earlier samples age out
      const produce = (records: number) =>
        c.request(Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 5000, topicData: [{ name: 'quota-t', partitionData: [{ index: 0, records: buildBatch({ records: Array.from({ length: records }, () => ({ value })) }) }] }] });
      const big = await produce(200);
      assert.equal(big.responses[0].partitionResponses[0].errorCode, 0, 'the request itself succeeds');
      assert.ok(big.throttleTimeMs > 500, `throttle_time_ms ${big.throttleTimeMs}`);
      const t0 = Date.now();
      await produce(1);
      assert.ok(Date.now() - t0 >= big.throttleTimeMs * 0.8, `the next request waited ${Date.now() - t0} ms for a throttle of ${big.throttleTimeMs} ms`);
    } finally {
      c.close();
    }

    // Fetch: a quota'd consumer reading the topic gets a throttle time too.
    const f = new WireClient('127.0.0.1', broker.broker.port, 'slow-consumer');
    await f.connect();
    try {
      const res = await f.request(Fetch, 11, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 10_000_000,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 'quota-t', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 10_000_000 }] }],
        forgottenTopicsData: [],
        rackId: '',
      } as never);
      assert.ok(res.throttleTimeMs > 500, `fetch throttle_time_ms ${res.throttleTimeMs}`);
      assert.deepEqual(res.responses, [], 'as Kafka: a throttled Fetch carries no data');
    } finally {
      f.close();
    }

    // A quota'd kafkajs consumer is held near its rate too (fetches of at most 20 KB, so no single answer is a burst).
    const consume = async (clientId: string, ms: number) => {
      const consumer = new Kafka({ clientId, brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).consumer({ groupId: `${clientId}-group`, maxBytes: 20_000, maxBytesPerPartition: 20_000, maxWaitTimeInMs: 50 });
      let bytes = 0;
      let first = 0;
      await consumer.connect();
      await consumer.subscribe({ topic: 'quota-t', fromBeginning: true });
      await consumer.run({
        eachBatch: async ({ batch }) => {
          if (!first) first = Date.now();
          for (const m of batch.messages) bytes += m.value?.length ?? 0;
        },
      });
      const deadline = Date.now() + ms + 10000;
      while ((!first || Date.now() - first < ms) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const elapsed = Date.now() - first;
      await consumer.disconnect();
      return (bytes * 1000) / elapsed;
    };
    await new Promise((r) => setTimeout(r, 2100)); // the inspector's fetch ages out of slow-consumer's window
    const freeRead = await consume('free-consumer', 1500);
    const slowRead = await consume('slow-consumer', 4000);
    console.log(`# fetch rate: free-consumer ${Math.round(freeRead)} B/s, slow-consumer ${Math.round(slowRead)} B/s (quota ${QUOTA} B/s)`);
    assert.ok(slowRead < QUOTA * 1.6 && slowRead > 0, `slow-consumer read ${Math.round(slowRead)} B/s, quota ${QUOTA}`);
    assert.ok(freeRead > QUOTA * 5, `free-consumer read ${Math.round(freeRead)} B/s`);
  });
});
