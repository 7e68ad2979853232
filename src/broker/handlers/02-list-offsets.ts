// ListOffsets: -1 latest (high watermark), -2 earliest (log start), -3 the record with the largest timestamp,
// otherwise the first offset whose record timestamp is >= the one asked for (exact within a batch).
import { ListOffsets } from '../../protocol/apis/02-list-offsets';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';
import { may, Op, ResourceType } from './authz';

type Res = ResponseOf<typeof ListOffsets>;
type PartitionRes = Res['topics'][number]['partitions'][number];

export const LATEST = -1;
export const EARLIEST = -2;
export const MAX_TIMESTAMP = -3;

export function handleListOffsets(req: RequestOf<typeof ListOffsets>, ctx: HandlerContext): Res {
  const { broker, version } = ctx;
  const out = (partitionIndex: number, errorCode: number, offset = -1, timestamp = -1, leaderEpoch = -1): PartitionRes => ({
    partitionIndex,
    errorCode,
    oldStyleOffsets: offset >= 0 ? [offset] : [],
    timestamp,
    offset,
    leaderEpoch,
  });
  return {
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((rp) => {
        if (!may(ctx, Op.DESCRIBE, ResourceType.TOPIC, t.name)) return out(rp.partitionIndex, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
        const p = broker.partition(t.name, rp.partitionIndex);
        if (!p) return out(rp.partitionIndex, broker.missingReplicaError(t.name, rp.partitionIndex));
        if (!p.isLeader && req.replicaId < 0) return out(rp.partitionIndex, ErrorCode.NOT_LEADER_OR_FOLLOWER);
        try {
          p.checkLeaderEpoch(rp.currentLeaderEpoch);
        } catch (err) {
          return out(rp.partitionIndex, (err as KafkaError).code);
        }
        const epoch = p.leaderEpoch;
        switch (rp.timestamp) {
          case LATEST: {
            // A new leader whose HW still lags its epoch start cannot promise a monotonic answer yet.
            const epochStart = p.log.leaderEpochs.startOffset(p.leaderEpoch);
            if (version >= 4 && epochStart >= 0 && p.highWatermark < epochStart) return out(rp.partitionIndex, ErrorCode.OFFSET_NOT_AVAILABLE);
            // read_committed (isolation level 1) may only see below the last stable offset.
            return out(rp.partitionIndex, 0, req.isolationLevel === 1 ? p.log.lastStableOffset : p.highWatermark, -1, epoch);
          }
          case EARLIEST:
            return out(rp.partitionIndex, 0, p.logStartOffset, -1, epoch);
          case MAX_TIMESTAMP: {
            const found = p.log.maxTimestampOffset();
            return found ? out(rp.partitionIndex, 0, found.offset, found.timestamp, epoch) : out(rp.partitionIndex, 0, -1, -1, epoch);
          }
          default: {
            if (rp.timestamp < 0) return out(rp.partitionIndex, ErrorCode.INVALID_REQUEST);
            const found = p.log.offsetForTimestamp(rp.timestamp);
            if (!found || found.offset >= (req.isolationLevel === 1 ? p.log.lastStableOffset : p.highWatermark)) return out(rp.partitionIndex, 0, -1, -1, epoch);
            return out(rp.partitionIndex, 0, found.offset, found.timestamp, epoch);
          }
        }
      }),
    })),
  };
}
