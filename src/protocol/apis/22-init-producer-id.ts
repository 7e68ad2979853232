// InitProducerId (key 22), versions 0-4, flexible from 2.
// Gives an idempotent or transactional producer its id and epoch. Required by the Java >= 3.0 default producer
// (enable.idempotence=true). v3 lets a producer pass its current id/epoch to bump the epoch after
// INVALID_PRODUCER_EPOCH 47 (-1/-1 = a fresh id); v4 allows PRODUCER_FENCED 90. A null transactional id means
// idempotence only.

import { api, int16, int32, int64, nullableString, struct, v } from '../schema';

export const InitProducerId = api({
  key: 22,
  name: 'InitProducerId',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 2,
  request: struct({
    transactionalId: nullableString,
    transactionTimeoutMs: int32,
    producerId: v(int64, '3+', -1),
    producerEpoch: v(int16, '3+', -1),
  }),
  response: struct({
    throttleTimeMs: int32,
    errorCode: int16,
    producerId: v(int64, '0+', -1),
    producerEpoch: int16,
  }),
});
