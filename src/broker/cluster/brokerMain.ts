// Entry point of one broker OS process in the mini-cluster (bundled as dist/broker.js and spawned by the
// supervisor). The controller lives in the supervisor: controller calls go over the supervisor's socket
// (controllerLink.ts), metadata images come back the same way, and heartbeats tell the supervisor this process is
// alive (a SIGSTOPped process stops heartbeating and is fenced after the session timeout).
//
// The broker outlives its supervisor: when the socket closes it keeps serving clients with the last metadata image
// (leaders keep leading; controller calls fail with NOT_CONTROLLER and ISR changes are asked again later) and
// reconnects every few hundred ms. If no supervisor comes back within about a second, it starts one itself
// (`minikafka start --adopt`, the original command line): the data dir's lock lets exactly one such supervisor run,
// and it adopts the running brokers. See supervisor.ts for the whole design.

import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { Broker } from '../broker';
import type { ControllerChannel } from '../controllerChannel';
import { Logger, streamLogger } from '../logger';
import type { MetadataDelta } from '../metadata';
import { LineLink } from './controllerLink';
import { unpackDelta } from './deltaWire';
import { BROKER_OPTIONS_ENV, BrokerProcessOptions, BrokerToSupervisor, ControllerMethod, SupervisorToBroker } from './ipc';

type Link = LineLink<SupervisorToBroker, BrokerToSupervisor>;

/** How often a broker without a supervisor tries the socket again. */
const RECONNECT_MS = 300;
/** How long a broker waits for a supervisor before starting one (plus a stagger by broker id, see below). */
const RESURRECT_AFTER_MS = 1000;
/** MINIKAFKA_RESURRECT=off: brokers wait for someone to run `minikafka start` instead of starting a supervisor. */
const RESURRECT = process.env.MINIKAFKA_RESURRECT !== 'off';

/** The connection to the supervisor, re-established whenever it is lost. */
class SupervisorConnection {
  link: Link | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private lostSince = 0;
  private lastResurrection = 0;
  private timer: NodeJS.Timeout | undefined;
  onMessage: (msg: SupervisorToBroker) => void = () => undefined;
  /** No supervisor and no data dir any more. */
  onOrphaned: () => void = () => undefined;
  hello: () => BrokerToSupervisor = () => ({ type: 'heartbeat' });
  stopping = false;
  private readonly inbox: SupervisorToBroker[] = [];
  private inboxTurn: NodeJS.Immediate | undefined;

  constructor(
    private readonly opts: BrokerProcessOptions,
    private readonly logger: Logger,
  ) {}

  get connected(): boolean {
    return this.link?.connected ?? false;
  }

  start(): void {
    this.lostSince = Date.now();
    this.tryConnect();
  }

  send(msg: BrokerToSupervisor): void {
    this.link?.send(msg);
  }

  /**
   * Handles the messages received, in order. After a delta with partition records, what follows waits for the next
   * turn of the event loop: a fence of thousands of partitions comes as several deltas (the busy partitions first),
   * and the requests waiting in the client sockets are served between them. Replies wait their turn too: a reply
   * that says which epoch the controller is at must not overtake the deltas that lead there.
   */
  private handleInbox(): void {
    this.inboxTurn = undefined;
    for (let msg = this.inbox.shift(); msg; msg = this.inbox.shift()) {
      if (msg.type === 'reply') this.settle(msg);
      else this.onMessage(msg);
      if (msg.type === 'metadata-delta' && msg.delta.packedPartitions && this.inbox.length > 0) {
        this.inboxTurn = setImmediate(() => this.handleInbox());
        return;
      }
    }
  }

