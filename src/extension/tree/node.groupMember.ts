// A member of a consumer group: client id, host and assigned partitions. vscode-free.
import type { GroupMemberInfo } from '../../client/admin';
import type { GroupMemberNode, ItemPresentation } from './node';
import { nodeId } from './node';

export function groupMemberNode(clusterId: string, groupId: string, member: GroupMemberInfo): GroupMemberNode {
  return { kind: 'groupMember', id: nodeId(clusterId, 'groups', groupId, 'member', member.memberId), clusterId, groupId, member };
}

export function assignmentText(assignment: Record<string, number[]>): string {
  const entries = Object.entries(assignment).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return 'no partitions';
  return entries.map(([t, ps]) => `${t}[${[...ps].sort((a, b) => a - b).join(',')}]`).join(', ');
}

export function groupMemberItem(node: GroupMemberNode): ItemPresentation {
  const m = node.member;
  return {
    id: node.id,
    label: m.clientId || m.memberId,
    description: `${m.host} · ${assignmentText(m.assignment)}`,
    tooltip: [`member ${m.memberId}`, `client id ${m.clientId}`, `host ${m.host}`, `assigned: ${assignmentText(m.assignment)}`].join('\n'),
    contextValue: 'groupMember',
    icon: { id: 'person' },
    collapsible: 'none',
  };
}
