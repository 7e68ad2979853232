// `minikafka transactions`: kafka-transactions.sh's read-only commands and their output.
//   --list                                  TransactionalId Coordinator ProducerId TransactionState
//   --describe --transactional-id ID        CoordinatorId TransactionalId ProducerId ProducerEpoch TransactionState
//                                           TransactionTimeoutMs CurrentTransactionStartTimeMs TransactionDurationMs
//                                           TopicPartitions
//   --describe-producers --topic T --partition P
//                                           ProducerId ProducerEpoch LatestCoordinatorEpoch LastSequence LastTimestamp
//                                           CurrentTransactionStartOffset
// kafka-transactions.sh takes these as subcommands (`list`, `describe`, `describe-producers`); the first word after
// `transactions` may be one of them too. Absent values print as None, as there.

import { Command } from 'commander';
import { ClusterAdmin } from '../client/admin';
import { addSecurityOptions, connectionFromFlags, formatTable, oneAction, parseInteger, runClientCommand, ServerFlags, withAdmin, writeOut } from './common';
import { UsageError } from './errors';

interface TransactionsFlags extends ServerFlags {
  list?: boolean;
  describe?: boolean;
  describeProducers?: boolean;
  transactionalId?: string;
  topic?: string;
  partition?: string;
}

const ACTIONS = ['list', 'describe', 'describeProducers'] as const;
type Action = (typeof ACTIONS)[number];
const FLAG_NAMES: Record<Action, string> = { list: '--list', describe: '--describe', describeProducers: '--describe-producers' };
const SUBCOMMANDS: Record<string, Action> = { list: 'list', describe: 'describe', 'describe-producers': 'describeProducers' };

export function registerTransactionsCommand(program: Command): void {
  addSecurityOptions(program.command('transactions'))
    .description('list and describe transactions and the producers of a partition (like kafka-transactions.sh)')
    .argument('[subcommand]', 'list, describe or describe-producers (the same as the flags)')
    .option('--bootstrap-server <servers>', 'broker(s) to connect to: host:port[,host:port]')
    .option('--list', 'list the transactional ids of every broker with their state')
    .option('--describe', 'the state of one transactional id (needs --transactional-id)')
    .option('--describe-producers', 'the producers of a partition (needs --topic and --partition)')
    .option('--transactional-id <id>', 'the transactional id to describe')
    .option('--topic <name>', 'topic of the partition whose producers to describe')
    .option('--partition <n>', 'partition whose producers to describe')
    .action(async (subcommand: string | undefined, flags: TransactionsFlags) => {
      if (subcommand !== undefined) {
        const action = SUBCOMMANDS[subcommand];
        if (!action) throw new UsageError(`unknown subcommand '${subcommand}': use list, describe or describe-producers`);
        flags[action] = true;
      }
      const action = oneAction<Action>(flags, ACTIONS, (a) => FLAG_NAMES[a]);
      if (action === 'describe' && !flags.transactionalId) throw new UsageError('--describe needs --transactional-id <id>');
      if (action === 'describeProducers' && (!flags.topic || flags.partition === undefined)) throw new UsageError('--describe-producers needs --topic <name> and --partition <n>');
      const connection = await connectionFromFlags(flags);
      await runClientCommand(connection, () => withAdmin(connection, (admin) => TRANSACTION_ACTIONS[action](admin, flags)));
    });
}

const none = (n: number) => (n < 0 ? 'None' : String(n));

const TRANSACTION_ACTIONS: Record<Action, (admin: ClusterAdmin, flags: TransactionsFlags) => Promise<void>> = {
  async list(admin) {
    const rows = (await admin.listTransactions()).map((t) => [t.transactionalId, String(t.coordinatorId), String(t.producerId), t.state]);
    await writeOut(formatTable(['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState'], rows, [0, 0, 0, 0]));
  },
  async describe(admin, flags) {
    const t = await admin.describeTransaction(flags.transactionalId!);
    const duration = t.startTimeMs < 0 ? 'None' : String(Math.max(0, Date.now() - t.startTimeMs));
    const partitions = t.partitions.map((p) => `${p.topic}-${p.partition}`).join(',');
    await writeOut(
      formatTable(
        ['CoordinatorId', 'TransactionalId', 'ProducerId', 'ProducerEpoch', 'TransactionState', 'TransactionTimeoutMs', 'CurrentTransactionStartTimeMs', 'TransactionDurationMs', 'TopicPartitions'],
        [[String(t.coordinatorId), t.transactionalId, String(t.producerId), String(t.producerEpoch), t.state, String(t.timeoutMs), none(t.startTimeMs), duration, partitions]],
        new Array(9).fill(0),
      ),
    );
  },
  async describeProducers(admin, flags) {
    const partition = parseInteger(flags.partition!, '--partition', 0);
    const rows = (await admin.describeProducers(flags.topic!, partition)).map((p) => [
      String(p.producerId),
      String(p.producerEpoch),
      String(p.coordinatorEpoch),
      String(p.lastSequence),
      String(p.lastTimestamp),
      none(p.currentTransactionStartOffset),
    ]);
    await writeOut(formatTable(['ProducerId', 'ProducerEpoch', 'LatestCoordinatorEpoch', 'LastSequence', 'LastTimestamp', 'CurrentTransactionStartOffset'], rows, new Array(6).fill(0)));
  },
};
