// What the client commands (topics, console-producer, console-consumer, groups) share: how the connection is
// given on the command line, how option values are checked, and how any failure becomes one line.

import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { ClusterAdmin } from '../client/admin';
import { CliError, UsageError } from './errors';
import { resolveZookeeperFlag } from './zookeeper';
import { ClientLogger, explainConnectionError, KafkaConnectionOptions, parseBootstrapServers, SaslCredentials, SaslMechanism, silentLogger, TlsOptions } from '../client/connection';

export interface ServerFlags {
  bootstrapServer?: string;
  /** kafka-console-producer.sh's name for the same thing. */
  brokerList?: string;
  /** Tutorials written for Kafka < 3 pass ZooKeeper's address; we take it as a broker address. */
  zookeeper?: string;
  /** Secure listeners (see addSecurityOptions). */
  tls?: boolean;
  caFile?: string;
  insecure?: boolean;
  saslMechanism?: string;
  username?: string;
  password?: string;
}

/** The password may come from the environment instead of the command line (where `ps` shows it). */
export const PASSWORD_ENV = 'MINIKAFKA_PASSWORD';

/** The options every client command takes to reach a TLS and/or SASL listener. */
export function addSecurityOptions(command: Command): Command {
  return command
    .option('--tls', 'connect with TLS')
    .option('--ca-file <file>', 'PEM file of the CA to trust, e.g. <dir>/tls/ca.pem of a `minikafka start --tls` cluster (implies --tls)')
    .option('--insecure', 'accept any server certificate (implies --tls; for test clusters only)')
    .option('--sasl-mechanism <mechanism>', 'authenticate with SASL: plain, scram-sha-256 or scram-sha-512')
    .option('--username <name>', 'SASL username')
    .option('--password <password>', `SASL password (or set ${PASSWORD_ENV})`);
}

function securityFromFlags(flags: ServerFlags): Pick<KafkaConnectionOptions, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConnectionOptions, 'ssl' | 'sasl'> = {};
  if (flags.tls || flags.caFile !== undefined || flags.insecure) {
    const tls: TlsOptions = {};
    if (flags.caFile !== undefined) {
      try {
        tls.ca = readFileSync(flags.caFile, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read --ca-file ${flags.caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      if (!tls.ca.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--ca-file ${flags.caFile} is not a PEM certificate`);
    }
    if (flags.insecure) tls.rejectUnauthorized = false;
    out.ssl = tls.ca !== undefined || tls.rejectUnauthorized === false ? tls : true;
  }
  const password = flags.password ?? process.env[PASSWORD_ENV];
  if (flags.saslMechanism !== undefined) {
    const mechanism = flags.saslMechanism.trim().toLowerCase();
    if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
      throw new UsageError(`invalid --sasl-mechanism '${flags.saslMechanism}': expected plain, scram-sha-256 or scram-sha-512`);
    }
    if (flags.username === undefined) throw new UsageError('--sasl-mechanism needs --username');
    if (password === undefined) throw new UsageError(`--sasl-mechanism needs --password (or ${PASSWORD_ENV} in the environment)`);
    const sasl: SaslCredentials = { mechanism: mechanism as SaslMechanism, username: flags.username, password };
    out.sasl = sasl;
  } else if (flags.username !== undefined || flags.password !== undefined) {
    throw new UsageError('--username and --password need --sasl-mechanism plain|scram-sha-256|scram-sha-512');
  }
  return out;
}

/**
 * The connection the flags describe. The CLI fails fast (a few retries, ~2 s) when nothing answers, rather
 * than the minute Kafka's own tools wait.
 */
export async function connectionFromFlags(flags: ServerFlags): Promise<KafkaConnectionOptions> {
  const given = [flags.bootstrapServer, flags.brokerList, flags.zookeeper].filter((v) => v !== undefined);
  if (given.length === 0) throw new UsageError('missing required option --bootstrap-server <host:port[,host:port]>');
  if (given.length > 1) throw new UsageError('give only one of --bootstrap-server, --broker-list and --zookeeper');
  let servers: string[];
  try {
    servers = parseBootstrapServers(given[0] as string);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (flags.zookeeper !== undefined) {
    const resolved = await resolveZookeeperFlag(servers);
    servers = resolved.servers;
    process.stderr.write(`minikafka: note: ${resolved.note}\n`);
  }
  return {
    ...securityFromFlags(flags),
    bootstrapServers: servers,
    clientId: 'minikafka-cli',
    connectionTimeoutMs: 3000,
    requestTimeoutMs: 30000,
    retry: { retries: 5, initialRetryTimeMs: 100, maxRetryTimeMs: 1000 },
    logger: cliLogger(),
  };
}

/**
 * kafkajs's own log lines would bury the one-line error, so the CLI is silent unless MINIKAFKA_CLIENT_LOG is
 * set to debug, info, warn or error.
 */
function cliLogger(): ClientLogger {
  const level = process.env.MINIKAFKA_CLIENT_LOG;
  const order = ['debug', 'info', 'warn', 'error'];
  const min = level ? order.indexOf(level) : -1;
  if (min < 0) return silentLogger;
  const line = (lvl: string) => (msg: string) => {
    if (order.indexOf(lvl) >= min) process.stderr.write(`${new Date().toISOString()} ${lvl.toUpperCase()} ${msg}\n`);
  };
  return { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
}

/** Runs a command body, turning any client failure into a CliError with a sentence a user can act on. */
export async function runClientCommand(connection: KafkaConnectionOptions, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if (err instanceof CliError || err instanceof UsageError) throw err;
    throw new CliError(await explainConnectionError(err, connection));
  }
}

/** Runs `body` with a connected admin client, disconnecting afterwards whatever happens. */
export async function withAdmin(connection: KafkaConnectionOptions, body: (admin: ClusterAdmin) => Promise<void>): Promise<void> {
  const admin = new ClusterAdmin(connection);
  try {
    await admin.connect();
    await body(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Commander accumulator for options that may be repeated (`--config a=1 --config b=2`). */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Parses `key=value` pairs (the first '=' separates), naming the option in errors. */
export function parseKeyValues(pairs: string[], option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid ${option} '${pair}': expected key=value`);
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  return out;
}

export function parseInteger(value: string, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw new UsageError(`invalid ${option} '${value}': expected ${range}`);
  }
  return n;
}

/** Exactly one of the named boolean flags must be set; returns it. */
export function oneAction<T extends string>(flags: Partial<Record<T, unknown>>, actions: readonly T[], display: (a: T) => string): T {
  const chosen = actions.filter((a) => flags[a] === true);
  if (chosen.length !== 1) {
    throw new UsageError(`give exactly one of ${actions.map(display).join(', ')}${chosen.length > 1 ? ` (got ${chosen.map(display).join(', ')})` : ''}`);
  }
  return chosen[0];
}

/**
 * Left-aligned columns separated by one space, each at least `minWidths[i]` wide (15 when not given) and wider
 * when a value is longer: kafka-consumer-groups.sh's layout.
 */
export function formatTable(header: string[], rows: string[][], minWidths: number[] = []): string {
  const widths = header.map((h, i) => Math.max(minWidths[i] ?? 15, h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join(' ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** Writes to stdout and resolves once the data is handed to the OS (so an exit right after loses nothing). */
export function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
}
