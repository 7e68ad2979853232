// Kafka semantics the seed notes rely on (acks, retention by time and size, data loss, batching, group sessions),
// checked on a real broker through exact wire requests and real clients.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/protocol/errorCode';
import { buildBatch } from '../../src/protocol/records/recordBatch';
import { WireClient } from '../../src/broker/wireClient';
import { DeleteRecords, DescribeGroups, FindCoordinator, IncrementalAlterConfigs, JoinGroup, LeaveGroup } from '../../src/protocol/apis';
import { startTestBroker, TestBroker } from '../helpers/broker';
import { connectWire, fetchRecords, listOffset, produce } from '../helpers/wire';
import { waitFor } from '../helpers/wait';

let broker: TestBroker;
let wire: WireClient;
let kafka: Kafka;

// Retention is checked every 100 ms instead of Kafka's 5 minutes, so deletions show within a test. The minimum group
// session timeout is 1 s instead of Kafka's 6 s, so a session can expire within a test; the JoinGroup test checks
// the boundary against this configured value (which also shows the setting is read, not a constant).
const MIN_SESSION_TIMEOUT_MS = 1000;

before(async () => {
  broker = await startTestBroker({ 'log.retention.check.interval.ms': '100', 'group.min.session.timeout.ms': String(MIN_SESSION_TIMEOUT_MS) });
  wire = await connectWire(broker.bootstrap);
  kafka = new Kafka({ clientId: 'semantics', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
});

after(async () => {
  wire?.close();
  await broker?.cleanup();
});

async function createTopic(name: string, configs: Record<string, string> = {}, partitions = 1) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions, configEntries: Object.entries(configs).map(([n, v]) => ({ name: n, value: v })) }], waitForLeaders: true });
  await admin.disconnect();
}

/** Sets topic configs on the live topic with IncrementalAlterConfigs (SET), as kafka-configs --alter does. */
async function alterTopic(name: string, configs: Record<string, string>) {
  const res = await wire.request(IncrementalAlterConfigs, 1, {
    resources: [{ resourceType: 2, resourceName: name, configs: Object.entries(configs).map(([n, value]) => ({ name: n, configOperation: 0, value })) }],
    validateOnly: false,
  });
  assert.equal(res.responses[0].errorCode, 0, `IncrementalAlterConfigs ${name}: ${res.responses[0].errorMessage}`);
}

/** What a new kafkajs consumer group reads from the earliest offset of a one-partition topic. */
async function consumeFromBeginning(topic: string, expected: number): Promise<Array<{ offset: number; value: string }>> {
  const consumer = kafka.consumer({ groupId: `read-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got: Array<{ offset: number; value: string }> = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumer read ${got.length}/${expected} records: ${JSON.stringify(got)}`)), 15000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            got.push({ offset: Number(message.offset), value: message.value!.toString() });
            if (got.length >= expected) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return got;
}

