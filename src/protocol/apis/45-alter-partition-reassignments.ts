// AlterPartitionReassignments (key 45), version 0, flexible from 0.
// Starts (Replicas = the target replica list) or cancels (Replicas = null) the reassignment of partitions
// (KIP-455). Errors: NO_REASSIGNMENT_IN_PROGRESS 85 on a cancel with nothing pending,
// INVALID_REPLICA_ASSIGNMENT 39, UNKNOWN_TOPIC_OR_PARTITION 3. (v1 adds AllowReplicationFactorChange; not served.)

import { api, array, int16, int32, nullableArray, nullableString, string, struct, v } from '../schema';

const reassignablePartition = struct({ partitionIndex: int32, replicas: nullableArray(int32) });
const reassignableTopic = struct({ name: string, partitions: array(reassignablePartition) });

const partitionResponse = struct({ partitionIndex: int32, errorCode: int16, errorMessage: nullableString });
const topicResponse = struct({ name: string, partitions: array(partitionResponse) });

export const AlterPartitionReassignments = api({
  key: 45,
  name: 'AlterPartitionReassignments',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: 0,
  request: struct({
    timeoutMs: v(int32, '0+', 60000),
    topics: array(reassignableTopic),
  }),
  response: struct({
    throttleTimeMs: int32,
    errorCode: int16,
    errorMessage: nullableString,
    responses: array(topicResponse),
  }),
});
