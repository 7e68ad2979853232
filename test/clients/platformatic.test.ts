// @platformatic/kafka 1.35, unmodified, against a real broker on a loopback socket. The package is ESM-only
// ("type": "module"), so it is loaded with a dynamic import from this CommonJS test; only its types are imported
// statically.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decompress as zstdDecompress } from 'fzstd';
import type { Admin, Consumer, Message, MessagesStream, Producer } from '@platformatic/kafka';
import { startTestBroker, TestBroker } from '../helpers/broker';

type PlatformaticKafka = typeof import('@platformatic/kafka');
type StringConsumer = Consumer<string, string, string, string>;
type StringMessage = Message<string, string, string, string>;
type StringStream = MessagesStream<string, string, string, string>;

let pk: PlatformaticKafka;
let broker: TestBroker;
let admin: Admin;

const CLIENT_ID = 'platformatic-test';

before(async () => {
  pk = await import('@platformatic/kafka');
  installZstdFallback(pk);
  broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  admin = new pk.Admin({ clientId: CLIENT_ID, bootstrapBrokers: [broker.bootstrap], retries: 5, retryDelay: 100 });
});

after(async () => {
  await admin?.close();
  await broker?.cleanup();
});

/**
 * @platformatic/kafka takes zstd from node:zlib, which has it only from Node 22.15. On Node 20 the client would
 * refuse `compression: 'zstd'`, so we give it a codec: compression writes a valid zstd frame made of raw
 * (stored) blocks (RFC 8878 §3.1.1), decompression uses the fzstd package. The batch on the wire is a genuine
 * zstd batch (attributes codec 4) produced and consumed by the client's own record code.
 */
function installZstdFallback(lib: PlatformaticKafka): void {
  const zstd = lib.compressionsAlgorithms.zstd as unknown as {
    available: boolean;
    compressSync(data: Buffer | { buffer: Buffer }): Buffer;
    decompressSync(data: Buffer | { buffer: Buffer }): Buffer;
  };
  if (zstd.available) return;
  const asBuffer = (data: Buffer | { buffer: Buffer }): Buffer => (Buffer.isBuffer(data) ? data : data.buffer);
  zstd.compressSync = (data) => zstdFrameOfRawBlocks(asBuffer(data));
  zstd.decompressSync = (data) => Buffer.from(zstdDecompress(asBuffer(data)));
  zstd.available = true;
  console.log('# zstd: Node ' + process.versions.node + ' zlib has no zstd; using a raw-block zstd encoder + fzstd decoder');
}

/** A zstd frame: magic, single-segment header with an 8-byte content size, then raw blocks of at most 128 KiB. */
export function zstdFrameOfRawBlocks(content: Buffer): Buffer {
  const MAX_BLOCK = 128 * 1024;
  const parts: Buffer[] = [];
  const header = Buffer.alloc(4 + 1 + 8);
  header.writeUInt32LE(0xfd2fb528, 0);
  header[4] = (3 << 6) | (1 << 5); // Frame_Content_Size_flag 3 (8 bytes), Single_Segment_flag, no checksum, no dict
  header.writeBigUInt64LE(BigInt(content.length), 5);
  parts.push(header);
  let offset = 0;
  do {
    const size = Math.min(MAX_BLOCK, content.length - offset);
    const last = offset + size >= content.length ? 1 : 0;
    const blockHeader = Buffer.alloc(3);
    blockHeader.writeUIntLE((size << 3) | (0 << 1) | last, 0, 3); // Block_Type 0 = Raw_Block
    parts.push(blockHeader, content.subarray(offset, offset + size));
    offset += size;
  } while (offset < content.length);
  return Buffer.concat(parts);
}

function newProducer(): Producer<string, string, string, string> {
  return new pk.Producer({
    clientId: CLIENT_ID,
    bootstrapBrokers: [broker.bootstrap],
    serializers: pk.stringSerializers,
    retries: 5,
    retryDelay: 100,
  });
}

