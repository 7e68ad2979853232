// The mini-cluster supervisor: holds the controller, runs each broker as a separate OS process (so killing
// one is a real crash), fences brokers whose process exits (at once) or stops heartbeating (after the session
// timeout), pushes metadata to every broker, and turns metadata changes into a stream of cluster events.
// It never restarts a broker by itself: failures stay visible until someone acts.

import { ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { KafkaError } from '../../protocol/errorCode';
import { BrokerConfig } from '../configs';
import { Controller } from '../controller';
import { Logger, nopLogger, tagged } from '../logger';
import { MetadataImage, TopicState } from '../metadata';
import { ListenerSecurity, securityProtocol, SecuritySummary } from '../security/listener';
import { deriveCredentials, SaslMechanismName, SaslUser } from '../security/sasl';
import { ensureTlsMaterial } from '../security/tls';
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
}

/** Security of the brokers' client-facing listeners, as `minikafka start --tls --sasl ... --user ...` gives it. */
export interface ClusterSecurityOptions {
  tls?: boolean;
  sasl?: { mechanisms: SaslMechanismName[]; users: SaslUser[] };
}

export interface SupervisorOptions {
  dir: string;
  brokers: number;
  /** The address brokers listen on (127.0.0.1 by default). */
  host?: string;
  /** The address brokers give clients in Metadata and the bootstrap list, when it differs from `host` (0.0.0.0). */
  advertisedHost?: string;
  /** Port of broker 1; brokers take consecutive ports when free, else any free port. 0 = always free ports. */
  basePort?: number;
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
}

interface BrokerHandle {
  id: number;
  host: string;
  port: number;
  internalPort?: number;
  child: ChildProcess | null;
  state: BrokerProcessState;
  lastHeartbeat: number;
  exitCode: number | null;
  signal: string | null;
  ready: Promise<void> | null;
}

interface PersistedLayout {
  brokers: Array<{ id: number; port: number }>;
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
  private lastImage: MetadataImage;
  private shuttingDown = false;
  readonly events: ClusterEvent[] = [];
  /** What the brokers' client listeners get (TLS files, salted credentials); computed once, in start(). */
  private listenerSecurity: ListenerSecurity | undefined;
  private readonly interBrokerSecret = randomBytes(24).toString('base64url');
  private securitySummary: SecuritySummary = { protocol: 'PLAINTEXT', tls: false, saslMechanisms: [], users: [], caFile: null };

  constructor(private readonly opts: SupervisorOptions) {
    super();
    this.logger = tagged(opts.logger ?? nopLogger, 'supervisor');
    this.host = opts.host ?? '127.0.0.1';
    this.advertisedHost = opts.advertisedHost ?? this.host;
    this.sessionTimeoutMs = opts.sessionTimeoutMs ?? 3000;
    this.heartbeatIntervalMs = opts.heartbeatIntervalMs ?? Math.max(100, Math.floor(this.sessionTimeoutMs / 6));
    mkdirSync(opts.dir, { recursive: true });
    this.layoutFile = join(opts.dir, 'cluster.json');
    const config = opts.config ?? {};
    this.controller = new Controller({
      metadataFile: join(opts.dir, 'controller', 'cluster-metadata.json'),
      defaults: {
        numPartitions: Number(config['num.partitions'] ?? 1),
        defaultReplicationFactor: Number(config['default.replication.factor'] ?? 1),
        uncleanLeaderElection: config['unclean.leader.election.enable'] === 'true',
      },
      logger: opts.logger,
    });
    this.lastImage = this.controller.snapshot();
    this.controller.on('change', (image: MetadataImage) => this.onMetadata(image));
    const sasl = opts.security?.sasl;
    if (sasl && sasl.users.length === 0) throw new Error('SASL needs at least one user (--user name:password)');
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
    if (sec.sasl) security.sasl = { mechanisms: [...sec.sasl.mechanisms], users: deriveCredentials(sec.sasl.users) };
    this.listenerSecurity = security;
    this.securitySummary = {
      protocol: securityProtocol(security),
      tls: !!security.tls,
      saslMechanisms: security.sasl?.mechanisms ?? [],
      users: sec.sasl?.users.map((u) => u.name) ?? [],
      caFile,
    };
  }

  get bootstrap(): string {
    return [...this.handles.values()].map((h) => `${h.host}:${h.port}`).join(',');
  }

  // ---- lifecycle -------------------------------------------------------------------------------------------

