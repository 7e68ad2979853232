// Codec tests for every API in src/protocol/apis.
// 1. Round trips: for every API and every version in its range, a generated request and response with a
//    non-default value in every field (and a sparse one: nulls, empty arrays) is encoded, decoded, compared with
//    the fields that exist in that version, and must consume exactly all bytes.
// 2. Golden cross-checks against real client code, which catch field-order and version-range mistakes that a
//    round trip cannot: kafkajs 2.2.4 request encoders are decoded with our schemas and our responses are parsed
//    by kafkajs (every non-flexible version it implements, plus its two flexible admin APIs);
//    @platformatic/kafka does the same for a set of flexible versions.
// 3. Framing: request header v1/v2, response header v0/v1, null client id, the ApiVersions v0-header rule.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Reader } from '../../../src/protocol/primitives/reader';
import { Writer } from '../../../src/protocol/primitives/writer';
import * as S from '../../../src/protocol/schema';
import {
  FrameDecoder,
  FrameTooLargeError,
  readRequestHeader,
  responseHeaderIsFlexible,
  skipTaggedFields,
  writeRequestHeader,
  writeResponseHeader,
} from '../../../src/protocol/frame';
import * as APIS from '../../../src/protocol/apis';
import { ALL_APIS, API_BY_KEY } from '../../../src/protocol/apis';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;
type AnyApi = S.ApiDef<Any, Any>;

const nodeRequire = createRequire(__filename);

// ---- codec helpers ---------------------------------------------------------------------------------------

function encode(type: S.Type<Any>, value: Any, ctx: S.Ctx): Buffer {
  const w = new Writer(64);
  type.write(w, value, ctx);
  return w.toBuffer();
}

/** Decodes a whole buffer and insists that every byte was consumed. */
function decodeAll(type: S.Type<Any>, buf: Buffer, ctx: S.Ctx, what = ''): Any {
  const r = new Reader(buf);
  const value = type.read(r, ctx);
  assert.equal(r.remaining, 0, `${what} v${ctx.version}: ${r.remaining} trailing bytes`);
  return value;
}

const encReq = (def: AnyApi, version: number, value: Any) => encode(def.request, value, S.ctxFor(def, version));
const encRes = (def: AnyApi, version: number, value: Any) => encode(def.response, value, S.ctxFor(def, version));
const decReq = (def: AnyApi, version: number, buf: Buffer) =>
  decodeAll(def.request, buf, S.ctxFor(def, version), `${def.name} request`);
const decRes = (def: AnyApi, version: number, buf: Buffer) =>
  decodeAll(def.response, buf, S.ctxFor(def, version), `${def.name} response`);

function versionsOf(def: AnyApi): number[] {
  const out: number[] = [];
  for (let v = def.minVersion; v <= def.maxVersion; v++) out.push(v);
  return out;
}

function deepClone(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (Array.isArray(v)) return v.map(deepClone);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, deepClone(e)]));
  return v;
}

// ---- 1. generated round trips ----------------------------------------------------------------------------

type Mode = 'full' | 'sparse';

/**
 * Builds a value for any schema type. 'full' puts a distinct non-default value in every field (non-null
 * nullables, two-element arrays, values of both signs); 'sparse' uses null / empty / zero, and defaults for
 * tagged fields.
 */
function generate(type: S.Type<Any>, mode: Mode, dflt: unknown, counter: { n: number }): Any {
  const fields = S.structFields(type);
  if (fields) {
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      out[f.name] = f.tag !== undefined && mode === 'sparse' ? deepClone(f.dflt) : generate(f.type, mode, f.dflt, counter);
    }
    return out;
  }
  const item = S.arrayItem(type);
  if (item) {
    if (mode === 'sparse') return type.zero === null ? null : [];
    return [generate(item, mode, item.zero, counter), generate(item, mode, item.zero, counter)];
  }
  const n = ++counter.n;
  const sign = n % 2 === 0 ? 1 : -1;
  const avoid = (x: number) => (x === dflt ? x + 1 : x);
  switch (type) {
    case S.int8:
      return mode === 'sparse' ? 0 : avoid(2 + (n % 100));
    case S.int16:
      return mode === 'sparse' ? 0 : avoid(sign * (300 + n));
    case S.uint16:
      return mode === 'sparse' ? 0 : avoid(40000 + n);
    case S.int32:
      return mode === 'sparse' ? 0 : avoid(sign * (100000 + n * 7919));
    case S.uint32:
      return mode === 'sparse' ? 0 : avoid(3000000000 + n);
    case S.int64:
      return mode === 'sparse' ? 0 : avoid(sign * (2 ** 40 + n * 1000003));
    case S.float64:
      return mode === 'sparse' ? 0 : n + 0.5;
    case S.bool:
      return mode === 'sparse' ? false : !dflt;
    case S.uuid: {
      if (mode === 'sparse') return S.ZERO_UUID;
      const b = Buffer.alloc(16);
      b.writeUInt32BE(0xdeadbeef, 0);
      b.writeUInt32BE(n, 12);
      return b.toString('base64url');
    }
    case S.string:
      return mode === 'sparse' ? '' : `s${n}-é`;
    case S.nullableString:
      return mode === 'sparse' ? null : `n${n}-ü`;
    case S.bytes:
      return mode === 'sparse' ? Buffer.alloc(0) : Buffer.from([n & 0xff, 0, 0xff, 0x80]);
    case S.nullableBytes:
      return mode === 'sparse' ? null : Buffer.from(`record-bytes-${n}`);
    default:
      throw new Error('generate: unknown schema type');
  }
}

/** What decoding `value` encoded at `version` must give: absent fields at their defaults. */
function expectedAt(type: S.Type<Any>, value: Any, version: number, flexible: boolean): Any {
  const fields = S.structFields(type);
  if (fields) {
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const present = version >= f.min && version <= f.max && (f.tag === undefined || flexible);
      out[f.name] = present ? expectedAt(f.type, value[f.name], version, flexible) : deepClone(f.dflt);
    }
    return out;
  }
  const item = S.arrayItem(type);
  if (item) return value === null ? null : (value as Any[]).map((e) => expectedAt(item, e, version, flexible));
  return value;
}

describe('round trip: every API, every version', () => {
  test('registry: 47 APIs sorted by key, unique keys, API_BY_KEY agrees', () => {
    assert.equal(ALL_APIS.length, 47);
    const keys = ALL_APIS.map((a) => a.key);
    assert.deepEqual(keys, [...keys].sort((a, b) => a - b));
    assert.equal(new Set(keys).size, keys.length);
    for (const a of ALL_APIS) assert.equal(API_BY_KEY.get(a.key), a);
    // every const the index re-exports is registered
    for (const [name, value] of Object.entries(APIS)) {
      if (name === 'ALL_APIS' || name === 'API_BY_KEY') continue;
      assert.ok(ALL_APIS.includes(value as AnyApi), `${name} missing from ALL_APIS`);
      assert.equal((value as AnyApi).name, name);
    }
  });

  for (const def of ALL_APIS) {
    test(`${def.key} ${def.name} v${def.minVersion}-${def.maxVersion}`, () => {
      for (const mode of ['full', 'sparse'] as const) {
        const counter = { n: 0 };
        const request = generate(def.request, mode, undefined, counter);
        const response = generate(def.response, mode, undefined, counter);
        for (const version of versionsOf(def)) {
          const ctx = S.ctxFor(def, version);
          for (const [kind, type, value] of [
            ['request', def.request, request],
            ['response', def.response, response],
          ] as const) {
            const bytes = encode(type, value, ctx);
            const decoded = decodeAll(type, bytes, ctx, `${def.name} ${kind} (${mode})`);
            assert.deepStrictEqual(
              decoded,
              expectedAt(type, value, version, ctx.flexible),
              `${def.name} ${kind} v${version} (${mode})`,
            );
            assert.ok(encode(type, decoded, ctx).equals(bytes), `${def.name} ${kind} v${version} re-encodes identically`);
          }
        }
      }
    });
  }
});

// ---- 2a. kafkajs golden cross-checks ---------------------------------------------------------------------

const kjsRequest = (dir: string, v: number): ((args: Any) => Any) =>
  nodeRequire(`kafkajs/src/protocol/requests/${dir}/v${v}/request`);
interface KjsResponse {
  decode(b: Buffer): Promise<Any>;
  parse(d: Any): Promise<Any>;
}
/** kafkajs response modules are { decode, parse }, except a few factories that take the request arguments. */
function kjsResponse(dir: string, v: number, requestArgs: Any): KjsResponse {
  const mod = nodeRequire(`kafkajs/src/protocol/requests/${dir}/v${v}/response`);
  return typeof mod === 'function' ? mod(requestArgs) : mod;
}
const KjsEncoder: Any = nodeRequire('kafkajs/src/protocol/encoder');

/** The throttle time kafkajs reports, whichever field it lands in for that version. */
function kjsThrottle(d: Any): number {
  return 'clientSideThrottleTime' in d ? d.clientSideThrottleTime : d.throttleTime;
}

/** Error-code factory: the decode-only run uses distinct non-zero codes, the parse run zeros (parse throws). */
type Err = (code: number) => number;

interface KjsCase {
  def: AnyApi;
  dir: string;
  versions: number[];
  /** kafkajs prepends the request header-v2 tag byte to the body of its two flexible APIs. */
  flexibleHeaderHack?: boolean;
  args: (v: number) => Any;
  checkRequest: (ours: Any, v: number) => void;
  response: (v: number, e: Err) => Any;
  checkResponse: (kjs: Any, v: number, e: Err) => void;
}

/** A record batch encoded by kafkajs (taken from its Produce v3 request), reused in Fetch responses. */
let kafkajsBatch: Buffer | null = null;

const U = (hex: string) => Buffer.from(hex, 'hex').toString('base64url');
const TOPIC_ID = U('0123456789abcdef0123456789abcdef');

