// CreateTopics: validated and applied by the controller; v5+ responses echo the resulting configs.
import { CreateTopics } from '../../protocol/apis/19-create-topics';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { RequestOf, ResponseOf, ZERO_UUID } from '../../protocol/schema';
import { ConfigSource, effectiveTopicConfig, TOPIC_CONFIGS } from '../configs';
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
  // The topics go to the controller together (not one round trip after another): it applies them as they come
  // and writes its metadata file once for all of them, not once per topic.
  const topics: Res['topics'] = await Promise.all(req.topics.map(async (t): Promise<Res['topics'][number]> => {
    const base = { name: t.name, topicId: ZERO_UUID, topicConfigErrorCode: 0, numPartitions: -1, replicationFactor: -1, configs: null };
    if (tooMany) return { ...base, errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: 'Excessively large number of partitions per request.' };
    // Kafka: CREATE on the cluster, or on the topic.
    if (!mayOnCluster(ctx, Op.CREATE) && !may(ctx, Op.CREATE, ResourceType.TOPIC, t.name)) {
      return { ...base, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' };
    }
    if ((seen.get(t.name) ?? 0) > 1) {
      return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Create topics request from client contains multiple entries for topic ${t.name}` };
    }
    try {
      const configs = Object.fromEntries(t.configs.map((c) => [c.name, c.value]));
      const created = await broker.controller.createTopic(
        { name: t.name, numPartitions: t.numPartitions, replicationFactor: t.replicationFactor, assignments: t.assignments, configs },
        req.validateOnly,
      );
      const effective = effectiveTopicConfig(created.configs, broker.config);
      return {
        ...base,
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
    } catch (err) {
      const code = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
      if (!(err instanceof KafkaError)) broker.logger.error(`create topic ${t.name} failed: ${(err as Error).stack}`);
      return { ...base, errorCode: code, errorMessage: (err as Error).message };
    }
  }));
  if (!req.validateOnly) broker.applyMetadata(await broker.controller.metadata());
  return { throttleTimeMs: 0, topics };
}
