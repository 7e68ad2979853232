// ElectLeaders (key 43), versions 0-2, flexible from 2.
// v0 elects the preferred replica; v1 adds ElectionType (0 preferred, 1 unclean) and a top-level error code.
// A null TopicPartitions means every partition. Per partition: ELECTION_NOT_NEEDED 84 when the wanted leader
// already leads, PREFERRED_LEADER_NOT_AVAILABLE 80, ELIGIBLE_LEADERS_NOT_AVAILABLE 83.

import { api, array, int16, int32, int8, nullableArray, nullableString, string, struct, v } from '../schema';

const topicPartitions = struct({ topic: string, partitionId: array(int32) });

const partitionResult = struct({ partitionId: int32, errorCode: int16, errorMessage: nullableString });

const replicaElectionResult = struct({ topic: string, partitionResult: array(partitionResult) });

export const ElectLeaders = api({
  key: 43,
  name: 'ElectLeaders',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request: struct({
    electionType: v(int8, '1+'),
    topicPartitions: nullableArray(topicPartitions),
    timeoutMs: v(int32, '0+', 60000),
  }),
  response: struct({
    throttleTimeMs: int32,
    errorCode: v(int16, '1+'),
    replicaElectionResults: array(replicaElectionResult),
  }),
});
