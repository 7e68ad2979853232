// OffsetDelete (key 47), version 0, not flexible.
// Deletes committed offsets of some partitions of a group (KIP-496). Only for partitions the group is not
// subscribed to: GROUP_SUBSCRIBED_TO_TOPIC 86 otherwise; GROUP_ID_NOT_FOUND 69 for an unknown group. Note the
// response order: error code before throttle time.

import { api, array, int16, int32, string, struct } from '../schema';

const requestTopic = struct({
  name: string,
  partitions: array(struct({ partitionIndex: int32 })),
});

const responseTopic = struct({
  name: string,
  partitions: array(struct({ partitionIndex: int32, errorCode: int16 })),
});

export const OffsetDelete = api({
  key: 47,
  name: 'OffsetDelete',
  minVersion: 0,
  maxVersion: 0,
  flexibleFrom: Infinity,
  request: struct({
    groupId: string,
    topics: array(requestTopic),
  }),
  response: struct({
    errorCode: int16,
    throttleTimeMs: int32,
    topics: array(responseTopic),
  }),
});