const kjsCases: KjsCase[] = [
  {
    def: APIS.Produce,
    dir: 'produce',
    versions: [0, 1, 2, 3, 4, 5, 6, 7],
    args: () => ({
      acks: -1,
      timeout: 30000,
      transactionalId: 'tx-1',
      topicData: [
        { topic: 'topic-a', partitions: [{ partition: 3, messages: [{ key: 'k1', value: 'v1', timestamp: 1700000000000 }] }] },
      ],
    }),
    checkRequest: (o, v) => {
      assert.equal(o.transactionalId, v >= 3 ? 'tx-1' : null);
      assert.equal(o.acks, -1);
      assert.equal(o.timeoutMs, 30000);
      assert.equal(o.topicData.length, 1);
      assert.equal(o.topicData[0].name, 'topic-a');
      assert.equal(o.topicData[0].partitionData[0].index, 3);
      const records: Buffer = o.topicData[0].partitionData[0].records;
      // magic byte at offset 16 in both the message set and the record batch layouts
      assert.equal(records[16], v >= 3 ? 2 : v === 2 ? 1 : 0);
      if (v === 3) kafkajsBatch = Buffer.from(records);
    },
    response: (_v, e) => ({
      responses: [
        {
          name: 'topic-a',
          partitionResponses: [
            {
              index: 3,
              errorCode: e(6),
              baseOffset: 1234567890123,
              logAppendTimeMs: 1700000000123,
              logStartOffset: 42,
              recordErrors: [],
              errorMessage: null,
            },
          ],
        },
      ],
      throttleTimeMs: 17,
    }),
    checkResponse: (k, v, e) => {
      assert.equal(k.topics[0].topicName, 'topic-a');
      const p = k.topics[0].partitions[0];
      assert.equal(p.partition, 3);
      assert.equal(p.errorCode, e(6));
      assert.equal(v >= 3 ? p.baseOffset : p.offset, '1234567890123');
      if (v === 2) assert.equal(p.timestamp, '1700000000123');
      if (v >= 3) assert.equal(p.logAppendTime, '1700000000123');
      if (v >= 5) assert.equal(p.logStartOffset, '42');
      if (v >= 1) assert.equal(kjsThrottle(k), 17);
    },
  },
  {
    def: APIS.Fetch,
    dir: 'fetch',
    versions: [4, 5, 6, 7, 8, 9, 10, 11],
    args: () => ({
      replicaId: -1,
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: 10485760,
      isolationLevel: 1,
      sessionId: 7,
      sessionEpoch: 3,
      forgottenTopics: [{ topic: 'gone', partitions: [5, 6] }],
      rackId: 'rack-x',
      topics: [
        {
          topic: 'topic-a',
          partitions: [{ partition: 2, currentLeaderEpoch: 9, fetchOffset: '12345678901', logStartOffset: 77, maxBytes: 1048576 }],
        },
      ],
    }),
    checkRequest: (o, v) => {
      assert.equal(o.replicaId, -1);
      assert.equal(o.maxWaitMs, 500);
      assert.equal(o.minBytes, 1);
      assert.equal(o.maxBytes, 10485760);
      assert.equal(o.isolationLevel, 1);
      assert.equal(o.sessionId, v >= 7 ? 7 : 0);
      assert.equal(o.sessionEpoch, v >= 7 ? 3 : -1);
      assert.equal(o.topics[0].topic, 'topic-a');
      assert.deepEqual(o.topics[0].partitions[0], {
        partition: 2,
        currentLeaderEpoch: v >= 9 ? 9 : -1,
        fetchOffset: 12345678901,
        lastFetchedEpoch: -1,
        logStartOffset: v >= 5 ? 77 : -1,
        partitionMaxBytes: 1048576,
        replicaDirectoryId: S.ZERO_UUID,
      });
      assert.deepEqual(o.forgottenTopicsData, v >= 7 ? [{ topic: 'gone', topicId: S.ZERO_UUID, partitions: [5, 6] }] : []);
      assert.equal(o.rackId, v >= 11 ? 'rack-x' : '');
    },
    response: (_v, e) => ({
      throttleTimeMs: 11,
      errorCode: e(0),
      sessionId: 0,
      responses: [
        {
          topic: 'topic-a',
          partitions: [
            {
              partitionIndex: 2,
              errorCode: e(1),
              highWatermark: 1001,
              lastStableOffset: 1000,
              logStartOffset: 5,
              abortedTransactions: [{ producerId: 4242, firstOffset: 33 }],
              preferredReadReplica: -1,
              records: kafkajsBatch ?? Buffer.alloc(0),
            },
          ],
        },
      ],
    }),
    checkResponse: (k, v, e) => {
      assert.equal(kjsThrottle(k), 11);
      if (v >= 7) {
        assert.equal(k.errorCode, 0);
        assert.equal(k.sessionId, 0);
      }
      assert.equal(k.responses[0].topicName, 'topic-a');
      const p = k.responses[0].partitions[0];
      assert.equal(p.partition, 2);
      assert.equal(p.errorCode, e(1));
      assert.equal(p.highWatermark, '1001');
      assert.equal(p.lastStableOffset, '1000');
      if (v >= 5) assert.equal(p.lastStartOffset, '5');
      assert.deepEqual(p.abortedTransactions, [{ producerId: '4242', firstOffset: '33' }]);
      if (v >= 11) assert.equal(p.preferredReadReplica, -1);
      assert.ok(kafkajsBatch, 'the Produce v3 golden test supplies a batch');
      assert.equal(p.messages.length, 1);
      assert.equal(p.messages[0].key.toString(), 'k1');
      assert.equal(p.messages[0].value.toString(), 'v1');
    },
  },
  {
    def: APIS.ListOffsets,
    dir: 'listOffsets',
    versions: [0, 1, 2, 3],
    args: () => ({
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ topic: 'topic-a', partitions: [{ partition: 4, timestamp: 1700000000000, maxNumOffsets: 3 }] }],
    }),
    checkRequest: (o, v) => {
      assert.equal(o.replicaId, -1);
      assert.equal(o.isolationLevel, v >= 2 ? 1 : 0);
      assert.deepEqual(o.topics, [
        {
          name: 'topic-a',
          partitions: [{ partitionIndex: 4, currentLeaderEpoch: -1, timestamp: 1700000000000, maxNumOffsets: v === 0 ? 3 : 1 }],
        },
      ]);
    },
    response: (_v, e) => ({
      throttleTimeMs: 13,
      topics: [
        {
          name: 'topic-a',
          partitions: [
            { partitionIndex: 4, errorCode: e(3), oldStyleOffsets: [555, 444], timestamp: 1700000000001, offset: 556, leaderEpoch: 3 },
          ],
        },
      ],
    }),
    checkResponse: (k, v, e) => {
      if (v >= 2) assert.equal(kjsThrottle(k), 13);
      assert.equal(k.responses[0].topic, 'topic-a');
      const p = k.responses[0].partitions[0];
      assert.equal(p.partition, 4);
      assert.equal(p.errorCode, e(3));
      if (v === 0) assert.deepEqual(p.offsets, ['555', '444']);
      else {
        assert.equal(p.timestamp, '1700000000001');
        assert.equal(p.offset, '556');
      }
    },
  },
  {
    def: APIS.Metadata,
    dir: 'metadata',
    versions: [0, 1, 2, 3, 4, 5, 6],
    args: () => ({ topics: ['topic-a', 'topic-b'], allowAutoTopicCreation: false }),
    checkRequest: (o, v) => {
      assert.deepEqual(o.topics, [
        { topicId: S.ZERO_UUID, name: 'topic-a' },
        { topicId: S.ZERO_UUID, name: 'topic-b' },
      ]);
      assert.equal(o.allowAutoTopicCreation, v >= 4 ? false : true);
    },
    response: (_v, e) => ({
      throttleTimeMs: 21,
      brokers: [
        { nodeId: 1, host: 'h1', port: 9092, rack: 'r1' },
        { nodeId: 2, host: 'h2', port: 9093, rack: null },
      ],
      clusterId: 'cluster-1',
      controllerId: 2,
      topics: [
        {
          errorCode: e(5),
          name: 'topic-a',
          topicId: TOPIC_ID,
          isInternal: true,
          partitions: [
            { errorCode: e(9), partitionIndex: 1, leaderId: 2, leaderEpoch: 7, replicaNodes: [2, 1], isrNodes: [2], offlineReplicas: [1] },
          ],
          topicAuthorizedOperations: 248,
        },
      ],
      clusterAuthorizedOperations: 3,
    }),
    checkResponse: (k, v, e) => {
      assert.deepEqual(
        k.brokers[0],
        v >= 1 ? { nodeId: 1, host: 'h1', port: 9092, rack: 'r1' } : { nodeId: 1, host: 'h1', port: 9092 },
      );
      if (v >= 1) assert.equal(k.brokers[1].rack, null);
      if (v >= 1) assert.equal(k.controllerId, 2);
      if (v >= 2) assert.equal(k.clusterId, 'cluster-1');
      if (v >= 3) assert.equal(kjsThrottle(k), 21);
      const t = k.topicMetadata[0];
      assert.equal(t.topicErrorCode, e(5));
      assert.equal(t.topic, 'topic-a');
      if (v >= 1) assert.equal(t.isInternal, true);
      const p = t.partitionMetadata[0];
      assert.equal(p.partitionErrorCode, e(9));
      assert.equal(p.partitionId, 1);
      assert.equal(p.leader, 2);
      assert.deepEqual(p.replicas, [2, 1]);
      assert.deepEqual(p.isr, [2]);
      if (v >= 5) assert.deepEqual(p.offlineReplicas, [1]);
    },
  },
  {
    def: APIS.OffsetCommit,
    dir: 'offsetCommit',
    versions: [0, 1, 2, 3, 4, 5],
    args: () => ({
      groupId: 'g1',
      groupGenerationId: 7,
      memberId: 'm1',
      retentionTime: 86400000,
      topics: [{ topic: 'topic-a', partitions: [{ partition: 1, offset: '12345', timestamp: 1700000000000, metadata: 'meta' }] }],
    }),
    checkRequest: (o, v) => {
      assert.deepEqual(o, {
        groupId: 'g1',
        generationIdOrMemberEpoch: v >= 1 ? 7 : -1,
        memberId: v >= 1 ? 'm1' : '',
        groupInstanceId: null,
        retentionTimeMs: v >= 2 && v <= 4 ? 86400000 : -1,
        topics: [
          {
            name: 'topic-a',
            partitions: [
              {
                partitionIndex: 1,
                committedOffset: 12345,
                committedLeaderEpoch: -1,
                commitTimestamp: v === 1 ? 1700000000000 : -1,
                committedMetadata: 'meta',
              },
            ],
          },
        ],
      });
    },
    response: (_v, e) => ({ throttleTimeMs: 9, topics: [{ name: 'topic-a', partitions: [{ partitionIndex: 1, errorCode: e(22) }] }] }),
    checkResponse: (k, v, e) => {
      assert.deepEqual(k.responses, [{ topic: 'topic-a', partitions: [{ partition: 1, errorCode: e(22) }] }]);
      if (v >= 3) assert.equal(kjsThrottle(k), 9);
    },
  },
  {
    def: APIS.OffsetFetch,
    dir: 'offsetFetch',
    versions: [1, 2, 3, 4],
    args: () => ({ groupId: 'g1', topics: [{ topic: 'topic-a', partitions: [{ partition: 1 }, { partition: 2 }] }] }),
    checkRequest: (o) => {
      assert.equal(o.groupId, 'g1');
      assert.deepEqual(o.topics, [{ name: 'topic-a', partitionIndexes: [1, 2] }]);
      assert.deepEqual(o.groups, []);
      assert.equal(o.requireStable, false);
    },
    response: (_v, e) => ({
      throttleTimeMs: 8,
      topics: [
        {
          name: 'topic-a',
          partitions: [{ partitionIndex: 1, committedOffset: 12345, committedLeaderEpoch: 4, metadata: 'meta', errorCode: e(3) }],
        },
      ],
      errorCode: e(16),
    }),
    checkResponse: (k, v, e) => {
      assert.deepEqual(k.responses, [
        { topic: 'topic-a', partitions: [{ partition: 1, offset: '12345', metadata: 'meta', errorCode: e(3) }] },
      ]);
      if (v >= 2) assert.equal(k.errorCode, e(16));
      if (v >= 3) assert.equal(kjsThrottle(k), 8);
    },
  },
  {
    def: APIS.FindCoordinator,
    dir: 'findCoordinator',
    versions: [0, 1, 2],
    args: (v) => (v === 0 ? { groupId: 'g1' } : { coordinatorKey: 'txn-1', coordinatorType: 1 }),
    checkRequest: (o, v) => {
      assert.deepEqual(o, { key: v === 0 ? 'g1' : 'txn-1', keyType: v === 0 ? 0 : 1, coordinatorKeys: [] });
    },
    response: (_v, e) => ({ throttleTimeMs: 5, errorCode: e(15), errorMessage: 'not yet', nodeId: 2, host: 'h2', port: 9093 }),
    checkResponse: (k, v, e) => {
      assert.equal(k.errorCode, e(15));
      assert.deepEqual(k.coordinator, { nodeId: 2, host: 'h2', port: 9093 });
      if (v >= 1) {
        assert.equal(k.errorMessage, 'not yet');
        assert.equal(kjsThrottle(k), 5);
      }
    },
  },
  {
    def: APIS.JoinGroup,
    dir: 'joinGroup',
    versions: [0, 1, 2, 3, 4, 5],
    args: () => ({
      groupId: 'g1',
      sessionTimeout: 30000,
      rebalanceTimeout: 60000,
      memberId: 'm1',
      groupInstanceId: 'inst-1',
      protocolType: 'consumer',
      groupProtocols: [
        { name: 'RoundRobinAssigner', metadata: Buffer.from('meta1') },
        { name: 'range', metadata: Buffer.from([1, 2]) },
      ],
    }),
    checkRequest: (o, v) => {
      assert.deepEqual(o, {
        groupId: 'g1',
        sessionTimeoutMs: 30000,
        rebalanceTimeoutMs: v >= 1 ? 60000 : -1,
        memberId: 'm1',
        groupInstanceId: v >= 5 ? 'inst-1' : null,
        protocolType: 'consumer',
        protocols: [
          { name: 'RoundRobinAssigner', metadata: Buffer.from('meta1') },
          { name: 'range', metadata: Buffer.from([1, 2]) },
        ],
        reason: null,
      });
    },
    response: (_v, e) => ({
      throttleTimeMs: 3,
      errorCode: e(27),
      generationId: 11,
      protocolName: 'RoundRobinAssigner',
      leader: 'm0',
      memberId: 'm1',
      members: [{ memberId: 'm0', groupInstanceId: 'i0', metadata: Buffer.from('x') }],
    }),
    checkResponse: (k, v, e) => {
      assert.equal(k.errorCode, e(27));
      assert.equal(k.generationId, 11);
      assert.equal(k.groupProtocol, 'RoundRobinAssigner');
      assert.equal(k.leaderId, 'm0');
      assert.equal(k.memberId, 'm1');
      assert.equal(k.members.length, 1);
      assert.equal(k.members[0].memberId, 'm0');
      assert.deepEqual(k.members[0].memberMetadata, Buffer.from('x'));
      if (v >= 5) assert.equal(k.members[0].groupInstanceId, 'i0');
      if (v >= 2) assert.equal(kjsThrottle(k), 3);
    },
  },
  {
    def: APIS.Heartbeat,
    dir: 'heartbeat',
    versions: [0, 1, 2, 3],
    args: () => ({ groupId: 'g1', groupGenerationId: 7, memberId: 'm1', groupInstanceId: 'i1' }),
    checkRequest: (o, v) => {
      assert.deepEqual(o, { groupId: 'g1', generationId: 7, memberId: 'm1', groupInstanceId: v >= 3 ? 'i1' : null });
    },
    response: (_v, e) => ({ throttleTimeMs: 4, errorCode: e(27) }),
    checkResponse: (k, v, e) => {
      assert.equal(k.errorCode, e(27));
      if (v >= 1) assert.equal(kjsThrottle(k), 4);
    },
  },
  {
    def: APIS.LeaveGroup,
    dir: 'leaveGroup',
    versions: [0, 1, 2, 3],
    args: (v) =>
      v < 3
        ? { groupId: 'g1', memberId: 'm1' }
        : { groupId: 'g1', members: [{ memberId: 'm1', groupInstanceId: 'i1' }, { memberId: 'm2' }] },
    checkRequest: (o, v) => {
      assert.equal(o.groupId, 'g1');
      if (v < 3) {
        assert.equal(o.memberId, 'm1');
        assert.deepEqual(o.members, []);
      } else {
        assert.equal(o.memberId, '');
        assert.deepEqual(o.members, [
          { memberId: 'm1', groupInstanceId: 'i1', reason: null },
          { memberId: 'm2', groupInstanceId: null, reason: null },
        ]);
      }
    },
    response: (_v, e) => ({ throttleTimeMs: 6, errorCode: e(25), members: [{ memberId: 'm1', groupInstanceId: 'i1', errorCode: e(25) }] }),
    checkResponse: (k, v, e) => {
      assert.equal(k.errorCode, e(25));
      if (v >= 1) assert.equal(kjsThrottle(k), 6);
      if (v >= 3) assert.deepEqual(k.members, [{ memberId: 'm1', groupInstanceId: 'i1', errorCode: e(25) }]);
    },
  },
  {
    def: APIS.SyncGroup,
    dir: 'syncGroup',
    versions: [0, 1, 2, 3],
    args: () => ({
      groupId: 'g1',
      generationId: 7,
      memberId: 'm1',
      groupInstanceId: 'i1',
      groupAssignment: [
        { memberId: 'm1', memberAssignment: Buffer.from('a1') },
        { memberId: 'm2', memberAssignment: Buffer.from('a2') },
      ],
    }),
    checkRequest: (o, v) => {
      assert.deepEqual(o, {
        groupId: 'g1',
        generationId: 7,
        memberId: 'm1',
        groupInstanceId: v >= 3 ? 'i1' : null,
        protocolType: null,
        protocolName: null,
        assignments: [
          { memberId: 'm1', assignment: Buffer.from('a1') },
          { memberId: 'm2', assignment: Buffer.from('a2') },
        ],
      });
    },
    response: (_v, e) => ({ throttleTimeMs: 2, errorCode: e(22), assignment: Buffer.from('assigned') }),
    checkResponse: (k, v, e) => {
      assert.equal(k.errorCode, e(22));
      assert.deepEqual(k.memberAssignment, Buffer.from('assigned'));
      if (v >= 1) assert.equal(kjsThrottle(k), 2);
    },
  },
  {
    def: APIS.DescribeGroups,
    dir: 'describeGroups',
    versions: [0, 1, 2],
    args: () => ({ groupIds: ['g1', 'g2'] }),
    checkRequest: (o) => assert.deepEqual(o, { groups: ['g1', 'g2'], includeAuthorizedOperations: false }),
    response: (_v, e) => ({
      throttleTimeMs: 14,
      groups: [
        {
          errorCode: e(16),
          groupId: 'g1',
          groupState: 'Stable',
          protocolType: 'consumer',
          protocolData: 'range',
          members: [
            {
              memberId: 'm1',
              groupInstanceId: 'i1',
              clientId: 'client-1',
              clientHost: '/127.0.0.1',
              memberMetadata: Buffer.from('md'),
              memberAssignment: Buffer.from('as'),
            },
          ],
          authorizedOperations: 8,
        },
      ],
    }),
    checkResponse: (k, v, e) => {
      if (v >= 1) assert.equal(kjsThrottle(k), 14);
      assert.deepEqual(k.groups, [
        {
          errorCode: e(16),
          groupId: 'g1',
          state: 'Stable',
          protocolType: 'consumer',
          protocol: 'range',
          members: [
            {
              memberId: 'm1',
              clientId: 'client-1',
              clientHost: '/127.0.0.1',
              memberMetadata: Buffer.from('md'),
              memberAssignment: Buffer.from('as'),
            },
          ],
        },
      ]);
    },
  },
  {
    def: APIS.ListGroups,
    dir: 'listGroups',
    versions: [0, 1, 2],
    args: () => undefined,
    checkRequest: (o) => assert.deepEqual(o, { statesFilter: [], typesFilter: [] }),
    response: (_v, e) => ({
      throttleTimeMs: 15,
      errorCode: e(15),
      groups: [
        { groupId: 'g1', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' },
        { groupId: 'g2', protocolType: '', groupState: 'Empty', groupType: 'classic' },
      ],
    }),
    checkResponse: (k, v, e) => {
      assert.equal(k.errorCode, e(15));
      if (v >= 1) assert.equal(kjsThrottle(k), 15);
      assert.deepEqual(k.groups, [
        { groupId: 'g1', protocolType: 'consumer' },
        { groupId: 'g2', protocolType: '' },
      ]);
    },
  },
  {
    def: APIS.SaslHandshake,
    dir: 'saslHandshake',
    versions: [0, 1],
    args: () => ({ mechanism: 'SCRAM-SHA-256' }),
    checkRequest: (o) => assert.deepEqual(o, { mechanism: 'SCRAM-SHA-256' }),
    response: (_v, e) => ({ errorCode: e(33), mechanisms: ['PLAIN', 'SCRAM-SHA-256'] }),
    checkResponse: (k, _v, e) => {
      assert.equal(k.errorCode, e(33));
      assert.deepEqual(k.enabledMechanisms, ['PLAIN', 'SCRAM-SHA-256']);
    },
  },
  {
    def: APIS.ApiVersions,
    dir: 'apiVersions',
    versions: [0, 1, 2],
    args: () => undefined,
    checkRequest: (o) => assert.deepEqual(o, { clientSoftwareName: '', clientSoftwareVersion: '' }),
    response: () => ({
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 0, maxVersion: 11 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ],
      throttleTimeMs: 7,
    }),
    checkResponse: (k, v) => {
      assert.equal(k.errorCode, 0);
      assert.deepEqual(k.apiVersions, [
        { apiKey: 0, minVersion: 0, maxVersion: 11 },
        { apiKey: 18, minVersion: 0, maxVersion: 4 },
      ]);
      if (v >= 1) assert.equal(kjsThrottle(k), 7);
    },
  },
  {
    def: APIS.CreateTopics,
    dir: 'createTopics',
    versions: [0, 1, 2, 3],
    args: () => ({
      topics: [
        {
          topic: 't1',
          numPartitions: 3,
          replicationFactor: 2,
          replicaAssignment: [{ partition: 0, replicas: [1, 2] }],
          configEntries: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
      validateOnly: true,
      timeout: 4000,
    }),
    checkRequest: (o, v) => {
      assert.deepEqual(o, {
        topics: [
          {
            name: 't1',
            numPartitions: 3,
            replicationFactor: 2,
            assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
            configs: [{ name: 'cleanup.policy', value: 'compact' }],
          },
        ],
        timeoutMs: 4000,
        validateOnly: v >= 1,
      });
    },
    response: (_v, e) => ({
      throttleTimeMs: 12,
      topics: [{ name: 't1', topicId: TOPIC_ID, errorCode: e(36), errorMessage: 'exists', numPartitions: 3, replicationFactor: 2, configs: [] }],
    }),
    checkResponse: (k, v, e) => {
      assert.deepEqual(
        k.topicErrors,
        v >= 1 ? [{ topic: 't1', errorCode: e(36), errorMessage: 'exists' }] : [{ topic: 't1', errorCode: e(36) }],
      );
      if (v >= 2) assert.equal(kjsThrottle(k), 12);
    },
  },
  {
    def: APIS.DeleteTopics,
    dir: 'deleteTopics',
    versions: [0, 1],
    args: () => ({ topics: ['t1', 't2'], timeout: 4000 }),
    checkRequest: (o) => assert.deepEqual(o, { topics: [], topicNames: ['t1', 't2'], timeoutMs: 4000 }),
    response: (_v, e) => ({
      throttleTimeMs: 3,
      responses: [
        { name: 't1', topicId: TOPIC_ID, errorCode: e(3), errorMessage: null },
        { name: 't2', topicId: TOPIC_ID, errorCode: 0, errorMessage: null },
      ],
    }),
    checkResponse: (k, v, e) => {
      assert.deepEqual(k.topicErrors, [
        { topic: 't1', errorCode: e(3) },
        { topic: 't2', errorCode: 0 },
      ]);
      if (v >= 1) assert.equal(kjsThrottle(k), 3);
    },
  },
  {
    def: APIS.DeleteRecords,
    dir: 'deleteRecords',
    versions: [0, 1],
    args: () => ({ topics: [{ topic: 't1', partitions: [{ partition: 0, offset: '100' }, { partition: 1, offset: '-1' }] }], timeout: 4000 }),
    checkRequest: (o) =>
      assert.deepEqual(o, {
        topics: [{ name: 't1', partitions: [{ partitionIndex: 0, offset: 100 }, { partitionIndex: 1, offset: -1 }] }],
        timeoutMs: 4000,
      }),
    response: (_v, e) => ({
      throttleTimeMs: 19,
      topics: [{ name: 't1', partitions: [{ partitionIndex: 0, lowWatermark: 100, errorCode: e(1) }] }],
    }),
    checkResponse: (k, _v, e) => {
      assert.equal(kjsThrottle(k), 19);
      assert.equal(k.topics[0].topic, 't1');
      const p = k.topics[0].partitions[0];
      assert.equal(p.partition, 0);
      assert.equal(p.lowWatermark.toString(), '100');
      assert.equal(p.errorCode, e(1));
    },
  },
  {
    def: APIS.InitProducerId,
    dir: 'initProducerId',
    versions: [0, 1],
    args: () => ({ transactionalId: 'tx-1', transactionTimeout: 60000 }),
    checkRequest: (o) =>
      assert.deepEqual(o, { transactionalId: 'tx-1', transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 }),
    response: (_v, e) => ({ throttleTimeMs: 1, errorCode: e(15), producerId: 123456789012, producerEpoch: 3 }),
    checkResponse: (k, _v, e) => {
      assert.equal(k.errorCode, e(15));
      assert.equal(k.producerId, '123456789012');
      assert.equal(k.producerEpoch, 3);
      assert.equal(kjsThrottle(k), 1);
    },
  },
  {
    def: APIS.AddPartitionsToTxn,
    dir: 'addPartitionsToTxn',
    versions: [0, 1],
    args: () => ({ transactionalId: 'tx-1', producerId: '123456789012', producerEpoch: 4, topics: [{ topic: 't1', partitions: [0, 2] }, { topic: 't2', partitions: [1] }] }),
    checkRequest: (o) =>
      assert.deepEqual(o, {
        transactions: [],
        transactionalId: 'tx-1',
        producerId: 123456789012,
        producerEpoch: 4,
        topics: [
          { name: 't1', partitions: [0, 2] },
          { name: 't2', partitions: [1] },
        ],
      }),
    response: (_v, e) => ({
      throttleTimeMs: 2,
      errorCode: 0,
      resultsByTransaction: [],
      results: [{ name: 't1', results: [{ partitionIndex: 0, partitionErrorCode: e(48) }, { partitionIndex: 2, partitionErrorCode: e(51) }] }],
    }),
    checkResponse: (k, _v, e) => {
      assert.equal(kjsThrottle(k), 2);
      assert.deepEqual(k.errors, [{ topic: 't1', partitionErrors: [{ partition: 0, errorCode: e(48) }, { partition: 2, errorCode: e(51) }] }]);
    },
  },
  {
    def: APIS.AddOffsetsToTxn,
    dir: 'addOffsetsToTxn',
    versions: [0, 1],
    args: () => ({ transactionalId: 'tx-1', producerId: '77', producerEpoch: 2, groupId: 'g1' }),
    checkRequest: (o) => assert.deepEqual(o, { transactionalId: 'tx-1', producerId: 77, producerEpoch: 2, groupId: 'g1' }),
    response: (_v, e) => ({ throttleTimeMs: 3, errorCode: e(47) }),
    checkResponse: (k, _v, e) => {
      assert.equal(k.errorCode, e(47));
      assert.equal(kjsThrottle(k), 3);
    },
  },
  {
    def: APIS.EndTxn,
    dir: 'endTxn',
    versions: [0, 1],
    args: () => ({ transactionalId: 'tx-1', producerId: '77', producerEpoch: 2, transactionResult: true }),
    checkRequest: (o) => assert.deepEqual(o, { transactionalId: 'tx-1', producerId: 77, producerEpoch: 2, committed: true }),
    response: (_v, e) => ({ throttleTimeMs: 4, errorCode: e(90) }),
    checkResponse: (k, _v, e) => {
      assert.equal(k.errorCode, e(90));
      assert.equal(kjsThrottle(k), 4);
    },
  },
  {
    def: APIS.TxnOffsetCommit,
    dir: 'txnOffsetCommit',
    versions: [0, 1],
    args: () => ({
      transactionalId: 'tx-1',
      groupId: 'g1',
      producerId: '77',
      producerEpoch: 2,
      topics: [{ topic: 't1', partitions: [{ partition: 0, offset: '42', metadata: 'm' }, { partition: 1, offset: '9007199254740', metadata: null }] }],
    }),
    checkRequest: (o) =>
      assert.deepEqual(o, {
        transactionalId: 'tx-1',
        groupId: 'g1',
        producerId: 77,
        producerEpoch: 2,
        generationId: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [
          {
            name: 't1',
            partitions: [
              { partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: -1, committedMetadata: 'm' },
              { partitionIndex: 1, committedOffset: 9007199254740, committedLeaderEpoch: -1, committedMetadata: null },
            ],
          },
        ],
      }),
    response: (_v, e) => ({ throttleTimeMs: 5, topics: [{ name: 't1', partitions: [{ partitionIndex: 0, errorCode: e(25) }] }] }),
    checkResponse: (k, _v, e) => {
      assert.equal(kjsThrottle(k), 5);
      assert.deepEqual(k.topics, [{ topic: 't1', partitions: [{ partition: 0, errorCode: e(25) }] }]);
    },
  },
  {
    def: APIS.DescribeConfigs,
    dir: 'describeConfigs',
    versions: [0, 1, 2],
    args: () => ({ resources: [{ type: 2, name: 't1', configNames: ['retention.ms', 'cleanup.policy'] }], includeSynonyms: true }),
    checkRequest: (o, v) =>
      assert.deepEqual(o, {
        resources: [{ resourceType: 2, resourceName: 't1', configurationKeys: ['retention.ms', 'cleanup.policy'] }],
        includeSynonyms: v >= 1,
        includeDocumentation: false,
      }),
    response: (_v, e) => ({
      throttleTimeMs: 23,
      results: [
        {
          errorCode: e(40),
          errorMessage: 'msg',
          resourceType: 2,
          resourceName: 't1',
          configs: [
            {
              name: 'retention.ms',
              value: '1000',
              readOnly: true,
              isDefault: false,
              configSource: 1,
              isSensitive: true,
              synonyms: [{ name: 'log.retention.ms', value: '2000', source: 4 }],
              configType: 5,
              documentation: 'doc',
            },
          ],
        },
      ],
    }),
    checkResponse: (k, v, e) => {
      assert.equal(kjsThrottle(k), 23);
      const r = k.resources[0];
      assert.equal(r.errorCode, e(40));
      assert.equal(r.errorMessage, 'msg');
      assert.equal(r.resourceType, 2);
      assert.equal(r.resourceName, 't1');
      const c = r.configEntries[0];
      assert.equal(c.configName, 'retention.ms');
      assert.equal(c.configValue, '1000');
      assert.equal(c.readOnly, true);
      assert.equal(c.isSensitive, true);
      if (v === 0) {
        assert.equal(c.isDefault, false);
        assert.equal(c.configSource, 1); // kafkajs derives TOPIC_CONFIG (1) for a non-default topic config
      } else {
        assert.equal(c.configSource, 1);
        assert.deepEqual(c.configSynonyms, [{ configName: 'log.retention.ms', configValue: '2000', configSource: 4 }]);
      }
    },
  },
  {
    def: APIS.AlterConfigs,
    dir: 'alterConfigs',
    versions: [0, 1],
    args: () => ({
      resources: [{ type: 2, name: 't1', configEntries: [{ name: 'retention.ms', value: '1000' }, { name: 'x', value: null }] }],
      validateOnly: true,
    }),
    checkRequest: (o) =>
      assert.deepEqual(o, {
        resources: [
          {
            resourceType: 2,
            resourceName: 't1',
            configs: [
              { name: 'retention.ms', value: '1000' },
              { name: 'x', value: null },
            ],
          },
        ],
        validateOnly: true,
      }),
    response: (_v, e) => ({
      throttleTimeMs: 29,
      responses: [{ errorCode: e(40), errorMessage: 'bad', resourceType: 2, resourceName: 't1' }],
    }),
    checkResponse: (k, _v, e) => {
      assert.equal(kjsThrottle(k), 29);
      assert.deepEqual(k.resources, [{ errorCode: e(40), errorMessage: 'bad', resourceType: 2, resourceName: 't1' }]);
    },
  },
  {
    def: APIS.SaslAuthenticate,
    dir: 'saslAuthenticate',
    versions: [0, 1],
    // kafkajs passes mechanism payloads that already carry their int32 length (the BYTES encoding)
    args: () => ({ authBytes: new KjsEncoder().writeBytes(Buffer.from('\0user\0pass')).buffer }),
    checkRequest: (o) => assert.deepEqual(o, { authBytes: Buffer.from('\0user\0pass') }),
    response: (_v, e) => ({ errorCode: e(58), errorMessage: 'nope', authBytes: Buffer.from('server-first'), sessionLifetimeMs: 3600000 }),
    checkResponse: (k, v, e) => {
      assert.equal(k.errorCode, e(58));
      assert.equal(k.errorMessage, 'nope');
      assert.deepEqual(k.authBytes, new KjsEncoder().writeBytes(Buffer.from('server-first')).buffer);
      if (v >= 1) assert.equal(k.sessionLifetimeMs, '3600000');
    },
  },
  {
    def: APIS.CreatePartitions,
    dir: 'createPartitions',
    versions: [0, 1],
    args: () => ({
      topicPartitions: [{ topic: 't1', count: 6, assignments: [[1, 2], [2, 3]] }],
      validateOnly: true,
      timeout: 4000,
    }),
    checkRequest: (o) =>
      assert.deepEqual(o, {
        topics: [{ name: 't1', count: 6, assignments: [{ brokerIds: [1, 2] }, { brokerIds: [2, 3] }] }],
        timeoutMs: 4000,
        validateOnly: true,
      }),
    response: (_v, e) => ({ throttleTimeMs: 31, results: [{ name: 't1', errorCode: e(37), errorMessage: 'too few' }] }),
    checkResponse: (k, _v, e) => {
      assert.equal(kjsThrottle(k), 31);
      assert.deepEqual(k.topicErrors, [{ topic: 't1', errorCode: e(37), errorMessage: 'too few' }]);
    },
  },
  {
    def: APIS.DeleteGroups,
    dir: 'deleteGroups',
    versions: [0, 1],
    args: () => ['g1', 'g2'],
    checkRequest: (o) => assert.deepEqual(o, { groupsNames: ['g1', 'g2'] }),
    response: (_v, e) => ({
      throttleTimeMs: 37,
      results: [
        { groupId: 'g1', errorCode: 0 },
        { groupId: 'g2', errorCode: e(69) },
      ],
    }),
    checkResponse: (k, _v, e) => {
      assert.equal(k.throttleTimeMs, 37); // kafkajs v1 copies this field, its throttleTime is not set
      assert.deepEqual(
        k.results.map((r: Any) => ({ groupId: r.groupId, errorCode: r.errorCode })),
        [
          { groupId: 'g1', errorCode: 0 },
          { groupId: 'g2', errorCode: e(69) },
        ],
      );
    },
  },
  {
    def: APIS.AlterPartitionReassignments,
    dir: 'alterPartitionReassignments',
    versions: [0],
    flexibleHeaderHack: true,
    args: () => ({ topics: [{ topic: 't1', partitionAssignment: [{ partition: 0, replicas: [1, 2, 3] }] }], timeout: 4000 }),
    checkRequest: (o) =>
      assert.deepEqual(o, {
        timeoutMs: 4000,
        topics: [{ name: 't1', partitions: [{ partitionIndex: 0, replicas: [1, 2, 3] }] }],
      }),
    response: (_v, e) => ({
      throttleTimeMs: 41,
      errorCode: e(41),
      errorMessage: null,
      responses: [{ name: 't1', partitions: [{ partitionIndex: 0, errorCode: e(39), errorMessage: 'bad replicas' }] }],
    }),
    checkResponse: (k, _v, e) => {
      assert.equal(k.throttleTime, 41);
      assert.equal(k.errorCode, e(41));
      assert.deepEqual(k.responses, [{ topic: 't1', partitions: [{ partition: 0, errorCode: e(39) }] }]);
    },
  },
  {
    def: APIS.ListPartitionReassignments,
    dir: 'listPartitionReassignments',
    versions: [0],
    flexibleHeaderHack: true,
    args: () => ({ topics: [{ topic: 't1', partitions: [0, 1] }], timeout: 4000 }),
    checkRequest: (o) =>
      assert.deepEqual(o, { timeoutMs: 4000, topics: [{ name: 't1', partitionIndexes: [0, 1] }] }),
    response: (_v, e) => ({
      throttleTimeMs: 43,
      errorCode: e(41),
      errorMessage: 'm',
      topics: [
        { name: 't1', partitions: [{ partitionIndex: 1, replicas: [1, 2, 3], addingReplicas: [3], removingReplicas: [4] }] },
      ],
    }),
    checkResponse: (k, _v, e) => {
      assert.equal(k.throttleTime, 43);
      assert.equal(k.errorCode, e(41));
      assert.deepEqual(k.topics, [
        { name: 't1', partitions: [{ partition: 1, replicas: [1, 2, 3], addingReplicas: [3], removingReplicas: [4] }] },
      ]);
    },
  },
];

describe('golden: kafkajs 2.2.4 encoders and decoders', () => {
  for (const c of kjsCases) {
    test(`${c.def.key} ${c.def.name} v${c.versions.join(',')}`, async () => {
      for (const v of c.versions) {
        assert.ok(v >= c.def.minVersion && v <= c.def.maxVersion, `${c.def.name} v${v} outside our range`);

        // request: kafkajs encodes, we decode
        const req = kjsRequest(c.dir, v)(c.args(v));
        assert.equal(req.apiKey, c.def.key);
        assert.equal(req.apiVersion, v);
        let body: Buffer = (await req.encode()).buffer;
        if (c.flexibleHeaderHack) {
          assert.equal(body[0], 0, 'kafkajs writes the header-v2 tag section first');
          body = body.subarray(1);
        }
        c.checkRequest(decReq(c.def, v, body), v);

        // response: we encode, kafkajs decodes (and parses, with zero error codes)
        const { decode, parse } = kjsResponse(c.dir, v, c.args(v));
        const prefix = c.flexibleHeaderHack ? Buffer.from([0]) : Buffer.alloc(0); // response header v1 tag byte
        const withErrors: Err = (code) => code;
        const noErrors: Err = () => 0;
        const decodedWithErrors = await decode(Buffer.concat([prefix, encRes(c.def, v, c.response(v, withErrors))]));
        c.checkResponse(decodedWithErrors, v, withErrors);
        const parsed = await parse(await decode(Buffer.concat([prefix, encRes(c.def, v, c.response(v, noErrors))])));
        c.checkResponse(parsed, v, noErrors);
      }
    });
  }

  test('every non-flexible version kafkajs implements for our APIs is covered', () => {
    const fs = nodeRequire('node:fs') as typeof import('node:fs');
    const path = nodeRequire('node:path') as typeof import('node:path');
    const root = path.dirname(nodeRequire.resolve('kafkajs/src/protocol/requests/index.js'));
    for (const c of kjsCases) {
      const kjsVersions = fs
        .readdirSync(path.join(root, c.dir))
        .filter((d) => /^v\d+$/.test(d))
        .map((d) => Number(d.slice(1)))
        .filter((v) => v >= c.def.minVersion && v <= c.def.maxVersion)
        .sort((a, b) => a - b);
      assert.deepEqual(c.versions, kjsVersions, c.dir);
    }
  });
});

// ---- 2b. @platformatic/kafka golden cross-checks (flexible versions) -------------------------------------

// Only empty tag sections are sent to it: its Reader.readTaggedFields reads the section as a zig-zag byte count
// to skip instead of (count, tag, size, bytes) entries, so it cannot parse a response carrying tagged fields.
let plt: Any = null;
let pltError: unknown = null;
try {
  plt = nodeRequire('@platformatic/kafka'); // an ES module: needs require(esm), Node >= 20.19
} catch (err) {
  pltError = err;
}

const dashed = (b64url: string) =>
  Buffer.from(b64url, 'base64url')
    .toString('hex')
    .replace(/(.{8})(.{4})(.{4})(.{4})(.{12})/, '$1-$2-$3-$4-$5');

/** Runs platformatic's parseResponse on our encoded body (it receives the body after the response header). */
function pltParse(mod: Any, def: AnyApi, v: number, body: Buffer): Any {
  return mod.parseResponse(1, def.key, v, plt.Reader.from(body));
}

/** A record batch encoded by @platformatic/kafka (from its Produce v9 request), reused in the Fetch v12 test. */
let platformaticBatch: Buffer | null = null;

describe('golden: @platformatic/kafka 1.35 flexible versions', { skip: plt ? false : `cannot load: ${String(pltError)}` }, () => {
  test('Produce v9, v10, v11', () => {
    for (const v of [9, 10, 11]) {
      const mod = plt[`produceV${v}`];
      const body: Buffer = mod.createRequest(
        -1,
        30000,
        [{ topic: 'topic-a', partition: 3, key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: 1700000000000n }],
        { transactionalId: 'tx-1' },
      ).buffer;
      const o = decReq(APIS.Produce, v, body);
      assert.equal(o.transactionalId, 'tx-1');
      assert.equal(o.acks, -1);
      assert.equal(o.timeoutMs, 30000);
      assert.equal(o.topicData[0].name, 'topic-a');
      assert.equal(o.topicData[0].partitionData[0].index, 3);
      const records: Buffer = o.topicData[0].partitionData[0].records;
      assert.equal(records[16], 2);
      platformaticBatch = Buffer.from(records);

      const res = pltParse(
        mod,
        APIS.Produce,
        v,
        encRes(APIS.Produce, v, {
          responses: [
            {
              name: 'topic-a',
              partitionResponses: [
                {
                  index: 3,
                  errorCode: 0,
                  baseOffset: 1234567890123,
                  logAppendTimeMs: -1,
                  logStartOffset: 42,
                  recordErrors: [{ batchIndex: 4, batchIndexErrorMessage: null }],
                  errorMessage: null,
                },
              ],
            },
          ],
          throttleTimeMs: 17,
        }),
      );
      assert.equal(res.throttleTimeMs, 17);
      assert.deepEqual(res.responses, [
        {
          name: 'topic-a',
          partitionResponses: [
            {
              index: 3,
              errorCode: 0,
              baseOffset: 1234567890123n,
              logAppendTimeMs: -1n,
              logStartOffset: 42n,
              recordErrors: [{ batchIndex: 4, batchIndexErrorMessage: null }],
              errorMessage: null,
            },
          ],
        },
      ]);
    }
  });

  test('Fetch v12', () => {
    const mod = plt.fetchV12;
    const body: Buffer = mod.createRequest(
      500,
      1,
      1048576,
      1,
      0,
      -1,
      [{ topicId: 'topic-a', partitions: [{ partition: 2, currentLeaderEpoch: 9, fetchOffset: 123n, lastFetchedEpoch: 8, partitionMaxBytes: 65536 }] }],
      [],
      'rack-x',
    ).buffer;
    assert.deepEqual(decReq(APIS.Fetch, 12, body), {
      clusterId: null,
      replicaId: -1,
      replicaState: { replicaId: -1, replicaEpoch: -1 },
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 1048576,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: 'topic-a',
          topicId: S.ZERO_UUID,
          partitions: [
            { partition: 2, currentLeaderEpoch: 9, fetchOffset: 123, lastFetchedEpoch: 8, logStartOffset: -1, partitionMaxBytes: 65536, replicaDirectoryId: S.ZERO_UUID },
          ],
        },
      ],
      forgottenTopicsData: [],
      rackId: 'rack-x',
    });

    assert.ok(platformaticBatch, 'the Produce test supplies a batch');
    const res = pltParse(
      mod,
      APIS.Fetch,
      12,
      encRes(APIS.Fetch, 12, {
        throttleTimeMs: 11,
        errorCode: 0,
        sessionId: 0,
        responses: [
          {
            topic: 'topic-a',
            partitions: [
              {
                partitionIndex: 2,
                errorCode: 0,
                highWatermark: 1001,
                lastStableOffset: 1000,
                logStartOffset: 5,
                abortedTransactions: [{ producerId: 4242, firstOffset: 33 }],
                preferredReadReplica: -1,
                records: platformaticBatch,
              },
            ],
          },
        ],
      }),
    );
    assert.equal(res.throttleTimeMs, 11);
    assert.equal(res.errorCode, 0);
    assert.equal(res.sessionId, 0);
    const p = res.responses[0].partitions[0];
    assert.equal(res.responses[0].topicId, 'topic-a'); // platformatic names the v12 topic name field topicId
    assert.equal(p.partitionIndex, 2);
    assert.equal(p.highWatermark, 1001n);
    assert.equal(p.lastStableOffset, 1000n);
    assert.equal(p.logStartOffset, 5n);
    assert.deepEqual(p.abortedTransactions, [{ producerId: 4242n, firstOffset: 33n }]);
    assert.equal(p.preferredReadReplica, -1);
    const record = p.records[0].records[0];
    assert.deepEqual(record.key, Buffer.from('k1'));
    assert.deepEqual(record.value, Buffer.from('v1'));
  });

  test('Metadata v12', () => {
    const mod = plt.metadataV12;
    assert.deepEqual(decReq(APIS.Metadata, 12, mod.createRequest(['topic-a', 'topic-b'], true, true).buffer), {
      topics: [
        { topicId: S.ZERO_UUID, name: 'topic-a' },
        { topicId: S.ZERO_UUID, name: 'topic-b' },
      ],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: true,
    });
    const res = pltParse(
      mod,
      APIS.Metadata,
      12,
      encRes(APIS.Metadata, 12, {
        throttleTimeMs: 21,
        brokers: [
          { nodeId: 1, host: 'h1', port: 9092, rack: 'r1' },
          { nodeId: 2, host: 'h2', port: 9093, rack: null },
        ],
        clusterId: 'cluster-1',
        controllerId: 2,
        topics: [
          {
            errorCode: 0,
            name: 'topic-a',
            topicId: TOPIC_ID,
            isInternal: false,
            partitions: [
              { errorCode: 0, partitionIndex: 1, leaderId: 2, leaderEpoch: 7, replicaNodes: [2, 1], isrNodes: [2], offlineReplicas: [1] },
            ],
            topicAuthorizedOperations: 248,
          },
        ],
      }),
    );
    assert.deepEqual(res, {
      throttleTimeMs: 21,
      brokers: [
        { nodeId: 1, host: 'h1', port: 9092, rack: 'r1' },
        { nodeId: 2, host: 'h2', port: 9093, rack: null },
      ],
      clusterId: 'cluster-1',
      controllerId: 2,
      topics: [
        {
          errorCode: 0,
          name: 'topic-a',
          topicId: dashed(TOPIC_ID),
          isInternal: false,
          partitions: [
            { errorCode: 0, partitionIndex: 1, leaderId: 2, leaderEpoch: 7, replicaNodes: [2, 1], isrNodes: [2], offlineReplicas: [1] },
          ],
          topicAuthorizedOperations: 248,
        },
      ],
    });
  });

  test('JoinGroup v9', () => {
    const mod = plt.joinGroupV9;
    const body: Buffer = mod.createRequest('g1', 30000, 60000, 'm1', 'i1', 'consumer', [{ name: 'range', metadata: Buffer.from('meta') }], 'because').buffer;
    assert.deepEqual(decReq(APIS.JoinGroup, 9, body), {
      groupId: 'g1',
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: 60000,
      memberId: 'm1',
      groupInstanceId: 'i1',
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from('meta') }],
      reason: 'because',
    });
    const res = pltParse(
      mod,
      APIS.JoinGroup,
      9,
      encRes(APIS.JoinGroup, 9, {
        throttleTimeMs: 3,
        errorCode: 0,
        generationId: 11,
        protocolType: 'consumer',
        protocolName: 'range',
        leader: 'm0',
        skipAssignment: true,
        memberId: 'm1',
        members: [{ memberId: 'm0', groupInstanceId: 'i0', metadata: Buffer.from('x') }],
      }),
    );
    assert.deepEqual(res, {
      throttleTimeMs: 3,
      errorCode: 0,
      generationId: 11,
      protocolType: 'consumer',
      protocolName: 'range',
      leader: 'm0',
      skipAssignment: true,
      memberId: 'm1',
      members: [{ memberId: 'm0', groupInstanceId: 'i0', metadata: Buffer.from('x') }],
    });
  });

  test('SyncGroup v5', () => {
    const mod = plt.syncGroupV5;
    const body: Buffer = mod.createRequest('g1', 7, 'm1', 'i1', 'consumer', 'range', [{ memberId: 'm1', assignment: Buffer.from('a1') }]).buffer;
    assert.deepEqual(decReq(APIS.SyncGroup, 5, body), {
      groupId: 'g1',
      generationId: 7,
      memberId: 'm1',
      groupInstanceId: 'i1',
      protocolType: 'consumer',
      protocolName: 'range',
      assignments: [{ memberId: 'm1', assignment: Buffer.from('a1') }],
    });
    const res = pltParse(
      mod,
      APIS.SyncGroup,
      5,
      encRes(APIS.SyncGroup, 5, { throttleTimeMs: 2, errorCode: 0, protocolType: 'consumer', protocolName: 'range', assignment: Buffer.from('assigned') }),
    );
    assert.deepEqual(res, { throttleTimeMs: 2, errorCode: 0, protocolType: 'consumer', protocolName: 'range', assignment: Buffer.from('assigned') });
  });

  test('OffsetCommit v9', () => {
    const mod = plt.offsetCommitV9;
    const body: Buffer = mod.createRequest('g1', 5, 'm1', 'i1', [
      { name: 'topic-a', partitions: [{ partitionIndex: 1, committedOffset: 100n, committedLeaderEpoch: 4, committedMetadata: 'meta' }] },
    ]).buffer;
    assert.deepEqual(decReq(APIS.OffsetCommit, 9, body), {
      groupId: 'g1',
      generationIdOrMemberEpoch: 5,
      memberId: 'm1',
      groupInstanceId: 'i1',
      retentionTimeMs: -1,
      topics: [
        {
          name: 'topic-a',
          partitions: [{ partitionIndex: 1, committedOffset: 100, committedLeaderEpoch: 4, commitTimestamp: -1, committedMetadata: 'meta' }],
        },
      ],
    });
    const res = pltParse(
      mod,
      APIS.OffsetCommit,
      9,
      encRes(APIS.OffsetCommit, 9, { throttleTimeMs: 9, topics: [{ name: 'topic-a', partitions: [{ partitionIndex: 1, errorCode: 0 }] }] }),
    );
    assert.deepEqual(res, { throttleTimeMs: 9, topics: [{ name: 'topic-a', partitions: [{ partitionIndex: 1, errorCode: 0 }] }] });
  });

  test('OffsetFetch v9', () => {
    const mod = plt.offsetFetchV9;
    const body: Buffer = mod.createRequest([{ groupId: 'g1', memberId: 'm1', memberEpoch: 3, topics: [{ name: 'topic-a', partitionIndexes: [0, 1] }] }], true).buffer;
    assert.deepEqual(decReq(APIS.OffsetFetch, 9, body), {
      groupId: '',
      topics: null,
      groups: [{ groupId: 'g1', memberId: 'm1', memberEpoch: 3, topics: [{ name: 'topic-a', partitionIndexes: [0, 1] }] }],
      requireStable: true,
    });
    const res = pltParse(
      mod,
      APIS.OffsetFetch,
      9,
      encRes(APIS.OffsetFetch, 9, {
        throttleTimeMs: 8,
        groups: [
          {
            groupId: 'g1',
            topics: [
              { name: 'topic-a', partitions: [{ partitionIndex: 0, committedOffset: 12345, committedLeaderEpoch: 4, metadata: 'meta', errorCode: 0 }] },
            ],
            errorCode: 0,
          },
        ],
      }),
    );
    assert.deepEqual(res, {
      throttleTimeMs: 8,
      groups: [
        {
          groupId: 'g1',
          topics: [
            { name: 'topic-a', partitions: [{ partitionIndex: 0, committedOffset: 12345n, committedLeaderEpoch: 4, metadata: 'meta', errorCode: 0 }] },
          ],
          errorCode: 0,
        },
      ],
    });
  });

  test('FindCoordinator v6', () => {
    const mod = plt.findCoordinatorV6;
    assert.deepEqual(decReq(APIS.FindCoordinator, 6, mod.createRequest(1, ['txn-1', 'txn-2']).buffer), {
      key: '',
      keyType: 1,
      coordinatorKeys: ['txn-1', 'txn-2'],
    });
    const coordinators = [
      { key: 'txn-1', nodeId: 2, host: 'h2', port: 9093, errorCode: 0, errorMessage: null },
      { key: 'txn-2', nodeId: 3, host: 'h3', port: 9094, errorCode: 0, errorMessage: null },
    ];
    const res = pltParse(mod, APIS.FindCoordinator, 6, encRes(APIS.FindCoordinator, 6, { throttleTimeMs: 5, coordinators }));
    assert.deepEqual(res, { throttleTimeMs: 5, coordinators });
  });

  test('ApiVersions v3', () => {
    const mod = plt.apiVersionsV3;
    assert.deepEqual(decReq(APIS.ApiVersions, 3, mod.createRequest('minikafka-test', '1.0.0').buffer), {
      clientSoftwareName: 'minikafka-test',
      clientSoftwareVersion: '1.0.0',
    });
    const res = pltParse(
      mod,
      APIS.ApiVersions,
      3,
      encRes(APIS.ApiVersions, 3, {
        errorCode: 0,
        apiKeys: [
          { apiKey: 0, minVersion: 0, maxVersion: 11 },
          { apiKey: 18, minVersion: 0, maxVersion: 4 },
        ],
        throttleTimeMs: 7,
      }),
    );
    assert.equal(res.errorCode, 0);
    assert.equal(res.throttleTimeMs, 7);
    assert.deepEqual(
      res.apiKeys.map((k: Any) => [k.apiKey, k.minVersion, k.maxVersion]),
      [
        [0, 0, 11],
        [18, 0, 4],
      ],
    );
  });

  test('CreateTopics v7', () => {
    const mod = plt.createTopicsV7;
    const body: Buffer = mod.createRequest(
      [
        {
          name: 't1',
          numPartitions: 3,
          replicationFactor: 2,
          assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
          configs: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
      4000,
      true,
    ).buffer;
    assert.deepEqual(decReq(APIS.CreateTopics, 7, body), {
      topics: [
        {
          name: 't1',
          numPartitions: 3,
          replicationFactor: 2,
          assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }],
          configs: [{ name: 'cleanup.policy', value: 'compact' }],
        },
      ],
      timeoutMs: 4000,
      validateOnly: true,
    });
    const configs = [{ name: 'cleanup.policy', value: 'compact', readOnly: false, configSource: 1, isSensitive: false }];
    const res = pltParse(
      mod,
      APIS.CreateTopics,
      7,
      encRes(APIS.CreateTopics, 7, {
        throttleTimeMs: 12,
        topics: [{ name: 't1', topicId: TOPIC_ID, errorCode: 0, errorMessage: null, topicConfigErrorCode: 0, numPartitions: 3, replicationFactor: 2, configs }],
      }),
    );
    assert.deepEqual(res, {
      throttleTimeMs: 12,
      topics: [{ name: 't1', topicId: dashed(TOPIC_ID), errorCode: 0, errorMessage: null, numPartitions: 3, replicationFactor: 2, configs }],
    });
  });

  test('DescribeConfigs v4', () => {
    const mod = plt.describeConfigsV4;
    const body: Buffer = mod.createRequest([{ resourceType: 2, resourceName: 't1', configurationKeys: ['retention.ms'] }], true, true).buffer;
    assert.deepEqual(decReq(APIS.DescribeConfigs, 4, body), {
      resources: [{ resourceType: 2, resourceName: 't1', configurationKeys: ['retention.ms'] }],
      includeSynonyms: true,
      includeDocumentation: true,
    });
    const config = {
      name: 'retention.ms',
      value: '1000',
      readOnly: true,
      configSource: 1,
      isSensitive: false,
      synonyms: [{ name: 'log.retention.ms', value: '2000', source: 4 }],
      configType: 5,
      documentation: 'how long',
    };
    const res = pltParse(
      mod,
      APIS.DescribeConfigs,
      4,
      encRes(APIS.DescribeConfigs, 4, {
        throttleTimeMs: 23,
        results: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't1', configs: [{ ...config, isDefault: false }] }],
      }),
    );
    assert.deepEqual(res, {
      throttleTimeMs: 23,
      results: [{ errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't1', configs: [config] }],
    });
  });
});

