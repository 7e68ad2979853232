// Cluster administration: topics, configs, consumer groups and their offsets, in the terms a user thinks in
// (a topic's partitions with leader and ISR, a group's lag per partition) rather than in Kafka API responses.
// Offsets are decimal strings: Kafka offsets are int64 and must survive JSON (the extension posts them to webviews).

import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Admin, AssignerProtocol, ConfigResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { ClientError, kafkaConfig, KafkaConnectionOptions } from './connection';
import {
  API_KEYS,
  brokerError,
  BrokerError,
  createInternalAdmin,
  createInternalCluster,
  fetchMetadata,
  InternalBroker,
  InternalCluster,
  RawAlterConfigsResponse,
  RawCreateTopicsResponse,
  RawMetadata,
  REQUESTS,
  seedBroker,
  sendRaw,
  sendWithOwnCodec,
  UNKNOWN_TOPIC_OR_PARTITION,
} from './kafkajsInternals';
import { AlterUserScramCredentials, DescribeLogDirs, DescribeProducers, DescribeTransactions, DescribeUserScramCredentials, ListOffsets, ListTransactions } from '../protocol/apis';
import { pbkdf2Sync, randomBytes } from 'node:crypto';

/** SCRAM mechanisms by their wire codes (KIP-554). */
export const SCRAM_MECHANISMS = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 } as const;
export type ScramMechanism = keyof typeof SCRAM_MECHANISMS;

export interface ScramUserListing {
  user: string;
  credentials: Array<{ mechanism: ScramMechanism; iterations: number }>;
}

/** Kafka's internal topics (Topic.isInternal in the Java client). */
export const INTERNAL_TOPICS: readonly string[] = ['__consumer_offsets', '__transaction_state'];

export interface TopicListing {
  name: string;
  internal: boolean;
}

export interface PartitionInfo {
  partition: number;
  /** Broker id of the leader, or -1 when the partition has no leader (offline). */
  leader: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  /** Kafka error name the broker reported for this partition (e.g. LEADER_NOT_AVAILABLE), if any. */
  error?: string;
  /** Log start offset and high watermark, when asked for and the partition is online. */
  low?: string;
  high?: string;
  /**
   * Last stable offset (ListOffsets latest with read_committed), read with low/high: below `high` while a
   * transaction is open on the partition, and read_committed consumers stop there.
   */
  stable?: string;
}

export interface TopicDescription {
  name: string;
  internal: boolean;
  partitions: PartitionInfo[];
}

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface ClusterDescription {
  clusterId: string | null;
  controllerId: number | null;
  brokers: BrokerInfo[];
}

export interface NewTopic {
  name: string;
  /** Omitted: the broker's num.partitions. */
  partitions?: number;
  /** Omitted: the broker's default.replication.factor. */
  replicationFactor?: number;
  configs?: Record<string, string>;
}

export type ConfigSourceName = 'default' | 'topic' | 'broker';

export interface TopicConfigEntry {
  name: string;
  /** null for sensitive values the broker does not reveal. */
  value: string | null;
  source: ConfigSourceName;
  isDefault: boolean;
  readOnly: boolean;
  sensitive: boolean;
}

/** A transactional id as ListTransactions reports it, with the broker that coordinates it. */
export interface TransactionListing {
  transactionalId: string;
  coordinatorId: number;
  producerId: number;
  state: string;
}

/** DescribeTransactions of one transactional id. */
export interface TransactionDescription {
  coordinatorId: number;
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  state: string;
  timeoutMs: number;
  /** -1 when no transaction is open. */
  startTimeMs: number;
  partitions: Array<{ topic: string; partition: number }>;
}

/** A producer a partition leader knows (DescribeProducers). */
export interface ProducerStateInfo {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  lastSequence: number;
  lastTimestamp: number;
  /** -1 when it has no open transaction on the partition. */
  currentTransactionStartOffset: number;
}

/** An open transaction as seen by a partition's leader (DescribeProducers), for a partition whose LSO is held back. */
export interface PartitionOpenTransaction {
  topic: string;
  partition: number;
  producerId: number;
  producerEpoch: number;
  /** First offset of the open transaction on this partition: the partition's LSO cannot pass it. */
  startOffset: number;
  /** Timestamp of the producer's last record on the partition (ms). */
  lastTimestamp: number;
}

/** One partition replica in a broker's log directory (DescribeLogDirs). */
export interface LogDirPartition {
  topic: string;
  partition: number;
  sizeBytes: number;
  offsetLag: number;
  isFuture: boolean;
}

export interface LogDirInfo {
  path: string;
  /** Kafka error name for the directory (KAFKA_STORAGE_ERROR for an offline one), undefined when fine. */
  error?: string;
  /** -1 when the broker does not say (DescribeLogDirs before v4). */
  totalBytes: number;
  usableBytes: number;
  partitions: LogDirPartition[];
}

