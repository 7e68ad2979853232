// kafka-python 2.0.2 and confluent-kafka 1.7 (librdkafka 2.0.2), Debian's packages for /usr/bin/python3, unmodified,
// against a real broker on a loopback socket. Each scenario is a small Python script written to a temp dir at
// test time; it prints one JSON object on its last stdout line, which the test asserts on. Our own WireClient
// reads the stored batches back to check the codec the broker actually received.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestBroker, TestBroker, tempDir } from '../helpers/broker';
import { WireClient } from '../../src/broker/wireClient';
import { Fetch } from '../../src/protocol/apis';
import { ZERO_UUID } from '../../src/protocol/schema';
import { iterateBatchHeaders } from '../../src/protocol/records/recordBatch';
import { ATTR_COMPRESSION_MASK, CompressionType } from '../../src/protocol/records/batchHeader';

/** Debian's interpreter: the `python3` on PATH may be another one without the Debian packages. */
const PYTHON = '/usr/bin/python3';
const SCRIPT_TIMEOUT_MS = 45000;

let broker: TestBroker;
let wire: WireClient;
let scriptDir: string;

before(async () => {
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  wire = new WireClient('127.0.0.1', broker.broker.port, 'python-test-inspector');
  await wire.connect();
  scriptDir = tempDir('minikafka-python-');
});

after(async () => {
  wire?.close();
  await broker?.cleanup();
  if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------------
// Running Python

interface PythonRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runPython(args: string[], timeoutMs = SCRIPT_TIMEOUT_MS): Promise<PythonRun> {
  const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONPATH: '' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${PYTHON} ${args.join(' ')} timed out after ${timeoutMs} ms\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr.slice(-4000)}`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${PYTHON}: ${err.message}`));
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Fails (never skips) when Debian's python3 or the client package is missing: CI installs them in .ci/run. */
async function requirePythonModule(module: string, debianPackage: string): Promise<void> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: install the Debian packages "python3" and "${debianPackage}"`);
  const probe = await runPython(['-c', `import ${module}`], 15000);
  if (probe.code !== 0) {
    throw new Error(`${PYTHON} cannot import ${module}: install the Debian package "${debianPackage}" (apt-get install ${debianPackage})\n${probe.stderr}`);
  }
}

/** Writes `source` to the temp dir, runs it with `params` as JSON argv[1], and returns its last stdout line parsed. */
async function runScript<T>(name: string, source: string, params: Record<string, unknown>): Promise<T> {
  const file = join(scriptDir, name);
  writeFileSync(file, source);
  const run = await runPython([file, JSON.stringify({ bootstrap: broker.bootstrap, ...params })]);
  const explain = `${name} exited with ${run.code}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr.slice(-4000)}`;
  assert.equal(run.code, 0, explain);
  const lastLine = run.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(lastLine) as T;
  } catch {
    throw new Error(`last stdout line of ${name} is not JSON\n${explain}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Checks shared by both clients

interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string;
  value: string;
  headers: Record<string, string>;
}

interface ProducedRecord {
  topic: string;
  key: string;
  value: string;
  partition: number;
  offset: number;
}

/** Values end in "-<sequence number>": per key, one partition and produce order. */
function assertPerKeyOrder(consumed: ConsumedRecord[]): void {
  const byKey = new Map<string, ConsumedRecord[]>();
  for (const r of consumed) byKey.set(`${r.topic}/${r.key}`, [...(byKey.get(`${r.topic}/${r.key}`) ?? []), r]);
  for (const [key, records] of byKey) {
    assert.equal(new Set(records.map((r) => r.partition)).size, 1, `key ${key} lives in one partition`);
    const sequence = records.map((r) => Number(/-(\d+)$/.exec(r.value)?.[1]));
    assert.deepEqual(sequence, [...sequence].sort((a, b) => a - b), `key ${key} consumed in produce order`);
  }
}

/** What the producer was told (partition, offset) is where the consumer found each record. */
function assertConsumedWhereAcknowledged(produced: ProducedRecord[], consumed: ConsumedRecord[]): void {
  const at = (r: { topic: string; partition: number; offset: number }) => `${r.topic}-${r.partition}@${r.offset}`;
  assert.deepEqual(
    consumed.map((r) => `${at(r)} ${r.key}=${r.value}`).sort(),
    produced.map((r) => `${at(r)} ${r.key}=${r.value}`).sort(),
    'every acknowledged record consumed once, at its acknowledged offset',
  );
}

