// The cluster metadata image: brokers, topics and partition leadership. The controller owns and persists it;
// brokers receive copies and act on the partitions they replicate. Plain data, so it can cross a process
// boundary as JSON.

import type { AclBinding } from './security/authorizer';

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
}

/**
 * What changed between two epochs of the controller's image, as KRaft's metadata records carry it: the controller
 * publishes one per tick (all the changes of a request, or of the requests that arrived together), and brokers apply
 * it to the image they have. A whole image goes to a broker only when it (re)connects or has missed a delta.
 * Topics are carried whole (a changed partition sends its topic): upserting a topic is idempotent, so a delta is valid
 * for any image of the same controller from `baseEpoch` up to `epoch`.
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
  /** Names of topics deleted (applied before `topics`: a topic deleted and created again within one delta is in both). */
  removedTopics: string[];
  /** The tombstone list, when it changed. */
  deletedTopics?: Array<{ name: string; id: string }>;
  /** The ACL bindings, when they changed. */
  acls?: AclBinding[];
}

/**
 * The image after `delta`. The input image is not modified (its topic objects are shared with the result where
 * unchanged). Only valid when image.epoch >= delta.baseEpoch (see MetadataDelta).
 */
export function applyDelta(image: MetadataImage, delta: MetadataDelta): MetadataImage {
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
  return next;
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