  private tryConnect(): void {
    if (this.stopping) return;
    const socket = connect(this.opts.controllerSocket);
    const link: Link = new LineLink(socket);
    socket.once('connect', () => {
      this.link = link;
      if (this.lostSince && Date.now() - this.lostSince > 2 * RECONNECT_MS) this.logger.info('connected to the supervisor again');
      this.lostSince = 0;
      link.send(this.hello());
    });
    link.on('message', (msg: SupervisorToBroker) => {
      this.inbox.push(msg);
      if (!this.inboxTurn) this.handleInbox();
    });
    link.once('close', () => {
      if (this.link === link) {
        this.link = null;
        this.lostSince = Date.now();
        this.failPending();
        if (!this.stopping) this.logger.warn('lost the supervisor: serving with the last metadata, reconnecting');
      }
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    if (this.stopping) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.maybeResurrect();
      this.tryConnect();
    }, RECONNECT_MS);
  }

  /**
   * No supervisor for a while: start one. Brokers stagger by id (broker 1 first) so that usually one tries; if
   * several do, the data dir's lock lets one run and the others exit with a one-line refusal.
   */
  private maybeResurrect(): void {
    const now = Date.now();
    const patience = RESURRECT_AFTER_MS + (this.opts.nodeId - 1) * 500;
    if (!RESURRECT || !this.lostSince || now - this.lostSince < patience || now - this.lastResurrection < 10_000) return;
    this.lastResurrection = now;
    if (!existsSync(this.opts.logDir)) {
      // The data dir was deleted under us (a test that cleaned up, rm -rf): a supervisor would start an empty
      // cluster there. Nothing is left to serve: stop.
      this.logger.warn(`${this.opts.logDir} is gone and so is the supervisor: stopping`);
      this.onOrphaned();
      return;
    }
    const { argv, cwd } = this.opts.supervisorCommand;
    const args = argv.includes('--adopt') ? argv : [...argv, '--adopt'];
    this.logger.warn(`no supervisor for ${now - this.lostSince} ms: starting one (${args.slice(1).join(' ')})`);
    try {
      // Same process group and stdio as this broker (so a group kill still stops everything); not detached.
      const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', (err) => this.logger.warn(`could not start a supervisor: ${err.message}`));
      child.unref();
    } catch (err) {
      this.logger.warn(`could not start a supervisor: ${(err as Error).message}`);
    }
  }

  private settle(msg: Extract<SupervisorToBroker, { type: 'reply' }>): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) p.reject(new KafkaError(msg.error.code, msg.error.message));
    else p.resolve(msg.result);
  }

  private failPending(): void {
    for (const p of this.pending.values()) p.reject(new KafkaError(ErrorCode.NOT_CONTROLLER, 'the supervisor (controller) went away; try again'));
    this.pending.clear();
  }

  call(method: ControllerMethod, args: unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (!this.connected) return reject(new KafkaError(ErrorCode.NOT_CONTROLLER, 'no supervisor (controller) is reachable right now; try again'));
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.send({ type: 'call', id, method, args });
    });
  }

  close(): void {
    this.stopping = true;
    clearTimeout(this.timer);
    this.link?.close();
  }
}

function controllerChannel(conn: SupervisorConnection): ControllerChannel {
  const methods: ControllerMethod[] = [
    'createTopic', 'createTopics', 'deleteTopic', 'createPartitions', 'alterTopicConfigs', 'alterBrokerConfigs', 'alterIsr', 'replicasOffline', 'allocateProducerIds',
    'electLeaders', 'reassignPartition', 'listReassignments', 'createAcls', 'deleteAcls', 'alterScramCredentials', 'alterClientQuotas',
    'metadata', 'metadataEpoch',
  ];
  return Object.fromEntries(methods.map((m) => [m, (...args: unknown[]) => conn.call(m, args)])) as unknown as ControllerChannel;
}

/**
 * Crash-safety tests: with MINIKAFKA_TEST_CLEANER_KILL_AT=<step> (cleaned-written, swap-renamed or old-deleted) in
 * its environment, the broker SIGKILLs itself at that step of its first segment swap. A marker file in its log dir
 * makes it once per broker, so that the restarted broker finishes the swap and carries on.
 */
