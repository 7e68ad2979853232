// Small helpers for tests that speak the wire protocol through our own WireClient.
import assert from 'node:assert/strict';
import { WireClient } from '../../src/broker/wireClient';
import { Fetch, ListOffsets, Produce } from '../../src/protocol/apis';
import { buildBatch, decodeBatch, NewRecord, splitBatches } from '../../src/protocol/records/recordBatch';

export async function connectWire(bootstrap: string): Promise<WireClient> {
  const [host, port] = bootstrap.split(',')[0].split(':');
  const c = new WireClient(host, Number(port), 'wire-test');
  await c.connect();
  return c;
}

export async function produce(c: WireClient, topic: string, partition: number, records: NewRecord[] | Buffer, acks = 1, version = 9) {
  const batch = Buffer.isBuffer(records) ? records : buildBatch({ records });
  const res = await c.request(Produce, version, {
    transactionalId: null,
    acks,
    timeoutMs: 5000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }],
  });
  return res.responses[0].partitionResponses[0];
}

export async function listOffset(c: WireClient, topic: string, partition: number, timestamp: number) {
  const res = await c.request(ListOffsets, 7, {
    replicaId: -1,
    isolationLevel: 0,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
  });
  return res.topics[0].partitions[0];
}

export async function fetchRecords(c: WireClient, topic: string, partition: number, offset: number, maxWaitMs = 0) {
  const res = await c.request(Fetch, 12, {
    clusterId: null,
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 50 * 1024 * 1024,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 10 * 1024 * 1024 }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  const p = res.responses[0].partitions[0];
  const records = p.records && p.records.length ? splitBatches(p.records).flatMap((b) => decodeBatch(b).records) : [];
  return { ...p, decoded: records };
}

/**
 * Every record of a partition from offset 0 up to its high watermark, from `c` (its leader), checking that no fetch
 * fails and that the read stops at the high watermark, not short of it. `who` names the broker in failures.
 */
export async function readToHighWatermark(c: WireClient, topic: string, partition: number, who = 'the leader'): Promise<Array<{ offset: number; value: string | null }>> {
  const records: Array<{ offset: number; value: string | null }> = [];
  let offset = 0;
  for (;;) {
    const res = await fetchRecords(c, topic, partition, offset);
    assert.equal(res.errorCode, 0, `fetch of ${topic}-${partition} at ${offset} from ${who}: error ${res.errorCode}`);
    if (res.decoded.length === 0) {
      assert.ok(offset >= Number(res.highWatermark), `${topic}-${partition}: nothing read at ${offset} below the high watermark ${res.highWatermark}`);
      return records;
    }
    for (const r of res.decoded) {
      if (r.offset < offset) continue;
      records.push({ offset: r.offset, value: r.value === null ? null : r.value.toString() });
      offset = r.offset + 1;
    }
  }
}