export type AclPermission = 'ALLOW' | 'DENY';
export type AclPatternType = 'LITERAL' | 'PREFIXED';
/** The ACL resource types a binding can name (Kafka's ResourceType without ANY/UNKNOWN). */
export const ACL_RESOURCE_TYPES = ['TOPIC', 'GROUP', 'CLUSTER', 'TRANSACTIONAL_ID', 'DELEGATION_TOKEN'] as const;
export type AclResourceType = (typeof ACL_RESOURCE_TYPES)[number];
/** The operations a binding can name (Kafka's AclOperation without ANY/UNKNOWN). */
export const ACL_OPERATIONS = ['ALL', 'READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'CLUSTER_ACTION', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE'] as const;
export type AclOperation = (typeof ACL_OPERATIONS)[number];

/** One ACL binding in the words kafka-acls.sh uses. */
export interface AclBindingInfo {
  principal: string;
  host: string;
  operation: AclOperation;
  permission: AclPermission;
  resourceType: AclResourceType;
  resourceName: string;
  patternType: AclPatternType;
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
}

export interface GroupMemberInfo {
  memberId: string;
  clientId: string;
  host: string;
  /** Partitions per topic assigned to this member (empty when the group is not a consumer group). */
  assignment: Record<string, number[]>;
}

export interface GroupDescription {
  groupId: string;
  /** Stable, PreparingRebalance, CompletingRebalance, Empty or Dead (Dead also for groups that do not exist). */
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMemberInfo[];
}

export interface GroupPartitionOffset {
  topic: string;
  partition: number;
  /** null when the group has committed nothing for this partition. */
  committedOffset: string | null;
  /** The partition's high watermark, null when it cannot be read (partition offline). */
  endOffset: string | null;
  /** endOffset - committedOffset, null when either is unknown. */
  lag: string | null;
  /** The member that owns the partition now, if any. */
  owner: { memberId: string; clientId: string; host: string } | null;
}

export interface GroupOffsets {
  group: GroupDescription;
  partitions: GroupPartitionOffset[];
}

export type OffsetResetTarget = 'earliest' | 'latest' | { timestamp: number } | { offset: string | number | bigint };

export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: string;
}

const ADMIN_TIMEOUT_MS = 10000;
const LEADER_WAIT_MS = 5000;
/** Kafka's kafka-consumer-groups.sh refuses to move the offsets of a group that has members. */
const INACTIVE_GROUP_STATES = new Set(['Empty', 'Dead']);

/**
 * One connection to a cluster for administrative calls. Call connect() first and disconnect() when done.
 * Errors are kafkajs errors, BrokerError (with the broker's own message) or ClientError; pass any of them to
 * describeConnectionError() for a sentence to show.
 */
export class ClusterAdmin {
  /** kafkajs's Cluster with tolerant metadata, for the calls kafkajs's public API gets wrong (see kafkajsInternals.ts). */
  private readonly cluster: InternalCluster;
  /** kafkajs's admin client, on that same Cluster. */
  private readonly admin: Admin;

  constructor(options: KafkaConnectionOptions) {
    const config = kafkaConfig(options);
    this.cluster = createInternalCluster(config);
    this.admin = createInternalAdmin(config, this.cluster);
  }

  async connect(): Promise<void> {
    await this.admin.connect();
  }

  async disconnect(): Promise<void> {
    await this.admin.disconnect();
  }

  // -------------------------------------------------------------------------------------------------------------
  // Cluster and topics

