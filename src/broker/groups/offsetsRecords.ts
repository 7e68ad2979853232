// Records of the internal __consumer_offsets topic, in Apache Kafka's own layout so committed offsets are
// replicated like any other partition and survive the coordinator's broker dying:
//   offset commit  key v1: group, topic, partition      value v3: offset, leader epoch, metadata, commit time
//   group          key v2: group                         value: a null value (tombstone) deletes the group
// A null value on an offset key deletes that offset.

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

function str(w: Writer, s: string): void {
  w.int16(Buffer.byteLength(s)).utf8(s);
}

function readStr(r: Reader): string {
  return r.stringOfLength(r.int16()) ?? '';
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
