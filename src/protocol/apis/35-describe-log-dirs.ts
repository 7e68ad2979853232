// DescribeLogDirs (key 35), versions 0-4, flexible from 2.
// Per log directory of the answering broker: its path and, for each partition replica it holds, the size of
// the log in bytes, the offset lag (Kafka: max(HW - LEO, 0) for a current log) and whether it is a future log
// (one being moved by AlterReplicaLogDirs). Null topics = every partition. v3 adds a top-level error code;
// v4 each directory's total and usable bytes (-1 when unknown).

import { api, array, bool, int16, int32, int64, nullableArray, string, struct, v } from '../schema';

const partition = struct({ partitionIndex: int32, partitionSize: int64, offsetLag: int64, isFutureKey: bool });

const result = struct({
  errorCode: int16,
  logDir: string,
  topics: array(struct({ name: string, partitions: array(partition) })),
  totalBytes: v(int64, '4+', -1),
  usableBytes: v(int64, '4+', -1),
});

export const DescribeLogDirs = api({
  key: 35,
  name: 'DescribeLogDirs',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 2,
  request: struct({
    topics: nullableArray(struct({ topic: string, partitions: array(int32) })),
  }),
  response: struct({
    throttleTimeMs: int32,
    errorCode: v(int16, '3+'),
    results: array(result),
  }),
});
