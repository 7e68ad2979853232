// ApiVersions (key 18), versions 0-4, flexible from 3.
// The response header is always v0 (see frame.ts). v3+ requests carry the client software name and version
// (KIP-511); we accept any value rather than validating it as Kafka does, because rejecting a client for its
// name helps nobody. A request for a version above 4 is answered with a v0 body, UNSUPPORTED_VERSION and only
// the ApiVersions range, so the client can retry with a version we support.

import { api, array, int16, int32, int64, string, struct, tagged, v, bool } from '../schema';

const apiKeyRange = struct({ apiKey: int16, minVersion: int16, maxVersion: int16 });
const supportedFeature = struct({ name: string, minVersion: int16, maxVersion: int16 });
// Finalized features list the max level first (FinalizedFeatureKey in ApiVersionsResponse.json).
const finalizedFeature = struct({ name: string, maxVersionLevel: int16, minVersionLevel: int16 });

export const ApiVersions = api({
  key: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 3,
  request: struct({
    clientSoftwareName: v(string, '3+'),
    clientSoftwareVersion: v(string, '3+'),
  }),
  response: struct({
    errorCode: int16,
    apiKeys: array(apiKeyRange),
    throttleTimeMs: v(int32, '1+'),
    supportedFeatures: tagged(array(supportedFeature), 0, '3+'),
    finalizedFeaturesEpoch: tagged(int64, 1, '3+', -1),
    finalizedFeatures: tagged(array(finalizedFeature), 2, '3+'),
    zkMigrationReady: tagged(bool, 3, '3+', false),
  }),
});
