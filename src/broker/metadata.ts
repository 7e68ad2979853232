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
