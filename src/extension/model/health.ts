// Partition and cluster health in Kafka's terms. vscode-free.
import type { PartitionInfo } from '../../client/admin';
import type { ClusterState } from '../../broker/cluster/supervisor';
import { INTERNAL_TOPICS } from '../../client/admin';

/** No leader: the partition can be neither written nor read (kafka-topics --unavailable-partitions). */
export function isOffline(p: Pick<PartitionInfo, 'leader'>): boolean {
  return p.leader < 0;
}

/** Fewer in-sync replicas than replicas (kafka-topics --under-replicated-partitions). */
export function isUnderReplicated(p: Pick<PartitionInfo, 'isr' | 'replicas'>): boolean {
  return p.isr.length < p.replicas.length;
}

export interface StateSummary {
  brokersUp: number;
  brokersTotal: number;
  topics: number;
  offlinePartitions: number;
  underReplicatedPartitions: number;
}

/** Counts for the status bar and the folder descriptions. Internal topics count for partitions, not for `topics` unless shown. */
export function summarizeState(state: ClusterState, showInternalTopics: boolean): StateSummary {
  let offline = 0;
  let under = 0;
  let topics = 0;
  for (const t of state.topics) {
    const internal = t.internal || INTERNAL_TOPICS.includes(t.name);
    if (showInternalTopics || !internal) topics++;
    for (const p of t.partitions) {
      if (isOffline(p)) offline++;
      else if (isUnderReplicated(p)) under++;
    }
  }
  return {
    brokersUp: state.brokers.filter((b) => b.state === 'running' && !b.fenced).length,
    brokersTotal: state.brokers.length,
    topics,
    offlinePartitions: offline,
    underReplicatedPartitions: under,
  };
}
