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

/**
 * Counts for the status bar and the folder descriptions, over the topics shown (internal ones only when
 * `includeInternal`), so that "1 topic · 2 under-replicated" adds up with the rows below it.
 */
export function summarizeState(state: ClusterState, includeInternal: boolean): StateSummary {
  let offline = 0;
  let under = 0;
  let topics = 0;
  for (const t of state.topics) {
    const internal = t.internal || INTERNAL_TOPICS.includes(t.name);
    if (internal && !includeInternal) continue;
    topics++;
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