  async describeCluster(): Promise<ClusterDescription> {
    const md = await this.metadata([]);
    return {
      clusterId: md.clusterId ?? null,
      controllerId: md.controllerId === undefined || md.controllerId < 0 ? null : md.controllerId,
      brokers: md.brokers
        .map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack ?? null }))
        .sort((a, b) => a.nodeId - b.nodeId),
    };
  }

  async listTopics(): Promise<TopicListing[]> {
    const md = await this.metadata([]);
    return md.topicMetadata
      .filter((t) => t.topicErrorCode === 0)
      .map((t) => ({ name: t.topic, internal: isInternal(t.topic, t.isInternal) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Describes the named topics (all topics when `names` is omitted), sorted by name. Throws ClientError naming
   * the first topic that does not exist. Offsets are read only when asked, since they cost a request per leader.
   */
  async describeTopics(names?: string[], opts: { includeOffsets?: boolean } = {}): Promise<TopicDescription[]> {
    const md = await this.metadata(names ?? []);
    const byName = new Map(md.topicMetadata.map((t) => [t.topic, t]));
    const wanted = names ?? [...byName.keys()];
    const topics: TopicDescription[] = [];
    for (const name of wanted) {
      const t = byName.get(name);
      if (!t || t.topicErrorCode === UNKNOWN_TOPIC_OR_PARTITION) throw unknownTopic(name);
      if (t.topicErrorCode !== 0 && t.partitionMetadata.length === 0) throw brokerError(t.topicErrorCode);
      topics.push({
        name,
        internal: isInternal(name, t.isInternal),
        partitions: t.partitionMetadata
          .map((p) => ({
            partition: p.partitionId,
            leader: p.leader,
            replicas: p.replicas,
            isr: p.isr,
            offlineReplicas: p.offlineReplicas ?? [],
            ...(p.partitionErrorCode !== 0 ? { error: brokerError(p.partitionErrorCode).type } : {}),
          }))
          .sort((a, b) => a.partition - b.partition),
      });
    }
    topics.sort((a, b) => a.name.localeCompare(b.name));
    if (opts.includeOffsets) {
      // One read_uncommitted ListOffsets per leader for all the topics (kafkajs's own are per topic, read_committed).
      const high = await this.highWatermarksOf(topics);
      await Promise.all(topics.map((t) => this.addOffsets(t, high.get(t.name) ?? new Map())));
    }
    return topics;
  }

  /** Creates a topic and waits (briefly) until every partition has a leader, so it can be used at once. */
  async createTopic(topic: NewTopic): Promise<void> {
    const configEntries = Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value }));
    const request = { topic: topic.name, numPartitions: topic.partitions ?? -1, replicationFactor: topic.replicationFactor ?? -1, configEntries };
    await this.sendAdmin<RawCreateTopicsResponse>(
      'createTopics',
      { topics: [request], validateOnly: false, timeout: ADMIN_TIMEOUT_MS },
      (res) => res.topicErrors,
      () => this.admin.createTopics({ topics: [request], timeout: ADMIN_TIMEOUT_MS, waitForLeaders: false }),
    );
    await this.waitForLeaders(topic.name);
  }

  /** Grows a topic to `count` partitions (Kafka cannot shrink one). */
  async createPartitions(topic: string, count: number): Promise<void> {
    await this.requireTopic(topic);
    const topicPartitions = [{ topic, count }];
    await this.sendAdmin<RawCreateTopicsResponse>(
      'createPartitions',
      { topicPartitions, validateOnly: false, timeout: ADMIN_TIMEOUT_MS },
      (res) => res.topicErrors,
      () => this.admin.createPartitions({ topicPartitions, timeout: ADMIN_TIMEOUT_MS }),
    );
    await this.waitForLeaders(topic);
  }

  async deleteTopic(name: string): Promise<void> {
    await this.requireTopic(name);
    await this.admin.deleteTopics({ topics: [name], timeout: ADMIN_TIMEOUT_MS });
  }

  // -------------------------------------------------------------------------------------------------------------
  // Topic configs

  /** Every config of a topic with where its value comes from, sorted by name. */
  async describeTopicConfigs(topic: string): Promise<TopicConfigEntry[]> {
    await this.requireTopic(topic);
    return (await this.describeConfigsOf([topic])).get(topic) ?? [];
  }

  /** The configs of several existing topics in one request (e.g. from describeTopics), by topic name. */
  async describeConfigsOf(topics: string[]): Promise<Map<string, TopicConfigEntry[]>> {
    const out = new Map<string, TopicConfigEntry[]>();
    if (topics.length === 0) return out;
    const res = await this.admin.describeConfigs({
      includeSynonyms: false,
      resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name })),
    });
    for (const resource of res.resources) {
      if (resource.errorCode !== 0) throw brokerError(resource.errorCode, resource.errorMessage);
      out.set(
        resource.resourceName,
        resource.configEntries
          .map((e) => {
            const source = configSourceName(e.configSource, e.isDefault);
            return { name: e.configName, value: e.configValue ?? null, source, isDefault: source === 'default', readOnly: e.readOnly, sensitive: e.isSensitive };
          })
          .sort((a, b) => a.name.localeCompare(b.name)),
      );
    }
    return out;
  }

  /**
   * Sets and removes topic-level overrides, keeping the other overrides. kafkajs has no IncrementalAlterConfigs,
   * and AlterConfigs replaces the whole override set, so this reads the current overrides and sends all of them.
   * (Two concurrent alterations of the same topic can therefore lose one of them, as with Kafka's old tools.)
   */
  async alterTopicConfig(topic: string, set: Record<string, string>, remove: string[] = []): Promise<void> {
    const current = (await this.describeTopicConfigs(topic)).filter((e) => e.source === 'topic');
    const hidden = current.filter((e) => e.value === null).map((e) => e.name);
    // The broker does not reveal sensitive values, and resending the set without them would delete them.
    if (hidden.length > 0) throw new ClientError(`topic '${topic}' has sensitive overrides (${hidden.join(', ')}) that this client cannot preserve`);
    const overrides = new Map(current.map((e) => [e.name, e.value as string]));
    for (const name of remove) {
      if (!overrides.has(name)) throw new ClientError(`topic '${topic}' has no override for '${name}' to delete`);
      overrides.delete(name);
    }
    for (const [name, value] of Object.entries(set)) overrides.set(name, value);
    const resource = { type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [...overrides].map(([name, value]) => ({ name, value })) };
    await this.sendAdmin<RawAlterConfigsResponse>(
      'alterConfigs',
      { resources: [resource], validateOnly: false },
      (res) => res.resources,
      () => this.admin.alterConfigs({ validateOnly: false, resources: [resource] }),
    );
  }

  // -------------------------------------------------------------------------------------------------------------
  // Consumer groups

  async listGroups(): Promise<GroupListing[]> {
    const { groups } = await this.admin.listGroups();
    return groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType })).sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  async describeGroup(groupId: string): Promise<GroupDescription> {
    const { groups } = await this.admin.describeGroups([groupId]);
    const g = groups.find((x) => x.groupId === groupId);
    if (!g) return { groupId, state: 'Dead', protocolType: '', protocol: '', members: [] };
    return {
      groupId,
      state: g.state,
      protocolType: g.protocolType,
      protocol: g.protocol,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        host: m.clientHost,
        assignment: g.protocolType === 'consumer' ? decodeAssignment(m.memberAssignment) : {},
      })),
    };
  }

  /**
   * For every partition the group has committed an offset for or owns: committed offset, log end offset (the
   * high watermark, as kafka-consumer-groups.sh reports it), lag and owner. Sorted by topic, then partition.
   */
  async groupOffsets(groupId: string): Promise<GroupOffsets> {
    const group = await this.describeGroup(groupId);
    const committed = await this.admin.fetchOffsets({ groupId });
    const rows = new Map<string, GroupPartitionOffset>();
    const row = (topic: string, partition: number): GroupPartitionOffset => {
      const key = `${topic}\u0000${partition}`;
      let r = rows.get(key);
      if (!r) {
        r = { topic, partition, committedOffset: null, endOffset: null, lag: null, owner: null };
        rows.set(key, r);
      }
      return r;
    };
    for (const t of committed) {
      for (const p of t.partitions) if (BigInt(p.offset) >= 0n) row(t.topic, p.partition).committedOffset = p.offset;
    }
    for (const m of group.members) {
      for (const [topic, partitions] of Object.entries(m.assignment)) {
        for (const p of partitions) row(topic, p).owner = { memberId: m.memberId, clientId: m.clientId, host: m.host };
      }
    }
    const topics = new Set([...rows.values()].map((r) => r.topic));
    const ends = new Map<string, Map<number, string>>();
    await Promise.all([...topics].map(async (t) => ends.set(t, await this.highWatermarks(t))));
    for (const r of rows.values()) {
      r.endOffset = ends.get(r.topic)?.get(r.partition) ?? null;
      if (r.endOffset !== null && r.committedOffset !== null) r.lag = (BigInt(r.endOffset) - BigInt(r.committedOffset)).toString();
    }
    const partitions = [...rows.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    return { group, partitions };
  }

  /**
   * Moves the group's committed offsets for every partition of `topic`. Like kafka-consumer-groups.sh, only for
   * an inactive group, and offsets outside [log start, high watermark] are clamped into it.
   * With dryRun, returns the plan without committing.
   */
  async resetGroupOffsets(groupId: string, topic: string, to: OffsetResetTarget, opts: { dryRun?: boolean } = {}): Promise<PartitionOffset[]> {
    const group = await this.describeGroup(groupId);
    if (!INACTIVE_GROUP_STATES.has(group.state)) {
      throw new ClientError(`assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${group.state}`);
    }
    const [description] = await this.describeTopics([topic], { includeOffsets: true });
    const plan = await this.resetPlan(description, to);
    if (!opts.dryRun) await this.commitOffsets(groupId, topic, plan);
    return plan;
  }

  async deleteGroup(groupId: string): Promise<void> {
    try {
      await this.admin.deleteGroups([groupId]);
    } catch (err) {
      const failed = (err as { groups?: Array<{ groupId: string; error?: { type?: string; message?: string } }> }).groups?.[0];
      if (!failed) throw err;
      throw new ClientError(`group '${groupId}' could not be deleted: ${groupDeleteReason(failed.error?.type, failed.error?.message)}`);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // SCRAM users (KIP-554; kafkajs has no encoder for these APIs: sent with this project's codec)

  /** Every user with a SCRAM credential, or the named ones (an unknown name is an error, as in kafka-configs.sh). */
  async describeScramUsers(users: string[] | null = null): Promise<ScramUserListing[]> {
    const res = await sendWithOwnCodec(await seedBroker(this.cluster), DescribeUserScramCredentials, 0, { users: users?.map((name) => ({ name })) ?? null });
    if (res.errorCode !== 0) throw brokerError(res.errorCode, res.errorMessage);
    const failed = res.results.find((r) => r.errorCode !== 0);
    if (failed) throw brokerError(failed.errorCode, failed.errorMessage);
    const byCode = Object.fromEntries(Object.entries(SCRAM_MECHANISMS).map(([name, code]) => [code, name as ScramMechanism]));
    return res.results.map((r) => ({ user: r.user, credentials: r.credentialInfos.map((c) => ({ mechanism: byCode[c.mechanism], iterations: c.iterations })) }));
  }

  /**
   * Sets a user's password for one mechanism. The password is salted and hashed here (a new 32-byte salt), as Kafka's
   * admin client does: only the salted password reaches the cluster.
   */
  async upsertScramUser(user: string, mechanism: ScramMechanism, password: string, iterations = 4096): Promise<void> {
    const salt = randomBytes(32);
    const hash = mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512';
    const saltedPassword = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, hash === 'sha256' ? 32 : 64, hash);
    await this.alterScram([], [{ name: user, mechanism: SCRAM_MECHANISMS[mechanism], iterations, salt, saltedPassword }]);
  }

  async deleteScramUser(user: string, mechanism: ScramMechanism): Promise<void> {
    await this.alterScram([{ name: user, mechanism: SCRAM_MECHANISMS[mechanism] }], []);
  }

  private async alterScram(
    deletions: Array<{ name: string; mechanism: number }>,
    upsertions: Array<{ name: string; mechanism: number; iterations: number; salt: Buffer; saltedPassword: Buffer }>,
  ): Promise<void> {
    const res = await sendWithOwnCodec(await seedBroker(this.cluster), AlterUserScramCredentials, 0, { deletions, upsertions });
    const failed = res.results.find((r) => r.errorCode !== 0);
    if (failed) throw brokerError(failed.errorCode, failed.errorMessage);
  }

  // -------------------------------------------------------------------------------------------------------------
  // Transactions (kafkajs has no encoder for these APIs: sent with this project's codec, see sendWithOwnCodec)

  /** Every transactional id of the cluster: ListTransactions asked of every broker, as kafka-transactions.sh does. */
  async listTransactions(): Promise<TransactionListing[]> {
    const md = await this.metadata([]);
    await this.cluster.refreshMetadata(); // findBroker looks brokers up in kafkajs's own cached metadata
    const out: TransactionListing[] = [];
    for (const b of md.brokers) {
      const broker = await this.cluster.findBroker({ nodeId: b.nodeId });
      const res = await sendWithOwnCodec(broker, ListTransactions, 0, { stateFilters: [], producerIdFilters: [] });
      if (res.errorCode !== 0) throw brokerError(res.errorCode);
      for (const t of res.transactionStates) out.push({ transactionalId: t.transactionalId, coordinatorId: b.nodeId, producerId: t.producerId, state: t.transactionState });
    }
    return out.sort((a, b) => a.transactionalId.localeCompare(b.transactionalId));
  }

  /** The state of a transactional id, from its transaction coordinator. */
  async describeTransaction(transactionalId: string): Promise<TransactionDescription> {
    const broker = await this.cluster.findGroupCoordinator({ groupId: transactionalId, coordinatorType: 1 });
    const res = await sendWithOwnCodec(broker, DescribeTransactions, 0, { transactionalIds: [transactionalId] });
    const t = res.transactionStates[0];
    if (!t) throw new BrokerError('UNKNOWN_SERVER_ERROR', -1, 'empty DescribeTransactions response', false);
    if (t.errorCode !== 0) throw brokerError(t.errorCode);
    return {
      coordinatorId: broker.nodeId,
      transactionalId: t.transactionalId,
      producerId: t.producerId,
      producerEpoch: t.producerEpoch,
      state: t.transactionState,
      timeoutMs: t.transactionTimeoutMs,
      startTimeMs: t.transactionStartTimeMs,
      partitions: t.topics.flatMap((x) => x.partitions.map((partition) => ({ topic: x.topic, partition }))),
    };
  }

  /** The producers the leader of a partition knows, with their open transaction's first offset. */
  async describeProducers(topic: string, partition: number): Promise<ProducerStateInfo[]> {
    await this.cluster.addTargetTopic(topic);
    const leaders = this.cluster.findLeaderForPartitions(topic, [partition]);
    const leaderId = Object.keys(leaders).find((id) => leaders[id].includes(partition));
    if (leaderId === undefined) throw brokerError(UNKNOWN_TOPIC_OR_PARTITION);
    const broker = await this.cluster.findBroker({ nodeId: leaderId });
    const res = await sendWithOwnCodec(broker, DescribeProducers, 0, { topics: [{ name: topic, partitionIndexes: [partition] }] });
    const p = res.topics[0]?.partitions[0];
    if (!p) throw new BrokerError('UNKNOWN_SERVER_ERROR', -1, 'empty DescribeProducers response', false);
    if (p.errorCode !== 0) throw brokerError(p.errorCode, p.errorMessage);
    return p.activeProducers.map((a) => ({
      producerId: a.producerId,
      producerEpoch: a.producerEpoch,
      coordinatorEpoch: a.coordinatorEpoch,
      lastSequence: a.lastSequence,
      lastTimestamp: a.lastTimestamp,
      currentTransactionStartOffset: a.currentTxnStartOffset,
    }));
  }

  /**
   * The open transactions the leaders of these topics' partitions know (DescribeProducers, one request per leader,
   * as kafka-transactions.sh find-hanging asks): the transactions that hold a partition's LSO back. Partitions
   * without a leader, or whose leader fails, are left out.
   */
  async openTransactionsOn(topics: string[]): Promise<PartitionOpenTransaction[]> {
    const byLeader = await this.partitionsByLeader(topics);
    const out: PartitionOpenTransaction[] = [];
    await Promise.all(
      [...byLeader].map(async ([leaderId, parts]) => {
        const res = await sendWithOwnCodec(await this.broker(leaderId), DescribeProducers, 0, {
          topics: [...parts].map(([name, partitionIndexes]) => ({ name, partitionIndexes })),
        });
        for (const t of res.topics) {
          for (const p of t.partitions) {
            if (p.errorCode !== 0) continue;
            for (const a of p.activeProducers) {
              if (a.currentTxnStartOffset < 0) continue;
              out.push({ topic: t.name, partition: p.partitionIndex, producerId: a.producerId, producerEpoch: a.producerEpoch, startOffset: a.currentTxnStartOffset, lastTimestamp: a.lastTimestamp });
            }
          }
        }
      }),
    );
    return out.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition || a.producerId - b.producerId);
  }

  /** Every log directory of one broker with the size of each partition replica in it (DescribeLogDirs). */
  async describeLogDirs(brokerId: number): Promise<LogDirInfo[]> {
    const res = await sendWithOwnCodec(await this.broker(brokerId), DescribeLogDirs, 4, { topics: null });
    if (res.errorCode !== 0) throw brokerError(res.errorCode);
    return res.results.map((d) => ({
      path: d.logDir,
      ...(d.errorCode !== 0 ? { error: brokerError(d.errorCode).type } : {}),
      totalBytes: Number(d.totalBytes),
      usableBytes: Number(d.usableBytes),
      partitions: d.topics
        .flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, sizeBytes: Number(p.partitionSize), offsetLag: Number(p.offsetLag), isFuture: p.isFutureKey })))
        .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition),
    }));
  }

  // -------------------------------------------------------------------------------------------------------------
  // ACLs (kafkajs's own requests; a cluster without an authorizer answers SECURITY_DISABLED, thrown as BrokerError)

  /** Every ACL binding of the cluster, sorted by resource, then principal. */
  async describeAcls(): Promise<AclBindingInfo[]> {
    const res = await this.admin
      .describeAcls({
        resourceType: AclResourceTypes.ANY,
        resourcePatternType: ResourcePatternTypes.ANY,
        operation: AclOperationTypes.ANY,
        permissionType: AclPermissionTypes.ANY,
      })
      .catch(rethrowBrokerError);
    if (res.errorCode) throw brokerError(res.errorCode, res.errorMessage);
    const out: AclBindingInfo[] = [];
    for (const r of res.resources) {
      for (const a of r.acls) {
        out.push({
          principal: a.principal,
          host: a.host,
          operation: enumName(AclOperationTypes, a.operation) as AclOperation,
          permission: enumName(AclPermissionTypes, a.permissionType) as AclPermission,
          resourceType: enumName(AclResourceTypes, r.resourceType) as AclResourceType,
          resourceName: r.resourceName,
          patternType: enumName(ResourcePatternTypes, r.resourcePatternType) as AclPatternType,
        });
      }
    }
    return out.sort((a, b) => a.resourceType.localeCompare(b.resourceType) || a.resourceName.localeCompare(b.resourceName) || a.principal.localeCompare(b.principal) || a.operation.localeCompare(b.operation));
  }

  async createAcl(b: AclBindingInfo): Promise<void> {
    await this.admin.createAcls({ acl: [toKafkaJsAcl(b)] }).catch(rethrowBrokerError);
  }

  /** Deletes exactly this binding; returns how many bindings the broker removed (0 when it was already gone). */
  async deleteAcl(b: AclBindingInfo): Promise<number> {
    const res = await this.admin.deleteAcls({ filters: [toKafkaJsAcl(b)] }).catch(rethrowBrokerError);
    const f = res.filterResponses[0];
    if (f && f.errorCode) throw brokerError(f.errorCode, f.errorMessage);
    return f?.matchingAcls.length ?? 0;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Helpers

  /** Metadata that tolerates partition errors (kafkajs's own parser throws on an offline partition). */
  private metadata(topics: string[]): Promise<RawMetadata> {
    return fetchMetadata(this.cluster, topics);
  }

  /**
   * Sends an admin request to the broker we are connected to and throws the first per-entity error with the
   * broker's own message. A ZooKeeper-era broker only accepts these on the controller (NOT_CONTROLLER):
   * then `viaController` repeats the call through kafkajs's public API, which routes it there.
   */
  private async sendAdmin<T>(
    api: Exclude<keyof typeof API_KEYS, 'metadata'>,
    args: object,
    errorsOf: (response: T) => Array<{ errorCode: number; errorMessage?: string | null }>,
    viaController: () => Promise<unknown>,
  ): Promise<void> {
    const response = await sendRaw<T>(await seedBroker(this.cluster), API_KEYS[api], REQUESTS[api], args);
    const failed = errorsOf(response).find((e) => e.errorCode !== 0);
    if (!failed) return;
    const err = brokerError(failed.errorCode, failed.errorMessage);
    if (err.type !== 'NOT_CONTROLLER') throw err;
    await viaController();
  }

  private async requireTopic(name: string): Promise<void> {
    await this.describeTopics([name]);
  }

  private async waitForLeaders(topic: string): Promise<void> {
    const deadline = Date.now() + LEADER_WAIT_MS;
    while (Date.now() < deadline) {
      const md = await this.metadata([topic]);
      const t = md.topicMetadata.find((x) => x.topic === topic);
      if (t && t.topicErrorCode === 0 && t.partitionMetadata.length > 0 && t.partitionMetadata.every((p) => p.leader >= 0)) return;
      await sleep(100);
    }
  }

  private async addOffsets(topic: TopicDescription, high: Map<number, bigint>): Promise<void> {
    // kafkajs's Cluster asks ListOffsets with read_committed (the isolation it was built with), so its "latest" is
    // the last stable offset; the high watermark comes from highWatermarksOf (read_uncommitted, our codec).
    const [low, stable] = await Promise.all([this.listOffsets(topic, 'earliest'), this.listOffsets(topic, 'latest')]);
    for (const p of topic.partitions) {
      const l = low.get(p.partition);
      const h = high.get(p.partition);
      const st = stable.get(p.partition);
      if (l !== undefined && h !== undefined) Object.assign(p, { low: l.toString(), high: h.toString(), ...(st !== undefined ? { stable: st.toString() } : {}) });
    }
  }

  /** ListOffsets latest with read_uncommitted (the high watermark) of the topics' led partitions, one request per leader. */
  private async highWatermarksOf(topics: TopicDescription[]): Promise<Map<string, Map<number, bigint>>> {
    const byLeader = new Map<number, Map<string, number[]>>();
    for (const t of topics) for (const p of t.partitions) if (p.leader >= 0) addTo(byLeader, p.leader, t.name, p.partition);
    const out = new Map<string, Map<number, bigint>>();
    await Promise.all(
      [...byLeader].map(async ([leaderId, parts]) => {
        const res = await sendWithOwnCodec(await this.broker(leaderId), ListOffsets, 5, {
          replicaId: -1,
          isolationLevel: 0,
          topics: [...parts].map(([name, partitions]) => ({ name, partitions: partitions.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: -1 })) })),
        });
        for (const t of res.topics) {
          for (const p of t.partitions) {
            if (p.errorCode !== 0) continue;
            let m = out.get(t.name);
            if (!m) out.set(t.name, (m = new Map()));
            m.set(p.partitionIndex, BigInt(p.offset));
          }
        }
      }),
    );
    return out;
  }

  /** kafkajs's connection to a broker by id; its broker list is refreshed once when the id is new to it. */
  private async broker(nodeId: number): Promise<InternalBroker> {
    try {
      return await this.cluster.findBroker({ nodeId });
    } catch {
      await this.cluster.refreshMetadata();
      return this.cluster.findBroker({ nodeId });
    }
  }

  /** leader id -> topic -> partitions, for the partitions of `topics` that have a leader (one Metadata request). */
  private async partitionsByLeader(topics: string[]): Promise<Map<number, Map<string, number[]>>> {
    const md = await this.metadata(topics);
    const out = new Map<number, Map<string, number[]>>();
    for (const t of md.topicMetadata) {
      if (t.topicErrorCode !== 0) continue;
      for (const p of t.partitionMetadata) if (p.leader >= 0) addTo(out, p.leader, t.topic, p.partitionId);
    }
    return out;
  }

  /** High watermarks of a topic's online partitions; empty when the topic is gone. */
  private async highWatermarks(topic: string): Promise<Map<number, string>> {
    const md = await this.metadata([topic]);
    const t = md.topicMetadata.find((x) => x.topic === topic && x.topicErrorCode === 0);
    if (!t) return new Map();
    const partitions = t.partitionMetadata.map((p) => ({ partition: p.partitionId, leader: p.leader }));
    const high = await this.listOffsets({ name: topic, partitions }, 'latest');
    return new Map([...high].map(([p, o]) => [p, o.toString()]));
  }

  /**
   * ListOffsets for the partitions that have a leader (offline ones are left out). With a timestamp, partitions
   * with no record at or after it answer -1.
   */
  private async listOffsets(
    topic: { name: string; partitions: Array<{ partition: number; leader: number }> },
    spec: 'earliest' | 'latest' | { timestamp: number },
  ): Promise<Map<number, bigint>> {
    const online = topic.partitions.filter((p) => p.leader >= 0).map((p) => ({ partition: p.partition }));
    if (online.length === 0) return new Map();
    const query = [{ topic: topic.name, partitions: online, ...(typeof spec === 'object' ? { fromTimestamp: spec.timestamp } : { fromBeginning: spec === 'earliest' }) }];
    await this.cluster.addTargetTopic(topic.name);
    let result;
    try {
      result = await this.cluster.fetchTopicsOffset(query);
    } catch (err) {
      // Leaders moved since the cached metadata: refresh once and ask the new leaders.
      if (!isStaleMetadata(err)) throw err;
      await this.cluster.refreshMetadata();
      result = await this.cluster.fetchTopicsOffset(query);
    }
    return new Map(result.flatMap((t) => t.partitions.map((p) => [p.partition, BigInt(p.offset)] as const)));
  }

  private async resetPlan(topic: TopicDescription, to: OffsetResetTarget): Promise<PartitionOffset[]> {
    const byTimestamp = typeof to === 'object' && 'timestamp' in to ? await this.listOffsets(topic, to) : undefined;
    return topic.partitions.map((p) => {
      if (p.low === undefined || p.high === undefined) throw new ClientError(`partition ${p.partition} of '${topic.name}' is offline`);
      const low = BigInt(p.low);
      const high = BigInt(p.high);
      let target: bigint;
      if (to === 'earliest') target = low;
      else if (to === 'latest') target = high;
      else if ('offset' in to) target = BigInt(to.offset);
      else target = byTimestamp?.get(p.partition) ?? -1n;
      if (byTimestamp && target < 0n) target = high; // no record at or after the time: the end, like Kafka
      const clamped = target < low ? low : target > high ? high : target;
      return { topic: topic.name, partition: p.partition, offset: clamped.toString() };
    });
  }

  /** OffsetCommit with generation -1 and no member id: how Kafka's admin tools commit for an inactive group. */
  private async commitOffsets(groupId: string, topic: string, offsets: PartitionOffset[]): Promise<void> {
    await this.cluster.addTargetTopic(topic);
    const coordinator = await this.cluster.findGroupCoordinator({ groupId });
    await coordinator.offsetCommit({
      groupId,
      groupGenerationId: -1,
      memberId: '',
      retentionTime: -1,
      topics: [{ topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.offset })) }],
    });
  }
}

