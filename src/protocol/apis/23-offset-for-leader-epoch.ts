// OffsetForLeaderEpoch (key 23), versions 0-4, flexible from 4.
// Answers the end offset of a leader epoch (the start offset of the next epoch, or the log end offset for the
// current one), used by followers to truncate and by consumers to detect log truncation (KIP-320). v1 returns
// the leader epoch; v2 CurrentLeaderEpoch fencing (FENCED_LEADER_EPOCH 74 / UNKNOWN_LEADER_EPOCH 75) and throttle
// time; v3 ReplicaId (-1 consumer, -2 debug default). librdkafka >= 2.1 sends v2 once Metadata exposes epochs.
// Unknown epochs answer leader epoch -1 and end offset -1.

import { api, array, int16, int32, int64, string, struct, v } from '../schema';

const requestPartition = struct({
  partition: int32,
  currentLeaderEpoch: v(int32, '2+', -1),
  leaderEpoch: int32,
});

const responsePartition = struct({
  errorCode: int16,
  partition: int32,
  leaderEpoch: v(int32, '1+', -1),
  endOffset: v(int64, '0+', -1),
});

export const OffsetForLeaderEpoch = api({
  key: 23,
  name: 'OffsetForLeaderEpoch',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  request: struct({
    replicaId: v(int32, '3+', -2),
    topics: array(struct({ topic: string, partitions: array(requestPartition) })),
  }),
  response: struct({
    throttleTimeMs: v(int32, '2+'),
    topics: array(struct({ topic: string, partitions: array(responsePartition) })),
  }),
});
