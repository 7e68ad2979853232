// JoinGroup (key 11), versions 0-9, flexible from 6.
// v1 adds RebalanceTimeoutMs (v0: the session timeout is used); v2 throttle time; v4 lets the broker answer a
// first join with MEMBER_ID_REQUIRED 79 and the assigned member id; v5 group_instance_id (static membership);
// v7 ProtocolType in the response and a nullable ProtocolName; v8 the join Reason (KIP-800); v9 SkipAssignment
// (KIP-814, always false here). Protocol metadata is opaque bytes relayed to the leader, which receives the
// member list; followers get an empty one. Errors: INCONSISTENT_GROUP_PROTOCOL 23, INVALID_SESSION_TIMEOUT 26,
// UNKNOWN_MEMBER_ID 25, REBALANCE_IN_PROGRESS 27, GROUP_MAX_SIZE_REACHED 81, FENCED_INSTANCE_ID 82.

import { api, array, bool, bytes, int16, int32, nullableString, string, struct, v } from '../schema';

const protocol = struct({ name: string, metadata: bytes });

const member = struct({
  memberId: string,
  groupInstanceId: v(nullableString, '5+', null),
  metadata: bytes,
});

export const JoinGroup = api({
  key: 11,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 6,
  request: struct({
    groupId: string,
    sessionTimeoutMs: int32,
    rebalanceTimeoutMs: v(int32, '1+', -1),
    memberId: string,
    groupInstanceId: v(nullableString, '5+', null),
    protocolType: string,
    protocols: array(protocol),
    reason: v(nullableString, '8+', null),
  }),
  response: struct({
    throttleTimeMs: v(int32, '2+'),
    errorCode: int16,
    generationId: v(int32, '0+', -1),
    protocolType: v(nullableString, '7+', null),
    protocolName: nullableString, // nullable from v7
    leader: string,
    skipAssignment: v(bool, '9+', false),
    memberId: string,
    members: array(member),
  }),
});
