// ElectLeaders (preferred / unclean election), AlterPartitionReassignments and ListPartitionReassignments:
// the failover tools. Each is carried out by the controller.

import { ElectLeaders } from '../../protocol/apis/43-elect-leaders';
import { AlterPartitionReassignments } from '../../protocol/apis/45-alter-partition-reassignments';
import { ListPartitionReassignments } from '../../protocol/apis/46-list-partition-reassignments';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { RequestOf, ResponseOf } from '../../protocol/schema';
import { HandlerContext } from '../handlerContext';
import { mayOnCluster, Op } from './authz';

export async function handleElectLeaders(req: RequestOf<typeof ElectLeaders>, ctx: HandlerContext): Promise<ResponseOf<typeof ElectLeaders>> {
  if (!mayOnCluster(ctx, Op.ALTER)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, replicaElectionResults: [] };
  const wanted = req.topicPartitions?.flatMap((t) => t.partitionId.map((partition) => ({ topic: t.topic, partition }))) ?? null;
  const results = await ctx.broker.controller.electLeaders(ctx.version === 0 ? 0 : req.electionType, wanted);
  await ctx.broker.syncMetadata();
  const byTopic = new Map<string, Array<{ partitionId: number; errorCode: number; errorMessage: string | null }>>();
  for (const r of results) {
    if (!byTopic.has(r.topic)) byTopic.set(r.topic, []);
    byTopic.get(r.topic)!.push({ partitionId: r.partition, errorCode: r.errorCode, errorMessage: r.message });
  }
  return { throttleTimeMs: 0, errorCode: 0, replicaElectionResults: [...byTopic].map(([topic, partitionResult]) => ({ topic, partitionResult })) };
}

export async function handleAlterPartitionReassignments(req: RequestOf<typeof AlterPartitionReassignments>, ctx: HandlerContext): Promise<ResponseOf<typeof AlterPartitionReassignments>> {
  if (!mayOnCluster(ctx, Op.ALTER)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, responses: [] };
  const responses = [];
  for (const t of req.topics) {
    const partitions = [];
    for (const p of t.partitions) {
      try {
        await ctx.broker.controller.reassignPartition(t.name, p.partitionIndex, p.replicas);
        partitions.push({ partitionIndex: p.partitionIndex, errorCode: 0, errorMessage: null });
      } catch (err) {
        partitions.push({ partitionIndex: p.partitionIndex, errorCode: err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: (err as Error).message });
      }
    }
    responses.push({ name: t.name, partitions });
  }
  await ctx.broker.syncMetadata();
  return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, responses };
}

export async function handleListPartitionReassignments(req: RequestOf<typeof ListPartitionReassignments>, ctx: HandlerContext): Promise<ResponseOf<typeof ListPartitionReassignments>> {
  if (!mayOnCluster(ctx, Op.DESCRIBE)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, topics: [] };
  const ongoing = await ctx.broker.controller.listReassignments();
  const wanted = (topic: string, partition: number) => req.topics === null || req.topics.some((t) => t.name === topic && t.partitionIndexes.includes(partition));
  const byTopic = new Map<string, Array<{ partitionIndex: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[] }>>();
  for (const r of ongoing.filter((o) => wanted(o.topic, o.partition))) {
    if (!byTopic.has(r.topic)) byTopic.set(r.topic, []);
    byTopic.get(r.topic)!.push({ partitionIndex: r.partition, replicas: r.replicas, addingReplicas: r.addingReplicas, removingReplicas: r.removingReplicas });
  }
  return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) };
}
