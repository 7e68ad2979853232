// The authorizer's decision rules (Kafka's StandardAuthorizer) and ACL filter matching (AclBindingFilter.matches).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AclBinding,
  aclBindingProblem,
  aclFilterMatches,
  AclOperation as Op,
  AclPatternType as Pattern,
  AclPermission as Perm,
  AclResourceType as Type,
  authorize,
  authorizeAnyOfType,
  parseSuperUsers,
} from '../../../src/broker/security/authorizer';

const acl = (resourceName: string, operation: Op, permissionType = Perm.ALLOW, principal = 'User:alice', patternType = Pattern.LITERAL, resourceType = Type.TOPIC, host = '*'): AclBinding => ({
  resourceType,
  resourceName,
  patternType,
  principal,
  host,
  operation,
  permissionType,
});

const settings = { superUsers: new Set(['User:admin']), allowEveryoneIfNoAclFound: false };
const can = (acls: AclBinding[], operation: Op, resourceName: string, principal = 'User:alice', host = '10.0.0.1', s = settings) =>
  authorize(acls, s, { principal, host, operation, resourceType: Type.TOPIC, resourceName });

describe('authorizer', () => {
  test('no binding on the resource: allow.everyone.if.no.acl.found decides; super users may do everything', () => {
    assert.equal(can([], Op.READ, 't'), false);
    assert.equal(can([], Op.READ, 't', 'User:alice', '10.0.0.1', { ...settings, allowEveryoneIfNoAclFound: true }), true);
    assert.equal(can([acl('t', Op.WRITE, Perm.DENY, 'User:*')], Op.WRITE, 't', 'User:admin'), true);
    // A binding for someone else on the resource means "ACLs found": no fallback to allow-everyone.
    assert.equal(can([acl('t', Op.READ, Perm.ALLOW, 'User:bob')], Op.READ, 't', 'User:alice', '10.0.0.1', { ...settings, allowEveryoneIfNoAclFound: true }), false);
  });

  test('LITERAL names, the * name, PREFIXED patterns and User:*', () => {
    assert.equal(can([acl('t', Op.READ)], Op.READ, 't'), true);
    assert.equal(can([acl('t', Op.READ)], Op.READ, 't2'), false);
    assert.equal(can([acl('*', Op.READ)], Op.READ, 'anything'), true);
    assert.equal(can([acl('logs-', Op.READ, Perm.ALLOW, 'User:alice', Pattern.PREFIXED)], Op.READ, 'logs-app'), true);
    assert.equal(can([acl('logs-', Op.READ, Perm.ALLOW, 'User:alice', Pattern.PREFIXED)], Op.READ, 'log'), false);
    assert.equal(can([acl('t', Op.READ, Perm.ALLOW, 'User:*')], Op.READ, 't', 'User:zed'), true);
    assert.equal(can([acl('t', Op.READ, Perm.ALLOW, 'User:alice', Pattern.LITERAL, Type.TOPIC, '10.0.0.2')], Op.READ, 't'), false, 'other host');
  });

  test('DENY wins over ALLOW; ALL allows and denies everything; implied DESCRIBE and DESCRIBE_CONFIGS (ALLOW only)', () => {
    assert.equal(can([acl('t', Op.ALL), acl('t', Op.WRITE, Perm.DENY)], Op.WRITE, 't'), false);
    assert.equal(can([acl('t', Op.ALL), acl('t', Op.WRITE, Perm.DENY)], Op.READ, 't'), true);
    assert.equal(can([acl('t', Op.READ), acl('*', Op.ALL, Perm.DENY, 'User:*')], Op.READ, 't'), false);
    for (const op of [Op.READ, Op.WRITE, Op.DELETE, Op.ALTER]) assert.equal(can([acl('t', op)], Op.DESCRIBE, 't'), true, Op[op]);
    assert.equal(can([acl('t', Op.CREATE)], Op.DESCRIBE, 't'), false);
    assert.equal(can([acl('t', Op.DESCRIBE)], Op.READ, 't'), false, 'implication is one way');
    assert.equal(can([acl('t', Op.ALTER_CONFIGS)], Op.DESCRIBE_CONFIGS, 't'), true);
    assert.equal(can([acl('t', Op.ALL), acl('t', Op.READ, Perm.DENY)], Op.DESCRIBE, 't'), true, 'a DENY implies nothing');
  });

  test('by resource type (InitProducerId: WRITE on some topic)', () => {
    const req = { principal: 'User:alice', host: '1.2.3.4', operation: Op.WRITE, resourceType: Type.TOPIC };
    assert.equal(authorizeAnyOfType([acl('x', Op.WRITE)], settings, req), true);
    assert.equal(authorizeAnyOfType([acl('x', Op.READ)], settings, req), false);
    assert.equal(authorizeAnyOfType([acl('x', Op.WRITE), acl('*', Op.WRITE, Perm.DENY)], settings, req), false);
  });

  test('filters: ANY, MATCH, exact pattern type; binding validation', () => {
    const prefixed = acl('logs-', Op.READ, Perm.ALLOW, 'User:alice', Pattern.PREFIXED);
    const filter = { resourceType: Type.TOPIC, resourceName: 'logs-app', patternType: Pattern.MATCH, principal: null, host: null, operation: Op.ANY, permissionType: Perm.ANY };
    assert.equal(aclFilterMatches(filter, prefixed), true);
    assert.equal(aclFilterMatches({ ...filter, patternType: Pattern.ANY }, prefixed), false, 'ANY compares names exactly');
    assert.equal(aclFilterMatches({ ...filter, resourceName: 'logs-', patternType: Pattern.PREFIXED }, prefixed), true);
    assert.equal(aclFilterMatches({ ...filter, resourceName: 'logs-', patternType: Pattern.LITERAL }, prefixed), false);
    assert.equal(aclFilterMatches({ ...filter, resourceType: Type.ANY, resourceName: null, patternType: Pattern.ANY, principal: 'User:bob' }, prefixed), false);
    assert.match(aclBindingProblem(acl('other', Op.ALTER, Perm.ALLOW, 'User:a', Pattern.LITERAL, Type.CLUSTER))!, /kafka-cluster/);
    assert.match(aclBindingProblem(acl('t', Op.READ, Perm.ALLOW, 'alice'))!, /principal/);
    assert.match(aclBindingProblem(acl('t', Op.ANY))!, /operation/);
    assert.match(aclBindingProblem(acl('t', Op.READ, Perm.ALLOW, 'User:a', Pattern.MATCH))!, /patternType/);
    assert.equal(aclBindingProblem(acl('kafka-cluster', Op.ALTER, Perm.ALLOW, 'User:a', Pattern.LITERAL, Type.CLUSTER)), undefined);
    assert.deepEqual([...parseSuperUsers(' User:a; User:b ;')], ['User:a', 'User:b']);
  });
});
