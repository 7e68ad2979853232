// ApiVersions: the table comes from the router, so it always matches what is registered.
import { ApiVersions } from '../../protocol/apis/18-api-versions';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';

export function handleApiVersions(_req: RequestOf<typeof ApiVersions>, ctx: HandlerContext): ResponseOf<typeof ApiVersions> {
  return {
    errorCode: 0,
    apiKeys: ctx.broker.router.versions(),
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
}
