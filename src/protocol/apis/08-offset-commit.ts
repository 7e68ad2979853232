// OffsetCommit (key 8), versions 0-9, flexible from 8.
// v1 adds the generation, member id and a per-partition commit timestamp (v1 only); v2-4 carry a retention time
// instead (removed in v5: retention is the broker's offsets.retention.minutes); v3 throttle time in the response;
// v6 the committed leader epoch; v7 group_instance_id (static members); v9 is v8 plus KIP-848 member epochs
// (GenerationIdOrMemberEpoch). Generation -1 with an empty member id is a standalone commit (assign()), allowed
// when the group is Empty or unknown. Errors: ILLEGAL_GENERATION 22, UNKNOWN_MEMBER_ID 25,
// REBALANCE_IN_PROGRESS 27, OFFSET_METADATA_TOO_LARGE 12, FENCED_INSTANCE_ID 82.

import { api, array, int16, int32, int64, nullableString, string, struct, v } from '../schema';

const requestPartition = struct({
  partitionIndex: int32,
  committedOffset: int64,
  committedLeaderEpoch: v(int32, '6+', -1),
  commitTimestamp: v(int64, '1', -1),
  committedMetadata: nullableString,
});

const responsePartition = struct({ partitionIndex: int32, errorCode: int16 });

export const OffsetCommit = api({
  key: 8,
  name: 'OffsetCommit',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 8,
  request: struct({
    groupId: string,
    generationIdOrMemberEpoch: v(int32, '1+', -1),
    memberId: v(string, '1+'),
    groupInstanceId: v(nullableString, '7+', null),
    retentionTimeMs: v(int64, '2-4', -1),
    topics: array(struct({ name: string, partitions: array(requestPartition) })),
  }),
  response: struct({
    throttleTimeMs: v(int32, '3+'),
    topics: array(struct({ name: string, partitions: array(responsePartition) })),
  }),
});
