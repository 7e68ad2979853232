// Regressions for what the wire fuzzer (test/fuzz/wire-fuzz.test.ts) found, each reproduced on its own:
// - Long.MAX_VALUE read into a JS number (2^63) could not be written back: the response encoding threw inside a
//   promise callback, an unhandled rejection that killed the whole broker process;
// - a client that pipelines requests and never reads made the broker buffer every response (1000 fetches of
//   1 MiB = 1 GiB); now reading pauses while responses pile up;
// - a partial frame held its connection forever; now connections.max.idle.ms closes idle connections;
// - CreateTopics/CreatePartitions with a count near 2^31 made the controller plan 2^31 partitions (hang, OOM);
// - CreatePartitions accepted replicas on brokers that do not exist: a partition offline for good;
// - clients could Produce to __consumer_offsets, and one unreadable record there stopped the broker from starting;
// - an uncompressed batch whose CRC is right but whose records do not parse was stored, and stalled consumers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, Server, Socket } from 'node:net';
import { startTestBroker, TestBroker } from '../../helpers/broker';
import { connectWire, produce } from '../../helpers/wire';
import { waitFor } from '../../helpers/wait';
import { Connection } from '../../../src/broker/connection';
import { Controller } from '../../../src/broker/controller';
import type { HandlerContext } from '../../../src/broker/handlerContext';
import type { Logger } from '../../../src/broker/logger';
import { MAX_PARTITIONS_PER_REQUEST } from '../../../src/broker/metadata';
import { NO_RESPONSE, Router } from '../../../src/broker/router';
import { encodeOffsetKey } from '../../../src/broker/groups/offsetsRecords';
import { ApiVersions, CreatePartitions, CreateTopics, Fetch, FindCoordinator, OffsetCommit, OffsetFetch, SaslAuthenticate } from '../../../src/protocol/apis';
import { ErrorCode, KafkaError } from '../../../src/protocol/errorCode';
import { FrameDecoder, writeRequestHeader } from '../../../src/protocol/frame';
import { Reader } from '../../../src/protocol/primitives/reader';
import { Writer } from '../../../src/protocol/primitives/writer';
import { buildBatch, RecordBatchError, validateProducedBatches } from '../../../src/protocol/records/recordBatch';
import { BATCH } from '../../../src/protocol/records/batchHeader';
import { crc32c } from '../../../src/protocol/records/crc32c';

function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (m: string) => void lines.push(m);
  return { lines, debug: add, info: add, warn: add, error: add };
}

function requestFrame(apiKey: number, version: number, correlationId: number, body: Buffer, flexible: boolean): Buffer {
  const w = new Writer(64);
  w.int32(0);
  writeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId: 'robustness' }, flexible);
  w.raw(body);
  const buf = w.toBuffer();
  buf.writeInt32BE(buf.length - 4, 0);
  return buf;
}

function apiVersionsFrame(correlationId = 1): Buffer {
  return requestFrame(ApiVersions.key, 0, correlationId, Buffer.alloc(0), false);
}

/** A listener whose connections use `router` and `idleMs`, as the broker's do. */
async function listenWith(router: Router, logger: Logger, idleMs = 0): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    new Connection(socket, { router, logger, maxFrameBytes: 1 << 20, idleMs, makeContext: (header) => ({ header, version: header.apiVersion }) as unknown as HandlerContext });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

function closed(socket: Socket, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true);
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

describe('codec', () => {
  test('an int64 of Long.MAX_VALUE survives decode and encode (it is 2^63 as a JS number)', () => {
    const bytes = Buffer.from('7fffffffffffffff', 'hex');
    const v = new Reader(bytes).int64();
    assert.equal(v, 2 ** 63);
    const w = new Writer(8);
    w.int64(v);
    assert.deepEqual(w.toBuffer(), bytes);
    const min = new Writer(8);
    min.int64(new Reader(Buffer.from('8000000000000000', 'hex')).int64());
    assert.deepEqual(min.toBuffer(), Buffer.from('8000000000000000', 'hex'));
  });
});

/** A valid batch, then `damage` applied to its records and the CRC made right again. */
function damagedBatch(damage: (b: Buffer) => void): Buffer {
  const batch = buildBatch({ records: [{ key: Buffer.from('key'), value: Buffer.from('value'), headers: [{ key: 'h', value: Buffer.from('v') }] }, { key: null, value: null }] });
  damage(batch);
  batch.writeUInt32BE(crc32c(batch, BATCH.ATTRIBUTES), BATCH.CRC);
  return batch;
}

