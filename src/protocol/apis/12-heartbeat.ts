// Heartbeat (key 12), versions 0-4, flexible from 4.
// v1 throttle time; v3 group_instance_id. REBALANCE_IN_PROGRESS 27 tells a member to rejoin; ILLEGAL_GENERATION
// 22, UNKNOWN_MEMBER_ID 25 and FENCED_INSTANCE_ID 82 make it start over.

import { api, int16, int32, nullableString, string, struct, v } from '../schema';

export const Heartbeat = api({
  key: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  request: struct({
    groupId: string,
    generationId: int32,
    memberId: string,
    groupInstanceId: v(nullableString, '3+', null),
  }),
  response: struct({
    throttleTimeMs: v(int32, '1+'),
    errorCode: int16,
  }),
});
