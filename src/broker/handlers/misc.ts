// InitProducerId (idempotent producers), OffsetForLeaderEpoch (log divergence checks by clients and
// followers) and DescribeCluster.

import { InitProducerId } from '../../protocol/apis/22-init-producer-id';
import { OffsetForLeaderEpoch } from '../../protocol/apis/23-offset-for-leader-epoch';
import { DescribeCluster } from '../../protocol/apis/60-describe-cluster';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import type { Broker } from '../broker';
import { HandlerContext } from '../handlerContext';
import { liveBrokers } from '../metadata';
import { may, mayOnCluster, mayOnSomeOfType, Op, ResourceType } from './authz';

/**
 * Producer ids handed out by this broker come from blocks the controller allocates (and persists before handing
 * out), so they are unique across the cluster and across restarts. `pending` makes concurrent requests that find the
 * block used up wait for one allocation instead of each asking for a block.
 */
interface ProducerIdBlock {
  next: number;
  end: number;
  pending?: Promise<void>;
}
const producerIdBlocks = new WeakMap<object, ProducerIdBlock>();

export async function handleInitProducerId(req: RequestOf<typeof InitProducerId>, ctx: HandlerContext): Promise<ResponseOf<typeof InitProducerId>> {
  const out = (errorCode: number, producerId = -1, producerEpoch = -1) => ({ throttleTimeMs: 0, errorCode, producerId, producerEpoch });
  if (req.transactionalId !== null) {
    if (!may(ctx, Op.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId)) return out(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const r = await ctx.broker.txns.initProducerId(req.transactionalId, req.transactionTimeoutMs, req.producerId, req.producerEpoch, ctx.version);
    return out(r.errorCode, r.producerId, r.producerEpoch);
  }
  // Kafka (KIP-679): IDEMPOTENT_WRITE on the cluster, or WRITE on some topic.
  if (!mayOnCluster(ctx, Op.IDEMPOTENT_WRITE) && !mayOnSomeOfType(ctx, Op.WRITE, ResourceType.TOPIC)) return out(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  // Without a transactional id Kafka always allocates a new producer id with epoch 0, whatever producerId/epoch the
  // request carries (TransactionCoordinator.handleInitProducerId). Echoing the request's id made separate producers
  // that send 0/0 (@platformatic/kafka) share one id, and the log dropped one producer's batches as duplicates of
  // the other's.
  return out(0, await nextProducerId(ctx.broker), 0);
}

/** The next producer id of this broker's block (the transaction coordinator allocates from it too). */
export async function nextProducerId(broker: Broker): Promise<number> {
  const ctx = { broker };
  let block = producerIdBlocks.get(ctx.broker);
  if (!block) {
    block = { next: 0, end: 0 };
    producerIdBlocks.set(ctx.broker, block);
  }
  while (block.next >= block.end) {
    if (!block.pending) {
      const b = block;
      b.pending = ctx.broker.controller.allocateProducerIds().then(
        ({ start, length }) => {
          b.next = start;
          b.end = start + length;
          b.pending = undefined;
        },
        (err) => {
          b.pending = undefined;
          throw err;
        },
      );
    }
    await block.pending;
  }
  return block.next++;
}

export function handleOffsetForLeaderEpoch(req: RequestOf<typeof OffsetForLeaderEpoch>, ctx: HandlerContext): ResponseOf<typeof OffsetForLeaderEpoch> {
  const { broker } = ctx;
  // As Fetch: followers need CLUSTER_ACTION (checked on SASL listeners only), clients DESCRIBE on the topic.
  const follower = req.replicaId >= 0;
  const authorized = (topic: string) => (follower ? !ctx.conn.sasl || mayOnCluster(ctx, Op.CLUSTER_ACTION) : may(ctx, Op.DESCRIBE, ResourceType.TOPIC, topic));
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.map((rp) => {
        const out = (errorCode: number, leaderEpoch = -1, endOffset = -1) => ({ errorCode, partition: rp.partition, leaderEpoch, endOffset });
        if (!authorized(t.topic)) return out(follower ? ErrorCode.CLUSTER_AUTHORIZATION_FAILED : ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        const p = broker.partition(t.topic, rp.partition);
        if (!p) return out(broker.missingReplicaError(t.topic, rp.partition));
        if (!p.isLeader) return out(ErrorCode.NOT_LEADER_OR_FOLLOWER);
        try {
          p.checkLeaderEpoch(rp.currentLeaderEpoch);
        } catch (err) {
          return out((err as KafkaError).code);
        }
        const { epoch, endOffset } = p.log.leaderEpochs.endOffsetFor(rp.leaderEpoch);
        return out(0, epoch, endOffset);
      }),
    })),
  };
}

export function handleDescribeCluster(_req: RequestOf<typeof DescribeCluster>, ctx: HandlerContext): ResponseOf<typeof DescribeCluster> {
  const image = ctx.broker.image;
  const allowed = mayOnCluster(ctx, Op.DESCRIBE);
  return {
    throttleTimeMs: 0,
    errorCode: allowed ? 0 : ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
    errorMessage: null,
    endpointType: 1,
    clusterId: image.clusterId,
    controllerId: image.controllerId,
    brokers: liveBrokers(image).map((b) => ({ brokerId: b.id, host: b.host, port: b.port, rack: b.rack })),
    clusterAuthorizedOperations: -2147483648,
  };
}
