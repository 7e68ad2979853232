// Wire fuzzing against a real broker process (a one-broker mini-cluster started by the CLI): random frames,
// valid requests for every API key and version the broker serves (taken from its own ApiVersions answer) with
// mutated bodies, oversized and partial frames, unsupported versions, unknown API keys, pipelined requests and
// a client that never reads its responses. Every frame's fate is predicted by decoding it exactly as the broker
// must (header, tag section, body): undecodable → the broker closes the connection and logs why; decodable →
// the broker answers with a response our own codec decodes. Meanwhile the broker process must stay alive with
// a bounded RSS, and afterwards kafkajs and kcat (librdkafka) must still create, produce and consume.
//
// Seeded: the seed is printed; FUZZ_SEED=<n> replays it (case i always gets the same bytes), FUZZ_MS=<ms> sets
// the time budget of the random phase (default 20000 total, of which the fixed cases take a few seconds).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { startTestCluster, TestCluster } from '../helpers/cluster';
import { requireKcat, runKcat } from '../helpers/kcat';
import { connectWire, produce } from '../helpers/wire';
import { WireClient } from '../../src/broker/wireClient';
import { ALL_APIS, API_BY_KEY, ApiVersions, CreateTopics, Fetch, Metadata } from '../../src/protocol/apis';
import { FrameDecoder, readRequestHeader, responseHeaderIsFlexible, skipTaggedFields, writeRequestHeader } from '../../src/protocol/frame';
import { Reader } from '../../src/protocol/primitives/reader';
import { Writer } from '../../src/protocol/primitives/writer';
import * as S from '../../src/protocol/schema';
import { buildBatch } from '../../src/protocol/records/recordBatch';
import { BATCH, CompressionType } from '../../src/protocol/records/batchHeader';
import { crc32c } from '../../src/protocol/records/crc32c';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Any = any;
type AnyApi = S.ApiDef<Any, Any>;

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const TOTAL_MS = Number(process.env.FUZZ_MS ?? 20000);
const MAX_FRAME = 4 * 1024 * 1024;
const IDLE_MS = 2000;
/** How long a connection may take to be answered or closed (the machine is shared and loaded). */
const CASE_TIMEOUT_MS = 8000;
const PARALLEL = 8;
/** RSS growth over the warmed-up baseline that counts as unbounded allocation. */
const RSS_SLACK_BYTES = 250 * 1024 * 1024;

// ---- seeded randomness -------------------------------------------------------------------------------------

/** mulberry32: small, fast, good enough to drive a fuzzer; one stream per case so a case replays alone. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rnd = {
    next,
    int: (n: number) => Math.floor(next() * n),
    range: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    bytes: (n: number) => {
      const b = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(next() * 256);
      return b;
    },
  };
  return rnd;
}
type Rng = ReturnType<typeof prng>;
const caseRng = (id: number) => prng((SEED ^ Math.imul(id + 1, 0x9e3779b1)) >>> 0);

// ---- generating valid requests from the schemas ------------------------------------------------------------

const TOPICS = ['fuzz-t0', 'fuzz-t1', 'fuzz-t2', 'missing-topic', '__consumer_offsets'];
const STRINGS = [...TOPICS, 'fuzz-g0', 'fuzz-g1', '', '1', '-1', 'retention.ms', 'min.insync.replicas', 'cleanup.policy', 'segment.bytes', 'compact', 'delete', '0', '999999999999', 'consumer', 'range'];
const INT_EDGES = [0, 1, -1, -2, 0x7fffffff, -0x80000000, 0x7fff, -0x8000];

function genInt(rng: Rng, bits: 8 | 16 | 32): number {
  const lim = 2 ** (bits - 1);
  if (rng.chance(0.75)) return rng.pick([0, 0, 1, 1, 2, 3, -1]);
  if (rng.chance(0.5)) return Math.max(-lim, Math.min(lim - 1, rng.pick(INT_EDGES)));
  return rng.int(2 * lim) - lim;
}

function genString(rng: Rng): string {
  if (rng.chance(0.8)) return rng.pick(STRINGS);
  const n = rng.int(20);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(rng.chance(0.9) ? 32 + rng.int(95) : rng.int(0x800));
  return s;
}

/** A record batch: valid, or with its insides damaged and the CRC recomputed so that only deeper checks catch it. */
function genRecords(rng: Rng): Buffer {
  const compression = rng.pick([CompressionType.None, CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4]);
  const records = Array.from({ length: rng.range(1, 4) }, (_, i) => ({
    key: rng.chance(0.7) ? Buffer.from(`k${i}`) : null,
    value: rng.chance(0.9) ? rng.bytes(rng.int(64)) : null,
    headers: rng.chance(0.2) ? [{ key: 'h', value: Buffer.from('v') }] : undefined,
  }));
  const idempotent = rng.chance(0.2);
  const batch = buildBatch({ records, compression, producerId: idempotent ? rng.int(5) : -1, producerEpoch: idempotent ? 0 : -1, baseSequence: idempotent ? rng.int(3) : -1 });
  if (rng.chance(0.5)) {
    // Damage the part the CRC covers, then make the CRC right again.
    const mutations = rng.range(1, 4);
    for (let i = 0; i < mutations; i++) {
      const what = rng.int(4);
      if (what === 0) batch.writeInt32BE(rng.pick(INT_EDGES), BATCH.RECORDS_COUNT);
      else if (what === 1) batch.writeInt32BE(rng.pick(INT_EDGES), BATCH.LAST_OFFSET_DELTA);
      else if (what === 2) batch.writeInt16BE(rng.int(0x40), BATCH.ATTRIBUTES);
      else if (batch.length > BATCH.HEADER_SIZE) {
        const p = BATCH.HEADER_SIZE + rng.int(batch.length - BATCH.HEADER_SIZE);
        batch[p] = rng.chance(0.5) ? 0xff : rng.int(256);
      }
    }
    batch.writeUInt32BE(crc32c(batch, BATCH.ATTRIBUTES), BATCH.CRC);
  }
  return batch;
}

