// Fetch (key 1), versions 4-17, flexible from 12. v13+ address topics by id (Metadata v10+ gives stable ids);
// v15 moves the replica id into the ReplicaState tag; v16 adds NodeEndpoints; v17 ReplicaDirectoryId.
// v4 isolation level, last stable offset and aborted transactions; v5 log start offset; v7 fetch sessions
// (KIP-227 incremental sessions, kept in src/broker/fetchSessions.ts); v9 current leader epoch fencing; v11 rack id
// and PreferredReadReplica, which must be -1; v12 LastFetchedEpoch and the DivergingEpoch tag used by
// follower truncation. Empty partitions get empty (not null) record bytes; librdkafka needs that.

import { api, array, int16, int32, int64, int8, nullableArray, nullableString, records, string, struct, tagged, uuid, v } from '../schema';

const fetchPartition = struct({
  partition: int32,
  currentLeaderEpoch: v(int32, '9+', -1),
  fetchOffset: int64,
  lastFetchedEpoch: v(int32, '12+', -1),
  logStartOffset: v(int64, '5+', -1),
  partitionMaxBytes: int32,
  replicaDirectoryId: tagged(uuid, 0, '17+', 'AAAAAAAAAAAAAAAAAAAAAA'),
});

const fetchTopic = struct({
  topic: v(string, '0-12'),
  topicId: v(uuid, '13+'),
  partitions: array(fetchPartition),
});

const forgottenTopic = struct({
  topic: v(string, '7-12'),
  topicId: v(uuid, '13+'),
  partitions: array(int32),
});

const replicaState = struct({ replicaId: int32, replicaEpoch: int64 });
const nodeEndpoint = struct({ nodeId: int32, host: string, port: int32, rack: nullableString });
const epochEndOffset = struct({ epoch: int32, endOffset: int64 });
const leaderIdAndEpoch = struct({ leaderId: int32, leaderEpoch: int32 });
const snapshotId = struct({ endOffset: int64, epoch: int32 });
const abortedTransaction = struct({ producerId: int64, firstOffset: int64 });

const partitionData = struct({
  partitionIndex: int32,
  errorCode: int16,
  highWatermark: int64,
  lastStableOffset: v(int64, '4+', -1),
  logStartOffset: v(int64, '5+', -1),
  divergingEpoch: tagged(epochEndOffset, 0, '12+', { epoch: -1, endOffset: -1 }),
  currentLeader: tagged(leaderIdAndEpoch, 1, '12+', { leaderId: -1, leaderEpoch: -1 }),
  snapshotId: tagged(snapshotId, 2, '12+', { endOffset: -1, epoch: -1 }),
  abortedTransactions: v(nullableArray(abortedTransaction), '4+', null),
  preferredReadReplica: v(int32, '11+', -1),
  records,
});

export const Fetch = api({
  key: 1,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 17,
  flexibleFrom: 12,
  request: struct({
    clusterId: tagged(nullableString, 0, '12+', null),
    replicaId: v(int32, '0-14', -1),
    replicaState: tagged(replicaState, 1, '15+', { replicaId: -1, replicaEpoch: -1 }),
    maxWaitMs: int32,
    minBytes: int32,
    maxBytes: v(int32, '3+', 0x7fffffff),
    isolationLevel: v(int8, '4+'),
    sessionId: v(int32, '7+'),
    sessionEpoch: v(int32, '7+', -1),
    topics: array(fetchTopic),
    forgottenTopicsData: v(array(forgottenTopic), '7+'),
    rackId: v(string, '11+'),
  }),
  response: struct({
    throttleTimeMs: v(int32, '1+'),
    errorCode: v(int16, '7+'),
    sessionId: v(int32, '7+'),
    responses: array(struct({ topic: v(string, '0-12'), topicId: v(uuid, '13+'), partitions: array(partitionData) })),
    nodeEndpoints: tagged(array(nodeEndpoint), 0, '16+'),
  }),
});
