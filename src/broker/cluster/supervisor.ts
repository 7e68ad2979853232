// The mini-cluster supervisor: holds the controller, runs each broker as a separate OS process (so killing
// one is a real crash), fences brokers whose process exits (at once) or stops heartbeating (after the session
// timeout), pushes metadata to every broker, and turns metadata changes into a stream of cluster events.
// It never restarts a broker by itself: failures stay visible until someone acts.
//
// No single point of failure (the design, chosen for a mini-cluster on one machine):
// - The supervisor is the only controller, but not the brokers' lifeline. Brokers talk to it over a Unix socket in
//   the data dir (controllerLink.ts), not Node's fork IPC, so a supervisor that dies (kill -9) takes no broker with
//   it: each broker keeps serving clients with the last metadata image, as Kafka brokers did while ZooKeeper was
//   down. Nothing that needs the controller happens meanwhile (no elections, topic changes fail with NOT_CONTROLLER,
//   ISR changes are asked again later), but produce and fetch go on while leaders and ISRs stay as they were.
// - The cluster heals itself: a broker without a supervisor for about a second (broker 1 first, the others a little
//   later) starts `minikafka start <original args> --adopt` in its own process group. The data dir's lock
//   (dirLock.ts) lets exactly one supervisor run. A supervisor that starts on a dir whose brokers still run - so
//   started by a broker, or by hand - adopts them: it finds them from cluster.json (pid, ports), checks that each
//   pid is still that broker (/proc/<pid>/cmdline names broker.id=N and log.dir), waits for them to reconnect,
//   restores the controller from its fsynced metadata (metadataStore.ts) and carries on: fencing, elections.
//   It rewrites control.json (the same control port when it can get it).
// - An adopted broker is not this process's child: it is acted on by pid (signals), and its death is seen as its
//   socket closing, confirmed by the pid being gone; one that said 'stopping' first is stopped, else crashed.
// Kafka's own answer (KRaft: a quorum of controllers inside the broker processes, elected through a Raft log) would
// also keep elections going while one controller is down; here the controller is away for the ~1-2 s it takes a
// broker to start a new supervisor, which is what a broker crash during that window waits for.

import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { join } from 'node:path';
import { KafkaError } from '../../protocol/errorCode';
import { BrokerConfig } from '../configs';
import { Controller, PreparedFence } from '../controller';
import { Logger, nopLogger, tagged } from '../logger';
import { applyDelta, MetadataDelta, MetadataImage, PartitionState, TopicState } from '../metadata';
import { previousCopy } from '../metadataStore';
import { ListenerSecurity, securityProtocol, SecuritySummary } from '../security/listener';
import { deriveCredentials, SaslMechanismName, SaslUser } from '../security/sasl';
import { ensureTlsMaterial } from '../security/tls';
import { controllerSocketPath, encodeLine, LineLink } from './controllerLink';
import { packDelta } from './deltaWire';
import { pidAlive, processAlive } from './dirLock';
import { BROKER_EXEC_ARGV_ENV, BROKER_OPTIONS_ENV, BrokerProcessOptions, BrokerToSupervisor, SupervisorToBroker } from './ipc';

export type BrokerProcessState = 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'crashed';

export interface BrokerView {
  id: number;
  host: string;
  port: number;
  pid: number | null;
  state: BrokerProcessState;
  /** Fenced by the controller: not alive as far as clients and the ISR are concerned. */
  fenced: boolean;
  isController: boolean;
  exitCode: number | null;
  signal: string | null;
}

export type ClusterEventType =
  | 'broker-started'
  | 'broker-stopped'
  | 'broker-crashed'
  | 'broker-paused'
  | 'broker-resumed'
  | 'broker-fenced'
  | 'broker-unfenced'
  | 'controller-changed'
  | 'leader-changed'
  | 'isr-shrunk'
  | 'isr-expanded'
  | 'topic-created'
  | 'topic-deleted'
  | 'partitions-changed';

export interface ClusterEvent {
  time: number;
  type: ClusterEventType;
  message: string;
  broker?: number;
  topic?: string;
  partition?: number;
  from?: number | number[];
  to?: number | number[];
}

export interface ClusterState {
  clusterId: string;
  dir: string;
  bootstrap: string;
  controllerId: number;
  metadataEpoch: number;
  brokers: BrokerView[];
  topics: TopicState[];
  /** Which security the client-facing listeners use, and the CA file clients must trust with TLS (always set by
   *  this supervisor; absent from the state of a supervisor built before secure listeners). */
  security?: SecuritySummary;
  /** The supervisor process, which holds the controller (absent from supervisors built before it was shown). */
  supervisor?: SupervisorInfo;
}

/** Security of the brokers' client-facing listeners, as `minikafka start --tls --sasl ... --user ...` gives it. */
export interface ClusterSecurityOptions {
  tls?: boolean;
  sasl?: { mechanisms: SaslMechanismName[]; users: SaslUser[] };
}

/** Broker ids, ports and pids of the last start: what a later supervisor adopts from. */
const LAYOUT_FILE = 'cluster.json';
/** Above this many partition events in one delta (a broker's failure), the log gets one summary line instead. */
const MAX_LOGGED_PARTITION_EVENTS = 20;
/** How many recent events the supervisor keeps (between this and twice this many). */
const KEPT_EVENTS = 1000;
/** How long the deltas after a fence's first wait (see Supervisor.fence). */
const FENCE_TAIL_DELAY_MS = 25;
/** Above this many partition records waiting, the supervisor's bookkeeping of them waits FENCE_BOOKKEEPING_DELAY_MS. */
const FENCE_BOOKKEEPING_RECORDS = 100;
const FENCE_BOOKKEEPING_DELAY_MS = 50;
/** How long the metadata must be quiet before the brokers' fences are prepared (see schedulePreparedFences). */
const PREPARE_FENCES_AFTER_MS = 200;

export interface SupervisorOptions {
  dir: string;
  brokers: number;
  /** The address brokers listen on (127.0.0.1 by default). */
  host?: string;
  /** The address brokers give clients in Metadata and the bootstrap list, when it differs from `host` (0.0.0.0). */
  advertisedHost?: string;
  /** Port of broker 1; brokers take consecutive ports when free, else any free port. 0 = always free ports. */
  basePort?: number;
  /** The first broker's id (1 by default; Kafka's quickstart numbers brokers 0, 1, 2). A dir keeps the ids it has. */
  brokerIdBase?: number;
  /** A broker that has not heartbeated for this long is fenced (Kafka's broker.session.timeout.ms). */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  config?: Partial<BrokerConfig>;
  logger?: Logger;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Path of the bundled broker entry (dist/broker.js). */
  brokerScript?: string;
  /** TLS and/or SASL on every broker's client-facing listener (replication then uses internal listeners). */
  security?: ClusterSecurityOptions;
  /**
   * The command line that started this supervisor (`[cli.js, 'start', ...]` and its working directory): brokers
   * run it again, with --adopt, when this supervisor is gone. Defaults to this process's own.
   */
  command?: { argv: string[]; cwd: string };
}