function genValue(type: S.Type<Any>, rng: Rng, depth = 0): Any {
  const fields = S.structFields(type);
  if (fields) {
    const out: Record<string, unknown> = {};
    for (const f of fields) out[f.name] = f.tag !== undefined && rng.chance(0.5) ? f.dflt : genValue(f.type, rng, depth + 1);
    return out;
  }
  const item = S.arrayItem(type);
  if (item) {
    if (type.zero === null && rng.chance(0.15)) return null;
    const n = depth > 6 ? 0 : rng.pick([0, 1, 1, 1, 2, 3]);
    return Array.from({ length: n }, () => genValue(item, rng, depth + 1));
  }
  switch (type) {
    case S.int8:
      return genInt(rng, 8);
    case S.int16:
      return genInt(rng, 16);
    case S.uint16:
      return rng.int(0x10000);
    case S.int32:
      return genInt(rng, 32);
    case S.uint32:
      return rng.chance(0.5) ? rng.int(4) : rng.int(2 ** 32);
    case S.int64:
      return rng.chance(0.8) ? genInt(rng, 32) : rng.pick([Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 40]);
    case S.float64:
      return rng.pick([0, 1.5, -1, NaN, Infinity]);
    case S.bool:
      return rng.chance(0.5);
    case S.uuid:
      return rng.chance(0.5) ? S.ZERO_UUID : rng.bytes(16).toString('base64url');
    case S.string:
      return genString(rng);
    case S.nullableString:
      return rng.chance(0.2) ? null : genString(rng);
    case S.bytes:
      return rng.chance(0.5) ? genRecords(rng) : rng.bytes(rng.int(32));
    case S.nullableBytes:
      if (rng.chance(0.1)) return null;
      return rng.chance(0.8) ? genRecords(rng) : rng.bytes(rng.int(32));
    default:
      throw new Error('genValue: unknown schema type');
  }
}

/** A Writer that remembers where every integer and varint went, so mutations can hit lengths and counts. */
interface Mark {
  pos: number;
  kind: 'int16' | 'int32' | 'int64' | 'uvarint';
  len: number;
}
class MarkingWriter extends Writer {
  readonly marks: Mark[] = [];
  private mark<T>(kind: Mark['kind'], write: () => T): T {
    const pos = this.length;
    const r = write();
    this.marks.push({ pos, kind, len: this.length - pos });
    return r;
  }
  override int16(v: number): this {
    return this.mark('int16', () => super.int16(v));
  }
  override int32(v: number): this {
    return this.mark('int32', () => super.int32(v));
  }
  override int64(v: number | bigint): this {
    return this.mark('int64', () => super.int64(v));
  }
  override uvarint(v: number): this {
    return this.mark('uvarint', () => super.uvarint(v));
  }
}

function encodeBody(def: AnyApi, version: number, value: Any): { body: Buffer; marks: Mark[] } {
  const w = new MarkingWriter(256);
  def.request.write(w, value, S.ctxFor(def, version));
  return { body: w.toBuffer(), marks: w.marks };
}

function headerBytes(apiKey: number, apiVersion: number, correlationId: number, flexible: boolean, clientId: string | null = 'wire-fuzz'): Buffer {
  const w = new Writer(64);
  writeRequestHeader(w, { apiKey, apiVersion, correlationId, clientId }, flexible);
  return w.toBuffer();
}

function frame(payload: Buffer, declared = payload.length): Buffer {
  const size = Buffer.allocUnsafe(4);
  size.writeInt32BE(declared | 0, 0);
  return Buffer.concat([size, payload]);
}

function uvarintBytes(v: number): Buffer {
  const w = new Writer(8);
  w.uvarint(v);
  return w.toBuffer();
}

