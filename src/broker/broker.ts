// A Kafka broker: one TCP listener serving the Kafka wire protocol, the partition replicas this broker hosts,
// and (when this broker is the coordinator for them) consumer groups. Metadata arrives from the controller as a
// whole image when the broker (re)connects and as deltas after that; the broker opens, re-roles or deletes its local
// replicas to match, touching only the topics a delta names. A delta's partition records that only re-role idle
// replicas (thousands of them when a broker fails) are applied in short slices after it, so that requests for the
// busy partitions are not kept waiting behind them; a replica with such a record pending is brought up to date when
// it is asked for (partition()).

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { RequestHeader } from '../protocol/frame';
import { batchTimestamps } from '../protocol/records/recordBatch';
import { BrokerConfig, ConfigSource, defaultBrokerConfig, effectiveTopicConfig, num } from './configs';
import { Connection } from './connection';
import type { ControllerChannel } from './controllerChannel';
import { HandlerContext } from './handlerContext';
import { buildRouter } from './handlers';
import { Logger, nopLogger, tagged } from './logger';
import { applyDelta, BrokerInfo, MetadataDelta, MetadataImage, PartitionState, TopicState } from './metadata';
import { NEW_LEADER_FETCH_WAIT_MS, Partition } from './partition';
import { readPartitionTopicId, writePartitionTopicId } from './partitionDirMetadata';
import { QuotaRates } from './quotas';
import { Router } from './router';
import { CleanerStep, LogConfig, PartitionLog } from './state/partitionLog';
import { fsyncDirectory } from './state/checkpointFile';
import { LogCleaner } from './logCleaner';
import { GroupCoordinator } from './groups/coordinator';
import { nextProducerId } from './handlers/misc';
import { TransactionCoordinator } from './txn/coordinator';
import { LeaderFetcher } from './replicaFetcher';
import { DataJournal, FetchSessionCache } from './fetchSessions';
import { ErrorCode } from '../protocol/errorCode';
import { StorageFaults, describeStorageError, storageErrorCode } from './storageFaults';
import { openLogFiles, openLogFilesBudget } from './state/openFiles';
import { fakeSaltSecret, INTER_BROKER_USER, interBrokerSaslConfig, ListenerSecurity, securityProtocol } from './security/listener';
import type { SaslServerConfig } from './security/sasl';

export interface BrokerOptions {
  nodeId: number;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /** The address advertised to clients (defaults to host:port). */
  advertisedHost?: string;
  logDir: string;
  controller: ControllerChannel;
  /** Broker-level settings (Kafka names, e.g. 'num.partitions'); merged over defaults. */
  config?: Partial<BrokerConfig>;
  logger?: Logger;
  now?: () => number;
  /** TLS and/or SASL on the client-facing listener; unset = plaintext without authentication. */
  security?: ListenerSecurity;
  /**
   * With security on: the secret of the internal loopback listener that the cluster's own traffic uses (followers
   * authenticate to it with SASL/PLAIN as INTER_BROKER_USER). Random when not given (a single broker).
   */
  interBrokerSecret?: string;
  /**
   * Called every few partitions during long metadata work (thousands of partitions changing at once), so that the
   * broker's heartbeat still goes out while its only thread is busy: the supervisor fences a silent broker.
   */
  keepAlive?: () => void;
  /** Test hook: called between the steps of every segment swap of the log cleaner (crash tests kill there). */
  onCleanerStep?: (step: CleanerStep) => void;
}

export class Broker {
  readonly nodeId: number;
  /** The effective broker config: Kafka's defaults < --config < dynamic cluster default < dynamic for this broker. */
  readonly config: BrokerConfig;
  /** What --config set (DescribeConfigs source STATIC_BROKER_CONFIG). */
  readonly staticConfig: Record<string, string>;
  readonly logger: Logger;
  readonly controller: ControllerChannel;
  readonly router: Router;
  readonly partitions = new Map<string, Partition>();
  /**
   * The same replicas by topic name and partition index: partition() and deltas find a replica without building its
   * key (a new string to hash per lookup: most of the cost of looking up a failover's thousands of records).
   */
  private readonly replicasByTopic = new Map<string, Array<Partition | undefined>>();
  readonly groups: GroupCoordinator;
  readonly txns: TransactionCoordinator;
  /** Partitions whose log writes fail (disk full...): warned once each, recoveries told once. */
  readonly storageFaults: StorageFaults;
  /**
   * Replicas whose log could not be opened (EMFILE past the cache's retry, EACCES...), by key: clients get
   * KAFKA_STORAGE_ERROR for them, the controller is told (replicasOffline) and opening is tried again at every
   * metadata change.
   */
  readonly offlineReplicas = new Map<string, { topic: string; partition: number; reason: string; reportedAtEpoch: number }>();
  /** While replicas are offline: opening them is also tried every few seconds (no metadata change may come). */
  private offlineRetryTimer: NodeJS.Timeout | undefined;
  /** Offline replicas to tell the controller about at the end of this tick. */
  private readonly offlineToReport = new Set<string>();
  image: MetadataImage;
  /** Incremental fetch sessions (KIP-227) of followers and consumers fetching from this broker. */
  readonly fetchSessions: FetchSessionCache;
  /** Partitions with news, for incremental fetches and waiting fetches (see DataJournal). */
  readonly dataJournal = new DataJournal();
  /** The image's topics by name: lookups per request must not scan thousands of topics. */
  private topicsByName = new Map<string, TopicState>();
  /** A whole image was asked for (a delta arrived that does not follow ours) and has not come yet. */
  private fullImageRequested = false;
  private server: Server | undefined;
  private internalServer: Server | undefined;
  private boundInternalPort = 0;
  /** How followers on this broker authenticate to leaders' internal listeners (unset without security). */
  readonly interBrokerCredentials: { username: string; password: string } | undefined;
  private readonly connections = new Set<Connection>();
  private boundPort = 0;
  private retentionTimer: NodeJS.Timeout | undefined;
  private isrTimer: NodeJS.Timeout | undefined;
  /** Partitions whose ISR change was refused or skipped, checked again ISR_RECHECK_MS later (see scheduleIsrRecheck). */
  private readonly isrRecheck = new Set<Partition>();
  private isrRecheckTimer: NodeJS.Timeout | undefined;
  private producerExpiryTimer: NodeJS.Timeout | undefined;
  private offsetsExpiryTimer: NodeJS.Timeout | undefined;
  /** Compacts the logs of compacted topics (log.cleaner.enable). */
  readonly cleaner: LogCleaner;
  /** The log directory's clean-shutdown marker was there at start (see takeCleanShutdownMarker). */
  private readonly cleanAtStart: boolean;
  /** Partition logs opened by this process (a reopened one is not covered by the marker found at start). */
  private readonly openedLogs = new Set<string>();
  private readonly fetchers = new Map<number, LeaderFetcher>();
  /** ISR changes sent to the controller and not yet answered, by partition key. */
  private readonly pendingIsrChanges = new Set<string>();
  /** Partition directories the metadata does not account for, warned about once each. */
  private readonly warnedUnknownDirs = new Set<string>();
  private readonly now: () => number;
  /** Byte rates of the clients under a quota (handlers/client-quotas.ts). */
  readonly quotaRates: QuotaRates;
  /**
   * By follower: the partitions this broker took the leadership of (a leader move) that it has not fetched yet, with
   * when the leadership came (see followerFetchWaitCap()).
   */
  private readonly newLeaderships = new Map<number, Map<Partition, number>>();
  /** The same for partitions in use when taken (see noteNewLeadership). */
  private readonly newLeadershipsInUse = new Map<number, Map<Partition, number>>();
  private readonly leadershipListeners = new Set<(inUse: boolean) => void>();
  /** How many leaderships this broker took over so far (a delta that took some tells the listeners). */
  private leadershipsTaken = 0;
  /**
   * Local replicas whose partition record of a delta is not applied yet (Partition.metadataDeferred; see
   * applyMetadataDelta), in arrival order: applied in slices (applyDeferredSlice) from `deferredNext` on, or when asked
   * for. Flags, not a map by key: a failover defers thousands, and hashing their keys was most of the delta's cost.
   * Entries applied meanwhile stay in the queue until a slice passes them.
   */
  private deferredQueue: Partition[] = [];
  private deferredNext = 0;
  private deferredCount = 0;
  /** Replicas with an append within ACTIVE_REPLICA_MS, or not checked since (see busyPartitionsReport). */
  private readonly busyReplicas = new Set<Partition>();
  private lastBusyReport = '';
  private deferredSlice: NodeJS.Immediate | undefined;
  /** How the records deferred since none was pending were applied (for the debug line once none is again). */
  private deferredRun: DeferredRun | undefined;
  /** Test hook: sees every request header before it is handled. */
  onRequest?: (header: RequestHeader) => void;

