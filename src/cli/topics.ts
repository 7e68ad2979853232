// `minikafka topics`: kafka-topics.sh's options and output, so Kafka tutorials work as written.
//   --create --topic T [--partitions N] [--replication-factor R] [--config k=v ...] [--if-not-exists]
//   --list [--exclude-internal]
//   --describe [--topic T] [--exclude-internal] [--under-replicated-partitions] [--unavailable-partitions]
//   --alter --topic T [--partitions N] [--config k=v ...] [--delete-config k ...] [--if-exists]
//   --delete --topic T [--if-exists]

import { Command } from 'commander';
import { ClusterAdmin, PartitionInfo, TopicConfigEntry } from '../client/admin';
import { describeTopicsText } from '../client/describe';
import { addSecurityOptions, collect, connectionFromFlags, oneAction, parseInteger, parseKeyValues, runClientCommand, ServerFlags, withAdmin, writeOut } from './common';
import { UsageError } from './errors';

interface TopicsFlags extends ServerFlags {
  create?: boolean;
  list?: boolean;
  describe?: boolean;
  alter?: boolean;
  delete?: boolean;
  topic?: string;
  partitions?: string;
  replicationFactor?: string;
  config: string[];
  deleteConfig: string[];
  excludeInternal?: boolean;
  ifNotExists?: boolean;
  ifExists?: boolean;
  underReplicatedPartitions?: boolean;
  unavailablePartitions?: boolean;
}

const ACTIONS = ['create', 'list', 'describe', 'alter', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

export function registerTopicsCommand(program: Command): void {
  addSecurityOptions(program.command('topics'))
    .description('create, list, describe, alter and delete topics (like kafka-topics.sh)')
    .option('--bootstrap-server <servers>', 'broker(s) to connect to: host:port[,host:port]')
    .option('--zookeeper <host:port>', "for Kafka tutorials: the mini-cluster's supervisor address (`minikafka start` prints it; localhost:2181 by default) or a broker's")
    .option('--create', 'create a topic')
    .option('--list', 'list topic names')
    .option('--describe', 'describe topics: partitions, leaders, replicas, ISR, non-default configs')
    .option('--alter', 'change partition count or configs of a topic')
    .option('--delete', 'delete a topic')
    .option('--topic <name>', 'the topic')
    .option('--partitions <n>', 'number of partitions (create, or grow with --alter)')
    .option('--replication-factor <n>', 'replicas per partition (create)')
    .option('--config <key=value>', 'topic config override (create, alter); repeatable', collect, [])
    .option('--delete-config <key>', 'remove a topic config override (alter); repeatable', collect, [])
    .option('--exclude-internal', 'hide internal topics such as __consumer_offsets (list, describe)')
    .option('--if-not-exists', 'create only if the topic does not exist yet')
    .option('--if-exists', 'alter or delete only if the topic exists')
    .option('--under-replicated-partitions', 'describe only partitions whose ISR is smaller than their replicas')
    .option('--unavailable-partitions', 'describe only partitions without a leader')
    .action(async (flags: TopicsFlags) => {
      const action = oneAction<Action>(flags, ACTIONS, (a) => `--${a}`);
      if (action === 'create' || action === 'alter' || action === 'delete') requireTopic(flags, action);
      const connection = await connectionFromFlags(flags);
      await runClientCommand(connection, () => withAdmin(connection, (admin) => TOPIC_ACTIONS[action](admin, flags)));
    });
}

const TOPIC_ACTIONS: Record<Action, (admin: ClusterAdmin, flags: TopicsFlags) => Promise<void>> = {
  create: createTopic,
  list: listTopics,
  describe: describeTopics,
  alter: alterTopic,
  delete: deleteTopic,
};

function requireTopic(flags: TopicsFlags, action: Action): string {
  if (!flags.topic) throw new UsageError(`--${action} needs --topic <name>`);
  return flags.topic;
}

async function topicExists(admin: ClusterAdmin, name: string): Promise<boolean> {
  return (await admin.listTopics()).some((t) => t.name === name);
}

async function createTopic(admin: ClusterAdmin, flags: TopicsFlags): Promise<void> {
  const name = requireTopic(flags, 'create');
  const partitions = flags.partitions === undefined ? undefined : parseInteger(flags.partitions, '--partitions', 1);
  const replicationFactor = flags.replicationFactor === undefined ? undefined : parseInteger(flags.replicationFactor, '--replication-factor', 1, 32767);
  const configs = parseKeyValues(flags.config, '--config');
  if (flags.ifNotExists && (await topicExists(admin, name))) return;
  await admin.createTopic({ name, partitions, replicationFactor, configs });
  await writeOut(`Created topic ${name}.\n`);
}

async function listTopics(admin: ClusterAdmin, flags: TopicsFlags): Promise<void> {
  const topics = (await admin.listTopics()).filter((t) => !(flags.excludeInternal && t.internal));
  await writeOut(topics.map((t) => `${t.name}\n`).join(''));
}

async function describeTopics(admin: ClusterAdmin, flags: TopicsFlags): Promise<void> {
  const topics = (await admin.describeTopics(flags.topic === undefined ? undefined : [flags.topic])).filter(
    (t) => !(flags.excludeInternal && t.internal),
  );
  const partitionFilter = (p: PartitionInfo): boolean =>
    (!flags.underReplicatedPartitions || p.isr.length < p.replicas.length) && (!flags.unavailablePartitions || p.leader < 0);
  const filtering = flags.underReplicatedPartitions || flags.unavailablePartitions;
  const configs = filtering ? new Map<string, TopicConfigEntry[]>() : await admin.describeConfigsOf(topics.map((t) => t.name));
  // Like TopicCommand: the topic line only when describing whole topics, not when listing problem partitions.
  await writeOut(describeTopicsText(topics, configs, { partitionFilter, partitionsOnly: filtering }));
}

async function alterTopic(admin: ClusterAdmin, flags: TopicsFlags): Promise<void> {
  const name = requireTopic(flags, 'alter');
  const set = parseKeyValues(flags.config, '--config');
  const partitions = flags.partitions === undefined ? undefined : parseInteger(flags.partitions, '--partitions', 1);
  if (partitions === undefined && Object.keys(set).length === 0 && flags.deleteConfig.length === 0) {
    throw new UsageError('--alter needs --partitions, --config or --delete-config');
  }
  if (flags.replicationFactor !== undefined) throw new UsageError('the replication factor cannot be changed with --alter');
  if (flags.ifExists && !(await topicExists(admin, name))) return;
  if (partitions !== undefined) {
    await admin.createPartitions(name, partitions);
    await writeOut(`Increased the partition count of ${name} to ${partitions}.\n`);
  }
  if (Object.keys(set).length > 0 || flags.deleteConfig.length > 0) {
    await admin.alterTopicConfig(name, set, flags.deleteConfig);
    await writeOut(`Completed updating config for topic ${name}.\n`);
  }
}

async function deleteTopic(admin: ClusterAdmin, flags: TopicsFlags): Promise<void> {
  const name = requireTopic(flags, 'delete');
  if (flags.ifExists && !(await topicExists(admin, name))) return;
  await admin.deleteTopic(name);
  await writeOut(`Deleted topic ${name}.\n`);
}
