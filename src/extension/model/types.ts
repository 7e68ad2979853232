// What the explorer shows about a cluster, independent of where it comes from (the embedded cluster's control
// endpoint or Kafka admin requests). vscode-free.

import type { AclBindingInfo, GroupOffsets, LogDirInfo, TopicDescription } from '../../client/admin';
import type { TransactionsOverview } from './transactions';

export type BrokerStatus = 'up' | 'down' | 'paused' | 'fenced' | 'starting' | 'stopping';

export interface BrokerRow {
  id: number;
  host: string;
  port: number;
  isController: boolean;
  status: BrokerStatus;
  /** Embedded cluster only: the OS process behind the broker. */
  pid?: number | null;
  /** Embedded cluster only: how the process ended ("exit code 1", "signal SIGKILL"). */
  exit?: string;
}

/** Embedded cluster only: the supervisor process, which holds the controller. */
export interface ControllerRow {
  pid: number;
  startedAt: number;
  /** It took over brokers a previous supervisor had started (that one died). */
  adopted: boolean;
}

export interface GroupSummary {
  groupId: string;
  /** Stable, PreparingRebalance, CompletingRebalance, Empty, Dead; "unknown" when it could not be read. */
  state: string;
  protocolType: string;
  members: number;
  /** Sum of the known per-partition lags; null when none is known. */
  totalLag: string | null;
  /** Why the details could not be read, in words. */
  error?: string;
}

/** The data a cluster offers the explorer. Every method may throw; callers turn errors into placeholder nodes. */
export interface ClusterSource {
  readonly kind: 'embedded' | 'external';
  brokers(): Promise<BrokerRow[]>;
  /** Embedded cluster only: the controller's process (absent for clusters reached over Kafka admin requests). */
  controller?(): Promise<ControllerRow | undefined>;
  /** Every topic with leader/replicas/ISR per partition (no offsets), sorted by name. */
  topics(): Promise<TopicDescription[]>;
  /** One topic with offsets (log start and high watermark) where they can be read. */
  topic(name: string): Promise<TopicDescription>;
  groups(): Promise<GroupSummary[]>;
  groupOffsets(groupId: string): Promise<GroupOffsets>;
  /** Open transactions (coordinators' and partition leaders' view) and which of them hang. */
  transactions(): Promise<TransactionsOverview>;
  /** For partitions of `topic` whose LSO is behind the high watermark: the open transaction(s) holding it, in words. */
  openTransactionsOn(topic: string, partitions: number[]): Promise<Map<number, string>>;
  /** Every ACL binding; `enabled: false` when the cluster has no authorizer (Kafka answers SECURITY_DISABLED). */
  acls(): Promise<{ enabled: true; acls: AclBindingInfo[] } | { enabled: false; reason: string }>;
  /** One broker's log directories with the size of each partition replica (DescribeLogDirs). */
  logDirs(brokerId: number): Promise<LogDirInfo[]>;
}

export type EmbeddedStatus = 'stopped' | 'starting' | 'running' | 'stopping';
