// The cluster explorer's nodes: a discriminated union on `kind`, one file per kind (node.<kind>.ts) with how
// the node looks (item) and what it contains (children). Nodes carry the ids of the *Ref shapes in
// contract.ts (clusterId, brokerId, topic, partition, groupId), so a node handed to a command from a context
// menu is already the command's argument. Everything here is vscode-free: provider.ts turns an
// ItemPresentation into a vscode.TreeItem, and the unit tests and the tree benchmark use the model directly.

import type { AclBindingInfo, GroupMemberInfo, GroupPartitionOffset, LogDirInfo, LogDirPartition, PartitionInfo } from '../../client/admin';
import type { OpenTransaction, OrphanTransaction } from '../model/transactions';
import type { ClusterState } from '../../broker/cluster/supervisor';
import type { BrokerRow, ClusterSource, ControllerRow, EmbeddedStatus, GroupSummary } from '../model/types';

/** What the tree knows about one cluster (the embedded one or a saved connection). */
export interface TreeCluster {
  readonly id: string;
  readonly kind: 'embedded' | 'external';
  readonly label: string;
  /** Embedded: the lifecycle state; external clusters are always 'external'. */
  status(): EmbeddedStatus | 'external';
  bootstrap(): string | undefined;
  /** Extra tooltip lines (data dir, security settings...). */
  details(): string[];
  /** Why the cluster is not usable, in words (start failure, unreadable secret...). */
  lastError(): string | undefined;
  /** Undefined while the cluster cannot be queried (embedded and not running). */
  source(): ClusterSource | undefined;
  /** Counts known without a request (embedded cluster: from the control state); topics exclude hidden internal ones. */
  summary?(): ClusterSummary | undefined;
  /** Embedded: the control state the rows are drawn from, compared between events to refresh only what changed. */
  controlState?(): ClusterState | undefined;
}

export interface ClusterSummary {
  brokersUp: number;
  brokersTotal: number;
  topics: number;
  offlinePartitions: number;
  underReplicatedPartitions: number;
}

export interface TreeOptions {
  showInternalTopics: boolean;
}

export interface ItemPresentation {
  /** Stable across refreshes, so VS Code keeps expansion and selection. */
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  contextValue: string;
  /** A codicon id, optionally with a theme color id. */
  icon?: { id: string; color?: string };
  collapsible: 'none' | 'collapsed' | 'expanded';
  command?: { command: string; title: string; arguments?: unknown[] };
}

interface NodeBase {
  readonly id: string;
  readonly clusterId: string;
}

export interface ClusterNode extends NodeBase {
  readonly kind: 'cluster';
  readonly cluster: TreeCluster;
}

export type FolderKind = 'brokers' | 'topics' | 'groups' | 'transactions' | 'acls';

export interface FolderNode extends NodeBase {
  readonly kind: 'folder';
  readonly folder: FolderKind;
  readonly cluster: TreeCluster;
}

export interface BrokerNode extends NodeBase {
  readonly kind: 'broker';
  readonly brokerId: number;
  readonly broker: BrokerRow;
  readonly embedded: boolean;
  /** For its log directories (children). */
  readonly cluster?: TreeCluster;
}

/** The embedded cluster's controller: the supervisor process (shown under Brokers). */
export interface ControllerNode extends NodeBase {
  readonly kind: 'controller';
  readonly controller: ControllerRow;
}

export interface TopicNode extends NodeBase {
  readonly kind: 'topic';
  readonly topic: string;
  readonly internal: boolean;
  /** Updated in place when only this topic changed: VS Code refreshes a node it knows by object identity. */
  partitions: readonly PartitionInfo[];
  readonly cluster: TreeCluster;
}

export interface PartitionNode extends NodeBase {
  readonly kind: 'partition';
  readonly topic: string;
  readonly partition: number;
  readonly info: PartitionInfo;
  readonly embedded: boolean;
  /** When the LSO is behind the high watermark: the open transaction(s) holding it, in words. */
  readonly openTransactions?: string;
}

/** An open transaction: one a coordinator reports (`txn`), or one only a partition leader holds (`orphan`). */
export interface TransactionNode extends NodeBase {
  readonly kind: 'transaction';
  readonly txn?: OpenTransaction;
  readonly orphan?: OrphanTransaction;
  /** When the tree read it (ages are relative to this). */
  readonly readAt: number;
}

export interface AclNode extends NodeBase {
  readonly kind: 'acl';
  readonly acl: AclBindingInfo;
}

/** One log directory of a broker (DescribeLogDirs); expands to its partition replicas. */
export interface LogDirNode extends NodeBase {
  readonly kind: 'logDir';
  readonly brokerId: number;
  readonly dir: LogDirInfo;
}

export interface LogDirPartitionNode extends NodeBase {
  readonly kind: 'logDirPartition';
  readonly brokerId: number;
  readonly replica: LogDirPartition;
}

export interface GroupNode extends NodeBase {
  readonly kind: 'group';
  readonly groupId: string;
  readonly summary: GroupSummary;
  readonly cluster: TreeCluster;
}

export interface GroupMemberNode extends NodeBase {
  readonly kind: 'groupMember';
  readonly groupId: string;
  readonly member: GroupMemberInfo;
}

export interface GroupOffsetNode extends NodeBase {
  readonly kind: 'groupOffset';
  readonly groupId: string;
  readonly topic: string;
  readonly partition: number;
  readonly offsets: GroupPartitionOffset;
}

export interface PlaceholderNode extends NodeBase {
  readonly kind: 'placeholder';
  readonly label: string;
  readonly severity: 'info' | 'error' | 'loading';
  readonly tooltip?: string;
  readonly command?: { command: string; title: string; arguments?: unknown[] };
}

export type TreeNode =
  | ClusterNode
  | FolderNode
  | BrokerNode
  | ControllerNode
  | TopicNode
  | PartitionNode
  | GroupNode
  | GroupMemberNode
  | GroupOffsetNode
  | TransactionNode
  | AclNode
  | LogDirNode
  | LogDirPartitionNode
  | PlaceholderNode;
export type NodeKind = TreeNode['kind'];

/** Path segments joined with '/', each escaped (group and member ids may contain anything). */
export function nodeId(...segments: Array<string | number>): string {
  return segments.map((s) => encodeURIComponent(String(s))).join('/');
}

export function placeholder(parentId: string, clusterId: string, label: string, opts: Partial<Pick<PlaceholderNode, 'severity' | 'tooltip' | 'command'>> & { key?: string } = {}): PlaceholderNode {
  return {
    kind: 'placeholder',
    id: `${parentId}/~${opts.key ?? (opts.severity === 'error' ? 'error' : 'info')}`,
    clusterId,
    label,
    severity: opts.severity ?? 'info',
    ...(opts.tooltip !== undefined ? { tooltip: opts.tooltip } : {}),
    ...(opts.command ? { command: opts.command } : {}),
  };
}

/** "512 B", "1.5 KiB", "3.2 MiB". */
export function formatBytes(n: number): string {
  if (n < 0) return 'unknown';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** "1 partition", "3 partitions". */
export function plural(n: number | bigint, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 || n === 1n ? one : many}`;
}

/** Theme colour ids used for marks (see the ThemeColor reference). */
export const Colors = {
  error: 'errorForeground',
  warning: 'list.warningForeground',
  ok: 'charts.green',
  muted: 'disabledForeground',
} as const;