describe('records', () => {
  const check = (batch: Buffer) => validateProducedBatches(batch, { produceVersion: 9, maxMessageBytes: 1 << 20, requireKeys: false });

  test('a produced uncompressed batch must parse record by record, CRC or not', () => {
    assert.ok(!(check(damagedBatch(() => {})) instanceof RecordBatchError), 'an intact batch (headers, null key and value) passes');
    const cases: Array<[string, (b: Buffer) => void]> = [
      ['key length beyond the record', (b) => (b[BATCH.HEADER_SIZE + 4] = 0x7e)],
      ['negative record length', (b) => (b[BATCH.HEADER_SIZE] = 0x03)],
      ['record length too short', (b) => (b[BATCH.HEADER_SIZE] -= 2)],
      ['garbage after the records', (b) => b.writeInt32BE(1, BATCH.RECORDS_COUNT) && b.writeInt32BE(0, BATCH.LAST_OFFSET_DELTA)],
      ['more records than bytes', (b) => b.writeInt32BE(1000, BATCH.RECORDS_COUNT) && b.writeInt32BE(999, BATCH.LAST_OFFSET_DELTA)],
    ];
    for (const [what, damage] of cases) {
      const res = check(damagedBatch(damage));
      assert.ok(res instanceof RecordBatchError, `${what}: accepted`);
      assert.equal(res.code, ErrorCode.CORRUPT_MESSAGE, `${what}: ${res.message}`);
    }
  });
});

describe('connection', () => {
  test('a response that cannot be encoded closes that connection with a reason; the process and other connections live on', async () => {
    const logger = memoryLogger();
    const router = new Router().register(ApiVersions, async (_req, ctx) => {
      if (ctx.header.correlationId === 666) return { errorCode: 70000, apiKeys: [] }; // not an int16: RangeError
      return { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }] };
    });
    const { server, port } = await listenWith(router, logger);
    try {
      const bad = await connectTo(port);
      bad.write(apiVersionsFrame(666));
      assert.ok(await closed(bad, 5000), 'the connection is closed');
      assert.ok(logger.lines.some((l) => /closing connection .*cannot encode the ApiVersions v0 response/.test(l)), logger.lines.join('\n'));
      const good = await connectTo(port);
      const got = new Promise<Buffer>((resolve) => good.once('data', resolve));
      good.write(apiVersionsFrame(7));
      assert.equal((await got).readInt32BE(4), 7);
      good.destroy();
    } finally {
      server.close();
    }
  });

  test('connections.max.idle.ms closes a connection stuck in a partial frame, but not one waiting for its response', async () => {
    const logger = memoryLogger();
    let release: (() => void) | undefined;
    const router = new Router().register(ApiVersions, (_req, ctx) => {
      if (ctx.header.correlationId !== 42) return { errorCode: 0, apiKeys: [] };
      return new Promise((resolve) => (release = () => resolve({ errorCode: 0, apiKeys: [] })));
    });
    const { server, port } = await listenWith(router, logger, 300);
    try {
      const partial = await connectTo(port);
      partial.write(Buffer.from([0, 0, 0, 100, 0, 18])); // declares 100 bytes, sends 2
      const started = Date.now();
      assert.ok(await closed(partial, 5000), 'an idle partial frame is closed');
      assert.ok(Date.now() - started >= 250, `closed after ${Date.now() - started} ms, before the idle timeout`);
      assert.ok(logger.lines.some((l) => /idle for 300 ms/.test(l)), logger.lines.join('\n'));

      const waiting = await connectTo(port);
      const answered = new Promise<Buffer>((resolve) => waiting.once('data', resolve));
      waiting.write(apiVersionsFrame(42));
      assert.equal(await closed(waiting, 1200), false, 'a request in flight is not idleness');
      release!();
      assert.equal((await answered).readInt32BE(4), 42);
      assert.ok(await closed(waiting, 5000), 'idle again once answered');
    } finally {
      server.close();
    }
  });

  test('a client that pipelines without reading is not served further than the backpressure bounds', async () => {
    const logger = memoryLogger();
    let handled = 0;
    const big = Buffer.alloc(256 * 1024, 1);
    // Each answer is large, as a Fetch answer is (SaslAuthenticate just carries bytes, so encoding is cheap).
    const router = new Router().register(SaslAuthenticate, () => {
      handled++;
      return { errorCode: 0, errorMessage: null, authBytes: big };
    });
    const { server, port } = await listenWith(router, logger);
    try {
      const s = await connectTo(port);
      s.pause();
      s.write(Buffer.concat(Array.from({ length: 2000 }, (_, i) => requestFrame(SaslAuthenticate.key, 0, i, Buffer.alloc(4), false))));
      await new Promise((r) => setTimeout(r, 1500));
      // 2000 answers of 256 KiB would be 500 MiB; the connection stops after ~1 MiB plus what the kernel holds.
      assert.ok(handled < 100, `${handled} of 2000 requests handled for a client that reads nothing`);
      const stalled = handled;
      // Reading resumes the flow: every request is answered in order.
      let answers = 0;
      let outOfOrder = 0;
      const decoder = new FrameDecoder(1 << 20);
      s.on('data', (d: Buffer) => {
        for (const f of decoder.push(d)) if (f.readInt32BE(0) !== answers++) outOfOrder++;
      });
      s.resume();
      await waitFor(() => answers === 2000, 30000, () => `${answers} answers`);
      assert.equal(outOfOrder, 0);
      assert.ok(handled === 2000 && stalled < 2000);
      s.destroy();
    } finally {
      server.close();
    }
  });

  test('NO_RESPONSE requests do not count against the backlog forever', async () => {
    const router = new Router().register(ApiVersions, (_req, ctx) => (ctx.header.correlationId % 2 === 0 ? NO_RESPONSE : { errorCode: 0, apiKeys: [] }));
    const { server, port } = await listenWith(router, memoryLogger());
    try {
      const s = await connectTo(port);
      let answers = 0;
      s.on('data', (d: Buffer) => {
        for (let pos = 0; pos + 4 <= d.length; pos += 4 + d.readInt32BE(pos)) answers++;
      });
      s.write(Buffer.concat(Array.from({ length: 1000 }, (_, i) => apiVersionsFrame(i))));
      await waitFor(() => answers === 500, 10000, () => `${answers} answers`);
      s.destroy();
    } finally {
      server.close();
    }
  });
});