function newConsumer(groupId: string, extra: { heartbeatInterval?: number } = {}): StringConsumer {
  return new pk.Consumer({
    clientId: CLIENT_ID,
    groupId,
    bootstrapBrokers: [broker.bootstrap],
    deserializers: pk.stringDeserializers,
    sessionTimeout: 10000,
    rebalanceTimeout: 10000,
    heartbeatInterval: extra.heartbeatInterval ?? 500,
    maxWaitTime: 200,
    retries: 5,
    retryDelay: 100,
  });
}

async function createTopic(topic: string, partitions: number): Promise<void> {
  const created = await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  assert.equal(created[0].name, topic);
  assert.equal(created[0].partitions, partitions);
}

/** Reads `stream` until `expected` messages arrived; fails with what it has after `timeoutMs`. */
function collect(stream: StringStream, expected: number, timeoutMs = 15000): Promise<StringMessage[]> {
  const got: StringMessage[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stream.off('data', onData);
      reject(new Error(`timed out with ${got.length}/${expected} messages`));
    }, timeoutMs);
    const onData = (message: StringMessage) => {
      got.push(message);
      if (got.length >= expected) {
        clearTimeout(timer);
        stream.off('data', onData);
        resolve(got);
      }
    };
    stream.on('data', onData);
    stream.once('error', (err: Error) => {
      clearTimeout(timer);
      reject(new Error(`consumer stream failed after ${got.length}/${expected} messages: ${describeClientError(err)}`, { cause: err }));
    });
  });
}

/** Consumes `topic` from the earliest offset with a fresh group and returns the first `expected` messages. */
async function consumeFromBeginning(topic: string, expected: number, groupId = `g-${topic}-${Date.now()}`): Promise<StringMessage[]> {
  const consumer = newConsumer(groupId);
  try {
    const stream = await consumer.consume({ topics: [topic], mode: pk.MessagesStreamModes.EARLIEST, autocommit: false });
    const got = await collect(stream, expected);
    await stream.close();
    return got;
  } finally {
    await consumer.close(true);
  }
}

/** Reads and drops messages (the group test only watches assignments); stream errors are collected into `errors`. */
function drainFailingOn(stream: StringStream, errors: Error[]): void {
  stream.on('data', () => {});
  stream.on('error', (err: Error) => errors.push(new Error(`consumer stream failed: ${describeClientError(err)}`, { cause: err })));
}

/** Cleanup after a failure: the consumer may already be closed. */
async function closeIgnoringErrors(consumer: StringConsumer): Promise<void> {
  try {
    await consumer.close(true);
  } catch {
    // already closed
  }
}

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, explain?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`condition not met within ${timeoutMs} ms${explain ? `: ${explain()}` : ''}`);
}

/** The Kafka error codes inside a client error (it nests ProtocolErrors, with `apiCode`, in AggregateErrors). */
function protocolErrorCodes(err: unknown): number[] {
  const codes = new Set<number>();
  const walk = (e: unknown) => {
    if (!e || typeof e !== 'object') return;
    const { apiCode, errors } = e as { apiCode?: number; errors?: unknown[] };
    if (typeof apiCode === 'number') codes.add(apiCode);
    for (const inner of errors ?? []) walk(inner);
  };
  walk(err);
  return [...codes];
}

/** One line per failing API call and Kafka error code inside a client error, e.g. `Fetch(v12) /responses/0/partitions/0: UNKNOWN_TOPIC_OR_PARTITION (3)`. */
function describeClientError(err: unknown): string {
  const lines = new Set<string>();
  const walk = (e: unknown, api: string) => {
    if (!e || typeof e !== 'object') return;
    const { message, apiId, apiCode, path, errors } = e as { message?: string; apiId?: string; apiCode?: number; path?: string; errors?: unknown[] };
    const apiHere = /API (\w+\(v\d+\))/.exec(message ?? '')?.[1] ?? api;
    if (typeof apiCode === 'number') lines.add(`${apiHere} ${path ?? ''}: ${apiId} (${apiCode})`);
    for (const inner of errors ?? []) walk(inner, apiHere);
  };
  walk(err, '?');
  return `${(err as Error).message}${lines.size ? ' [' + [...lines].join('; ') + ']' : ''}`;
}

