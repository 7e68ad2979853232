// A partition: "P0" with "leader 2 · replicas 2,0,1 · isr 2,0 · offsets 0–57"; offline and under-replicated
// partitions are marked with an icon, a colour and a tooltip that says what it means. vscode-free.
import type { PartitionInfo } from '../../client/admin';
import { isOffline, isUnderReplicated } from '../model/health';
import type { ItemPresentation, PartitionNode } from './node';
import { Colors, nodeId } from './node';

export function partitionNode(clusterId: string, topic: string, info: PartitionInfo, embedded: boolean, openTransactions?: string): PartitionNode {
  return { kind: 'partition', id: nodeId(clusterId, 'topics', topic, info.partition), clusterId, topic, partition: info.partition, info, embedded, ...(openTransactions ? { openTransactions } : {}) };
}

/** The LSO is behind the high watermark: an open transaction holds read_committed consumers back. */
export function lsoBehind(p: PartitionInfo): boolean {
  return p.stable !== undefined && p.high !== undefined && BigInt(p.stable) < BigInt(p.high);
}

export function partitionDescription(p: PartitionInfo): string {
  const parts = [`leader ${p.leader >= 0 ? p.leader : 'none'}`, `replicas ${p.replicas.join(',')}`, `isr ${p.isr.join(',') || 'none'}`];
  if (p.low !== undefined && p.high !== undefined) parts.push(`offsets ${p.low}–${p.high}`);
  if (lsoBehind(p)) parts.push(`LSO ${p.stable} < HW ${p.high}`);
  return parts.join(' · ');
}

export function partitionContextValue(node: PartitionNode): string {
  const p = node.info;
  const base = isOffline(p) ? 'partition.offline' : isUnderReplicated(p) ? 'partition.underReplicated' : 'partition';
  return node.embedded ? `${base}.embedded` : base;
}

export function partitionItem(node: PartitionNode): ItemPresentation {
  const p = node.info;
  const offline = isOffline(p);
  const under = !offline && isUnderReplicated(p);
  const tooltip = [`${node.topic} partition ${p.partition}`, partitionDescription(p).replace(/ · /g, '\n')];
  if (p.replicas.length > 0) tooltip.push(`preferred leader ${p.replicas[0]}${p.leader >= 0 && p.leader !== p.replicas[0] ? ' (not leading now)' : ''}`);
  if (offline) {
    tooltip.push(
      'OFFLINE: no replica in the ISR is alive, so the partition has no leader. Producing to and consuming from it fail until a replica in the ISR comes back (or an unclean election picks another one).',
    );
  } else if (under) {
    const missing = p.replicas.filter((r) => !p.isr.includes(r));
    tooltip.push(
      `UNDER-REPLICATED: replica${missing.length > 1 ? 's' : ''} ${missing.join(',')} ${missing.length > 1 ? 'are' : 'is'} not in sync. Writes with acks=all still succeed while the ISR meets min.insync.replicas, but one more failure may lose availability.`,
    );
  }
  if (lsoBehind(p)) {
    tooltip.push(
      `LSO ${p.stable} < HW ${p.high}: ${node.openTransactions ?? 'an open transaction'}. read_committed consumers stop at offset ${p.stable} until it commits or aborts.`,
    );
  }
  if (p.offlineReplicas.length > 0) tooltip.push(`replicas on brokers that are down: ${p.offlineReplicas.join(',')}`);
  if (p.error) tooltip.push(p.error);
  const icon = offline
    ? { id: 'error', color: Colors.error }
    : under
      ? { id: 'warning', color: Colors.warning }
      : lsoBehind(p)
        ? { id: 'git-pull-request-draft', color: Colors.warning }
        : { id: 'symbol-number' };
  return {
    id: node.id,
    label: `P${p.partition}`,
    description: partitionDescription(p),
    tooltip: tooltip.join('\n'),
    contextValue: partitionContextValue(node),
    icon,
    collapsible: 'none',
  };
}
