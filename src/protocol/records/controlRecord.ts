// Transaction markers: the control batches a partition leader appends when a transaction ends (Kafka's
// EndTransactionMarker / ControlRecordType). A marker batch has the control and transactional attribute bits, the
// producer's id and epoch, no sequence, and one record whose key is (version int16 = 0, type int16: 0 abort,
// 1 commit) and whose value is (version int16 = 0, coordinatorEpoch int32). Consumers skip control batches; in
// read_committed they use abort markers (via the fetch response's aborted_transactions) to drop aborted records.

import { ATTR_CONTROL, BATCH } from './batchHeader';
import { buildBatch, decodeBatch } from './recordBatch';

export const CONTROL_TYPE_ABORT = 0;
export const CONTROL_TYPE_COMMIT = 1;

export interface TxnMarker {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
}

export function buildMarkerBatch(marker: TxnMarker, timestamp = Date.now()): Buffer {
  const key = Buffer.alloc(4);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(marker.commit ? CONTROL_TYPE_COMMIT : CONTROL_TYPE_ABORT, 2);
  const value = Buffer.alloc(6);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(marker.coordinatorEpoch, 2);
  return buildBatch({
    records: [{ key, value, timestamp }],
    producerId: marker.producerId,
    producerEpoch: marker.producerEpoch,
    baseSequence: -1,
    transactional: true,
    control: true,
  });
}

/**
 * The marker in a control batch, or null when the batch is not a control batch or its record is not a commit or
 * abort marker (Kafka defines other control types, e.g. for KRaft, which carry no transaction outcome).
 */
export function readMarker(batch: Buffer): { commit: boolean; coordinatorEpoch: number } | null {
  if ((batch.readInt16BE(BATCH.ATTRIBUTES) & ATTR_CONTROL) === 0) return null;
  const record = decodeBatch(batch, { verifyCrc: false }).records[0];
  if (!record?.key || record.key.length < 4) return null;
  const type = record.key.readInt16BE(2);
  if (type !== CONTROL_TYPE_ABORT && type !== CONTROL_TYPE_COMMIT) return null;
  const coordinatorEpoch = record.value && record.value.length >= 6 ? record.value.readInt32BE(2) : -1;
  return { commit: type === CONTROL_TYPE_COMMIT, coordinatorEpoch };
}
