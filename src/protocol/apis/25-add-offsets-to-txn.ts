// AddOffsetsToTxn (key 25), versions 0-3, flexible from 3.
// Adds a consumer group's __consumer_offsets partition to the transaction (sendOffsetsToTransaction): the
// coordinator will then write a marker there too, which makes the TxnOffsetCommit offsets visible on commit.
// v1 is v0; from v2 a fenced producer gets PRODUCER_FENCED 90 instead of INVALID_PRODUCER_EPOCH 47.

import { api, int16, int32, int64, string, struct } from '../schema';

export const AddOffsetsToTxn = api({
  key: 25,
  name: 'AddOffsetsToTxn',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 3,
  request: struct({
    transactionalId: string,
    producerId: int64,
    producerEpoch: int16,
    groupId: string,
  }),
  response: struct({
    throttleTimeMs: int32,
    errorCode: int16,
  }),
});
