// DeleteTopics (key 20), versions 0-6, flexible from 4.
// v1 throttle time; v3 may answer TOPIC_DELETION_DISABLED 73; v5 a per-topic error message (and
// THROTTLING_QUOTA_EXCEEDED 89); v6 replaces TopicNames with Topics[] naming each topic by name or id (name
// nullable, UNKNOWN_TOPIC_ID 100) and echoes the topic id. Errors: UNKNOWN_TOPIC_OR_PARTITION 3,
// NOT_CONTROLLER 41 (kafkajs and kafka-python send admin requests to the controller id).

import { api, array, int16, int32, nullableString, string, struct, uuid, v } from '../schema';

const topicState = struct({ name: nullableString, topicId: uuid });

const topicResult = struct({
  name: nullableString, // nullable from v6
  topicId: v(uuid, '6+'),
  errorCode: int16,
  errorMessage: v(nullableString, '5+', null),
});

export const DeleteTopics = api({
  key: 20,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: 4,
  request: struct({
    topics: v(array(topicState), '6+'),
    topicNames: v(array(string), '0-5'),
    timeoutMs: int32,
  }),
  response: struct({
    throttleTimeMs: v(int32, '1+'),
    responses: array(topicResult),
  }),
});
