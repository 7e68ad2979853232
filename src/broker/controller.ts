// The controller: the single writer of cluster metadata (the role ZooKeeper plays in the seed tutorial and
// the KRaft quorum plays in Kafka today). It validates and applies topic changes, assigns replicas, elects
// leaders from the ISR with leader epochs, and persists the image. A single broker embeds one; the
// mini-cluster supervisor holds one and serves every broker process.

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ErrorCode, KafkaError } from '../protocol/errorCode';
import { brokerConfigProblem, collisionKey, normalizeTopicConfigValue, TOPIC_CONFIG_BY_BROKER_SYNONYM, topicNameProblem, validateTopicConfig } from './configs';
import { Logger, nopLogger } from './logger';
import { readMetadata, writeFileDurably } from './metadataStore';
import { entityKey, entityProblem, QuotaEntityPart, quotaOpProblem } from './quotas';
import type { ScramCredential, ScramMechanismName, UserCredentials } from './security/sasl';
import { AclBinding, aclBindingProblem, AclFilter, aclFilterMatches, aclFilterProblem, sameBinding } from './security/authorizer';
import { assignReplicas, BrokerInfo, copyPartitionState, liveBrokers, MAX_DELETED_TOPICS, MAX_PARTITIONS_PER_REQUEST, MetadataDelta, MetadataImage, OFFSETS_TOPIC, PartitionChange, PartitionState, TopicState } from './metadata';

export interface CreateTopicSpec {
  name: string;
  /** -1 = broker default. */
  numPartitions: number;
  /** -1 = broker default. */
  replicationFactor: number;
  /** Explicit assignment: partition index → broker ids. */
  assignments?: Array<{ partitionIndex: number; brokerIds: number[] }>;
  configs?: Record<string, string | null>;
  internal?: boolean;
}

export interface ControllerDefaults {
  numPartitions: number;
  defaultReplicationFactor: number;
  /** The broker-level unclean.leader.election.enable, for topics without their own setting. */
  uncleanLeaderElection: boolean;
}

export interface ControllerOptions {
  /** File the image is persisted to; undefined keeps it in memory only. */
  metadataFile?: string;
  clusterId?: string;
  defaults?: Partial<ControllerDefaults>;
  logger?: Logger;
}

const PRODUCER_ID_BLOCK = 1000;
/** Partition records per delta of a fence after the busy ones (see prepareFence): a few ms of a broker's time each. */
export const FENCE_RECORDS_PER_DELTA = 500;
/** How long after a fence the image is written (see fenceBroker). */
const FENCE_WRITE_DELAY_MS = 100;

/** A fence computed ahead (Controller.prepareFence): valid while the image stays at `imageEpoch`. */
export interface PreparedFence {
  brokerId: number;
  imageEpoch: number;
  /** The deltas to publish, in order, with copies of the new partition states (never the image's own objects). */
  deltas: MetadataDelta[];
  /** How many partition records they hold, and how many of those are leader moves. */
  records: number;
  moved: number;
}

/** One topic's outcome in createTopics(): the topic as created, or why not. */
export type CreateTopicResult = { topic: TopicState; error?: undefined } | { topic?: undefined; error: { code: number; message: string } };

export class Controller extends EventEmitter {
  private image: MetadataImage;
  private readonly logger: Logger;
  /** While the cluster starts, brokers register one by one: electing then would pile every leader on the first. */
  private electionsHeld = false;
  private readonly defaults: ControllerDefaults;
  /** The end-of-tick flush (publish the delta, write the file), when changes are waiting for it. */
  private pendingFlush: NodeJS.Immediate | undefined;
  private writtenEpoch = -1;
  private readonly durableWaiters: Array<() => void> = [];
  /** Topics by name and by collision key (Kafka's '.'/'_' rule): lookups per request must not scan every topic. */
  private readonly topicsByName = new Map<string, TopicState>();
  private readonly topicsByCollisionKey = new Map<string, string>();
  /** The epoch of the last delta published ('change'); what changed since then: */
  private publishedEpoch: number;
  private readonly dirtyTopics = new Set<string>();
  /** Partitions changed in topics not carried whole (leader, ISR, replicas): sent as one record each. */
  private readonly dirtyPartitions = new Map<string, Set<number>>();
  private readonly removedTopics = new Set<string>();
  private dirtyBrokers = false;
  private dirtyAcls = false;
  /** Dynamic broker configs, SCRAM credentials, client quotas: small cluster-wide records, sent whole when changed. */
  private dirtyBrokerConfigs = false;
  private dirtyScram = false;
  private dirtyQuotas = false;
  private dirtyTombstones = false;
  private readonly reasons: string[] = [];

  constructor(private readonly opts: ControllerOptions = {}) {
    super();
    this.logger = opts.logger ?? nopLogger;
    this.defaults = { numPartitions: 1, defaultReplicationFactor: 1, uncleanLeaderElection: false, ...opts.defaults };
    this.image = this.load() ?? {
      clusterId: opts.clusterId ?? randomBytes(16).toString('base64url'),
      controllerId: -1,
      epoch: 0,
      brokers: [],
      topics: [],
      nextProducerId: 1000,
      deletedTopics: [],
    };
    this.writtenEpoch = this.opts.metadataFile && this.image.epoch > 0 ? this.image.epoch : -1;
    this.publishedEpoch = this.image.epoch;
    for (const t of this.image.topics) this.indexTopic(t);
  }

  private indexTopic(t: TopicState): void {
    this.topicsByName.set(t.name, t);
    this.topicsByCollisionKey.set(collisionKey(t.name), t.name);
  }

  /** The current epoch, once every change made so far is published (brokers get the deltas before this answer). */
  metadataEpoch(): number {
    this.publish();
    return this.image.epoch;
  }

