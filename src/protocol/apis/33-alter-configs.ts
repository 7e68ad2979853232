// AlterConfigs (key 33), versions 0-2, flexible from 2.
// Replaces a resource's whole dynamic config set: keys not listed revert to their defaults (use
// IncrementalAlterConfigs, key 44, to change single keys). A null value removes the key. ValidateOnly checks
// without applying. Unknown or invalid topic configs answer INVALID_CONFIG 40.

import { api, array, bool, int16, int32, int8, nullableString, string, struct } from '../schema';

const alterableConfig = struct({ name: string, value: nullableString });

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

export const AlterConfigs = api({
  key: 33,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 2,
  request: struct({
    resources: array(resource),
    validateOnly: bool,
  }),
  response: struct({
    throttleTimeMs: int32,
    responses: array(resourceResponse),
  }),
});
