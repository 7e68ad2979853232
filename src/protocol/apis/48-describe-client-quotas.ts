// DescribeClientQuotas (key 48), versions 0-1, flexible from 1 (KIP-546).
// Components filter entities: match type 0 = exactly `match`, 1 = the default entity of that type, 2 = any entity
// with that type (`strict` drops entities that have other types too). Entries are null on error.

import { api, array, bool, float64, int16, int32, int8, nullableArray, nullableString, string, struct } from '../schema';

const entityPart = struct({ entityType: string, entityName: nullableString });

export const DescribeClientQuotas = api({
  key: 48,
  name: 'DescribeClientQuotas',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 1,
  request: struct({
    components: array(struct({ entityType: string, matchType: int8, match: nullableString })),
    strict: bool,
  }),
  response: struct({
    throttleTimeMs: int32,
    errorCode: int16,
    errorMessage: nullableString,
    entries: nullableArray(struct({ entity: array(entityPart), values: array(struct({ key: string, value: float64 })) })),
  }),
});