  /** The brokers and the controller id as they are now (a copy). */
  brokersImage(): Pick<MetadataImage, 'brokers' | 'controllerId'> {
    return { brokers: this.image.brokers.map((b) => ({ ...b })), controllerId: this.image.controllerId };
  }

  isFenced(id: number): boolean {
    return this.image.brokers.find((b) => b.id === id)?.fenced ?? true;
  }

  /** Marks a topic as changed (configs, partition count, created): the next delta carries it whole. */
  private touch(topic: TopicState): void {
    this.dirtyTopics.add(topic.name);
    this.dirtyPartitions.delete(topic.name);
  }

  /** Marks one partition as changed (leader, ISR, replicas): the next delta carries a record of it alone. */
  private touchPartition(topic: TopicState, p: PartitionState): void {
    if (this.dirtyTopics.has(topic.name)) return;
    let set = this.dirtyPartitions.get(topic.name);
    if (!set) this.dirtyPartitions.set(topic.name, (set = new Set()));
    set.add(p.partition);
  }

  /** A deep copy of the current image (safe to hand to another component or process). */
  snapshot(): MetadataImage {
    return structuredClone(this.image);
  }

  private load(): MetadataImage | undefined {
    const file = this.opts.metadataFile;
    if (!file) return undefined;
    const image = readMetadata(file, this.logger);
    // Nobody is alive until it registers again.
    for (const b of image?.brokers ?? []) b.fenced = true;
    return image;
  }

  /**
   * Every change bumps the epoch; at the end of the tick the changes are published as one delta (the 'change'
   * event: a MetadataDelta, which the supervisor pushes to the brokers) and the file is written (fsync of file and
   * directory) once: the changes of one request, or of several requests that arrived together (a CreateTopics of
   * 100 topics), cost one delta and one durable write. Callers that acknowledge a change to a client wait for
   * whenDurable() first, by which time the delta is out.
   */
  private commit(reason: string): void {
    this.image.epoch++;
    this.reasons.push(reason);
    if (!this.pendingFlush) this.pendingFlush = setImmediate(() => this.flush());
    this.logger.debug(`metadata epoch ${this.image.epoch}: ${reason}`);
  }

  /** Emits the changes made since the last delta as one delta ('change'). */
  private publish(): void {
    if (this.publishedEpoch === this.image.epoch) return;
    const removedTopics = [...this.removedTopics];
    const topics: TopicState[] = [];
    for (const name of this.dirtyTopics) {
      const t = this.topicsByName.get(name);
      if (t) topics.push(structuredClone(t));
    }
    // New topics are in creation order already; a name deleted and created again went to the end of the image too,
    // so with deletions the receiver appends in the image's order.
    if (this.removedTopics.size > 0) {
      const position = new Map(this.image.topics.map((t, i) => [t.name, i]));
      topics.sort((a, b) => position.get(a.name)! - position.get(b.name)!);
    }
    const partitions: PartitionChange[] = [];
    for (const [name, indexes] of this.dirtyPartitions) {
      const t = this.topicsByName.get(name);
      if (!t) continue;
      for (const i of indexes) partitions.push({ topic: name, topicId: t.id, state: copyPartitionState(t.partitions[i]) });
    }
    const delta: MetadataDelta = {
      baseEpoch: this.publishedEpoch,
      epoch: this.image.epoch,
      clusterId: this.image.clusterId,
      controllerId: this.image.controllerId,
      nextProducerId: this.image.nextProducerId,
      topics,
      removedTopics,
    };
    if (partitions.length > 0) delta.partitions = partitions;
    if (this.dirtyBrokers) delta.brokers = structuredClone(this.image.brokers);
    if (this.dirtyTombstones) delta.deletedTopics = structuredClone(this.image.deletedTopics ?? []);
    if (this.dirtyAcls) delta.acls = structuredClone(this.image.acls ?? []);
    if (this.dirtyBrokerConfigs) delta.brokerConfigs = structuredClone(this.image.brokerConfigs ?? {});
    if (this.dirtyScram) delta.scramCredentials = structuredClone(this.image.scramCredentials ?? {});
    if (this.dirtyQuotas) delta.clientQuotas = structuredClone(this.image.clientQuotas ?? []);
    const reasons = this.reasons.splice(0);
    this.dirtyTopics.clear();
    this.dirtyPartitions.clear();
    this.removedTopics.clear();
    this.dirtyBrokers = this.dirtyAcls = this.dirtyTombstones = false;
    this.dirtyBrokerConfigs = this.dirtyScram = this.dirtyQuotas = false;
    this.publishedEpoch = this.image.epoch;
    this.emit('change', delta, reasons);
  }

  /** Publishes and writes pending changes now (also called before the process exits). */
  flush(): void {
    if (this.pendingFlush) clearImmediate(this.pendingFlush);
    this.pendingFlush = undefined;
    this.publish();
    const file = this.opts.metadataFile;
    if (!file || this.writtenEpoch === this.image.epoch) return this.settleDurable();
    writeFileDurably(file, JSON.stringify(this.image));
    this.writtenEpoch = this.image.epoch;
    this.settleDurable();
  }

  /**
   * Makes the next epoch higher than `epoch`: a broker that outlived the previous controller may have applied an
   * image that never reached the file, and it ignores images whose epoch is not newer than what it has. Deltas
   * published from then on start above `epoch`, so such a broker takes a whole image instead of applying a delta
   * to an image this controller never had.
   */
  advanceEpochPast(epoch: number): void {
    if (this.image.epoch >= epoch) return;
    this.publish();
    this.image.epoch = epoch + 1;
    this.publishedEpoch = this.image.epoch;
  }

