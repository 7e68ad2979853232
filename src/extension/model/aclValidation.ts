// Checks an ACL binding the way kafka-acls.sh does before sending it: a principal of the form Type:name, a host
// that is * or an IP address (Kafka's authorizer compares the client's address, it does not resolve names), an
// operation that applies to the resource type, and the cluster resource's fixed name. vscode-free.

import { isIP } from 'node:net';
import { ACL_OPERATIONS, ACL_RESOURCE_TYPES, AclBindingInfo, AclOperation, AclResourceType } from '../../client/admin';

/** Kafka's cluster resource has one name. */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';

/** The operations each resource type accepts (kafka-acls.sh's ResourceTypeToValidOperations). */
export const OPERATIONS_BY_RESOURCE: Record<AclResourceType, readonly AclOperation[]> = {
  TOPIC: ['READ', 'WRITE', 'CREATE', 'DESCRIBE', 'DELETE', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'ALTER', 'ALL'],
  GROUP: ['READ', 'DESCRIBE', 'DELETE', 'ALL'],
  CLUSTER: ['CREATE', 'CLUSTER_ACTION', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE', 'ALTER', 'DESCRIBE', 'ALL'],
  TRANSACTIONAL_ID: ['DESCRIBE', 'WRITE', 'ALL'],
  DELEGATION_TOKEN: ['DESCRIBE', 'ALL'],
};

export function validatePrincipal(p: string): string | undefined {
  const i = p.indexOf(':');
  if (i <= 0 || i === p.length - 1) return 'a principal is Type:name, e.g. User:alice (User:* for everyone)';
  return undefined;
}

export function validateAclHost(h: string): string | undefined {
  if (h === '*' || isIP(h) !== 0) return undefined;
  return 'the host is * (any) or an IP address such as 10.0.0.5; Kafka compares the client\'s address and does not resolve host names';
}

export function validateResourceName(type: AclResourceType, name: string, pattern: string): string | undefined {
  if (name.trim() === '') return 'the resource name is empty (use * for every resource of the type)';
  if (type === 'CLUSTER' && name !== CLUSTER_RESOURCE_NAME) return `the cluster resource is named ${CLUSTER_RESOURCE_NAME}`;
  if (name === '*' && pattern === 'PREFIXED') return 'the wildcard * is a LITERAL name; a PREFIXED pattern needs a prefix';
  return undefined;
}

/** A complete binding from loose input, or the first problem in words. */
export function parseAclBinding(input: Partial<Record<keyof AclBindingInfo, unknown>>): { binding: AclBindingInfo } | { error: string } {
  const resourceType = String(input.resourceType ?? '').toUpperCase() as AclResourceType;
  if (!ACL_RESOURCE_TYPES.includes(resourceType)) return { error: `resourceType must be one of ${ACL_RESOURCE_TYPES.join(', ')}` };
  const patternType = String(input.patternType ?? 'LITERAL').toUpperCase();
  if (patternType !== 'LITERAL' && patternType !== 'PREFIXED') return { error: 'patternType must be LITERAL or PREFIXED' };
  const resourceName = String(input.resourceName ?? (resourceType === 'CLUSTER' ? CLUSTER_RESOURCE_NAME : ''));
  const nameProblem = validateResourceName(resourceType, resourceName, patternType);
  if (nameProblem) return { error: nameProblem };
  const principal = String(input.principal ?? '');
  const pProblem = validatePrincipal(principal);
  if (pProblem) return { error: pProblem };
  const host = String(input.host ?? '*');
  const hProblem = validateAclHost(host);
  if (hProblem) return { error: hProblem };
  const operation = String(input.operation ?? '').toUpperCase() as AclOperation;
  if (!ACL_OPERATIONS.includes(operation)) return { error: `operation must be one of ${ACL_OPERATIONS.join(', ')}` };
  if (!OPERATIONS_BY_RESOURCE[resourceType].includes(operation)) {
    return { error: `${operation} does not apply to a ${resourceType} (it takes ${OPERATIONS_BY_RESOURCE[resourceType].join(', ')})` };
  }
  const permission = String(input.permission ?? 'ALLOW').toUpperCase();
  if (permission !== 'ALLOW' && permission !== 'DENY') return { error: 'permission must be ALLOW or DENY' };
  return { binding: { principal, host, operation, permission, resourceType, resourceName, patternType } };
}
