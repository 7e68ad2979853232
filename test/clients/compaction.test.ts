// Log compaction seen from clients we did not write (kafkajs 2.2.4, confluent-kafka / librdkafka): the latest value
// per key with the original (now non-contiguous) offsets, tombstones until delete.retention.ms, compact,delete,
// an idempotent producer continuing after its old batches were cleaned, aborted transactions removed, and
// __consumer_offsets compacted. Segments roll by time (segment.ms / log.roll.ms) so the cleaner gets closed ones.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { WireClient } from '../../src/broker/wireClient';
import { LOG_DIR_CLEAN_SHUTDOWN_FILE } from '../../src/broker/broker';
import { FindCoordinator, OffsetCommit } from '../../src/protocol/apis';
import { startTestBroker, tempDir, TestBroker } from '../helpers/broker';
import { buildBatch } from '../../src/protocol/records/recordBatch';
import { connectWire, fetchRecords, listOffset, produce } from '../helpers/wire';
import { waitFor } from '../helpers/wait';

let broker: TestBroker;
let wire: WireClient;
let kafka: Kafka;
let scriptDir: string;

// The cleaner backs off 100 ms instead of Kafka's 15 s, and every segment (also __consumer_offsets') rolls after 1 s.
const BROKER_CONFIG = {
  'log.retention.check.interval.ms': '100',
  'log.cleaner.backoff.ms': '100',
  'log.roll.ms': '1000',
  'group.initial.rebalance.delay.ms': '0',
  // Tombstones in __consumer_offsets (created without a delete.retention.ms of its own) stay 2 s, not a day.
  'log.cleaner.delete.retention.ms': '2000',
};
const COMPACTED = { 'cleanup.policy': 'compact', 'segment.bytes': '2048', 'segment.ms': '500', 'min.cleanable.dirty.ratio': '0.01' };

before(async () => {
  broker = await startTestBroker(BROKER_CONFIG);
  wire = await connectWire(broker.bootstrap);
  kafka = new Kafka({ clientId: 'compaction', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  scriptDir = tempDir('minikafka-compaction-py-');
});

after(async () => {
  wire?.close();
  await broker?.cleanup();
  if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
});

async function createTopic(name: string, configs: Record<string, string>) {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: name, numPartitions: 1, configEntries: Object.entries(configs).map(([n, v]) => ({ name: n, value: v })) }], waitForLeaders: true });
  await admin.disconnect();
}

interface Rec {
  offset: number;
  key: string;
  value: string | null;
}

/** The whole partition, read with plain Fetch requests from the log start. */
async function readPartition(topic: string, partition = 0): Promise<Rec[]> {
  let offset = Number((await listOffset(wire, topic, partition, -2)).offset);
  const out: Rec[] = [];
  for (;;) {
    const res = await fetchRecords(wire, topic, partition, offset);
    if (res.decoded.length === 0) {
      if (offset >= Number(res.highWatermark)) return out;
      // Only empty batches (kept for producer state) up to here: skip past the last one returned.
      const hw = Number(res.highWatermark);
      if (!res.records || res.records.length === 0) return out;
      offset = Math.min(hw, lastOffsetOf(res.records) + 1);
      continue;
    }
    for (const r of res.decoded) out.push({ offset: r.offset, key: r.key?.toString() ?? '', value: r.value?.toString() ?? null });
    offset = Math.max(res.decoded[res.decoded.length - 1].offset + 1, lastOffsetOf(res.records!) + 1);
    if (offset >= Number(res.highWatermark)) return out;
  }
}

function lastOffsetOf(records: Buffer): number {
  let pos = 0;
  let last = -1;
  while (pos + 61 <= records.length) {
    const base = Number(records.readBigInt64BE(pos));
    last = base + records.readInt32BE(pos + 23);
    pos += records.readInt32BE(pos + 8) + 12;
  }
  return last;
}

function latestByKey(records: Rec[]): Map<string, Rec> {
  const m = new Map<string, Rec>();
  for (const r of records) m.set(r.key, r);
  return m;
}

