// ListTransactions (key 66), version 0, flexible.
// The transactional ids a broker coordinates, filtered by state names and producer ids (empty = all); state names
// the broker does not know come back in UnknownStateFilters. (v1 adds a duration filter, not served.)

import { api, array, int16, int32, int64, string, struct } from '../schema';

export const ListTransactions = api({
  key: 66,
  name: 'ListTransactions',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request: struct({
    stateFilters: array(string),
    producerIdFilters: array(int64),
  }),
  response: struct({
    throttleTimeMs: int32,
    errorCode: int16,
    unknownStateFilters: array(string),
    transactionStates: array(struct({ transactionalId: string, producerId: int64, transactionState: string })),
  }),
});