  /** Resolves once every change made so far is published and on disk. */
  whenDurable(): Promise<void> {
    if (!this.pendingFlush) return Promise.resolve();
    return new Promise((resolve) => this.durableWaiters.push(resolve));
  }

  private settleDurable(): void {
    const waiters = this.durableWaiters.splice(0);
    for (const w of waiters) w();
  }

  // ---- brokers -------------------------------------------------------------------------------------------

  /** A broker (re)joins: it is unfenced, and partitions it can lead come back online. */
  registerBroker(info: Omit<BrokerInfo, 'fenced'>): void {
    const existing = this.image.brokers.find((b) => b.id === info.id);
    if (existing) Object.assign(existing, info, { fenced: false });
    else this.image.brokers.push({ ...info, fenced: false });
    this.image.brokers.sort((a, b) => a.id - b.id);
    this.dirtyBrokers = true;
    this.pickControllerId();
    if (!this.electionsHeld) this.electOfflinePartitions();
    this.commit(`broker ${info.id} registered at ${info.host}:${info.port}`);
  }

  /** Holds elections while the brokers of a restarting cluster register; releasing elects what is still offline. */
  holdElections(hold: boolean): void {
    this.electionsHeld = hold;
    if (!hold) {
      this.electOfflinePartitions();
      this.commit('startup complete');
    }
  }

  /**
   * What fencing broker `id` publishes, computed now without changing anything: every partition it led gets a new
   * leader and every ISR it was in loses it (KRaft's fencing writes one PartitionChangeRecord per partition likewise).
   * The records go out as consecutive deltas: first the fence itself with the records of the `busy` partitions
   * (`topic-partition` keys of the partitions clients use: the brokers report them), then the other leader moves, then
   * the other ISR shrinks, FENCE_RECORDS_PER_DELTA at a time: a broker applies each delta as a whole before it reads
   * the next request, and must not make the one partition in use wait behind thousands of idle ones.
   * The supervisor prepares the fences of live brokers while the cluster is quiet, encoded for the wire, so that a
   * death costs the brokers' wait no computing here: see fenceBroker. Undefined when changes are waiting to be
   * published (the deltas would not follow the last one) or the broker is not live.
   */
  prepareFence(id: number, busy: ReadonlySet<string> = new Set()): PreparedFence | undefined {
    const broker = this.image.brokers.find((b) => b.id === id);
    if (!broker || broker.fenced || this.publishedEpoch !== this.image.epoch) return undefined;
    const live = new Set(this.image.brokers.filter((b) => !b.fenced && b.id !== id).map((b) => b.id));
    const isLive = (r: number) => live.has(r);
    const first: PartitionChange[] = [];
    const moves: PartitionChange[] = [];
    let moved = 0;
    const shrinks: PartitionChange[] = [];
    for (const topic of this.image.topics) {
      for (const p of topic.partitions) {
        // (The leader and the ISR are among the replicas: no need to look at the replicas.)
        let next: PartitionState;
        let list: PartitionChange[];
        if (p.leader === id) {
          const { leader, isr } = this.election(topic, p, isLive);
          next = { ...copyPartitionState(p), leader, isr, leaderEpoch: p.leaderEpoch + 1, partitionEpoch: p.partitionEpoch + 1 };
          list = moves;
          moved++;
        } else if (p.isr.length > 1 && p.isr.includes(id)) {
          next = { ...copyPartitionState(p), isr: p.isr.filter((r) => r !== id), partitionEpoch: p.partitionEpoch + 1 };
          list = shrinks;
        } else continue;
        (busy.has(`${topic.name}-${p.partition}`) ? first : list).push({ topic: topic.name, topicId: topic.id, state: next });
      }
    }
    const rest = [...moves, ...shrinks];
    const chunks = [first];
    for (let i = 0; i < rest.length; i += FENCE_RECORDS_PER_DELTA) chunks.push(rest.slice(i, i + FENCE_RECORDS_PER_DELTA));
    if (chunks.length > 1 && first.length === 0) chunks.shift(); // nothing busy: the fence goes with the first records
    const brokers = this.image.brokers.map((b) => ({ ...b, fenced: b.fenced || b.id === id }));
    const controllerId = controllerIdAmong(brokers, this.image.controllerId);
    const deltas = chunks.map((records, i): MetadataDelta => {
      const delta: MetadataDelta = {
        baseEpoch: this.image.epoch + i,
        epoch: this.image.epoch + i + 1,
        clusterId: this.image.clusterId,
        controllerId,
        nextProducerId: this.image.nextProducerId,
        topics: [],
        removedTopics: [],
      };
      if (i === 0) delta.brokers = brokers;
      if (records.length > 0) delta.partitions = records;
      return delta;
    });
    return { brokerId: id, imageEpoch: this.image.epoch, deltas, moved, records: first.length + rest.length };
  }

