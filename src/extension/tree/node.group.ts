// A consumer group: state, members and total lag; expands to its members and its per-partition offsets. vscode-free.
import type { GroupSummary } from '../model/types';
import { describeError } from '../model/errors';
import type { TreeContext } from './context';
import type { GroupNode, ItemPresentation, TreeCluster, TreeNode } from './node';
import { Colors, nodeId, placeholder, plural } from './node';
import { groupMemberNode } from './node.groupMember';
import { groupOffsetNode } from './node.groupOffset';

export function groupNode(cluster: TreeCluster, summary: GroupSummary): GroupNode {
  return { kind: 'group', id: nodeId(cluster.id, 'groups', summary.groupId), clusterId: cluster.id, groupId: summary.groupId, summary, cluster };
}

export function groupItem(node: GroupNode): ItemPresentation {
  const g = node.summary;
  const parts = [g.state, plural(g.members, 'member')];
  if (g.totalLag !== null) parts.push(`lag ${g.totalLag}`);
  const tooltip = [`Consumer group ${g.groupId}`, `state ${g.state}`, plural(g.members, 'member')];
  if (g.totalLag !== null) tooltip.push(`total lag ${g.totalLag} (records between the committed offsets and the partitions' ends)`);
  if (g.error) tooltip.push(`Could not read the group: ${g.error}`);
  const icon = g.error ? { id: 'error', color: Colors.error } : g.members > 0 ? { id: 'organization', color: Colors.ok } : { id: 'organization' };
  return {
    id: node.id,
    label: g.groupId,
    description: parts.join(' · '),
    tooltip: tooltip.join('\n'),
    contextValue: g.members > 0 ? 'group.active' : 'group',
    icon,
    collapsible: 'collapsed',
  };
}

export async function groupChildren(node: GroupNode, _ctx: TreeContext): Promise<TreeNode[]> {
  const source = node.cluster.source();
  if (!source) return [placeholder(node.id, node.clusterId, node.cluster.lastError() ?? 'the cluster is not available', { severity: 'error' })];
  try {
    const o = await source.groupOffsets(node.groupId);
    const out: TreeNode[] = [
      ...o.group.members.map((m) => groupMemberNode(node.clusterId, node.groupId, m)),
      ...o.partitions.map((p) => groupOffsetNode(node.clusterId, node.groupId, p)),
    ];
    return out.length > 0 ? out : [placeholder(node.id, node.clusterId, 'No members and no committed offsets')];
  } catch (err) {
    const words = describeError(err);
    return [placeholder(node.id, node.clusterId, words, { severity: 'error', tooltip: `Could not read group ${node.groupId}: ${words}` })];
  }
}
