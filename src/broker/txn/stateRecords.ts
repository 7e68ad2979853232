// Records of the internal __transaction_state topic, in Apache Kafka's layout (TransactionLogKey v0 /
// TransactionLogValue v0), so that the coordinator's state is replicated like any other partition and a new
// coordinator reloads it after a failover:
//   key   v0: transactional id
//   value v0: producer id, producer epoch, timeout, status, partitions, last update time, start time
// A null value (tombstone) removes the transactional id (expiry).

import { Reader } from '../../protocol/primitives/reader';
import { Writer } from '../../protocol/primitives/writer';
import { offsetsPartitionFor } from '../groups/offsetsRecords';

export const TRANSACTION_STATE_TOPIC = '__transaction_state';

/** Kafka's TransactionState, with the status byte it persists. */
export const TXN_STATES = ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead', 'PrepareEpochFence'] as const;
export type TxnState = (typeof TXN_STATES)[number];

export interface TxnPartition {
  topic: string;
  partition: number;
}

export interface TxnStateValue {
  producerId: number;
  producerEpoch: number;
  timeoutMs: number;
  state: TxnState;
  partitions: TxnPartition[];
  lastUpdateTimestamp: number;
  startTimestamp: number;
}

/** The __transaction_state partition of a transactional id: abs(javaHash(id)) % partitions, as for groups. */
export function txnStatePartitionFor(transactionalId: string, partitions: number): number {
  return offsetsPartitionFor(transactionalId, partitions);
}

function str(w: Writer, s: string): void {
  w.int16(Buffer.byteLength(s)).utf8(s);
}

function readStr(r: Reader): string {
  return r.stringOfLength(r.int16()) ?? '';
}

export function encodeTxnKey(transactionalId: string): Buffer {
  const w = new Writer(32);
  w.int16(0);
  str(w, transactionalId);
  return w.toBuffer();
}

export function decodeTxnKey(buf: Buffer): string | undefined {
  const r = new Reader(buf);
  return r.int16() === 0 ? readStr(r) : undefined;
}

export function encodeTxnValue(v: TxnStateValue): Buffer {
  const w = new Writer(64);
  w.int16(0).int64(v.producerId).int16(v.producerEpoch).int32(v.timeoutMs).int8(TXN_STATES.indexOf(v.state));
  // Kafka writes the partitions grouped by topic, and an empty list (not null) when there are none.
  const byTopic = new Map<string, number[]>();
  for (const p of v.partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition]);
  w.int32(byTopic.size);
  for (const [topic, ids] of byTopic) {
    str(w, topic);
    w.int32(ids.length);
    for (const id of ids) w.int32(id);
  }
  w.int64(v.lastUpdateTimestamp).int64(v.startTimestamp);
  return w.toBuffer();
}

export function decodeTxnValue(buf: Buffer): TxnStateValue {
  const r = new Reader(buf);
  const version = r.int16();
  if (version !== 0) throw new Error(`unknown transaction log value version ${version}`);
  const producerId = r.int64();
  const producerEpoch = r.int16();
  const timeoutMs = r.int32();
  const status = r.int8();
  const state = TXN_STATES[status];
  if (state === undefined) throw new Error(`unknown transaction status ${status}`);
  const partitions: TxnPartition[] = [];
  const topics = r.int32();
  for (let i = 0; i < topics; i++) {
    const topic = readStr(r);
    const n = r.int32();
    for (let j = 0; j < n; j++) partitions.push({ topic, partition: r.int32() });
  }
  const lastUpdateTimestamp = r.int64();
  const startTimestamp = r.int64();
  return { producerId, producerEpoch, timeoutMs, state, partitions, lastUpdateTimestamp, startTimestamp };
}