/** Damages a valid body: flipped bytes, truncation, extension, and integers/lengths/counts set to extremes. */
function mutate(body: Buffer, marks: Mark[], rng: Rng): { body: Buffer; how: string } {
  let out = Buffer.from(body);
  const hows: string[] = [];
  const steps = rng.chance(0.7) ? 1 : rng.range(2, 3);
  // Integer rewrites first (their positions refer to the original layout), then byte-level damage.
  const intMarks = rng.chance(0.6) && marks.length ? Array.from({ length: rng.chance(0.7) ? 1 : 2 }, () => rng.pick(marks)).sort((a, b) => b.pos - a.pos) : [];
  for (const m of intMarks) {
    if (m.kind === 'uvarint') {
      const v = rng.pick([0, 0xffffffff, 0x7fffffff, 2 ** 28, 2 ** 21, 1, rng.int(2 ** 32)]);
      out = Buffer.concat([out.subarray(0, m.pos), uvarintBytes(v), out.subarray(m.pos + m.len)]);
      hows.push(`uvarint@${m.pos}=${v}`);
    } else if (m.kind === 'int16') {
      const v = rng.pick([-1, -2, 0x7fff, -0x8000, rng.int(0x10000) - 0x8000]);
      out.writeInt16BE(v, m.pos);
      hows.push(`int16@${m.pos}=${v}`);
    } else if (m.kind === 'int32') {
      const v = rng.pick([-1, -2, 0x7fffffff, -0x80000000, 0x10000000, body.length + 1, rng.int(2 ** 32) - 2 ** 31]);
      out.writeInt32BE(v, m.pos);
      hows.push(`int32@${m.pos}=${v}`);
    } else {
      const v = rng.pick([-1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n]);
      out.writeBigInt64BE(v, m.pos);
      hows.push(`int64@${m.pos}=${v}`);
    }
  }
  for (let i = 0; i < (intMarks.length ? steps - 1 : steps); i++) {
    const what = rng.int(3);
    if (what === 0 && out.length > 0) {
      const n = rng.range(1, 4);
      for (let j = 0; j < n; j++) {
        const p = rng.int(out.length);
        out[p] ^= rng.range(1, 255);
      }
      hows.push(`flip${n}`);
    } else if (what === 1 && out.length > 0) {
      const cut = rng.int(out.length);
      out = out.subarray(0, cut);
      hows.push(`truncate@${cut}`);
    } else {
      const extra = rng.bytes(rng.range(1, 64));
      out = Buffer.concat([out, extra]);
      hows.push(`extend+${extra.length}`);
    }
  }
  return { body: out, how: hows.join(',') };
}

// ---- predicting what the broker must do with a frame --------------------------------------------------------

type Served = Map<number, { min: number; max: number }>;
type Fate =
  | { kind: 'close'; why: string }
  | { kind: 'answer'; api: AnyApi; version: number; correlationId: number; v0Error?: boolean }
  | { kind: 'silent' } // acks=0 produce: decodable, and no answer
  | { kind: 'any' } // a decodable frame followed by random bytes: no prediction beyond a well-formed exchange
  | { kind: 'mayWait'; api: AnyApi; version: number; correlationId: number }; // long poll, rebalance

/** Decodes a frame payload the way the broker must (connection.ts), to know whether it must answer or close. */
function predict(payload: Buffer, served: Served): Fate {
  const r = new Reader(payload);
  let h;
  try {
    h = readRequestHeader(r);
  } catch (err) {
    return { kind: 'close', why: `bad header: ${(err as Error).message}` };
  }
  const range = served.get(h.apiKey);
  if (h.apiKey === ApiVersions.key && (h.apiVersion > ApiVersions.maxVersion || h.apiVersion < 0)) {
    return { kind: 'answer', api: ApiVersions, version: 0, correlationId: h.correlationId, v0Error: true };
  }
  if (!range) return { kind: 'close', why: `unknown API key ${h.apiKey}` };
  if (h.apiVersion < range.min || h.apiVersion > range.max) return { kind: 'close', why: `unsupported version ${h.apiKey} v${h.apiVersion}` };
  const api = API_BY_KEY.get(h.apiKey) as AnyApi;
  const ctx = S.ctxFor(api, h.apiVersion);
  let req: Any;
  try {
    if (ctx.flexible) skipTaggedFields(r);
    req = api.request.read(r, ctx);
  } catch (err) {
    return { kind: 'close', why: `malformed ${api.name}: ${(err as Error).message}` };
  }
  const base = { api, version: h.apiVersion, correlationId: h.correlationId };
  if (api.name === 'Produce' && req.acks === 0) return { kind: 'silent' };
  if (api.name === 'JoinGroup' || api.name === 'SyncGroup') return { kind: 'mayWait', ...base };
  if (api.name === 'Fetch' && req.maxWaitMs > CASE_TIMEOUT_MS / 4) return { kind: 'mayWait', ...base };
  return { kind: 'answer', ...base };
}

// ---- running one connection ---------------------------------------------------------------------------------

interface Outcome {
  closedByServer: boolean;
  /** Correlation id and payload of each response frame, in arrival order. */
  responses: Array<{ correlationId: number; payload: Buffer }>;
  localPort: number;
  elapsedMs: number;
  error?: string;
}

let port = 0;

/**
 * Opens a connection, writes `chunks`, and waits until the server closes it, `enough(responses)` holds, or the
 * timeout passes; then closes it from our side.
 */
