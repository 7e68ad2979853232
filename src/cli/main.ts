// The minikafka command line. `minikafka start` runs brokers until interrupted; the other commands mirror
// Kafka's own scripts (kafka-topics.sh, kafka-console-producer.sh, ...) so the seed tutorial can be followed
// word for word. Errors are one clear line and a non-zero exit.

import { Command, CommanderError } from 'commander';
import { resolve } from 'node:path';
import { startSingleNode } from '../broker/singleNode';
import { streamLogger, LogLevel } from '../broker/logger';

const program = new Command();
program.name('minikafka').description('An embedded Kafka mini-cluster: real Kafka wire protocol, no Java, no Docker.');

program
  .command('start')
  .description('start the mini-cluster and run until interrupted')
  .option('--brokers <n>', 'number of brokers', '1')
  .option('--port <port>', 'port of the first broker (default 9092, or a free port if taken)')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--dir <dir>', 'data directory', '.minikafka')
  .option('--log-level <level>', 'debug, info, warn or error', 'info')
  .action(async (opts) => {
    const brokers = Number(opts.brokers);
    if (!Number.isInteger(brokers) || brokers < 1) throw new UsageError(`--brokers must be a positive integer, got ${opts.brokers}`);
    if (brokers !== 1) throw new UsageError('only --brokers 1 is available in this build');
    const logger = streamLogger('minikafka', opts.logLevel as LogLevel);
    const dir = resolve(opts.dir);
    const port = opts.port === undefined ? undefined : parsePort(opts.port);
    const node = await startWithPortFallback((p) => startSingleNode({ dir, host: opts.host, port: p, logger }), port);
    process.stdout.write(`bootstrap: ${node.bootstrap}\n`);
    const shutdown = async (signal: string) => {
      logger.info(`${signal}: stopping`);
      await node.stop();
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown('SIGINT'));
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
  });

class UsageError extends Error {}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`invalid port: ${value}`);
  return n;
}

/** An explicit port must be used as given; the default 9092 falls back to a free port when taken. */
async function startWithPortFallback<T>(start: (port: number) => Promise<T>, explicit: number | undefined): Promise<T> {
  if (explicit !== undefined) return start(explicit);
  try {
    return await start(9092);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    return start(0);
  }
}

program.exitOverride();
program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const e = err as NodeJS.ErrnoException;
  const msg = e.code === 'EADDRINUSE' ? `address already in use: ${e.message.replace(/^listen EADDRINUSE: address already in use /, '')}` : e.message;
  process.stderr.write(`minikafka: ${msg}\n`);
  process.exit(1);
});
