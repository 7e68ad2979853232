// ACL bindings and the decision rules of Kafka's StandardAuthorizer, as pure functions over a list of bindings
// (the list lives in the controller's metadata image, so every broker decides from the same set).
//
// A binding is (resource pattern, principal, host, operation, ALLOW|DENY). For a request by principal P from
// host H to do operation O on resource R:
//   - super users may do everything;
//   - the bindings of R are those of R's type whose pattern matches R's name: LITERAL equal or '*', PREFIXED a
//     prefix of the name;
//   - none at all: allow.everyone.if.no.acl.found decides (Kafka's default: deny);
//   - a DENY for P (or User:*) from H (or *) for O (or ALL) wins;
//   - else an ALLOW for O or ALL allows; READ, WRITE, DELETE and ALTER also allow DESCRIBE, and ALTER_CONFIGS
//     allows DESCRIBE_CONFIGS (Kafka's implied operations; a DENY implies nothing);
//   - else deny.

export enum AclResourceType {
  UNKNOWN = 0,
  ANY = 1,
  TOPIC = 2,
  GROUP = 3,
  CLUSTER = 4,
  TRANSACTIONAL_ID = 5,
  DELEGATION_TOKEN = 6,
  USER = 7,
}

export enum AclPatternType {
  UNKNOWN = 0,
  ANY = 1,
  MATCH = 2,
  LITERAL = 3,
  PREFIXED = 4,
}

export enum AclOperation {
  UNKNOWN = 0,
  ANY = 1,
  ALL = 2,
  READ = 3,
  WRITE = 4,
  CREATE = 5,
  DELETE = 6,
  ALTER = 7,
  DESCRIBE = 8,
  CLUSTER_ACTION = 9,
  DESCRIBE_CONFIGS = 10,
  ALTER_CONFIGS = 11,
  IDEMPOTENT_WRITE = 12,
  CREATE_TOKENS = 13,
  DESCRIBE_TOKENS = 14,
}

export enum AclPermission {
  UNKNOWN = 0,
  ANY = 1,
  DENY = 2,
  ALLOW = 3,
}

/** The one name a CLUSTER resource has (Kafka's Resource.CLUSTER_NAME). */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';
export const WILDCARD = '*';
export const WILDCARD_PRINCIPAL = 'User:*';
/** The principal of a connection that did not authenticate (PLAINTEXT or SSL without client certificates). */
export const ANONYMOUS_PRINCIPAL = 'User:ANONYMOUS';

export interface AclBinding {
  resourceType: AclResourceType;
  resourceName: string;
  patternType: AclPatternType;
  principal: string;
  host: string;
  operation: AclOperation;
  permissionType: AclPermission;
}

/** As a binding, with ANY/MATCH and null (any) allowed: what DescribeAcls and DeleteAcls select with. */
export interface AclFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

const IMPLIES_DESCRIBE = new Set([AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]);
const IMPLIES_DESCRIBE_CONFIGS = new Set([AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]);

const known = <E extends object>(e: E, value: number) => Object.values(e).includes(value);

/** Why a binding cannot be created (Kafka answers INVALID_REQUEST with this), or undefined. */
export function aclBindingProblem(b: AclBinding): string | undefined {
  if (!known(AclResourceType, b.resourceType) || b.resourceType === AclResourceType.ANY || b.resourceType === AclResourceType.UNKNOWN) return `Invalid resourceType ${b.resourceType}`;
  if (b.patternType !== AclPatternType.LITERAL && b.patternType !== AclPatternType.PREFIXED) return `Invalid patternType ${b.patternType}`;
  if (!known(AclOperation, b.operation) || b.operation === AclOperation.ANY || b.operation === AclOperation.UNKNOWN) return `Invalid operation ${b.operation}`;
  if (b.permissionType !== AclPermission.ALLOW && b.permissionType !== AclPermission.DENY) return `Invalid permissionType ${b.permissionType}`;
  if (b.resourceName === '') return 'Resource name should not be empty';
  if (b.resourceType === AclResourceType.CLUSTER && b.resourceName !== CLUSTER_RESOURCE_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_RESOURCE_NAME}`;
  const colon = b.principal.indexOf(':');
  if (colon <= 0) return `Could not parse principal from \`${b.principal}\` (no colon is present separating the principal type from the principal name)`;
  if (b.host === '') return 'Invalid host: the host must not be empty';
  return undefined;
}

/** Why a filter cannot be used (UNKNOWN values), or undefined. */
export function aclFilterProblem(f: AclFilter): string | undefined {
  if (f.resourceType === AclResourceType.UNKNOWN || !known(AclResourceType, f.resourceType)) return `Invalid resourceType ${f.resourceType}`;
  if (f.patternType === AclPatternType.UNKNOWN || !known(AclPatternType, f.patternType)) return `Invalid patternType ${f.patternType}`;
  if (f.operation === AclOperation.UNKNOWN || !known(AclOperation, f.operation)) return `Invalid operation ${f.operation}`;
  if (f.permissionType === AclPermission.UNKNOWN || !known(AclPermission, f.permissionType)) return `Invalid permissionType ${f.permissionType}`;
  return undefined;
}