/** kafkajs consumer of a fresh group from the beginning, until `count` messages arrived. */
async function consumeWithKafkajs(topic: string, count: number): Promise<Rec[]> {
  const consumer = kafka.consumer({ groupId: `compaction-${topic}-${Date.now()}`, maxWaitTimeInMs: 100 });
  const got: Rec[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      got.push({ offset: Number(message.offset), key: message.key?.toString() ?? '', value: message.value?.toString() ?? null });
    },
  });
  try {
    await waitFor(() => got.length >= count, 20000, () => `kafkajs consumed ${got.length} of ${count}: ${JSON.stringify(got)}`);
    await new Promise((r) => setTimeout(r, 300)); // nothing more arrives
  } finally {
    await consumer.disconnect();
  }
  return got;
}

const CONFLUENT_CONSUMER = `
import json, sys
from confluent_kafka import Consumer, KafkaError
p = json.loads(sys.argv[1])
c = Consumer({'bootstrap.servers': p['bootstrap'], 'group.id': p['group'], 'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
c.subscribe([p['topic']])
got, errors = [], []
import time
deadline = time.time() + 20
while time.time() < deadline and len(got) < p['count']:
    m = c.poll(0.2)
    if m is None: continue
    if m.error():
        if m.error().code() != KafkaError._PARTITION_EOF: errors.append(str(m.error()))
        continue
    got.append({'offset': m.offset(), 'key': m.key().decode(), 'value': None if m.value() is None else m.value().decode()})
time.sleep(0.3)
m = c.poll(0.3)
if m is not None and not m.error(): got.append({'offset': m.offset(), 'key': m.key().decode(), 'value': None if m.value() is None else m.value().decode()})
c.close()
print(json.dumps({'got': got, 'errors': errors}))
`;

