// `minikafka groups`: kafka-consumer-groups.sh's everyday options and output.
//   --list
//   --describe --group G        GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID
//   --delete --group G
//   --reset-offsets --group G --topic T --to-earliest|--to-latest|--to-offset N|--to-datetime ISO [--execute|--dry-run]

import { Command } from 'commander';
import { ClusterAdmin, GroupOffsets, OffsetResetTarget, PartitionOffset } from '../client/admin';
import { addSecurityOptions, connectionFromFlags, formatTable, oneAction, parseInteger, runClientCommand, ServerFlags, withAdmin, writeOut } from './common';
import { CliError, UsageError } from './errors';

interface GroupsFlags extends ServerFlags {
  list?: boolean;
  describe?: boolean;
  delete?: boolean;
  resetOffsets?: boolean;
  group?: string;
  topic?: string;
  toEarliest?: boolean;
  toLatest?: boolean;
  toOffset?: string;
  toDatetime?: string;
  execute?: boolean;
  dryRun?: boolean;
}

const ACTIONS = ['list', 'describe', 'delete', 'resetOffsets'] as const;
type Action = (typeof ACTIONS)[number];
const FLAG_NAMES: Record<Action, string> = { list: '--list', describe: '--describe', delete: '--delete', resetOffsets: '--reset-offsets' };

export function registerGroupsCommand(program: Command): void {
  addSecurityOptions(program.command('groups'))
    .description('list, describe, delete consumer groups and reset their offsets (like kafka-consumer-groups.sh)')
    .option('--bootstrap-server <servers>', 'broker(s) to connect to: host:port[,host:port]')
    .option('--list', 'list consumer groups')
    .option('--describe', 'committed offsets, log end offsets, lag and owners of a group')
    .option('--delete', 'delete an inactive group and its offsets')
    .option('--reset-offsets', 'move the committed offsets of an inactive group')
    .option('--group <id>', 'the consumer group')
    .option('--topic <name>', 'topic whose offsets to reset')
    .option('--to-earliest', 'reset to the earliest offset')
    .option('--to-latest', 'reset to the log end offset')
    .option('--to-offset <n>', 'reset to this offset')
    .option('--to-datetime <iso>', 'reset to the first offset at or after this time, e.g. 2024-01-31T12:00:00.000')
    .option('--execute', 'apply the reset (without it the reset is only shown)')
    .option('--dry-run', 'only show the reset')
    .action(async (flags: GroupsFlags) => {
      const action = oneAction<Action>(flags, ACTIONS, (a) => FLAG_NAMES[a]);
      if (action !== 'list') requireGroup(flags, action);
      if (action === 'resetOffsets') resetTarget(flags);
      const connection = await connectionFromFlags(flags);
      await runClientCommand(connection, () => withAdmin(connection, (admin) => GROUP_ACTIONS[action](admin, flags)));
    });
}

const GROUP_ACTIONS: Record<Action, (admin: ClusterAdmin, flags: GroupsFlags) => Promise<void>> = {
  list: listGroups,
  describe: describeGroup,
  delete: deleteGroup,
  resetOffsets: resetOffsets,
};

function requireGroup(flags: GroupsFlags, action: Action): string {
  if (!flags.group) throw new UsageError(`${FLAG_NAMES[action]} needs --group <id>`);
  return flags.group;
}

async function listGroups(admin: ClusterAdmin): Promise<void> {
  const groups = await admin.listGroups();
  await writeOut(groups.map((g) => `${g.groupId}\n`).join(''));
}

async function describeGroup(admin: ClusterAdmin, flags: GroupsFlags): Promise<void> {
  const groupId = requireGroup(flags, 'describe');
  const offsets = await admin.groupOffsets(groupId);
  if (offsets.group.state === 'Dead' && offsets.partitions.length === 0) throw new CliError(`consumer group '${groupId}' does not exist`);
  if (offsets.group.members.length === 0) process.stderr.write(`Consumer group '${groupId}' has no active members.\n`);
  await writeOut('\n' + offsetsTable(offsets));
}

/** kafka-consumer-groups.sh --describe: '-' where a value is unknown (nothing committed, no owner). */
export function offsetsTable({ group, partitions }: GroupOffsets): string {
  const rows = partitions.map((p) => [
    group.groupId,
    p.topic,
    String(p.partition),
    p.committedOffset ?? '-',
    p.endOffset ?? '-',
    p.lag ?? '-',
    p.owner?.memberId ?? '-',
    p.owner?.host ?? '-',
    p.owner?.clientId ?? '-',
  ]);
  // Members that own nothing (more members than partitions) still show up, as in Kafka's tool.
  const owners = new Set(partitions.map((p) => p.owner?.memberId));
  for (const m of group.members) {
    if (!owners.has(m.memberId)) rows.push([group.groupId, '-', '-', '-', '-', '-', m.memberId, m.host, m.clientId]);
  }
  return formatTable(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'], rows, [15, 15, 10]);
}

async function deleteGroup(admin: ClusterAdmin, flags: GroupsFlags): Promise<void> {
  const groupId = requireGroup(flags, 'delete');
  await admin.deleteGroup(groupId);
  await writeOut(`Deletion of requested consumer groups ('${groupId}') was successful.\n`);
}

async function resetOffsets(admin: ClusterAdmin, flags: GroupsFlags): Promise<void> {
  const groupId = requireGroup(flags, 'resetOffsets');
  if (!flags.topic) throw new UsageError('--reset-offsets needs --topic <name>');
  if (flags.execute && flags.dryRun) throw new UsageError('give either --execute or --dry-run, not both');
  const target = resetTarget(flags);
  const dryRun = !flags.execute;
  const plan = await admin.resetGroupOffsets(groupId, flags.topic, target, { dryRun });
  if (dryRun && !flags.dryRun) process.stderr.write('minikafka: note: nothing was changed; add --execute to reset the offsets\n');
  await writeOut('\n' + resetTable(groupId, plan));
}

function resetTarget(flags: GroupsFlags): OffsetResetTarget {
  const given = [flags.toEarliest, flags.toLatest, flags.toOffset, flags.toDatetime].filter((v) => v !== undefined && v !== false);
  if (given.length !== 1) throw new UsageError('give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime');
  if (flags.toEarliest) return 'earliest';
  if (flags.toLatest) return 'latest';
  if (flags.toOffset !== undefined) return { offset: parseInteger(flags.toOffset, '--to-offset', 0) };
  const timestamp = Date.parse(flags.toDatetime as string);
  if (Number.isNaN(timestamp)) throw new UsageError(`invalid --to-datetime '${flags.toDatetime}': expected an ISO date such as 2024-01-31T12:00:00.000`);
  return { timestamp };
}

function resetTable(groupId: string, plan: PartitionOffset[]): string {
  return formatTable(
    ['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'],
    plan.map((p) => [groupId, p.topic, String(p.partition), p.offset]),
    [30, 30, 10],
  );
}
