// DescribeAcls, CreateAcls and DeleteAcls. The bindings live in the controller's metadata image, so every
// broker enforces the same set and they survive restarts. As on Kafka: without an authorizer the three APIs
// answer SECURITY_DISABLED; describing needs DESCRIBE on the cluster, creating and deleting ALTER.

import { CreateAcls } from '../../protocol/apis/30-create-acls';
import { DeleteAcls } from '../../protocol/apis/31-delete-acls';
import { DescribeAcls } from '../../protocol/apis/29-describe-acls';
import { ErrorCode } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';
import { AclBinding, AclFilter, aclFilterMatches, aclFilterProblem } from '../security/authorizer';
import { authorizerEnabled, mayOnCluster, Op } from './authz';

const NO_AUTHORIZER = 'No Authorizer is configured.';

export function handleDescribeAcls(req: RequestOf<typeof DescribeAcls>, ctx: HandlerContext): ResponseOf<typeof DescribeAcls> {
  const answer = (errorCode: number, errorMessage: string | null, resources: ResponseOf<typeof DescribeAcls>['resources'] = []) => ({ throttleTimeMs: 0, errorCode, errorMessage, resources });
  if (!authorizerEnabled(ctx.broker.config)) return answer(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER);
  if (!mayOnCluster(ctx, Op.DESCRIBE)) return answer(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null);
  const filter: AclFilter = {
    resourceType: req.resourceTypeFilter,
    resourceName: req.resourceNameFilter,
    patternType: req.patternTypeFilter,
    principal: req.principalFilter,
    host: req.hostFilter,
    operation: req.operation,
    permissionType: req.permissionType,
  };
  const problem = aclFilterProblem(filter);
  if (problem) return answer(ErrorCode.INVALID_REQUEST, problem);
  const byResource = new Map<string, ResponseOf<typeof DescribeAcls>['resources'][number]>();
  for (const b of (ctx.broker.image.acls ?? []).filter((acl) => aclFilterMatches(filter, acl))) {
    const key = JSON.stringify([b.resourceType, b.resourceName, b.patternType]);
    let resource = byResource.get(key);
    if (!resource) byResource.set(key, (resource = { resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, acls: [] }));
    resource.acls.push({ principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permissionType });
  }
  return answer(0, null, [...byResource.values()]);
}

export async function handleCreateAcls(req: RequestOf<typeof CreateAcls>, ctx: HandlerContext): Promise<ResponseOf<typeof CreateAcls>> {
  const all = (errorCode: number, errorMessage: string | null) => ({ throttleTimeMs: 0, results: req.creations.map(() => ({ errorCode, errorMessage })) });
  if (!authorizerEnabled(ctx.broker.config)) return all(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER);
  if (!mayOnCluster(ctx, Op.ALTER)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null);
  const bindings: AclBinding[] = req.creations.map((c) => ({
    resourceType: c.resourceType,
    resourceName: c.resourceName,
    patternType: c.resourcePatternType,
    principal: c.principal,
    host: c.host,
    operation: c.operation,
    permissionType: c.permissionType,
  }));
  const results = await ctx.broker.controller.createAcls(bindings);
  await ctx.broker.syncMetadata();
  return { throttleTimeMs: 0, results };
}

export async function handleDeleteAcls(req: RequestOf<typeof DeleteAcls>, ctx: HandlerContext): Promise<ResponseOf<typeof DeleteAcls>> {
  const all = (errorCode: number, errorMessage: string | null) => ({ throttleTimeMs: 0, filterResults: req.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })) });
  if (!authorizerEnabled(ctx.broker.config)) return all(ErrorCode.SECURITY_DISABLED, NO_AUTHORIZER);
  if (!mayOnCluster(ctx, Op.ALTER)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null);
  const filters: AclFilter[] = req.filters.map((f) => ({
    resourceType: f.resourceTypeFilter,
    resourceName: f.resourceNameFilter,
    patternType: f.patternTypeFilter,
    principal: f.principalFilter,
    host: f.hostFilter,
    operation: f.operation,
    permissionType: f.permissionType,
  }));
  const results = await ctx.broker.controller.deleteAcls(filters);
  await ctx.broker.syncMetadata();
  return {
    throttleTimeMs: 0,
    filterResults: results.map((r) => ({
      errorCode: r.errorCode,
      errorMessage: r.errorMessage,
      matchingAcls: r.deleted.map((b) => ({ errorCode: 0, errorMessage: null, ...b })),
    })),
  };
}