function cleanerKillHook(logDir: string): ((step: string) => void) | undefined {
  const killAt = process.env.MINIKAFKA_TEST_CLEANER_KILL_AT;
  if (!killAt) return undefined;
  const marker = join(logDir, '.test-cleaner-killed');
  return (step) => {
    if (step !== killAt || existsSync(marker)) return;
    writeFileSync(marker, `${step}\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}

/** A broker whose stdout/stderr pipe closed (its first supervisor's terminal went away) must not die of EPIPE. */
function survivePipeErrors(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
}

async function main(): Promise<void> {
  survivePipeErrors();
  const raw = process.env[BROKER_OPTIONS_ENV];
  if (!raw) {
    process.stderr.write('broker.js is started by `minikafka start`, not directly\n');
    process.exit(2);
  }
  const opts = JSON.parse(raw) as BrokerProcessOptions;
  const logger = streamLogger('minikafka', opts.logLevel);
  const conn = new SupervisorConnection(opts, logger);
  let lastHeartbeat = 0;
  let busyPartitions: () => string[] | undefined = () => undefined;
  const heartbeat = () => {
    const now = Date.now();
    if (now - lastHeartbeat < opts.heartbeatIntervalMs / 2) return;
    lastHeartbeat = now;
    conn.send({ type: 'heartbeat', busyPartitions: busyPartitions() });
  };
  const broker = new Broker({
    nodeId: opts.nodeId,
    host: opts.host,
    advertisedHost: opts.advertisedHost,
    port: opts.port,
    logDir: opts.logDir,
    controller: controllerChannel(conn),
    config: opts.config,
    logger,
    security: opts.security,
    interBrokerSecret: opts.interBrokerSecret,
    // The socket write goes out at once even in the middle of synchronous work (libuv tries the write right away).
    keepAlive: heartbeat,
    onCleanerStep: cleanerKillHook(opts.logDir),
  });
  busyPartitions = () => broker.busyPartitionsReport();
  let started = false;
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    conn.send({ type: 'stopping' });
    logger.info(`stopping: ${why}`);
    await broker.stop();
    conn.close();
    process.exit(0);
  };
  conn.hello = () => {
    broker.resendBusyPartitions(); // a new supervisor knows none
    return helloMessage();
  };
  const helloMessage = (): BrokerToSupervisor => ({
    type: 'hello',
    nodeId: opts.nodeId,
    pid: process.pid,
    metadataEpoch: broker.image.epoch,
    interBrokerSecret: opts.interBrokerSecret,
    listening: started ? { host: broker.host, port: broker.port, internalPort: broker.internalPort } : undefined,
  });
  conn.onOrphaned = () => void stop('the data dir and the supervisor are gone');
  conn.onMessage = (msg) => {
    if (msg.type === 'metadata') broker.applyMetadata(msg.image);
    else if (msg.type === 'metadata-delta') {
      let delta: MetadataDelta;
      try {
        delta = unpackDelta(msg.delta);
      } catch (err) {
        // Not applied: the broker is now behind the controller, and catches up with the whole image.
        logger.warn(`metadata delta ${msg.delta.epoch} not readable (${(err as Error).message}): asking for the whole image`);
        return broker.requestMetadataRefresh();
      }
      broker.applyMetadataDelta(delta);
    }
    else if (msg.type === 'shutdown') void stop('asked by the supervisor');
  };
  // SIGTERM is how Kafka's own scripts stop a broker, and Kafka then shuts down in a controlled way: leadership
  // moves to the other replicas before the process exits. The supervisor does that (and then sends 'shutdown');
  // without a supervisor, or if it does not answer in time, the broker just stops.
  process.on('SIGTERM', () => {
    if (!conn.connected) return void stop('SIGTERM');
    conn.send({ type: 'stop-request' });
    setTimeout(() => void stop('SIGTERM (no controlled shutdown from the supervisor)'), 10_000).unref();
  });
  process.on('SIGINT', () => {
    /* the supervisor decides; a terminal Ctrl-C reaches the whole group */
  });
  conn.start();
  await broker.start();
  started = true;
  conn.send({ type: 'ready', host: broker.host, port: broker.port, internalPort: broker.internalPort, pid: process.pid });
  setInterval(heartbeat, opts.heartbeatIntervalMs);
}

main().catch((err) => {
  process.stderr.write(`broker failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
