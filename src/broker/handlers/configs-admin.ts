// DescribeConfigs, AlterConfigs (full replacement) and IncrementalAlterConfigs (SET/DELETE/APPEND/SUBTRACT), on
// TOPIC resources and on BROKER resources ("<id>" one broker, "" the cluster-wide default; dynamic broker configs are
// kept in the controller's metadata image, so every broker sees them). Every config is listed with its source and,
// on request, its synonyms in Kafka's order, so tools can tell overrides from defaults (kafka-topics --describe
// prints only the non-default ones).

import { DescribeConfigs } from '../../protocol/apis/32-describe-configs';
import { AlterConfigs } from '../../protocol/apis/33-alter-configs';
import { IncrementalAlterConfigs } from '../../protocol/apis/44-incremental-alter-configs';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { brokerConfigDefault, ConfigSource, ConfigType, defaultBrokerConfig, isReadOnlyBrokerConfig, TOPIC_CONFIG_BY_BROKER_SYNONYM, TOPIC_CONFIG_BY_NAME, TOPIC_CONFIGS } from '../configs';
import { HandlerContext } from '../handlerContext';
import { may, mayOnCluster, Op, ResourceType } from './authz';

export const RESOURCE_TOPIC = 2;
export const RESOURCE_BROKER = 4;

const TYPE_CODE: Record<ConfigType, number> = { boolean: 1, string: 2, int: 3, long: 5, double: 6, list: 7, class: 8, password: 9 };

/** Kafka: DESCRIBE_CONFIGS / ALTER_CONFIGS on the topic, or on the cluster for a broker resource. */
function deniedConfigs(ctx: HandlerContext, resourceType: number, name: string, operation: Op): { errorCode: number; errorMessage: string | null } | undefined {
  if (resourceType === RESOURCE_TOPIC && !may(ctx, operation, ResourceType.TOPIC, name)) return { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null };
  if (resourceType === RESOURCE_BROKER && !mayOnCluster(ctx, operation)) return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null };
  return undefined;
}

type DescribeRes = ResponseOf<typeof DescribeConfigs>;
type ConfigEntry = DescribeRes['results'][number]['configs'][number];