describe('controller', () => {
  const controller = new Controller({});
  controller.registerBroker({ id: 1, host: '127.0.0.1', port: 1, rack: null });
  controller.createTopic({ name: 't', numPartitions: 1, replicationFactor: 1 });

  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof KafkaError, String(err));
      return err.code;
    }
    return 0;
  };

  test('partition counts near 2^31 are refused with POLICY_VIOLATION, at once', () => {
    const started = Date.now();
    assert.equal(code(() => controller.createTopic({ name: 'huge', numPartitions: 0x7fffffff, replicationFactor: 1 })), ErrorCode.POLICY_VIOLATION);
    assert.equal(code(() => controller.createTopic({ name: 'huge', numPartitions: MAX_PARTITIONS_PER_REQUEST + 1, replicationFactor: 1 }, true)), ErrorCode.POLICY_VIOLATION);
    assert.equal(code(() => controller.createPartitions('t', 0x7fffffff, null)), ErrorCode.POLICY_VIOLATION);
    assert.ok(Date.now() - started < 1000);
    assert.equal(code(() => controller.createPartitions('t', 3, null, true)), 0);
  });

  test('manual assignments must name registered brokers, once each, with the topic\'s replication factor', () => {
    assert.equal(code(() => controller.createPartitions('t', 2, [[2]])), ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    assert.equal(code(() => controller.createPartitions('t', 2, [[1, 1]])), ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    assert.equal(code(() => controller.createPartitions('t', 2, [[]])), ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    assert.equal(code(() => controller.createTopic({ name: 'm', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [7] }] })), ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    assert.equal(controller.snapshot().topics.find((t) => t.name === 't')!.partitions.length, 1, 'nothing was added');
    assert.equal(code(() => controller.createPartitions('t', 2, [[1]])), 0);
    assert.deepEqual(controller.snapshot().topics.find((t) => t.name === 't')!.partitions[1].replicas, [1]);
  });
});

