// Kafka semantics the seed notes rely on (acks, retention.ms, data loss, batching), checked on a real broker
// through exact wire requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/protocol/errorCode';
import { buildBatch } from '../../src/protocol/records/recordBatch';
import { WireClient } from '../../src/broker/wireClient';
import { DeleteRecords, IncrementalAlterConfigs } from '../../src/protocol/apis';
import { startTestBroker, TestBroker } from '../helpers/broker';
import { connectWire, fetchRecords, listOffset, produce } from '../helpers/wire';
import { waitFor } from '../helpers/wait';

let broker: TestBroker;
let wire: WireClient;
let kafka: Kafka;

before(async () => {
  broker = await startTestBroker({ 'log.retention.check.interval.ms': '100' });
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
});
