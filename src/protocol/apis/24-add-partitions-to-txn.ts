// AddPartitionsToTxn (key 24), versions 0-4, flexible from 3.
// A transactional producer names each partition before its first write to it in a transaction, so that the
// coordinator knows where to send the commit/abort markers. v1 is v0; from v2 a fenced producer gets
// PRODUCER_FENCED 90 instead of INVALID_PRODUCER_EPOCH 47; v3 is flexible. v4 (KIP-890) batches several
// transactions, each with VerifyOnly: partition leaders ask the coordinator whether a partition is in a
// transaction before appending its first transactional batch (clients keep to v3; the v0-3 fields and results
// move into Transactions / ResultsByTransaction, and the response gains a top-level ErrorCode).
// Errors per partition: INVALID_PRODUCER_EPOCH 47 / PRODUCER_FENCED 90, INVALID_PRODUCER_ID_MAPPING 49,
// INVALID_TXN_STATE 48, CONCURRENT_TRANSACTIONS 51, OPERATION_NOT_ATTEMPTED 55 for the others when one fails.

import { api, array, bool, int16, int32, int64, string, struct, v } from '../schema';

const topic = struct({ name: string, partitions: array(int32) });
const topicResult = struct({
  name: string,
  results: array(struct({ partitionIndex: int32, partitionErrorCode: int16 })),
});

export const AddPartitionsToTxn = api({
  key: 24,
  name: 'AddPartitionsToTxn',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,
  request: struct({
    transactions: v(
      array(
        struct({
          transactionalId: string,
          producerId: int64,
          producerEpoch: int16,
          verifyOnly: bool,
          topics: array(topic),
        }),
      ),
      '4+',
    ),
    transactionalId: v(string, '0-3'),
    producerId: v(int64, '0-3'),
    producerEpoch: v(int16, '0-3'),
    topics: v(array(topic), '0-3'),
  }),
  response: struct({
    throttleTimeMs: int32,
    errorCode: v(int16, '4+'),
    resultsByTransaction: v(array(struct({ transactionalId: string, topicResults: array(topicResult) })), '4+'),
    results: v(array(topicResult), '0-3'),
  }),
});
