// DescribeCluster (key 60), versions 0-1, flexible from 0.
// The Java Admin's describeCluster (it falls back to Metadata when absent). v1 adds EndpointType (1 brokers,
// 2 controllers; this cluster only answers 1, else UNSUPPORTED_ENDPOINT_TYPE 120). Authorized operations are
// -2^31 unless requested. (v2 adds IncludeFencedBrokers / IsFenced; not served.)

import { api, array, bool, int16, int32, int8, nullableString, string, struct, v } from '../schema';

const broker = struct({
  brokerId: int32,
  host: string,
  port: int32,
  rack: nullableString,
});

export const DescribeCluster = api({
  key: 60,
  name: 'DescribeCluster',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 0,
  request: struct({
    includeClusterAuthorizedOperations: bool,
    endpointType: v(int8, '1+', 1),
  }),
  response: struct({
    throttleTimeMs: int32,
    errorCode: int16,
    errorMessage: nullableString,
    endpointType: v(int8, '1+', 1),
    clusterId: string,
    controllerId: v(int32, '0+', -1),
    brokers: array(broker),
    clusterAuthorizedOperations: v(int32, '0+', -2147483648),
  }),
});
