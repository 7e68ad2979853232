// The ACL binding checks of Add ACL (kafka-acls.sh's rules) and the explorer's size and path formatting.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAclBinding, validateAclHost, validatePrincipal, validateResourceName } from '../../../src/extension/model/aclValidation';
import { formatBytes } from '../../../src/extension/tree/node';
import { shortPath } from '../../../src/extension/tree/node.logDir';

describe('ACL binding validation', () => {
  it('accepts a complete binding, filling host * and LITERAL, upper-casing the enums', () => {
    assert.deepEqual(parseAclBinding({ resourceType: 'topic', resourceName: 'orders', principal: 'User:alice', operation: 'read', permission: 'allow' }), {
      binding: { principal: 'User:alice', host: '*', operation: 'READ', permission: 'ALLOW', resourceType: 'TOPIC', resourceName: 'orders', patternType: 'LITERAL' },
    });
    assert.deepEqual(parseAclBinding({ resourceType: 'CLUSTER', principal: 'User:ops', operation: 'ALTER' }), {
      binding: { principal: 'User:ops', host: '*', operation: 'ALTER', permission: 'ALLOW', resourceType: 'CLUSTER', resourceName: 'kafka-cluster', patternType: 'LITERAL' },
    });
  });

  it('refuses what kafka-acls.sh refuses, saying why', () => {
    const base = { resourceType: 'TOPIC', resourceName: 'orders', principal: 'User:alice', operation: 'READ' };
    const error = (patch: object) => (parseAclBinding({ ...base, ...patch }) as { error?: string }).error;
    assert.match(error({ principal: 'alice' })!, /Type:name/);
    assert.match(error({ principal: 'User:' })!, /Type:name/);
    assert.match(error({ host: 'db.example.com' })!, /IP address/);
    assert.equal(error({ host: '10.0.0.5' }), undefined);
    assert.equal(error({ host: '::1' }), undefined);
    assert.match(error({ resourceType: 'GROUP', operation: 'WRITE' })!, /WRITE does not apply to a GROUP \(it takes READ, DESCRIBE, DELETE, ALL\)/);
    assert.match(error({ resourceType: 'TRANSACTIONAL_ID', operation: 'READ' })!, /does not apply/);
    assert.match(error({ resourceType: 'CLUSTER', resourceName: 'mine' })!, /kafka-cluster/);
    assert.match(error({ resourceName: '*', patternType: 'PREFIXED' })!, /PREFIXED pattern needs a prefix/);
    assert.match(error({ resourceName: ' ' })!, /empty/);
    assert.match(error({ operation: 'FLY' })!, /operation must be one of/);
    assert.match(error({ permission: 'MAYBE' })!, /ALLOW or DENY/);
    assert.match(error({ resourceType: 'BROKER' })!, /resourceType must be one of/);
    assert.equal(validatePrincipal('User:*'), undefined);
    assert.equal(validateAclHost('*'), undefined);
    assert.equal(validateResourceName('TOPIC', '*', 'LITERAL'), undefined);
  });
});

describe('explorer formatting', () => {
  it('sizes in binary units, paths shortened to their last two segments', () => {
    assert.deepEqual([0, 512, 1536, 10 * 1024, 3 * 1024 ** 2, 5 * 1024 ** 3, -1].map(formatBytes), ['0 B', '512 B', '1.5 KiB', '10 KiB', '3.0 MiB', '5.0 GiB', 'unknown']);
    assert.equal(shortPath('/data/b1'), '/data/b1');
    assert.equal(shortPath('/home/me/.config/Code/User/globalStorage/minikafka.minikafka/embedded/broker-1'), '…/embedded/broker-1');
  });
});
