// DescribeConfigs (key 32), versions 0-4, flexible from 4.
// Resource types: 2 topic, 4 broker, 8 broker logger. A null key list means every config. v0 has IsDefault;
// v1 replaces it with ConfigSource (1 dynamic topic, 2 dynamic broker, 3 dynamic default broker, 4 static
// broker, 5 default, 6 dynamic broker logger) and adds IncludeSynonyms and the synonym list; v3 adds
// IncludeDocumentation and each config's ConfigType (1 boolean, 2 string, 3 int, 4 short, 5 long, 6 double,
// 7 list, 8 class, 9 password) and documentation. Every config is listed with its source, not only overrides.

import { api, array, bool, int16, int32, int8, nullableArray, nullableString, string, struct, v } from '../schema';

const resource = struct({
  resourceType: int8,
  resourceName: string,
  configurationKeys: nullableArray(string),
});

const synonym = struct({ name: string, value: nullableString, source: int8 });

const config = struct({
  name: string,
  value: nullableString,
  readOnly: bool,
  isDefault: v(bool, '0'),
  configSource: v(int8, '1+', -1),
  isSensitive: bool,
  synonyms: v(array(synonym), '1+'),
  configType: v(int8, '3+'),
  documentation: v(nullableString, '3+', null),
});

const result = struct({
  errorCode: int16,
  errorMessage: nullableString,
  resourceType: int8,
  resourceName: string,
  configs: array(config),
});

export const DescribeConfigs = api({
  key: 32,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  request: struct({
    resources: array(resource),
    includeSynonyms: v(bool, '1+'),
    includeDocumentation: v(bool, '3+'),
  }),
  response: struct({
    throttleTimeMs: int32,
    results: array(result),
  }),
});