  constructor(private readonly opts: BrokerOptions) {
    this.nodeId = opts.nodeId;
    this.staticConfig = { ...(opts.config as Record<string, string>) };
    this.config = { ...defaultBrokerConfig(opts.nodeId), ...this.staticConfig } as BrokerConfig;
    this.logger = tagged(opts.logger ?? nopLogger, `broker ${opts.nodeId}`);
    this.storageFaults = new StorageFaults(this.logger);
    // Segment files beyond this many are closed least recently used first (state/openFiles.ts).
    openLogFiles.setMax(openLogFilesBudget(this.config as unknown as Record<string, string | undefined>));
    this.controller = opts.controller;
    this.now = opts.now ?? Date.now;
    this.router = buildRouter();
    this.quotaRates = new QuotaRates(num(this.config, 'quota.window.num'), num(this.config, 'quota.window.size.seconds') * 1000, this.now);
    this.image = { clusterId: '', controllerId: -1, epoch: -1, brokers: [], topics: [], nextProducerId: 0 };
    this.fetchSessions = new FetchSessionCache(
      () => num(this.config, 'max.incremental.fetch.session.cache.slots'),
      () => num(this.config, 'min.incremental.fetch.session.eviction.ms'),
      this.now,
    );
    this.groups = new GroupCoordinator(this);
    this.txns = new TransactionCoordinator(this, () => nextProducerId(this));
    if (opts.security?.tls || opts.security?.sasl) {
      this.interBrokerCredentials = { username: INTER_BROKER_USER, password: opts.interBrokerSecret ?? randomBytes(24).toString('base64url') };
    }
    mkdirSync(opts.logDir, { recursive: true });
    this.cleanAtStart = takeCleanShutdownMarker(opts.logDir);
    this.cleaner = new LogCleaner({
      logDir: opts.logDir,
      partitions: () => this.partitions.values(),
      logger: tagged(this.logger, 'cleaner'),
      now: this.now,
      backoffMs: num(this.config, 'log.cleaner.backoff.ms'),
    });
  }

  /** PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL: the client-facing listener's protocol. */
  get securityProtocol(): string {
    return securityProtocol(this.opts.security);
  }

  /** The directory holding this broker's partition logs (DescribeLogDirs reports it). */
  get logDir(): string {
    return this.opts.logDir;
  }

  /** The internal listener's port, or undefined when the client listener serves the cluster too. */
  get internalPort(): number | undefined {
    return this.internalServer ? this.boundInternalPort : undefined;
  }

  get port(): number {
    return this.boundPort;
  }

  get host(): string {
    return this.opts.advertisedHost ?? this.opts.host ?? '127.0.0.1';
  }

  /**
   * Where this broker reaches the other brokers of its cluster (they all listen on the same address): the listen
   * address itself, or loopback when that is a wildcard. Never the advertised name, which only clients elsewhere
   * (a devcontainer's host, Windows outside WSL) may be able to resolve.
   */
  get replicationHost(): string {
    const listen = this.opts.host ?? '127.0.0.1';
    if (listen === '0.0.0.0') return '127.0.0.1';
    if (listen === '::' || listen === '::0') return '::1';
    return listen;
  }

  async start(): Promise<void> {
    const security = this.opts.security;
    const secret = this.interBrokerCredentials?.password;
    const saltKey = secret ? fakeSaltSecret(secret) : randomBytes(32);
    // Credentials are looked up at each login: from the metadata image once it has them (users added or deleted
    // at run time), else those the listener was started with.
    const startupUsers = security?.sasl?.users ?? {};
    const image = () => this.image;
    const clientSasl = security?.sasl
      ? {
          config: {
            mechanisms: security.sasl.mechanisms,
            get users() {
              return image().scramCredentials ?? startupUsers;
            },
          },
          serverSecret: saltKey,
        }
      : undefined;
    let server: Server;
    if (security?.tls) {
      const tlsServer = createTlsServer({ cert: readFileSync(security.tls.certFile), key: readFileSync(security.tls.keyFile), minVersion: 'TLSv1.2' }, (socket) =>
        this.accept(socket, clientSasl),
      );
      tlsServer.on('tlsClientError', (err, socket) => {
        const hint = /wrong version number|http request|unknown protocol|packet length/i.test(err.message) ? ' (a client without TLS on the TLS listener?)' : '';
        this.logger.warn(`TLS handshake with ${socket.remoteAddress}:${socket.remotePort} failed: ${err.message}${hint}`);
      });
      server = tlsServer;
    } else {
      server = createServer((socket) => this.accept(socket, clientSasl));
    }
    this.server = server;
    this.boundPort = await listen(server, this.opts.port ?? 0, this.opts.host ?? '127.0.0.1');
    if (this.interBrokerCredentials) {
      const internalSasl = { config: interBrokerSaslConfig(this.interBrokerCredentials.password) as SaslServerConfig, serverSecret: saltKey };
      const internal = createServer((socket) => this.accept(socket, internalSasl));
      this.internalServer = internal;
      this.boundInternalPort = await listen(internal, 0, '127.0.0.1');
    }
    const interval = num(this.config, 'log.retention.check.interval.ms');
    this.retentionTimer = setInterval(() => this.applyRetention(), interval);
    this.retentionTimer.unref();
    const lagMs = num(this.config, 'replica.lag.time.max.ms');
    this.isrTimer = setInterval(() => {
      // A replica with a deferred record would judge (and ask to change) the ISR of a partition epoch the controller
      // has moved past; it is checked next time, its record applied by then.
      for (const p of this.partitions.values()) if (!p.metadataDeferred) p.checkIsr(lagMs);
    }, Math.max(100, lagMs / 2));
    this.isrTimer.unref();
    // One timer for the whole broker (Kafka's LogManager schedules one PeriodicProducerExpirationCheck too).
    this.producerExpiryTimer = setInterval(() => this.removeExpiredProducers(), num(this.config, 'producer.id.expiration.check.interval.ms'));
    this.producerExpiryTimer.unref();
    this.offsetsExpiryTimer = setInterval(() => {
      this.groups.removeExpiredOffsets().catch((err) => this.logger.warn(`offsets expiry failed: ${(err as Error).message}`));
    }, num(this.config, 'offsets.retention.check.interval.ms'));
    this.offsetsExpiryTimer.unref();
    if (this.config['log.cleaner.enable'] === 'true') this.cleaner.start();
    this.txns.start();
    const internal = this.internalServer ? `; internal listener 127.0.0.1:${this.boundInternalPort}` : '';
    this.logger.info(`listening on ${this.host}:${this.boundPort} (${this.securityProtocol})${internal}`);
  }

