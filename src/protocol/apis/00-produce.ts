// Produce (key 0), versions 0-11 advertised, flexible from 9. Versions 0-2 carry message formats v0/v1, which
// this broker does not store: their partitions are answered with UNSUPPORTED_FOR_MESSAGE_FORMAT. Advertising
// min 0 matters: librdkafka < 2.12 only enables gzip/snappy/lz4 when the Produce range includes 0.
// v3 adds the transactional id; v5 log_start_offset in the response; v7 allows zstd; v8 record errors;
// v10 CurrentLeader/NodeEndpoints tags (KIP-951), left at their defaults.
// acks=0 requests get no response at all.

import { api, array, int16, int32, int64, nullableString, records, string, struct, tagged, v } from '../schema';

const partitionData = struct({ index: int32, records });
const topicData = struct({ name: string, partitionData: array(partitionData) });

const recordError = struct({ batchIndex: int32, batchIndexErrorMessage: nullableString });
const leaderIdAndEpoch = struct({ leaderId: int32, leaderEpoch: int32 });
const nodeEndpoint = struct({ nodeId: int32, host: string, port: int32, rack: nullableString });

const partitionResponse = struct({
  index: int32,
  errorCode: int16,
  baseOffset: int64,
  logAppendTimeMs: v(int64, '2+', -1),
  logStartOffset: v(int64, '5+', -1),
  recordErrors: v(array(recordError), '8+'),
  errorMessage: v(nullableString, '8+', null),
  currentLeader: tagged(leaderIdAndEpoch, 0, '10+', { leaderId: -1, leaderEpoch: -1 }),
});

export const Produce = api({
  key: 0,
  name: 'Produce',
  minVersion: 0,
  maxVersion: 11,
  flexibleFrom: 9,
  request: struct({
    transactionalId: v(nullableString, '3+', null),
    acks: int16,
    timeoutMs: int32,
    topicData: array(topicData),
  }),
  response: struct({
    responses: array(struct({ name: string, partitionResponses: array(partitionResponse) })),
    throttleTimeMs: v(int32, '1+'),
    nodeEndpoints: tagged(array(nodeEndpoint), 0, '10+'),
  }),
});
