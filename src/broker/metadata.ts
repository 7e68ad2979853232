// The cluster metadata image: brokers, topics and partition leadership. The controller owns and persists it;
// brokers receive copies and act on the partitions they replicate. Plain data, so it can cross a process
// boundary as JSON.

import type { AclBinding } from './security/authorizer';
import type { UserCredentials } from './security/sasl';
import type { ClientQuotaEntry } from './quotas';

export interface BrokerInfo {
  id: number;
  host: string;
  port: number;
  /** The internal (inter-broker) listener's port when the client listener is secured; followers fetch there. */
  internalPort?: number;
  rack: string | null;
  /** A fenced broker is registered but not alive: it appears in no ISR and leads nothing. */
  fenced: boolean;
}

export interface PartitionState {
  partition: number;
  replicas: number[];
  isr: number[];
  /** -1 when offline (no live in-sync replica). */
  leader: number;
  leaderEpoch: number;
  /** Bumped on every change to this partition (leader, ISR or replicas). */
  partitionEpoch: number;
  addingReplicas: number[];
  removingReplicas: number[];
}

export interface TopicState {
  name: string;
  id: string;
  internal: boolean;
  /** Overrides only (source DYNAMIC_TOPIC_CONFIG); defaults are derived. */
  configs: Record<string, string>;
  partitions: PartitionState[];
}

export interface MetadataImage {
  clusterId: string;
  controllerId: number;
  /** Increments on every change, so a broker can ignore stale copies. */
  epoch: number;
  brokers: BrokerInfo[];
  topics: TopicState[];
  /** Next producer id block start (InitProducerId). */
  nextProducerId: number;
  /**
   * Tombstones of the most recently deleted topics (bounded): a broker that was down during a delete removes a
   * partition directory only when its topic id is recorded here (or differs from the live topic of that name).
   */
  deletedTopics?: Array<{ name: string; id: string }>;
  /** The cluster's ACL bindings (CreateAcls/DeleteAcls); absent in images written before ACLs existed. */
  acls?: AclBinding[];
  /**
   * Dynamic broker configs (AlterConfigs on a BROKER resource): by resource name, "" for the cluster-wide default and
   * "<id>" for one broker. A broker's effective config is Kafka's default < --config < "" < "<id>".
   */
  brokerConfigs?: Record<string, Record<string, string>>;
  /**
   * SCRAM credentials by user and mechanism (salt, iterations, StoredKey, ServerKey; never a password), set by
   * AlterUserScramCredentials and by `minikafka start --user` at each start. Absent before either happened: brokers
   * then use the credentials their listener was started with.
   */
  scramCredentials?: Record<string, Partial<UserCredentials>>;
  /** Client quotas (AlterClientQuotas) by user and/or client-id entity; each broker enforces them on its own traffic. */
  clientQuotas?: ClientQuotaEntry[];
}

/**
 * What changed between two epochs of the controller's image, as KRaft's metadata records carry it: the controller
 * publishes one per tick (all the changes of a request, or of the requests that arrived together), and brokers apply
 * it to the image they have. A whole image goes to a broker only when it (re)connects or has missed a delta.
 * A topic created or changed as a whole (configs, partition count) is carried whole; a leader or ISR change of an
 * existing topic is carried as a record of that one partition (`partitions`): a broker's failure moves a thousand
 * leaders of a thousand topics, and the brokers must not parse, copy and reconcile every partition of those topics to
 * learn it. Both are upserts of the current state, so a delta is valid for any image of the same controller from
 * `baseEpoch` up to `epoch`.
 */
export interface MetadataDelta {
  /** The image this delta applies to must be at least this epoch (older: the receiver missed one, ask for the image). */
  baseEpoch: number;
  epoch: number;
  clusterId: string;
  controllerId: number;
  nextProducerId: number;
  /** Every broker, when any registration or fencing changed (a handful of entries). */
  brokers?: BrokerInfo[];
  /** Topics created or changed, whole; a new name goes to the end (the controller's order). */
  topics: TopicState[];
  /**
   * Partitions of existing topics whose state changed (leader, ISR, replicas), each as it is now; applied after
   * `topics`, and never for a topic carried whole in the same delta. A record whose topic id is not the receiver's
   * topic of that name is ignored (the topic was deleted meanwhile).
   */
  partitions?: PartitionChange[];
  /** Names of topics deleted (applied before `topics`: a topic deleted and created again within one delta is in both). */
  removedTopics: string[];
  /** The tombstone list, when it changed. */
  deletedTopics?: Array<{ name: string; id: string }>;
  /** The ACL bindings, when they changed. */
  acls?: AclBinding[];
  /** The dynamic broker configs, SCRAM credentials and client quotas, each whole when it changed. */
  brokerConfigs?: Record<string, Record<string, string>>;
  scramCredentials?: Record<string, Partial<UserCredentials>>;
  clientQuotas?: ClientQuotaEntry[];
}

