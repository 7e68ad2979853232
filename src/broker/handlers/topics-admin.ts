// Topic administration: DeleteTopics, CreatePartitions, DeleteRecords. Changes go through the controller;
// the broker applies the resulting metadata before answering, so a client sees its own change at once.

import { DeleteTopics } from '../../protocol/apis/20-delete-topics';
import { DeleteRecords } from '../../protocol/apis/21-delete-records';
import { CreatePartitions } from '../../protocol/apis/37-create-partitions';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { RequestOf, ResponseOf, ZERO_UUID } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';
import { may, Op, ResourceType } from './authz';

function codeOf(err: unknown): number {
  return err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
}

export async function handleDeleteTopics(req: RequestOf<typeof DeleteTopics>, ctx: HandlerContext): Promise<ResponseOf<typeof DeleteTopics>> {
  const { broker } = ctx;
  const wanted = ctx.version >= 6 ? req.topics : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
  const responses: ResponseOf<typeof DeleteTopics>['responses'] = [];
  for (const w of wanted) {
    const topic = w.name !== null ? broker.topicState(w.name) : broker.image.topics.find((t) => t.id === w.topicId);
    const name = topic?.name ?? w.name;
    const res = { name, topicId: topic?.id ?? w.topicId, errorCode: 0, errorMessage: null as string | null };
    try {
      if (!may(ctx, Op.DELETE, ResourceType.TOPIC, name ?? '')) throw new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      if (broker.config['delete.topic.enable'] !== 'true') throw new KafkaError(ErrorCode.TOPIC_DELETION_DISABLED);
      if (!topic) throw new KafkaError(w.name === null ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      if (topic.internal) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic ${topic.name} is internal and cannot be deleted`);
      await broker.controller.deleteTopic(topic.name);
    } catch (err) {
      res.errorCode = codeOf(err);
      res.errorMessage = (err as Error).message;
    }
    responses.push(res);
  }
  await broker.syncMetadata();
  return { throttleTimeMs: 0, responses };
}

export async function handleCreatePartitions(req: RequestOf<typeof CreatePartitions>, ctx: HandlerContext): Promise<ResponseOf<typeof CreatePartitions>> {
  const { broker } = ctx;
  const results: ResponseOf<typeof CreatePartitions>['results'] = [];
  for (const t of req.topics) {
    try {
      if (!may(ctx, Op.ALTER, ResourceType.TOPIC, t.name)) throw new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      await broker.controller.createPartitions(t.name, t.count, t.assignments?.map((a) => a.brokerIds) ?? null, req.validateOnly);
      results.push({ name: t.name, errorCode: 0, errorMessage: null });
    } catch (err) {
      results.push({ name: t.name, errorCode: codeOf(err), errorMessage: (err as Error).message });
    }
  }
  await broker.syncMetadata();
  return { throttleTimeMs: 0, results };
}

/** DeleteRecords: moves the log start offset forward (offset -1 = the high watermark). */
export function handleDeleteRecords(req: RequestOf<typeof DeleteRecords>, ctx: HandlerContext): ResponseOf<typeof DeleteRecords> {
  const { broker } = ctx;
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map(({ partitionIndex, offset }) => {
        const p = broker.partition(t.name, partitionIndex);
        const out = (errorCode: number, lowWatermark = -1) => ({ partitionIndex, lowWatermark, errorCode });
        if (!may(ctx, Op.DELETE, ResourceType.TOPIC, t.name)) return out(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        if (!p) return out(broker.topicState(t.name) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        if (!p.isLeader) return out(ErrorCode.NOT_LEADER_OR_FOLLOWER);
        const target = offset === -1 ? p.highWatermark : offset;
        if (target < 0 || target > p.highWatermark) return out(ErrorCode.OFFSET_OUT_OF_RANGE);
        const low = target <= p.logStartOffset ? p.logStartOffset : p.log.deleteRecordsBefore(target);
        p.notifyData();
        return out(0, low);
      }),
    })),
  };
}
