// SaslAuthenticate (key 36), versions 0-2, flexible from 2.
// Carries one SASL token each way after a v1 SaslHandshake. v1 adds SessionLifetimeMs (0 = no re-authentication
// required, KIP-368). A failed exchange answers SASL_AUTHENTICATION_FAILED 58 with a message, then the broker
// closes the connection.

import { api, bytes, int16, int64, nullableString, struct, v } from '../schema';

export const SaslAuthenticate = api({
  key: 36,
  name: 'SaslAuthenticate',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request: struct({
    authBytes: bytes,
  }),
  response: struct({
    errorCode: int16,
    errorMessage: nullableString,
    authBytes: bytes,
    sessionLifetimeMs: v(int64, '1+'),
  }),
});
