// Topic and broker configuration: names, types, defaults and validation, as Apache Kafka defines them.
// DescribeConfigs returns every topic config with its source; unknown names and bad values are INVALID_CONFIG.

import { ErrorCode, KafkaError } from '../protocol/errorCode';

export type ConfigType = 'long' | 'int' | 'boolean' | 'string' | 'double' | 'list' | 'class' | 'password';

export interface ConfigDef {
  name: string;
  type: ConfigType;
  /** Default as Kafka prints it. */
  defaultValue: string;
  /** The broker-level config that provides the default (synonym), if any. */
  brokerSynonym?: string;
  /**
   * The broker synonym that holds the default, when brokerSynonym itself has none (log.retention.ms has none;
   * log.retention.hours=168 does). DescribeConfigs lists it only after a static brokerSynonym, as Kafka does.
   */
  defaultSynonym?: { name: string; value: string };
  validate?: (value: string) => string | undefined;
  doc: string;
}

/** Kafka's config source codes (DescribeConfigs v1+). */
export enum ConfigSource {
  UNKNOWN = 0,
  DYNAMIC_TOPIC_CONFIG = 1,
  DYNAMIC_BROKER_CONFIG = 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG = 3,
  STATIC_BROKER_CONFIG = 4,
  DEFAULT_CONFIG = 5,
  DYNAMIC_BROKER_LOGGER_CONFIG = 6,
}

const LONG_MAX = '9223372036854775807';

const atLeast = (min: number) => (v: string) => (Number(v) < min ? `must be at least ${min}` : undefined);
const oneOf = (...allowed: string[]) => (v: string) => (allowed.includes(v) ? undefined : `must be one of ${allowed.join(', ')}`);
const listOf = (...allowed: string[]) => (v: string) => {
  const bad = v.split(',').map((s) => s.trim()).filter((s) => !allowed.includes(s));
  return bad.length ? `must be a list of ${allowed.join(', ')}` : undefined;
};