/**
 * Breadth: every other flexible (and a few classic) version platformatic implements for our APIs. Requests are
 * built from a generated value of ours; responses are generated values (with known error codes and default
 * tagged fields) parsed by platformatic and compared field by field, by name, for every field present in the
 * version (`renames` maps our name to platformatic's where they differ).
 */
interface PltCase {
  mod: string;
  def: AnyApi;
  v: number;
  /** platformatic createRequest arguments made from our generated request value */
  args?: (o: Any) => Any[];
  /** adjusts our expectation of the decoded request for fields platformatic writes as constants */
  fixRequest?: (expected: Any) => void;
  renames?: Record<string, string>;
  /** our fields platformatic does not read (trailing ones it ignores) */
  ignore?: string[];
}

const big = (n: number) => BigInt(n);
const pltCases: PltCase[] = [
  { mod: 'heartbeatV4', def: APIS.Heartbeat, v: 4, args: (o) => [o.groupId, o.generationId, o.memberId, o.groupInstanceId] },
  ...[4, 5].map((v) => ({ mod: `leaveGroupV${v}`, def: APIS.LeaveGroup, v, args: (o: Any) => [o.groupId, o.members] })),
  { mod: 'describeGroupsV5', def: APIS.DescribeGroups, v: 5, args: (o) => [o.groups, o.includeAuthorizedOperations] },
  ...[4, 5].map((v) => ({
    mod: `listGroupsV${v}`,
    def: APIS.ListGroups,
    v,
    args: () => [['Stable', 'Empty'], ['classic']],
    fixRequest: (e: Any) => {
      e.statesFilter = ['Stable', 'Empty'];
      e.typesFilter = v >= 5 ? ['classic'] : [];
    },
  })),
  {
    mod: 'deleteTopicsV6',
    def: APIS.DeleteTopics,
    v: 6,
    args: (o) => [o.topics.map((t: Any) => ({ name: t.name, topicId: dashed(t.topicId) })), o.timeoutMs],
  },
  {
    mod: 'deleteRecordsV2',
    def: APIS.DeleteRecords,
    v: 2,
    args: (o) => [
      o.topics.map((t: Any) => ({ name: t.name, partitions: t.partitions.map((p: Any) => ({ ...p, offset: big(p.offset) })) })),
      o.timeoutMs,
    ],
  },
  ...[3, 4].map((v) => ({
    mod: `initProducerIdV${v}`,
    def: APIS.InitProducerId,
    v,
    args: (o: Any) => [o.transactionalId, o.transactionTimeoutMs, big(o.producerId), o.producerEpoch],
  })),
  {
    mod: 'offsetForLeaderEpochV4',
    def: APIS.OffsetForLeaderEpoch,
    v: 4,
    args: (o) => [
      o.replicaId,
      o.topics.map((t: Any) => ({
        name: t.topic,
        partitions: t.partitions.map((p: Any) => ({ partitionIndex: p.partition, currentLeaderEpoch: p.currentLeaderEpoch, leaderEpoch: p.leaderEpoch })),
      })),
    ],
    // no response check: platformatic reads Partition before ErrorCode, Kafka's JSON (and franz-go) have ErrorCode first
  },
  {
    mod: 'addPartitionsToTxnV3',
    def: APIS.AddPartitionsToTxn,
    v: 3,
    args: (o) => [[{ transactionalId: o.transactionalId, producerId: big(o.producerId), producerEpoch: o.producerEpoch, topics: o.topics }]],
  },
  {
    mod: 'addPartitionsToTxnV4',
    def: APIS.AddPartitionsToTxn,
    v: 4,
    args: (o) => [o.transactions.map((t: Any) => ({ ...t, producerId: big(t.producerId) }))],
  },
  { mod: 'addOffsetsToTxnV3', def: APIS.AddOffsetsToTxn, v: 3, args: (o) => [o.transactionalId, big(o.producerId), o.producerEpoch, o.groupId] },
  { mod: 'endTxnV3', def: APIS.EndTxn, v: 3, args: (o) => [o.transactionalId, big(o.producerId), o.producerEpoch, o.committed] },
  {
    mod: 'txnOffsetCommitV3',
    def: APIS.TxnOffsetCommit,
    v: 3,
    args: (o) => [
      o.transactionalId,
      o.groupId,
      big(o.producerId),
      o.producerEpoch,
      o.generationId,
      o.memberId,
      o.groupInstanceId,
      o.topics.map((t: Any) => ({ name: t.name, partitions: t.partitions.map((p: Any) => ({ ...p, committedOffset: big(p.committedOffset) })) })),
    ],
  },
  { mod: 'describeProducersV0', def: APIS.DescribeProducers, v: 0, args: (o) => [o.topics] },
  { mod: 'describeTransactionsV0', def: APIS.DescribeTransactions, v: 0, args: (o) => [o.transactionalIds] },
  { mod: 'listTransactionsV0', def: APIS.ListTransactions, v: 0, args: (o) => [o.stateFilters, o.producerIdFilters.map(big)] },
  { mod: 'alterConfigsV2', def: APIS.AlterConfigs, v: 2, args: (o) => [o.resources, o.validateOnly] },
  ...[1, 2, 3].map((v) => ({ mod: `createPartitionsV${v}`, def: APIS.CreatePartitions, v, args: (o: Any) => [o.topics, o.timeoutMs, o.validateOnly] })),
  { mod: 'deleteGroupsV2', def: APIS.DeleteGroups, v: 2, args: (o) => [o.groupsNames] },
  { mod: 'incrementalAlterConfigsV1', def: APIS.IncrementalAlterConfigs, v: 1, args: (o) => [o.resources, o.validateOnly] },
  ...[0, 1].map((v) => ({
    mod: `describeClusterV${v}`,
    def: APIS.DescribeCluster,
    v,
    args: (o: Any) => [o.includeClusterAuthorizedOperations, o.endpointType],
  })),
  { mod: 'alterPartitionReassignmentsV0', def: APIS.AlterPartitionReassignments, v: 0, args: (o) => [o.timeoutMs, true, o.topics] },
  { mod: 'listPartitionReassignmentsV0', def: APIS.ListPartitionReassignments, v: 0, args: (o) => [o.timeoutMs, o.topics] },
  { mod: 'saslHandshakeV1', def: APIS.SaslHandshake, v: 1, args: (o) => [o.mechanism] },
  { mod: 'saslAuthenticateV2', def: APIS.SaslAuthenticate, v: 2, args: (o) => [o.authBytes] },
  { mod: 'offsetDeleteV0', def: APIS.OffsetDelete, v: 0, args: (o) => [o.groupId, o.topics] },
  ...[6, 7, 8].map((v) => ({
    mod: `joinGroupV${v}`,
    def: APIS.JoinGroup,
    v,
    args: (o: Any) => [o.groupId, o.sessionTimeoutMs, o.rebalanceTimeoutMs, o.memberId, o.groupInstanceId, o.protocolType, o.protocols, o.reason],
  })),
  {
    mod: 'syncGroupV4',
    def: APIS.SyncGroup,
    v: 4,
    args: (o) => [o.groupId, o.generationId, o.memberId, o.groupInstanceId, o.protocolType, o.protocolName, o.assignments],
  },
  {
    mod: 'offsetCommitV8',
    def: APIS.OffsetCommit,
    v: 8,
    args: (o) => [
      o.groupId,
      o.generationIdOrMemberEpoch,
      o.memberId,
      o.groupInstanceId,
      o.topics.map((t: Any) => ({ name: t.name, partitions: t.partitions.map((p: Any) => ({ ...p, committedOffset: big(p.committedOffset) })) })),
    ],
  },
  { mod: 'offsetFetchV8', def: APIS.OffsetFetch, v: 8, args: (o) => [o.groups, o.requireStable] },
  ...[4, 5].map((v) => ({ mod: `findCoordinatorV${v}`, def: APIS.FindCoordinator, v, args: (o: Any) => [o.keyType, o.coordinatorKeys] })),
  { mod: 'apiVersionsV4', def: APIS.ApiVersions, v: 4, args: (o) => [o.clientSoftwareName, o.clientSoftwareVersion] },
  ...[9, 10, 11].map((v) => ({
    mod: `metadataV${v}`,
    def: APIS.Metadata,
    v,
    // v11 left out: platformatic still writes IncludeClusterAuthorizedOperations there (8-10 in Kafka's JSON);
    // it sends v12 (correct) to a broker advertising 12.
    args: v === 11 ? undefined : (o: Any) => [o.topics.map((t: Any) => t.name), o.allowAutoTopicCreation, o.includeTopicAuthorizedOperations],
    fixRequest: (e: Any) => {
      for (const t of e.topics) t.topicId = S.ZERO_UUID; // platformatic sends no topic ids
      e.includeClusterAuthorizedOperations = false; // and always false here
    },
    ignore: ['clusterAuthorizedOperations'], // trailing v8-10 field platformatic does not read
  })),
  // DescribeConfigs v2 is left out: platformatic writes IncludeDocumentation there, a v3+ field (one byte too many)
  { mod: 'describeConfigsV3', def: APIS.DescribeConfigs, v: 3, args: (o) => [o.resources, o.includeSynonyms, o.includeDocumentation] },
  ...[5, 6, 7].map((v) => ({
    mod: `listOffsetsV${v}`,
    def: APIS.ListOffsets,
    v,
    args: (o: Any) => [
      o.replicaId,
      o.isolationLevel,
      o.topics.map((t: Any) => ({ name: t.name, partitions: t.partitions.map((p: Any) => ({ ...p, timestamp: big(p.timestamp) })) })),
    ],
  })),
];

