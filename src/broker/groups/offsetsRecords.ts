// Records of the internal __consumer_offsets topic, in Apache Kafka's own layout so committed offsets are
// replicated like any other partition and survive the coordinator's broker dying:
//   offset commit  key v1: group, topic, partition      value v3: offset, leader epoch, metadata, commit time
//   group          key v2: group                         value v3: GroupMetadataValue (protocol type, generation,
//                                                        protocol, leader, state time, members with their ids,
//                                                        client id/host, timeouts, subscription and assignment);
//                                                        a null value (tombstone) deletes the group
// A null value on an offset key deletes that offset. Group values are written as version 3, the last non-flexible
// version, which is what Kafka writes and what tools that read the topic (Burrow, kafka-console-consumer's
// GroupMetadataMessageFormatter) decode.

import { Reader } from '../../protocol/primitives/reader';
import { Writer } from '../../protocol/primitives/writer';

export interface OffsetKey {
  kind: 'offset';
  group: string;
  topic: string;
  partition: number;
}

export interface GroupKey {
  kind: 'group';
  group: string;
}

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
}

export interface GroupMemberRecord {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  /** The member's metadata for the group's protocol (for consumers, its ConsumerProtocolSubscription). */
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupMetadataRecord {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: number;
  members: GroupMemberRecord[];
}

function str(w: Writer, s: string): void {
  w.int16(Buffer.byteLength(s)).utf8(s);
}

function nullableStr(w: Writer, s: string | null): void {
  if (s === null) w.int16(-1);
  else str(w, s);
}

function bytes(w: Writer, b: Buffer): void {
  w.int32(b.length).raw(b);
}

function readStr(r: Reader): string {
  return r.stringOfLength(r.int16()) ?? '';
}

function readNullableStr(r: Reader): string | null {
  const len = r.int16();
  return len < 0 ? null : r.stringOfLength(len);
}

function readBytes(r: Reader): Buffer {
  const len = r.int32();
  return len < 0 ? Buffer.alloc(0) : Buffer.from(r.raw(len));
}

export function encodeOffsetKey(group: string, topic: string, partition: number): Buffer {
  const w = new Writer(64);
  w.int16(1);
  str(w, group);
  str(w, topic);
  w.int32(partition);
  return w.toBuffer();
}

export function encodeGroupKey(group: string): Buffer {
  const w = new Writer(32);
  w.int16(2);
  str(w, group);
  return w.toBuffer();
}

export function encodeOffsetValue(v: CommittedOffset): Buffer {
  const w = new Writer(64);
  w.int16(3).int64(v.offset).int32(v.leaderEpoch);
  str(w, v.metadata);
  w.int64(v.commitTimestamp);
  return w.toBuffer();
}

const GROUP_VALUE_VERSION = 3;

export function encodeGroupMetadataValue(v: GroupMetadataRecord): Buffer {
  const w = new Writer(256);
  w.int16(GROUP_VALUE_VERSION);
  str(w, v.protocolType);
  w.int32(v.generation);
  nullableStr(w, v.protocol);
  nullableStr(w, v.leader);
  w.int64(v.currentStateTimestamp);
  w.int32(v.members.length);
  for (const m of v.members) {
    str(w, m.memberId);
    nullableStr(w, m.groupInstanceId);
    str(w, m.clientId);
    str(w, m.clientHost);
    w.int32(m.rebalanceTimeoutMs).int32(m.sessionTimeoutMs);
    bytes(w, m.subscription);
    bytes(w, m.assignment);
  }
  return w.toBuffer();
}

/** Versions 0-3 (what Kafka up to 3.x and we write); undefined for the flexible v4 and anything unknown. */
export function decodeGroupMetadataValue(buf: Buffer): GroupMetadataRecord | undefined {
  const r = new Reader(buf);
  const version = r.int16();
  if (version < 0 || version > 3) return undefined;
  const protocolType = readStr(r);
  const generation = r.int32();
  const protocol = readNullableStr(r);
  const leader = readNullableStr(r);
  const currentStateTimestamp = version >= 2 ? r.int64() : -1;
  const count = r.int32();
  const members: GroupMemberRecord[] = [];
  for (let i = 0; i < count; i++) {
    const memberId = readStr(r);
    const groupInstanceId = version >= 3 ? readNullableStr(r) : null;
    const clientId = readStr(r);
    const clientHost = readStr(r);
    const rebalanceTimeoutMs = version >= 1 ? r.int32() : -1;
    const sessionTimeoutMs = r.int32();
    members.push({ memberId, groupInstanceId, clientId, clientHost, rebalanceTimeoutMs: rebalanceTimeoutMs < 0 ? sessionTimeoutMs : rebalanceTimeoutMs, sessionTimeoutMs, subscription: readBytes(r), assignment: readBytes(r) });
  }
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
}

export function decodeKey(buf: Buffer): OffsetKey | GroupKey | undefined {
  const r = new Reader(buf);
  const version = r.int16();
  if (version === 0 || version === 1) return { kind: 'offset', group: readStr(r), topic: readStr(r), partition: r.int32() };
  if (version === 2) return { kind: 'group', group: readStr(r) };
  return undefined;
}

export function decodeOffsetValue(buf: Buffer): CommittedOffset {
  const r = new Reader(buf);
  const version = r.int16();
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = readStr(r);
  const commitTimestamp = r.int64();
  return { offset, leaderEpoch, metadata, commitTimestamp };
}

/** Java's String.hashCode, so a group maps to the same offsets partition Kafka would choose. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

export function offsetsPartitionFor(group: string, partitions: number): number {
  // Kafka's Utils.abs: Integer.MIN_VALUE maps to 0.
  const h = javaStringHash(group);
  return (h === -2147483648 ? 0 : Math.abs(h)) % partitions;
}
