// AddPartitionsToTxn (key 24), versions 0-3, flexible from 3.
// A transactional producer names each partition before its first write to it in a transaction, so that the
// coordinator knows where to send the commit/abort markers. v1 is v0 (a PRODUCER_FENCED-free retry hint), v2 allows
// the coordinator to answer CONCURRENT_TRANSACTIONS sooner, v3 is flexible. v4 (KIP-890) batches several
// transactions for brokers' verify-only checks and is not served: clients fall back to v3.
// Errors per partition: INVALID_PRODUCER_EPOCH 47 / PRODUCER_FENCED 90, INVALID_PRODUCER_ID_MAPPING 49,
// INVALID_TXN_STATE 48, CONCURRENT_TRANSACTIONS 51, OPERATION_NOT_ATTEMPTED 55 for the others when one fails.

import { api, array, int16, int32, int64, string, struct } from '../schema';

export const AddPartitionsToTxn = api({
  key: 24,
  name: 'AddPartitionsToTxn',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 3,
  request: struct({
    transactionalId: string,
    producerId: int64,
    producerEpoch: int16,
    topics: array(struct({ name: string, partitions: array(int32) })),
  }),
  response: struct({
    throttleTimeMs: int32,
    results: array(
      struct({
        name: string,
        results: array(struct({ partitionIndex: int32, partitionErrorCode: int16 })),
      }),
    ),
  }),
});
