// DescribeTransactions (key 65), version 0, flexible.
// The state of transactional ids, answered by their transaction coordinator (NOT_COORDINATOR elsewhere,
// TRANSACTIONAL_ID_NOT_FOUND 105 for an unknown id). States are Kafka's names: Empty, Ongoing, PrepareCommit, ...

import { api, array, int16, int32, int64, string, struct } from '../schema';

export const DescribeTransactions = api({
  key: 65,
  name: 'DescribeTransactions',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request: struct({
    transactionalIds: array(string),
  }),
  response: struct({
    throttleTimeMs: int32,
    transactionStates: array(
      struct({
        errorCode: int16,
        transactionalId: string,
        transactionState: string,
        transactionTimeoutMs: int32,
        transactionStartTimeMs: int64,
        producerId: int64,
        producerEpoch: int16,
        topics: array(struct({ topic: string, partitions: array(int32) })),
      }),
    ),
  }),
});
