// DeleteRecords (key 21), versions 0-2, flexible from 2.
// Moves each partition's log start offset forward. Offset -1 means the high watermark; an offset above the
// high watermark answers OFFSET_OUT_OF_RANGE 1. The response gives the resulting low watermark (log start).

import { api, array, int16, int32, int64, string, struct } from '../schema';

const requestTopic = struct({
  name: string,
  partitions: array(struct({ partitionIndex: int32, offset: int64 })),
});

const responseTopic = struct({
  name: string,
  partitions: array(struct({ partitionIndex: int32, lowWatermark: int64, errorCode: int16 })),
});

export const DeleteRecords = api({
  key: 21,
  name: 'DeleteRecords',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request: struct({
    topics: array(requestTopic),
    timeoutMs: int32,
  }),
  response: struct({
    throttleTimeMs: int32,
    topics: array(responseTopic),
  }),
});
