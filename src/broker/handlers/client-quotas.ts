// DescribeClientQuotas and AlterClientQuotas (KIP-546), and the enforcement of produce and fetch byte rates
// (quotas.ts has the rules). Quotas live in the controller's metadata image so every broker applies the same ones.
// As on Kafka: describing needs DESCRIBE_CONFIGS on the cluster, altering ALTER_CONFIGS.

import { AlterClientQuotas } from '../../protocol/apis/49-alter-client-quotas';
import { DescribeClientQuotas } from '../../protocol/apis/48-describe-client-quotas';
import { ErrorCode } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';
import { ClientQuotaEntry, ENTITY_CLIENT_ID, ENTITY_IP, ENTITY_USER, resolveQuota } from '../quotas';
import { NO_RESPONSE } from '../router';
import { mayOnCluster, Op, principalOf } from './authz';

const MATCH_EXACT = 0;
const MATCH_DEFAULT = 1;
const MATCH_ANY = 2;

type DescribeRes = ResponseOf<typeof DescribeClientQuotas>;

export function handleDescribeClientQuotas(req: RequestOf<typeof DescribeClientQuotas>, ctx: HandlerContext): DescribeRes {
  const answer = (errorCode: number, errorMessage: string | null, entries: DescribeRes['entries']): DescribeRes => ({ throttleTimeMs: 0, errorCode, errorMessage, entries });
  if (!mayOnCluster(ctx, Op.DESCRIBE_CONFIGS)) return answer(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null, null);
  const types = req.components.map((c) => c.entityType);
  if (new Set(types).size !== types.length) return answer(ErrorCode.INVALID_REQUEST, 'Duplicate entity type in client quota filter', null);
  for (const c of req.components) {
    if (![ENTITY_USER, ENTITY_CLIENT_ID, ENTITY_IP].includes(c.entityType)) return answer(ErrorCode.INVALID_REQUEST, `Custom entity type '${c.entityType}' not supported`, null);
    if (c.matchType === MATCH_EXACT && c.match === null) return answer(ErrorCode.INVALID_REQUEST, 'Filter component with exact match must have a non-null match', null);
    if (c.matchType !== MATCH_EXACT && c.matchType !== MATCH_DEFAULT && c.matchType !== MATCH_ANY) return answer(ErrorCode.INVALID_REQUEST, `Unknown match type ${c.matchType}`, null);
  }
  const matches = (e: ClientQuotaEntry) =>
    req.components.every((c) => {
      const part = e.entity.find((p) => p.entityType === c.entityType);
      if (!part) return false;
      if (c.matchType === MATCH_EXACT) return part.entityName === c.match;
      if (c.matchType === MATCH_DEFAULT) return part.entityName === null;
      return true;
    }) && (!req.strict || e.entity.every((p) => types.includes(p.entityType)));
  const entries = (ctx.broker.image.clientQuotas ?? []).filter(matches).map((e) => ({
    entity: e.entity.map((p) => ({ entityType: p.entityType, entityName: p.entityName })),
    values: Object.entries(e.values).map(([key, value]) => ({ key, value })),
  }));
  return answer(0, null, entries);
}

export async function handleAlterClientQuotas(req: RequestOf<typeof AlterClientQuotas>, ctx: HandlerContext): Promise<ResponseOf<typeof AlterClientQuotas>> {
  const entityOf = (e: (typeof req.entries)[number]) => e.entity.map((p) => ({ entityType: p.entityType, entityName: p.entityName }));
  if (!mayOnCluster(ctx, Op.ALTER_CONFIGS)) {
    return { throttleTimeMs: 0, entries: req.entries.map((e) => ({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, entity: entityOf(e) })) };
  }
  const results = await ctx.broker.controller.alterClientQuotas(
    req.entries.map((e) => ({ entity: entityOf(e), ops: e.ops.map((o) => ({ key: o.key, value: o.value, remove: o.remove })) })),
    req.validateOnly,
  );
  ctx.broker.applyMetadata(await ctx.broker.controller.metadata());
  return { throttleTimeMs: 0, entries: req.entries.map((e, i) => ({ ...results[i], entity: entityOf(e) })) };
}