describe('broker', () => {
  let broker: TestBroker;
  before(async () => {
    broker = await startTestBroker({ 'group.initial.rebalance.delay.ms': '0' });
  });
  after(async () => {
    await broker?.cleanup();
  });

  test('CreateTopics asking for more than 10000 partitions in all fails every topic with POLICY_VIOLATION', async () => {
    const wire = await connectWire(broker.bootstrap);
    try {
      const res = await wire.request(CreateTopics, 5, {
        topics: [
          { name: 'a', numPartitions: 6000, replicationFactor: 1, assignments: [], configs: [] },
          { name: 'b', numPartitions: 6000, replicationFactor: 1, assignments: [], configs: [] },
        ],
        timeoutMs: 5000,
        validateOnly: false,
      });
      assert.deepEqual(res.topics.map((t) => t.errorCode), [ErrorCode.POLICY_VIOLATION, ErrorCode.POLICY_VIOLATION]);
      const created = await wire.request(CreateTopics, 5, { topics: [{ name: 'plain', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
      assert.equal(created.topics[0].errorCode, 0);
      const cp = await wire.request(CreatePartitions, 1, { topics: [{ name: 'plain', count: 0x7fffffff, assignments: null }], timeoutMs: 5000, validateOnly: false });
      assert.equal(cp.results[0].errorCode, ErrorCode.POLICY_VIOLATION);
    } finally {
      wire.close();
    }
  });

  test('a committed offset of Long.MAX_VALUE is stored and fetched back without harming the broker', async () => {
    const wire = await connectWire(broker.bootstrap);
    try {
      await wire.request(FindCoordinator, 1, { key: 'g-max', keyType: 0 });
      const commit = await wire.request(OffsetCommit, 2, {
        groupId: 'g-max', generationIdOrMemberEpoch: -1, memberId: '', retentionTimeMs: -1,
        topics: [{ name: 'plain', partitions: [{ partitionIndex: 0, committedOffset: 2 ** 63, committedMetadata: null }] }],
      });
      assert.equal(commit.topics[0].partitions[0].errorCode, 0);
      const fetched = await wire.request(OffsetFetch, 3, { groupId: 'g-max', topics: [{ name: 'plain', partitionIndexes: [0] }] });
      assert.equal(fetched.topics[0].partitions[0].committedOffset, 2 ** 63);
    } finally {
      wire.close();
    }
  });

  test('clients cannot produce to __consumer_offsets, and an unreadable record there does not stop a restart', async () => {
    const wire = await connectWire(broker.bootstrap);
    try {
      await wire.request(FindCoordinator, 1, { key: 'g', keyType: 0 });
      const poison = buildBatch({ records: [{ key: encodeOffsetKey('g', 't', 0), value: Buffer.from('xx') }] });
      const res = await produce(wire, '__consumer_offsets', 0, Buffer.from(poison), 1, 9);
      assert.equal(res.errorCode, ErrorCode.INVALID_TOPIC_EXCEPTION);
    } finally {
      wire.close();
    }
    // Written below the Produce API (as a corrupted disk or an older version might have left it).
    for (let p = 0; p < 10; p++) broker.broker.partition('__consumer_offsets', p)!.appendAsLeader(buildBatch({ records: [{ key: encodeOffsetKey('g', 't', 0), value: Buffer.from('xx') }] }));
    broker = await broker.restart();
    const wire2 = await connectWire(broker.bootstrap);
    try {
      const fc = await wire2.request(FindCoordinator, 1, { key: 'g', keyType: 0 });
      assert.equal(fc.errorCode, 0);
      const fetched = await wire2.request(OffsetFetch, 3, { groupId: 'g', topics: [{ name: 't', partitionIndexes: [0] }] });
      assert.equal(fetched.topics[0].partitions[0].committedOffset, -1, 'the unreadable commit was skipped');
    } finally {
      wire2.close();
    }
  });

  test('Produce answers CORRUPT_MESSAGE for records that do not parse under a valid CRC, and stores nothing', async () => {
    const wire = await connectWire(broker.bootstrap);
    try {
      const res = await produce(wire, 'plain', 0, damagedBatch((b) => (b[BATCH.HEADER_SIZE + 4] = 0x7e)));
      assert.equal(res.errorCode, ErrorCode.CORRUPT_MESSAGE);
    } finally {
      wire.close();
    }
  });

  test('Fetch is still served normally after all this', async () => {
    const wire = await connectWire(broker.bootstrap);
    try {
      assert.equal((await produce(wire, 'plain', 0, [{ key: null, value: Buffer.from('v') }])).errorCode, 0);
      const res = await wire.request(Fetch, 11, {
        replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic: 'plain', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
        forgottenTopicsData: [], rackId: '',
      });
      assert.equal(res.responses[0].partitions[0].highWatermark, 1);
    } finally {
      wire.close();
    }
  });
});
