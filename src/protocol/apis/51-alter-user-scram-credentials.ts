// AlterUserScramCredentials (key 51), version 0, flexible (KIP-554).
// Deletions name a user and a mechanism; upsertions carry the salt and the salted password (the client salts and
// hashes, so no password crosses the wire). One result per user named.

import { api, array, bytes, int16, int32, int8, nullableString, string, struct } from '../schema';

export const AlterUserScramCredentials = api({
  key: 51,
  name: 'AlterUserScramCredentials',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request: struct({
    deletions: array(struct({ name: string, mechanism: int8 })),
    upsertions: array(struct({ name: string, mechanism: int8, iterations: int32, salt: bytes, saltedPassword: bytes })),
  }),
  response: struct({
    throttleTimeMs: int32,
    results: array(struct({ user: string, errorCode: int16, errorMessage: nullableString })),
  }),
});
