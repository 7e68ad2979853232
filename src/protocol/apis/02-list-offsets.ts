// ListOffsets (key 2), versions 0-7, flexible from 6.
// Timestamp -1 = latest (HW, or LSO for read_committed), -2 = earliest (log start), -3 = max timestamp (v7,
// KIP-734), otherwise the first offset whose timestamp >= the given one. v0 answers with a list of old-style
// offsets; v2 adds the isolation level; v4 the current leader epoch and the returned leader epoch.

import { api, array, int16, int32, int64, int8, string, struct, v } from '../schema';

const requestPartition = struct({
  partitionIndex: int32,
  currentLeaderEpoch: v(int32, '4+', -1),
  timestamp: int64,
  maxNumOffsets: v(int32, '0', 1),
});

const responsePartition = struct({
  partitionIndex: int32,
  errorCode: int16,
  oldStyleOffsets: v(array(int64), '0'),
  timestamp: v(int64, '1+', -1),
  offset: v(int64, '1+', -1),
  leaderEpoch: v(int32, '4+', -1),
});

export const ListOffsets = api({
  key: 2,
  name: 'ListOffsets',
  minVersion: 0,
  maxVersion: 7,
  flexibleFrom: 6,
  request: struct({
    replicaId: int32,
    isolationLevel: v(int8, '2+'),
    topics: array(struct({ name: string, partitions: array(requestPartition) })),
  }),
  response: struct({
    throttleTimeMs: v(int32, '2+'),
    topics: array(struct({ name: string, partitions: array(responsePartition) })),
  }),
});