/** Gives every errorCode field a distinct code platformatic knows, and every tagged field its default. */
function pltFriendly(type: S.Type<Any>, value: Any, codes: { n: number }): Any {
  const fields = S.structFields(type);
  if (fields) {
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      if (f.tag !== undefined) out[f.name] = deepClone(f.dflt);
      else if (f.name === 'errorCode') out[f.name] = 1 + (codes.n++ % 40);
      else out[f.name] = pltFriendly(f.type, value[f.name], codes);
    }
    return out;
  }
  const item = S.arrayItem(type);
  if (item) return value === null ? null : (value as Any[]).map((e) => pltFriendly(item, e, codes));
  return value;
}

/** Compares every untagged field present in `version` with platformatic's parsed value of the same name. */
function comparePlt(
  type: S.Type<Any>,
  ours: Any,
  theirs: Any,
  version: number,
  renames: Record<string, string>,
  ignore: string[],
  path: string,
): void {
  const fields = S.structFields(type);
  if (fields) {
    assert.ok(theirs !== null && typeof theirs === 'object', `${path}: expected an object`);
    for (const f of fields) {
      if (version < f.min || version > f.max || f.tag !== undefined || ignore.includes(f.name)) continue;
      const key = renames[f.name] ?? f.name;
      assert.ok(key in theirs, `${path}.${f.name}: platformatic has no field ${key}`);
      comparePlt(f.type, ours[f.name], theirs[key], version, renames, ignore, `${path}.${f.name}`);
    }
    return;
  }
  const item = S.arrayItem(type);
  if (item) {
    if (ours === null) return assert.ok(theirs === null || (Array.isArray(theirs) && theirs.length === 0), path);
    assert.equal(theirs.length, ours.length, `${path}: length`);
    ours.forEach((e: Any, i: number) => comparePlt(item, e, theirs[i], version, renames, ignore, `${path}[${i}]`));
    return;
  }
  if (type === S.uuid) return assert.equal(theirs, dashed(ours), path);
  if (typeof theirs === 'bigint') return assert.equal(theirs, BigInt(ours), path);
  assert.deepStrictEqual(theirs, ours, path);
}