  /**
   * A broker is gone (crashed, killed, paused past its session, or stopped): its leaderships move and it leaves every
   * ISR, in the deltas of prepareFence, published at once. `prepared`, when it still matches the image (nothing
   * changed since prepareFence), is those deltas ready-made: the image takes their changes and they go out as they are;
   * else they are computed now, with the `busy` partitions first.
   */
  fenceBroker(id: number, reason = 'fenced', prepared?: PreparedFence, busy?: ReadonlySet<string>): void {
    const broker = this.image.brokers.find((b) => b.id === id);
    if (!broker || broker.fenced) return;
    const started = performance.now();
    this.publish(); // what is pending goes first: the fence is a delta of its own
    const fence = prepared && prepared.brokerId === id && prepared.imageEpoch === this.image.epoch ? prepared : this.prepareFence(id, busy)!;
    const last = fence.deltas[fence.deltas.length - 1];
    const why = `broker ${id} ${reason}: ${fence.moved} leader(s) moved, left ${fence.records - fence.moved} other ISR(s)`;
    this.logger.debug(`metadata epoch ${fence.deltas[0].epoch}..${last.epoch}: ${why}`);
    broker.fenced = true;
    // The image moves one delta at a time, each published as soon as it is in the image: the first (the partitions
    // in use) goes out before the records of thousands of idle ones are applied here (10,000 of them take a few ms).
    fence.deltas.forEach((delta, i) => {
      for (const { topic, state } of delta.partitions ?? []) {
        const p = this.topicsByName.get(topic)!.partitions[state.partition];
        p.leader = state.leader;
        p.isr = state.isr.slice();
        p.leaderEpoch = state.leaderEpoch;
        p.partitionEpoch = state.partitionEpoch;
      }
      this.image.controllerId = delta.controllerId;
      this.image.epoch = delta.epoch;
      this.publishedEpoch = this.image.epoch;
      this.emit('change', delta, i === 0 ? [why] : [`${why} (${i + 1} of ${fence.deltas.length})`]);
    });
    // The file is written a little later: the brokers are taking over right now, and writing the whole image would
    // take CPU from them. Nobody waits for it (a fence is not acknowledged to anyone), and a controller that starts
    // from the file without it fences every broker until it registers again, which ends in the same image.
    setTimeout(() => this.flush(), FENCE_WRITE_DELAY_MS).unref();
    this.logger.debug(`fence of broker ${id} published in ${fence.deltas.length} delta(s) after ${(performance.now() - started).toFixed(1)} ms (${fence === prepared ? 'prepared' : 'computed now'})`);
  }

  /** Clients need a live "controller" id in Metadata: we name the lowest live broker (KRaft does likewise). */
  private pickControllerId(): void {
    this.image.controllerId = controllerIdAmong(this.image.brokers, this.image.controllerId);
  }

  private isLive(id: number): boolean {
    return this.image.brokers.some((b) => b.id === id && !b.fenced);
  }

  /**
   * Who leads `p` after an election: the first live ISR member in replica order, with the ISR cut to the live ones;
   * if none and unclean election is enabled, any live replica (ISR reset to it: data may be lost); else -1 with the
   * ISR left as it was, so the last in-sync replica can take over again when it returns.
   */
  private election(topic: TopicState, p: PartitionState, isLive: (id: number) => boolean): { leader: number; isr: number[] } {
    const candidate = p.replicas.find((r) => p.isr.includes(r) && isLive(r));
    if (candidate !== undefined) return { leader: candidate, isr: p.isr.filter(isLive) };
    const clusterDefault = this.image.brokerConfigs?.['']?.['unclean.leader.election.enable'];
    const unclean = (topic.configs['unclean.leader.election.enable'] ?? clusterDefault ?? String(this.defaults.uncleanLeaderElection)) === 'true';
    const anyLive = unclean ? p.replicas.find(isLive) : undefined;
    if (anyLive !== undefined) {
      this.logger.info(`unclean election of ${anyLive} for ${topic.name}-${p.partition}: data may be lost`);
      return { leader: anyLive, isr: [anyLive] };
    }
    return { leader: -1, isr: p.isr };
  }

  /** Elects a leader for one partition (see election), with new leader and partition epochs. */
  private electLeader(topic: TopicState, p: PartitionState): void {
    const { leader, isr } = this.election(topic, p, (r) => this.isLive(r));
    p.leader = leader;
    p.isr = isr;
    p.leaderEpoch++;
    p.partitionEpoch++;
    this.touchPartition(topic, p);
  }

  private electOfflinePartitions(): void {
    for (const topic of this.image.topics) {
      for (const p of topic.partitions) {
        if (p.leader === -1 || !this.isLive(p.leader)) {
          const before = p.leader;
          const touched = this.dirtyPartitions.get(topic.name)?.has(p.partition) ?? false;
          this.electLeader(topic, p);
          if (p.leader === -1 && before === -1) {
            // nothing changed: undo the epoch bumps so idle partitions do not churn
            p.leaderEpoch--;
            p.partitionEpoch--;
            if (!touched) this.dirtyPartitions.get(topic.name)?.delete(p.partition);
          }
        }
      }
    }
  }

  // ---- topics --------------------------------------------------------------------------------------------