/** The supervisor process (the controller) as the control state shows it. */
export interface SupervisorInfo {
  pid: number;
  startedAt: number;
  /** Whether it took over brokers that a previous supervisor had started. */
  adopted: boolean;
}

type BrokerLink = LineLink<BrokerToSupervisor, SupervisorToBroker>;

interface BrokerHandle {
  id: number;
  host: string;
  port: number;
  internalPort?: number;
  /** Set for a broker this supervisor spawned; an adopted broker has only a pid. */
  child: ChildProcess | null;
  pid: number | null;
  adopted: boolean;
  link: BrokerLink | null;
  state: BrokerProcessState;
  lastHeartbeat: number;
  exitCode: number | null;
  signal: string | null;
  ready: Promise<void> | null;
  readyResolve?: () => void;
  /** The broker said it is stopping on purpose (its death is then a stop, not a crash). */
  saidStopping: boolean;
  /** We sent the current process SIGKILL: it is fenced already and must not register again (a late heartbeat). */
  killed: boolean;
  /** The partitions this broker last reported as busy (`topic-partition`: data appended lately), for fence order. */
  busyPartitions: string[];
  /** Resolves when the current process of this broker is gone. */
  gone: Promise<void>;
  markGone: () => void;
}

interface PersistedLayout {
  /** pid and internalPort: what a later supervisor needs to adopt brokers that outlived this one. */
  brokers: Array<{ id: number; port: number; pid?: number | null; internalPort?: number }>;
  /** Informational: the security of the last start (cluster.json). */
  security?: SecuritySummary;
}

