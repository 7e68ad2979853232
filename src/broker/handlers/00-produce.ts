// Produce: validate each partition's batch, append on the leader (the log checks idempotent producers' epochs and
// sequences, and answers a retried batch with its original offsets), and answer
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
import { isOpenHere } from '../txn/verification';
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

  /** `verified`: a transactional batch whose partition the coordinator confirmed to be in its transaction. */
  function appendOne(topicName: string, index: number, records: Buffer | null, verified = false): PartitionRes {
    if (acks !== 0 && acks !== 1 && acks !== -1) return result(index, ErrorCode.INVALID_REQUIRED_ACKS);
    if (version < 3) return result(index, ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, { errorMessage: 'Produce v0-2 (message format v0/v1) is not supported; use v3 or newer' });
    // Kafka refuses a transactional producer's whole request without WRITE on its transactional id.
    if (req.transactionalId !== null && !may(ctx, Op.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId)) return result(index, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (!may(ctx, Op.WRITE, ResourceType.TOPIC, topicName)) return result(index, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    // As Kafka: clients cannot write to __consumer_offsets (only the group coordinator does, and it trusts what
    // it reads back there).
    if (broker.topicState(topicName)?.internal) return result(index, ErrorCode.INVALID_TOPIC_EXCEPTION, { errorMessage: `Cannot append to internal topic ${topicName}` });
    const partition = broker.partition(topicName, index);
    if (!partition) return result(index, broker.missingReplicaError(topicName, index));
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
    // A transactional batch opens the producer's transaction on this partition (holding the last stable offset back)
    // until the coordinator's marker closes it. Its first batch here is verified with the coordinator first (KIP-890):
    // the append waits for the answer, behind the producer's earlier batches that wait too.
    if ((header.attributes & ATTR_TRANSACTIONAL) !== 0 && !verified && broker.txns.verifier.needsVerification(partition, header.producerId, header.producerEpoch)) {
      const res = result(index, 0);
      const copy = Buffer.from(records);
      waits.push(
        broker.txns.verifier.enqueue(partition, header.producerId, async () => {
          // An earlier batch of this producer in the queue may have opened the transaction here meanwhile.
          const open = isOpenHere(partition, header.producerId, header.producerEpoch);
          const code = open ? 0 : await broker.txns.verifier.verify(req.transactionalId, header.producerId, header.producerEpoch, topicName, index);
          if (code !== 0) {
            // Produce v11+ answers TRANSACTION_ABORTABLE where older versions get INVALID_TXN_STATE.
            const answer = code === ErrorCode.INVALID_TXN_STATE && version >= 11 ? ErrorCode.TRANSACTION_ABORTABLE : code;
            const why = code === ErrorCode.INVALID_TXN_STATE ? `partition ${partition.key} is not in the transaction of ${req.transactionalId}` : `transaction verification with the coordinator failed`;
            Object.assign(res, result(index, answer, { errorMessage: why }));
            return;
          }
          Object.assign(res, appendOne(topicName, index, copy, true));
        }),
      );
      return res;
    }
    if (acks === -1 && partition.state.isr.length < partition.effectiveMinIsr) {
      return result(index, ErrorCode.NOT_ENOUGH_REPLICAS, {
        errorMessage: `The size of the current ISR [${partition.state.isr.join(',')}] is insufficient to satisfy the min.isr requirement of ${partition.effectiveMinIsr} for partition ${partition.key}`,
      });
    }
    try {
      let logAppendTime = -1;
      if (config['message.timestamp.type'] === 'LogAppendTime') {
        logAppendTime = Date.now();
        stampLogAppendTime(batch, logAppendTime);
      }
      const info = partition.appendAsLeader(batch);
      if (info.duplicate) {
        logAppendTime = info.logAppendTime;
        broker.logger.debug(`${partition.key}: batch of producer ${header.producerId} (epoch ${header.producerEpoch}, sequence ${header.baseSequence}) is a retry of offsets ${info.baseOffset}-${info.lastOffset}`);
      }
      // A duplicate is acknowledged like the original would be: with acks=all only once the high watermark covers it
      // (a retry may arrive while the original is still being replicated).
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
  // Appends deferred by a transaction verification add their own replication waits when they run.
  while (waits.length) await Promise.all(waits.splice(0));
  return { responses, throttleTimeMs: 0, nodeEndpoints: [] };
}
