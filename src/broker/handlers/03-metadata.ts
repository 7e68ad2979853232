// Metadata: live brokers, a live broker named as controller, topics with leaders, replicas, ISR and offline
// replicas. Unknown topics are auto-created when the request and the broker allow it (v0-3 always ask), answered
// UNKNOWN_TOPIC_OR_PARTITION the first time. Partitions without a leader carry LEADER_NOT_AVAILABLE; clients retry both.

import { Metadata } from '../../protocol/apis/03-metadata';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { RequestOf, ResponseOf, ZERO_UUID } from '../../protocol/schema';
import { topicNameProblem } from '../configs';
import { HandlerContext } from '../handlerContext';
import { liveBrokers, TopicState } from '../metadata';
import { may, mayOnCluster, Op, ResourceType } from './authz';

type Res = ResponseOf<typeof Metadata>;
type TopicRes = Res['topics'][number];

export async function handleMetadata(req: RequestOf<typeof Metadata>, ctx: HandlerContext): Promise<Res> {
  const { broker, version } = ctx;
  const requested = req.topics === null || (version === 0 && req.topics.length === 0) ? null : req.topics;
  const autoCreate = (version < 4 || req.allowAutoTopicCreation) && broker.config['auto.create.topics.enable'] === 'true';
  const topics: TopicRes[] = [];

  if (requested === null) {
    for (const t of broker.image.topics.filter((x) => may(ctx, Op.DESCRIBE, ResourceType.TOPIC, x.name))) topics.push(describeTopic(t, broker.image.brokers.filter((b) => b.fenced).map((b) => b.id)));
  } else {
    for (const { name, topicId } of requested) {
      const lookupName = name ?? broker.image.topics.find((t) => t.id === topicId)?.name ?? null;
      if (lookupName === null) {
        topics.push(errorTopic(null, ErrorCode.UNKNOWN_TOPIC_ID, topicId));
        continue;
      }
      // As Kafka: a topic the principal may not describe is TOPIC_AUTHORIZATION_FAILED whether it exists or not.
      if (!may(ctx, Op.DESCRIBE, ResourceType.TOPIC, lookupName)) {
        topics.push(errorTopic(lookupName, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
        continue;
      }
      const topic = broker.topicState(lookupName);
      if (!topic) {
        if (topicNameProblem(lookupName)) {
          topics.push(errorTopic(lookupName, ErrorCode.INVALID_TOPIC_EXCEPTION));
          continue;
        }
        if (!autoCreate) {
          topics.push(errorTopic(lookupName, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
          continue;
        }
        if (!mayOnCluster(ctx, Op.CREATE) && !may(ctx, Op.CREATE, ResourceType.TOPIC, lookupName)) {
          topics.push(errorTopic(lookupName, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
          continue;
        }
        // As a KRaft broker does (AutoTopicCreationManager), the request that asks for the creation is answered
        // UNKNOWN_TOPIC_OR_PARTITION whatever the controller says; clients retry Metadata and see the topic ready.
        try {
          await broker.controller.createTopic({ name: lookupName, numPartitions: -1, replicationFactor: -1 }, false);
          await broker.syncMetadata();
        } catch (err) {
          if (!(err instanceof KafkaError)) throw err;
        }
        topics.push(errorTopic(lookupName, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        continue;
      }
      topics.push(describeTopic(topic, broker.image.brokers.filter((b) => b.fenced).map((b) => b.id)));
    }
  }

  return {
    throttleTimeMs: 0,
    brokers: liveBrokers(broker.image).map((b) => ({ nodeId: b.id, host: b.host, port: b.port, rack: b.rack })),
    clusterId: broker.image.clusterId,
    controllerId: broker.image.controllerId,
    topics,
    clusterAuthorizedOperations: -2147483648,
  };
}

function describeTopic(t: TopicState, fenced: number[]): TopicRes {
  return {
    errorCode: 0,
    name: t.name,
    topicId: t.id,
    isInternal: t.internal,
    partitions: t.partitions.map((p) => ({
      errorCode: p.leader === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : 0,
      partitionIndex: p.partition,
      leaderId: p.leader,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: p.replicas,
      isrNodes: p.isr,
      offlineReplicas: p.replicas.filter((r) => fenced.includes(r)),
    })),
    topicAuthorizedOperations: -2147483648,
  };
}

function errorTopic(name: string | null, errorCode: number, topicId = ZERO_UUID): TopicRes {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: -2147483648 };
}
