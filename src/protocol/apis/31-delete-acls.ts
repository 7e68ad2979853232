// DeleteAcls (key 31), versions 0-3, flexible from 2.
// Each filter (as DescribeAcls's) deletes every binding it matches; its result lists them, each with its own
// error code.

import { api, array, int16, int32, int8, nullableString, string, struct, v } from '../schema';

const filter = struct({
  resourceTypeFilter: int8,
  resourceNameFilter: nullableString,
  patternTypeFilter: v(int8, '1+', 3),
  principalFilter: nullableString,
  hostFilter: nullableString,
  operation: int8,
  permissionType: int8,
});

const matchingAcl = struct({
  errorCode: int16,
  errorMessage: nullableString,
  resourceType: int8,
  resourceName: string,
  patternType: v(int8, '1+', 3),
  principal: string,
  host: string,
  operation: int8,
  permissionType: int8,
});

export const DeleteAcls = api({
  key: 31,
  name: 'DeleteAcls',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 2,
  request: struct({
    filters: array(filter),
  }),
  response: struct({
    throttleTimeMs: int32,
    filterResults: array(struct({ errorCode: int16, errorMessage: nullableString, matchingAcls: array(matchingAcl) })),
  }),
});