export function handleDescribeConfigs(req: RequestOf<typeof DescribeConfigs>, ctx: HandlerContext): DescribeRes {
  const { broker, version } = ctx;
  const results = req.resources.map((res) => {
    const base = { errorCode: 0, errorMessage: null as string | null, resourceType: res.resourceType, resourceName: res.resourceName, configs: [] as ConfigEntry[] };
    const keep = (name: string) => res.configurationKeys === null || res.configurationKeys.length === 0 || res.configurationKeys.includes(name);
    const denied = deniedConfigs(ctx, res.resourceType, res.resourceName, Op.DESCRIBE_CONFIGS);
    if (denied) return { ...base, ...denied };
    if (res.resourceType === RESOURCE_TOPIC) {
      const topic = broker.topicState(res.resourceName);
      if (!topic) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${res.resourceName} does not exist` };
      base.configs = TOPIC_CONFIGS.filter((d) => keep(d.name)).map((def) => {
        const override = topic.configs[def.name];
        // Broker-level values in Kafka's order: dynamic for this broker, dynamic cluster default, static.
        const brokerValues = def.brokerSynonym ? broker.brokerConfigSynonyms(def.brokerSynonym) : [];
        const value = override ?? brokerValues[0]?.value ?? def.defaultValue;
        const source = override !== undefined ? ConfigSource.DYNAMIC_TOPIC_CONFIG : (brokerValues[0]?.source ?? ConfigSource.DEFAULT_CONFIG);
        const synonyms = [];
        if (req.includeSynonyms) {
          if (override !== undefined) synonyms.push({ name: def.name, value: override, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
          synonyms.push(...brokerValues);
          // Kafka (ConfigHelper.configSynonyms) drops the broker synonyms before the first one named like the topic
          // config's own broker synonym: a default that only log.retention.hours has is listed after a set
          // log.retention.ms, and not at all when log.retention.ms is unset (the list is then empty).
          if (!def.defaultSynonym || brokerValues.length > 0) {
            synonyms.push({ ...(def.defaultSynonym ?? { name: def.brokerSynonym ?? def.name, value: def.defaultValue }), source: ConfigSource.DEFAULT_CONFIG });
          }
        }
        return {
          name: def.name,
          value,
          readOnly: false,
          isDefault: source === ConfigSource.DEFAULT_CONFIG,
          configSource: source,
          isSensitive: false,
          synonyms,
          configType: TYPE_CODE[def.type],
          documentation: req.includeDocumentation ? def.doc : null,
        };
      });
      return base;
    }
    if (res.resourceType === RESOURCE_BROKER) {
      if (res.resourceName !== '' && res.resourceName !== String(broker.nodeId)) {
        return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${res.resourceName}` };
      }
      base.configs = describeBroker(ctx, res.resourceName === '', req.includeSynonyms).filter((c) => keep(c.name));
      return base;
    }
    return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${res.resourceType}` };
  });
  void version;
  return { throttleTimeMs: 0, results };
}

/**
 * A broker resource: "" (the cluster-wide default) lists only the dynamic defaults set, as Kafka does; "<id>" every
 * broker config with its effective value and source, read-only unless it can be altered while brokers run.
 */
function describeBroker(ctx: HandlerContext, clusterDefault: boolean, includeSynonyms: boolean): ConfigEntry[] {
  const { broker } = ctx;
  const dynamic = broker.image.brokerConfigs ?? {};
  const entry = (name: string, value: string, source: ConfigSource, synonyms: ConfigEntry['synonyms']): ConfigEntry => ({
    name,
    value,
    readOnly: isReadOnlyBrokerConfig(name),
    isDefault: source === ConfigSource.DEFAULT_CONFIG,
    configSource: source,
    isSensitive: false,
    synonyms: includeSynonyms ? synonyms : [],
    configType: TYPE_CODE[TOPIC_CONFIG_BY_BROKER_SYNONYM.get(name)?.type ?? 'string'],
    documentation: null,
  });
  if (clusterDefault) {
    return Object.entries(dynamic[''] ?? {}).map(([name, value]) => {
      const synonym = { name, value, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG };
      return entry(name, value, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, [synonym]);
    });
  }
  const names = new Set([
    ...Object.keys(defaultBrokerConfig(broker.nodeId)),
    ...TOPIC_CONFIG_BY_BROKER_SYNONYM.keys(),
    ...Object.keys(broker.staticConfig),
    ...Object.keys(dynamic[''] ?? {}),
    ...Object.keys(dynamic[String(broker.nodeId)] ?? {}),
  ]);
  return [...names].sort().map((name) => {
    const set = broker.brokerConfigSynonyms(name);
    const fallback = brokerConfigDefault(name, broker.nodeId);
    const synonyms = [...set, ...(fallback !== undefined ? [{ name, value: fallback, source: ConfigSource.DEFAULT_CONFIG }] : [])];
    const top = synonyms[0] ?? { name, value: '', source: ConfigSource.DEFAULT_CONFIG };
    return entry(name, top.value, top.source, synonyms);
  });
}

async function alterBroker(ctx: HandlerContext, resource: string, changes: Record<string, string | null>, replace: boolean, validateOnly: boolean): Promise<{ errorCode: number; errorMessage: string | null }> {
  try {
    await ctx.broker.controller.alterBrokerConfigs(resource, changes, replace, validateOnly);
    return { errorCode: 0, errorMessage: null };
  } catch (err) {
    return { errorCode: err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: (err as Error).message };
  }
}

async function alterTopic(ctx: HandlerContext, name: string, changes: Record<string, string | null>, replace: boolean, validateOnly: boolean): Promise<{ errorCode: number; errorMessage: string | null }> {
  try {
    await ctx.broker.controller.alterTopicConfigs(name, changes, replace, validateOnly);
    return { errorCode: 0, errorMessage: null };
  } catch (err) {
    return { errorCode: err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: (err as Error).message };
  }
}

export async function handleAlterConfigs(req: RequestOf<typeof AlterConfigs>, ctx: HandlerContext): Promise<ResponseOf<typeof AlterConfigs>> {
  const responses = [];
  for (const res of req.resources) {
    const head = { resourceType: res.resourceType, resourceName: res.resourceName };
    const denied = deniedConfigs(ctx, res.resourceType, res.resourceName, Op.ALTER_CONFIGS);
    if (denied) {
      responses.push({ ...head, ...denied });
      continue;
    }
    if (res.resourceType === RESOURCE_TOPIC) {
      const changes = Object.fromEntries(res.configs.map((c) => [c.name, c.value]));
      responses.push({ ...head, ...(await alterTopic(ctx, res.resourceName, changes, true, req.validateOnly)) });
    } else if (res.resourceType === RESOURCE_BROKER) {
      const changes = Object.fromEntries(res.configs.map((c) => [c.name, c.value]));
      responses.push({ ...head, ...(await alterBroker(ctx, res.resourceName, changes, true, req.validateOnly)) });
    }
    else responses.push({ ...head, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${res.resourceType}` });
  }
  ctx.broker.applyMetadata(await ctx.broker.controller.metadata());
  return { throttleTimeMs: 0, responses };
}