function assignedPartitions(consumer: StringConsumer, topic: string): number[] {
  return [...(consumer.assignments?.find((a) => a.topic === topic)?.partitions ?? [])].sort((a, b) => a - b);
}

describe('@platformatic/kafka', () => {
  test('creates a topic with its Admin and sees it in metadata with a leader', async () => {
    await createTopic('pk-created', 3);
    const metadata = await admin.metadata({ topics: ['pk-created'] });
    const topic = metadata.topics.get('pk-created');
    assert.ok(topic, 'topic is in metadata');
    assert.equal(topic.partitionsCount, 3);
    for (const p of topic.partitions) {
      assert.equal(p.leader, 1);
      assert.deepEqual(p.isr, [1]);
    }
    assert.ok((await admin.listTopics()).includes('pk-created'));
    await assert.rejects(admin.createTopics({ topics: ['pk-created'], partitions: 1, replicas: 1 }), (err: unknown) => {
      assert.deepEqual(protocolErrorCodes(err), [36], 'TOPIC_ALREADY_EXISTS');
      return true;
    });
  });

  test('a single Fetch, as the client sends it (by topic id), returns the produced record', async () => {
    // @platformatic/kafka implements Fetch v12-v17 and always addresses topics by id; it picks the highest
    // version the broker advertises. Its v12 encoder writes that id into v12's topic *name* field, so against a
    // broker whose Fetch max is 12 every fetch names a topic "<uuid>" and gets UNKNOWN_TOPIC_OR_PARTITION.
    const topic = 'pk-single-fetch';
    await createTopic(topic, 1);
    const producer = newProducer();
    try {
      await producer.send({ messages: [{ topic, partition: 0, key: 'k', value: 'fetched by id' }], acks: -1 });
    } finally {
      await producer.close();
    }
    const topicId = (await admin.metadata({ topics: [topic] })).topics.get(topic)!.id;
    const consumer = newConsumer('pk-single-fetch-group');
    try {
      const response = await consumer
        .fetch({
          node: 1,
          maxWaitTime: 100,
          topics: [{ topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, partitionMaxBytes: 1 << 20 }] }],
        })
        .catch((err: unknown) => {
          throw new Error(`Fetch for topic id ${topicId} failed: ${describeClientError(err)}`, { cause: err });
        });
      const partition = response.responses[0].partitions[0];
      assert.equal(partition.errorCode, 0);
      assert.equal(partition.highWatermark, 1n);
      const values = (partition.records ?? []).flatMap((batch) => batch.records.map((r) => r.value?.toString()));
      assert.deepEqual(values, ['fetched by id']);
    } finally {
      await consumer.close(true);
    }
  });

  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    test(`produces with ${codec} compression and consumes keys, values, headers and per-key order`, async () => {
      const topic = `pk-codec-${codec}`;
      await createTopic(topic, 3);
      const producer = newProducer();
      const messages = Array.from({ length: 60 }, (_, i) => ({
        topic,
        key: `k${i % 6}`,
        value: `value ${i} ${'x'.repeat(i * 7)}`,
        headers: { n: String(i), codec },
      }));
      try {
        // Two sends, so each partition holds at least two batches.
        for (const half of [messages.slice(0, 30), messages.slice(30)]) {
          const result = await producer.send({ messages: half, compression: codec, acks: -1 });
          assert.equal(result.offsets?.length, 3, 'one offset per partition written');
        }
      } finally {
        await producer.close();
      }
      const got = await consumeFromBeginning(topic, messages.length);
      assert.deepEqual(got.map((m) => m.value).sort(), messages.map((m) => m.value).sort());
      for (const m of got) {
        const i = Number(m.value.split(' ')[1]);
        assert.equal(m.key, `k${i % 6}`, `key of message ${i}`);
        assert.equal(m.headers.get('n'), String(i), `header n of message ${i}`);
        assert.equal(m.headers.get('codec'), codec);
        assert.equal(m.topic, topic);
      }
      for (let k = 0; k < 6; k++) {
        const ofKey = got.filter((m) => m.key === `k${k}`);
        assert.equal(ofKey.length, 10);
        assert.equal(new Set(ofKey.map((m) => m.partition)).size, 1, `key k${k} lives in one partition`);
        const order = ofKey.map((m) => Number(m.value.split(' ')[1]));
        assert.deepEqual(order, [...order].sort((a, b) => a - b), `key k${k} in produce order`);
        const offsets = ofKey.map((m) => m.offset);
        assert.deepEqual(offsets, [...offsets].sort((a, b) => (a < b ? -1 : 1)), `key k${k} offsets ascending`);
      }
      // Offsets per partition are dense from 0.
      for (const partition of new Set(got.map((m) => m.partition))) {
        const offsets = got.filter((m) => m.partition === partition).map((m) => Number(m.offset)).sort((a, b) => a - b);
        assert.deepEqual(offsets, offsets.map((_, i) => i), `partition ${partition} offsets`);
      }
    });
  }

  test('two group members split the partitions, and one takes all when the other leaves', async () => {
    const topic = 'pk-grouped';
    await createTopic(topic, 4);
    const groupId = 'pk-split-group';
    const first = newConsumer(groupId, { heartbeatInterval: 300 });
    const second = newConsumer(groupId, { heartbeatInterval: 300 });
    const streamErrors: Error[] = [];
    const describeAssignments = () => JSON.stringify({ first: assignedPartitions(first, topic), second: assignedPartitions(second, topic) });
    /** Partition counts held by each member; a failed stream ends the wait (the consumer leaves the group then). */
    const assignmentSizes = (): [number, number] => {
      if (streamErrors.length) throw streamErrors[0];
      return [assignedPartitions(first, topic).length, assignedPartitions(second, topic).length];
    };
    try {
      const firstStream = await first.consume({ topics: [topic], mode: pk.MessagesStreamModes.EARLIEST, autocommit: false });
      drainFailingOn(firstStream, streamErrors);
      await waitFor(() => assignmentSizes()[0] === 4, 15000, describeAssignments);

      const secondStream = await second.consume({ topics: [topic], mode: pk.MessagesStreamModes.EARLIEST, autocommit: false });
      drainFailingOn(secondStream, streamErrors);
      await waitFor(() => assignmentSizes().join() === '2,2', 20000, describeAssignments);
      const union = new Set([...assignedPartitions(first, topic), ...assignedPartitions(second, topic)]);
      assert.deepEqual([...union].sort(), [0, 1, 2, 3], 'the two members hold disjoint halves covering every partition');
      const group = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
      assert.equal(group?.state, 'STABLE');
      assert.equal(group?.members.size, 2);

      await secondStream.close();
      await second.close(true);
      await waitFor(() => assignmentSizes()[0] === 4, 20000, describeAssignments);
      assert.deepEqual(streamErrors, [], 'no consumer stream failed');
      await firstStream.close();
    } finally {
      await closeIgnoringErrors(second);
      await closeIgnoringErrors(first);
    }
  });

  test('commits offsets, reads them back, and a new member resumes after them', async () => {
    const topic = 'pk-committed';
    const groupId = 'pk-committer';
    await createTopic(topic, 2);
    const producer = newProducer();
    try {
      await producer.send({
        messages: [
          { topic, partition: 0, value: 'a' },
          { topic, partition: 0, value: 'b' },
          { topic, partition: 0, value: 'c' },
          { topic, partition: 1, value: 'd' },
        ],
        acks: -1,
      });
    } finally {
      await producer.close();
    }

    const consumer = newConsumer(groupId);
    try {
      const stream = await consumer.consume({ topics: [topic], mode: pk.MessagesStreamModes.EARLIEST, autocommit: false });
      const got = await collect(stream, 4);
      // Commit through the first message of partition 0 and everything of partition 1.
      await got.find((m) => m.value === 'a')!.commit();
      await got.find((m) => m.value === 'd')!.commit();
      const committed = await consumer.listCommittedOffsets({ topics: [{ topic, partitions: [0, 1] }] });
      assert.deepEqual(committed.get(topic), [1n, 1n]);
      await stream.close();
    } finally {
      await consumer.close(true);
    }

    const listed = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const partitions = listed[0].topics.find((t) => t.name === topic)?.partitions.sort((x, y) => x.partitionIndex - y.partitionIndex);
    assert.deepEqual(partitions?.map((p) => [p.partitionIndex, p.committedOffset]), [[0, 1n], [1, 1n]]);

    const resumed = newConsumer(groupId);
    try {
      const stream = await resumed.consume({ topics: [topic], mode: pk.MessagesStreamModes.COMMITTED, autocommit: false });
      const got = await collect(stream, 2);
      assert.deepEqual(got.map((m) => m.value).sort(), ['b', 'c']);
      await stream.close();
    } finally {
      await resumed.close(true);
    }
  });

  test('describes, alters and incrementally alters a topic config', async () => {
    const topic = 'pk-configured';
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1, configs: [{ name: 'retention.ms', value: '3600000' }] });
    const describeTopic = async () => {
      const [result] = await admin.describeConfigs({ resources: [{ resourceType: pk.ConfigResourceTypes.TOPIC, resourceName: topic }] });
      return new Map(result.configs.map((c) => [c.name, c]));
    };
    const described = await describeTopic();
    assert.equal(described.get('retention.ms')?.value, '3600000');
    assert.equal(described.get('retention.ms')?.configSource, pk.ConfigSources.TOPIC_CONFIG);
    assert.equal(described.get('cleanup.policy')?.value, 'delete');
    assert.equal(described.get('cleanup.policy')?.configSource, pk.ConfigSources.DEFAULT_CONFIG);
    assert.ok(described.size >= 20, `every topic config is listed (got ${described.size})`);

    // AlterConfigs replaces the whole set: retention.ms set, everything else back to defaults.
    await admin.alterConfigs({
      resources: [{ resourceType: pk.ConfigResourceTypes.TOPIC, resourceName: topic, configs: [{ name: 'segment.ms', value: '600000' }] }],
    });
    const altered = await describeTopic();
    assert.equal(altered.get('segment.ms')?.value, '600000');
    assert.equal(altered.get('retention.ms')?.value, '604800000', 'AlterConfigs resets unset keys to default');

    await admin.incrementalAlterConfigs({
      resources: [
        {
          resourceType: pk.ConfigResourceTypes.TOPIC,
          resourceName: topic,
          configs: [
            { name: 'retention.ms', configOperation: pk.IncrementalAlterConfigOperationTypes.SET, value: '1000' },
            { name: 'segment.ms', configOperation: pk.IncrementalAlterConfigOperationTypes.DELETE },
          ],
        },
      ],
    });
    const incremented = await describeTopic();
    assert.equal(incremented.get('retention.ms')?.value, '1000');
    assert.equal(incremented.get('segment.ms')?.value, '604800000');

    await assert.rejects(
      admin.alterConfigs({ resources: [{ resourceType: pk.ConfigResourceTypes.TOPIC, resourceName: topic, configs: [{ name: 'retention.ms', value: 'soon' }] }] }),
      (err: unknown) => {
        assert.deepEqual(protocolErrorCodes(err), [40], 'INVALID_CONFIG');
        return true;
      },
    );
  });
});