/** Where the broker bundle is: beside this file when bundled, else the project's dist/. */
export function defaultBrokerScript(): string {
  const candidates = [join(__dirname, 'broker.js'), join(__dirname, '..', '..', '..', 'dist', 'broker.js'), join(__dirname, '..', '..', '..', '..', 'dist', 'broker.js')];
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

/**
 * glibc malloc settings for broker processes (unless the environment sets them): every request and fetch response
 * of a broker is a fresh Buffer (64 KiB socket reads, 1 MiB produce frames, multi-MiB fetch reads). With glibc's
 * defaults, buffers over 128 KiB are mmap()ed and freed memory above 128 KiB is given back to the kernel at once,
 * so each new buffer pays fresh page faults: allocating and filling 1 MiB Buffers ran at about 1.3 GB/s here, against
 * about 5 GB/s with these settings, which keep up to 64 MiB of freed memory in the heap for reuse. Other C libraries
 * ignore these variables.
 */
const BROKER_MALLOC_ENV: Record<string, string> = {
  MALLOC_MMAP_THRESHOLD_: String(32 * 1024 * 1024),
  MALLOC_TRIM_THRESHOLD_: String(64 * 1024 * 1024),
};

/**
 * Node options for broker processes: the supervisor's own, plus MINIKAFKA_BROKER_EXEC_ARGV (whitespace-separated),
 * e.g. `MINIKAFKA_BROKER_EXEC_ARGV="--cpu-prof --cpu-prof-dir=/tmp/prof"` to profile every broker.
 */
export function brokerExecArgv(): string[] {
  const extra = (process.env[BROKER_EXEC_ARGV_ENV] ?? '').split(/\s+/).filter((a) => a !== '');
  return [...process.execArgv, ...extra];
}

/** Whether `port` can be listened on now (the preferred ports fall back to free ones when it cannot). */
export async function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

export class Supervisor extends EventEmitter {
  readonly controller: Controller;
  private readonly handles = new Map<number, BrokerHandle>();
  private readonly logger: Logger;
  private readonly host: string;
  private readonly advertisedHost: string;
  private readonly sessionTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly layoutFile: string;
  private fenceTimer: NodeJS.Timeout | undefined;
  /** The image as the brokers have it (the deltas applied so far), and its topics by name, for the events. */
  private lastImage: MetadataImage;
  private readonly lastTopics = new Map<string, TopicState>();
  private shuttingDown = false;
  /** The recent events: the last KEPT_EVENTS at least. */
  readonly events: ClusterEvent[] = [];
  /** What the brokers' client listeners get (TLS files, salted credentials); computed once, in start(). */
  private listenerSecurity: ListenerSecurity | undefined;
  /** Shared by the brokers of this cluster: an adopting supervisor takes the one its adopted brokers use. */
  private interBrokerSecret = randomBytes(24).toString('base64url');
  private linkServer: Server | undefined;
  /** No image goes to brokers until start() has registered everyone (see adoptRunningBrokers). */
  private pushesHeld = false;
  /**
   * The fence of each live broker, prepared while the metadata is quiet and encoded for the wire (see
   * Controller.prepareFence): a death then costs the surviving brokers no wait for computing or encoding here.
   */
  private readonly preparedFences = new Map<number, PreparedFence>();
  /** The wire encoding of each prepared fence's deltas. */
  private readonly preparedLines = new WeakMap<MetadataDelta, string>();
  private prepareFencesTimer: NodeJS.Timeout | undefined;
  readonly supervisorInfo: SupervisorInfo = { pid: process.pid, startedAt: Date.now(), adopted: false };
  private securitySummary: SecuritySummary = { protocol: 'PLAINTEXT', tls: false, saslMechanisms: [], users: [], caFile: null };

  constructor(private readonly opts: SupervisorOptions) {
    super();
    this.logger = tagged(opts.logger ?? nopLogger, 'supervisor');
    this.host = opts.host ?? '127.0.0.1';
    this.advertisedHost = opts.advertisedHost ?? this.host;
    this.sessionTimeoutMs = opts.sessionTimeoutMs ?? 3000;
    this.heartbeatIntervalMs = opts.heartbeatIntervalMs ?? Math.max(100, Math.floor(this.sessionTimeoutMs / 6));
    mkdirSync(opts.dir, { recursive: true });
    this.layoutFile = join(opts.dir, LAYOUT_FILE);
    const config = opts.config ?? {};
    const metadataFile = join(opts.dir, 'controller', 'cluster-metadata.json');
    refuseDataWithoutMetadata(opts.dir, metadataFile);
    this.controller = new Controller({
      metadataFile,
      defaults: {
        numPartitions: Number(config['num.partitions'] ?? 1),
        defaultReplicationFactor: Number(config['default.replication.factor'] ?? 1),
        uncleanLeaderElection: config['unclean.leader.election.enable'] === 'true',
      },
      logger: opts.logger,
    });
    this.lastImage = this.controller.snapshot();
    for (const t of this.lastImage.topics) this.lastTopics.set(t.name, t);
    this.controller.on('change', (delta: MetadataDelta) => this.onMetadata(delta));
    const sasl = opts.security?.sasl;
    if (sasl && sasl.users.length === 0 && Object.keys(this.lastImage.scramCredentials ?? {}).length === 0) {
      throw new Error('SASL needs at least one user (--user name:password)');
    }
    if (sasl && sasl.mechanisms.length === 0) throw new Error('SASL needs at least one mechanism');
  }

  get security(): SecuritySummary {
    return this.securitySummary;
  }

  /** TLS material (made on first start, reused later) and salted SASL credentials (new salts every start). */
  private prepareSecurity(): void {
    const sec = this.opts.security;
    if (!sec?.tls && !sec?.sasl) return;
    const security: ListenerSecurity = {};
    let caFile: string | null = null;
    if (sec.tls) {
      const tls = ensureTlsMaterial(this.opts.dir, this.advertisedHost);
      for (const f of tls.created) this.logger.info(`created ${f}`);
      security.tls = { certFile: tls.certFile, keyFile: tls.keyFile };
      caFile = tls.caFile;
    }
    let userNames = sec.sasl?.users.map((u) => u.name) ?? [];
    if (sec.sasl && sec.sasl.users.length > 0) {
      const users = deriveCredentials(sec.sasl.users);
      security.sasl = { mechanisms: [...sec.sasl.mechanisms], users };
      // The credentials live in the metadata image, as Kafka's do, so users added or deleted at run time
      // (AlterUserScramCredentials, `minikafka users`) reach every broker; the start's users are set again each start.
      this.controller.setStartupScramUsers(users);
    } else if (sec.sasl) {
      // No users given: a supervisor a broker started (`start --adopt` with the original arguments but not the
      // original environment, so without MINIKAFKA_USERS). The brokers it spawns get the salted credentials the
      // metadata holds: the last start's users and those added since.
      const users = this.controller.snapshot().scramCredentials ?? {};
      security.sasl = { mechanisms: [...sec.sasl.mechanisms], users };
      userNames = Object.keys(users);
      this.logger.info(`SASL users from the cluster's metadata: ${userNames.join(', ')}`);
    }
    this.listenerSecurity = security;
    this.securitySummary = {
      protocol: securityProtocol(security),
      tls: !!security.tls,
      saslMechanisms: security.sasl?.mechanisms ?? [],
      users: userNames,
      caFile,
    };
  }

  /** The id of the first broker (--broker-id-base). */
  private get idBase(): number {
    return this.opts.brokerIdBase ?? 1;
  }

  get bootstrap(): string {
    return [...this.handles.values()].map((h) => `${h.host}:${h.port}`).join(',');
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------

  /** Listens for brokers, adopts the ones still running, starts the others; resolves when all have registered. */
  async start(): Promise<void> {
    this.prepareSecurity();
    this.controller.holdElections(true);
    try {
      await this.listen();
      const layout = this.loadLayout();
      const ids = layout.brokers.map((b) => b.id);
      for (let id = this.idBase; ids.length < this.opts.brokers; id++) if (!ids.includes(id)) ids.push(id);
      ids.sort((a, b) => a - b);
      for (const id of ids) {
        const remembered = layout.brokers.find((b) => b.id === id);
        this.handles.set(id, this.newHandle(id, remembered?.port ?? -1));
        if (remembered?.pid && isOurBroker(remembered.pid, id, this.logDir(id))) {
          const h = this.handles.get(id)!;
          h.pid = remembered.pid;
          h.adopted = true;
          h.internalPort = remembered.internalPort;
          h.state = 'starting';
        }
      }
      await this.adoptRunningBrokers();
      const basePort = this.opts.basePort ?? 9092;
      const toSpawn = [...this.handles.values()].filter((h) => !h.adopted);
      for (const h of toSpawn) {
        const wanted = h.port >= 0 ? h.port : basePort === 0 ? 0 : basePort + h.id - this.idBase;
        h.port = wanted !== 0 && (await portIsFree(this.host, wanted)) ? wanted : 0;
      }
      await Promise.all(toSpawn.map((h) => this.spawn(h)));
    } finally {
      this.controller.holdElections(false);
      this.pushesHeld = false;
      this.pushToAll(encodeLine({ type: 'metadata', image: this.controller.snapshot() } satisfies SupervisorToBroker));
    }
    this.saveLayout();
    this.fenceTimer = setInterval(() => this.checkSessions(), this.heartbeatIntervalMs);
  }

  private logDir(id: number): string {
    return join(this.opts.dir, `broker-${id}`);
  }

  private newHandle(id: number, port: number): BrokerHandle {
    const h = { id, host: this.advertisedHost, port, child: null, pid: null, adopted: false, link: null, state: 'stopped', lastHeartbeat: 0, exitCode: null, signal: null, ready: null, saidStopping: false, killed: false, busyPartitions: [] } as unknown as BrokerHandle;
    this.renewGone(h);
    return h;
  }

  private renewGone(h: BrokerHandle): void {
    h.gone = new Promise<void>((resolve) => (h.markGone = resolve));
  }

  /** The brokers' socket; a stale socket file of a dead supervisor is replaced (the dir lock says we are alone). */
  private async listen(): Promise<void> {
    const path = controllerSocketPath(this.opts.dir);
    rmSync(path, { force: true });
    const server = createServer((socket) => this.onConnection(socket));
    this.linkServer = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  }

  /**
   * Brokers that outlived the previous supervisor reconnect within a few hundred ms: wait for the ones cluster.json
   * names (any other running broker of this dir that says hello is taken over too, see attach()). Their registration waits until
   * all are back, and no image is pushed before: a half-registered image would fence the late ones.
   */
  private async adoptRunningBrokers(): Promise<void> {
    this.pushesHeld = true;
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && [...this.handles.values()].some((h) => h.adopted && h.state === 'starting')) {
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const h of this.handles.values()) {
      if (!h.adopted || h.state !== 'starting') continue;
      // Alive but silent (paused, or wedged): keep it as it is; the session timeout fences it if it stays silent.
      this.logger.warn(`broker ${h.id} (pid ${h.pid}) runs but did not reconnect; it is fenced unless it heartbeats`);
      h.state = processStopped(h.pid!) ? 'paused' : 'running';
      h.lastHeartbeat = Date.now();
    }
    const adopted = [...this.handles.values()].filter((h) => h.adopted);
    if (adopted.length > 0) {
      this.supervisorInfo.adopted = true;
      this.logger.info(`adopted running broker(s) ${adopted.map((h) => `${h.id} (pid ${h.pid})`).join(', ')}`);
    }
  }

  private onConnection(socket: Socket): void {
    const link: BrokerLink = new LineLink(socket);
    let h: BrokerHandle | undefined;
    link.on('message', (msg: BrokerToSupervisor) => {
      if (!h) {
        if (msg.type !== 'hello') return link.close();
        h = this.attach(link, msg);
        if (!h) link.close();
        return;
      }
      this.onBrokerMessage(h, link, msg);
    });
    link.once('close', () => {
      if (h && h.link === link) this.onLinkClosed(h);
    });
  }

  /** Matches a connecting broker to its handle: the process this supervisor spawned, or one it adopts. */
  private attach(link: BrokerLink, hello: Extract<BrokerToSupervisor, { type: 'hello' }>): BrokerHandle | undefined {
    let h = this.handles.get(hello.nodeId);
    const ours = h && (h.child?.pid === hello.pid || h.pid === hello.pid);
    if (!ours) {
      const free = !h || h.pid === null || !pidAlive(h.pid);
      if (!free || !isOurBroker(hello.pid, hello.nodeId, this.logDir(hello.nodeId))) {
        this.logger.warn(`refused a connection claiming to be broker ${hello.nodeId} (pid ${hello.pid})`);
        return undefined;
      }
      if (!h) {
        h = this.newHandle(hello.nodeId, hello.listening?.port ?? -1);
        this.handles.set(h.id, h);
      }
      h.pid = hello.pid;
      h.adopted = true;
      h.child = null;
      h.state = 'starting';
    }
    h = h!;
    h.link = link;
    h.lastHeartbeat = Date.now();
    // A broker may have applied an image newer than the metadata file (a change made just before the old
    // supervisor died, before it was written): the next image must have a higher epoch or the broker ignores it.
    this.controller.advanceEpochPast(hello.metadataEpoch);
    if (hello.interBrokerSecret && h.adopted) this.interBrokerSecret = hello.interBrokerSecret;
    if (hello.listening && (h.state === 'starting' || h.adopted)) this.markReady(h, hello.listening.host, hello.listening.port, hello.listening.internalPort, hello.pid);
    else if (!this.pushesHeld && h.state !== 'starting') link.send({ type: 'metadata', image: this.controller.snapshot() });
    return h;
  }

  private markReady(h: BrokerHandle, host: string, port: number, internalPort: number | undefined, pid: number): void {
    const adoptedNow = h.adopted && h.state === 'starting';
    h.port = port;
    h.internalPort = internalPort;
    h.state = 'running';
    h.pid = pid;
    h.lastHeartbeat = Date.now();
    this.saveLayout();
    if (adoptedNow) this.event({ type: 'broker-started', broker: h.id, message: `broker ${h.id} adopted on ${host}:${port} (pid ${pid})` });
    else if (!h.adopted) this.event({ type: 'broker-started', broker: h.id, message: `broker ${h.id} started on ${host}:${port} (pid ${pid})` });
    this.controller.registerBroker({ id: h.id, host, port, internalPort, rack: null });
    h.readyResolve?.();
  }

  private loadLayout(): PersistedLayout {
    if (!existsSync(this.layoutFile)) return { brokers: [] };
    try {
      return JSON.parse(readFileSync(this.layoutFile, 'utf8')) as PersistedLayout;
    } catch {
      return { brokers: [] };
    }
  }

  private saveLayout(): void {
    const layout: PersistedLayout = {
      brokers: [...this.handles.values()].map((h) => ({ id: h.id, port: h.port, pid: h.pid, internalPort: h.internalPort })),
      security: this.securitySummary,
    };
    // Replaced whole (never torn): a later supervisor adopts running brokers through it.
    const tmp = `${this.layoutFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(layout, null, 1));
    renameSync(tmp, this.layoutFile);
  }

  private spawn(h: BrokerHandle): Promise<void> {
    const options: BrokerProcessOptions = {
      nodeId: h.id,
      host: this.host,
      advertisedHost: this.opts.advertisedHost,
      port: h.port,
      logDir: this.logDir(h.id),
      config: this.opts.config ?? {},
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      logLevel: this.opts.logLevel ?? 'info',
      security: this.listenerSecurity,
      interBrokerSecret: this.listenerSecurity ? this.interBrokerSecret : undefined,
      controllerSocket: controllerSocketPath(this.opts.dir),
      supervisorCommand: this.opts.command ?? { argv: process.argv.slice(1), cwd: process.cwd() },
    };
    h.state = 'starting';
    h.exitCode = h.signal = null;
    h.adopted = false;
    h.saidStopping = false;
    h.killed = false;
    h.link = null;
    this.renewGone(h);
    // The arguments are not read (the options travel in the environment): they make the process findable the way
    // the seed tutorial finds a broker, `ps -ef | grep broker.id=1`, with the keys of Kafka's server.properties.
    // Not forked: the broker talks to the supervisor over its socket, and outlives it (see the top of this file).
    const child = spawn(process.execPath, [...brokerExecArgv(), this.opts.brokerScript ?? defaultBrokerScript(), `broker.id=${h.id}`, `log.dir=${options.logDir}`], {
      env: { ...BROKER_MALLOC_ENV, ...process.env, [BROKER_OPTIONS_ENV]: JSON.stringify(options) },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    h.child = child;
    h.pid = child.pid ?? null;
    child.on('error', (err) => this.logger.debug(`broker ${h.id}: ${err.message}`));
    h.ready = new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        if (h.state === 'starting') reject(new Error(`broker ${h.id} exited during start (${signal ?? `code ${code}`})`));
      };
      child.once('exit', onExit);
      h.readyResolve = () => {
        child.off('exit', onExit);
        h.readyResolve = undefined;
        resolve();
      };
    });
    child.on('exit', (code, signal) => {
      if (h.child !== child) return;
      h.child = null;
      this.onGone(h, code, signal);
    });
    return h.ready;
  }

  private onBrokerMessage(h: BrokerHandle, link: BrokerLink, msg: BrokerToSupervisor): void {
    if (h.link !== link) return;
    if (msg.type === 'ready') {
      if (h.state === 'starting') this.markReady(h, msg.host, msg.port, msg.internalPort, msg.pid);
      return;
    }
    if (msg.type === 'stopping') {
      h.saidStopping = true;
      return;
    }
    if (msg.type === 'heartbeat') {
      h.lastHeartbeat = Date.now();
      if (msg.busyPartitions) {
        // The fences put the partitions in use first: prepared again for the new order.
        h.busyPartitions = msg.busyPartitions;
        this.preparedFences.clear();
        this.schedulePreparedFences();
      }
      if (h.state === 'paused' || h.killed) return; // a paused process cannot heartbeat, a killed one is gone; a stale message may still arrive
      // No copy of the image per heartbeat: with thousands of partitions that was most of an idle supervisor's CPU.
      if (this.controller.isFenced(h.id) && h.state === 'running' && !this.pushesHeld) {
        this.controller.registerBroker({ id: h.id, host: h.host, port: h.port, internalPort: h.internalPort, rack: null });
      }
      return;
    }
    if (msg.type === 'stop-request') {
      if (this.shuttingDown || h.state !== 'running') return; // the whole cluster is going anyway
      this.logger.info(`broker ${h.id} got SIGTERM: controlled shutdown`);
      void this.stopBroker(h.id).catch((err: Error) => this.logger.warn(`controlled shutdown of broker ${h.id}: ${err.message}`));
      return;
    }
    if (msg.type === 'call') {
      // Behind any deltas held back (see fence): an answer saying which epoch the controller is at must not overtake them.
      const reply = (m: SupervisorToBroker) => {
        if (this.heldBack.length === 0) return void link.send(m);
        this.heldBack.push({ line: encodeLine(m), link, resolve: () => undefined });
      };
      try {
        const fn = (this.controller as unknown as Record<string, (...a: unknown[]) => unknown>)[msg.method === 'metadata' ? 'snapshot' : msg.method];
        const result = fn.apply(this.controller, msg.args);
        // A change is acknowledged only once it is on disk (the controller writes once per tick for all changes).
        void this.controller.whenDurable().then(() => reply({ type: 'reply', id: msg.id, result }));
      } catch (err) {
        const code = err instanceof KafkaError ? err.code : -1;
        reply({ type: 'reply', id: msg.id, error: { code, message: (err as Error).message } });
      }
    }
  }

  /**
   * A broker's socket closed. A child of ours reports its exit itself; for an adopted broker, the socket is all we
   * have: it is dead once its pid is gone (or a zombie), which follows the close within milliseconds after a kill.
   * If the process stays, it merely lost the connection: it reconnects, or its session times out.
   */
  private onLinkClosed(h: BrokerHandle): void {
    h.link = null;
    if (h.child && h.pid !== null && !this.shuttingDown && !processAlive(h.pid)) {
      // The kernel closes a dying process's sockets before it reports the exit (by a few ms): a process that is a
      // zombie already is fenced now; its exit is handled when reported.
      this.fence(h, h.state === 'stopping' || h.saidStopping ? 'stopped' : 'process exited');
    }
    if (h.child || h.pid === null) return;
    const pid = h.pid;
    const deadline = Date.now() + 2000;
    const check = () => {
      if (h.pid !== pid || h.child) return;
      if (!processAlive(pid)) return this.onGone(h, null, h.saidStopping ? null : 'SIGKILL');
      if (Date.now() < deadline && !h.link) setTimeout(check, 20);
    };
    check();
  }

  private onGone(h: BrokerHandle, code: number | null, signal: NodeJS.Signals | string | null): void {
    if (h.state === 'stopped' || h.state === 'crashed') return;
    h.exitCode = code;
    h.signal = signal;
    h.link?.close();
    h.link = null;
    const graceful = h.state === 'stopping' || h.saidStopping || (code === 0 && !signal);
    h.state = graceful ? 'stopped' : 'crashed';
    h.markGone();
    // A process that is gone is fenced at once: no need to wait for a session timeout. The fence first: its leader
    // moves go to the brokers before anything else is done here.
    if (!this.shuttingDown) this.fence(h, graceful ? 'stopped' : 'process exited');
    this.event({
      type: graceful ? 'broker-stopped' : 'broker-crashed',
      broker: h.id,
      message: graceful ? `broker ${h.id} stopped` : `broker ${h.id} died (${signal ?? (code === null ? 'process gone' : `exit code ${code}`)})`,
    });
  }

  private checkSessions(): void {
    const expired = () => [...this.handles.values()].filter(
      (h) => (h.state === 'running' || h.state === 'paused') && !this.controller.isFenced(h.id) && Date.now() - h.lastHeartbeat > this.sessionTimeoutMs,
    );
    if (expired().length === 0) return;
    // Decided after the socket reads already waiting: when this process was busy itself, timers run before I/O, and a
    // heartbeat that arrived meanwhile still sits unread in the socket.
    setImmediate(() => {
      for (const h of expired()) this.fence(h, `missed heartbeats for ${Date.now() - h.lastHeartbeat} ms`);
    });
  }

  // ---- metadata and events ---------------------------------------------------------------------------------

  /**
   * A delta from the controller: to every broker (once encoded) at once; this process's own view of it (lastImage)
   * at the end of the tick (recordDeltas), so that a fence's later deltas go out before the bookkeeping of its first;
   * then cluster events and the state for the control streams once every broker link has taken the whole delta: a
   * broker's failure changes every partition it held (thousands of events), and the new leaders must not wait for
   * the event log.
   */
  private onMetadata(delta: MetadataDelta): void {
    const line = this.preparedLines.get(delta) ?? encodeLine({ type: 'metadata-delta', delta: packDelta(delta) } satisfies SupervisorToBroker);
    let written: Promise<void>;
    if (this.pushesHeld) written = Promise.resolve();
    else if (this.fencing?.tail || this.heldBack.length > 0) {
      // The tail of a fence (and whatever follows it, in order) goes out a little later: see fence().
      written = new Promise<void>((resolve) => this.heldBack.push({ line, resolve }));
      this.heldBackTimer ??= setTimeout(() => this.releaseHeldBack(), FENCE_TAIL_DELAY_MS);
    } else written = this.pushToAll(line);
    if (this.fencing) this.fencing.tail = true;
    // Every prepared fence is stale now (it follows the previous epoch).
    this.preparedFences.clear();
    this.schedulePreparedFences();
    this.unrecorded.push({ delta, written, pushedMs: performance.now() });
    this.unrecordedRecords += delta.partitions?.length ?? 0;
    // Thousands of partition changes at once (a broker's failure): the brokers are taking over right now, and this
    // process's bookkeeping (its own view, an event per partition) would take CPU from them on a small machine. A
    // fence's first delta is small (the partitions in use); its tail, in the same turn, delays the timer again.
    const delay = this.fencing?.tail || this.unrecordedRecords > FENCE_BOOKKEEPING_RECORDS ? FENCE_BOOKKEEPING_DELAY_MS : 0;
    if (delay > 0 && this.recordTimer && !this.recordTimerDelayed) {
      clearTimeout(this.recordTimer);
      this.recordTimer = undefined;
    }
    if (!this.recordTimer) {
      this.recordTimer = setTimeout(() => this.recordDeltas(), delay);
      this.recordTimerDelayed = delay > 0;
    }
  }

  /** Deltas pushed to the brokers that lastImage and the events do not have yet (see onMetadata). */
  private readonly unrecorded: Array<{ delta: MetadataDelta; written: Promise<void>; pushedMs: number }> = [];
  private unrecordedRecords = 0;
  private recordTimer: NodeJS.Timeout | undefined;
  /** Whether recordTimer waits FENCE_BOOKKEEPING_DELAY_MS (a timer set for 0 ms is set again with the delay). */
  private recordTimerDelayed = false;

  /** Brings lastImage up to the last delta pushed, and queues the events of each delta (afterWritten). */
  private recordDeltas(): void {
    clearTimeout(this.recordTimer);
    this.recordTimer = undefined;
    this.unrecordedRecords = 0;
    for (const { delta, written, pushedMs } of this.unrecorded.splice(0)) {
      const before = this.lastImage;
      const oldTopics = new Map<string, TopicState | undefined>();
      for (const name of delta.removedTopics) oldTopics.set(name, this.lastTopics.get(name));
      for (const t of delta.topics) if (!oldTopics.has(t.name)) oldTopics.set(t.name, this.lastTopics.get(t.name));
      for (const c of delta.partitions ?? []) if (!oldTopics.has(c.topic)) oldTopics.set(c.topic, this.lastTopics.get(c.topic));
      const changedTopics = new Map<string, TopicState>();
      this.lastImage = applyDelta(this.lastImage, delta, changedTopics);
      for (const name of delta.removedTopics) this.lastTopics.delete(name);
      for (const [name, t] of changedTopics) this.lastTopics.set(name, t);
      const image = this.lastImage;
      this.afterWritten(written, () => {
        if (delta.partitions && delta.partitions.length > 0) {
          this.logger.debug(`metadata epoch ${delta.epoch} (${delta.partitions.length} partition record(s)) taken by every broker link ${(performance.now() - pushedMs).toFixed(1)} ms after the push`);
        }
        this.diff(before, delta, oldTopics);
        this.emit('metadata', image);
      });
    }
  }

  /** What waits for the broker links to take a delta, in order (events of one delta never overtake the previous). */
  private eventsChain: Promise<void> = Promise.resolve();

  /** Runs `fn` once `written` settled, at the earliest on the next turn of the event loop. */
  private afterWritten(written: Promise<void>, fn: () => void): void {
    this.eventsChain = this.eventsChain
      .then(() => written)
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(fn)
      .catch((err: Error) => this.logger.error(`cluster events failed: ${err.stack ?? err.message}`));
  }

  /** Sends a message (encoded by encodeLine) to every live broker link; resolves once each link handed all of it to the kernel (or closed). */
  private pushToAll(line: string): Promise<void> {
    const written: Array<Promise<void>> = [];
    for (const h of this.handles.values()) {
      if (h.link?.connected && (h.state === 'running' || h.state === 'starting' || h.state === 'paused') && !h.killed) {
        const link = h.link;
        written.push(new Promise<void>((resolve) => link.sendEncoded(line, () => resolve())));
      }
    }
    return Promise.all(written).then(() => undefined);
  }

  /** Every partition a broker reported busy. */
  private busyPartitions(): Set<string> {
    return new Set([...this.handles.values()].flatMap((h) => h.busyPartitions));
  }

  /** Fences broker `h` with its prepared fence when that is still current. */
  /**
   * Fences broker `h` with its prepared fence when that is still current. The fence's first delta (the broker fenced,
   * the partitions in use moved) goes to the brokers at once; the others, thousands of idle partitions, follow
   * FENCE_TAIL_DELAY_MS later: on a machine with few cores the brokers applying them at the same moment would slow
   * the partitions in use (their new leaders, their followers' first fetches, the acks=all writes waiting for those).
   */
  private fence(h: BrokerHandle, reason: string): void {
    this.controller.metadataEpoch(); // what is pending goes out first, on its own (it is no part of the fence)
    this.fencing = { tail: false };
    try {
      this.controller.fenceBroker(h.id, reason, this.preparedFences.get(h.id), this.busyPartitions());
    } finally {
      this.fencing = undefined;
    }
  }

  private fencing: { tail: boolean } | undefined;
  /** Deltas held back behind a fence's first (see fence), in order. */
  private readonly heldBack: Array<{ line: string; resolve: () => void; link?: BrokerLink }> = [];
  private heldBackTimer: NodeJS.Timeout | undefined;

  private releaseHeldBack(): void {
    clearTimeout(this.heldBackTimer);
    this.heldBackTimer = undefined;
    for (const { line, resolve, link } of this.heldBack.splice(0)) {
      if (link) link.sendEncoded(line);
      else void this.pushToAll(line).then(resolve);
    }
  }

  /**
   * Prepares every live broker's fence once the metadata has been quiet for PREPARE_FENCES_AFTER_MS: a burst of
   * changes (topics created a hundred at a time) costs one preparation at its end, and an idle cluster none.
   */
  private schedulePreparedFences(): void {
    clearTimeout(this.prepareFencesTimer);
    this.prepareFencesTimer = setTimeout(() => {
      if (this.shuttingDown) return;
      const busy = this.busyPartitions();
      const started = performance.now();
      for (const h of this.handles.values()) {
        if (h.killed || this.controller.isFenced(h.id)) continue;
        const fence = this.controller.prepareFence(h.id, busy);
        if (!fence) return this.schedulePreparedFences(); // a change is waiting to be published: after it
        this.preparedFences.set(h.id, fence);
        for (const delta of fence.deltas) this.preparedLines.set(delta, encodeLine({ type: 'metadata-delta', delta: packDelta(delta) } satisfies SupervisorToBroker));
      }
      this.logger.debug(`fences of ${this.preparedFences.size} broker(s) prepared in ${(performance.now() - started).toFixed(1)} ms (${busy.size} busy partition(s) first)`);
    }, PREPARE_FENCES_AFTER_MS);
    this.prepareFencesTimer.unref();
  }

  /** Events for what a delta changes; only the topics it carries are compared (nothing per idle partition). */
  private diff(before: MetadataImage, delta: MetadataDelta, oldTopics: Map<string, TopicState | undefined>): void {
    for (const b of delta.brokers ?? []) {
      const old = before.brokers.find((x) => x.id === b.id);
      if (old && old.fenced !== b.fenced) {
        this.event({ type: b.fenced ? 'broker-fenced' : 'broker-unfenced', broker: b.id, message: `broker ${b.id} ${b.fenced ? 'fenced: no longer in any ISR or leading' : 'is alive again'}` });
      }
    }
    if (before.controllerId !== delta.controllerId) {
      this.event({ type: 'controller-changed', from: before.controllerId, to: delta.controllerId, message: `controller is now broker ${delta.controllerId}` });
    }
    for (const name of delta.removedTopics) {
      const old = oldTopics.get(name);
      if (old && !old.internal) this.event({ type: 'topic-deleted', topic: old.name, message: `topic ${old.name} deleted` });
    }
    const removed = new Set(delta.removedTopics);
    const partitionEvents: Array<Omit<ClusterEvent, 'time'>> = [];
    for (const t of delta.topics) {
      const candidate = oldTopics.get(t.name);
      const old = candidate && candidate.id === t.id && !removed.has(t.name) ? candidate : undefined;
      if (!old) {
        if (!t.internal) this.event({ type: 'topic-created', topic: t.name, message: `topic ${t.name} created with ${t.partitions.length} partition(s)` });
        continue;
      }
      if (old.partitions.length !== t.partitions.length) this.event({ type: 'partitions-changed', topic: t.name, message: `topic ${t.name} now has ${t.partitions.length} partitions` });
      for (const p of t.partitions) {
        const q = old.partitions[p.partition];
        if (q) partitionEvents.push(...this.partitionEvents(t.name, q, p));
      }
    }
    for (const c of delta.partitions ?? []) {
      const old = oldTopics.get(c.topic);
      const q = old && old.id === c.topicId ? old.partitions[c.state.partition] : undefined;
      if (q) partitionEvents.push(...this.partitionEvents(c.topic, q, c.state));
    }
    // A broker's failure moves a thousand leaders: every event still goes out, but the log gets one line for them.
    const quiet = partitionEvents.length > MAX_LOGGED_PARTITION_EVENTS;
    for (const e of partitionEvents) this.event(e, !quiet);
    if (quiet) {
      const count = (type: ClusterEventType) => partitionEvents.filter((e) => e.type === type).length;
      this.logger.info(
        `metadata epoch ${delta.epoch}: ${count('leader-changed')} leader change(s), ${count('isr-shrunk')} ISR shrink(s), ${count('isr-expanded')} ISR expansion(s) (first: ${partitionEvents[0].message})`,
      );
    }
  }

  /** The events of one partition's change from `q` to `p`. */
  private partitionEvents(topic: string, q: PartitionState, p: PartitionState): Array<Omit<ClusterEvent, 'time'>> {
    const out: Array<Omit<ClusterEvent, 'time'>> = [];
    const where = { topic, partition: p.partition };
    if (q.leader !== p.leader) {
      out.push({ type: 'leader-changed', ...where, from: q.leader, to: p.leader, message: `${topic}-${p.partition}: leader ${q.leader} -> ${p.leader === -1 ? 'none' : p.leader} (epoch ${p.leaderEpoch})` });
    }
    const removed = q.isr.filter((r) => !p.isr.includes(r));
    const added = p.isr.filter((r) => !q.isr.includes(r));
    if (removed.length) out.push({ type: 'isr-shrunk', ...where, from: q.isr, to: p.isr, message: `${topic}-${p.partition}: ISR [${q.isr}] -> [${p.isr}]` });
    if (added.length) out.push({ type: 'isr-expanded', ...where, from: q.isr, to: p.isr, message: `${topic}-${p.partition}: ISR [${q.isr}] -> [${p.isr}]` });
    return out;
  }

  private event(e: Omit<ClusterEvent, 'time'>, log = true): void {
    const ev = { time: Date.now(), ...e };
    this.events.push(ev);
    // Trimmed in bulk: a failover makes thousands of events at once, and a shift per event moves the whole array.
    if (this.events.length >= 2 * KEPT_EVENTS) this.events.splice(0, this.events.length - KEPT_EVENTS);
    if (log) this.logger.info(ev.message);
    this.emit('event', ev);
  }

  state(): ClusterState {
    this.controller.metadataEpoch(); // publishes what this tick changed
    // Whoever looks at the state may act on it next (a test, a user): the brokers get what it shows first.
    this.releaseHeldBack();
    this.recordDeltas(); // so that lastImage is current
    const image = this.lastImage;
    return {
      clusterId: image.clusterId,
      dir: this.opts.dir,
      bootstrap: this.bootstrap,
      controllerId: image.controllerId,
      metadataEpoch: image.epoch,
      brokers: [...this.handles.values()].map((h) => this.view(h, image)),
      topics: image.topics,
      security: this.securitySummary,
      supervisor: this.supervisorInfo,
    };
  }

  /**
   * One broker as state() shows it, without bringing the whole view up to date first: the answer to a kill must not
   * wait for the bookkeeping of the thousands of partition changes it just caused.
   */
  brokerView(id: number): BrokerView {
    return this.view(this.handle(id), this.controller.brokersImage());
  }

  private view(h: BrokerHandle, image: Pick<MetadataImage, 'brokers' | 'controllerId'>): BrokerView {
    return {
      id: h.id,
      host: h.host,
      port: h.port,
      pid: this.isUp(h) ? h.pid : null,
      state: h.state,
      fenced: image.brokers.find((b) => b.id === h.id)?.fenced ?? true,
      isController: image.controllerId === h.id,
      exitCode: h.exitCode,
      signal: h.signal,
    };
  }

  // ---- actions ---------------------------------------------------------------------------------------------

  private handle(id: number): BrokerHandle {
    const h = this.handles.get(id);
    if (!h) throw new Error(`no broker ${id} (brokers: ${[...this.handles.keys()].join(', ')})`);
    return h;
  }

  private isUp(h: BrokerHandle): boolean {
    return h.pid !== null && (h.state === 'starting' || h.state === 'running' || h.state === 'paused' || h.state === 'stopping');
  }

  /** A signal to the broker's process: the child's when it is ours, else by pid (an adopted broker). */
  private signal(h: BrokerHandle, sig: NodeJS.Signals): void {
    if (h.child) h.child.kill(sig);
    else if (h.pid !== null) {
      try {
        process.kill(h.pid, sig);
      } catch {
        /* already gone: its socket's close reports it */
      }
    }
  }

  /**
   * kill -9: a real crash. Resolves once the process is gone (the kernel has reported it, or after 5 s): whoever asked
   * and then looks at the cluster finds no half-dead broker. Its fence does not wait for that (see below).
   */
  async kill(id: number): Promise<void> {
    const h = this.handle(id);
    if (!this.isUp(h)) throw new Error(`broker ${id} is not running (${h.state})`);
    if (h.state === 'paused') this.signal(h, 'SIGCONT');
    this.signal(h, 'SIGKILL');
    // A process sent SIGKILL runs none of its own code again: it is fenced now, not once the kernel has torn it down
    // and reported its exit (about 10 ms for a broker with a hundred MB of memory and thousands of files).
    h.killed = true;
    if (!this.shuttingDown) this.fence(h, 'killed (SIGKILL)');
    const gone = h.gone;
    if (!h.child) this.onLinkClosed(h);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
  }

  /** SIGSTOP: the process freezes; it is fenced once its session times out. */
  pause(id: number): void {
    const h = this.handle(id);
    if (!this.isUp(h) || h.state !== 'running') throw new Error(`broker ${id} is not running (${h.state})`);
    this.signal(h, 'SIGSTOP');
    h.state = 'paused';
    this.event({ type: 'broker-paused', broker: id, message: `broker ${id} paused (SIGSTOP); fenced after ${this.sessionTimeoutMs} ms without heartbeats` });
  }

  resume(id: number): void {
    const h = this.handle(id);
    if (!this.isUp(h) || h.state !== 'paused') throw new Error(`broker ${id} is not paused (${h.state})`);
    this.signal(h, 'SIGCONT');
    h.state = 'running';
    h.lastHeartbeat = Date.now();
    this.event({ type: 'broker-resumed', broker: id, message: `broker ${id} resumed (SIGCONT)` });
  }

  /** Asks a broker to stop (over its socket, else SIGTERM) and waits until its process is gone (SIGKILL after 10 s). */
  private async stopProcess(h: BrokerHandle): Promise<void> {
    if (h.state === 'paused') this.signal(h, 'SIGCONT');
    h.state = 'stopping';
    const gone = h.gone;
    if (!h.link?.send({ type: 'shutdown' })) this.signal(h, 'SIGTERM');
    const timer = setTimeout(() => this.signal(h, 'SIGKILL'), 10000);
    // An adopted broker's death is seen through its socket; one that had no socket is polled.
    const poll = h.child ? undefined : setInterval(() => h.pid !== null && !processAlive(h.pid) && this.onGone(h, 0, null), 100);
    await gone;
    clearTimeout(timer);
    clearInterval(poll);
  }

  /** Graceful stop with controlled shutdown: leadership moves before the process exits. */
  async stopBroker(id: number): Promise<void> {
    const h = this.handle(id);
    if (!this.isUp(h)) throw new Error(`broker ${id} is not running (${h.state})`);
    if (h.state === 'paused') this.resume(id);
    this.controller.controlledShutdown(id);
    await this.stopProcess(h);
  }

  /** Starts a stopped or crashed broker again (stopping it first if it runs). */
  async restart(id: number): Promise<void> {
    const h = this.handle(id);
    if (this.isUp(h)) await this.stopBroker(id);
    await this.spawn(h);
  }

  /** Adds a broker with the next free id. */
  async addBroker(): Promise<BrokerView> {
    const id = Math.max(this.idBase - 1, ...this.handles.keys()) + 1;
    const basePort = this.opts.basePort ?? 9092;
    const wanted = basePort === 0 ? 0 : basePort + id - this.idBase;
    const port = wanted !== 0 && (await portIsFree(this.host, wanted)) ? wanted : 0;
    const h = this.newHandle(id, port);
    this.handles.set(id, h);
    await this.spawn(h);
    return this.brokerView(id);
  }

  /** Stops every broker gracefully (no controlled shutdown: the whole cluster goes). */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.releaseHeldBack();
    clearInterval(this.fenceTimer);
    clearTimeout(this.prepareFencesTimer);
    await Promise.all([...this.handles.values()].filter((h) => this.isUp(h)).map((h) => this.stopProcess(h)));
    this.controller.flush();
    this.linkServer?.close();
    rmSync(controllerSocketPath(this.opts.dir), { force: true });
  }
}

/**
 * The ids of the brokers of the cluster in `dir` that are running now, from its cluster.json (pids checked against
 * /proc, see isOurBroker). A broker-started `--adopt` supervisor with nothing to adopt must not start the cluster
 * again: it means the cluster was stopped while that supervisor was still starting.
 */
export function runningBrokersOf(dir: string): number[] {
  try {
    const layout = JSON.parse(readFileSync(join(dir, LAYOUT_FILE), 'utf8')) as PersistedLayout;
    return layout.brokers.filter((b) => b.pid && isOurBroker(b.pid, b.id, join(dir, `broker-${b.id}`))).map((b) => b.id);
  } catch {
    return [];
  }
}

/** Whether a process is stopped (SIGSTOP): state T in /proc. */
function processStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
  } catch {
    return false;
  }
}

/**
 * Whether `pid` is broker `id` of this data dir: its command line names broker.id=N and log.dir=<dir>/broker-N (as
 * the supervisor starts brokers). Guards adoption against a pid reused by another process. Without /proc, trusted.
 */
export function isOurBroker(pid: number, id: number, logDir: string): boolean {
  if (!processAlive(pid)) return false;
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.includes(`broker.id=${id}`) && args.includes(`log.dir=${logDir}`);
  } catch {
    return !existsSync('/proc/self');
  }
}

/**
 * Refuses to start a cluster whose brokers hold partition data when the controller's metadata (and its previous
 * copy) is missing: starting with an empty image would look like a new cluster and put that data at risk.
 */
export function refuseDataWithoutMetadata(dir: string, metadataFile: string): void {
  if (existsSync(metadataFile) || existsSync(previousCopy(metadataFile))) return;
  let partitions = 0;
  for (const b of existsSync(dir) ? readdirSync(dir, { withFileTypes: true }) : []) {
    if (!b.isDirectory() || !/^broker-\d+$/.test(b.name)) continue;
    for (const p of readdirSync(join(dir, b.name), { withFileTypes: true })) if (p.isDirectory() && /-\d+$/.test(p.name)) partitions++;
  }
  if (partitions > 0) {
    throw new Error(
      `${dir} has partition data for ${partitions} partitions but no cluster metadata (controller/cluster-metadata.json); ` +
        `restore it or its .prev copy, or delete ${dir} to start empty`,
    );
  }
}
