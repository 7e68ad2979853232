// Incremental fetch sessions (KIP-227) at the wire level, against a real broker on a socket: a full fetch with
// epoch 0 opens a session, incremental fetches name only what changed and get only partitions with news, forgotten
// partitions leave the session, a long poll answers with the one partition that got data, a stale epoch is
// INVALID_FETCH_SESSION_EPOCH, an unknown or closed session FETCH_SESSION_ID_NOT_FOUND, a connection keeps one
// session it never used, and a full cache answers session 0 (sessionless). Then a real librdkafka consumer (kcat)
// reads through the same broker.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WireClient } from '../../src/broker/wireClient';
import { CreateTopics, Fetch } from '../../src/protocol/apis';
import { ErrorCode, errorName } from '../../src/protocol/errorCode';
import { RequestOf } from '../../src/protocol/schema';
import { startTestBroker, TestBroker } from '../helpers/broker';
import { connectWire, produce } from '../helpers/wire';
import { describeKcat, requireKcat, runKcat } from '../helpers/kcat';

type FetchReq = RequestOf<typeof Fetch>;
const NO_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

let broker: TestBroker;
let wire: WireClient;

async function createTopic(name: string, partitions: number): Promise<void> {
  const res = await wire.request(CreateTopics, 5, { topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
  assert.equal(res.topics[0].errorCode, 0, errorName(res.topics[0].errorCode));
}

/** A consumer fetch (v12) of `topic`'s partitions at the given offsets, in session `sessionId` at `epoch`. */
function fetchReq(sessionId: number, epoch: number, topic: string, offsets: Record<number, number>, opts: { forget?: number[]; maxWaitMs?: number } = {}): FetchReq {
  const parts = Object.entries(offsets).map(([p, off]) => ({ partition: Number(p), currentLeaderEpoch: -1, fetchOffset: off, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1024 * 1024, replicaDirectoryId: NO_ID }));
  return {
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1 },
    maxWaitMs: opts.maxWaitMs ?? 0,
    minBytes: 1,
    maxBytes: 10 * 1024 * 1024,
    isolationLevel: 0,
    sessionId,
    sessionEpoch: epoch,
    topics: parts.length ? [{ topic, topicId: NO_ID, partitions: parts }] : [],
    forgottenTopicsData: opts.forget ? [{ topic, topicId: NO_ID, partitions: opts.forget }] : [],
    rackId: '',
  };
}

const answered = (res: { responses: Array<{ partitions: Array<{ partitionIndex: number }> }> }) =>
  res.responses.flatMap((t) => t.partitions.map((p) => p.partitionIndex)).sort();

before(async () => {
  broker = await startTestBroker({ 'max.incremental.fetch.session.cache.slots': '2' });
  wire = await connectWire(broker.bootstrap);
});

after(async () => {
  wire?.close();
  await broker?.cleanup();
});

describe('fetch sessions (KIP-227)', () => {
  it('opens a session, answers incremental fetches with only the partitions that changed, forgets, long-polls, rejects bad epochs', async () => {
    await createTopic('sess', 3);
    assert.equal((await produce(wire, 'sess', 0, [{ value: Buffer.from('a') }, { value: Buffer.from('b') }])).errorCode, 0);

    // Full fetch, epoch 0: a new session; every partition is answered.
    const full = await wire.request(Fetch, 12, fetchReq(0, 0, 'sess', { 0: 0, 1: 0, 2: 0 }));
    assert.equal(full.errorCode, 0);
    assert.ok(full.sessionId > 0, 'the broker gives a session id');
    const id = full.sessionId;
    assert.deepEqual(answered(full), [0, 1, 2]);
    assert.ok(full.responses[0].partitions.find((p) => p.partitionIndex === 0)!.records!.length > 0);

    // Epoch 1 moves partition 0 past its records: nothing new anywhere, so no partition is answered.
    const inc1 = await wire.request(Fetch, 12, fetchReq(id, 1, 'sess', { 0: 2 }));
    assert.equal(inc1.errorCode, 0);
    assert.equal(inc1.sessionId, id);
    assert.deepEqual(answered(inc1), []);

    // New data on partition 1 only: epoch 2 names no partition and gets partition 1 (records and its new HW).
    await produce(wire, 'sess', 1, [{ value: Buffer.from('c') }]);
    const inc2 = await wire.request(Fetch, 12, fetchReq(id, 2, 'sess', {}));
    assert.deepEqual(answered(inc2), [1]);
    const p1 = inc2.responses[0].partitions[0];
    assert.equal(p1.highWatermark, 1);
    assert.ok(p1.records!.length > 0);

    // A stale epoch, and an unknown session.
    const stale = await wire.request(Fetch, 12, fetchReq(id, 2, 'sess', {}));
    assert.equal(stale.errorCode, ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    assert.equal(stale.responses.length, 0);
    const unknown = await wire.request(Fetch, 12, fetchReq(id + 1, 1, 'sess', {}));
    assert.equal(unknown.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);

    // The stale request did not move the session on: epoch 3 is next. Partition 1 still sits at offset 0 with a
    // record to read, but forgotten it is no longer fetched: nothing is answered.
    const inc3 = await wire.request(Fetch, 12, fetchReq(id, 3, 'sess', {}, { forget: [1] }));
    assert.equal(inc3.errorCode, 0);
    assert.deepEqual(answered(inc3), []);

    // Long poll: the fetch waits, and answers as soon as partition 2 gets data, with partition 2 alone.
    const started = Date.now();
    const polling = wire.request(Fetch, 12, fetchReq(id, 4, 'sess', {}, { maxWaitMs: 5000 }));
    await new Promise((r) => setTimeout(r, 300));
    const producer = await connectWire(broker.bootstrap);
    await produce(producer, 'sess', 2, [{ value: Buffer.from('d') }]);
    producer.close();
    const inc4 = await polling;
    assert.ok(Date.now() - started < 4000, `the long poll answered after ${Date.now() - started} ms`);
    assert.deepEqual(answered(inc4), [2]);

    // Epoch -1 closes the session (a sessionless full fetch); the id is then unknown.
    const closing = await wire.request(Fetch, 12, fetchReq(id, -1, 'sess', { 0: 2 }));
    assert.equal(closing.errorCode, 0);
    assert.equal(closing.sessionId, 0);
    assert.deepEqual(answered(closing), [0]);
    const closed = await wire.request(Fetch, 12, fetchReq(id, 5, 'sess', {}));
    assert.equal(closed.errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
  });

  it('keeps one unused session per connection, and answers session 0 (sessionless) when every slot is taken by a recent session', async () => {
    // The first test closed its session: both slots (max.incremental.fetch.session.cache.slots=2) are free.
    // One connection opening session after session without fetching through any (as @platformatic/kafka does)
    // holds one slot, not all of them: each new one closes its unused predecessor.
    const first = (await wire.request(Fetch, 12, fetchReq(0, 0, 'sess', { 0: 0 }))).sessionId;
    const second = (await wire.request(Fetch, 12, fetchReq(0, 0, 'sess', { 0: 0 }))).sessionId;
    assert.ok(first > 0 && second > 0 && first !== second, `sessions ${first}, ${second}`);
    assert.equal((await wire.request(Fetch, 12, fetchReq(first, 1, 'sess', {}))).errorCode, ErrorCode.FETCH_SESSION_ID_NOT_FOUND, 'the unused predecessor is closed');
    assert.equal((await wire.request(Fetch, 12, fetchReq(second, 1, 'sess', {}))).errorCode, ErrorCode.NONE, 'the newest one works');

    // A used session stays when its connection opens another: both slots are now taken by recent sessions.
    const third = (await wire.request(Fetch, 12, fetchReq(0, 0, 'sess', { 0: 0 }))).sessionId;
    assert.ok(third > 0, 'the second slot');
    assert.equal((await wire.request(Fetch, 12, fetchReq(second, 2, 'sess', {}))).errorCode, ErrorCode.NONE, 'the used session was kept');
    const other = await connectWire(broker.bootstrap);
    try {
      assert.equal((await other.request(Fetch, 12, fetchReq(0, 0, 'sess', { 0: 0 }))).sessionId, 0, 'no slot: a sessionless answer');
      // Closing one frees its slot.
      await wire.request(Fetch, 12, fetchReq(third, -1, 'sess', { 0: 0 }));
      const fourth = (await other.request(Fetch, 12, fetchReq(0, 0, 'sess', { 0: 0 }))).sessionId;
      assert.ok(fourth > 0);
      // Leave the cache empty for the next test.
      await other.request(Fetch, 12, fetchReq(fourth, -1, 'sess', { 0: 0 }));
      await wire.request(Fetch, 12, fetchReq(second, -1, 'sess', { 0: 0 }));
    } finally {
      other.close();
    }
    assert.equal(broker.broker.fetchSessions.size, 0);
  });

  it('topic ids (v13): a session keyed by id answers incremental fetches the same way', async () => {
    const topicId = broker.broker.topicState('sess')!.id;
    const req = (sessionId: number, epoch: number, offsets: Record<number, number>) => {
      const r = fetchReq(sessionId, epoch, '', offsets);
      for (const t of r.topics) t.topicId = topicId;
      return r;
    };
    // The previous test left the cache empty.
    const full = await wire.request(Fetch, 13, req(0, 0, { 0: 2, 2: 1 }));
    const id = full.sessionId;
    assert.ok(id > 0, 'a session');
    assert.equal(full.responses[0].topicId, topicId);
    const inc = await wire.request(Fetch, 13, req(id, 1, {}));
    assert.deepEqual(answered(inc), []);
  });
});

describe('real librdkafka consumers through sessions', () => {
  // librdkafka (kcat, confluent-kafka) fetches sessionless (session 0, epoch -1) as of Debian's build: what it
  // must see is unchanged full answers. The diagnostic says whether it opened any session.
  it('kcat reads every record of a multi-partition topic', async (t) => {
    requireKcat();
    await createTopic('kcat-sess', 4);
    for (let p = 0; p < 4; p++) await produce(wire, 'kcat-sess', p, [{ value: Buffer.from(`v${p}`) }]);
    const opened = broker.broker.fetchSessions.opened;
    const args = ['-C', '-b', broker.bootstrap, '-t', 'kcat-sess', '-o', 'beginning', '-e', '-q', '-f', '%p:%s\n'];
    const r = await runKcat(args);
    assert.equal(r.code, 0, describeKcat(args, r));
    t.diagnostic(`fetch sessions opened by kcat: ${broker.broker.fetchSessions.opened - opened}`);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['0:v0', '1:v1', '2:v2', '3:v3']);
  });
});
