// DescribeConfigs, AlterConfigs (full replacement) and IncrementalAlterConfigs (SET/DELETE/APPEND/SUBTRACT).
// Every topic config is listed with its source, so tools can tell overrides from defaults (kafka-topics
// --describe prints only the non-default ones).

import { DescribeConfigs } from '../../protocol/apis/32-describe-configs';
import { AlterConfigs } from '../../protocol/apis/33-alter-configs';
import { IncrementalAlterConfigs } from '../../protocol/apis/44-incremental-alter-configs';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { ConfigSource, ConfigType, defaultBrokerConfig, TOPIC_CONFIG_BY_NAME, TOPIC_CONFIGS } from '../configs';
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
        const brokerValue = def.brokerSynonym ? broker.config[def.brokerSynonym] : undefined;
        const brokerSet = brokerValue !== undefined && brokerValue !== def.defaultValue;
        const value = override ?? (brokerSet ? brokerValue : def.defaultValue);
        const source = override !== undefined ? ConfigSource.DYNAMIC_TOPIC_CONFIG : brokerSet ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
        const synonyms = [];
        if (req.includeSynonyms) {
          if (override !== undefined) synonyms.push({ name: def.name, value: override, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
          if (brokerSet) synonyms.push({ name: def.brokerSynonym!, value: brokerValue, source: ConfigSource.STATIC_BROKER_CONFIG });
          // Kafka (ConfigHelper.configSynonyms) drops the broker synonyms before the first one named like the topic
          // config's own broker synonym: a default that only log.retention.hours has is listed after a static
          // log.retention.ms, and not at all when log.retention.ms is unset (the list is then empty).
          if (!def.defaultSynonym || brokerSet) {
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
      const defaults = defaultBrokerConfig(broker.nodeId);
      base.configs = Object.entries(broker.config)
        .filter(([name]) => keep(name))
        .map(([name, value]) => ({
          name,
          value,
          readOnly: true,
          isDefault: defaults[name] === value,
          configSource: defaults[name] === value ? ConfigSource.DEFAULT_CONFIG : ConfigSource.STATIC_BROKER_CONFIG,
          isSensitive: false,
          synonyms: [],
          configType: 2,
          documentation: null,
        }));
      return base;
    }
    return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${res.resourceType}` };
  });
  void version;
  return { throttleTimeMs: 0, results };
}

async function alterTopic(ctx: HandlerContext, name: string, changes: Record<string, string | null>, replace: boolean, validateOnly: boolean): Promise<{ errorCode: number; errorMessage: string | null }> {
  try {
    await ctx.broker.controller.alterTopicConfigs(name, changes, replace, validateOnly);
    return { errorCode: 0, errorMessage: null };
  } catch (err) {
    return { errorCode: err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: (err as Error).message };
  }
}

const BROKER_STATIC = { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'Broker configs are static in minikafka: set them when starting the cluster' };

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
    } else if (res.resourceType === RESOURCE_BROKER) responses.push({ ...head, ...BROKER_STATIC });
    else responses.push({ ...head, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${res.resourceType}` });
  }
  await ctx.broker.syncMetadata();
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
    if (res.resourceType === RESOURCE_BROKER) {
      responses.push({ ...head, ...BROKER_STATIC });
      continue;
    }
    if (res.resourceType !== RESOURCE_TOPIC) {
      responses.push({ ...head, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${res.resourceType}` });
      continue;
    }
    const topic = ctx.broker.topicState(res.resourceName);
    if (!topic) {
      responses.push({ ...head, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${res.resourceName} does not exist` });
      continue;
    }
    const changes: Record<string, string | null> = {};
    let problem: string | null = null;
    for (const c of res.configs) {
      const def = TOPIC_CONFIG_BY_NAME.get(c.name);
      const current = (changes[c.name] ?? topic.configs[c.name] ?? def?.defaultValue ?? '').split(',').map((s) => s.trim()).filter(Boolean);
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
    else responses.push({ ...head, ...(await alterTopic(ctx, res.resourceName, changes, false, req.validateOnly)) });
  }
  await ctx.broker.syncMetadata();
  return { throttleTimeMs: 0, responses };
}
