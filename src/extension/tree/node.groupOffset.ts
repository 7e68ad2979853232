// One partition of a consumer group: committed offset, end offset and lag. vscode-free.
import type { GroupPartitionOffset } from '../../client/admin';
import type { GroupOffsetNode, ItemPresentation } from './node';
import { Colors, nodeId } from './node';

export function groupOffsetNode(clusterId: string, groupId: string, offsets: GroupPartitionOffset): GroupOffsetNode {
  return {
    kind: 'groupOffset',
    id: nodeId(clusterId, 'groups', groupId, 'offset', offsets.topic, offsets.partition),
    clusterId,
    groupId,
    topic: offsets.topic,
    partition: offsets.partition,
    offsets,
  };
}

export function groupOffsetItem(node: GroupOffsetNode): ItemPresentation {
  const o = node.offsets;
  const parts = [`committed ${o.committedOffset ?? 'none'}`, `end ${o.endOffset ?? 'unknown'}`, `lag ${o.lag ?? '?'}`];
  const tooltip = [`${o.topic} partition ${o.partition}`, ...parts];
  if (o.owner) tooltip.push(`owned by ${o.owner.clientId} (${o.owner.host})`);
  else tooltip.push('not assigned to any member');
  if (o.endOffset === null) tooltip.push('The end offset cannot be read: the partition is offline.');
  const lagging = o.lag !== null && BigInt(o.lag) > 0n;
  return {
    id: node.id,
    label: `${o.topic} P${o.partition}`,
    description: parts.join(' · '),
    tooltip: tooltip.join('\n'),
    contextValue: 'groupOffset',
    icon: lagging ? { id: 'arrow-down', color: Colors.warning } : { id: 'check' },
    collapsible: 'none',
  };
}
