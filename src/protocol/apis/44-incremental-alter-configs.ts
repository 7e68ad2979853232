// IncrementalAlterConfigs (key 44), versions 0-1, flexible from 1.
// Changes single config keys. ConfigOperation: 0 SET, 1 DELETE (revert to default), 2 APPEND and 3 SUBTRACT
// (list-typed configs only, else INVALID_CONFIG 40). Used by kafka-configs.sh and the Java Admin.

import { api, array, bool, int16, int32, int8, nullableString, string, struct } from '../schema';

const alterableConfig = struct({ name: string, configOperation: int8, value: nullableString });

const resource = struct({
  resourceType: int8,
  resourceName: string,
  configs: array(alterableConfig),
});

const resourceResponse = struct({
  errorCode: int16,
  errorMessage: nullableString,
  resourceType: int8,
  resourceName: string,
});

export const IncrementalAlterConfigs = api({
  key: 44,
  name: 'IncrementalAlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 1,
  request: struct({
    resources: array(resource),
    validateOnly: bool,
  }),
  response: struct({
    throttleTimeMs: int32,
    responses: array(resourceResponse),
  }),
});
