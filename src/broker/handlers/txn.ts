// Transactions: the coordinator's APIs (AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, DescribeTransactions,
// ListTransactions), the group coordinator's TxnOffsetCommit, the leaders' WriteTxnMarkers and DescribeProducers.
// With an authorizer, Kafka's rules: a transactional id needs WRITE to be used (InitProducerId, AddPartitionsToTxn,
// AddOffsetsToTxn, EndTxn, TxnOffsetCommit, Produce) and DESCRIBE to be found or described
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); the topics and groups a transaction touches need WRITE and READ.

import { AddPartitionsToTxn } from '../../protocol/apis/24-add-partitions-to-txn';
import { AddOffsetsToTxn } from '../../protocol/apis/25-add-offsets-to-txn';
import { EndTxn } from '../../protocol/apis/26-end-txn';
import { WriteTxnMarkers } from '../../protocol/apis/27-write-txn-markers';
import { TxnOffsetCommit } from '../../protocol/apis/28-txn-offset-commit';
import { DescribeProducers } from '../../protocol/apis/61-describe-producers';
import { DescribeTransactions } from '../../protocol/apis/65-describe-transactions';
import { ListTransactions } from '../../protocol/apis/66-list-transactions';
import { ErrorCode } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';
import { may, mayOnCluster, Op, ResourceType } from './authz';
import { writeMarkerAsLeader } from '../txn/markers';
import { TXN_STATES, TxnPartition } from '../txn/stateRecords';

const mayTxnId = (ctx: HandlerContext, operation: Op, transactionalId: string) => may(ctx, operation, ResourceType.TRANSACTIONAL_ID, transactionalId);

/** Inter-broker requests (WriteTxnMarkers, batched AddPartitionsToTxn): CLUSTER_ACTION, as replication's fetches. */
const mayActAsBroker = (ctx: HandlerContext) => !ctx.conn.sasl || mayOnCluster(ctx, Op.CLUSTER_ACTION);

export async function handleAddPartitionsToTxn(req: RequestOf<typeof AddPartitionsToTxn>, ctx: HandlerContext): Promise<ResponseOf<typeof AddPartitionsToTxn>> {
  if (ctx.version < 4) {
    const results = await addPartitions(ctx, req.transactionalId, req.producerId, req.producerEpoch, false, req.topics);
    return { throttleTimeMs: 0, errorCode: 0, resultsByTransaction: [], results };
  }
  // v4+: a batch of transactions (partition leaders verifying, KIP-890), each answered on its own.
  if (!mayActAsBroker(ctx)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, resultsByTransaction: [], results: [] };
  const resultsByTransaction = await Promise.all(
    req.transactions.map(async (t) => ({
      transactionalId: t.transactionalId,
      topicResults: await addPartitions(ctx, t.transactionalId, t.producerId, t.producerEpoch, t.verifyOnly, t.topics),
    })),
  );
  return { throttleTimeMs: 0, errorCode: 0, resultsByTransaction, results: [] };
}

async function addPartitions(
  ctx: HandlerContext,
  transactionalId: string,
  producerId: number,
  producerEpoch: number,
  verifyOnly: boolean,
  topics: Array<{ name: string; partitions: number[] }>,
): Promise<Array<{ name: string; results: Array<{ partitionIndex: number; partitionErrorCode: number }> }>> {
  const { broker } = ctx;
  const partitions: TxnPartition[] = topics.flatMap((t) => t.partitions.map((partition) => ({ topic: t.name, partition })));
  let codes: number[];
  // Partitions the principal may not write or that do not exist fail the request, and the others are not attempted
  // (Kafka's OPERATION_NOT_ATTEMPTED).
  const problem = (tp: TxnPartition) =>
    !may(ctx, Op.WRITE, ResourceType.TOPIC, tp.topic) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
    : !broker.topicState(tp.topic)?.partitions.some((x) => x.partition === tp.partition) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
    : 0;
  if (verifyOnly) {
    codes = broker.txns.verifyPartitions(transactionalId, producerId, producerEpoch, partitions);
  } else if (!mayTxnId(ctx, Op.WRITE, transactionalId)) {
    codes = partitions.map(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  } else if (partitions.some(problem)) {
    codes = partitions.map((tp) => problem(tp) || ErrorCode.OPERATION_NOT_ATTEMPTED);
  } else {
    const code = await broker.txns.addPartitions(transactionalId, producerId, producerEpoch, partitions, ctx.version);
    codes = partitions.map(() => code);
  }
  let i = 0;
  return topics.map((t) => ({ name: t.name, results: t.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: codes[i++] })) }));
}