  createTopic(spec: CreateTopicSpec, validateOnly = false): TopicState {
    const problem = topicNameProblem(spec.name);
    if (problem) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
    if (spec.name.startsWith('__') && !spec.internal && spec.name === OFFSETS_TOPIC) {
      throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic ${spec.name} is reserved for internal use`);
    }
    if (this.topicsByName.has(spec.name)) {
      throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${spec.name}' already exists.`);
    }
    const clash = this.topicsByCollisionKey.get(collisionKey(spec.name));
    if (clash !== undefined) {
      throw new KafkaError(
        ErrorCode.INVALID_TOPIC_EXCEPTION,
        `Topic '${spec.name}' collides with existing topic: ${clash}. Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide.`,
      );
    }
    const configs: Record<string, string> = {};
    for (const [k, val] of Object.entries(spec.configs ?? {})) {
      validateTopicConfig(k, val);
      if (val !== null) configs[k] = normalizeTopicConfigValue(k, val);
    }
    const assignment = this.planAssignment(spec);
    const topic: TopicState = {
      name: spec.name,
      id: randomBytes(16).toString('base64url'),
      internal: spec.internal ?? false,
      configs,
      partitions: assignment.map((replicas, partition) => {
        const isr = replicas.filter((r) => this.isLive(r));
        return { partition, replicas, isr, leader: isr[0] ?? -1, leaderEpoch: 0, partitionEpoch: 0, addingReplicas: [], removingReplicas: [] };
      }),
    };
    if (validateOnly) return topic;
    this.image.topics.push(topic);
    this.indexTopic(topic);
    this.touch(topic);
    this.commit(`created topic ${spec.name}`);
    return structuredClone(topic);
  }

  /**
   * CreateTopics of many topics in one call (one message from a broker, one delta and one durable write for all);
   * each topic succeeds or fails on its own, as in Kafka.
   */
  createTopics(specs: CreateTopicSpec[], validateOnly = false): CreateTopicResult[] {
    return specs.map((spec) => {
      try {
        return { topic: this.createTopic(spec, validateOnly) };
      } catch (err) {
        if (!(err instanceof KafkaError)) this.logger.error(`create topic ${spec.name} failed: ${(err as Error).stack}`);
        return { error: { code: err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR, message: (err as Error).message } };
      }
    });
  }

  private planAssignment(spec: CreateTopicSpec): number[][] {
    const live = liveBrokers(this.image).map((b) => b.id);
    if (spec.assignments && spec.assignments.length > 0) {
      if (spec.assignments.length > MAX_PARTITIONS_PER_REQUEST) throw new KafkaError(ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.');
      if (spec.numPartitions !== -1 || spec.replicationFactor !== -1) {
        throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.');
      }
      const sorted = [...spec.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
      sorted.forEach((a, i) => {
        if (a.partitionIndex !== i) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Partitions should be a consecutive 0-based integer sequence');
        this.checkManualAssignment(a.brokerIds, i, sorted[0].brokerIds.length);
      });
      return sorted.map((a) => a.brokerIds);
    }
    const partitions = spec.numPartitions === -1 ? this.defaults.numPartitions : spec.numPartitions;
    const rf = spec.replicationFactor === -1 ? this.defaults.defaultReplicationFactor : spec.replicationFactor;
    if (!Number.isInteger(partitions) || partitions < 1) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions must be larger than 0.');
    if (partitions > MAX_PARTITIONS_PER_REQUEST) throw new KafkaError(ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.');
    if (!Number.isInteger(rf) || rf < 1) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0.');
    if (rf > live.length) {
      throw new KafkaError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${live.length} broker(s) are registered.`,
      );
    }
    return assignReplicas(live, partitions, rf);
  }

  /**
   * Kafka's checks of a manually assigned replica list (validateManualPartitionAssignment): without them a bad
   * CreatePartitions request leaves a partition on a broker that does not exist, offline for good.
   */
  private checkManualAssignment(brokerIds: number[], partition: number, replicationFactor: number): void {
    const invalid = (message: string) => new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, message);
    if (brokerIds.length === 0) throw invalid('The manual partition assignment includes an empty replica list.');
    const seen = new Set<number>();
    const twice = brokerIds.find((b) => seen.size === seen.add(b).size);
    if (twice !== undefined) throw invalid(`The manual partition assignment includes the broker ${twice} more than once.`);
    const unknown = brokerIds.find((b) => !this.image.brokers.some((x) => x.id === b));
    if (unknown !== undefined) throw invalid(`The manual partition assignment includes broker ${unknown}, but no such broker is registered.`);
    if (brokerIds.length !== replicationFactor) {
      throw invalid(`The manual partition assignment includes a partition with ${brokerIds.length} replica(s), but this is not consistent with previous partitions, which have ${replicationFactor} replica(s).`);
    }
    if (!brokerIds.some((b) => this.isLive(b))) throw invalid(`All brokers specified in the manual partition assignment for partition ${partition} are fenced or in controlled shutdown.`);
  }

  deleteTopic(name: string): void {
    const topic = this.topicsByName.get(name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const [deleted] = this.image.topics.splice(this.image.topics.indexOf(topic), 1);
    this.topicsByName.delete(name);
    this.topicsByCollisionKey.delete(collisionKey(name));
    this.removedTopics.add(name);
    this.dirtyPartitions.delete(name);
    this.dirtyTombstones = true;
    const tombstones = (this.image.deletedTopics ??= []);
    tombstones.push({ name: deleted.name, id: deleted.id });
    if (tombstones.length > MAX_DELETED_TOPICS) tombstones.splice(0, tombstones.length - MAX_DELETED_TOPICS);
    this.commit(`deleted topic ${name}`);
  }

  createPartitions(name: string, count: number, assignments: number[][] | null, validateOnly = false): void {
    const topic = this.topicsByName.get(name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const current = topic.partitions.length;
    if (count <= current) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic currently has ${current} partitions, which is higher than the requested ${count}.`);
    }
    if (count - current > MAX_PARTITIONS_PER_REQUEST) throw new KafkaError(ErrorCode.POLICY_VIOLATION, 'Unable to perform excessively large batch operation.');
    const rf = topic.partitions[0]?.replicas.length ?? 1;
    const live = liveBrokers(this.image).map((b) => b.id);
    let plan: number[][];
    if (assignments) {
      if (assignments.length !== count - current) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Increasing the number of partitions by ${count - current} but ${assignments.length} assignments provided.`);
      assignments.forEach((brokerIds, i) => this.checkManualAssignment(brokerIds, current + i, rf));
      plan = assignments;
    } else {
      if (rf > live.length) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, `Unable to replicate the partition ${rf} time(s): only ${live.length} broker(s) are alive.`);
      plan = assignReplicas(live, count - current, rf, { startPartition: current });
    }
    if (validateOnly) return;
    plan.forEach((replicas, i) => {
      const isr = replicas.filter((r) => this.isLive(r));
      topic.partitions.push({ partition: current + i, replicas, isr, leader: isr[0] ?? -1, leaderEpoch: 0, partitionEpoch: 0, addingReplicas: [], removingReplicas: [] });
    });
    this.touch(topic);
    this.commit(`topic ${name} now has ${count} partitions`);
  }

  /** Applies config changes: a string sets, null deletes (reverts to the default). */
  alterTopicConfigs(name: string, changes: Record<string, string | null>, replace = false, validateOnly = false): void {
    const topic = this.topicsByName.get(name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    for (const [k, val] of Object.entries(changes)) validateTopicConfig(k, val);
    if (validateOnly) return;
    const next: Record<string, string> = replace ? {} : { ...topic.configs };
    for (const [k, val] of Object.entries(changes)) {
      if (val === null) delete next[k];
      else next[k] = normalizeTopicConfigValue(k, val);
    }
    topic.configs = next;
    this.touch(topic);
    // As Kafka's controller does when unclean.leader.election.enable is turned on: offline partitions of the
    // topic get a leader now (a live out-of-sync replica), instead of waiting for their last ISR member.
    if ('unclean.leader.election.enable' in changes && !this.electionsHeld) this.electOfflinePartitions();
    this.commit(`altered configs of ${name}`);
  }

  /**
   * Dynamic broker configs: `resource` "" is the cluster-wide default, "<id>" one broker. A string sets, null deletes;
   * `replace` (AlterConfigs) drops whatever the request does not name. Validated all or nothing.
   */
  alterBrokerConfigs(resource: string, changes: Record<string, string | null>, replace = false, validateOnly = false): void {
    if (resource !== '' && !(/^\d+$/.test(resource) && this.image.brokers.some((b) => b.id === Number(resource)))) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Broker id ${resource} is not registered`);
    }
    for (const [k, val] of Object.entries(changes)) {
      const problem = brokerConfigProblem(resource, k, val);
      if (problem) throw problem;
    }
    if (validateOnly) return;
    const all = (this.image.brokerConfigs ??= {});
    const next: Record<string, string> = replace ? {} : { ...all[resource] };
    for (const [k, val] of Object.entries(changes)) {
      if (val === null) delete next[k];
      else next[k] = TOPIC_CONFIG_BY_BROKER_SYNONYM.get(k)?.type === 'boolean' ? val.toLowerCase() : val.trim();
    }
    if (Object.keys(next).length > 0) all[resource] = next;
    else delete all[resource];
    this.dirtyBrokerConfigs = true;
    if ('unclean.leader.election.enable' in changes && resource === '' && !this.electionsHeld) this.electOfflinePartitions();
    this.commit(`altered ${resource === '' ? 'cluster-default' : `broker ${resource}`} configs`);
  }

  /** A leader reports a new ISR (shrink or expand). Stale epochs are refused, as Kafka's AlterPartition does. */
  alterIsr(topicName: string, partition: number, leaderEpoch: number, isr: number[]): PartitionState {
    const topic = this.topicsByName.get(topicName);
    const p = topic?.partitions[partition];
    if (!topic || !p) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    if (p.leaderEpoch !== leaderEpoch) throw new KafkaError(ErrorCode.FENCED_LEADER_EPOCH, `leader epoch ${leaderEpoch} is not current (${p.leaderEpoch})`);
    const next = isr.filter((r) => p.replicas.includes(r) && this.isLive(r));
    if (!next.includes(p.leader)) next.unshift(p.leader);
    if (next.length !== p.isr.length || next.some((r) => !p.isr.includes(r))) {
      p.isr = p.replicas.filter((r) => next.includes(r));
      p.partitionEpoch++;
      this.touchPartition(topic, p);
      this.maybeCompleteReassignment(topic, p);
      this.commit(`ISR of ${topicName}-${partition} is now [${p.isr.join(',')}]`);
    }
    return structuredClone(p);
  }

  /**
   * A broker cannot open its logs of these partitions (out of file descriptors, permissions...): its replicas leave
   * the ISR and leadership moves to another live in-sync replica, as Kafka does for the replicas of an offline log
   * directory. A leader that is the last live in-sync replica keeps leading: nobody else has the data, and it serves
   * again (answering KAFKA_STORAGE_ERROR meanwhile) as soon as it opens the log.
   */
  replicasOffline(brokerId: number, partitions: Array<{ topic: string; partition: number }>): void {
    let changed = 0;
    let moved = 0;
    for (const { topic: name, partition } of partitions) {
      const topic = this.topicsByName.get(name);
      const p = topic?.partitions[partition];
      if (!topic || !p || !p.replicas.includes(brokerId)) continue;
      const others = p.isr.filter((r) => r !== brokerId);
      if (p.leader === brokerId) {
        const next = p.replicas.find((r) => others.includes(r) && this.isLive(r));
        if (next === undefined) continue;
        p.leader = next;
        p.isr = others;
        p.leaderEpoch++;
        moved++;
      } else if (p.isr.includes(brokerId) && others.length > 0) {
        p.isr = others;
      } else {
        continue;
      }
      p.partitionEpoch++;
      this.touchPartition(topic, p);
      changed++;
    }
    if (changed > 0) this.commit(`broker ${brokerId}: ${changed} replica(s) offline, ${moved} leader(s) moved`);
  }

  /**
   * Controlled shutdown (SIGTERM, `minikafka broker stop`): move leadership away and leave every ISR before
   * the process exits, so clients fail over at once instead of waiting for a session timeout.
   */
  controlledShutdown(id: number): void {
    let moved = 0;
    for (const topic of this.image.topics) {
      for (const p of topic.partitions) {
        if (!p.replicas.includes(id)) continue;
        if (p.leader === id) {
          const next = p.replicas.find((r) => r !== id && p.isr.includes(r) && this.isLive(r));
          if (next === undefined) continue; // nobody can take over: keep serving until the process exits
          p.leader = next;
          p.isr = p.isr.filter((r) => r !== id);
          p.leaderEpoch++;
          p.partitionEpoch++;
          this.touchPartition(topic, p);
          moved++;
        } else if (p.isr.includes(id) && p.isr.length > 1) {
          p.isr = p.isr.filter((r) => r !== id);
          p.partitionEpoch++;
          this.touchPartition(topic, p);
        }
      }
    }
    this.commit(`controlled shutdown of broker ${id}: ${moved} leader(s) moved`);
  }

  /**
   * ElectLeaders: preferred (type 0) moves leadership back to the first replica when it is alive and in
   * sync; unclean (type 1) elects any live replica for a partition that has no leader.
   */
  electLeaders(type: number, partitions: Array<{ topic: string; partition: number }> | null): Array<{ topic: string; partition: number; errorCode: number; message: string | null }> {
    const targets = partitions ?? this.image.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition })));
    const results = targets.map(({ topic, partition }) => {
      const t = this.topicsByName.get(topic);
      const p = t?.partitions[partition];
      const result = (errorCode: number, message: string | null = null) => ({ topic, partition, errorCode, message });
      if (!t || !p) return result(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      if (type === 0) {
        const preferred = p.replicas[0];
        if (p.leader === preferred) return result(ErrorCode.ELECTION_NOT_NEEDED, 'Leader is already the preferred replica');
        if (!this.isLive(preferred) || !p.isr.includes(preferred)) return result(ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, `Preferred replica ${preferred} is not alive or not in sync`);
        p.leader = preferred;
      } else {
        if (p.leader !== -1 && this.isLive(p.leader)) return result(ErrorCode.ELECTION_NOT_NEEDED, 'Partition already has a leader');
        const live = p.replicas.find((r) => this.isLive(r));
        if (live === undefined) return result(ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, 'No replica is alive');
        const inSync = p.replicas.find((r) => p.isr.includes(r) && this.isLive(r));
        p.leader = inSync ?? live;
        if (inSync === undefined) p.isr = [live];
      }
      p.leaderEpoch++;
      p.partitionEpoch++;
      this.touchPartition(t, p);
      return result(0);
    });
    if (results.some((r) => r.errorCode === 0)) this.commit(`elected leaders (${type === 0 ? 'preferred' : 'unclean'})`);
    return results;
  }

  /**
   * Starts (replicas given) or cancels (null) a partition reassignment, as Kafka does it: the replica set
   * becomes target + removing; new replicas catch up and join the ISR; once every target replica is in sync
   * the removing ones are dropped and, if needed, leadership moves into the target set.
   */
  reassignPartition(topic: string, partition: number, target: number[] | null): void {
    const t = this.topicsByName.get(topic);
    const p = t?.partitions[partition];
    if (!t || !p) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    this.touchPartition(t, p);
    if (target === null) {
      if (p.addingReplicas.length === 0 && p.removingReplicas.length === 0) throw new KafkaError(ErrorCode.NO_REASSIGNMENT_IN_PROGRESS);
      p.replicas = p.replicas.filter((r) => !p.addingReplicas.includes(r));
      p.isr = p.isr.filter((r) => p.replicas.includes(r));
      p.addingReplicas = [];
      p.removingReplicas = [];
      if (!p.replicas.includes(p.leader)) this.electLeader(t, p);
      p.partitionEpoch++;
      this.commit(`cancelled reassignment of ${topic}-${partition}`);
      return;
    }
    if (target.length === 0 || new Set(target).size !== target.length) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Replica list must be non-empty and without duplicates');
    const unknown = target.find((id) => !this.image.brokers.some((b) => b.id === id));
    if (unknown !== undefined) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Broker ${unknown} does not exist`);
    const original = p.replicas.filter((r) => !p.addingReplicas.includes(r));
    p.addingReplicas = target.filter((r) => !original.includes(r));
    p.removingReplicas = original.filter((r) => !target.includes(r));
    p.replicas = [...target, ...p.removingReplicas];
    p.partitionEpoch++;
    this.maybeCompleteReassignment(t, p);
    this.commit(`reassigning ${topic}-${partition} to [${target.join(',')}]`);
  }

  private maybeCompleteReassignment(t: TopicState, p: PartitionState): boolean {
    if (p.addingReplicas.length === 0 && p.removingReplicas.length === 0) return false;
    const target = p.replicas.filter((r) => !p.removingReplicas.includes(r));
    if (!target.every((r) => p.isr.includes(r))) return false;
    p.replicas = target;
    p.isr = p.isr.filter((r) => target.includes(r));
    p.addingReplicas = [];
    p.removingReplicas = [];
    if (!target.includes(p.leader)) this.electLeader(t, p);
    p.partitionEpoch++;
    this.logger.info(`reassignment of ${t.name}-${p.partition} complete: [${target.join(',')}]`);
    return true;
  }

  listReassignments(): Array<{ topic: string; partition: number; replicas: number[]; addingReplicas: number[]; removingReplicas: number[] }> {
    return this.image.topics.flatMap((t) =>
      t.partitions
        .filter((p) => p.addingReplicas.length > 0 || p.removingReplicas.length > 0)
        .map((p) => ({ topic: t.name, partition: p.partition, replicas: p.replicas, addingReplicas: p.addingReplicas, removingReplicas: p.removingReplicas })),
    );
  }

  /** Hands out a block of producer ids (InitProducerId). */
  allocateProducerIds(): { start: number; length: number } {
    const start = this.image.nextProducerId;
    this.image.nextProducerId += PRODUCER_ID_BLOCK;
    this.commit(`producer id block ${start}`);
    return { start, length: PRODUCER_ID_BLOCK };
  }

  // ---- ACLs ----------------------------------------------------------------------------------------------

  /** CreateAcls: one result per binding, in order; a binding that already exists is not added twice. */
  createAcls(bindings: AclBinding[]): Array<{ errorCode: number; errorMessage: string | null }> {
    const acls = (this.image.acls ??= []);
    let added = 0;
    const results = bindings.map((b) => {
      const problem = aclBindingProblem(b);
      if (problem) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem };
      if (!acls.some((a) => sameBinding(a, b))) {
        acls.push({ ...b });
        added++;
      }
      return { errorCode: 0, errorMessage: null };
    });
    if (added > 0) {
      this.dirtyAcls = true;
      this.commit(`created ${added} ACL binding(s)`);
    }
    return results;
  }

  /** DeleteAcls: per filter, the bindings it removed (a binding matched by several filters is listed under the first). */
  deleteAcls(filters: AclFilter[]): Array<{ errorCode: number; errorMessage: string | null; deleted: AclBinding[] }> {
    let removed = 0;
    const results = filters.map((f) => {
      const problem = aclFilterProblem(f);
      if (problem) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, deleted: [] };
      const acls = this.image.acls ?? [];
      const deleted = acls.filter((b) => aclFilterMatches(f, b));
      this.image.acls = acls.filter((b) => !deleted.includes(b));
      removed += deleted.length;
      return { errorCode: 0, errorMessage: null, deleted };
    });
    if (removed > 0) {
      this.dirtyAcls = true;
      this.commit(`deleted ${removed} ACL binding(s)`);
    }
    return results;
  }

  // ---- SCRAM credentials ---------------------------------------------------------------------------------

  /** The users given to `minikafka start` (fresh salts each start): set over whatever the image held for them. */
  setStartupScramUsers(users: Record<string, UserCredentials>): void {
    if (Object.keys(users).length === 0) return;
    const all = (this.image.scramCredentials ??= {});
    for (const [name, creds] of Object.entries(users)) all[name] = { ...all[name], ...creds };
    this.dirtyScram = true;
    this.commit(`SCRAM credentials of ${Object.keys(users).length} startup user(s)`);
  }

  /**
   * AlterUserScramCredentials, validated as Kafka's ScramControlManager does, all or nothing per user: one result per
   * user named, in the order first named.
   */
  alterScramCredentials(
    deletions: Array<{ name: string; mechanism: ScramMechanismName | null }>,
    upsertions: Array<{ name: string; mechanism: ScramMechanismName | null; credential: ScramCredential | null; problem?: string }>,
  ): Array<{ user: string; errorCode: number; errorMessage: string | null }> {
    const all = (this.image.scramCredentials ??= {});
    const users = [...new Set([...deletions.map((d) => d.name), ...upsertions.map((u) => u.name)])];
    let changed = 0;
    const results = users.map((user) => {
      const fail = (errorCode: number, errorMessage: string) => ({ user, errorCode, errorMessage });
      const dels = deletions.filter((d) => d.name === user);
      const ups = upsertions.filter((u) => u.name === user);
      if (user === '') return fail(ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty');
      if ([...dels, ...ups].some((x) => x.mechanism === null)) return fail(ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism');
      const mechanisms = [...dels, ...ups].map((x) => x.mechanism);
      if (new Set(mechanisms).size !== mechanisms.length) return fail(ErrorCode.DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request');
      const bad = ups.find((u) => u.problem);
      if (bad) return fail(ErrorCode.UNACCEPTABLE_CREDENTIAL, bad.problem!);
      if (dels.some((d) => !all[user]?.[d.mechanism!])) return fail(ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist');
      const next: Partial<UserCredentials> = { ...all[user] };
      for (const d of dels) delete next[d.mechanism!];
      for (const u of ups) next[u.mechanism!] = u.credential!;
      if (Object.keys(next).length > 0) all[user] = next;
      else delete all[user];
      changed++;
      return { user, errorCode: 0, errorMessage: null };
    });
    if (changed > 0) {
      this.dirtyScram = true;
      this.commit(`altered SCRAM credentials of ${changed} user(s)`);
    }
    return results;
  }

  // ---- client quotas -------------------------------------------------------------------------------------

  /** AlterClientQuotas: each entry is validated and applied on its own; one result per entry, in order. */
  alterClientQuotas(
    entries: Array<{ entity: QuotaEntityPart[]; ops: Array<{ key: string; value: number; remove: boolean }> }>,
    validateOnly = false,
  ): Array<{ errorCode: number; errorMessage: string | null }> {
    const all = (this.image.clientQuotas ??= []);
    let changed = 0;
    const results = entries.map(({ entity, ops }) => {
      const problem = entityProblem(entity) ?? ops.map((o) => quotaOpProblem(entity, o.key, o.value, o.remove)).find((p) => p !== undefined);
      if (problem) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem };
      const keys = ops.map((o) => o.key);
      if (new Set(keys).size !== keys.length) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate quota key in a single entity alteration' };
      if (validateOnly) return { errorCode: 0, errorMessage: null };
      const k = entityKey(entity);
      let entry = all.find((e) => entityKey(e.entity) === k);
      if (!entry) all.push((entry = { entity: entity.map((p) => ({ ...p })), values: {} }));
      for (const o of ops) {
        if (o.remove) delete entry.values[o.key];
        else entry.values[o.key] = o.value;
      }
      if (Object.keys(entry.values).length === 0) all.splice(all.indexOf(entry), 1);
      changed++;
      return { errorCode: 0, errorMessage: null };
    });
    if (changed > 0) {
      this.dirtyQuotas = true;
      this.commit(`altered client quotas of ${changed} entit${changed === 1 ? 'y' : 'ies'}`);
    }
    return results;
  }
}

/** The controller id clients are told: `current` while that broker is live, else the lowest live one (-1: none). */
function controllerIdAmong(brokers: BrokerInfo[], current: number): number {
  const live = brokers.filter((b) => !b.fenced);
  return live.some((b) => b.id === current) ? current : (live[0]?.id ?? -1);
}