/** A copy of a partition's state (plain fields and arrays of ids: faster than structuredClone, a thousand at a time). */
export function copyPartitionState(p: PartitionState): PartitionState {
  return {
    partition: p.partition,
    replicas: p.replicas.slice(),
    isr: p.isr.slice(),
    leader: p.leader,
    leaderEpoch: p.leaderEpoch,
    partitionEpoch: p.partitionEpoch,
    addingReplicas: p.addingReplicas.slice(),
    removingReplicas: p.removingReplicas.slice(),
  };
}

/** One partition's new state, as a delta carries it (KRaft's PartitionChangeRecord, with the whole state). */
export interface PartitionChange {
  topic: string;
  topicId: string;
  state: PartitionState;
}

/**
 * The image after `delta`. The input image is not modified (its topic objects are shared with the result where
 * unchanged; a topic with partition records gets a new object with a new partitions array). Only valid when
 * image.epoch >= delta.baseEpoch (see MetadataDelta). `changedTopics`, when given, receives every topic object of the
 * result that is new (carried whole, or changed by partition records), by name: receivers index them.
 */
export function applyDelta(image: MetadataImage, delta: MetadataDelta, changedTopics?: Map<string, TopicState>): MetadataImage {
  const removed = new Set(delta.removedTopics);
  const changed = new Map(delta.topics.map((t) => [t.name, t]));
  const topics: TopicState[] = [];
  for (const t of image.topics) {
    if (removed.has(t.name) && !changed.has(t.name)) continue;
    const next = changed.get(t.name);
    if (next && removed.has(t.name)) continue; // deleted and created again: goes to the end, as in the controller
    topics.push(next ?? t);
    if (next) changed.delete(t.name);
  }
  for (const t of changed.values()) topics.push(t);
  for (const t of delta.topics) changedTopics?.set(t.name, t);
  if (delta.partitions && delta.partitions.length > 0) applyPartitionChanges(topics, delta.partitions, changedTopics);
  const next: MetadataImage = {
    ...image,
    clusterId: delta.clusterId,
    controllerId: delta.controllerId,
    epoch: delta.epoch,
    nextProducerId: delta.nextProducerId,
    brokers: delta.brokers ?? image.brokers,
    topics,
  };
  if (delta.deletedTopics) next.deletedTopics = delta.deletedTopics;
  if (delta.acls) next.acls = delta.acls;
  if (delta.brokerConfigs) next.brokerConfigs = delta.brokerConfigs;
  if (delta.scramCredentials) next.scramCredentials = delta.scramCredentials;
  if (delta.clientQuotas) next.clientQuotas = delta.clientQuotas;
  return next;
}

/** Replaces, in `topics` (in place), each topic named by a record with a copy holding the records' partition states. */
function applyPartitionChanges(topics: TopicState[], changes: PartitionChange[], changedTopics?: Map<string, TopicState>): void {
  const position = new Map<string, number>();
  topics.forEach((t, i) => position.set(t.name, i));
  const copied = new Set<string>();
  for (const c of changes) {
    const i = position.get(c.topic);
    if (i === undefined || topics[i].id !== c.topicId) continue;
    if (!copied.has(c.topic)) {
      copied.add(c.topic);
      topics[i] = { ...topics[i], partitions: topics[i].partitions.slice() };
    }
    topics[i].partitions[c.state.partition] = c.state;
    changedTopics?.set(c.topic, topics[i]);
  }
}

/** How many deleted topics' ids the image remembers. */
export const MAX_DELETED_TOPICS = 1000;

export const OFFSETS_TOPIC = '__consumer_offsets';

export function findTopic(image: MetadataImage, name: string): TopicState | undefined {
  return image.topics.find((t) => t.name === name);
}

export function liveBrokers(image: MetadataImage): BrokerInfo[] {
  return image.brokers.filter((b) => !b.fenced);
}

/**
 * Kafka's rack-unaware replica assignment (AdminUtils.assignReplicasToBrokersRackUnaware): leaders spread
 * round-robin from a start index, followers shifted so that replicas of consecutive partitions do not pile
 * onto the same brokers.
 */
export function assignReplicas(
  brokerIds: number[],
  partitions: number,
  replicationFactor: number,
  opts: { startIndex?: number; replicaShift?: number; startPartition?: number } = {},
): number[][] {
  const ids = [...brokerIds].sort((a, b) => a - b);
  const n = ids.length;
  const startIndex = opts.startIndex ?? Math.floor(Math.random() * n);
  let shift = opts.replicaShift ?? Math.floor(Math.random() * n);
  let current = Math.max(0, opts.startPartition ?? 0);
  const out: number[][] = [];
  for (let i = 0; i < partitions; i++) {
    if (current > 0 && current % n === 0) shift += 1;
    const first = (current + startIndex) % n;
    const replicas = [ids[first]];
    for (let j = 0; j < replicationFactor - 1; j++) {
      const s = 1 + ((shift + j) % (n - 1));
      replicas.push(ids[(first + s) % n]);
    }
    out.push(replicas);
    current++;
  }
  return out;
}

/**
 * Kafka's controller refuses to create more partitions than this in one request (MAX_PARTITIONS_PER_BATCH in
 * ReplicationControlManager) with POLICY_VIOLATION: a count near 2^31 would otherwise exhaust memory planning it.
 */
export const MAX_PARTITIONS_PER_REQUEST = 10_000;
