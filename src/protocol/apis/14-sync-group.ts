// SyncGroup (key 14), versions 0-5, flexible from 4.
// The leader sends every member's assignment; the others send none and wait. v1 throttle time;
// v3 group_instance_id; v5 ProtocolType/ProtocolName in both directions (checked against the group's when
// present: INCONSISTENT_GROUP_PROTOCOL 23). Assignments are opaque bytes relayed as-is; an empty assignment
// is valid. Errors: ILLEGAL_GENERATION 22, UNKNOWN_MEMBER_ID 25, REBALANCE_IN_PROGRESS 27.

import { api, array, bytes, int16, int32, nullableString, string, struct, v } from '../schema';

const assignment = struct({ memberId: string, assignment: bytes });

export const SyncGroup = api({
  key: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 4,
  request: struct({
    groupId: string,
    generationId: int32,
    memberId: string,
    groupInstanceId: v(nullableString, '3+', null),
    protocolType: v(nullableString, '5+', null),
    protocolName: v(nullableString, '5+', null),
    assignments: array(assignment),
  }),
  response: struct({
    throttleTimeMs: v(int32, '1+'),
    errorCode: int16,
    protocolType: v(nullableString, '5+', null),
    protocolName: v(nullableString, '5+', null),
    assignment: bytes,
  }),
});