  /** Starts every broker and resolves when all have registered with the controller. */
  async start(): Promise<void> {
    this.prepareSecurity();
    const layout = this.loadLayout();
    const ids = layout.brokers.map((b) => b.id);
    for (let id = 1; ids.length < this.opts.brokers; id++) if (!ids.includes(id)) ids.push(id);
    ids.sort((a, b) => a - b);
    const basePort = this.opts.basePort ?? 9092;
    for (const id of ids) {
      const remembered = layout.brokers.find((b) => b.id === id)?.port;
      const wanted = remembered ?? (basePort === 0 ? 0 : basePort + id - 1);
      const port = wanted !== 0 && (await portIsFree(this.host, wanted)) ? wanted : 0;
      this.handles.set(id, { id, host: this.advertisedHost, port, child: null, state: 'stopped', lastHeartbeat: 0, exitCode: null, signal: null, ready: null });
    }
    this.controller.holdElections(true);
    try {
      await Promise.all([...this.handles.values()].map((h) => this.spawn(h)));
    } finally {
      this.controller.holdElections(false);
    }
    this.saveLayout();
    this.fenceTimer = setInterval(() => this.checkSessions(), this.heartbeatIntervalMs);
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
    const layout: PersistedLayout = { brokers: [...this.handles.values()].map((h) => ({ id: h.id, port: h.port })), security: this.securitySummary };
    writeFileSync(this.layoutFile, JSON.stringify(layout, null, 1));
  }

