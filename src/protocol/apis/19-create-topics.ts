// CreateTopics (key 19), versions 0-7, flexible from 5.
// v1 validate_only; v4 partitions / replication factor -1 mean the broker defaults; v5 the response carries
// the resulting configs, partition count and replication factor; v7 the topic id.
// Errors: TOPIC_ALREADY_EXISTS 36, INVALID_TOPIC_EXCEPTION 17, INVALID_PARTITIONS 37,
// INVALID_REPLICATION_FACTOR 38, INVALID_REPLICA_ASSIGNMENT 39, INVALID_CONFIG 40.

import { api, array, bool, int16, int32, int8, nullableArray, nullableString, string, struct, tagged, uuid, v } from '../schema';

const assignment = struct({ partitionIndex: int32, brokerIds: array(int32) });
const config = struct({ name: string, value: nullableString });

const topicRequest = struct({
  name: string,
  numPartitions: int32,
  replicationFactor: int16,
  assignments: array(assignment),
  configs: array(config),
});

const resultConfig = struct({
  name: string,
  value: nullableString,
  readOnly: bool,
  configSource: int8,
  isSensitive: bool,
});

const topicResult = struct({
  name: string,
  topicId: v(uuid, '7+'),
  errorCode: int16,
  errorMessage: v(nullableString, '1+', null),
  topicConfigErrorCode: tagged(int16, 0, '5+', 0),
  numPartitions: v(int32, '5+', -1),
  replicationFactor: v(int16, '5+', -1),
  configs: v(nullableArray(resultConfig), '5+', null),
});

export const CreateTopics = api({
  key: 19,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 7,
  flexibleFrom: 5,
  request: struct({
    topics: array(topicRequest),
    timeoutMs: int32,
    validateOnly: v(bool, '1+'),
  }),
  response: struct({
    throttleTimeMs: v(int32, '2+'),
    topics: array(topicResult),
  }),
});