async function consumeWithConfluent(topic: string, count: number): Promise<Rec[]> {
  const file = join(scriptDir, 'confluent_consume.py');
  writeFileSync(file, CONFLUENT_CONSUMER);
  const child = spawn('/usr/bin/python3', [file, JSON.stringify({ bootstrap: broker.bootstrap, topic, count, group: `confluent-${topic}-${Date.now()}` })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, `confluent consumer failed: ${stderr.slice(-2000)}`);
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { got: Rec[]; errors: string[] };
  assert.deepEqual(result.errors, []);
  return result.got;
}

const KAFKA_PYTHON_CONSUMER = `
import json, sys
from kafka import KafkaConsumer
p = json.loads(sys.argv[1])
c = KafkaConsumer(p['topic'], bootstrap_servers=p['bootstrap'], group_id=p['group'], auto_offset_reset='earliest', consumer_timeout_ms=5000)
print(json.dumps([{'offset': m.offset, 'key': m.key.decode(), 'value': None if m.value is None else m.value.decode()} for m in c]))
`;

/** kafka-python 2.0.2 from the beginning, until nothing arrives for 5 s. */
async function consumeWithKafkaPython(topic: string): Promise<Rec[]> {
  const file = join(scriptDir, 'kafka_python_consume.py');
  writeFileSync(file, KAFKA_PYTHON_CONSUMER);
  const child = spawn('/usr/bin/python3', [file, JSON.stringify({ bootstrap: broker.bootstrap, topic, group: `kafka-python-${topic}-${Date.now()}` })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, `kafka-python consumer failed: ${stderr.slice(-2000)}`);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Rec[];
}

describe('log compaction', () => {
  test('updates and tombstones: the latest value per key at its original offset, tombstones gone after delete.retention.ms (kafkajs, confluent-kafka)', async () => {
    const topic = 'compacted-updates';
    await createTopic(topic, { ...COMPACTED, 'delete.retention.ms': '4000' });
    const producer = kafka.producer();
    await producer.connect();
    const keys = 10;
    const rounds = 20;
    for (let round = 0; round < rounds; round++) {
      const last = round === rounds - 1;
      // In the last round keys 0-2 are deleted (tombstones).
      await producer.send({ topic, messages: Array.from({ length: keys }, (_, k) => ({ key: `k${k}`, value: last && k < 3 ? null : `v${round}-${'x'.repeat(40)}` })) });
    }
    await producer.disconnect();
    const expected = Array.from({ length: keys }, (_, k) => ({ offset: (rounds - 1) * keys + k, key: `k${k}`, value: k < 3 ? null : `v${rounds - 1}-${'x'.repeat(40)}` }));

    // The active segment rolls after segment.ms, then the cleaner leaves one record per key.
    let seen: Rec[] = [];
    await waitFor(async () => (seen = await readPartition(topic)).length === keys, 20000, () => `${seen.length} records left: ${JSON.stringify(seen.slice(0, 12))}`);
    assert.deepEqual(seen, expected, 'the latest record of each key, at the offset it was produced at');

    const viaKafkajs = await consumeWithKafkajs(topic, keys);
    assert.deepEqual(viaKafkajs, expected, 'kafkajs reads the compacted log, tombstones included');
    const viaConfluent = await consumeWithConfluent(topic, keys);
    assert.deepEqual(viaConfluent, expected, 'confluent-kafka reads the compacted log, tombstones included');

    // delete.retention.ms after the cleaning that kept them, the tombstones go.
    await waitFor(async () => (seen = await readPartition(topic)).length === keys - 3, 20000, () => `${seen.length} records: ${JSON.stringify(seen)}`);
    assert.deepEqual(seen, expected.slice(3));
    assert.deepEqual(await consumeWithKafkajs(topic, keys - 3), expected.slice(3));
    assert.equal(Number((await listOffset(wire, topic, 0, -1)).offset), rounds * keys, 'the log end offset is unchanged');
  });

  test('compact,delete: compacted, then old segments deleted by retention.ms', async () => {
    const topic = 'compact-delete';
    await createTopic(topic, { ...COMPACTED, 'cleanup.policy': 'compact,delete', 'retention.ms': '6000' });
    const producer = kafka.producer();
    await producer.connect();
    for (let round = 0; round < 10; round++) {
      await producer.send({ topic, messages: Array.from({ length: 5 }, (_, k) => ({ key: `k${k}`, value: `v${round}-${'y'.repeat(60)}` })) });
    }
    await producer.disconnect();
    let seen: Rec[] = [];
    await waitFor(async () => (seen = await readPartition(topic)).length === 5, 20000, () => `${seen.length} records`);
    assert.deepEqual(seen.map((r) => [r.offset, r.key, r.value?.slice(0, 2)]), [45, 46, 47, 48, 49].map((o, k) => [o, `k${k}`, 'v9']));
    // retention.ms deletes the (cleaned) segments: the log start moves to the end.
    await waitFor(async () => Number((await listOffset(wire, topic, 0, -2)).offset) === 50, 20000, () => 'log start offset to reach 50');
    assert.deepEqual(await readPartition(topic), []);
  });

  test('an idempotent producer continues without OUT_OF_ORDER_SEQUENCE_NUMBER after its old batches were cleaned and the producer state was rebuilt from the log', async () => {
    const topic = 'compacted-idempotent';
    await createTopic(topic, COMPACTED);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 20, initialRetryTime: 100 } });
    await producer.connect();
    for (let i = 0; i <= 30; i++) await producer.send({ topic, messages: [{ key: 'same', value: `v${i}` }] });
    // Another producer overwrites the key: every batch of the idempotent one is superseded.
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic, messages: [{ key: 'same', value: 'other' }] });
    await plain.disconnect();
    let seen: Rec[] = [];
    await waitFor(async () => (seen = await readPartition(topic)).length === 1, 20000, () => `${seen.length} records`);
    assert.deepEqual(seen, [{ offset: 31, key: 'same', value: 'other' }]);

    // Restart without producer snapshots: the state is rebuilt from the cleaned log's batch headers, where only the
    // idempotent producer's last batch is left (empty, as Kafka keeps it).
    const port = broker.broker.port;
    await broker.stop();
    const dir = join(broker.broker.logDir, `${topic}-0`);
    for (const f of readdirSync(dir)) if (f.endsWith('.snapshot')) unlinkSync(join(dir, f));
    unlinkSync(join(broker.broker.logDir, LOG_DIR_CLEAN_SHUTDOWN_FILE)); // the active segment is scanned too
    broker = await startTestBroker(BROKER_CONFIG, broker.dir, port);
    wire.close();
    wire = await connectWire(broker.bootstrap);
    const entries = [...broker.broker.partition(topic, 0)!.log.producerState.entries()];
    assert.equal(entries.length, 1, 'the idempotent producer is remembered after the rebuild');
    assert.equal(entries[0].batches.at(-1)!.lastSeq, 30, 'its last sequence survived the cleaning');

    // The same kafkajs producer (same id, next sequence 31) goes on writing.
    await producer.send({ topic, messages: [{ key: 'next', value: 'after-clean' }] });
    await producer.disconnect();
    assert.deepEqual((await readPartition(topic)).map((r) => r.value), ['other', 'after-clean']);
    // Consumers (kafkajs, librdkafka, kafka-python) step over the empty batch (offsets 0-30 hold only it now).
    const expected = [{ offset: 31, key: 'same', value: 'other' }, { offset: 32, key: 'next', value: 'after-clean' }];
    assert.deepEqual(await consumeWithKafkajs(topic, 2), expected);
    assert.deepEqual(await consumeWithConfluent(topic, 2), expected);
    assert.deepEqual(await consumeWithKafkaPython(topic), expected);
    const gap = await produce(wire, topic, 0, buildBatch({ records: [{ key: 'same', value: 'raw' }], producerId: entries[0].producerId, producerEpoch: entries[0].epoch, baseSequence: 40 }), -1);
    assert.equal(gap.errorCode, 45, 'a gap in its sequences is still OUT_OF_ORDER_SEQUENCE_NUMBER (45)');
  });

  test('records of an aborted transaction are removed by the cleaner; committed ones stay', async () => {
    const topic = 'compacted-txn';
    await createTopic(topic, COMPACTED);
    const producer = kafka.producer({ transactionalId: 'compaction-txn', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const t1 = await producer.transaction();
    await t1.send({ topic, messages: [{ key: 'a', value: '1' }, { key: 'b', value: '1' }] });
    await t1.commit();
    const t2 = await producer.transaction();
    await t2.send({ topic, messages: [{ key: 'c', value: 'aborted' }, { key: 'd', value: 'aborted' }] });
    await t2.abort();
    const t3 = await producer.transaction();
    await t3.send({ topic, messages: [{ key: 'a', value: '2' }] });
    await t3.commit();
    await producer.disconnect();
    // read_uncommitted sees the aborted records until the cleaner removes them.
    let seen: Rec[] = await readPartition(topic);
    assert.ok(seen.some((r) => r.key === 'c'), 'before cleaning, read_uncommitted sees aborted records');
    await waitFor(async () => !(seen = await readPartition(topic)).some((r) => r.key === 'c' || r.key === 'd'), 20000, () => JSON.stringify(seen));
    const latest = latestByKey(seen);
    assert.equal(latest.get('a')?.value, '2');
    assert.equal(latest.get('b')?.value, '1');
    assert.equal(seen.filter((r) => r.key === 'a').length, 1, 'the older value of a is compacted away');
  });

  test('__consumer_offsets is compacted: many commits of one group leave few records', async () => {
    const topic = 'offsets-source';
    await createTopic(topic, {});
    const admin = kafka.admin();
    await admin.connect();
    const group = 'many-commits';
    // Standalone commits (generation -1, as admin tools send them) straight on the wire: kafkajs' setOffsets joins
    // the group first and takes seconds per commit.
    await waitFor(async () => (await wire.request(FindCoordinator, 3, { key: group, keyType: 0, coordinatorKeys: [] })).errorCode === 0, 10000);
    // How many records the commits append, from the log end offsets: counting the group's records instead races the
    // cleaner, which may already compact closed segments while the commits go on (log.roll.ms is 1 s here).
    const logEnds = async () => {
      let sum = 0;
      for (let p = 0; p < 10; p++) sum += Number((await listOffset(wire, '__consumer_offsets', p, -1)).offset);
      return sum;
    };
    const endsBefore = await logEnds();
    for (let i = 1; i <= 60; i++) {
      const res = await wire.request(OffsetCommit, 7, {
        groupId: group,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: i, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
      assert.equal(res.topics[0].partitions[0].errorCode, 0);
    }
    const countForGroup = async () => {
      let n = 0;
      for (let p = 0; p < 10; p++) for (const r of await readPartition('__consumer_offsets', p)) if (r.key.includes(group)) n++;
      return n;
    };
    assert.ok((await logEnds()) - endsBefore >= 60, 'every commit is a record at first');
    let count = 0;
    await waitFor(async () => (count = await countForGroup()) <= 2, 20000, () => `${count} records of the group remain`);
    const offsets = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    assert.equal(offsets[0].partitions[0].offset, '60', 'the group still has its last committed offset');
    await admin.disconnect();
    assert.ok(existsSync(join(broker.broker.logDir, 'cleaner-offset-checkpoint')), 'the cleaner checkpoint is written in the log dir');
  });

  test('expired committed offsets (offsets.retention.minutes) get tombstones, which compaction then removes; a group with members keeps its offsets', async () => {
    const topic = 'expiry-source';
    await createTopic(topic, {});
    const standalone = 'expiring-standalone';
    await waitFor(async () => (await wire.request(FindCoordinator, 3, { key: standalone, keyType: 0, coordinatorKeys: [] })).errorCode === 0, 10000);
    const commit = await wire.request(OffsetCommit, 7, {
      groupId: standalone,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    assert.equal(commit.topics[0].partitions[0].errorCode, 0);
    // A live group: a kafkajs consumer that commits and stays a member.
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'k', value: 'v' }] });
    await producer.disconnect();
    const active = 'expiring-active';
    const consumer = kafka.consumer({ groupId: active, maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    let consumed = 0;
    await consumer.run({ autoCommitInterval: 100, eachMessage: async () => void consumed++ });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await waitFor(async () => (await admin.fetchOffsets({ groupId: active, topics: [topic] }))[0].partitions[0].offset === '1', 20000, () => `consumed ${consumed}`);

      // Eight days later (offsets.retention.minutes is 7 days): the standalone group's offset expires, the live one's stays.
      const expired = await broker.broker.groups.removeExpiredOffsets(Date.now() + 8 * 86_400_000);
      assert.ok(expired >= 1, `${expired} offsets expired (those of earlier tests' groups too)`);
      assert.equal((await admin.fetchOffsets({ groupId: standalone, topics: [topic] }))[0].partitions[0].offset, '-1');
      assert.equal((await admin.fetchOffsets({ groupId: active, topics: [topic] }))[0].partitions[0].offset, '1');
      const recordsOf = async (group: string) => {
        const out: Rec[] = [];
        for (let p = 0; p < 10; p++) for (const r of await readPartition('__consumer_offsets', p)) if (r.key.includes(group)) out.push(r);
        return out;
      };
      const written = await recordsOf(standalone);
      assert.ok(written.some((r) => r.value === null), 'a tombstone was written for the expired offset');
      // The cleaner drops the offset record at once (superseded) and the tombstones after delete.retention.ms.
      let left: Rec[] = [];
      await waitFor(async () => (left = await recordsOf(standalone)).length === 0, 30000, () => JSON.stringify(left));
    } finally {
      await consumer.disconnect();
      await admin.disconnect();
    }
  });
});
