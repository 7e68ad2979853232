// Metadata (key 3), versions 0-12, flexible from 9.
// v0: an empty topic list means all topics; v1+: null = all, empty = none. v0-3 imply auto-creation, v4+ carry
// AllowAutoTopicCreation. v1 adds controller id, rack and is_internal; v2 cluster id; v5 offline replicas;
// v7 leader epochs; v8 authorized operations; v10 topic ids; v12 lookup by topic id (name nullable).

import { api, array, bool, int16, int32, nullableArray, nullableString, string, struct, uuid, v } from '../schema';

const requestTopic = struct({
  topicId: v(uuid, '10+'),
  name: nullableString,
});

const broker = struct({
  nodeId: int32,
  host: string,
  port: int32,
  rack: v(nullableString, '1+'),
});

const partition = struct({
  errorCode: int16,
  partitionIndex: int32,
  leaderId: int32,
  leaderEpoch: v(int32, '7+', -1),
  replicaNodes: array(int32),
  isrNodes: array(int32),
  offlineReplicas: v(array(int32), '5+'),
});

const topic = struct({
  errorCode: int16,
  name: nullableString,
  topicId: v(uuid, '10+'),
  isInternal: v(bool, '1+'),
  partitions: array(partition),
  topicAuthorizedOperations: v(int32, '8+', -2147483648),
});

export const Metadata = api({
  key: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 12,
  flexibleFrom: 9,
  request: struct({
    topics: nullableArray(requestTopic),
    allowAutoTopicCreation: v(bool, '4+', true),
    includeClusterAuthorizedOperations: v(bool, '8-10'),
    includeTopicAuthorizedOperations: v(bool, '8+'),
  }),
  response: struct({
    throttleTimeMs: v(int32, '3+'),
    brokers: array(broker),
    clusterId: v(nullableString, '2+', null),
    controllerId: v(int32, '1+', -1),
    topics: array(topic),
    clusterAuthorizedOperations: v(int32, '8-10', -2147483648),
  }),
});