describe('golden: @platformatic/kafka breadth (generated values)', { skip: plt ? false : `cannot load: ${String(pltError)}` }, () => {
  for (const c of pltCases) {
    test(`${c.def.key} ${c.def.name} v${c.v} (${c.mod})`, () => {
      const mod = plt[c.mod];
      assert.ok(mod, `platformatic exports ${c.mod}`);
      const ctx = S.ctxFor(c.def, c.v);
      if (c.args) {
        const o = expectedAt(c.def.request, generate(c.def.request, 'full', undefined, { n: 0 }), c.v, ctx.flexible);
        const body: Buffer = mod.createRequest(...c.args(o)).buffer;
        const expected = deepClone(o) as Any;
        c.fixRequest?.(expected);
        assert.deepStrictEqual(decReq(c.def, c.v, body), expected);
      }
      // addPartitionsToTxnV3 parses v3 into its v4+ shape (results by transaction): checked on its own below.
      if (c.mod === 'offsetForLeaderEpochV4' || c.mod.startsWith('addPartitionsToTxnV')) return;
      const res = pltFriendly(c.def.response, expectedAt(c.def.response, generate(c.def.response, 'full', undefined, { n: 100 }), c.v, ctx.flexible), { n: 0 });
      let parsed: Any;
      try {
        parsed = mod.parseResponse(1, c.def.key, c.v, plt.Reader.from(encRes(c.def, c.v, res)));
      } catch (err) {
        parsed = (err as Any).response; // a ResponseError still carries the parsed response
        assert.ok(parsed, String(err));
      }
      comparePlt(c.def.response, res, parsed, c.v, c.renames ?? {}, c.ignore ?? [], c.def.name);
    });
  }
});

