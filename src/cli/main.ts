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

const program = new Command();
program.name('minikafka').description('An embedded Kafka mini-cluster: real Kafka wire protocol, no Java, no Docker.');
registerStart(program);
registerTopicsCommand(program);
registerConsoleCommands(program);
registerGroupsCommand(program);

program.exitOverride();
program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const e = err as NodeJS.ErrnoException;
  const msg = e.code === 'EADDRINUSE' ? `address already in use: ${e.message.replace(/^listen EADDRINUSE: address already in use /, '')}` : e.message;
  process.stderr.write(`minikafka: ${msg}\n`);
  process.exit(err instanceof UsageError ? 2 : err instanceof ControlError ? 1 : 1);
});
