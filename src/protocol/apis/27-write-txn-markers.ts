// WriteTxnMarkers (key 27), versions 0-1, flexible from 1.
// Sent by a transaction coordinator to the leaders of the transaction's partitions: each appends a control batch
// (commit or abort) for the producer. An inter-broker API: clients never send it.

import { api, array, bool, int16, int32, int64, string, struct } from '../schema';

export const WriteTxnMarkers = api({
  key: 27,
  name: 'WriteTxnMarkers',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 1,
  request: struct({
    markers: array(
      struct({
        producerId: int64,
        producerEpoch: int16,
        transactionResult: bool,
        topics: array(struct({ name: string, partitionIndexes: array(int32) })),
        coordinatorEpoch: int32,
      }),
    ),
  }),
  response: struct({
    markers: array(
      struct({
        producerId: int64,
        topics: array(
          struct({
            name: string,
            partitions: array(struct({ partitionIndex: int32, errorCode: int16 })),
          }),
        ),
      }),
    ),
  }),
});
