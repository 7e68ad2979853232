// OffsetFetch (key 9), versions 0-9, flexible from 6.
// v0 read ZooKeeper offsets (served from the same store here); v2 allows a null topic list (= every topic the
// group has offsets for) and adds the top-level error code; v3 throttle time; v5 the committed leader epoch;
// v7 RequireStable (UNSTABLE_OFFSET_COMMIT 88 while a transaction is pending); v8 batches several groups
// (`groups` replaces the top-level group id, topics and error code in both directions); v9 adds the KIP-848
// member id and epoch to each requested group. A partition without a committed offset answers offset -1,
// metadata "" and error 0.

import { api, array, bool, int16, int32, int64, nullableArray, nullableString, string, struct, v } from '../schema';

const requestTopic = struct({ name: string, partitionIndexes: array(int32) });

const requestGroup = struct({
  groupId: string,
  memberId: v(nullableString, '9+', null),
  memberEpoch: v(int32, '9+', -1),
  topics: nullableArray(requestTopic),
});

// The v0-7 and v8+ partition entries are identical on the wire (the leader epoch exists from v5 in both).
const responsePartition = struct({
  partitionIndex: int32,
  committedOffset: int64,
  committedLeaderEpoch: v(int32, '5+', -1),
  metadata: nullableString,
  errorCode: int16,
});

const responseTopic = struct({ name: string, partitions: array(responsePartition) });

const responseGroup = struct({
  groupId: string,
  topics: array(responseTopic),
  errorCode: int16,
});

export const OffsetFetch = api({
  key: 9,
  name: 'OffsetFetch',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 6,
  request: struct({
    groupId: v(string, '0-7'),
    topics: v(nullableArray(requestTopic), '0-7', null),
    groups: v(array(requestGroup), '8+'),
    requireStable: v(bool, '7+'),
  }),
  response: struct({
    throttleTimeMs: v(int32, '3+'),
    topics: v(array(responseTopic), '0-7'),
    errorCode: v(int16, '2-7'),
    groups: v(array(responseGroup), '8+'),
  }),
});