  private accept(socket: Socket, sasl: { config: SaslServerConfig; serverSecret: Buffer } | undefined): void {
    const conn = new Connection(socket, {
      router: this.router,
      logger: this.logger,
      maxFrameBytes: num(this.config, 'socket.request.max.bytes'),
      idleMs: num(this.config, 'connections.max.idle.ms'),
      makeContext: (header, c): HandlerContext => ({ broker: this, header, version: header.apiVersion, conn: c }),
      observe: (h) => this.onRequest?.(h),
      sasl,
    });
    this.connections.add(conn);
    socket.on('close', () => {
      this.connections.delete(conn);
      this.groups.connectionClosed(conn);
    });
  }

  /** Stops listening, closes client connections and flushes every log. */
  async stop(): Promise<void> {
    // Deferred records only re-role replicas (in memory: a new leader epoch is written with its first batch), and
    // every replica is closed below: nothing of them needs to be applied. The next start gets the whole image.
    clearImmediate(this.deferredSlice);
    this.deferredSlice = undefined;
    for (const p of this.deferredQueue) p.metadataDeferred = false;
    this.deferredQueue = [];
    this.deferredNext = 0;
    this.deferredCount = 0;
    this.deferredRun = undefined;
    clearInterval(this.retentionTimer);
    clearInterval(this.isrTimer);
    clearTimeout(this.isrRecheckTimer);
    clearInterval(this.producerExpiryTimer);
    clearInterval(this.offsetsExpiryTimer);
    clearInterval(this.offlineRetryTimer);
    this.cleaner.stop();
    for (const f of this.fetchers.values()) f.stop();
    this.fetchers.clear();
    this.groups.shutdown();
    this.txns.shutdown();
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => (this.internalServer ? this.internalServer.close(() => resolve()) : resolve()));
    for (const p of this.partitions.values()) p.log.close();
    this.partitions.clear();
    this.replicasByTopic.clear();
    // A replica offline here was never opened, so never recovered after a crash: the marker must not vouch for it.
    if (this.offlineReplicas.size > 0) return;
    // Every log is closed: one marker for the directory, so that the next start trusts every active segment.
    try {
      writeFileSync(join(this.opts.logDir, LOG_DIR_CLEAN_SHUTDOWN_FILE), '');
      fsyncDirectory(this.opts.logDir);
    } catch (err) {
      // Without it the next start scans each active segment (recovery), nothing worse.
      this.logger.warn(`clean-shutdown marker not written: ${(err as Error).message}`);
    }
  }

  // ---- metadata --------------------------------------------------------------------------------------------

  /**
   * Apply a whole metadata image from the controller (ignored if older than what we have). Every local replica is
   * placed or closed here, which applies any deferred record too (placeReplica, dropPartition).
   */
  applyMetadata(image: MetadataImage): void {
    if (image.epoch <= this.image.epoch) return;
    this.image = image;
    this.applyDynamicConfig();
    this.topicsByName = new Map(image.topics.map((t) => [t.name, t]));
    const wanted = new Set<string>();
    for (const topic of image.topics) this.reconcileTopic(topic, wanted);
    for (const [key, p] of [...this.partitions]) {
      if (wanted.has(key)) continue;
      this.closeUnwanted(key, p);
    }
    this.removeOrphanDirs(wanted);
    this.updateFetchers(this.partitions.values());
    this.groups.metadataChanged();
    this.txns.metadataChanged();
  }

  /** Layers the image's dynamic broker configs over the static ones, in place (handlers hold `config`). */
  private applyDynamicConfig(): void {
    const dynamic = this.image.brokerConfigs ?? {};
    const next: Record<string, string> = { ...defaultBrokerConfig(this.nodeId), ...this.staticConfig, ...dynamic[''], ...dynamic[String(this.nodeId)] };
    const config = this.config as Record<string, string>;
    for (const k of Object.keys(config)) if (!(k in next)) delete config[k];
    Object.assign(config, next);
  }

  /**
   * Where broker config `name` gets its value, most specific first (Kafka's synonym order): DYNAMIC_BROKER_CONFIG,
   * DYNAMIC_DEFAULT_BROKER_CONFIG, STATIC_BROKER_CONFIG. The Kafka default, if any, comes after these.
   */
  brokerConfigSynonyms(name: string): Array<{ name: string; value: string; source: ConfigSource }> {
    const dynamic = this.image.brokerConfigs ?? {};
    const out: Array<{ name: string; value: string; source: ConfigSource }> = [];
    const own = dynamic[String(this.nodeId)]?.[name];
    if (own !== undefined) out.push({ name, value: own, source: ConfigSource.DYNAMIC_BROKER_CONFIG });
    const clusterDefault = dynamic['']?.[name];
    if (clusterDefault !== undefined) out.push({ name, value: clusterDefault, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
    const fixed = this.staticConfig[name];
    if (fixed !== undefined) out.push({ name, value: fixed, source: ConfigSource.STATIC_BROKER_CONFIG });
    return out;
  }

  /**
   * Apply a delta (see MetadataDelta): only the topics it carries whole and the partitions it has records of are
   * looked at. One that does not follow our image (we missed one: a reconnect, a new supervisor) is dropped and the
   * whole image asked for.
   *
   * The image (what Metadata answers) changes at once, and so does every replica of a topic carried whole, removed, or
   * under a changed broker config. Of the partition records, those that only re-role an idle replica are deferred
   * (see mayDefer): a broker's failure moves a thousand leaders and shrinks two thousand ISRs, tens of milliseconds of
   * work during which this broker would answer nothing, not even for the one partition clients are writing to.
   * Deferred records are applied from the image, in slices between which requests are served, or at once when their
   * replica is asked for (partition()). A later delta needs no drain first: a deferred record applies whatever state
   * the image holds then, and any delta that places or closes the replica applies it (placeReplica, dropPartition).
   */
  applyMetadataDelta(delta: MetadataDelta): void {
    if (delta.epoch <= this.image.epoch) return;
    if (delta.baseEpoch > this.image.epoch) return this.requestFullMetadata();
    const started = performance.now();
    const brokersBefore = this.image.brokers;
    const leadershipsBefore = this.leadershipsTaken;
    const names = new Set([...delta.removedTopics, ...delta.topics.map((t) => t.name)]);
    // Of the topics replaced or removed, how many partitions they had: replicas beyond the new count are closed.
    const countsBefore = new Map([...names].map((name) => [name, this.topicsByName.get(name)?.partitions.length ?? 0]));
    const changedTopics = new Map<string, TopicState>();
    this.image = applyDelta(this.image, delta, changedTopics);
    // Updated in place, not copied: a failover's delta changes a thousand topics of thousands.
    for (const name of delta.removedTopics) this.topicsByName.delete(name);
    for (const [name, t] of changedTopics) this.topicsByName.set(name, t);
    const touched: Partition[] = [];
    // Dynamic broker configs changed: every topic without its own override may have a new effective config.
    if (delta.brokerConfigs) {
      this.applyDynamicConfig();
      for (const t of this.image.topics) if (!names.has(t.name)) this.reconcileTopic(t, new Set());
    }
    for (const name of names) {
      const wanted = new Set<string>();
      const topic = this.topicsByName.get(name);
      if (topic) this.reconcileTopic(topic, wanted);
      const count = Math.max(countsBefore.get(name) ?? 0, topic?.partitions.length ?? 0);
      for (let i = 0; i < count; i++) {
        const key = `${name}-${i}`;
        const p = this.partitions.get(key);
        if (!p) continue;
        if (wanted.has(key)) touched.push(p);
        else this.closeUnwanted(key, p);
      }
    }
    const now = Date.now(); // the partitions' clock (Partition.lastAppendMs)
    let deferred = 0;
    let newlyDeferred = 0;
    for (const change of delta.partitions ?? []) {
      if (names.has(change.topic)) continue; // carried whole: done above
      const topic = this.topicsByName.get(change.topic);
      if (!topic || topic.id !== change.topicId) continue;
      const state = topic.partitions[change.state.partition];
      const existing = this.replicasByTopic.get(topic.name)?.[state.partition];
      if (existing && this.mayDefer(existing, topic, state, now)) {
        if (this.defer(existing)) newlyDeferred++;
        deferred++;
        continue;
      }
      const p = this.reconcilePartition(topic, state);
      if (p) touched.push(p);
    }
    touched.push(...this.retryOfflineReplicas(names));
    // A broker back (or moved) changes who every follower may fetch from; a broker fenced only stops the fetchers of
    // the partitions it led, and those are among the touched ones (they have a new leader, or none). Replicas with a
    // deferred record get their fetcher when it is applied.
    const refetchAll = delta.brokers && brokerCameBack(brokersBefore, delta.brokers);
    this.updateFetchers(refetchAll ? [...this.partitions.values()].filter((p) => !p.metadataDeferred) : touched);
    this.groups.metadataChanged();
    this.txns.metadataChanged();
    if (delta.brokers) {
      for (const byFollower of [this.newLeaderships, this.newLeadershipsInUse]) {
        for (const r of byFollower.keys()) if (!delta.brokers.some((b) => b.id === r && !b.fenced)) byFollower.delete(r);
      }
    }
    this.tellLeadershipListeners(leadershipsBefore, true);
    if (deferred > 0) {
      this.deferredRun ??= { firstEpoch: delta.epoch, arrivedMs: started, records: 0, slices: 0, bySlices: 0, onDemand: 0, workMs: 0 };
      this.deferredRun.records += newlyDeferred;
      this.deferredSlice ??= setImmediate(() => this.applyDeferredSlice());
    }
    const moves = delta.partitions?.length ?? 0;
    if (moves > 0 || delta.topics.length > 0) {
      this.logger.debug(
        `metadata epoch ${delta.epoch} applied in ${(performance.now() - started).toFixed(1)} ms: ${delta.topics.length} topic(s), ${moves} partition record(s), ` +
          `${touched.length} local replica(s) changed at once, ${deferred} record(s) deferred (${this.deferredCount} pending)`,
      );
    }
  }

  /**
   * Whether the record of replica `p` may wait (see applyMetadataDelta): it only re-roles a replica open here that
   * nobody is using. Applied at once are the records that open a replica (`p` is the one open here) or close one (a
   * reassignment moved it away, or the topic is another of that name), those that take leadership away from this
   * broker (a stale leader must not go on taking writes or moving its high watermark), those of internal topics (the
   * group and transaction coordinators follow their leadership), and those of replicas that took data within
   * ACTIVE_REPLICA_MS or have waiters (acks=all produces, long polls): a follower of a busy partition must go and fetch
   * from its new leader, whose acks=all writes wait for it. Runs for each of a failover's thousands of records before
   * the broker answers anything: a few field reads.
   */
  private mayDefer(p: Partition, topic: TopicState, next: PartitionState, now: number): boolean {
    if (topic.internal || p.topicId !== topic.id || !next.replicas.includes(this.nodeId)) return false;
    if (p.isLeader && next.leader !== this.nodeId) return false;
    return !inUse(p, now);
  }

  /** Applies deferred records for about DEFERRED_SLICE_MS, then lets the event loop serve requests before the next slice. */
  private applyDeferredSlice(): void {
    this.deferredSlice = undefined;
    const run = this.deferredRun;
    const started = performance.now();
    const leadershipsBefore = this.leadershipsTaken;
    let applied = 0;
    while (this.deferredNext < this.deferredQueue.length) {
      const p = this.deferredQueue[this.deferredNext++];
      if (!p.metadataDeferred) continue; // applied meanwhile
      this.applyDeferredRecord(p);
      applied++;
      if (performance.now() - started >= DEFERRED_SLICE_MS) break;
    }
    this.tellLeadershipListeners(leadershipsBefore);
    this.groups.metadataChanged();
    this.txns.metadataChanged();
    if (run) {
      run.slices++;
      run.bySlices += applied;
      run.workMs += performance.now() - started;
    }
    if (this.deferredCount > 0) {
      this.deferredSlice = setImmediate(() => this.applyDeferredSlice());
      return;
    }
    this.deferredQueue = [];
    this.deferredNext = 0;
    if (run) {
      const later = run.records - run.bySlices - run.onDemand;
      this.logger.debug(
        `metadata epoch ${run.firstEpoch}${this.image.epoch > run.firstEpoch ? `..${this.image.epoch}` : ''}: all ${run.records} deferred record(s) applied ` +
          `${(performance.now() - run.arrivedMs).toFixed(1)} ms after the delta arrived: ${run.bySlices} in ${run.slices} slice(s) (${run.workMs.toFixed(1)} ms of work), ` +
          `${run.onDemand} on demand${later > 0 ? `, ${later} by later metadata` : ''}`,
      );
    }
    this.deferredRun = undefined;
  }

  /**
   * Applies the deferred record of `p` (whatever state the image holds now) and moves its fetcher, as a delta does
   * after its records. The replica, in its new role (undefined if that closed it).
   */
  private applyDeferredRecord(p: Partition): Partition | undefined {
    this.undefer(p);
    const topic = this.topicsByName.get(p.topic);
    const state = topic?.partitions[p.index];
    // (A topic removed or carried whole since was reconciled then, which cleared the flag.)
    if (!topic || !state) return undefined;
    const placed = this.reconcilePartition(topic, state);
    if (placed) this.updateFetchers([placed]);
    return placed;
  }

  /** Marks `p` as having a deferred record; whether it had none before. */
  private defer(p: Partition): boolean {
    if (p.metadataDeferred) return false;
    p.metadataDeferred = true;
    this.deferredQueue.push(p);
    this.deferredCount++;
    return true;
  }

  /** `p` acts on the image's state now (or is closed): its deferred record, if any, is done. */
  private undefer(p: Partition): void {
    if (!p.metadataDeferred) return;
    p.metadataDeferred = false;
    this.deferredCount--;
  }

  /**
   * Waiting follower fetches learn of leaderships taken since `leadershipsBefore` (see followerFetchWaitCap). `inUse`: taken
   * by a delta's records applied at once, i.e. of partitions in use (ordered first by the controller), whose
   * followers are waited for by acks=all writes now.
   */
  private tellLeadershipListeners(leadershipsBefore: number, inUse = false): void {
    if (this.leadershipsTaken > leadershipsBefore) for (const l of [...this.leadershipListeners]) l(inUse);
  }

  /** Opens, re-roles or replaces this broker's replicas of one topic; adds their keys to `wanted`. */
  private reconcileTopic(topic: TopicState, wanted: Set<string>): void {
    let config: Record<string, string> | undefined;
    for (const p of topic.partitions) {
      if (!p.replicas.includes(this.nodeId)) continue;
      this.opts.keepAlive?.();
      wanted.add(`${topic.name}-${p.partition}`);
      config ??= effectiveTopicConfig(topic.configs, this.config);
      this.placeReplica(topic, p, config);
    }
  }

  /**
   * One partition record of a delta (its topic's configs did not change): re-roles the local replica, opens it when
   * the partition moved here (reassignment), closes it when it moved away. The replica, if it is still here.
   */
  private reconcilePartition(topic: TopicState, p: PartitionState): Partition | undefined {
    this.opts.keepAlive?.();
    if (p.replicas.includes(this.nodeId)) return this.placeReplica(topic, p);
    const key = `${topic.name}-${p.partition}`;
    const existing = this.partitions.get(key);
    if (existing) this.closeUnwanted(key, existing);
    return undefined;
  }

  /**
   * The local replica of `p`, in the role the image gives it: the one open here re-roled (with `config` when the
   * topic's config may have changed), or, when none is open or it belongs to an older topic of that name, opened.
   */
  private placeReplica(topic: TopicState, p: PartitionState, config?: Record<string, string>): Partition | undefined {
    const key = `${topic.name}-${p.partition}`;
    const existing = this.partitions.get(key);
    if (existing && existing.topicId === topic.id) {
      this.undefer(existing); // the image's state is applied here, whatever was deferred
      if (config) {
        existing.config = config;
        existing.log.updateConfig(logConfigOf(config));
      }
      if (existing.applyState(p)) this.noteNewLeadership(existing);
      return existing;
    }
    if (existing) this.dropPartition(key, true);
    return this.openPartition(topic, p, config ?? effectiveTopicConfig(topic.configs, this.config));
  }

  /** A local replica the image no longer places here: deleted when the controller says why, else closed. */
  private closeUnwanted(key: string, p: Partition): void {
    this.opts.keepAlive?.();
    const why = this.whyRemove(p.topic, p.topicId);
    if (!why) this.logger.warn(`closing ${key} without deleting its data: the cluster metadata (epoch ${this.image.epoch}) does not know topic id ${p.topicId}`);
    this.dropPartition(key, why !== null);
  }

  private requestFullMetadata(): void {
    if (this.fullImageRequested) return;
    this.fullImageRequested = true;
    void this.controller
      .metadata()
      .then(
        (image) => this.applyMetadata(image),
        (err) => this.logger.warn(`metadata image not available: ${(err as Error).message}`),
      )
      .finally(() => (this.fullImageRequested = false));
  }

  /**
   * Makes this broker's image as current as the controller's (a handler that changed metadata answers only then):
   * the controller answers with its epoch after sending the deltas up to it, so normally nothing else moves; the
   * whole image only if we are still behind (a delta was lost with a connection).
   */
  async syncMetadata(): Promise<void> {
    const epoch = await this.controller.metadataEpoch();
    if (this.image.epoch < epoch) this.applyMetadata(await this.controller.metadata());
  }

  /** Every followed partition among `partitions` fetches from its current leader; leaders and offline partitions fetch nothing. */
  private updateFetchers(partitions: Iterable<Partition>): void {
    for (const p of partitions) {
      this.opts.keepAlive?.();
      const leader = p.state.leader;
      const follows = !p.isLeader && leader >= 0 && this.image.brokers.some((b) => b.id === leader && !b.fenced);
      for (const [id, f] of this.fetchers) if (id !== leader || !follows) f.remove(p);
      if (!follows) continue;
      let fetcher = this.fetchers.get(leader);
      if (!fetcher) {
        fetcher = new LeaderFetcher(this, leader);
        this.fetchers.set(leader, fetcher);
      }
      if (!fetcher.has(p)) fetcher.add(p);
    }
    for (const [id, f] of this.fetchers) {
      if (f.size === 0) {
        f.stop();
        this.fetchers.delete(id);
      }
    }
  }

  /**
   * How long a fetch of follower `replicaId` may wait at most, or undefined for as long as it asks: it has not yet
   * fetched a partition this broker newly leads. Its long poll would otherwise hold that partition back for up to
   * replica.fetch.wait.max.ms, and acks=all writes to the new leader wait for exactly that follower. Partitions in use
   * (see noteNewLeadership) cap the wait at IN_USE_LEADERSHIP_FETCH_WAIT_MS: the follower applies the same delta
   * within a millisecond or two, and its next fetch names them; idle ones, taken by the thousand in slices, at
   * NEW_LEADER_FETCH_WAIT_MS. Partitions are forgotten once each live follower fetched them (or after
   * IN_USE_LEADERSHIP_WINDOW_MS and NEW_LEADERSHIP_WINDOW_MS: a follower that does not come).
   */
  followerFetchWaitCap(replicaId: number): number | undefined {
    const now = this.now();
    if (awaits(this.newLeadershipsInUse, replicaId, IN_USE_LEADERSHIP_WINDOW_MS, now)) return IN_USE_LEADERSHIP_FETCH_WAIT_MS;
    if (awaits(this.newLeaderships, replicaId, NEW_LEADERSHIP_WINDOW_MS, now)) return NEW_LEADER_FETCH_WAIT_MS;
    return undefined;
  }

  /**
   * `p` is newly led here: its live followers are awaited (followerFetchWaitCap). In use: it took data within
   * ACTIVE_REPLICA_MS or has waiters, as for mayDefer; a handful after a failover, usually the only ones written to.
   */
  private noteNewLeadership(p: Partition): void {
    const now = this.now();
    const byFollower = inUse(p, now) ? this.newLeadershipsInUse : this.newLeaderships;
    for (const r of p.state.replicas) {
      if (r === this.nodeId || !this.image.brokers.some((b) => b.id === r && !b.fenced)) continue;
      let pending = byFollower.get(r);
      if (!pending) byFollower.set(r, (pending = new Map()));
      pending.set(p, now);
    }
    this.leadershipsTaken++;
  }

  /**
   * Calls `listener` after each metadata change that gave this broker new leaderships (`inUse`: see
   * tellLeadershipListeners); returns the unsubscribe.
   */
  onNewLeaderships(listener: (inUse: boolean) => void): () => void {
    this.leadershipListeners.add(listener);
    return () => this.leadershipListeners.delete(listener);
  }

  /** Catch up with the controller (a fetcher learnt that leadership moved). */
  requestMetadataRefresh(): void {
    // Coalesced: many partitions asking at once (a leader move, a burst of ISR changes) cost one sync in flight
    // and at most one more after it.
    if (this.metadataRefresh !== 'idle') {
      this.metadataRefresh = 'again';
      return;
    }
    this.metadataRefresh = 'running';
    void this.syncMetadata()
      .catch((err: Error) => this.logger.warn(`metadata refresh failed: ${err.message}`))
      .finally(() => {
        const again = this.metadataRefresh === 'again';
        this.metadataRefresh = 'idle';
        if (again) this.requestMetadataRefresh();
      });
  }

  private metadataRefresh: 'idle' | 'running' | 'again' = 'idle';

  private requestIsrChange(p: Partition, isr: number[]): void {
    if (this.pendingIsrChanges.has(p.key)) return;
    // Kafka's isReplicaIsrEligible: a fenced broker does not rejoin the ISR. The last fetch of a broker that is
    // stopping can arrive after the controller removed it; the next fetch after it registers again will do.
    // A rejoin skipped here, or refused below, is tried again soon rather than at the next periodic check (half of
    // replica.lag.time.max.ms): an idle partition's fetches name it no more, so nothing else would ask again.
    const fenced = (id: number) => this.image.brokers.find((b) => b.id === id)?.fenced !== false;
    if (isr.some((r) => !p.state.isr.includes(r) && fenced(r))) return this.scheduleIsrRecheck(p);
    this.pendingIsrChanges.add(p.key);
    const epoch = p.leaderEpoch;
    this.logger.info(`${p.key}: asking controller for ISR [${isr.join(',')}] (was [${p.state.isr.join(',')}])`);
    this.controller
      .alterIsr(p.topic, p.index, epoch, isr)
      .then(
        () => this.requestMetadataRefresh(),
        (err) => {
          this.logger.warn(`${p.key}: ISR change refused: ${(err as Error).message}`);
          this.scheduleIsrRecheck(p);
        },
      )
      .finally(() => this.pendingIsrChanges.delete(p.key));
  }

  /**
   * Checks `p`'s ISR again ISR_RECHECK_MS from now, by the periodic check's own rules (Partition.checkIsr: a follower
   * rejoins only while it was caught up within replica.lag.time.max.ms, so a follower that stays fenced or away stops
   * being retried once that has passed). One timer for every partition waiting.
   */
  private scheduleIsrRecheck(p: Partition): void {
    this.isrRecheck.add(p);
    if (this.isrRecheckTimer) return;
    this.isrRecheckTimer = setTimeout(() => {
      this.isrRecheckTimer = undefined;
      const lagMs = num(this.config, 'replica.lag.time.max.ms');
      const waiting = [...this.isrRecheck];
      this.isrRecheck.clear();
      for (const q of waiting) if (this.partitions.get(q.key) === q && !q.metadataDeferred) q.checkIsr(lagMs);
    }, ISR_RECHECK_MS);
    this.isrRecheckTimer.unref();
  }

  /**
   * Opens a local replica's log. A log that cannot be opened (a file-system error: EMFILE, EACCES, EIO...) leaves
   * the replica offline here (see offlineReplicas) instead of failing the whole metadata change.
   */
  private openPartition(topic: TopicState, p: PartitionState, config: Record<string, string>): Partition | undefined {
    const key = `${topic.name}-${p.partition}`;
    let partition: Partition;
    try {
      partition = this.openPartitionLog(topic, p, config);
    } catch (err) {
      if (typeof (err as NodeJS.ErrnoException).code !== 'string') throw err;
      this.replicaOffline(key, topic.name, p, err);
      return undefined;
    }
    if (this.offlineReplicas.delete(key)) this.logger.info(`${key}: log opened: the replica is back online`);
    return partition;
  }

  private replicaOffline(key: string, topic: string, state: PartitionState, err: unknown): void {
    const reason = describeStorageError(err);
    const known = this.offlineReplicas.get(key);
    if (known?.reason !== reason) {
      this.logger.warn(
        `${key}: cannot open its log: ${reason}; the replica is offline on this broker (clients get KAFKA_STORAGE_ERROR, ` +
          'leadership moves to another in-sync replica); opening is retried at every metadata change',
      );
    }
    // Reported while the image counts on this replica (leader, or in the ISR with others), once per partition epoch:
    // when the controller leaves it as it is (the last in-sync leader keeps leading), asking again changes nothing.
    const countedOn = state.leader === this.nodeId || (state.isr.includes(this.nodeId) && state.isr.length > 1);
    const report = countedOn && known?.reportedAtEpoch !== state.partitionEpoch;
    this.offlineReplicas.set(key, { topic, partition: state.partition, reason, reportedAtEpoch: report ? state.partitionEpoch : (known?.reportedAtEpoch ?? -1) });
    if (report) {
      if (this.offlineToReport.size === 0) setImmediate(() => this.reportOfflineReplicas());
      this.offlineToReport.add(key);
    }
    this.offlineRetryTimer ??= setInterval(() => this.retryOfflineOnTimer(), OFFLINE_RETRY_MS).unref();
  }

  private retryOfflineOnTimer(): void {
    const opened = this.retryOfflineReplicas(new Set());
    if (opened.length > 0) this.updateFetchers(opened);
    if (this.offlineReplicas.size === 0) {
      clearInterval(this.offlineRetryTimer);
      this.offlineRetryTimer = undefined;
    }
  }

  /** Tells the controller about this tick's offline replicas, in one call. */
  private reportOfflineReplicas(): void {
    const partitions = [...this.offlineToReport].flatMap((key) => {
      const r = this.offlineReplicas.get(key);
      return r ? [{ topic: r.topic, partition: r.partition }] : [];
    });
    this.offlineToReport.clear();
    if (partitions.length === 0) return;
    this.controller.replicasOffline(this.nodeId, partitions).then(
      () => this.requestMetadataRefresh(),
      // Told again when a metadata change finds them still offline and still counted on.
      (err) => this.logger.warn(`${partitions.length} offline replica(s) not reported to the controller: ${(err as Error).message}`),
    );
  }

  /**
   * Tries again to open the offline replicas of topics a delta did not name (those it named were just tried), and
   * forgets those no longer placed here. Returns the replicas opened.
   */
  private retryOfflineReplicas(triedTopics: Set<string>): Partition[] {
    const opened: Partition[] = [];
    for (const [key, { topic: name, partition }] of [...this.offlineReplicas]) {
      if (triedTopics.has(name)) continue;
      const topic = this.topicsByName.get(name);
      const state = topic?.partitions[partition];
      if (!topic || !state || !state.replicas.includes(this.nodeId) || this.partitions.has(key)) {
        this.offlineReplicas.delete(key);
        continue;
      }
      const p = this.openPartition(topic, state, effectiveTopicConfig(topic.configs, this.config));
      if (p) opened.push(p);
    }
    return opened;
  }

  /** Why this broker has no replica `topic`-`index` to serve: offline here, placed elsewhere, or unknown. */
  missingReplicaError(topic: string, index: number): number {
    if (this.offlineReplicas.has(`${topic}-${index}`)) return ErrorCode.KAFKA_STORAGE_ERROR;
    return this.topicsByName.get(topic)?.partitions.some((p) => p.partition === index) ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  }

  private openPartitionLog(topic: TopicState, p: PartitionState, config: Record<string, string>): Partition {
    const dir = join(this.opts.logDir, `${topic.name}-${p.partition}`);
    const key = `${topic.name}-${p.partition}`;
    const log = PartitionLog.open(dir, logConfigOf(config), {
      logger: tagged(this.logger, key),
      onWriteError: (err: Error) => {
        if (storageErrorCode(err) !== null) this.storageFaults.failed(key, dir, err, this.partitions.get(key)?.isLeader ? 'leader' : 'follower', log.logEndOffset);
        else this.logger.warn(`${key}: checkpoint not written: ${err.message}`);
      },
      now: this.now,
      decodeTimestamps: batchTimestamps,
      producerIdExpirationMs: num(this.config, 'producer.id.expiration.ms'),
      onCleanerStep: this.opts.onCleanerStep,
      topicId: topic.id,
      // The directory's marker vouches for a log only as the last process closed it, not once this one reopens it.
      cleanShutdown: this.cleanAtStart && !this.openedLogs.has(key),
    } as Parameters<typeof PartitionLog.open>[2]);
    this.openedLogs.add(key);
    writePartitionTopicId(dir, topic.id, log.createdDir);
    const partition = new Partition(topic.name, topic.id, p.partition, log, this.nodeId, p, config, (part, isr) => this.requestIsrChange(part, isr), this.storageFaults);
    partition.onAnyData = (part) => this.dataJournal.record(part);
    partition.onAppend = (part) => this.busyReplicas.add(part);
    partition.applyState(p);
    this.partitions.set(partition.key, partition);
    let ofTopic = this.replicasByTopic.get(topic.name);
    if (!ofTopic) this.replicasByTopic.set(topic.name, (ofTopic = []));
    ofTopic[p.partition] = partition;
    return partition;
  }

  private dropPartition(key: string, deleteData: boolean): void {
    const p = this.partitions.get(key);
    if (!p) return;
    this.partitions.delete(key);
    const ofTopic = this.replicasByTopic.get(p.topic)!;
    ofTopic[p.index] = undefined;
    if (ofTopic.every((q) => q === undefined)) this.replicasByTopic.delete(p.topic);
    this.undefer(p);
    p.dropped = true;
    for (const f of this.fetchers.values()) f.remove(p);
    this.storageFaults.forget(key);
    p.notifyData();
    if (deleteData) p.log.delete();
    else p.log.close();
  }

  /**
   * Directories of topics deleted while this broker was down (or moved away from it meanwhile). Only what the
   * controller recorded is deleted: a directory whose topic id is a tombstone of the image, whose topic of that name
   * now has another id (deleted and created again), or whose topic no longer places a replica here. A directory the
   * image says nothing about (no id recorded, or an id the image does not know) is left alone: missing or stale
   * metadata must never cost data.
   */
  private removeOrphanDirs(wanted: Set<string>): void {
    if (this.image.epoch <= 0) return;
    for (const entry of readdirSync(this.opts.logDir, { withFileTypes: true })) {
      const m = /^(.+)-(\d+)$/.exec(entry.name);
      if (!entry.isDirectory() || !m || wanted.has(entry.name)) continue;
      const dir = join(this.opts.logDir, entry.name);
      const id = readPartitionTopicId(dir);
      const why = id === null ? null : this.whyRemove(m[1], id);
      if (why) {
        this.logger.info(`removing ${entry.name}: ${why}`);
        rmSync(dir, { recursive: true, force: true });
      } else if (!this.warnedUnknownDirs.has(entry.name)) {
        this.warnedUnknownDirs.add(entry.name);
        this.logger.warn(`leaving ${dir} alone: the cluster metadata does not know it (${id === null ? 'no topic id recorded' : `topic id ${id}`})`);
      }
    }
  }

  /** Why the controller's image says a replica of `topic` (this topic id) no longer belongs here, or null if it does not say. */
  private whyRemove(topic: string, id: string): string | null {
    if ((this.image.deletedTopics ?? []).some((t) => t.id === id)) return 'its topic was deleted';
    const live = this.topicsByName.get(topic);
    if (live && live.id !== id) return `topic ${topic} was deleted and created again (id ${live.id}, this data ${id})`;
    if (live) return 'the partition no longer has a replica on this broker';
    return null;
  }

  /**
   * The replicas that took data within ACTIVE_REPLICA_MS (`topic-partition` keys, the most recent BUSY_REPORT_MAX),
   * when that list changed since the last call, else undefined: the broker sends it with its heartbeats, and the
   * controller's fences put these partitions in their first delta (Controller.prepareFence). Idle: nothing to do.
   */
  busyPartitionsReport(): string[] | undefined {
    if (this.busyReplicas.size === 0 && this.lastBusyReport === '') return undefined;
    const now = Date.now();
    for (const p of this.busyReplicas) if (p.dropped || now - p.lastAppendMs > ACTIVE_REPLICA_MS) this.busyReplicas.delete(p);
    const keys = [...this.busyReplicas]
      .sort((a, b) => b.lastAppendMs - a.lastAppendMs)
      .slice(0, BUSY_REPORT_MAX)
      .map((p) => p.key)
      .sort();
    const report = keys.join('\n');
    if (report === this.lastBusyReport) return undefined;
    this.lastBusyReport = report;
    return keys;
  }

  /** The next busyPartitionsReport() reports the list even if unchanged (a new supervisor connected). */
  resendBusyPartitions(): void {
    this.lastBusyReport = '';
  }

  /**
   * The local replica of `topic`-`index`, in the role the image gives it: a deferred record of it is applied first
   * (handlers, coordinators and the replica fetcher all come here, so none acts on a role the controller moved past).
   */
  partition(topic: string, index: number): Partition | undefined {
    const p = this.replicasByTopic.get(topic)?.[index];
    if (!p?.metadataDeferred) return p;
    // The coordinators are told by the next slice (a deferred record is never of their internal topics).
    const leadershipsBefore = this.leadershipsTaken;
    const placed = this.applyDeferredRecord(p);
    this.tellLeadershipListeners(leadershipsBefore);
    if (this.deferredRun) this.deferredRun.onDemand++;
    return placed;
  }

  /** How many local replicas have a deferred partition record (see applyMetadataDelta). */
  get deferredRecordCount(): number {
    return this.deferredCount;
  }

  /** The name of the topic with this id (Fetch v13+ names topics by id), from a map kept per metadata image. */
  topicNameById(id: string): string | undefined {
    let name = this.topicNamesImage === this.image ? this.topicNames.get(id) : undefined;
    if (name === undefined) {
      // A new image, or one changed in place: rebuild (an unknown id costs what the linear search used to).
      this.topicNamesImage = this.image;
      this.topicNames = new Map(this.image.topics.map((t) => [t.id, t.name]));
      name = this.topicNames.get(id);
    }
    return name;
  }

  private topicNamesImage: MetadataImage | undefined;
  private topicNames = new Map<string, string>();

  topicState(name: string): TopicState | undefined {
    return this.topicsByName.get(name);
  }

  topicConfig(name: string): Record<string, string> | undefined {
    const t = this.topicState(name);
    return t ? effectiveTopicConfig(t.configs, this.config) : undefined;
  }

  // ---- retention -------------------------------------------------------------------------------------------

  /** Forgets idempotent producers idle for longer than producer.id.expiration.ms, in every partition log. */
  removeExpiredProducers(): void {
    for (const p of this.partitions.values()) {
      const removed = p.log.removeExpiredProducers();
      if (removed > 0) this.logger.info(`${p.key}: ${removed} idle producer id(s) expired`);
    }
  }

  applyRetention(): void {
    for (const p of this.partitions.values()) {
      try {
        // segment.ms rolls compacted logs too: only closed segments are cleaned.
        p.log.maybeRoll();
        // Compacted-only topics (such as __consumer_offsets) are never deleted by time or size.
        if (!p.config['cleanup.policy'].split(',').includes('delete')) continue;
        const before = p.logStartOffset;
        const result = p.log.applyRetention();
        if (result.deletedSegments > 0) {
          this.logger.info(`retention deleted ${result.deletedSegments} segment(s) of ${p.key}; log start ${before} -> ${result.newLogStartOffset}`);
        }
        // A moved log start is news, and only then: fetch sessions answer it (a leader's) or send it (a follower's).
        if (p.logStartOffset !== before) p.notifyData();
      } catch (err) {
        // A segment roll on a full disk: the same one warning per partition as a failed append.
        if (storageErrorCode(err) !== null) this.storageFaults.failed(p.key, p.log.dir, err, p.isLeader ? 'leader' : 'follower', p.logEndOffset);
        else this.logger.error(`retention of ${p.key} failed: ${(err as Error).message}`);
      }
    }
  }
}

/** How long a new leadership counts as new for that (a follower that does not come by then is not waited for). */
const NEW_LEADERSHIP_WINDOW_MS = 3000;

/** In use: the replica took data within ACTIVE_REPLICA_MS or has waiters (acks=all produces, long polls). */
function inUse(p: Partition, now: number): boolean {
  return now - p.lastAppendMs <= ACTIVE_REPLICA_MS || p.hasWaiters;
}

/**
 * Whether follower `replicaId` has yet to fetch one of the partitions `byFollower` notes for it, taken within
 * `windowMs`. Called on every fetch of that follower: entries it fetched (or that expired) go as they are met, and
 * the first one still awaited answers, so each call costs about one entry.
 */
function awaits(byFollower: Map<number, Map<Partition, number>>, replicaId: number, windowMs: number, now: number): boolean {
  const pending = byFollower.get(replicaId);
  if (!pending) return false;
  for (const [p, since] of pending) {
    if (!p.dropped && now - since <= windowMs && p.awaitsFirstFetchFrom(replicaId)) return true;
    pending.delete(p);
  }
  byFollower.delete(replicaId);
  return false;
}
/** An ISR change refused by the controller, or a rejoin of a follower not yet unfenced, is tried again this much later. */
const ISR_RECHECK_MS = 1000;
/** See followerFetchWaitCap: a follower fetch that has not named a partition in use yet waits this long at most... */
const IN_USE_LEADERSHIP_FETCH_WAIT_MS = 1;
/** ...for this long after the leadership came (a follower backing off that partition would otherwise poll fast). */
const IN_USE_LEADERSHIP_WINDOW_MS = 500;

/** A replica that took data this recently counts as busy: its partition records are applied at once (mayDefer). */
const ACTIVE_REPLICA_MS = 30_000;

/** At most this many busy partitions are reported (the most recent): a fence's first delta must stay small. */
const BUSY_REPORT_MAX = 200;

/** How long a slice applies deferred partition records: short enough that a request waiting behind it barely notices. */
const DEFERRED_SLICE_MS = 1;

interface DeferredRun {
  /** The delta that deferred the first record of the run, and when it arrived (performance.now()). */
  firstEpoch: number;
  arrivedMs: number;
  records: number;
  slices: number;
  bySlices: number;
  onDemand: number;
  workMs: number;
}

/** Whether a broker became live (registered, or unfenced) or moved in `next`: followers may fetch from it now. */
function brokerCameBack(before: BrokerInfo[], next: BrokerInfo[]): boolean {
  return next.some((b) => {
    if (b.fenced) return false;
    const old = before.find((x) => x.id === b.id);
    return !old || old.fenced || old.port !== b.port || old.internalPort !== b.internalPort || old.host !== b.host;
  });
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/** How often offline replicas are tried again besides every metadata change. */
const OFFLINE_RETRY_MS = 5000;

export function logConfigOf(config: Record<string, string>): LogConfig {
  return {
    segmentBytes: num(config, 'segment.bytes'),
    segmentMs: num(config, 'segment.ms'),
    retentionMs: num(config, 'retention.ms'),
    retentionBytes: num(config, 'retention.bytes'),
    indexIntervalBytes: num(config, 'index.interval.bytes'),
    fileDeleteDelayMs: 0,
  };
}

/**
 * One clean-shutdown marker for the whole log directory (Kafka's .kafka_cleanshutdown), written by stop() once every
 * log is closed: a restart after a clean stop then skips the full scan of every active segment, and the stop does not
 * create a marker file per partition (thousands of file creations at 3,000 partitions).
 */
export const LOG_DIR_CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';

/** Whether the last stop was clean; the marker is removed (durably) so that a crash from here on is not. */
function takeCleanShutdownMarker(logDir: string): boolean {
  const marker = join(logDir, LOG_DIR_CLEAN_SHUTDOWN_FILE);
  if (!existsSync(marker)) return false;
  unlinkSync(marker);
  fsyncDirectory(logDir);
  return true;
}