describe('golden: @platformatic/kafka AddPartitionsToTxn v3/v4 responses', { skip: plt ? false : `cannot load: ${String(pltError)}` }, () => {
  test('our v3 response parses into its results by transaction', () => {
    const res = {
      throttleTimeMs: 7,
      results: [
        { name: 't1', results: [{ partitionIndex: 0, partitionErrorCode: 0 }, { partitionIndex: 3, partitionErrorCode: 0 }] },
        { name: 't2', results: [{ partitionIndex: 1, partitionErrorCode: 0 }] },
      ],
    };
    const parsed = plt.addPartitionsToTxnV3.parseResponse(1, 24, 3, plt.Reader.from(encRes(APIS.AddPartitionsToTxn, 3, res)));
    assert.equal(parsed.throttleTimeMs, 7);
    assert.deepEqual(
      parsed.resultsByTransaction[0].topicResults.map((t: Any) => ({ name: t.name, results: t.resultsByPartition })),
      res.results,
    );
    const v4 = {
      throttleTimeMs: 8,
      errorCode: 0,
      resultsByTransaction: [{ transactionalId: 'tx-9', topicResults: [{ name: 't1', results: [{ partitionIndex: 2, partitionErrorCode: 0 }] }] }],
    };
    const parsed4 = plt.addPartitionsToTxnV4.parseResponse(1, 24, 4, plt.Reader.from(encRes(APIS.AddPartitionsToTxn, 4, v4)));
    assert.equal(parsed4.throttleTimeMs, 8);
    assert.equal(parsed4.resultsByTransaction[0].transactionalId, 'tx-9');
    assert.deepEqual(parsed4.resultsByTransaction[0].topicResults[0].resultsByPartition, [{ partitionIndex: 2, partitionErrorCode: 0 }]);
    // A partition error comes back as platformatic's ResponseError carrying the same parsed response.
    const failing = { throttleTimeMs: 0, results: [{ name: 't1', results: [{ partitionIndex: 0, partitionErrorCode: 51 }] }] };
    assert.throws(
      () => plt.addPartitionsToTxnV3.parseResponse(1, 24, 3, plt.Reader.from(encRes(APIS.AddPartitionsToTxn, 3, failing))),
      (err: Any) => err.response.resultsByTransaction[0].topicResults[0].resultsByPartition[0].partitionErrorCode === 51,
    );
  });
});

