// DescribeLogDirs: this broker's one log directory, with every partition replica it holds (leader or follower).
// As Kafka (ReplicaManager.describeLogDirs): the size is the sum of the log's segment files, the offset lag of a
// current log is max(HW - LEO, 0), and there are no future logs (no AlterReplicaLogDirs). Needs DESCRIBE on the
// cluster, else no directories and CLUSTER_AUTHORIZATION_FAILED (v3+).

import { statfsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DescribeLogDirs } from '../../protocol/apis/35-describe-log-dirs';
import { ErrorCode } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';
import { mayOnCluster, Op } from './authz';

type Res = ResponseOf<typeof DescribeLogDirs>;

export function handleDescribeLogDirs(req: RequestOf<typeof DescribeLogDirs>, ctx: HandlerContext): Res {
  const { broker } = ctx;
  if (!mayOnCluster(ctx, Op.DESCRIBE)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
  const wanted = (topic: string, partition: number) => req.topics === null || req.topics.some((t) => t.topic === topic && t.partitions.includes(partition));
  const byTopic = new Map<string, Res['results'][number]['topics'][number]['partitions']>();
  for (const p of broker.partitions.values()) {
    if (!wanted(p.topic, p.index)) continue;
    if (!byTopic.has(p.topic)) byTopic.set(p.topic, []);
    byTopic.get(p.topic)!.push({
      partitionIndex: p.index,
      partitionSize: p.log.sizeInBytes(),
      offsetLag: Math.max(p.highWatermark - p.logEndOffset, 0),
      isFutureKey: false,
    });
  }
  let totalBytes = -1;
  let usableBytes = -1;
  try {
    const fs = statfsSync(broker.logDir);
    totalBytes = fs.blocks * fs.bsize;
    usableBytes = fs.bavail * fs.bsize;
  } catch {
    // unknown: -1, as Kafka answers when it cannot tell
  }
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    results: [
      {
        errorCode: 0,
        logDir: resolve(broker.logDir),
        topics: [...byTopic].map(([name, partitions]) => ({ name, partitions: partitions.sort((a, b) => a.partitionIndex - b.partitionIndex) })),
        totalBytes,
        usableBytes,
      },
    ],
  };
}