/** Offsets each partition's records were acknowledged at are dense from 0. */
function assertDenseOffsets(produced: ProducedRecord[]): void {
  for (const tp of new Set(produced.map((r) => `${r.topic}-${r.partition}`))) {
    const offsets = produced.filter((r) => `${r.topic}-${r.partition}` === tp).map((r) => r.offset).sort((a, b) => a - b);
    assert.deepEqual(offsets, offsets.map((_, i) => i), `offsets of ${tp}`);
  }
}

/** Number of records per partition of `topic` = the offset a consumer that read everything commits. */
function endOffsets(produced: ProducedRecord[], topic: string, partitions: number): number[] {
  return Array.from({ length: partitions }, (_, p) => produced.filter((r) => r.topic === topic && r.partition === p).length);
}

/** Compression codec of every batch stored in `topic`/`partition` (read with Fetch v11 from offset 0). */
async function storedBatchCodecs(topic: string, partition: number): Promise<CompressionType[]> {
  const res = await wire.request(Fetch, 11, {
    clusterId: null,
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 64 * 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic,
        topicId: ZERO_UUID,
        partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 64 * 1024 * 1024 }],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  });
  const data = res.responses[0].partitions[0];
  assert.equal(data.errorCode, 0, `Fetch ${topic}-${partition}`);
  return [...iterateBatchHeaders(data.records ?? Buffer.alloc(0))].map(({ header }) => (header.attributes & ATTR_COMPRESSION_MASK) as CompressionType);
}

// ---------------------------------------------------------------------------------------------------------------
// kafka-python

const KAFKA_PYTHON_SCRIPT = `
import json, sys, time
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError

params = json.loads(sys.argv[1])
bootstrap, topic, group, partitions = params['bootstrap'], params['topic'], params['group'], params['partitions']
result = {}

admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='kafka-python-admin', request_timeout_ms=10000)
result['apiVersion'] = list(admin.config['api_version'])
created = admin.create_topics([NewTopic(topic, partitions, 1, topic_configs={'retention.ms': '3600000'})])
result['createErrors'] = [e[1] for e in created.topic_errors]
try:
    admin.create_topics([NewTopic(topic, 1, 1)])
    result['duplicateCreate'] = 'accepted'
except KafkaError as e:
    result['duplicateCreate'] = type(e).__name__
described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
entries = described[0].resources[0][4]
result['configs'] = {e[0]: {'value': e[1], 'source': e[3]} for e in entries}
admin.close()

def produce(values):
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', linger_ms=20)
    futures = [(key, value, producer.send(topic, key=key.encode(), value=value.encode(), headers=[('n', value.encode())])) for key, value in values]
    producer.flush(10)
    out = []
    for key, value, future in futures:
        md = future.get(timeout=10)
        out.append({'topic': md.topic, 'partition': md.partition, 'offset': md.offset, 'key': key, 'value': value})
    producer.close(10)
    return out

def consume(expected, seconds):
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset='earliest',
                             enable_auto_commit=False, session_timeout_ms=10000, heartbeat_interval_ms=500,
                             consumer_timeout_ms=1000)
    records = []
    deadline = time.time() + seconds
    while len(records) < expected and time.time() < deadline:
        for m in consumer:
            records.append({'topic': m.topic, 'partition': m.partition, 'offset': m.offset, 'key': m.key.decode(),
                            'value': m.value.decode(), 'headers': {k: v.decode() for k, v in m.headers}})
    return consumer, records

result['produced'] = produce([('k%d' % (i % 5), 'value-%d' % i) for i in range(30)])
consumer, result['consumed'] = consume(30, 20)
consumer.commit()
result['committed'] = [consumer.committed(TopicPartition(topic, p)) for p in range(partitions)]
consumer.close()

# A new member of the same group resumes after the committed offsets: it sees only records produced later.
result['producedLater'] = produce([('k%d' % (i % 5), 'later-%d' % i) for i in range(30, 33)])
consumer, result['resumed'] = consume(3, 15)
consumer.close()
print(json.dumps(result))
`;

interface KafkaPythonResult {
  apiVersion: number[];
  createErrors: number[];
  duplicateCreate: string;
  configs: Record<string, { value: string; source: number }>;
  produced: ProducedRecord[];
  consumed: ConsumedRecord[];
  committed: Array<number | null>;
  producedLater: ProducedRecord[];
  resumed: ConsumedRecord[];
}

