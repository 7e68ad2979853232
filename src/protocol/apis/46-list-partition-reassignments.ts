// ListPartitionReassignments (key 46), version 0, flexible from 0.
// Lists ongoing reassignments (KIP-455); a null topic list means all. Each partition shows its current replica
// set and the replicas being added and removed. `kafka-topics.sh --describe` calls it and tolerates its absence.

import { api, array, int16, int32, nullableArray, nullableString, string, struct, v } from '../schema';

const requestTopic = struct({ name: string, partitionIndexes: array(int32) });

const ongoingPartition = struct({
  partitionIndex: int32,
  replicas: array(int32),
  addingReplicas: array(int32),
  removingReplicas: array(int32),
});

const ongoingTopic = struct({ name: string, partitions: array(ongoingPartition) });

export const ListPartitionReassignments = api({
  key: 46,
  name: 'ListPartitionReassignments',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request: struct({
    timeoutMs: v(int32, '0+', 60000),
    topics: nullableArray(requestTopic),
  }),
  response: struct({
    throttleTimeMs: int32,
    errorCode: int16,
    errorMessage: nullableString,
    topics: array(ongoingTopic),
  }),
});
