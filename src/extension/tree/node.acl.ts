// One ACL binding under a cluster's ACLs folder, in kafka-acls.sh's words: "User:alice ALLOW READ" on
// "TOPIC orders (LITERAL)" from host "*". The node is the argument of Remove ACL. vscode-free.
import type { AclBindingInfo } from '../../client/admin';
import type { AclNode, ItemPresentation } from './node';
import { Colors, nodeId } from './node';

export function aclKey(a: AclBindingInfo): string {
  return [a.resourceType, a.patternType, a.resourceName, a.principal, a.host, a.operation, a.permission].join('|');
}

export function aclNode(clusterId: string, acl: AclBindingInfo): AclNode {
  return { kind: 'acl', id: nodeId(clusterId, 'acls', aclKey(acl)), clusterId, acl };
}

export function describeAcl(a: AclBindingInfo): string {
  return `${a.principal} ${a.permission} ${a.operation} on ${a.resourceType} ${a.resourceName}${a.patternType === 'PREFIXED' ? '*' : ''} from host ${a.host}`;
}

export function aclItem(node: AclNode): ItemPresentation {
  const a = node.acl;
  const deny = a.permission === 'DENY';
  return {
    id: node.id,
    label: `${a.principal} ${a.permission} ${a.operation}`,
    description: `${a.resourceType} ${a.resourceName}${a.patternType === 'PREFIXED' ? ' (prefixed)' : ''} · host ${a.host}`,
    tooltip: [
      `Principal: ${a.principal}`,
      `Host: ${a.host}`,
      `Operation: ${a.operation}`,
      `Permission: ${a.permission}`,
      `Resource: ${a.resourceType} ${a.resourceName}`,
      `Pattern: ${a.patternType}${a.patternType === 'PREFIXED' ? ` (every ${a.resourceType.toLowerCase()} whose name starts with "${a.resourceName}")` : ''}`,
    ].join('\n'),
    contextValue: 'acl',
    icon: deny ? { id: 'circle-slash', color: Colors.error } : { id: 'pass', color: Colors.ok },
    collapsible: 'none',
  };
}