function addTo(m: Map<number, Map<string, number[]>>, leader: number, topic: string, partition: number): void {
  let byTopic = m.get(leader);
  if (!byTopic) m.set(leader, (byTopic = new Map()));
  let parts = byTopic.get(topic);
  if (!parts) byTopic.set(topic, (parts = []));
  parts.push(partition);
}

/** The name of a kafkajs enum value (AclOperationTypes.READ -> 'READ'). */
function enumName(e: Record<string, number | string>, value: number): string {
  return Object.keys(e).find((k) => e[k] === value) ?? 'UNKNOWN';
}

function toKafkaJsAcl(b: AclBindingInfo) {
  return {
    principal: b.principal,
    host: b.host,
    operation: AclOperationTypes[b.operation],
    permissionType: AclPermissionTypes[b.permission],
    resourceType: AclResourceTypes[b.resourceType],
    resourceName: b.resourceName,
    resourcePatternType: ResourcePatternTypes[b.patternType],
  };
}

/** kafkajs turns a broker error code into its own error (type = Kafka's name): keep the type, as BrokerError. */
function rethrowBrokerError(err: unknown): never {
  const e = err as { type?: string; code?: number; message?: string; retriable?: boolean };
  if (typeof e.type === 'string' && typeof e.code === 'number') throw new BrokerError(e.type, e.code, e.message ?? e.type, e.retriable === true);
  throw err;
}