// ---- enforcement -------------------------------------------------------------------------------------------

type Handler<Req, Res> = (req: Req, ctx: HandlerContext) => Res | typeof NO_RESPONSE | Promise<Res | typeof NO_RESPONSE>;

/** The user a quota names: the SASL user, or ANONYMOUS (Kafka's principal name without the "User:" type). */
function quotaUser(ctx: HandlerContext): string {
  return principalOf(ctx).replace(/^User:/, '');
}

function sizeOf(records: unknown): number {
  if (records === null || records === undefined) return 0;
  if (Buffer.isBuffer(records)) return records.length;
  if (Array.isArray(records)) return records.reduce((n: number, r) => n + sizeOf(r), 0);
  return 0;
}

/**
 * Wraps a Produce or Fetch handler: the bytes it moved count against the client's `key` quota; over the quota the
 * response carries throttle_time_ms and the connection is muted for as long (KIP-219). `throttled` turns the
 * response into what Kafka sends a throttled client (for Fetch: no data, which the client fetches again later).
 */
export function withByteRateQuota<Req, Res extends { throttleTimeMs: number }>(
  key: 'producer_byte_rate' | 'consumer_byte_rate',
  handler: Handler<Req, Res>,
  bytesOf: (req: Req, res: Res | typeof NO_RESPONSE, ctx: HandlerContext) => number | undefined,
  throttled: (res: Res) => Res = (res) => res,
): Handler<Req, Res> {
  const apply = (req: Req, ctx: HandlerContext, res: Res | typeof NO_RESPONSE): Res | typeof NO_RESPONSE => {
    const entries = ctx.broker.image.clientQuotas;
    if (!entries || entries.length === 0) return res;
    const bytes = bytesOf(req, res, ctx);
    if (bytes === undefined) return res;
    const quota = resolveQuota(entries, quotaUser(ctx), ctx.header.clientId ?? '', key);
    if (!quota) return res;
    const throttleMs = ctx.broker.quotaRates.recordAndThrottle(quota.entity, bytes, quota.value);
    if (throttleMs <= 0) return res;
    ctx.conn.muteFor(throttleMs);
    return res === NO_RESPONSE ? res : { ...throttled(res), throttleTimeMs: Math.max(res.throttleTimeMs, throttleMs) };
  };
  return (req, ctx) => {
    const res = handler(req, ctx);
    return res instanceof Promise ? res.then((r) => apply(req, ctx, r)) : apply(req, ctx, res);
  };
}

/** Produce: the record bytes of the request. */
export function producedBytes(req: { topicData: Array<{ partitionData: Array<{ records: unknown }> }> }): number {
  return req.topicData.reduce((n, t) => n + t.partitionData.reduce((m, p) => m + sizeOf(p.records), 0), 0);
}

/**
 * Kafka's answer to a throttled consumer's Fetch (a sessionless fetch context's throttled response): no partitions at
 * all. The bytes it would have carried still count, as on Kafka, and the client fetches the same offsets again.
 */
export function withoutFetchedData<Res extends { responses: unknown[] }>(res: Res): Res {
  return { ...res, responses: [] };
}

/** Fetch: the record bytes of the response; none for a follower's fetch (replication is not throttled). */
export function fetchedBytes(req: { replicaId: number; replicaState: { replicaId: number } }, res: unknown, ctx: HandlerContext): number | undefined {
  const replicaId = ctx.version >= 15 ? req.replicaState.replicaId : req.replicaId;
  if (replicaId >= 0 || res === NO_RESPONSE) return undefined;
  const responses = (res as { responses: Array<{ partitions: Array<{ records: unknown }> }> }).responses;
  return responses.reduce((n, t) => n + t.partitions.reduce((m, p) => m + sizeOf(p.records), 0), 0);
}
