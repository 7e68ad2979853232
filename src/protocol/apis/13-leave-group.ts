// LeaveGroup (key 13), versions 0-5, flexible from 4.
// v0-2 remove one member by id; v3 batches members[] identified by member id and/or group_instance_id (static
// members, KIP-345) and answers per member; v5 adds a Reason per member (KIP-800). An unknown member answers
// UNKNOWN_MEMBER_ID 25 (per member from v3).

import { api, array, int16, int32, nullableString, string, struct, v } from '../schema';

const memberIdentity = struct({
  memberId: string,
  groupInstanceId: nullableString,
  reason: v(nullableString, '5+', null),
});

const memberResponse = struct({
  memberId: string,
  groupInstanceId: nullableString,
  errorCode: int16,
});

export const LeaveGroup = api({
  key: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 4,
  request: struct({
    groupId: string,
    memberId: v(string, '0-2'),
    members: v(array(memberIdentity), '3+'),
  }),
  response: struct({
    throttleTimeMs: v(int32, '1+'),
    errorCode: int16,
    members: v(array(memberResponse), '3+'),
  }),
});