  private spawn(h: BrokerHandle): Promise<void> {
    const options: BrokerProcessOptions = {
      nodeId: h.id,
      host: this.host,
      advertisedHost: this.opts.advertisedHost,
      port: h.port,
      logDir: join(this.opts.dir, `broker-${h.id}`),
      config: this.opts.config ?? {},
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      logLevel: this.opts.logLevel ?? 'info',
      security: this.listenerSecurity,
      interBrokerSecret: this.listenerSecurity ? this.interBrokerSecret : undefined,
    };
    h.state = 'starting';
    h.exitCode = h.signal = null;
    // The arguments are not read (the options travel in the environment): they make the process findable the way
    // the seed tutorial finds a broker, `ps -ef | grep broker.id=1`, with the keys of Kafka's server.properties.
    const child = fork(this.opts.brokerScript ?? defaultBrokerScript(), [`broker.id=${h.id}`, `log.dir=${options.logDir}`], {
      env: { ...BROKER_MALLOC_ENV, ...process.env, [BROKER_OPTIONS_ENV]: JSON.stringify(options) },
      execArgv: brokerExecArgv(),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    h.child = child;
    // A message to a broker that has just died (kill -9 of two brokers in a row: the first one's fencing sends
    // metadata to the second) fails with EPIPE, which a ChildProcess without an 'error' listener turns into an
    // uncaught exception that ended the whole supervisor. The 'exit' handler deals with the death itself.
    child.on('error', (err) => this.logger.debug(`broker ${h.id}: ${err.message}`));
    h.ready = new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        if (h.state === 'starting') reject(new Error(`broker ${h.id} exited during start (${signal ?? `code ${code}`})`));
      };
      child.once('exit', onExit);
      child.on('message', (msg: BrokerToSupervisor) => {
        if (msg.type === 'ready') {
          child.off('exit', onExit);
          h.port = msg.port;
          h.internalPort = msg.internalPort;
          h.state = 'running';
          h.lastHeartbeat = Date.now();
          this.saveLayout();
          this.event({ type: 'broker-started', broker: h.id, message: `broker ${h.id} started on ${msg.host}:${msg.port} (pid ${msg.pid})` });
          this.controller.registerBroker({ id: h.id, host: msg.host, port: msg.port, internalPort: msg.internalPort, rack: null });
          resolve();
        }
      });
    });
    child.on('message', (msg: BrokerToSupervisor) => this.onBrokerMessage(h, child, msg));
    child.on('exit', (code, signal) => this.onExit(h, child, code, signal));
    return h.ready;
  }

  private onBrokerMessage(h: BrokerHandle, child: ChildProcess, msg: BrokerToSupervisor): void {
    if (h.child !== child) return;
    if (msg.type === 'heartbeat') {
      h.lastHeartbeat = Date.now();
      if (h.state === 'paused') return; // a paused process cannot heartbeat; a stale message may still arrive
      const registered = this.controller.snapshot().brokers.find((b) => b.id === h.id);
      if (registered?.fenced && h.state === 'running') {
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
      const reply = (m: SupervisorToBroker) => {
        if (child.connected) child.send(m);
      };
      try {
        const fn = (this.controller as unknown as Record<string, (...a: unknown[]) => unknown>)[msg.method === 'metadata' ? 'snapshot' : msg.method];
        const result = fn.apply(this.controller, msg.args);
        reply({ type: 'reply', id: msg.id, result });
      } catch (err) {
        const code = err instanceof KafkaError ? err.code : -1;
        reply({ type: 'reply', id: msg.id, error: { code, message: (err as Error).message } });
      }
    }
  }

  private onExit(h: BrokerHandle, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (h.child !== child) return;
    h.child = null;
    h.exitCode = code;
    h.signal = signal;
    const graceful = h.state === 'stopping' || (code === 0 && !signal);
    h.state = graceful ? 'stopped' : 'crashed';
    this.event({
      type: graceful ? 'broker-stopped' : 'broker-crashed',
      broker: h.id,
      message: graceful ? `broker ${h.id} stopped` : `broker ${h.id} died (${signal ?? `exit code ${code}`})`,
    });
    // A process that is gone is fenced at once: no need to wait for a session timeout.
    if (!this.shuttingDown) this.controller.fenceBroker(h.id, graceful ? 'stopped' : 'process exited');
  }

  private checkSessions(): void {
    const now = Date.now();
    const image = this.controller.snapshot();
    for (const h of this.handles.values()) {
      if (h.state !== 'running' && h.state !== 'paused') continue;
      const fenced = image.brokers.find((b) => b.id === h.id)?.fenced ?? true;
      if (!fenced && now - h.lastHeartbeat > this.sessionTimeoutMs) {
        this.controller.fenceBroker(h.id, `missed heartbeats for ${now - h.lastHeartbeat} ms`);
      }
    }
  }

  // ---- metadata and events ---------------------------------------------------------------------------------

  private onMetadata(image: MetadataImage): void {
    for (const h of this.handles.values()) {
      if (h.child?.connected && (h.state === 'running' || h.state === 'starting' || h.state === 'paused')) {
        h.child.send({ type: 'metadata', image } satisfies SupervisorToBroker);
      }
    }
    this.diff(this.lastImage, image);
    this.lastImage = image;
    this.emit('metadata', image);
  }

  private diff(before: MetadataImage, after: MetadataImage): void {
    for (const b of after.brokers) {
      const old = before.brokers.find((x) => x.id === b.id);
      if (old && old.fenced !== b.fenced) {
        this.event({ type: b.fenced ? 'broker-fenced' : 'broker-unfenced', broker: b.id, message: `broker ${b.id} ${b.fenced ? 'fenced: no longer in any ISR or leading' : 'is alive again'}` });
      }
    }
    if (before.controllerId !== after.controllerId) {
      this.event({ type: 'controller-changed', from: before.controllerId, to: after.controllerId, message: `controller is now broker ${after.controllerId}` });
    }
    for (const t of after.topics) {
      const old = before.topics.find((x) => x.name === t.name && x.id === t.id);
      if (!old) {
        if (!t.internal) this.event({ type: 'topic-created', topic: t.name, message: `topic ${t.name} created with ${t.partitions.length} partition(s)` });
        continue;
      }
      if (old.partitions.length !== t.partitions.length) this.event({ type: 'partitions-changed', topic: t.name, message: `topic ${t.name} now has ${t.partitions.length} partitions` });
      for (const p of t.partitions) {
        const q = old.partitions[p.partition];
        if (!q) continue;
        const where = { topic: t.name, partition: p.partition };
        if (q.leader !== p.leader) {
          this.event({ type: 'leader-changed', ...where, from: q.leader, to: p.leader, message: `${t.name}-${p.partition}: leader ${q.leader} -> ${p.leader === -1 ? 'none' : p.leader} (epoch ${p.leaderEpoch})` });
        }
        const removed = q.isr.filter((r) => !p.isr.includes(r));
        const added = p.isr.filter((r) => !q.isr.includes(r));
        if (removed.length) this.event({ type: 'isr-shrunk', ...where, from: q.isr, to: p.isr, message: `${t.name}-${p.partition}: ISR [${q.isr}] -> [${p.isr}]` });
        if (added.length) this.event({ type: 'isr-expanded', ...where, from: q.isr, to: p.isr, message: `${t.name}-${p.partition}: ISR [${q.isr}] -> [${p.isr}]` });
      }
    }
    for (const t of before.topics) {
      if (!after.topics.some((x) => x.name === t.name && x.id === t.id) && !t.internal) this.event({ type: 'topic-deleted', topic: t.name, message: `topic ${t.name} deleted` });
    }
  }

  private event(e: Omit<ClusterEvent, 'time'>): void {
    const ev = { time: Date.now(), ...e };
    this.events.push(ev);
    if (this.events.length > 1000) this.events.shift();
    this.logger.info(ev.message);
    this.emit('event', ev);
  }

  state(): ClusterState {
    const image = this.controller.snapshot();
    return {
      clusterId: image.clusterId,
      dir: this.opts.dir,
      bootstrap: this.bootstrap,
      controllerId: image.controllerId,
      metadataEpoch: image.epoch,
      brokers: [...this.handles.values()].map((h) => ({
        id: h.id,
        host: h.host,
        port: h.port,
        pid: h.child?.pid ?? null,
        state: h.state,
        fenced: image.brokers.find((b) => b.id === h.id)?.fenced ?? true,
        isController: image.controllerId === h.id,
        exitCode: h.exitCode,
        signal: h.signal,
      })),
      topics: image.topics,
      security: this.securitySummary,
    };
  }

  // ---- actions ---------------------------------------------------------------------------------------------

  private handle(id: number): BrokerHandle {
    const h = this.handles.get(id);
    if (!h) throw new Error(`no broker ${id} (brokers: ${[...this.handles.keys()].join(', ')})`);
    return h;
  }

  /** kill -9: a real crash. */
  kill(id: number): void {
    const h = this.handle(id);
    if (!h.child) throw new Error(`broker ${id} is not running (${h.state})`);
    if (h.state === 'paused') h.child.kill('SIGCONT');
    h.child.kill('SIGKILL');
  }

  /** SIGSTOP: the process freezes; it is fenced once its session times out. */
  pause(id: number): void {
    const h = this.handle(id);
    if (!h.child || h.state !== 'running') throw new Error(`broker ${id} is not running (${h.state})`);
    h.child.kill('SIGSTOP');
    h.state = 'paused';
    this.event({ type: 'broker-paused', broker: id, message: `broker ${id} paused (SIGSTOP); fenced after ${this.sessionTimeoutMs} ms without heartbeats` });
  }

  resume(id: number): void {
    const h = this.handle(id);
    if (!h.child || h.state !== 'paused') throw new Error(`broker ${id} is not paused (${h.state})`);
    h.child.kill('SIGCONT');
    h.state = 'running';
    h.lastHeartbeat = Date.now();
    this.event({ type: 'broker-resumed', broker: id, message: `broker ${id} resumed (SIGCONT)` });
  }

  /** Graceful stop with controlled shutdown: leadership moves before the process exits. */
  async stopBroker(id: number): Promise<void> {
    const h = this.handle(id);
    if (!h.child) throw new Error(`broker ${id} is not running (${h.state})`);
    if (h.state === 'paused') this.resume(id);
    this.controller.controlledShutdown(id);
    h.state = 'stopping';
    const child = h.child;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.send({ type: 'shutdown' } satisfies SupervisorToBroker);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
  }

  /** Starts a stopped or crashed broker again (stopping it first if it runs). */
  async restart(id: number): Promise<void> {
    const h = this.handle(id);
    if (h.child) await this.stopBroker(id);
    await this.spawn(h);
  }

  /** Adds a broker with the next free id. */
  async addBroker(): Promise<BrokerView> {
    const id = Math.max(0, ...this.handles.keys()) + 1;
    const basePort = this.opts.basePort ?? 9092;
    const wanted = basePort === 0 ? 0 : basePort + id - 1;
    const port = wanted !== 0 && (await portIsFree(this.host, wanted)) ? wanted : 0;
    const h: BrokerHandle = { id, host: this.advertisedHost, port, child: null, state: 'stopped', lastHeartbeat: 0, exitCode: null, signal: null, ready: null };
    this.handles.set(id, h);
    await this.spawn(h);
    return this.state().brokers.find((b) => b.id === id)!;
  }

  /** Stops every broker gracefully (no controlled shutdown: the whole cluster goes). */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    clearInterval(this.fenceTimer);
    await Promise.all(
      [...this.handles.values()].map(async (h) => {
        const child = h.child;
        if (!child) return;
        if (h.state === 'paused') child.kill('SIGCONT');
        h.state = 'stopping';
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        if (child.connected) child.send({ type: 'shutdown' } satisfies SupervisorToBroker);
        else child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
