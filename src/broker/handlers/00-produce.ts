// Produce: validate each partition's batch, check idempotent sequences, append on the leader, and answer
// according to acks: 0 = no response at all; 1 = after the leader's append; -1 = refuse up front if the
// ISR is below min.insync.replicas, else wait (up to the request timeout) until the high watermark covers
// the batch. Appends happen synchronously in request order, so pipelined requests keep their order.

import { Produce } from '../../protocol/apis/00-produce';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { RecordBatchError, stampLogAppendTime, validateProducedBatches } from '../../protocol/records/recordBatch';
import { ATTR_TRANSACTIONAL } from '../../protocol/records/batchHeader';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';
import { NO_RESPONSE } from '../router';
import { may, Op, ResourceType } from './authz';

type Req = RequestOf<typeof Produce>;
type Res = ResponseOf<typeof Produce>;
type PartitionRes = Res['responses'][number]['partitionResponses'][number];

function result(index: number, errorCode: number, extra: Partial<PartitionRes> = {}): PartitionRes {
  return {
    index,
    errorCode,
    baseOffset: -1,
    logAppendTimeMs: -1,
    logStartOffset: -1,
    recordErrors: [],
    errorMessage: null,
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    ...extra,
  };
}

export async function handleProduce(req: Req, ctx: HandlerContext): Promise<Res | typeof NO_RESPONSE> {
  const { broker, version } = ctx;
  const acks = req.acks;
  const waits: Array<Promise<void>> = [];
  const responses = req.topicData.map((topic) => ({
    name: topic.name,
    partitionResponses: topic.partitionData.map((pd) => {
      const res = appendOne(topic.name, pd.index, pd.records);
      return res;
    }),
  }));

  function appendOne(topicName: string, index: number, records: Buffer | null): PartitionRes {
    if (acks !== 0 && acks !== 1 && acks !== -1) return result(index, ErrorCode.INVALID_REQUIRED_ACKS);
    if (version < 3) return result(index, ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, { errorMessage: 'Produce v0-2 (message format v0/v1) is not supported; use v3 or newer' });
    if (!may(ctx, Op.WRITE, ResourceType.TOPIC, topicName)) return result(index, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    // As Kafka: clients cannot write to __consumer_offsets (only the group coordinator does, and it trusts what
    // it reads back there).
    if (broker.topicState(topicName)?.internal) return result(index, ErrorCode.INVALID_TOPIC_EXCEPTION, { errorMessage: `Cannot append to internal topic ${topicName}` });
    const partition = broker.partition(topicName, index);
    if (!partition) {
      const known = broker.topicState(topicName)?.partitions.some((p) => p.partition === index);
      return result(index, known ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    }
    if (!partition.isLeader) return result(index, ErrorCode.NOT_LEADER_OR_FOLLOWER);
    if (!records || records.length === 0) return result(index, ErrorCode.INVALID_RECORD, { errorMessage: 'no record batch' });
    const config = partition.config;
    const validated = validateProducedBatches(records, {
      produceVersion: version,
      maxMessageBytes: Number(config['max.message.bytes']),
      requireKeys: config['cleanup.policy'].split(',').includes('compact'),
    });
    if (validated instanceof RecordBatchError) {
      broker.logger.debug(`rejected batch for ${partition.key}: ${validated.message}`);
      return result(index, validated.code, { errorMessage: validated.message, logStartOffset: partition.logStartOffset });
    }
    const { header } = validated;
    // No copy: the batch is a view of this request's frame, which nothing else uses once the request is decoded.
    // The leader stamps BaseOffset/PartitionLeaderEpoch (and LogAppendTime) into it in place, and the log writes it
    // out synchronously and keeps no reference to it. (A copy cost a fresh allocation plus a memcpy per produced batch.)
    const batch = validated.batch;
    if (header.attributes & ATTR_TRANSACTIONAL) {
      return result(index, ErrorCode.INVALID_TXN_STATE, { errorMessage: 'transactions are not supported by this broker' });
    }
    if (acks === -1 && partition.state.isr.length < partition.effectiveMinIsr) {
      return result(index, ErrorCode.NOT_ENOUGH_REPLICAS, {
        errorMessage: `The size of the current ISR [${partition.state.isr.join(',')}] is insufficient to satisfy the min.isr requirement of ${partition.effectiveMinIsr} for partition ${partition.key}`,
      });
    }
    const idempotent = header.producerId >= 0;
    const lastSeq = header.baseSequence + header.lastOffsetDelta;
    try {
      if (idempotent) {
        const check = broker.producers.check(partition.key, header.producerId, header.producerEpoch, header.baseSequence, lastSeq);
        if (check.kind === 'duplicate') return result(index, 0, { baseOffset: check.baseOffset, logStartOffset: partition.logStartOffset });
      }
      let logAppendTime = -1;
      if (config['message.timestamp.type'] === 'LogAppendTime') {
        logAppendTime = Date.now();
        stampLogAppendTime(batch, logAppendTime);
      }
      const info = partition.appendAsLeader(batch);
      if (idempotent) broker.producers.record(partition.key, header.producerId, header.producerEpoch, header.baseSequence, lastSeq, info.baseOffset);
      if (acks === -1) {
        const res = result(index, 0, { baseOffset: info.baseOffset, logAppendTimeMs: logAppendTime, logStartOffset: partition.logStartOffset });
        waits.push(
          partition.waitForHighWatermark(info.lastOffset + 1, req.timeoutMs).catch((err) => {
            res.errorCode = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
            res.errorMessage = err.message;
          }),
        );
        return res;
      }
      return result(index, 0, { baseOffset: info.baseOffset, logAppendTimeMs: logAppendTime, logStartOffset: partition.logStartOffset });
    } catch (err) {
      if (err instanceof KafkaError) return result(index, err.code, { errorMessage: err.message });
      broker.logger.error(`append to ${partition.key} failed: ${(err as Error).stack}`);
      return result(index, ErrorCode.KAFKA_STORAGE_ERROR, { errorMessage: (err as Error).message });
    }
  }

  if (acks === 0) return NO_RESPONSE;
  if (waits.length) await Promise.all(waits);
  return { responses, throttleTimeMs: 0, nodeEndpoints: [] };
}
