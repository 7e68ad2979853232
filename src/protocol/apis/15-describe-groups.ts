// DescribeGroups (key 15), versions 0-5, flexible from 5.
// v1 throttle time; v3 IncludeAuthorizedOperations and the group's authorized-operations bit field (-2^31 =
// not requested); v4 members' group_instance_id. An unknown group is described with state "Dead" and error 0
// (v6, not served, changed that to GROUP_ID_NOT_FOUND). States: "Empty", "PreparingRebalance",
// "CompletingRebalance", "Stable", "Dead". Member metadata/assignment are only filled in when Stable.

import { api, array, bool, bytes, int16, int32, nullableString, string, struct, v } from '../schema';

const member = struct({
  memberId: string,
  groupInstanceId: v(nullableString, '4+', null),
  clientId: string,
  clientHost: string,
  memberMetadata: bytes,
  memberAssignment: bytes,
});

const group = struct({
  errorCode: int16,
  groupId: string,
  groupState: string,
  protocolType: string,
  protocolData: string,
  members: array(member),
  authorizedOperations: v(int32, '3+', -2147483648),
});

export const DescribeGroups = api({
  key: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 5,
  request: struct({
    groups: array(string),
    includeAuthorizedOperations: v(bool, '3+'),
  }),
  response: struct({
    throttleTimeMs: v(int32, '1+'),
    groups: array(group),
  }),
});