const OP_SET = 0;
const OP_DELETE = 1;
const OP_APPEND = 2;
const OP_SUBTRACT = 3;

export async function handleIncrementalAlterConfigs(req: RequestOf<typeof IncrementalAlterConfigs>, ctx: HandlerContext): Promise<ResponseOf<typeof IncrementalAlterConfigs>> {
  const responses = [];
  for (const res of req.resources) {
    const head = { resourceType: res.resourceType, resourceName: res.resourceName };
    const denied = deniedConfigs(ctx, res.resourceType, res.resourceName, Op.ALTER_CONFIGS);
    if (denied) {
      responses.push({ ...head, ...denied });
      continue;
    }
    if (res.resourceType !== RESOURCE_TOPIC && res.resourceType !== RESOURCE_BROKER) {
      responses.push({ ...head, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${res.resourceType}` });
      continue;
    }
    const isBroker = res.resourceType === RESOURCE_BROKER;
    const topic = isBroker ? undefined : ctx.broker.topicState(res.resourceName);
    if (!isBroker && !topic) {
      responses.push({ ...head, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${res.resourceName} does not exist` });
      continue;
    }
    // The values APPEND/SUBTRACT start from: the topic's override, or the broker resource's dynamic value.
    const stored = isBroker ? (ctx.broker.image.brokerConfigs?.[res.resourceName] ?? {}) : topic!.configs;
    const changes: Record<string, string | null> = {};
    let problem: string | null = null;
    for (const c of res.configs) {
      const def = isBroker ? TOPIC_CONFIG_BY_BROKER_SYNONYM.get(c.name) : TOPIC_CONFIG_BY_NAME.get(c.name);
      const current = (changes[c.name] ?? stored[c.name] ?? def?.defaultValue ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      switch (c.configOperation) {
        case OP_SET:
          changes[c.name] = c.value;
          break;
        case OP_DELETE:
          changes[c.name] = null;
          break;
        case OP_APPEND:
        case OP_SUBTRACT: {
          if (def && def.type !== 'list') {
            problem = `Config value append/subtract is not allowed for config key ${c.name} of type ${def.type}`;
            break;
          }
          const items = (c.value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
          const next = c.configOperation === OP_APPEND ? [...current, ...items.filter((i) => !current.includes(i))] : current.filter((i) => !items.includes(i));
          changes[c.name] = next.join(',');
          break;
        }
        default:
          problem = `Unknown config operation ${c.configOperation} for ${c.name}`;
      }
    }
    if (problem) responses.push({ ...head, errorCode: ErrorCode.INVALID_CONFIG, errorMessage: problem });
    else if (isBroker) responses.push({ ...head, ...(await alterBroker(ctx, res.resourceName, changes, false, req.validateOnly)) });
    else responses.push({ ...head, ...(await alterTopic(ctx, res.resourceName, changes, false, req.validateOnly)) });
  }
  ctx.broker.applyMetadata(await ctx.broker.controller.metadata());
  return { throttleTimeMs: 0, responses };
}