function unknownTopic(name: string): ClientError {
  return new ClientError(`topic '${name}' does not exist`);
}

function isInternal(name: string, flag: boolean | undefined): boolean {
  return flag === true || INTERNAL_TOPICS.includes(name);
}

/** Kafka's ConfigSource codes (DescribeConfigs v1+); v0 only says whether a value is the default. */
function configSourceName(source: number | undefined, isDefault: boolean | undefined): ConfigSourceName {
  switch (source) {
    case 1: // DYNAMIC_TOPIC_CONFIG
      return 'topic';
    case 2: // DYNAMIC_BROKER_CONFIG
    case 3: // DYNAMIC_DEFAULT_BROKER_CONFIG
    case 4: // STATIC_BROKER_CONFIG
    case 6: // DYNAMIC_BROKER_LOGGER_CONFIG
      return 'broker';
    case 5: // DEFAULT_CONFIG
      return 'default';
    default:
      return isDefault ? 'default' : 'topic';
  }
}

function decodeAssignment(buffer: Buffer): Record<string, number[]> {
  if (!buffer || buffer.length === 0) return {};
  try {
    return AssignerProtocol.MemberAssignment.decode(buffer)?.assignment ?? {};
  } catch {
    return {}; // not the consumer protocol's format (e.g. a custom protocol type)
  }
}

function groupDeleteReason(type: string | undefined, message: string | undefined): string {
  switch (type) {
    case 'GROUP_ID_NOT_FOUND':
      return 'the group does not exist';
    case 'NON_EMPTY_GROUP':
      return 'the group is not empty (it still has active members)';
    default:
      return message ?? type ?? 'unknown error';
  }
}

/** kafkajs's "your metadata is out of date" errors (its protocol/error.js staleMetadata list). */
function isStaleMetadata(err: unknown): boolean {
  const type = (err as { type?: string }).type;
  return type === 'UNKNOWN_TOPIC_OR_PARTITION' || type === 'LEADER_NOT_AVAILABLE' || type === 'NOT_LEADER_FOR_PARTITION';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export { BrokerError };
