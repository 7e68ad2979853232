// AlterClientQuotas (key 49), versions 0-1, flexible from 1 (KIP-546).
// Per entity (user and/or client-id; a null name is the default entity), ops set `key` to `value` or remove it.

import { api, array, bool, float64, int16, int32, nullableString, string, struct } from '../schema';

const entityPart = struct({ entityType: string, entityName: nullableString });

export const AlterClientQuotas = api({
  key: 49,
  name: 'AlterClientQuotas',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 1,
  request: struct({
    entries: array(struct({ entity: array(entityPart), ops: array(struct({ key: string, value: float64, remove: bool })) })),
    validateOnly: bool,
  }),
  response: struct({
    throttleTimeMs: int32,
    entries: array(struct({ errorCode: int16, errorMessage: nullableString, entity: array(entityPart) })),
  }),
});