describe('broker semantics', () => {
  test('acks=0 gets no response, acks=1 and acks=-1 get offsets, other acks are refused', async () => {
    await createTopic('acks');
    const none = await wire.request(
      (await import('../../src/protocol/apis')).Produce,
      9,
      { transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: 'acks', partitionData: [{ index: 0, records: buildBatch({ records: [{ value: 'fire and forget' }] }) }] }] },
      1000,
      false,
    );
    assert.equal(none, undefined);
    const one = await produce(wire, 'acks', 0, [{ value: 'one' }], 1);
    assert.equal(one.errorCode, 0);
    assert.equal(one.baseOffset, 1, 'the acks=0 record was written first');
    const all = await produce(wire, 'acks', 0, [{ value: 'all' }], -1);
    assert.deepEqual([all.errorCode, all.baseOffset], [0, 2]);
    const bad = await produce(wire, 'acks', 0, [{ value: 'bad' }], 2);
    assert.equal(bad.errorCode, ErrorCode.INVALID_REQUIRED_ACKS);
    const read = await fetchRecords(wire, 'acks', 0, 0);
    assert.deepEqual(read.decoded.map((r) => r.value?.toString()), ['fire and forget', 'one', 'all']);
  });

  test('changing retention.ms on a live topic deletes old records (the seed notes)', async () => {
    await createTopic('retained', { 'segment.bytes': '1024' });
    for (let i = 0; i < 20; i++) await produce(wire, 'retained', 0, [{ value: `old-${i}`.padEnd(100, '.'), timestamp: Date.now() - 60_000 }]);
    assert.equal((await listOffset(wire, 'retained', 0, -2)).offset, 0);
    const res = await wire.request(IncrementalAlterConfigs, 1, {
      resources: [{ resourceType: 2, resourceName: 'retained', configs: [{ name: 'retention.ms', configOperation: 0, value: '1000' }] }],
      validateOnly: false,
    });
    assert.equal(res.responses[0].errorCode, 0);
    await waitFor(async () => (await listOffset(wire, 'retained', 0, -2)).offset === 20, 5000);
    // Everything expired: the log start moved to the end, and new writes continue from there.
    const next = await produce(wire, 'retained', 0, [{ value: 'new' }]);
    assert.equal(next.baseOffset, 20);
    const read = await fetchRecords(wire, 'retained', 0, 20);
    assert.deepEqual(read.decoded.map((r) => r.value?.toString()), ['new']);
    const tooOld = await fetchRecords(wire, 'retained', 0, 0);
    assert.equal(tooOld.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  });

  test('a bad retention.ms value is refused with a clear message and changes nothing', async () => {
    await createTopic('strict-config');
    const res = await wire.request(IncrementalAlterConfigs, 1, {
      resources: [{ resourceType: 2, resourceName: 'strict-config', configs: [{ name: 'retention.ms', configOperation: 0, value: 'tomorrow' }] }],
      validateOnly: false,
    });
    assert.equal(res.responses[0].errorCode, ErrorCode.INVALID_CONFIG);
    assert.match(res.responses[0].errorMessage ?? '', /retention\.ms/);
    assert.equal(broker.broker.topicState('strict-config')?.configs['retention.ms'], undefined);
  });

  test('retention.bytes and segment.ms set on a live topic: the oldest segments go, the newest retention.bytes stay', async () => {
    const topic = 'size-retained';
    await createTopic(topic);
    // segment.ms, set after creation: Kafka rolls a segment when an incoming batch's timestamp is more than segment.ms
    // after the segment's first batch, so batches stamped 2 s apart each get a segment of their own.
    await alterTopic(topic, { 'segment.ms': '1000' });
    const base = Date.now() - 120_000; // well inside the 7-day retention.ms, so only size can delete anything
    const value = (i: number) => `rec-${i}`.padEnd(100, '.');
    const record = (i: number) => ({ value: value(i), timestamp: base + i * 2000 });
    for (let i = 0; i < 20; i++) assert.equal((await produce(wire, topic, 0, [record(i)])).errorCode, 0);
    // One single-record batch per segment, all the same size (the stored batch is the one sent).
    const batchBytes = buildBatch({ records: [record(0)] }).length;
    const dir = join(broker.dir, 'broker-1', `${topic}-0`);
    const segmentSizes = () =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.log'))
        .sort()
        .map((f) => statSync(join(dir, f)).size)
        .filter((size) => size > 0); // the retention check may already have rolled an empty active segment
    assert.deepEqual(segmentSizes(), Array(20).fill(batchBytes), 'segment.ms rolled a segment per batch');
    assert.equal((await listOffset(wire, topic, 0, -2)).offset, 0, 'nothing deleted before retention.bytes is set');

    // Kafka deletes the oldest segments only while what remains stays at or above retention.bytes: with room for
    // 5.5 batches, 6 segments stay (6 batches), offsets 14-19.
    await alterTopic(topic, { 'retention.bytes': String(Math.floor(batchBytes * 5.5)) });
    await waitFor(async () => (await listOffset(wire, topic, 0, -2)).offset === 14, 5000, () => `segments: ${segmentSizes().length}`);
    await new Promise((r) => setTimeout(r, 500)); // several more retention checks must not delete further
    assert.equal((await listOffset(wire, topic, 0, -2)).offset, 14, 'the log start stays where retention.bytes put it');
    assert.equal((await listOffset(wire, topic, 0, -1)).offset, 20, 'the log end did not move');
    assert.deepEqual(segmentSizes(), Array(6).fill(batchBytes), 'the deleted segments are gone from disk');

    const kept = await fetchRecords(wire, topic, 0, 14);
    assert.deepEqual(kept.decoded.map((r) => r.value?.toString()), [14, 15, 16, 17, 18, 19].map(value), 'the retained range is intact');
    assert.equal((await fetchRecords(wire, topic, 0, 13)).errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
    // A consumer starting from the beginning starts at the new log start.
    const consumed = await consumeFromBeginning(topic, 6);
    assert.deepEqual(consumed, [14, 15, 16, 17, 18, 19].map((i) => ({ offset: i, value: value(i) })));

    // New writes keep the partition within the limit: two more batches push the two oldest retained segments out.
    for (let i = 20; i < 22; i++) assert.equal((await produce(wire, topic, 0, [record(i)])).errorCode, 0);
    await waitFor(async () => (await listOffset(wire, topic, 0, -2)).offset === 16, 5000);
    const after = await fetchRecords(wire, topic, 0, 16);
    assert.deepEqual(after.decoded.map((r) => r.value?.toString()), [16, 17, 18, 19, 20, 21].map(value));
  });

  test('DeleteRecords moves the log start offset', async () => {
    await createTopic('trimmed');
    await produce(wire, 'trimmed', 0, Array.from({ length: 10 }, (_, i) => ({ value: `r${i}` })));
    const res = await wire.request(DeleteRecords, 2, { topics: [{ name: 'trimmed', partitions: [{ partitionIndex: 0, offset: 4 }] }], timeoutMs: 1000 });
    assert.deepEqual([res.topics[0].partitions[0].errorCode, res.topics[0].partitions[0].lowWatermark], [0, 4]);
    assert.equal((await listOffset(wire, 'trimmed', 0, -2)).offset, 4);
    const beyond = await wire.request(DeleteRecords, 2, { topics: [{ name: 'trimmed', partitions: [{ partitionIndex: 0, offset: 99 }] }], timeoutMs: 1000 });
    assert.equal(beyond.topics[0].partitions[0].errorCode, ErrorCode.OFFSET_OUT_OF_RANGE);
  });

  test('an idempotent producer retry is not written twice; a sequence gap is refused', async () => {
    await createTopic('idempotent');
    const batch = (seq: number, n: number) => buildBatch({ records: Array.from({ length: n }, (_, i) => ({ value: `s${seq + i}` })), producerId: 4242, producerEpoch: 0, baseSequence: seq });
    const first = await produce(wire, 'idempotent', 0, batch(0, 3), -1);
    const retry = await produce(wire, 'idempotent', 0, batch(0, 3), -1);
    assert.deepEqual([first.errorCode, retry.errorCode, retry.baseOffset], [0, 0, first.baseOffset]);
    const gap = await produce(wire, 'idempotent', 0, batch(10, 1), -1);
    assert.equal(gap.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    const next = await produce(wire, 'idempotent', 0, batch(3, 2), -1);
    assert.equal(next.errorCode, 0);
    const read = await fetchRecords(wire, 'idempotent', 0, 0);
    assert.deepEqual(read.decoded.map((r) => r.value?.toString()), ['s0', 's1', 's2', 's3', 's4']);
    // kafkajs's idempotent producer (InitProducerId + sequences) works end to end.
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: 'idempotent', messages: [{ value: 'from kafkajs' }] });
    await producer.disconnect();
    const after = await fetchRecords(wire, 'idempotent', 0, 5);
    assert.deepEqual(after.decoded.map((r) => r.value?.toString()), ['from kafkajs']);
  });

  test('a batch over max.message.bytes is refused and nothing is written', async () => {
    await createTopic('small-messages', { 'max.message.bytes': '2000' });
    const big = await produce(wire, 'small-messages', 0, [{ value: Buffer.alloc(5000, 1) }]);
    assert.equal(big.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal((await listOffset(wire, 'small-messages', 0, -1)).offset, 0);
  });

  test('LogAppendTime topics stamp the broker time', async () => {
    await createTopic('append-time', { 'message.timestamp.type': 'LogAppendTime' });
    const before = Date.now();
    const res = await produce(wire, 'append-time', 0, [{ value: 'x', timestamp: 1000 }]);
    assert.ok(res.logAppendTimeMs >= before, `logAppendTimeMs ${res.logAppendTimeMs}`);
    const read = await fetchRecords(wire, 'append-time', 0, 0);
    assert.ok(read.decoded[0].timestamp >= before);
  });

  test('long-poll fetch waits for data and returns as soon as it arrives', async () => {
    await createTopic('long-poll');
    const started = Date.now();
    const pending = fetchRecords(wire, 'long-poll', 0, 0, 5000);
    setTimeout(() => void produce(wire, 'long-poll', 0, [{ value: 'wake up' }]), 200);
    const res = await pending;
    const waited = Date.now() - started;
    assert.deepEqual(res.decoded.map((r) => r.value?.toString()), ['wake up']);
    assert.ok(waited >= 150 && waited < 3000, `waited ${waited} ms`);
    const empty = Date.now();
    const none = await fetchRecords(wire, 'long-poll', 0, 1, 300);
    assert.equal(none.decoded.length, 0);
    assert.ok(Date.now() - empty >= 250, 'an empty long poll honours MaxWaitMs');
  });
  test('JoinGroup with a session timeout outside group.min/max.session.timeout.ms gets INVALID_SESSION_TIMEOUT and joins nothing', async () => {
    const group = 'session-bounds';
    // FindCoordinator creates __consumer_offsets; DescribeGroups answers once the coordinator has loaded it.
    await waitFor(async () => (await wire.request(FindCoordinator, 3, { key: group, keyType: 0, coordinatorKeys: [] })).errorCode === 0, 5000);
    const describeGroup = async () => (await wire.request(DescribeGroups, 5, { groups: [group], includeAuthorizedOperations: false })).groups[0];
    await waitFor(async () => (await describeGroup()).errorCode === 0, 5000);
    const join = (sessionTimeoutMs: number) =>
      wire.request(JoinGroup, 7, {
        groupId: group,
        sessionTimeoutMs,
        rebalanceTimeoutMs: 5000,
        memberId: '',
        groupInstanceId: null,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
        reason: null,
      });

    for (const sessionTimeoutMs of [MIN_SESSION_TIMEOUT_MS - 1, 1_800_001 /* group.max.session.timeout.ms + 1 */]) {
      const refused = await join(sessionTimeoutMs);
      assert.equal(refused.errorCode, ErrorCode.INVALID_SESSION_TIMEOUT, `session timeout ${sessionTimeoutMs}`);
      assert.equal(refused.errorCode, 26);
      assert.deepEqual([refused.generationId, refused.memberId, refused.members], [-1, '', []]);
    }
    const untouched = await describeGroup();
    assert.deepEqual([untouched.groupState, untouched.members], ['Dead', []], 'a refused join creates no group and no member');

    // The bounds are inclusive: exactly the minimum joins.
    const joined = await join(MIN_SESSION_TIMEOUT_MS);
    assert.equal(joined.errorCode, 0);
    assert.equal(joined.generationId, 1);
    assert.equal(joined.leader, joined.memberId);
    const left = await wire.request(LeaveGroup, 3, { groupId: group, memberId: '', members: [{ memberId: joined.memberId, groupInstanceId: null }] });
    assert.deepEqual([left.errorCode, left.members[0].errorCode], [0, 0]);
  });

  test('a member whose process is killed (SIGKILL) is evicted after its session timeout; the other member gets every partition', async () => {
    const topic = 'sessions';
    const groupId = 'session-expiry';
    const sessionTimeout = 3000;
    await createTopic(topic, {}, 4);
    // The doomed member is a kafkajs consumer in a child process, so SIGKILL stops its heartbeats without a LeaveGroup.
    const childSource = `
      const { Kafka, logLevel } = require(process.env.KAFKAJS);
      const kafka = new Kafka({ clientId: 'doomed', brokers: [process.env.BOOTSTRAP], logLevel: logLevel.NOTHING });
      const consumer = kafka.consumer({ groupId: process.env.GROUP, sessionTimeout: Number(process.env.SESSION_MS), heartbeatInterval: 300, maxWaitTimeInMs: 100 });
      consumer.on(consumer.events.GROUP_JOIN, (e) => console.log(JSON.stringify(e.payload.memberAssignment[process.env.TOPIC] || [])));
      (async () => {
        await consumer.connect();
        await consumer.subscribe({ topic: process.env.TOPIC, fromBeginning: true });
        await consumer.run({ eachMessage: async () => {} });
      })().catch((err) => { console.error(err); process.exit(1); });
    `;
    const child = spawn(process.execPath, ['-e', childSource], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KAFKAJS: require.resolve('kafkajs'), BOOTSTRAP: broker.bootstrap, GROUP: groupId, TOPIC: topic, SESSION_MS: String(sessionTimeout) },
    });
    let childOut = '';
    let childErr = '';
    child.stdout!.on('data', (d) => (childOut += d));
    child.stderr!.on('data', (d) => (childErr += d));
    const childExited = new Promise((resolve) => child.once('exit', resolve));
    const childAssignment = () => JSON.parse(childOut.trim().split('\n').at(-1) || 'null') as number[] | null;

    // When the broker last heard from the doomed member: Heartbeat, JoinGroup, SyncGroup and OffsetCommit each restart
    // a member's session (the hook sees each request before it is handled).
    const SESSION_KEEPING_APIS = new Set([8, 11, 12, 14]);
    let lastHeardFromDoomed = 0;
    broker.broker.onRequest = (h) => {
      if (h.clientId === 'doomed' && SESSION_KEEPING_APIS.has(h.apiKey)) lastHeardFromDoomed = Date.now();
    };
    const survivor = kafka.consumer({ groupId, sessionTimeout, heartbeatInterval: 300, maxWaitTimeInMs: 100 });
    let survivorAssignment: number[] = [];
    let survivorMemberId = '';
    survivor.on(survivor.events.GROUP_JOIN, (e) => {
      survivorAssignment = ((e.payload.memberAssignment[topic] ?? []) as number[]).slice().sort();
      survivorMemberId = e.payload.memberId;
    });
    const explain = () => `child assignment ${JSON.stringify(childAssignment())}, survivor ${JSON.stringify(survivorAssignment)}\n${childErr.slice(-2000)}`;
    try {
      await waitFor(() => childAssignment()?.length === 4, 15000, explain);
      await survivor.connect();
      await survivor.subscribe({ topic, fromBeginning: true });
      await survivor.run({ eachMessage: async () => {} });
      await waitFor(() => childAssignment()?.length === 2 && survivorAssignment.length === 2, 15000, explain);

      child.kill('SIGKILL');
      await childExited;
      await waitFor(() => survivorAssignment.length === 4, sessionTimeout + 10000, explain);
      // Kafka keeps a member whose connection closed until its session times out: the rebalance that hands the dead
      // member's partitions over cannot start sooner than a session timeout after the broker last heard from it.
      const silence = Date.now() - lastHeardFromDoomed;
      assert.ok(lastHeardFromDoomed > 0, 'the hook saw the doomed member');
      assert.ok(silence >= sessionTimeout - 20, `the survivor got every partition ${silence} ms after the dead member's last request, within its ${sessionTimeout} ms session`);
      assert.deepEqual(survivorAssignment, [0, 1, 2, 3]);

      const admin = kafka.admin();
      await admin.connect();
      const { groups } = await admin.describeGroups([groupId]);
      await admin.disconnect();
      assert.equal(groups[0].state, 'Stable');
      assert.deepEqual(groups[0].members.map((m) => m.memberId), [survivorMemberId], 'only the survivor is a member');
    } finally {
      broker.broker.onRequest = undefined;
      child.kill('SIGKILL');
      await survivor.disconnect();
    }
  });
});
