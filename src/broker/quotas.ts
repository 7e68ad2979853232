// Client quotas (KIP-13, KIP-55, KIP-219, KIP-546): per user and/or client-id byte rates for produce and fetch,
// stored in the metadata image by AlterClientQuotas and enforced by each broker on its own traffic, as Kafka does.
//
// Which quota applies to a request is Kafka's precedence (ClientQuotaManager): the first entity of
//   user+client-id, user+<default client-id>, user, <default user>+client-id, <default user>+<default client-id>,
//   <default user>, client-id, <default client-id>
// that sets the quota's key. Rates are measured per such entity over quota.window.num samples of
// quota.window.size.seconds (11 of 1 s, Kafka's defaults), and a request that takes the rate over the quota is
// answered at once with throttle_time_ms = (rate - quota) / quota * window, after which the broker stops reading
// from the connection for that long (KIP-219: the client is expected to wait too). Replication traffic is not
// throttled.

import { ErrorCode, KafkaError } from '../protocol/errorCode';

export interface QuotaEntityPart {
  entityType: string;
  /** null = the default entity of that type. */
  entityName: string | null;
}

export interface ClientQuotaEntry {
  entity: QuotaEntityPart[];
  values: Record<string, number>;
}

export const ENTITY_USER = 'user';
export const ENTITY_CLIENT_ID = 'client-id';
export const ENTITY_IP = 'ip';

/** The keys Kafka accepts, by the entity types they apply to. */
const KEYS_BY_ENTITY: Record<string, string[]> = {
  [ENTITY_USER]: ['producer_byte_rate', 'consumer_byte_rate', 'request_percentage', 'controller_mutation_rate'],
  [ENTITY_CLIENT_ID]: ['producer_byte_rate', 'consumer_byte_rate', 'request_percentage', 'controller_mutation_rate'],
  [ENTITY_IP]: ['connection_creation_rate'],
};

/** Whole numbers only for the byte and creation rates (Kafka's LONG/INT quota configs). */
const INTEGRAL_KEYS = new Set(['producer_byte_rate', 'consumer_byte_rate', 'connection_creation_rate']);

/** A canonical key for an entity (the order of its parts does not matter). */
export function entityKey(entity: QuotaEntityPart[]): string {
  return JSON.stringify([...entity].sort((a, b) => a.entityType.localeCompare(b.entityType)).map((p) => [p.entityType, p.entityName]));
}

/** Why an entity cannot carry quotas (Kafka's INVALID_REQUEST messages), or undefined. */
export function entityProblem(entity: QuotaEntityPart[]): string | undefined {
  if (entity.length === 0) return 'Invalid empty client quota entity';
  const types = entity.map((p) => p.entityType);
  if (new Set(types).size !== types.length) return 'Duplicate entity type in client quota entity';
  for (const t of types) if (!(t in KEYS_BY_ENTITY)) return `Unhandled client quota entity type: ${t}`;
  if (types.includes(ENTITY_IP) && types.length > 1) return 'Invalid quota entity combination, IP entity should not be used with user/client ID entity.';
  return undefined;
}

/** Why one op cannot apply to the entity (INVALID_REQUEST), or undefined. */
export function quotaOpProblem(entity: QuotaEntityPart[], key: string, value: number, remove: boolean): string | undefined {
  const allowed = KEYS_BY_ENTITY[entity[0].entityType] ?? [];
  if (!allowed.includes(key)) return `Invalid configuration key ${key}`;
  if (remove) return undefined;
  if (!Number.isFinite(value) || value <= 0) return `Invalid value ${value} for configuration ${key}: must be positive`;
  if (INTEGRAL_KEYS.has(key) && !Number.isInteger(value)) return `${key} must be a whole number`;
  return undefined;
}

export function checkEntity(entity: QuotaEntityPart[]): void {
  const problem = entityProblem(entity);
  if (problem) throw new KafkaError(ErrorCode.INVALID_REQUEST, problem);
}

/** The quota that applies to (user, clientId) for `key`, with the entity it comes from; undefined = unlimited. */
export function resolveQuota(entries: ClientQuotaEntry[], user: string, clientId: string, key: string): { value: number; entity: string } | undefined {
  const byKey = new Map(entries.map((e) => [entityKey(e.entity), e]));
  const u = (name: string | null) => ({ entityType: ENTITY_USER, entityName: name });
  const c = (name: string | null) => ({ entityType: ENTITY_CLIENT_ID, entityName: name });
  const candidates: QuotaEntityPart[][] = [[u(user), c(clientId)], [u(user), c(null)], [u(user)], [u(null), c(clientId)], [u(null), c(null)], [u(null)], [c(clientId)], [c(null)]];
  for (const entity of candidates) {
    const k = entityKey(entity);
    const value = byKey.get(k)?.values[key];
    if (value !== undefined) {
      // Rates are tracked per client of the entity that matched with its names filled in (a default entity still
      // limits each user or client on its own, as Kafka's metric tags do).
      return { value, entity: `${key} ${JSON.stringify([user, clientId])} ${k}` };
    }
  }
  return undefined;
}

/** A windowed rate (Kafka's Rate over SampledStat) per tracked entity. */
export class QuotaRates {
  private readonly samples = new Map<string, Array<{ start: number; bytes: number }>>();

  constructor(
    private readonly windows: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records `bytes` for `entity` and returns the throttle time this request earns under `quota` bytes/s. */
  recordAndThrottle(entity: string, bytes: number, quota: number): number {
    const t = this.now();
    let list = this.samples.get(entity);
    if (!list) this.samples.set(entity, (list = []));
    while (list.length > 0 && list[0].start <= t - this.windows * this.windowMs) list.shift();
    const last = list.at(-1);
    if (last && t - last.start < this.windowMs) last.bytes += bytes;
    else list.push({ start: t, bytes });
    const total = list.reduce((sum, s) => sum + s.bytes, 0);
    // Kafka's Rate.windowSize: the elapsed time since the oldest sample, but never less than windows - 1 full windows.
    const elapsed = Math.max(t - list[0].start, (this.windows - 1) * this.windowMs, 1);
    const rate = (total * 1000) / elapsed;
    if (rate <= quota) return 0;
    const throttle = ((rate - quota) / quota) * elapsed;
    return Math.min(Math.round(throttle), this.windows * this.windowMs);
  }
}
