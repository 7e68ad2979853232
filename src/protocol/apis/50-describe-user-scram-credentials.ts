// DescribeUserScramCredentials (key 50), version 0, flexible (KIP-554).
// Users null or empty = every user with a credential; per user the mechanisms (1 SCRAM-SHA-256, 2 SCRAM-SHA-512)
// and iteration counts, never salts or keys. An unknown user is RESOURCE_NOT_FOUND, a user named twice
// DUPLICATE_RESOURCE.

import { api, array, int16, int32, int8, nullableArray, nullableString, string, struct } from '../schema';

export const DescribeUserScramCredentials = api({
  key: 50,
  name: 'DescribeUserScramCredentials',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request: struct({
    users: nullableArray(struct({ name: string })),
  }),
  response: struct({
    throttleTimeMs: int32,
    errorCode: int16,
    errorMessage: nullableString,
    results: array(
      struct({
        user: string,
        errorCode: int16,
        errorMessage: nullableString,
        credentialInfos: array(struct({ mechanism: int8, iterations: int32 })),
      }),
    ),
  }),
});
