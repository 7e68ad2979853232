// SaslHandshake (key 17), versions 0-1, never flexible (Kafka cannot bump it: KAFKA-9577).
// The client names a mechanism; the response lists the enabled ones (UNSUPPORTED_SASL_MECHANISM 33 if it is
// not among them). v0 is followed by raw SASL tokens framed by a bare int32 length; v1 by SaslAuthenticate
// (key 36) requests. Only served when a listener has SASL enabled.

import { api, array, int16, string, struct } from '../schema';

export const SaslHandshake = api({
  key: 17,
  name: 'SaslHandshake',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: Infinity,
  request: struct({
    mechanism: string,
  }),
  response: struct({
    errorCode: int16,
    mechanisms: array(string),
  }),
});
