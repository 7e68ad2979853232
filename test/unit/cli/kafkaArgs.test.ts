// Kafka-style option spelling (JOpt Simple): single-dash long options and unambiguous abbreviations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandKafkaStyleOptions } from '../../../src/cli/kafkaArgs';

const TOPICS = ['--bootstrap-server', '--zookeeper', '--create', '--alter', '--topic', '--partitions', '--replication-factor', '--config', '--delete-config', '--describe', '--delete', '--help'];

test('the seed notes: --partition for --partitions and -delete-config for --delete-config', () => {
  assert.deepEqual(
    expandKafkaStyleOptions(['--zookeeper', 'h:2181', '--create', '--topic', 'test', '--partition', '3', '--replication-factor', '1'], TOPICS),
    ['--zookeeper', 'h:2181', '--create', '--topic', 'test', '--partitions', '3', '--replication-factor', '1'],
  );
  assert.deepEqual(expandKafkaStyleOptions(['--alter', '--topic', 'test', '-delete-config', 'retention.ms'], TOPICS), ['--alter', '--topic', 'test', '--delete-config', 'retention.ms']);
});

test('=value forms, exact names that are also prefixes, and ambiguous prefixes', () => {
  assert.deepEqual(expandKafkaStyleOptions(['-topic=t', '--repl=3'], TOPICS), ['--topic=t', '--replication-factor=3']);
  // --delete is an option of its own, though it also begins --delete-config.
  assert.deepEqual(expandKafkaStyleOptions(['--delete'], TOPICS), ['--delete']);
  // --de could be --delete-config, --describe or --delete: left for the parser to refuse.
  assert.deepEqual(expandKafkaStyleOptions(['--de'], TOPICS), ['--de']);
  assert.deepEqual(expandKafkaStyleOptions(['--nosuch'], TOPICS), ['--nosuch']);
});

test('values, single letters and everything after -- are left alone', () => {
  const ACKS = ['--acks', '--topic', '--property'];
  assert.deepEqual(expandKafkaStyleOptions(['--acks', '-1', '-h', '--', '-top'], ACKS), ['--acks', '-1', '-h', '--', '-top']);
  assert.deepEqual(expandKafkaStyleOptions(['--property', 'key.separator=-'], ACKS), ['--property', 'key.separator=-']);
});
