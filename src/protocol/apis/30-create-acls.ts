// CreateAcls (key 30), versions 0-3, flexible from 2.
// Each creation is one ACL binding: a resource pattern (type, name, v1+ pattern type LITERAL 3 or PREFIXED 4;
// v0 means LITERAL), a principal ("User:alice", "User:*"), a host ("*"), an operation and ALLOW 3 / DENY 2.
// One result per creation, in order.

import { api, array, int16, int32, int8, nullableString, string, struct, v } from '../schema';

export const CreateAcls = api({
  key: 30,
  name: 'CreateAcls',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 2,
  request: struct({
    creations: array(
      struct({
        resourceType: int8,
        resourceName: string,
        resourcePatternType: v(int8, '1+', 3),
        principal: string,
        host: string,
        operation: int8,
        permissionType: int8,
      }),
    ),
  }),
  response: struct({
    throttleTimeMs: int32,
    results: array(struct({ errorCode: int16, errorMessage: nullableString })),
  }),
});
