// Fetch: consumers read up to the high watermark, or in read_committed (isolation level 1, v4+) up to the last
// stable offset with the aborted transactions of the range read, so that they drop aborted records; followers
// (replica id >= 0) read up to the log end and report their position, which moves the high watermark. Long poll:
// answer at once when MinBytes are available or MaxWaitMs is 0, otherwise wait for new data on any requested
// partition until MaxWaitMs. A mid-batch offset gets the whole batch;
// at least one batch is returned even when larger than the byte limits (KIP-74), or a consumer would stall.

import { Fetch } from '../../protocol/apis/01-fetch';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';
import { Partition } from '../partition';
import { OffsetOutOfRangeError } from '../state/partitionLog';
import { iterateBatchHeaders } from '../../protocol/records/recordBatch';
import { may, mayOnCluster, Op, ResourceType } from './authz';

type Req = RequestOf<typeof Fetch>;
type Res = ResponseOf<typeof Fetch>;
type PartitionRes = Res['responses'][number]['partitions'][number];

const EMPTY = Buffer.alloc(0);

function partitionResult(partitionIndex: number, errorCode: number, p?: Partition): PartitionRes {
  return {
    partitionIndex,
    errorCode,
    highWatermark: p ? p.highWatermark : -1,
    lastStableOffset: p ? p.log.lastStableOffset : -1,
    logStartOffset: p ? p.logStartOffset : -1,
    divergingEpoch: { epoch: -1, endOffset: -1 },
    currentLeader: { leaderId: -1, leaderEpoch: -1 },
    snapshotId: { endOffset: -1, epoch: -1 },
    abortedTransactions: null,
    preferredReadReplica: -1,
    records: EMPTY,
  };
}

