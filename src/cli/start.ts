// `minikafka start`: runs the mini-cluster (a supervisor holding the controller, one OS process per broker)
// until interrupted, and `minikafka broker ...`: acts on one broker of a running mini-cluster.

import { Command } from 'commander';
import { resolve } from 'node:path';
import { ControlClient, readControlInfo } from '../broker/cluster/controlClient';
import { ControlServer, DEFAULT_CONTROL_PORT } from '../broker/cluster/controlServer';
import { portIsFree, runningBrokersOf, Supervisor } from '../broker/cluster/supervisor';
import { LogLevel, streamLogger } from '../broker/logger';
import { parseSaslMechanism, SaslMechanismName } from '../broker/security/sasl';
import type { ClusterSecurityOptions } from '../broker/cluster/supervisor';
import { CliError, UsageError } from './errors';
import { acquireDirLock, DirLock, DirLockedError } from '../broker/cluster/dirLock';
import { ensureWritableDataDir } from './dataDir';
import { mergeUsers, parseUserArgs, parseUserFile, parseUsersEnv, userFileModeWarning, USERS_ENV } from './saslUsers';

function positiveInt(name: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer >= ${min}, got ${value}`);
  return n;
}

function parseConfigs(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--config expects key=value, got ${item}`);
    out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * --tls, --sasl m[,m] (repeatable) and the SASL users (--user name:password, --user-file F, MINIKAFKA_USERS: see
 * saslUsers.ts) as the supervisor's security options.
 */