/** Kafka's AclBindingFilter.matches: MATCH selects the bindings that would apply to a resource of that name. */
export function aclFilterMatches(f: AclFilter, b: AclBinding): boolean {
  if (f.resourceType !== AclResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (f.patternType !== AclPatternType.ANY && f.patternType !== AclPatternType.MATCH && f.patternType !== b.patternType) return false;
  if (f.resourceName !== null) {
    if (f.patternType === AclPatternType.ANY || f.patternType === b.patternType) {
      if (f.resourceName !== b.resourceName) return false;
    } else if (!patternMatchesName(b, f.resourceName)) return false;
  }
  if (f.principal !== null && f.principal !== b.principal) return false;
  if (f.host !== null && f.host !== b.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false;
  if (f.permissionType !== AclPermission.ANY && f.permissionType !== b.permissionType) return false;
  return true;
}

export function sameBinding(a: AclBinding, b: AclBinding): boolean {
  return (
    a.resourceType === b.resourceType &&
    a.resourceName === b.resourceName &&
    a.patternType === b.patternType &&
    a.principal === b.principal &&
    a.host === b.host &&
    a.operation === b.operation &&
    a.permissionType === b.permissionType
  );
}

function patternMatchesName(b: AclBinding, name: string): boolean {
  if (b.patternType === AclPatternType.LITERAL) return b.resourceName === name || b.resourceName === WILDCARD;
  if (b.patternType === AclPatternType.PREFIXED) return name.startsWith(b.resourceName);
  return false;
}

export interface AuthorizerSettings {
  superUsers: ReadonlySet<string>;
  allowEveryoneIfNoAclFound: boolean;
}

export interface AuthorizationRequest {
  principal: string;
  host: string;
  operation: AclOperation;
  resourceType: AclResourceType;
  resourceName: string;
}

function appliesTo(b: AclBinding, principal: string, host: string): boolean {
  return (b.principal === principal || b.principal === WILDCARD_PRINCIPAL) && (b.host === WILDCARD || b.host === host);
}

function allows(granted: AclOperation, wanted: AclOperation): boolean {
  if (granted === AclOperation.ALL || granted === wanted) return true;
  if (wanted === AclOperation.DESCRIBE) return IMPLIES_DESCRIBE.has(granted);
  if (wanted === AclOperation.DESCRIBE_CONFIGS) return IMPLIES_DESCRIBE_CONFIGS.has(granted);
  return false;
}

export function authorize(acls: readonly AclBinding[], settings: AuthorizerSettings, req: AuthorizationRequest): boolean {
  if (settings.superUsers.has(req.principal)) return true;
  const ofResource = acls.filter((b) => b.resourceType === req.resourceType && patternMatchesName(b, req.resourceName));
  if (ofResource.length === 0) return settings.allowEveryoneIfNoAclFound;
  const applicable = ofResource.filter((b) => appliesTo(b, req.principal, req.host));
  if (applicable.some((b) => b.permissionType === AclPermission.DENY && (b.operation === AclOperation.ALL || b.operation === req.operation))) return false;
  return applicable.some((b) => b.permissionType === AclPermission.ALLOW && allows(b.operation, req.operation));
}

/**
 * Whether the principal may do the operation on some resource of the type (Kafka's authorizeByResourceType,
 * used by InitProducerId: IDEMPOTENT_WRITE on the cluster or WRITE on any topic). Simplified: an ALLOW for it on
 * any pattern of the type, unless a DENY covers every name of the type (LITERAL '*' or PREFIXED '').
 */
export function authorizeAnyOfType(acls: readonly AclBinding[], settings: AuthorizerSettings, req: Omit<AuthorizationRequest, 'resourceName'>): boolean {
  if (settings.superUsers.has(req.principal)) return true;
  const ofType = acls.filter((b) => b.resourceType === req.resourceType);
  if (ofType.length === 0) return settings.allowEveryoneIfNoAclFound;
  const applicable = ofType.filter((b) => appliesTo(b, req.principal, req.host));
  const deniesAll = (b: AclBinding) =>
    b.permissionType === AclPermission.DENY &&
    (b.operation === AclOperation.ALL || b.operation === req.operation) &&
    ((b.patternType === AclPatternType.LITERAL && b.resourceName === WILDCARD) || (b.patternType === AclPatternType.PREFIXED && b.resourceName === ''));
  if (applicable.some(deniesAll)) return false;
  return applicable.some((b) => b.permissionType === AclPermission.ALLOW && allows(b.operation, req.operation));
}

/** super.users as Kafka writes it: principals separated by semicolons ("User:admin;User:ops"). */
export function parseSuperUsers(value: string | undefined): Set<string> {
  return new Set((value ?? '').split(';').map((s) => s.trim()).filter(Boolean));
}