export const TOPIC_CONFIGS: ConfigDef[] = [
  { name: 'cleanup.policy', type: 'list', defaultValue: 'delete', brokerSynonym: 'log.cleanup.policy', validate: listOf('delete', 'compact'), doc: 'delete, compact, or both: compact keeps the latest record per key (records need keys)' },
  { name: 'compression.type', type: 'string', defaultValue: 'producer', brokerSynonym: 'compression.type', validate: oneOf('producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd'), doc: 'stored compression; only producer is applied (batches are stored as sent)' },
  { name: 'delete.retention.ms', type: 'long', defaultValue: '86400000', brokerSynonym: 'log.cleaner.delete.retention.ms', validate: atLeast(0), doc: 'tombstone retention for compacted topics' },
  { name: 'file.delete.delay.ms', type: 'long', defaultValue: '60000', brokerSynonym: 'log.segment.delete.delay.ms', validate: atLeast(0), doc: 'delay before deleting a file' },
  { name: 'flush.messages', type: 'long', defaultValue: LONG_MAX, brokerSynonym: 'log.flush.interval.messages', validate: atLeast(1), doc: 'fsync after this many messages' },
  { name: 'flush.ms', type: 'long', defaultValue: LONG_MAX, brokerSynonym: 'log.flush.interval.ms', defaultSynonym: { name: 'log.flush.scheduler.interval.ms', value: LONG_MAX }, validate: atLeast(0), doc: 'fsync after this many ms' },
  { name: 'index.interval.bytes', type: 'int', defaultValue: '4096', brokerSynonym: 'log.index.interval.bytes', validate: atLeast(0), doc: 'bytes between offset index entries' },
  { name: 'max.compaction.lag.ms', type: 'long', defaultValue: LONG_MAX, brokerSynonym: 'log.cleaner.max.compaction.lag.ms', validate: atLeast(1), doc: 'longest a record stays uncompacted (cleaned whatever the dirty ratio after this)' },
  { name: 'max.message.bytes', type: 'int', defaultValue: '1048588', brokerSynonym: 'message.max.bytes', validate: atLeast(0), doc: 'largest record batch size allowed' },
  { name: 'message.timestamp.type', type: 'string', defaultValue: 'CreateTime', brokerSynonym: 'log.message.timestamp.type', validate: oneOf('CreateTime', 'LogAppendTime'), doc: 'CreateTime or LogAppendTime' },
  { name: 'min.cleanable.dirty.ratio', type: 'double', defaultValue: '0.5', brokerSynonym: 'log.cleaner.min.cleanable.ratio', validate: (v) => (Number(v) < 0 || Number(v) > 1 ? 'must be between 0 and 1' : undefined), doc: 'dirty share of the log above which it is compacted' },
  { name: 'min.compaction.lag.ms', type: 'long', defaultValue: '0', brokerSynonym: 'log.cleaner.min.compaction.lag.ms', validate: atLeast(0), doc: 'shortest a record stays uncompacted' },
  { name: 'min.insync.replicas', type: 'int', defaultValue: '1', brokerSynonym: 'min.insync.replicas', validate: atLeast(1), doc: 'replicas that must acknowledge an acks=all write' },
  { name: 'preallocate', type: 'boolean', defaultValue: 'false', brokerSynonym: 'log.preallocate', validate: oneOf('true', 'false'), doc: '' },
  { name: 'retention.bytes', type: 'long', defaultValue: '-1', brokerSynonym: 'log.retention.bytes', doc: 'maximum partition size before old segments are deleted (-1: no limit)' },
  { name: 'retention.ms', type: 'long', defaultValue: '604800000', brokerSynonym: 'log.retention.ms', defaultSynonym: { name: 'log.retention.hours', value: '168' }, validate: atLeast(-1), doc: 'how long to keep records (-1: forever)' },
  { name: 'segment.bytes', type: 'int', defaultValue: '1073741824', brokerSynonym: 'log.segment.bytes', validate: atLeast(14), doc: 'segment file size' },
  { name: 'segment.index.bytes', type: 'int', defaultValue: '10485760', brokerSynonym: 'log.index.size.max.bytes', validate: atLeast(4), doc: '' },
  { name: 'segment.jitter.ms', type: 'long', defaultValue: '0', brokerSynonym: 'log.roll.jitter.ms', defaultSynonym: { name: 'log.roll.jitter.hours', value: '0' }, validate: atLeast(0), doc: '' },
  { name: 'segment.ms', type: 'long', defaultValue: '604800000', brokerSynonym: 'log.roll.ms', defaultSynonym: { name: 'log.roll.hours', value: '168' }, validate: atLeast(1), doc: 'roll a segment after this age' },
  { name: 'unclean.leader.election.enable', type: 'boolean', defaultValue: 'false', brokerSynonym: 'unclean.leader.election.enable', validate: oneOf('true', 'false'), doc: 'elect an out-of-sync replica when no in-sync replica is alive (may lose data)' },
  { name: 'message.downconversion.enable', type: 'boolean', defaultValue: 'true', brokerSynonym: 'log.message.downconversion.enable', validate: oneOf('true', 'false'), doc: '' },
  { name: 'local.retention.ms', type: 'long', defaultValue: '-2', validate: atLeast(-2), doc: '' },
  { name: 'local.retention.bytes', type: 'long', defaultValue: '-2', validate: atLeast(-2), doc: '' },
];

export const TOPIC_CONFIG_BY_NAME = new Map(TOPIC_CONFIGS.map((c) => [c.name, c]));

function checkType(def: ConfigDef, value: string): string | undefined {
  switch (def.type) {
    case 'int':
    case 'long':
      if (!/^-?\d+$/.test(value.trim())) return `must be an integer`;
      if (def.type === 'int' && Math.abs(Number(value)) > 2147483647) return 'out of range for an int';
      return undefined;
    case 'double':
      return Number.isFinite(Number(value)) && value.trim() !== '' ? undefined : 'must be a number';
    case 'boolean':
      return /^(true|false)$/i.test(value) ? undefined : 'must be true or false';
    default:
      return undefined;
  }
}

/** Validates one topic config; throws KafkaError(INVALID_CONFIG) with a message naming the problem. */
export function validateTopicConfig(name: string, value: string | null): void {
  const def = TOPIC_CONFIG_BY_NAME.get(name);
  if (!def) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${name}`);
  if (value === null) return;
  const problem = checkType(def, value) ?? def.validate?.(def.type === 'boolean' ? value.toLowerCase() : value.trim());
  if (problem) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Invalid value ${value} for configuration ${name}: ${problem}`);
}