export function parseSecurityFlags(
  flags: { tls?: boolean; sasl: string[]; user: string[]; userFile?: string; adopt?: boolean },
  env: NodeJS.ProcessEnv = {},
): ClusterSecurityOptions | undefined {
  const mechanisms: SaslMechanismName[] = [];
  for (const item of flags.sasl.flatMap((s) => s.split(','))) {
    if (item.trim() === '') continue;
    let m: SaslMechanismName;
    try {
      m = parseSaslMechanism(item);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (!mechanisms.includes(m)) mechanisms.push(m);
  }
  const users = mergeUsers(
    parseUserArgs(flags.user),
    flags.userFile !== undefined ? parseUserFile(flags.userFile) : [],
    env[USERS_ENV] !== undefined ? parseUsersEnv(env[USERS_ENV]) : [],
  );
  // A supervisor started by a broker (--adopt) runs the original command line without the original environment
  // (MINIKAFKA_USERS stops at the first supervisor): it takes the users' salted credentials from the cluster's
  // metadata instead (Supervisor.prepareSecurity).
  if (mechanisms.length > 0 && users.length === 0 && !flags.adopt) {
    throw new UsageError(`--sasl needs at least one user: --user name:password, --user-file F or ${USERS_ENV} (clients authenticate as one of these users)`);
  }
  if (users.length > 0 && mechanisms.length === 0) {
    // MINIKAFKA_USERS alone may be left in a shell's environment: only an explicit --user/--user-file is a mistake.
    if (flags.user.length > 0 || flags.userFile !== undefined) throw new UsageError('--user and --user-file only make sense with --sasl plain|scram-sha-256|scram-sha-512');
  }
  if (!flags.tls && mechanisms.length === 0) return undefined;
  return { tls: !!flags.tls, sasl: mechanisms.length > 0 ? { mechanisms, users } : undefined };
}

/** Wildcard listen addresses: they accept connections on every interface but are no address to connect to. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0']);

/**
 * The address brokers advertise. Kafka refuses to advertise 0.0.0.0 too ("advertised.listeners cannot use the
 * nonroutable meta-address"): clients would be told to connect to an address that is no host.
 */
export function checkAdvertisedHost(host: string, advertisedHost: string | undefined): string | undefined {
  if (advertisedHost !== undefined) {
    if (advertisedHost.trim() === '' || WILDCARD_HOSTS.has(advertisedHost)) {
      throw new UsageError(`--advertised-host ${advertisedHost || "''"} is no address clients can connect to; give the name or IP they use`);
    }
    return advertisedHost;
  }
  if (WILDCARD_HOSTS.has(host)) throw new UsageError(`clients cannot connect to ${host}; add --advertised-host <name or IP clients use>`);
  return undefined;
}

/**
 * Takes the data directory's lock before anything in it is read or written: a second `start` on the same --dir
 * (even one launched at the same instant) stops here with one line naming the process that holds it.
 */
function lockDataDir(dir: string): DirLock {
  // ensureWritableDataDir made the directory (level by level: a recursive mkdir under /proc never returns).
  try {
    return acquireDirLock(dir);
  } catch (err) {
    if (err instanceof DirLockedError) throw new CliError(err.message);
    throw err;
  }
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('start the mini-cluster and run until interrupted')
    .option('--brokers <n>', 'number of brokers', '3')
    .option('--port <port>', 'port of the first broker; the others take the next ports (taken ports fall back to free ones; 0 = all free ports)', '9092')
    .option('--broker-id-base <id>', "id of the first broker; the others take the next ids (Kafka's quickstart uses 0)", '1')
    .option('--host <host>', 'address to listen on (0.0.0.0 or :: for every interface, with --advertised-host)', '127.0.0.1')
    .option('--advertised-host <host>', 'the name or IP that clients connect to, given in Metadata and the bootstrap list (default: --host)')
    .option('--dir <dir>', 'data directory', '.minikafka')
    .option(
      '--control-port <port>',
      `port of the supervisor's control endpoint, which also answers Kafka tutorials' --zookeeper localhost:${DEFAULT_CONTROL_PORT} (default ${DEFAULT_CONTROL_PORT}, a free port if taken; 0 with --port 0)`,
    )
    .option('--session-timeout-ms <ms>', 'a broker silent for this long is fenced (a dead process is fenced at once)', '3000')
    .option('--config <key=value>', 'broker setting, e.g. min.insync.replicas=2 (repeatable)', collect, [])
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option('--tls', 'TLS on the client listeners, with a CA and certificate made on first start in <dir>/tls/ (clients trust <dir>/tls/ca.pem)')
    .option('--sasl <mechanisms>', 'require SASL authentication: plain, scram-sha-256 or scram-sha-512 (comma-separated or repeated for several)', collect, [])
    .option('--user <name:password>', 'a SASL user (repeatable); with --sasl, this or --user-file or MINIKAFKA_USERS', collect, [])
    .option('--user-file <file>', 'SASL users, one name:password per line (# comments); keeps passwords out of ps')
    .option('--adopt', 'take over the brokers of this dir that outlived their supervisor (a broker starts a new supervisor with it; a plain start adopts them too)')
    .action(async (opts) => {
      const brokers = positiveInt('--brokers', opts.brokers);
      const basePort = positiveInt('--port', opts.port, 0);
      if (basePort > 65535) throw new UsageError(`invalid port: ${opts.port}`);
      const controlPort = opts.controlPort === undefined ? (basePort === 0 ? 0 : DEFAULT_CONTROL_PORT) : positiveInt('--control-port', opts.controlPort, 0);
      if (controlPort > 65535) throw new UsageError(`invalid --control-port: ${opts.controlPort}`);
      const dir = resolve(opts.dir);
      const advertisedHost = checkAdvertisedHost(opts.host, opts.advertisedHost);
      const security = parseSecurityFlags(opts, process.env);
      // Broker processes inherit the environment: the passwords stop here (brokers get salted credentials only).
      delete process.env[USERS_ENV];
      ensureWritableDataDir(dir);
      const lock = lockDataDir(dir);
      process.on('exit', () => lock.release());
      if (opts.adopt && runningBrokersOf(dir).length === 0) {
        // Started by a broker that lost its supervisor, but every broker is gone by now: the cluster was stopped
        // (or deleted) meanwhile. Starting it again here would bring back a cluster its user just stopped.
        process.stdout.write(`nothing to adopt: no broker of ${dir} is running; not starting the cluster\n`);
        return;
      }
      // A supervisor started by a broker inherits that broker's stdout/stderr: it must not die if they close.
      for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
      const previousControlPort = previousControlInfo(dir)?.port;
      const level = opts.logLevel as LogLevel;
      const logger = streamLogger('minikafka', level);
      const modeWarning = opts.userFile !== undefined ? userFileModeWarning(opts.userFile) : null;
      if (modeWarning) logger.warn(modeWarning);
      const supervisor = new Supervisor({
        dir,
        brokers,
        host: opts.host,
        advertisedHost,
        basePort,
        brokerIdBase: positiveInt('--broker-id-base', opts.brokerIdBase, 0),
        sessionTimeoutMs: positiveInt('--session-timeout-ms', opts.sessionTimeoutMs, 100),
        config: parseConfigs(opts.config),
        logger,
        logLevel: level,
        security,
        command: { argv: process.argv.slice(1), cwd: process.cwd() },
      });
      const started = Date.now();
      let control: ControlServer | undefined;
      let stopping = false;
      const shutdown = async (why: string) => {
        if (stopping) return;
        stopping = true;
        logger.info(`${why}: stopping the mini-cluster`);
        await supervisor.shutdown();
        await control?.stop();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      await supervisor.start();
      control = new ControlServer(supervisor, dir, () => void shutdown('shutdown requested'));
      // A supervisor that adopts a cluster takes its predecessor's control port back when it can (clients of the
      // control endpoint then find it where they were).
      const preferred = [previousControlPort, controlPort].filter((p): p is number => !!p);
      let chosen = 0;
      for (const p of preferred) if (await portIsFree('127.0.0.1', p)) { chosen = p; break; }
      const info = await control.start(chosen);
      const state = supervisor.state();
      for (const b of state.brokers) process.stdout.write(`broker ${b.id}: ${b.host}:${b.port} (pid ${b.pid})\n`);
      const adopted = supervisor.supervisorInfo.adopted ? `; adopted running brokers, pid ${process.pid}` : `; pid ${process.pid}`;
      process.stdout.write(`supervisor: 127.0.0.1:${info.port} (in ZooKeeper's place: Kafka tutorials' --zookeeper localhost:${info.port} works${adopted})\n`);
      process.stdout.write(`data: ${dir}\n`);
      const sec = supervisor.security;
      if (sec.protocol !== 'PLAINTEXT') {
        const sasl = sec.saslMechanisms.length > 0 ? ` (SASL ${sec.saslMechanisms.join(', ')}; users: ${sec.users.join(', ')})` : '';
        process.stdout.write(`security: ${sec.protocol}${sasl}\n`);
        if (sec.caFile) process.stdout.write(`ca: ${sec.caFile}\n`);
      }
      process.stdout.write(`started ${state.brokers.length} broker(s) in ${Date.now() - started} ms\n`);
      process.stdout.write(`bootstrap: ${supervisor.bootstrap}\n`);
    });

  const broker = program.command('broker').description('act on one broker of the running mini-cluster');
  const actions: Array<[string, string]> = [
    ['kill', 'kill -9 the broker process (a crash)'],
    ['pause', 'freeze the broker process (SIGSTOP); it is fenced after the session timeout'],
    ['resume', 'unfreeze a paused broker (SIGCONT)'],
    ['stop', 'stop the broker gracefully, moving its leaderships first (controlled shutdown)'],
    ['restart', 'start a stopped or crashed broker again (stopping it first if it runs)'],
  ];
  for (const [action, description] of actions) {
    broker
      .command(`${action} <id>`)
      .description(description)
      .option('--dir <dir>', 'data directory of the mini-cluster', '.minikafka')
      .action(async (id: string, opts: { dir: string }) => {
        const client = ControlClient.forDir(resolve(opts.dir));
        const res = await client.broker(positiveInt('broker id', id, 0), action as 'kill');
        const done = { kill: 'killed (SIGKILL)', pause: 'paused (SIGSTOP)', resume: 'resumed (SIGCONT)', stop: 'stopped', restart: 'restarted' }[action];
        process.stdout.write(`broker ${id}: ${done}${res.broker.pid && action !== 'kill' ? ` (pid ${res.broker.pid})` : ''}\n`);
      });
  }
  broker
    .command('list')
    .description('list the brokers with their process state')
    .option('--dir <dir>', 'data directory of the mini-cluster', '.minikafka')
    .action(async (opts: { dir: string }) => {
      const state = await ControlClient.forDir(resolve(opts.dir)).state();
      if (state.supervisor) process.stdout.write(`controller (supervisor) pid ${state.supervisor.pid}${state.supervisor.adopted ? ' (adopted the running brokers)' : ''}\n`);
      for (const b of state.brokers) {
        const flags = [b.isController ? 'controller' : '', b.fenced ? 'fenced' : ''].filter(Boolean).join(', ');
        process.stdout.write(`${b.id}\t${b.host}:${b.port}\t${b.state}${b.pid ? `\tpid ${b.pid}` : ''}${flags ? `\t(${flags})` : ''}\n`);
      }
    });
  broker
    .command('add')
    .description('add a broker to the running mini-cluster')
    .option('--dir <dir>', 'data directory of the mini-cluster', '.minikafka')
    .action(async (opts: { dir: string }) => {
      const b = await ControlClient.forDir(resolve(opts.dir)).addBroker();
      process.stdout.write(`broker ${b.id}: ${b.host}:${b.port} (pid ${b.pid})\n`);
    });

  const controller = program.command('controller').description('the supervisor process, which holds the controller');
  controller
    .command('status')
    .description('which process is the controller, since when, and whether it adopted running brokers')
    .option('--dir <dir>', 'data directory of the mini-cluster', '.minikafka')
    .action(async (opts: { dir: string }) => {
      const client = ControlClient.forDir(resolve(opts.dir));
      const state = await client.state();
      const sup = state.supervisor;
      if (!sup) throw new CliError('this supervisor does not report itself (built before `controller status`)');
      process.stdout.write(`controller (supervisor) pid ${sup.pid} on 127.0.0.1:${client.info.port}, up since ${new Date(sup.startedAt).toISOString()}${sup.adopted ? ', adopted running brokers' : ''}\n`);
    });
  controller
    .command('kill')
    .description('kill -9 the supervisor (the controller): brokers keep serving and start a new one within seconds')
    .option('--dir <dir>', 'data directory of the mini-cluster', '.minikafka')
    .action(async (opts: { dir: string }) => {
      const res = await ControlClient.forDir(resolve(opts.dir)).killController();
      process.stdout.write(`controller (supervisor) pid ${res.pid}: killed (SIGKILL)\n`);
    });
}

/** The control endpoint a previous supervisor of this dir wrote (its port is preferred), if any. */
function previousControlInfo(dir: string): { port: number } | undefined {
  try {
    return readControlInfo(dir);
  } catch {
    return undefined;
  }
}
