// CreatePartitions (key 37), versions 0-3, flexible from 2.
// Raises a topic's partition count to Count; Assignments (null = broker's choice) give the replicas of each new
// partition. v3 is v2 (it may answer THROTTLING_QUOTA_EXCEEDED 89). Every requested topic is echoed with its
// result. Errors: INVALID_PARTITIONS 37 (count not above the current one), INVALID_REPLICA_ASSIGNMENT 39,
// UNKNOWN_TOPIC_OR_PARTITION 3.

import { api, array, bool, int16, int32, nullableArray, nullableString, string, struct } from '../schema';

const assignment = struct({ brokerIds: array(int32) });

const topic = struct({
  name: string,
  count: int32,
  assignments: nullableArray(assignment),
});

const topicResult = struct({
  name: string,
  errorCode: int16,
  errorMessage: nullableString,
});

export const CreatePartitions = api({
  key: 37,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 2,
  request: struct({
    topics: array(topic),
    timeoutMs: int32,
    validateOnly: bool,
  }),
  response: struct({
    throttleTimeMs: int32,
    results: array(topicResult),
  }),
});
