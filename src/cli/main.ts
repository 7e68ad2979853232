// The minikafka command line. `minikafka start` runs the mini-cluster until interrupted; the other commands
// mirror Kafka's own scripts (kafka-topics.sh, kafka-console-producer.sh, ...) so the seed tutorial can be
// followed word for word. Errors are one clear line and a non-zero exit, never a stack trace.

import { Command, CommanderError } from 'commander';
import { ControlError } from '../broker/cluster/controlClient';
import { UsageError } from './errors';
import { registerStart } from './start';
import { registerTopicsCommand } from './topics';
import { registerConsoleCommands } from './console';
import { registerGroupsCommand } from './groups';
import { registerTransactionsCommand } from './transactions';
import { registerUsersCommand } from './users';
import { expandKafkaStyleOptions } from './kafkaArgs';

const program = new Command();
program.name('minikafka').description('An embedded Kafka mini-cluster: real Kafka wire protocol, no Java, no Docker.');
registerStart(program);
registerTopicsCommand(program);
registerConsoleCommands(program);
registerGroupsCommand(program);
registerTransactionsCommand(program);
registerUsersCommand(program);

// The commands that mirror Kafka's scripts take options the way those scripts do (see kafkaArgs.ts).
const KAFKA_STYLE_COMMANDS = new Set(['topics', 'console-producer', 'console-consumer', 'groups', 'transactions']);
const kafkaStyle = program.commands.find((c) => c.name() === process.argv[2] && KAFKA_STYLE_COMMANDS.has(c.name()));
const argv = kafkaStyle
  ? [...process.argv.slice(0, 3), ...expandKafkaStyleOptions(process.argv.slice(3), kafkaStyle.options.map((o) => o.long ?? '').filter(Boolean))]
  : process.argv;

program.exitOverride();
program.parseAsync(argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const e = err as NodeJS.ErrnoException;
  const msg = e.code === 'EADDRINUSE' ? `address already in use: ${e.message.replace(/^listen EADDRINUSE: address already in use /, '')}` : e.message;
  process.stderr.write(`minikafka: ${msg}\n`);
  process.exit(err instanceof UsageError ? 2 : err instanceof ControlError ? 1 : 1);
});
