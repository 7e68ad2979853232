import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseBrokerList,
  parseConfigs,
  parseTimestamp,
  validateOffset,
  validatePartitions,
  validateReplicationFactor,
  validateTopicName,
} from '../../../src/extension/model/validation';

describe('extension input validation', () => {
  it('accepts topic names Kafka accepts', () => {
    for (const name of ['a', 'my-replicated-topic', 'A.b_c-9', 'x'.repeat(249), '...']) assert.equal(validateTopicName(name), undefined, name);
  });

  it('refuses topic names Kafka refuses, saying why', () => {
    assert.match(validateTopicName('')!, /empty/);
    assert.match(validateTopicName('.')!, /cannot be "\."/);
    assert.match(validateTopicName('..')!, /cannot be "\.\."/);
    assert.match(validateTopicName('x'.repeat(250))!, /250 characters.*maximum is 249/);
    assert.match(validateTopicName('a b/c')!, /" ", "\/".*only ASCII letters/);
    assert.match(validateTopicName('café')!, /"é"/);
  });

  it('refuses existing and colliding topic names', () => {
    assert.match(validateTopicName('orders', ['orders'])!, /already exists/);
    assert.match(validateTopicName('a.b', ['a_b'])!, /collides with the existing topic 'a_b'/);
  });

  it('checks partitions and the replication factor against live brokers', () => {
    assert.equal(validatePartitions('2'), undefined);
    assert.match(validatePartitions('0')!, /at least 1/);
    assert.match(validatePartitions('1.5')!, /whole number/);
    assert.match(validatePartitions('-1')!, /whole number/);
    assert.equal(validateReplicationFactor('3', 3), undefined);
    assert.match(validateReplicationFactor('4', 3)!, /larger than the number of live brokers \(3\)/);
    assert.match(validateReplicationFactor('0', 3)!, /at least 1/);
    assert.equal(validateReplicationFactor('5', undefined), undefined);
  });

  it('parses config overrides', () => {
    assert.deepEqual(parseConfigs('retention.ms=1000, cleanup.policy=delete'), { configs: { 'retention.ms': '1000', 'cleanup.policy': 'delete' } });
    assert.deepEqual(parseConfigs('').configs, {});
    assert.match(parseConfigs('retention.ms')!.error!, /not key=value/);
    assert.match(parseConfigs('a=1,a=2')!.error!, /given twice/);
  });

  it('parses broker lists, offsets and timestamps', () => {
    assert.deepEqual(parseBrokerList('2, 1 3', [1, 2, 3]), { ids: [2, 1, 3] });
    assert.match(parseBrokerList('1,1').error!, /twice/);
    assert.match(parseBrokerList('4', [1, 2, 3]).error!, /no broker 4/);
    assert.match(parseBrokerList('').error!, /at least one/);
    assert.equal(validateOffset('42'), undefined);
    assert.match(validateOffset('-1')!, /whole number/);
    assert.match(validateOffset('9223372036854775808')!, /larger/);
    assert.equal(parseTimestamp('1700000000000').ms, 1700000000000);
    assert.equal(parseTimestamp('2024-05-01T12:00:00Z').ms, Date.UTC(2024, 4, 1, 12));
    assert.ok(parseTimestamp('yesterday').error);
  });
});
