// CreateTopics: validated and applied by the controller (all topics of a request in one call); v5+ responses echo
// the resulting configs.
import { CreateTopics } from '../../protocol/apis/19-create-topics';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { RequestOf, ResponseOf, ZERO_UUID } from '../../protocol/schema';
import { ConfigSource, effectiveTopicConfig, TOPIC_CONFIGS } from '../configs';
import type { CreateTopicResult } from '../controller';
import { MAX_PARTITIONS_PER_REQUEST } from '../metadata';
import { HandlerContext } from '../handlerContext';
import { may, mayOnCluster, Op, ResourceType } from './authz';

type Res = ResponseOf<typeof CreateTopics>;

export async function handleCreateTopics(req: RequestOf<typeof CreateTopics>, ctx: HandlerContext): Promise<Res> {
  const { broker } = ctx;
  const seen = new Map<string, number>();
  for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
  // As Kafka's controller: more than MAX_PARTITIONS_PER_REQUEST partitions in all fails every topic of the request.
  const defaultPartitions = Number(broker.config['num.partitions']);
  let total = 0;
  for (const t of req.topics) total += t.assignments.length > 0 ? t.assignments.length : t.numPartitions === -1 ? defaultPartitions : Math.max(0, t.numPartitions);
  const tooMany = total > MAX_PARTITIONS_PER_REQUEST;
  // The request's topics go to the controller in one call: it creates them together and publishes one delta and
  // writes its metadata file once for all of them, not once per topic.
  const base = (name: string) => ({ name, topicId: ZERO_UUID, topicConfigErrorCode: 0, numPartitions: -1, replicationFactor: -1, configs: null });
  const refusal = (t: (typeof req.topics)[number]): Res['topics'][number] | undefined => {
    if (tooMany) return { ...base(t.name), errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: 'Excessively large number of partitions per request.' };
    // Kafka: CREATE on the cluster, or on the topic.
    if (!mayOnCluster(ctx, Op.CREATE) && !may(ctx, Op.CREATE, ResourceType.TOPIC, t.name)) {
      return { ...base(t.name), errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' };
    }
    if ((seen.get(t.name) ?? 0) > 1) {
      return { ...base(t.name), errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Create topics request from client contains multiple entries for topic ${t.name}` };
    }
    return undefined;
  };
  const refusals = req.topics.map(refusal);
  const asked = req.topics.filter((_, i) => !refusals[i]);
  let results: CreateTopicResult[];
  try {
    results = asked.length === 0 ? [] : await broker.controller.createTopics(
      asked.map((t) => ({ name: t.name, numPartitions: t.numPartitions, replicationFactor: t.replicationFactor, assignments: t.assignments, configs: Object.fromEntries(t.configs.map((c) => [c.name, c.value])) })),
      req.validateOnly,
    );
  } catch (err) {
    // The controller is unreachable (NOT_CONTROLLER while a new supervisor starts) or failed: every asked topic says so.
    const code = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
    if (!(err instanceof KafkaError)) broker.logger.error(`create topics failed: ${(err as Error).stack}`);
    results = asked.map(() => ({ error: { code, message: (err as Error).message } }));
  }
  let next = 0;
  const topics: Res['topics'] = req.topics.map((t, i): Res['topics'][number] => {
    const refused = refusals[i];
    if (refused) return refused;
    const result = results[next++];
    if (!result.topic) return { ...base(t.name), errorCode: result.error.code, errorMessage: result.error.message };
    const created = result.topic;
    const effective = effectiveTopicConfig(created.configs, broker.config);
    return {
      ...base(t.name),
      topicId: req.validateOnly ? ZERO_UUID : created.id,
      errorCode: 0,
      errorMessage: null,
      numPartitions: created.partitions.length,
      replicationFactor: created.partitions[0]?.replicas.length ?? -1,
      configs: TOPIC_CONFIGS.map((def) => ({
        name: def.name,
        value: effective[def.name],
        readOnly: false,
        configSource: created.configs[def.name] !== undefined ? ConfigSource.DYNAMIC_TOPIC_CONFIG : ConfigSource.DEFAULT_CONFIG,
        isSensitive: false,
      })),
    };
  });
  if (!req.validateOnly) await broker.syncMetadata();
  return { throttleTimeMs: 0, topics };
}