function runConnection(chunks: Buffer[], enough: (n: number) => boolean, timeoutMs = CASE_TIMEOUT_MS): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = connect({ host: '127.0.0.1', port });
    const decoder = new FrameDecoder(512 * 1024 * 1024);
    const out: Outcome = { closedByServer: false, responses: [], localPort: 0, elapsedMs: 0 };
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      out.elapsedMs = Date.now() - started;
      socket.destroy();
      resolve(out);
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('connect', () => {
      out.localPort = socket.localPort ?? 0;
      for (const c of chunks) socket.write(c);
      if (enough(0)) setTimeout(finish, 300); // nothing to wait for: give a close a moment to arrive
    });
    socket.on('data', (d) => {
      try {
        for (const f of decoder.push(d)) out.responses.push({ correlationId: f.readInt32BE(0), payload: f });
      } catch (err) {
        out.error = `bad response framing: ${(err as Error).message}`;
        finish();
        return;
      }
      if (enough(out.responses.length)) finish();
    });
    socket.on('error', (err) => {
      // ECONNRESET is how a destroy() with unread data looks from here: still a close by the server.
      if (!done) out.error ??= (err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : err.message;
    });
    socket.on('close', () => {
      if (!done) out.closedByServer = true;
      finish();
    });
  });
}

/** Decodes a response payload with our codec; returns a problem description or undefined. */
function checkResponse(payload: Buffer, api: AnyApi, version: number, v0Error = false): string | undefined {
  try {
    const r = new Reader(payload);
    r.int32();
    if (v0Error) {
      const body = ApiVersions.response.read(r, S.ctxFor(ApiVersions, 0));
      if (body.errorCode !== 35) return `ApiVersions for an unsupported version answered error ${body.errorCode}, not UNSUPPORTED_VERSION`;
      return undefined;
    }
    const ctx = S.ctxFor(api, version);
    if (responseHeaderIsFlexible(api.key, ctx.flexible)) skipTaggedFields(r);
    api.response.read(r, ctx);
    if (r.remaining !== 0) return `${api.name} v${version} response has ${r.remaining} trailing bytes`;
    return undefined;
  } catch (err) {
    return `${api.name} v${version} response does not decode: ${(err as Error).message}`;
  }
}

// ---- the broker under test ---------------------------------------------------------------------------------

let cluster: TestCluster;
let unsubscribe: (() => void) | undefined;
/** The supervisor's events (fencing, leader changes, topic changes) while the fuzzer runs. */
const events: string[] = [];
let brokerPid = 0;
let served: Served = new Map();
let baselineRss = 0;
let peakRss = 0;
/** RSS at the start of the current test and the highest seen since (each test gets its own bound). */
let phaseRss = 0;
let phasePeak = 0;
let rssTimer: NodeJS.Timeout | undefined;
const failures: string[] = [];
/** Local ports of connections the broker closed, with what we sent (to find the reason in its log). */
const serverCloses: Array<{ port: number; what: string }> = [];
const stats = { cases: 0, closed: 0, answered: 0, silent: 0, waited: 0, byApi: new Map<string, number>() };

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** The broker's RSS plus the supervisor's: the controller (which plans what requests ask for) lives there. */
function rssNow(): number {
  return rssOf(brokerPid) + rssOf(cluster.cli.child.pid!);
}

