// TxnOffsetCommit (key 28), versions 0-3, flexible from 3.
// Offsets a transactional producer commits for a consumer group (sendOffsetsToTransaction), sent to the group
// coordinator. They stay pending until the transaction's marker reaches the group's __consumer_offsets partition:
// visible on commit, dropped on abort. v2 adds the committed leader epoch; v3 the consumer's generation, member id
// and group instance id (KIP-447: the coordinator fences zombie consumers as OffsetCommit does).

import { api, array, int16, int32, int64, nullableString, string, struct, v } from '../schema';

export const TxnOffsetCommit = api({
  key: 28,
  name: 'TxnOffsetCommit',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 3,
  request: struct({
    transactionalId: string,
    groupId: string,
    producerId: int64,
    producerEpoch: int16,
    generationId: v(int32, '3+', -1),
    memberId: v(string, '3+', ''),
    groupInstanceId: v(nullableString, '3+', null),
    topics: array(
      struct({
        name: string,
        partitions: array(
          struct({
            partitionIndex: int32,
            committedOffset: int64,
            committedLeaderEpoch: v(int32, '2+', -1),
            committedMetadata: nullableString,
          }),
        ),
      }),
    ),
  }),
  response: struct({
    throttleTimeMs: int32,
    topics: array(struct({ name: string, partitions: array(struct({ partitionIndex: int32, errorCode: int16 })) })),
  }),
});