// ---- 2c. hand-assembled bytes for layouts no installed client implements ---------------------------------
// ElectLeaders and the OffsetForLeaderEpoch response exist in neither kafkajs nor (correctly) platformatic, so
// their wire layouts are written out here byte by byte from Kafka's JSON descriptors.

const B = {
  i8: (n: number) => Buffer.from([n & 0xff]),
  i16: (n: number) => {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    return b;
  },
  i32: (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  },
  i64: (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(n));
    return b;
  },
  str: (s: string | null) => (s === null ? B.i16(-1) : Buffer.concat([B.i16(Buffer.byteLength(s)), Buffer.from(s)])),
  cstr: (s: string | null) => (s === null ? Buffer.from([0]) : Buffer.concat([Buffer.from([Buffer.byteLength(s) + 1]), Buffer.from(s)])),
  arr: (n: number) => B.i32(n),
  carr: (n: number) => Buffer.from([n + 1]), // counts below 127 only
  tags: () => Buffer.from([0]),
};
const cat = (...parts: Buffer[]) => Buffer.concat(parts);

function checkBytes(def: AnyApi, kind: 'request' | 'response', v: number, value: Any, expected: Buffer): void {
  const type = kind === 'request' ? def.request : def.response;
  const ctx = S.ctxFor(def, v);
  assert.deepEqual(encode(type, value, ctx).toString('hex'), expected.toString('hex'), `${def.name} ${kind} v${v} bytes`);
  assert.deepStrictEqual(decodeAll(type, expected, ctx, def.name), expectedAt(type, value, v, ctx.flexible));
}