function brokerAlive(): boolean {
  try {
    process.kill(brokerPid, 0);
    return existsSync(`/proc/${brokerPid}/status`) && !/State:\s+Z/.test(readFileSync(`/proc/${brokerPid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

function fail(msg: string): void {
  if (failures.length < 200) failures.push(msg);
}

/** Sends one frame on its own connection and checks the broker did what `predict` says it must. */
async function runFrameCase(id: number, bytes: Buffer[], fate: Fate, what: string, timeoutMs = CASE_TIMEOUT_MS): Promise<void> {
  stats.cases++;
  const wantAnswer = fate.kind === 'answer' || fate.kind === 'mayWait';
  const o = await runConnection(bytes, (n) => (wantAnswer ? n >= 1 : fate.kind === 'silent' ? n === 0 : fate.kind === 'any' ? n >= 1 : false), timeoutMs);
  const tag = `case ${id} (${what})`;
  if (o.error) fail(`${tag}: ${o.error}`);
  if (o.closedByServer) {
    stats.closed++;
    serverCloses.push({ port: o.localPort, what: tag });
  }
  switch (fate.kind) {
    case 'any':
      break;
    case 'close':
      if (!o.closedByServer) fail(`${tag}: must be closed (${fate.why}) but was not within ${timeoutMs} ms; got ${o.responses.length} responses`);
      else if (o.responses.length) fail(`${tag}: answered before closing (${fate.why})`);
      break;
    case 'silent':
      stats.silent++;
      if (o.responses.length) fail(`${tag}: an acks=0 produce was answered`);
      if (o.closedByServer) fail(`${tag}: a decodable acks=0 produce closed the connection`);
      break;
    case 'answer':
    case 'mayWait': {
      if (o.responses.length === 0) {
        if (fate.kind === 'mayWait' && !o.closedByServer) {
          stats.waited++;
          break;
        }
        fail(`${tag}: decodable ${fate.api.name} v${fate.version} request ${o.closedByServer ? 'closed the connection' : `not answered within ${timeoutMs} ms`}`);
        break;
      }
      stats.answered++;
      const res = o.responses[0];
      if (res.correlationId !== fate.correlationId) fail(`${tag}: correlation id ${res.correlationId}, expected ${fate.correlationId}`);
      const problem = checkResponse(res.payload, fate.api, fate.version, 'v0Error' in fate && fate.v0Error);
      if (problem) fail(`${tag}: ${problem}`);
      break;
    }
  }
}

/** A mutated (or intact) valid request for a random served API and version. */
interface FrameCase {
  bytes: Buffer[];
  fate: Fate;
  what: string;
  timeoutMs?: number;
}

function mutatedRequestCase(id: number): FrameCase {
  const rng = caseRng(id);
  const keys = [...served.keys()];
  const key = rng.pick(keys);
  const { min, max } = served.get(key)!;
  const version = rng.range(min, max);
  const api = API_BY_KEY.get(key) as AnyApi;
  const ctx = S.ctxFor(api, version);
  const correlationId = rng.int(2 ** 31);
  const value = genValue(api.request, rng);
  let { body, marks } = encodeBody(api, version, value);
  let how = 'intact';
  if (rng.chance(0.85)) ({ body, how } = mutate(body, marks, rng));
  const payload = Buffer.concat([headerBytes(key, version, correlationId, ctx.flexible, rng.chance(0.1) ? null : 'wire-fuzz'), body]);
  stats.byApi.set(api.name, (stats.byApi.get(api.name) ?? 0) + 1);
  return { bytes: [frame(payload)], fate: predict(payload, served), what: `${api.name} v${version} ${how} seed ${SEED}` };
}

/** Random bytes: a random payload behind a correct, random or partial size prefix. */
function randomBytesCase(id: number): FrameCase {
  const rng = caseRng(id);
  const payload = rng.bytes(rng.int(rng.chance(0.5) ? 16 : 300));
  // Sometimes give the random bytes a plausible start: a served key with a random version, or key+version right.
  if (payload.length >= 4 && rng.chance(0.5)) payload.writeInt16BE(rng.pick([...served.keys()]), 0);
  const mode = rng.int(3);
  if (mode === 0) return { bytes: [frame(payload)], fate: predict(payload, served), what: `random ${payload.length} bytes seed ${SEED}` };
  if (mode === 1) {
    const declared = rng.int(2 ** 32) | 0;
    const bytes = [frame(payload, declared)];
    if (declared < 0 || declared > MAX_FRAME) return { bytes, fate: { kind: 'close', why: `declared size ${declared}` }, what: `random size prefix ${declared}` };
    if (declared > payload.length) return { bytes, fate: { kind: 'close', why: 'partial frame (idle)' }, what: `partial frame ${payload.length}/${declared}`, timeoutMs: IDLE_MS + CASE_TIMEOUT_MS };
    // A prefix shorter than the payload: one frame, then the rest is the start of the next one.
    const first = predict(payload.subarray(0, declared), served);
    return { bytes, fate: first.kind === 'close' ? first : { kind: 'any' }, what: `random stream, first frame ${declared}`, timeoutMs: IDLE_MS + CASE_TIMEOUT_MS };
  }
  // Partial: declare more than we send; only the idle timeout ends it.
  const declared = payload.length + rng.range(1, 1000);
  return { bytes: [frame(payload, declared)], fate: { kind: 'close', why: 'partial frame (idle)' }, what: `partial frame ${payload.length}/${declared}`, timeoutMs: IDLE_MS + CASE_TIMEOUT_MS };
}

async function pool<T>(items: Iterable<T>, n: number, fn: (item: T) => Promise<void>): Promise<void> {
  const it = items[Symbol.iterator]();
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let r = it.next(); !r.done; r = it.next()) await fn(r.value);
    }),
  );
}

function* until<T>(deadline: number, make: (i: number) => T, start = 0): Generator<T> {
  for (let i = start; Date.now() < deadline; i++) yield make(i);
}

// ---- tests ------------------------------------------------------------------------------------------------

before(async () => {
  console.log(`wire fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED}), budget ${TOTAL_MS} ms`);
  cluster = await startTestCluster(
    [
      '--config', `socket.request.max.bytes=${MAX_FRAME}`,
      '--config', `connections.max.idle.ms=${IDLE_MS}`,
      '--config', 'offsets.topic.replication.factor=1',
      '--config', 'group.initial.rebalance.delay.ms=0',
      '--log-level', 'warn',
      // Fencing (no leader anywhere) only if the broker's event loop stalls this long: a finding, not load.
      '--session-timeout-ms', '6000',
    ],
    1,
  );
  port = cluster.cli.port;
  unsubscribe = cluster.control.subscribe({ event: (e) => events.push(`${new Date(e.time).toISOString()} ${e.message}`) });
  const state = await cluster.state();
  brokerPid = state.brokers[0].pid!;
  assert.ok(brokerPid > 0, 'broker pid');
  // What the broker serves, from its own ApiVersions answer.
  const wire = await connectWire(cluster.bootstrap);
  const av = await wire.request(ApiVersions, 3, { clientSoftwareName: 'wire-fuzz', clientSoftwareVersion: '1' });
  wire.close();
  served = new Map(av.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
  for (const k of served.keys()) assert.ok(ALL_APIS.some((a) => a.key === k), `the broker serves API ${k}, which ALL_APIS lacks`);
  assert.ok(served.size >= 20, `only ${served.size} APIs served`);
  baselineRss = rssNow();
  peakRss = baselineRss;
  rssTimer = setInterval(() => {
    try {
      const rss = rssNow();
      peakRss = Math.max(peakRss, rss);
      phasePeak = Math.max(phasePeak, rss);
    } catch {
      /* the liveness checks report a dead broker */
    }
  }, 50);
});

after(async () => {
  clearInterval(rssTimer);
  unsubscribe?.();
  // FUZZ_DUMP=<file> keeps the mini-cluster's output (broker and supervisor logs) for a failing seed.
  if (process.env.FUZZ_DUMP && cluster) {
    const state = await cluster.state().catch((err) => String(err));
    writeFileSync(process.env.FUZZ_DUMP, `${cluster.cli.output()}\n--- events ---\n${events.join('\n')}\n--- cluster state ---\n${JSON.stringify(state)}\n`);
  }
  await cluster?.stop();
});

/** Starts a test: its own failure list and RSS bound. */
function beginPhase(): void {
  failures.length = 0;
  phaseRss = rssNow();
  phasePeak = phaseRss;
}

function assertHealthy(phase: string): void {
  assert.ok(brokerAlive(), `broker process ${brokerPid} died during ${phase} (seed ${SEED})\n${cluster.cli.output().slice(-4000)}`);
  assert.equal(cluster.cli.child.exitCode, null, `the supervisor exited during ${phase}`);
  const fenced = events.filter((e) => /fenced/.test(e));
  assert.deepEqual(fenced, [], `the broker was fenced during ${phase}: its event loop stalled (seed ${SEED})`);
  assert.ok(phasePeak - phaseRss < RSS_SLACK_BYTES, `broker + supervisor RSS grew from ${(phaseRss / 2 ** 20).toFixed(0)} MiB to ${(phasePeak / 2 ** 20).toFixed(0)} MiB during ${phase} (seed ${SEED})`);
  assert.deepEqual(failures, [], `${phase}: ${failures.length} failures (seed ${SEED})`);
}

describe('wire fuzz against a broker process', { timeout: TOTAL_MS + 240000 }, () => {
  const started = Date.now();

  test('frame size prefixes above the maximum, negative or absurd are refused at once', async () => {
    beginPhase();
    let id = 1_000_000;
    for (const declared of [MAX_FRAME + 1, 0x7fffffff, -1, -0x80000000, 1e9 | 0, MAX_FRAME * 2]) {
      // Only the size prefix and a few bytes: the broker must not wait for (or allocate) the rest.
      const before = Date.now();
      await runFrameCase(id++, [frame(Buffer.from([0, 18, 0, 3]), declared)], { kind: 'close', why: 'frame too large' }, `size prefix ${declared}`, 5000);
      assert.ok(Date.now() - before < 5000, `size prefix ${declared} took ${Date.now() - before} ms to refuse`);
    }
    // The largest allowed frame declared but only partly sent: held until the idle timeout, never preallocated.
    await pool(Array.from({ length: 8 }, (_, i) => i), 8, (i) =>
      runFrameCase(id + i, [frame(Buffer.from([0, 18, 0, 3]), MAX_FRAME)], { kind: 'close', why: 'idle partial frame' }, `partial max frame ${i}`, IDLE_MS + CASE_TIMEOUT_MS),
    );
    assertHealthy('size prefixes');
  });

  test('unsupported versions and unknown API keys close the connection; ApiVersions answers UNSUPPORTED_VERSION', async () => {
    beginPhase();
    let id = 2_000_000;
    const cases: Array<{ bytes: Buffer[]; fate: Fate; what: string }> = [];
    for (const [key, { min, max }] of served) {
      const api = API_BY_KEY.get(key) as AnyApi;
      for (const version of [max + 1, max + 7, 0x7fff, -1, ...(min > 0 ? [min - 1] : [])]) {
        // Flexible-looking header for versions above the flexible threshold, so only the version is wrong.
        const payload = Buffer.concat([headerBytes(key, version, id, version >= api.flexibleFrom), Buffer.alloc(8)]);
        cases.push({ bytes: [frame(payload)], fate: predict(payload, served), what: `${api.name} v${version}` });
        id++;
      }
    }
    for (const key of [-1, -0x8000, 0x7fff, 99, 1000, 4, 5, 6, 7, 24, 57, 67, 74]) {
      if (served.has(key)) continue;
      const payload = Buffer.concat([headerBytes(key, 0, id, false), Buffer.alloc(16)]);
      cases.push({ bytes: [frame(payload)], fate: predict(payload, served), what: `API key ${key}` });
      id++;
    }
    assert.ok(cases.some((c) => c.fate.kind === 'answer'), 'ApiVersions v5+ is among the cases');
    await pool(cases, PARALLEL, (c) => runFrameCase(id, c.bytes, c.fate, c.what));
    assertHealthy('unsupported versions and keys');
  });

  test('many pipelined requests are all answered, in order', async () => {
    beginPhase();
    const n = 600;
    const chunks: Buffer[] = [];
    const expected: Array<{ correlationId: number; api: AnyApi; version: number }> = [];
    for (let i = 0; i < n; i++) {
      const api: AnyApi = i % 3 === 0 ? Metadata : ApiVersions;
      const version = api === Metadata ? 1 + (i % 12) : i % 5;
      const ctx = S.ctxFor(api, version);
      const body = api === Metadata ? { topics: [{ name: 'fuzz-t0', topicId: S.ZERO_UUID }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false } : { clientSoftwareName: 'x', clientSoftwareVersion: '1' };
      const w = new Writer(128);
      api.request.write(w, body, ctx);
      chunks.push(frame(Buffer.concat([headerBytes(api.key, version, 10_000 + i, ctx.flexible), w.toBuffer()])));
      expected.push({ correlationId: 10_000 + i, api, version });
    }
    // All in one write, then a bad frame behind them: answered in order up to it, then closed.
    const o = await runConnection([Buffer.concat(chunks)], (k) => k >= n, 30000);
    assert.equal(o.closedByServer, false);
    assert.equal(o.responses.length, n, `${o.responses.length} of ${n} pipelined requests answered`);
    o.responses.forEach((r, i) => {
      assert.equal(r.correlationId, expected[i].correlationId, `response ${i} out of order`);
      const problem = checkResponse(r.payload, expected[i].api, expected[i].version);
      assert.equal(problem, undefined);
    });
    const bad = frame(Buffer.concat([headerBytes(CreateTopics.key, 5, 99, true), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])]));
    const o2 = await runConnection([Buffer.concat([...chunks.slice(0, 20), bad, ...chunks.slice(20, 40)])], () => false, 15000);
    assert.ok(o2.closedByServer, 'a malformed frame among pipelined requests closes the connection');
    assert.ok(o2.responses.length <= 20, `${o2.responses.length} answers: nothing after the malformed frame`);
    o2.responses.forEach((r, i) => assert.equal(r.correlationId, expected[i].correlationId));
    serverCloses.push({ port: o2.localPort, what: 'pipelined with a malformed frame' });
    assertHealthy('pipelining');
  });

  test('a client that sends many fetches and never reads cannot make the broker buffer unbounded responses', async () => {
    beginPhase();
    // ~2 MiB of data, then 1000 pipelined fetches for all of it, each answered with ~1 MiB: 1 GiB if buffered.
    const wire: WireClient = await connectWire(cluster.bootstrap);
    try {
      const res = await wire.request(CreateTopics, 5, { topics: [{ name: 'fuzz-bulk', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
      assert.equal(res.topics[0].errorCode, 0);
      const value = Buffer.alloc(100 * 1024, 7);
      for (let i = 0; i < 20; i++) {
        const r = await produce(wire, 'fuzz-bulk', 0, Array.from({ length: 1 }, () => ({ key: null, value })), 1, 9);
        assert.equal(r.errorCode, 0);
      }
    } finally {
      wire.close();
    }
    const ctx = S.ctxFor(Fetch, 11);
    const body = new Writer(256);
    Fetch.request.write(body, {
      replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 4 * 1024 * 1024, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'fuzz-bulk', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 4 * 1024 * 1024 }] }],
      forgottenTopicsData: [], rackId: '',
    }, ctx);
    const one = frame(Buffer.concat([headerBytes(Fetch.key, 11, 1, ctx.flexible), body.toBuffer()]));
    const rssBefore = rssNow();
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.pause(); // never read
    socket.on('error', () => {});
    const all = Buffer.concat(Array.from({ length: 1000 }, () => one));
    socket.write(all);
    let worst = rssBefore;
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline && brokerAlive()) {
      worst = Math.max(worst, rssNow());
      if (worst - rssBefore > RSS_SLACK_BYTES) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    socket.destroy();
    assert.ok(brokerAlive(), 'broker alive after the slow reader');
    assert.ok(worst - rssBefore < RSS_SLACK_BYTES, `broker RSS grew by ${((worst - rssBefore) / 2 ** 20).toFixed(0)} MiB buffering responses nobody reads`);
    assertHealthy('slow reader');
  });

  test('random frames and mutated requests for every served API and version', async () => {
    beginPhase();
    const deadline = Math.max(started + TOTAL_MS, Date.now() + 5000);
    // First every API and version once, intact and mutated (a fixed sweep), then random cases until the budget.
    const sweep: Array<{ bytes: Buffer[]; fate: Fate; what: string }> = [];
    let sid = 3_000_000;
    for (const [key, { min, max }] of served) {
      const api = API_BY_KEY.get(key) as AnyApi;
      for (let version = min; version <= max; version++) {
        const rng = caseRng(sid++);
        const ctx = S.ctxFor(api, version);
        const { body, marks } = encodeBody(api, version, genValue(api.request, rng));
        const intact = Buffer.concat([headerBytes(key, version, sid, ctx.flexible), body]);
        sweep.push({ bytes: [frame(intact)], fate: predict(intact, served), what: `${api.name} v${version} intact seed ${SEED}` });
        const m = mutate(body, marks, rng);
        const bad = Buffer.concat([headerBytes(key, version, sid, ctx.flexible), m.body]);
        sweep.push({ bytes: [frame(bad)], fate: predict(bad, served), what: `${api.name} v${version} ${m.how} seed ${SEED}` });
      }
    }
    const sweepIntactAnswered = sweep.filter((c, i) => i % 2 === 0 && c.fate.kind !== 'close').length;
    assert.ok(sweepIntactAnswered > sweep.length / 4, `only ${sweepIntactAnswered} intact requests decode`);
    await pool(sweep, PARALLEL, (c) => runFrameCase(sid, c.bytes, c.fate, c.what));
    assertHealthy('the API sweep');

    const gen = until<FrameCase>(deadline, (i) => (i % 4 === 0 ? randomBytesCase(i) : mutatedRequestCase(i)));
    // Partial frames wait for the idle timeout: they run on the side, so they do not hold up the pool.
    const partial: Array<Promise<void>> = [];
    await pool(gen, PARALLEL, async (c) => {
      if (c.timeoutMs) {
        if (partial.length < 500) partial.push(runFrameCase(stats.cases, c.bytes, c.fate, c.what, c.timeoutMs));
        return;
      }
      await runFrameCase(stats.cases, c.bytes, c.fate, c.what);
      if (!brokerAlive()) throw new Error(`broker died after ${c.what}`);
    });
    await Promise.all(partial);
    console.log(
      `fuzz: ${stats.cases} connections, ${stats.closed} closed by the broker, ${stats.answered} answered, ${stats.silent} acks=0, ${stats.waited} waiting (join/sync/long poll); ` +
        `peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (baseline ${(baselineRss / 2 ** 20).toFixed(0)} MiB)`,
    );
    console.log(`requests per API: ${[...stats.byApi].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    assertHealthy('random fuzzing');
  });

  test('the broker logged a reason for every connection it closed', async () => {
    const missing = () => {
      const logged = new Set([...cluster.cli.output().matchAll(/closing connection 127\.0\.0\.1:(\d+):/g)].map((m) => Number(m[1])));
      return serverCloses.filter((c) => !logged.has(c.port));
    };
    const deadline = Date.now() + 5000;
    while (missing().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const m = missing();
    assert.ok(serverCloses.length > 50, `only ${serverCloses.length} closes`);
    assert.deepEqual(m.slice(0, 10), [], `${m.length} of ${serverCloses.length} closes without a logged reason`);
    const out = cluster.cli.output();
    for (const reason of ['frame size', 'unsupported API key', 'unsupported', 'malformed', 'idle']) {
      assert.ok(out.includes(reason), `no close logged with "${reason}"`);
    }
    assert.ok(!/handler failed/.test(out), `a handler threw:\n${out.split('\n').filter((l) => l.includes('handler failed')).slice(0, 5).join('\n')}`);
    assert.ok(!/Uncaught|unhandled|RangeError|TypeError/.test(out), `errors in the broker output:\n${out.split('\n').filter((l) => /Uncaught|unhandled|RangeError|TypeError/.test(l)).slice(0, 5).join('\n')}`);
  });

  test('afterwards kafkajs creates a topic, produces and consumes on the same broker', async () => {
    assert.ok(brokerAlive());
    const kafka = new Kafka({ clientId: 'after-fuzz', brokers: [cluster.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 5 } });
    const admin = kafka.admin();
    await admin.connect();
    try {
      assert.equal(await admin.createTopics({ topics: [{ topic: 'after-fuzz-kafkajs', numPartitions: 2 }], waitForLeaders: true }), true);
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'after-fuzz-kafkajs', acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'after-fuzz-group', maxWaitTimeInMs: 100 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'after-fuzz-kafkajs', fromBeginning: true });
    const got = new Set<string>();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kafkajs read ${got.size} of 20 messages`)), 30000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          got.add(message.value!.toString());
          if (got.size === 20) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    await consumer.disconnect();
    assert.deepEqual([...got].sort(), Array.from({ length: 20 }, (_, i) => `v${i}`).sort());
  });

  test('afterwards kcat (librdkafka) creates a topic by producing, and consumes it back', async () => {
    requireKcat();
    const lines = Array.from({ length: 30 }, (_, i) => `key${i}:value-${i}`);
    const p = await runKcat(['-b', cluster.bootstrap, '-P', '-t', 'after-fuzz-kcat', '-K', ':', '-X', 'acks=all'], lines.join('\n') + '\n');
    assert.equal(p.code, 0, `kcat -P failed:\n${p.stderr}`);
    const c = await runKcat(['-b', cluster.bootstrap, '-C', '-t', 'after-fuzz-kcat', '-e', '-o', 'beginning', '-f', '%k:%s\n']);
    assert.equal(c.code, 0, `kcat -C failed:\n${c.stderr}`);
    assert.deepEqual(c.stdout.trim().split('\n').sort(), [...lines].sort());
    assert.ok(brokerAlive());
    assert.equal((await cluster.state()).brokers[0].pid, brokerPid, 'the same broker process served everything');
  });

  test('the broker restarts on the data the fuzzer left behind, and serves it', async () => {
    // Whatever the fuzzer managed to store (topics, configs, records, committed offsets) must not stop a restart.
    await cluster.control.broker(1, 'restart');
    const state = await cluster.waitForState((s) => s.brokers[0].state === 'running' && !s.brokers[0].fenced && s.topics.every((t) => t.partitions.every((p) => p.leader === 1)), 30000, 'the restarted broker leading everything');
    assert.notEqual(state.brokers[0].pid, brokerPid);
    const c = await runKcat(['-b', cluster.bootstrap, '-C', '-t', 'after-fuzz-kcat', '-e', '-o', 'beginning', '-f', '%k:%s\n']);
    assert.equal(c.code, 0, `kcat -C after the restart failed:\n${c.stderr}`);
    assert.equal(c.stdout.trim().split('\n').length, 30);
  });
});