export function handleFetch(req: Req, ctx: HandlerContext): Res | Promise<Res> {
  const { broker, version } = ctx;
  const replicaId = version >= 15 ? req.replicaState.replicaId : req.replicaId;
  const isFollower = replicaId >= 0;
  // v13+ name topics by id: resolve them once (an unknown id is UNKNOWN_TOPIC_ID for its partitions).
  const topicName = (t: Req['topics'][number]): string | undefined =>
    version >= 13 ? broker.image.topics.find((x) => x.id === t.topicId)?.name : t.topic;

  // Consumers need READ on the topic; followers CLUSTER_ACTION, which only the cluster's own inter-broker user
  // has on a SASL listener (without SASL nobody is authenticated, so follower fetches are not checked).
  const authorized = (name: string) =>
    isFollower ? !ctx.conn.sasl || mayOnCluster(ctx, Op.CLUSTER_ACTION) : may(ctx, Op.READ, ResourceType.TOPIC, name);

  const readAll = (): { res: Res; bytes: number; hasError: boolean } => {
    let budget = req.maxBytes;
    let bytes = 0;
    let hasError = false;
    const responses = req.topics.map((t) => ({
      topic: t.topic,
      topicId: t.topicId,
      partitions: t.partitions.map((fp) => {
        const name = topicName(t);
        if (name === undefined) {
          hasError = true;
          return partitionResult(fp.partition, ErrorCode.UNKNOWN_TOPIC_ID);
        }
        if (!authorized(name)) {
          hasError = true;
          return partitionResult(fp.partition, isFollower ? ErrorCode.CLUSTER_AUTHORIZATION_FAILED : ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        }
        const p = broker.partition(name, fp.partition);
        if (!p) {
          hasError = true;
          const known = broker.topicState(name)?.partitions.some((x) => x.partition === fp.partition);
          return partitionResult(fp.partition, known ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
        }
        if (!p.isLeader) {
          hasError = true;
          const res = partitionResult(fp.partition, ErrorCode.NOT_LEADER_OR_FOLLOWER);
          res.currentLeader = { leaderId: p.state.leader, leaderEpoch: p.state.leaderEpoch };
          return res;
        }
        try {
          p.checkLeaderEpoch(fp.currentLeaderEpoch);
        } catch (err) {
          hasError = true;
          return partitionResult(fp.partition, (err as KafkaError).code, p);
        }
        if (isFollower) {
          const diverging = divergence(p, fp.lastFetchedEpoch, fp.fetchOffset);
          if (diverging) {
            hasError = true; // answer at once so the follower can truncate
            const res = partitionResult(fp.partition, 0, p);
            res.divergingEpoch = diverging;
            return res;
          }
          p.updateFollower(replicaId, fp.fetchOffset);
        }
        const readCommitted = !isFollower && req.isolationLevel === 1;
        const limit = isFollower ? p.logEndOffset : readCommitted ? p.log.lastStableOffset : p.highWatermark;
        const res = partitionResult(fp.partition, 0, p);
        if (readCommitted) res.abortedTransactions = [];
        try {
          // The first partition with data may exceed the budget by one batch; later ones only use what is left.
          const maxBytes = bytes === 0 ? Math.min(fp.partitionMaxBytes, Math.max(budget, 1)) : Math.min(fp.partitionMaxBytes, budget);
          if (maxBytes > 0 || bytes === 0) {
            const data = p.log.read(fp.fetchOffset, maxBytes, limit);
            res.records = data;
            if (readCommitted && data.length > 0) {
              res.abortedTransactions = p.log
                .abortedTransactions(fp.fetchOffset, lastOffsetIn(data) + 1)
                .map((t) => ({ producerId: t.producerId, firstOffset: t.firstOffset }));
            }
            bytes += data.length;
            budget -= data.length;
          }
        } catch (err) {
          hasError = true;
          if (err instanceof OffsetOutOfRangeError) res.errorCode = ErrorCode.OFFSET_OUT_OF_RANGE;
          else {
            broker.logger.error(`read of ${p.key} at ${fp.fetchOffset} failed: ${(err as Error).message}`);
            res.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
          }
        }
        return res;
      }),
    }));
    return { res: { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses, nodeEndpoints: [] }, bytes, hasError };
  };

  const first = readAll();
  if (first.bytes >= Math.max(req.minBytes, 1) || req.maxWaitMs <= 0 || first.hasError || req.topics.length === 0) return first.res;

  return new Promise<Res>((resolve) => {
    const unsubscribes: Array<() => void> = [];
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (res: Res) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const u of unsubscribes) u();
      resolve(res);
    };
    const onData = () => {
      // Re-read on the next tick so a burst of appends is read once.
      setImmediate(() => {
        if (settled) return;
        const again = readAll();
        if (again.bytes >= Math.max(req.minBytes, 1) || again.hasError) finish(again.res);
      });
    };
    for (const t of req.topics) for (const fp of t.partitions) {
      const name = topicName(t);
      const p = name === undefined ? undefined : broker.partition(name, fp.partition);
      if (p) unsubscribes.push(p.onData(onData));
    }
    timer = setTimeout(() => finish(readAll().res), req.maxWaitMs);
  });
}

/** The last offset of the last whole batch in fetched data. */
function lastOffsetIn(data: Buffer): number {
  let last = -1;
  for (const { header } of iterateBatchHeaders(data)) last = header.baseOffset + header.lastOffsetDelta;
  return last;
}

/**
 * For a follower fetch carrying its last fetched epoch: if our history says its log diverged, return the
 * end offset of the largest epoch <= its epoch, so it truncates there (Kafka's DivergingEpoch, v12+).
 */
function divergence(p: Partition, lastFetchedEpoch: number, fetchOffset: number): { epoch: number; endOffset: number } | undefined {
  if (lastFetchedEpoch < 0) return undefined;
  const { epoch, endOffset } = p.log.leaderEpochs.endOffsetFor(lastFetchedEpoch);
  if (epoch < 0) return undefined;
  if (epoch < lastFetchedEpoch || endOffset < fetchOffset) return { epoch, endOffset };
  return undefined;
}