describe('kafka-python 2.0.2', () => {
  before(() => requirePythonModule('kafka', 'python3-kafka'));

  test('admin create/describe, acks=all produce, group consume from earliest, commit, committed(), resume', async () => {
    const topic = 'kafka-python-topic';
    const partitions = 3;
    const r = await runScript<KafkaPythonResult>('kafka_python_roundtrip.py', KAFKA_PYTHON_SCRIPT, { topic, group: 'kafka-python-group', partitions });

    assert.ok(r.apiVersion[0] > 2 || (r.apiVersion[0] === 2 && r.apiVersion[1] >= 1), `kafka-python infers a broker >= 2.1 from ApiVersions (got ${r.apiVersion.join('.')})`);
    assert.deepEqual(r.createErrors, [0]);
    assert.equal(r.duplicateCreate, 'TopicAlreadyExistsError');
    assert.deepEqual(r.configs['retention.ms'], { value: '3600000', source: 1 }, 'retention.ms set at creation, source TOPIC_CONFIG');
    assert.deepEqual(r.configs['cleanup.policy'], { value: 'delete', source: 5 }, 'defaults listed with source DEFAULT_CONFIG');

    assert.equal(r.produced.length, 30);
    assertDenseOffsets(r.produced);
    assertConsumedWhereAcknowledged(r.produced, r.consumed);
    for (const c of r.consumed) assert.deepEqual(c.headers, { n: c.value }, `headers of ${c.value}`);
    assertPerKeyOrder(r.consumed);
    assert.deepEqual(r.committed, endOffsets(r.produced, topic, partitions), 'committed() returns what commit() stored');

    assertConsumedWhereAcknowledged(r.producedLater, r.resumed);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// confluent-kafka

const CONFLUENT_SCRIPT = `
import json, sys, time
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

params = json.loads(sys.argv[1])
bootstrap, group, partitions, codecs = params['bootstrap'], params['group'], params['partitions'], params['codecs']
topics = {codec: 'confluent-' + codec for codec in codecs}
result = {}

admin = AdminClient({'bootstrap.servers': bootstrap})
futures = admin.create_topics([NewTopic(t, num_partitions=partitions, replication_factor=1, config={'retention.ms': '3600000'})
                               for t in topics.values()], operation_timeout=10, request_timeout=15)
result['createErrors'] = {t: (str(f.exception(15)) if f.exception(15) else None) for t, f in futures.items()}
futures = admin.describe_configs([ConfigResource('topic', topics[codecs[0]])], request_timeout=15)
configs = list(futures.values())[0].result(15)
result['configs'] = {name: {'value': entry.value, 'source': entry.source} for name, entry in configs.items()}

result['produced'] = []
result['deliveryErrors'] = []
for codec in codecs:
    producer = Producer({'bootstrap.servers': bootstrap, 'compression.type': codec, 'linger.ms': 50, 'acks': 'all'})
    def report(err, msg, codec=codec):
        if err is not None:
            result['deliveryErrors'].append('%s: %s' % (codec, err))
        else:
            result['produced'].append({'topic': msg.topic(), 'partition': msg.partition(), 'offset': msg.offset(),
                                       'key': msg.key().decode(), 'value': msg.value().decode()})
    for i in range(40):
        # Repetitive values, so that every codec shrinks the batch (librdkafka sends it uncompressed otherwise).
        producer.produce(topics[codec], key='k%d' % (i % 4), value=codec + ' ' + 'payload ' * 8 + '-%d' % i,
                         headers=[('n', str(i)), ('codec', codec)], on_delivery=report)
    remaining = producer.flush(15)
    if remaining:
        result['deliveryErrors'].append('%s: %d messages not delivered' % (codec, remaining))

consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'auto.offset.reset': 'earliest',
                     'enable.auto.commit': False, 'session.timeout.ms': 10000, 'heartbeat.interval.ms': 500})
consumer.subscribe(list(topics.values()))
result['consumed'] = []
result['consumeErrors'] = []
deadline = time.time() + 20
while len(result['consumed']) < 40 * len(codecs) and time.time() < deadline:
    m = consumer.poll(0.2)
    if m is None:
        continue
    if m.error():
        result['consumeErrors'].append(str(m.error()))
        continue
    result['consumed'].append({'topic': m.topic(), 'partition': m.partition(), 'offset': m.offset(), 'key': m.key().decode(),
                               'value': m.value().decode(), 'headers': {k: v.decode() for k, v in (m.headers() or [])}})
consumer.commit(asynchronous=False)
committed = consumer.committed([TopicPartition(t, p) for t in topics.values() for p in range(partitions)], timeout=10)
result['committed'] = {'%s-%d' % (tp.topic, tp.partition): tp.offset for tp in committed}
consumer.close()
print(json.dumps(result))
`;

interface ConfluentResult {
  createErrors: Record<string, string | null>;
  configs: Record<string, { value: string; source: number }>;
  produced: ProducedRecord[];
  deliveryErrors: string[];
  consumed: ConsumedRecord[];
  consumeErrors: string[];
  committed: Record<string, number>;
}

describe('confluent-kafka 1.7 (librdkafka 2.0.2)', () => {
  before(() => requirePythonModule('confluent_kafka', 'python3-confluent-kafka'));

  const codecs = { gzip: CompressionType.Gzip, snappy: CompressionType.Snappy, lz4: CompressionType.Lz4, zstd: CompressionType.Zstd };

  test('AdminClient create/describe, Producer with gzip/snappy/lz4/zstd, group Consumer, commit, committed()', async () => {
    const partitions = 2;
    const r = await runScript<ConfluentResult>('confluent_roundtrip.py', CONFLUENT_SCRIPT, { group: 'confluent-group', partitions, codecs: Object.keys(codecs) });

    assert.deepEqual(Object.values(r.createErrors), [null, null, null, null], JSON.stringify(r.createErrors));
    // confluent-kafka's ConfigSource: 1 = DYNAMIC_TOPIC_CONFIG, 5 = DEFAULT_CONFIG.
    assert.deepEqual(r.configs['retention.ms'], { value: '3600000', source: 1 });
    assert.deepEqual(r.configs['cleanup.policy'], { value: 'delete', source: 5 });

    assert.deepEqual(r.deliveryErrors, []);
    assert.equal(r.produced.length, 40 * Object.keys(codecs).length);
    assertDenseOffsets(r.produced);
    assert.deepEqual(r.consumeErrors, []);
    assertConsumedWhereAcknowledged(r.produced, r.consumed);
    for (const c of r.consumed) {
      assert.equal(c.headers.n, /-(\d+)$/.exec(c.value)?.[1], `header n of ${c.topic}-${c.partition}@${c.offset}`);
      assert.equal(`confluent-${c.headers.codec}`, c.topic);
    }
    assertPerKeyOrder(r.consumed);

    for (const [codec, type] of Object.entries(codecs)) {
      const topic = `confluent-${codec}`;
      const ends = endOffsets(r.produced, topic, partitions);
      assert.deepEqual(
        Array.from({ length: partitions }, (_, p) => r.committed[`${topic}-${p}`]),
        ends.map((n) => (n === 0 ? -1001 : n)), // -1001 = librdkafka's OFFSET_INVALID: nothing committed for an empty partition
        `committed offsets of ${topic}`,
      );
      const stored = (await Promise.all(Array.from({ length: partitions }, (_, p) => storedBatchCodecs(topic, p)))).flat();
      assert.ok(stored.length > 0, `${topic} has batches`);
      assert.deepEqual([...new Set(stored)], [type], `every batch of ${topic} is stored ${codec}-compressed`);
    }
  });
});

const CONFLUENT_CONFIGS_SCRIPT = `
import json, sys
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

params = json.loads(sys.argv[1])
bootstrap, topic = params['bootstrap'], params['topic']
admin = AdminClient({'bootstrap.servers': bootstrap})
result = {}

def outcome(future):
    error = future.exception(15)
    if error is None:
        return None
    e = error.args[0]  # a KafkaError
    return {'code': e.code(), 'name': e.name(), 'message': e.str()}

def describe():
    futures = admin.describe_configs([ConfigResource('topic', topic)], request_timeout=15)
    entries = list(futures.values())[0].result(15)
    return {name: {'value': entry.value, 'source': entry.source} for name, entry in entries.items()
            if name in ('retention.ms', 'max.message.bytes', 'segment.bytes')}

def alter(config):
    futures = admin.alter_configs([ConfigResource('topic', topic, set_config=config)], request_timeout=15)
    return outcome(list(futures.values())[0])

futures = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1,
                                        config={'retention.ms': '3600000', 'max.message.bytes': '2000000'})],
                              operation_timeout=10, request_timeout=15)
result['create'] = outcome(futures[topic])
result['created'] = describe()

futures = admin.create_topics([NewTopic(topic + '-bad', num_partitions=1, replication_factor=1, config={'retention.ms': 'a week'})],
                              operation_timeout=10, request_timeout=15)
result['createBad'] = outcome(futures[topic + '-bad'])
result['badTopicListed'] = (topic + '-bad') in admin.list_topics(timeout=10).topics

result['alter'] = alter({'retention.ms': '7200000', 'segment.bytes': '1048576'})
result['altered'] = describe()
result['alterBad'] = alter({'retention.ms': 'forever', 'segment.bytes': '2097152'})
result['afterBad'] = describe()
result['alterUnknown'] = alter({'retention.ms': '60000', 'no.such.config': '1'})
result['afterUnknown'] = describe()
print(json.dumps(result))
`;

interface ConfluentConfigsResult {
  create: null | { code: number; name: string; message: string };
  created: Record<string, { value: string; source: number }>;
  createBad: null | { code: number; name: string; message: string };
  badTopicListed: boolean;
  alter: null | { code: number; name: string; message: string };
  altered: Record<string, { value: string; source: number }>;
  alterBad: null | { code: number; name: string; message: string };
  afterBad: Record<string, { value: string; source: number }>;
  alterUnknown: null | { code: number; name: string; message: string };
  afterUnknown: Record<string, { value: string; source: number }>;
}

describe('confluent-kafka 1.7 (librdkafka 2.0.2): topic configs', () => {
  before(() => requirePythonModule('confluent_kafka', 'python3-confluent-kafka'));

  test('create_topics with a config, alter_configs, describe_configs with sources; bad values refused with INVALID_CONFIG', async () => {
    const topic = 'confluent-configured';
    const r = await runScript<ConfluentConfigsResult>('confluent_configs.py', CONFLUENT_CONFIGS_SCRIPT, { topic });
    // ConfigSource: 1 = DYNAMIC_TOPIC_CONFIG (an override of this topic), 5 = DEFAULT_CONFIG.
    assert.equal(r.create, null);
    assert.deepEqual(r.created, {
      'retention.ms': { value: '3600000', source: 1 },
      'max.message.bytes': { value: '2000000', source: 1 },
      'segment.bytes': { value: '1073741824', source: 5 },
    });
    // A bad value at creation: INVALID_CONFIG (40) naming the config, and no topic.
    assert.deepEqual([r.createBad?.code, r.createBad?.name], [40, 'INVALID_CONFIG']);
    assert.match(r.createBad?.message ?? '', /retention\.ms/);
    assert.equal(r.badTopicListed, false);

    // alter_configs is Kafka's AlterConfigs: the given set replaces every override of the topic, so
    // max.message.bytes (set at creation, not given again) falls back to its default.
    assert.equal(r.alter, null);
    assert.deepEqual(r.altered, {
      'retention.ms': { value: '7200000', source: 1 },
      'max.message.bytes': { value: '1048588', source: 5 },
      'segment.bytes': { value: '1048576', source: 1 },
    });
    assert.equal(broker.broker.topicConfig(topic)?.['retention.ms'], '7200000', 'the broker applies what it reports');

    // A bad value, and an unknown name, are refused with INVALID_CONFIG and a message naming the config; the valid
    // changes in the same request are not applied either.
    assert.deepEqual([r.alterBad?.code, r.alterBad?.name], [40, 'INVALID_CONFIG']);
    assert.match(r.alterBad?.message ?? '', /retention\.ms/);
    assert.match(r.alterBad?.message ?? '', /forever/);
    assert.deepEqual(r.afterBad, r.altered, 'nothing changed after the refused alter');
    assert.deepEqual([r.alterUnknown?.code, r.alterUnknown?.name], [40, 'INVALID_CONFIG']);
    assert.match(r.alterUnknown?.message ?? '', /no\.such\.config/);
    assert.deepEqual(r.afterUnknown, r.altered, 'nothing changed after the refused alter');
    assert.deepEqual(broker.broker.topicState(topic)?.configs, { 'retention.ms': '7200000', 'segment.bytes': '1048576' });
  });
});
