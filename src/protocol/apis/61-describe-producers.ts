// DescribeProducers (key 61), version 0, flexible.
// The active idempotent/transactional producers of partitions (kafka-transactions.sh describe-producers), answered
// by each partition's leader from its producer state; CurrentTxnStartOffset -1 when none is open.

import { api, array, int16, int32, int64, nullableString, string, struct } from '../schema';

export const DescribeProducers = api({
  key: 61,
  name: 'DescribeProducers',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request: struct({
    topics: array(struct({ name: string, partitionIndexes: array(int32) })),
  }),
  response: struct({
    throttleTimeMs: int32,
    topics: array(
      struct({
        name: string,
        partitions: array(
          struct({
            partitionIndex: int32,
            errorCode: int16,
            errorMessage: nullableString,
            activeProducers: array(
              struct({
                producerId: int64,
                producerEpoch: int32,
                lastSequence: int32,
                lastTimestamp: int64,
                coordinatorEpoch: int32,
                currentTxnStartOffset: int64,
              }),
            ),
          }),
        ),
      }),
    ),
  }),
});