describe('golden: hand-assembled layouts', () => {
  test('ElectLeaders v0-2', () => {
    const req = { electionType: 1, topicPartitions: [{ topic: 't1', partitionId: [0, 2] }], timeoutMs: 5000 };
    const classicTopics = cat(B.arr(1), B.str('t1'), B.arr(2), B.i32(0), B.i32(2));
    checkBytes(APIS.ElectLeaders, 'request', 0, req, cat(classicTopics, B.i32(5000)));
    checkBytes(APIS.ElectLeaders, 'request', 1, req, cat(B.i8(1), classicTopics, B.i32(5000)));
    checkBytes(
      APIS.ElectLeaders,
      'request',
      2,
      req,
      cat(B.i8(1), B.carr(1), B.cstr('t1'), B.carr(2), B.i32(0), B.i32(2), B.tags(), B.i32(5000), B.tags()),
    );
    // a null topic list (all partitions)
    checkBytes(APIS.ElectLeaders, 'request', 1, { ...req, topicPartitions: null }, cat(B.i8(1), B.arr(-1), B.i32(5000)));

    const res = {
      throttleTimeMs: 7,
      errorCode: 41,
      replicaElectionResults: [{ topic: 't1', partitionResult: [{ partitionId: 2, errorCode: 84, errorMessage: 'not needed' }] }],
    };
    const classicResults = cat(B.arr(1), B.str('t1'), B.arr(1), B.i32(2), B.i16(84), B.str('not needed'));
    checkBytes(APIS.ElectLeaders, 'response', 0, res, cat(B.i32(7), classicResults));
    checkBytes(APIS.ElectLeaders, 'response', 1, res, cat(B.i32(7), B.i16(41), classicResults));
    checkBytes(
      APIS.ElectLeaders,
      'response',
      2,
      res,
      cat(B.i32(7), B.i16(41), B.carr(1), B.cstr('t1'), B.carr(1), B.i32(2), B.i16(84), B.cstr('not needed'), B.tags(), B.tags(), B.tags()),
    );
  });

  test('OffsetForLeaderEpoch v0-4', () => {
    const req = { replicaId: -1, topics: [{ topic: 't1', partitions: [{ partition: 3, currentLeaderEpoch: 9, leaderEpoch: 8 }] }] };
    const reqTopics = (withCurrent: boolean) =>
      cat(B.arr(1), B.str('t1'), B.arr(1), B.i32(3), ...(withCurrent ? [B.i32(9)] : []), B.i32(8));
    checkBytes(APIS.OffsetForLeaderEpoch, 'request', 0, req, reqTopics(false));
    checkBytes(APIS.OffsetForLeaderEpoch, 'request', 1, req, reqTopics(false));
    checkBytes(APIS.OffsetForLeaderEpoch, 'request', 2, req, reqTopics(true));
    checkBytes(APIS.OffsetForLeaderEpoch, 'request', 3, req, cat(B.i32(-1), reqTopics(true)));
    checkBytes(
      APIS.OffsetForLeaderEpoch,
      'request',
      4,
      req,
      cat(B.i32(-1), B.carr(1), B.cstr('t1'), B.carr(1), B.i32(3), B.i32(9), B.i32(8), B.tags(), B.tags(), B.tags()),
    );

    const res = { throttleTimeMs: 5, topics: [{ topic: 't1', partitions: [{ errorCode: 74, partition: 3, leaderEpoch: 8, endOffset: 1234 }] }] };
    const resTopics = (withEpoch: boolean) =>
      cat(B.arr(1), B.str('t1'), B.arr(1), B.i16(74), B.i32(3), ...(withEpoch ? [B.i32(8)] : []), B.i64(1234));
    checkBytes(APIS.OffsetForLeaderEpoch, 'response', 0, res, resTopics(false));
    checkBytes(APIS.OffsetForLeaderEpoch, 'response', 1, res, resTopics(true));
    checkBytes(APIS.OffsetForLeaderEpoch, 'response', 2, res, cat(B.i32(5), resTopics(true)));
    checkBytes(APIS.OffsetForLeaderEpoch, 'response', 3, res, cat(B.i32(5), resTopics(true)));
    checkBytes(
      APIS.OffsetForLeaderEpoch,
      'response',
      4,
      res,
      cat(B.i32(5), B.carr(1), B.cstr('t1'), B.carr(1), B.i16(74), B.i32(3), B.i32(8), B.i64(1234), B.tags(), B.tags(), B.tags()),
    );
  });
});

// ---- 3. framing ------------------------------------------------------------------------------------------

describe('frame: headers and framing', () => {
  function header(clientId: string | null, flexible: boolean): Buffer {
    const w = new Writer();
    writeRequestHeader(w, { apiKey: 3, apiVersion: flexible ? 12 : 5, correlationId: 0x01020304, clientId }, flexible);
    return w.toBuffer();
  }

  test('request header v1: int16 key, int16 version, int32 correlation id, int16-length client id', () => {
    const b = header('cli', false);
    assert.deepEqual(b, Buffer.from([0, 3, 0, 5, 1, 2, 3, 4, 0, 3, 0x63, 0x6c, 0x69]));
    const r = new Reader(b);
    assert.deepEqual(readRequestHeader(r), { apiKey: 3, apiVersion: 5, correlationId: 0x01020304, clientId: 'cli' });
    assert.equal(r.remaining, 0);
  });

  test('request header v2: the client id stays a classic int16 string, then a tag section', () => {
    const b = header('cli', true);
    assert.deepEqual(b, Buffer.from([0, 3, 0, 12, 1, 2, 3, 4, 0, 3, 0x63, 0x6c, 0x69, 0]));
    const r = new Reader(b);
    assert.deepEqual(readRequestHeader(r), { apiKey: 3, apiVersion: 12, correlationId: 0x01020304, clientId: 'cli' });
    skipTaggedFields(r);
    assert.equal(r.remaining, 0);
  });

  test('a null client id (int16 -1) is accepted in both header versions', () => {
    for (const flexible of [false, true]) {
      const b = header(null, flexible);
      assert.deepEqual(b.subarray(8, 10), Buffer.from([0xff, 0xff]));
      const r = new Reader(b);
      assert.equal(readRequestHeader(r).clientId, null);
      if (flexible) skipTaggedFields(r);
      assert.equal(r.remaining, 0);
    }
  });

  test('unknown header tags are skipped', () => {
    const b = Buffer.concat([header('', false), Buffer.from([2, 0, 1, 0xaa, 5, 3, 1, 2, 3])]);
    const r = new Reader(b);
    readRequestHeader(r);
    skipTaggedFields(r);
    assert.equal(r.remaining, 0);
  });

  test('kafkajs request frames (header v1, named and null client id) parse', async () => {
    const createRequest = nodeRequire('kafkajs/src/protocol/request');
    for (const clientId of ['kafkajs-client', null]) {
      const frame: Buffer = (
        await createRequest({ correlationId: 77, clientId, request: kjsRequest('metadata', 6)({ topics: ['topic-a'] }) })
      ).buffer;
      const frames = new FrameDecoder(1 << 20).push(frame);
      assert.equal(frames.length, 1);
      const r = new Reader(frames[0]);
      assert.deepEqual(readRequestHeader(r), { apiKey: 3, apiVersion: 6, correlationId: 77, clientId });
      const body = APIS.Metadata.request.read(r, S.ctxFor(APIS.Metadata, 6));
      assert.equal(r.remaining, 0);
      assert.deepEqual(body.topics, [{ topicId: S.ZERO_UUID, name: 'topic-a' }]);
    }
  });

  test('response header v0 is the correlation id; v1 adds an empty tag section', () => {
    const w0 = new Writer();
    writeResponseHeader(w0, 42, 3, false);
    assert.deepEqual(w0.toBuffer(), Buffer.from([0, 0, 0, 42]));
    const w1 = new Writer();
    writeResponseHeader(w1, 42, 3, true);
    assert.deepEqual(w1.toBuffer(), Buffer.from([0, 0, 0, 42, 0]));
  });

  test('ApiVersions responses always use header v0, even for flexible versions', () => {
    assert.equal(responseHeaderIsFlexible(18, true), false);
    assert.equal(responseHeaderIsFlexible(18, false), false);
    assert.equal(responseHeaderIsFlexible(3, true), true);
    const w = new Writer();
    writeResponseHeader(w, 9, 18, S.ctxFor(APIS.ApiVersions, 3).flexible);
    const body: Any = { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }], throttleTimeMs: 0 };
    APIS.ApiVersions.response.write(w, body, S.ctxFor(APIS.ApiVersions, 3));
    const b = w.toBuffer();
    // correlation id, then directly the int16 error code (no 0x00 tag byte), then the compact array (2 = 1 entry)
    assert.deepEqual(b.subarray(0, 7), Buffer.from([0, 0, 0, 9, 0, 0, 2]));
    // and the request side of ApiVersions v3 does use header v2
    assert.equal(S.ctxFor(APIS.ApiVersions, 3).flexible, true);
  });

  test('FrameDecoder: frames split across chunks and back to back; oversized frames refused', () => {
    const frame = (payload: Buffer) => {
      const size = Buffer.alloc(4);
      size.writeInt32BE(payload.length);
      return Buffer.concat([size, payload]);
    };
    const a = frame(Buffer.from('first frame'));
    const b = frame(Buffer.from('second'));
    const all = Buffer.concat([a, b]);
    const d = new FrameDecoder(1024);
    const got: Buffer[] = [...d.push(Buffer.alloc(0))];
    let prev = 0;
    for (const cut of [2, 5, 16, all.length]) {
      got.push(...d.push(all.subarray(prev, cut)));
      prev = cut;
    }
    assert.deepEqual(got.map((f) => f.toString()), ['first frame', 'second']);
    assert.throws(() => new FrameDecoder(10).push(frame(Buffer.alloc(11))), FrameTooLargeError);
  });
});
