// InitProducerId (idempotent producers), OffsetForLeaderEpoch (log divergence checks by clients and
// followers) and DescribeCluster.

import { InitProducerId } from '../../protocol/apis/22-init-producer-id';
import { OffsetForLeaderEpoch } from '../../protocol/apis/23-offset-for-leader-epoch';
import { DescribeCluster } from '../../protocol/apis/60-describe-cluster';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';
import { liveBrokers } from '../metadata';
import { may, mayOnCluster, mayOnSomeOfType, Op, ResourceType } from './authz';

/** Producer ids handed out by this broker come from blocks the controller allocates. */
const producerIdBlocks = new WeakMap<object, { next: number; end: number }>();

export async function handleInitProducerId(req: RequestOf<typeof InitProducerId>, ctx: HandlerContext): Promise<ResponseOf<typeof InitProducerId>> {
  const out = (errorCode: number, producerId = -1, producerEpoch = -1) => ({ throttleTimeMs: 0, errorCode, producerId, producerEpoch });
  if (req.transactionalId !== null) {
    ctx.broker.logger.warn(`InitProducerId for transactional id ${req.transactionalId}: transactions are not supported`);
    return out(ErrorCode.INVALID_TXN_STATE);
  }
  // Kafka (KIP-679): IDEMPOTENT_WRITE on the cluster, or WRITE on some topic.
  if (!mayOnCluster(ctx, Op.IDEMPOTENT_WRITE) && !mayOnSomeOfType(ctx, Op.WRITE, ResourceType.TOPIC)) return out(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  // A client re-initialising an existing id (v3+) gets the same id with a bumped epoch.
  if (req.producerId >= 0 && req.producerEpoch >= 0) {
    return req.producerEpoch >= 32766 ? out(0, await nextProducerId(ctx), 0) : out(0, req.producerId, req.producerEpoch + 1);
  }
  return out(0, await nextProducerId(ctx), 0);
}

async function nextProducerId(ctx: HandlerContext): Promise<number> {
  let block = producerIdBlocks.get(ctx.broker);
  if (!block || block.next >= block.end) {
    const { start, length } = await ctx.broker.controller.allocateProducerIds();
    block = { next: start, end: start + length };
    producerIdBlocks.set(ctx.broker, block);
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
        if (!p) return out(broker.topicState(t.topic) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
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