export async function handleAddOffsetsToTxn(req: RequestOf<typeof AddOffsetsToTxn>, ctx: HandlerContext): Promise<ResponseOf<typeof AddOffsetsToTxn>> {
  if (!mayTxnId(ctx, Op.WRITE, req.transactionalId)) return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
  if (!may(ctx, Op.READ, ResourceType.GROUP, req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
  const errorCode = await ctx.broker.txns.addOffsets(req.transactionalId, req.producerId, req.producerEpoch, req.groupId, ctx.version);
  return { throttleTimeMs: 0, errorCode };
}

export async function handleEndTxn(req: RequestOf<typeof EndTxn>, ctx: HandlerContext): Promise<ResponseOf<typeof EndTxn>> {
  if (!mayTxnId(ctx, Op.WRITE, req.transactionalId)) return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
  const errorCode = await ctx.broker.txns.endTxn(req.transactionalId, req.producerId, req.producerEpoch, req.committed, ctx.version);
  return { throttleTimeMs: 0, errorCode };
}

export async function handleWriteTxnMarkers(req: RequestOf<typeof WriteTxnMarkers>, ctx: HandlerContext): Promise<ResponseOf<typeof WriteTxnMarkers>> {
  const { broker } = ctx;
  const allowed = mayActAsBroker(ctx);
  return {
    markers: await Promise.all(
      req.markers.map(async (m) => ({
        producerId: m.producerId,
        topics: await Promise.all(
          m.topics.map(async (t) => ({
            name: t.name,
            partitions: await Promise.all(
              t.partitionIndexes.map(async (partitionIndex) => ({
                partitionIndex,
                errorCode: !allowed ? ErrorCode.CLUSTER_AUTHORIZATION_FAILED : await writeMarkerAsLeader(
                  broker,
                  { producerId: m.producerId, producerEpoch: m.producerEpoch, commit: m.transactionResult, coordinatorEpoch: m.coordinatorEpoch },
                  t.name,
                  partitionIndex,
                ),
              })),
            ),
          })),
        ),
      })),
    ),
  };
}

export async function handleTxnOffsetCommit(req: RequestOf<typeof TxnOffsetCommit>, ctx: HandlerContext): Promise<ResponseOf<typeof TxnOffsetCommit>> {
  const answer = (codeOf: (topic: string) => number) => ({
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: codeOf(t.name) })) })),
  });
  if (!mayTxnId(ctx, Op.WRITE, req.transactionalId)) return answer(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  if (!may(ctx, Op.READ, ResourceType.GROUP, req.groupId)) return answer(() => ErrorCode.GROUP_AUTHORIZATION_FAILED);
  // Topics the principal may not read are refused; the others are committed.
  const readable = (topic: string) => may(ctx, Op.READ, ResourceType.TOPIC, topic);
  const offsets = req.topics.filter((t) => readable(t.name)).flatMap((t) =>
    t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata: p.committedMetadata })),
  );
  const codes = offsets.length ? await ctx.broker.groups.commitTxnOffsets(req.groupId, req.producerId, req.producerEpoch, req.memberId, req.generationId, offsets) : [];
  const codeAt = new Map(offsets.map((o, i) => [`${o.topic}\0${o.partition}`, codes[i]]));
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: readable(t.name) ? codeAt.get(`${t.name}\0${p.partitionIndex}`)! : ErrorCode.TOPIC_AUTHORIZATION_FAILED })),
    })),
  };
}

export function handleDescribeTransactions(req: RequestOf<typeof DescribeTransactions>, ctx: HandlerContext): ResponseOf<typeof DescribeTransactions> {
  return {
    throttleTimeMs: 0,
    transactionStates: req.transactionalIds.map((id) => {
      const { errorCode, meta } = mayTxnId(ctx, Op.DESCRIBE, id) ? ctx.broker.txns.describe(id) : { errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, meta: undefined };
      const topics = new Map<string, number[]>();
      for (const p of meta?.partitions ?? []) topics.set(p.topic, [...(topics.get(p.topic) ?? []), p.partition]);
      return {
        errorCode,
        transactionalId: id,
        transactionState: meta?.state ?? '',
        transactionTimeoutMs: meta?.timeoutMs ?? 0,
        transactionStartTimeMs: meta?.startTimestamp ?? -1,
        producerId: meta?.producerId ?? -1,
        producerEpoch: meta?.producerEpoch ?? -1,
        topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
      };
    }),
  };
}

export function handleListTransactions(req: RequestOf<typeof ListTransactions>, ctx: HandlerContext): ResponseOf<typeof ListTransactions> {
  const known = new Set<string>(TXN_STATES);
  const unknownStateFilters = req.stateFilters.filter((s) => !known.has(s));
  const states = new Set(req.stateFilters);
  const producers = new Set(req.producerIdFilters);
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    unknownStateFilters,
    transactionStates: ctx.broker.txns
      .list()
      .filter((m) => mayTxnId(ctx, Op.DESCRIBE, m.transactionalId))
      .filter((m) => (states.size === 0 || states.has(m.state)) && (producers.size === 0 || producers.has(m.producerId)))
      .map((m) => ({ transactionalId: m.transactionalId, producerId: m.producerId, transactionState: m.state })),
  };
}

export function handleDescribeProducers(req: RequestOf<typeof DescribeProducers>, ctx: HandlerContext): ResponseOf<typeof DescribeProducers> {
  const { broker } = ctx;
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => {
        const out = (errorCode: number) => ({ partitionIndex, errorCode, errorMessage: null, activeProducers: [] });
        if (!may(ctx, Op.READ, ResourceType.TOPIC, t.name)) return out(ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        const p = broker.partition(t.name, partitionIndex);
        if (!p) {
          const known = broker.topicState(t.name)?.partitions.some((x) => x.partition === partitionIndex);
          return out(known ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        }
        if (!p.isLeader) return out(ErrorCode.NOT_LEADER_OR_FOLLOWER);
        return {
          partitionIndex,
          errorCode: 0,
          errorMessage: null,
          activeProducers: [...p.log.producerState.entries()].map((e) => ({
            producerId: e.producerId,
            producerEpoch: e.epoch,
            lastSequence: e.batches.length ? e.batches[e.batches.length - 1].lastSeq : -1,
            lastTimestamp: e.lastTimestamp,
            coordinatorEpoch: e.coordinatorEpoch,
            currentTxnStartOffset: e.currentTxnFirstOffset,
          })),
        };
      }),
    })),
  };
}
