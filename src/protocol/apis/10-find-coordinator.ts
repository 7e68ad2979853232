// FindCoordinator (key 10), versions 0-6, flexible from 3.
// v1 adds KeyType (0 group, 1 transaction; 2 share, v6) and the error message / throttle time; v4 batches the
// lookup (KIP-699): CoordinatorKeys in the request, Coordinators[] in the response, replacing the single-key
// fields; v5 may return TRANSACTION_ABORTABLE; v6 allows share-group keys. The coordinator of a group is the
// leader of its __consumer_offsets partition; COORDINATOR_NOT_AVAILABLE 15 while none is elected.

import { api, array, int16, int32, int8, nullableString, string, struct, v } from '../schema';

const coordinator = struct({
  key: string,
  nodeId: int32,
  host: string,
  port: int32,
  errorCode: int16,
  errorMessage: nullableString,
});

export const FindCoordinator = api({
  key: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: 3,
  request: struct({
    key: v(string, '0-3'),
    keyType: v(int8, '1+'),
    coordinatorKeys: v(array(string), '4+'),
  }),
  response: struct({
    throttleTimeMs: v(int32, '1+'),
    errorCode: v(int16, '0-3'),
    errorMessage: v(nullableString, '1-3', null),
    nodeId: v(int32, '0-3'),
    host: v(string, '0-3'),
    port: v(int32, '0-3'),
    coordinators: v(array(coordinator), '4+'),
  }),
});