export function normalizeTopicConfigValue(name: string, value: string): string {
  const def = TOPIC_CONFIG_BY_NAME.get(name);
  return def?.type === 'boolean' ? value.toLowerCase() : value.trim();
}

/** Effective topic config: overrides on top of broker-level settings on top of Kafka defaults. */
export function effectiveTopicConfig(overrides: Record<string, string>, brokerDefaults: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const def of TOPIC_CONFIGS) {
    out[def.name] = overrides[def.name] ?? (def.brokerSynonym && brokerDefaults[def.brokerSynonym]) ?? def.defaultValue;
  }
  return out;
}

export function num(config: Record<string, string>, name: string): number {
  return Number(config[name]);
}

export interface TopicNameProblem {
  code: number;
  message: string;
}

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]+$/;
export const MAX_TOPIC_NAME = 249;

/** Kafka's topic name rules (Topic.validate). Returns undefined when the name is legal. */
export function topicNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'Topic name is illegal, it can\'t be empty';
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME) return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME} characters, topic name: ${name}`;
  if (!LEGAL_TOPIC.test(name)) return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  return undefined;
}

/** '.' and '_' collide in metric names, so Kafka refuses topics that differ only by them. */
export function collisionKey(name: string): string {
  return name.replace(/\./g, '_');
}

/** Broker-level configs reported by DescribeConfigs for a broker resource. */
export interface BrokerConfig {
  'broker.id': string;
  'num.partitions': string;
  'default.replication.factor': string;
  'auto.create.topics.enable': string;
  'offsets.topic.num.partitions': string;
  'offsets.topic.replication.factor': string;
  'group.initial.rebalance.delay.ms': string;
  'group.min.session.timeout.ms': string;
  'group.max.session.timeout.ms': string;
  'log.retention.check.interval.ms': string;
  'replica.lag.time.max.ms': string;
  'message.max.bytes': string;
  'socket.request.max.bytes': string;
  'connections.max.idle.ms': string;
  'delete.topic.enable': string;
  'producer.id.expiration.ms': string;
  'producer.id.expiration.check.interval.ms': string;
  'transactional.id.expiration.ms': string;
  [key: string]: string;
}

export function defaultBrokerConfig(brokerId: number): BrokerConfig {
  return {
    'broker.id': String(brokerId),
    'num.partitions': '1',
    'default.replication.factor': '1',
    'auto.create.topics.enable': 'true',
    'offsets.topic.num.partitions': '10',
    'offsets.topic.replication.factor': '3',
    'group.initial.rebalance.delay.ms': '0',
    'group.min.session.timeout.ms': '6000',
    'group.max.session.timeout.ms': '1800000',
    'log.retention.check.interval.ms': '5000',
    'replica.lag.time.max.ms': '30000',
    'message.max.bytes': '1048588',
    'socket.request.max.bytes': '104857600',
    'connections.max.idle.ms': '600000',
    'delete.topic.enable': 'true',
    // Idempotent producers idle for a day are forgotten by each partition log, checked every 10 minutes (Kafka's
    // defaults). Transactional ids without a transaction for 7 days are forgotten, checked hourly (Kafka's defaults).
    'producer.id.expiration.ms': '86400000',
    'producer.id.expiration.check.interval.ms': '600000',
    'transactional.id.expiration.ms': '604800000',
    // Incremental fetch sessions (KIP-227): Kafka's defaults for how many sessions a broker keeps and how long an
    // unused one is safe from eviction.
    'max.incremental.fetch.session.cache.slots': '1000',
    'min.incremental.fetch.session.eviction.ms': '120000',
    // The transaction coordinator's: __transaction_state mirrors __consumer_offsets here (10 partitions where
    // Kafka has 50), RF min(3, live brokers); Kafka's timeout bound and timed-out transaction check interval.
    'transaction.state.log.num.partitions': '10',
    'transaction.state.log.replication.factor': '3',
    'transaction.max.timeout.ms': '900000',
    'transaction.abort.timed.out.transaction.cleanup.interval.ms': '10000',
    'transaction.remove.expired.transaction.cleanup.interval.ms': '3600000',
    // Committed offsets of a group without members expire after 7 days, checked every 10 minutes (Kafka's defaults).
    'offsets.retention.minutes': '10080',
    'offsets.retention.check.interval.ms': '600000',
    // The log cleaner (compaction): on by default, and its pause when no log needs cleaning (Kafka's defaults).
    'log.cleaner.enable': 'true',
    'log.cleaner.backoff.ms': '15000',
    // Client quotas are measured over quota.window.num samples of quota.window.size.seconds (Kafka's defaults).
    'quota.window.num': '11',
    'quota.window.size.seconds': '1',
  };
}

// ---- dynamic broker configs (AlterConfigs / IncrementalAlterConfigs on a BROKER resource) ----------------------

/**
 * Broker configs that Kafka lets AlterConfigs change while brokers run (DynamicBrokerConfig.AllDynamicConfigs, the
 * part that means something here): every broker-level synonym of a topic config (log.retention.ms,
 * min.insync.replicas, message.max.bytes...), which topics without their own override then follow, and a few that are
 * stored and reported only. Every other config Kafka knows is read-only: set it with --config when starting.
 */
const STORED_ONLY_DYNAMIC = [
  'producer.id.expiration.ms',
  'max.connections',
  'max.connections.per.ip',
  'num.io.threads',
  'num.network.threads',
  'num.replica.fetchers',
  'background.threads',
  'log.cleaner.threads',
  'log.cleaner.io.max.bytes.per.second',
  'log.cleaner.dedupe.buffer.size',
  'log.cleaner.backoff.ms',
  'leader.replication.throttled.rate',
  'follower.replication.throttled.rate',
];

export const DYNAMIC_BROKER_CONFIGS = new Set<string>([
  ...TOPIC_CONFIGS.flatMap((d) => (d.brokerSynonym ? [d.brokerSynonym] : [])),
  ...STORED_ONLY_DYNAMIC,
]);

/** The topic config whose broker-level synonym `name` is (log.retention.ms -> retention.ms), for validation. */
export const TOPIC_CONFIG_BY_BROKER_SYNONYM = new Map(TOPIC_CONFIGS.filter((d) => d.brokerSynonym).map((d) => [d.brokerSynonym!, d]));

/** Configs Kafka knows as static broker configs: AlterConfigs refuses them (read-only). */
export function isReadOnlyBrokerConfig(name: string): boolean {
  if (DYNAMIC_BROKER_CONFIGS.has(name)) return false;
  return name in defaultBrokerConfig(0) || /^(listeners|advertised\.listeners|log\.dirs?|node\.id|process\.roles|log\.retention\.(hours|minutes)|log\.roll\.hours|zookeeper\..*)$/.test(name);
}

/**
 * Why a dynamic broker config change cannot be applied, as Kafka answers it, or undefined. Read-only configs are
 * INVALID_REQUEST ("Cannot update these configs dynamically"); a bad value for a topic config's broker synonym is
 * INVALID_CONFIG. Unknown names are stored, as Kafka stores them.
 */
export function brokerConfigProblem(resourceName: string, name: string, value: string | null): KafkaError | undefined {
  if (isReadOnlyBrokerConfig(name)) {
    return new KafkaError(ErrorCode.INVALID_REQUEST, `Invalid config value for resource ConfigResource(type=BROKER, name='${resourceName}'): Cannot update these configs dynamically: Set(${name})`);
  }
  const def = TOPIC_CONFIG_BY_BROKER_SYNONYM.get(name);
  if (def && value !== null) {
    const problem = checkType(def, value) ?? def.validate?.(def.type === 'boolean' ? value.toLowerCase() : value.trim());
    if (problem) return new KafkaError(ErrorCode.INVALID_CONFIG, `Invalid value ${value} for configuration ${name}: ${problem}`);
  }
  return undefined;
}

/** A broker config's Kafka default, if it has one (its own, or the default of the topic config it stands for). */
export function brokerConfigDefault(name: string, brokerId: number): string | undefined {
  return defaultBrokerConfig(brokerId)[name] ?? TOPIC_CONFIG_BY_BROKER_SYNONYM.get(name)?.defaultValue;
}
