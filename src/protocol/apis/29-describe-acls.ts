// DescribeAcls (key 29), versions 0-3, flexible from 2.
// A filter selects ACL bindings: resource type (1 ANY, 2 TOPIC, 3 GROUP, 4 CLUSTER, 5 TRANSACTIONAL_ID,
// 6 DELEGATION_TOKEN, 7 USER), a name (null: any), v1+ a pattern type (1 ANY, 2 MATCH, 3 LITERAL, 4 PREFIXED; v0
// means LITERAL), principal and host (null: any), operation (1 ANY, 2 ALL, 3 READ ...) and permission (1 ANY,
// 2 DENY, 3 ALLOW). The answer groups the matching bindings by resource pattern. v3 only admits the USER type.

import { api, array, int16, int32, int8, nullableString, string, struct, v } from '../schema';

const acl = struct({ principal: string, host: string, operation: int8, permissionType: int8 });

const resource = struct({
  resourceType: int8,
  resourceName: string,
  patternType: v(int8, '1+', 3),
  acls: array(acl),
});

export const DescribeAcls = api({
  key: 29,
  name: 'DescribeAcls',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 2,
  request: struct({
    resourceTypeFilter: int8,
    resourceNameFilter: nullableString,
    patternTypeFilter: v(int8, '1+', 3),
    principalFilter: nullableString,
    hostFilter: nullableString,
    operation: int8,
    permissionType: int8,
  }),
  response: struct({
    throttleTimeMs: int32,
    errorCode: int16,
    errorMessage: nullableString,
    resources: array(resource),
  }),
});
