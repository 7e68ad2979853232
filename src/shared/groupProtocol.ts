// Messages of the consumer group panel (webview/group <-> src/extension/panels/groupPanel.ts).
//
// The host polls the group about every POLL_INTERVAL_MS (DescribeGroups, OffsetFetch, ListOffsets), keeps a
// bounded history of lag samples and a bounded timeline (rebalances seen between polls, and the cluster's
// leader/ISR events on the group's partitions), and pushes each new snapshot to the page.

import { notification, request } from './ipc';

export const GROUP_PANEL = 'group';
export const POLL_INTERVAL_MS = 1000;
/** Lag samples kept (at one a second: ten minutes). */
export const LAG_HISTORY = 600;
export const TIMELINE_LIMIT = 200;

export interface GroupMemberView {
  memberId: string;
  clientId: string;
  host: string;
  /** "topic": partitions, sorted. */
  assignment: Array<{ topic: string; partitions: number[] }>;
  /** One of this panel's own members ("consume as a new member"). */
  own: boolean;
}

export interface GroupPartitionView {
  topic: string;
  partition: number;
  committed: string | null;
  end: string | null;
  lag: string | null;
  ownerClientId: string | null;
  ownerMemberId: string | null;
  /** Leader broker from the last metadata read, -1 offline, null unknown. */
  leader: number | null;
}

export interface GroupSnapshot {
  time: number;
  state: string;
  protocolType: string;
  protocol: string;
  /**
   * Kafka's DescribeGroups does not report the generation id, so this counts the generations the panel saw
   * begin (membership or assignment changed, or the group passed through a rebalance) since it was opened.
   */
  rebalancesSeen: number;
  members: GroupMemberView[];
  partitions: GroupPartitionView[];
  /** Sum of the known lags. */
  totalLag: string;
  /** The read failed: the reason in words (the previous figures stay on screen). */
  error?: string;
}

export interface LagSample {
  time: number;
  total: number;
  /** "topic-partition" -> lag. */
  byPartition: Record<string, number>;
}

export type TimelineKind = 'rebalance' | 'state' | 'member' | 'leader' | 'isr' | 'broker' | 'own' | 'error';

export interface TimelineEntry {
  time: number;
  kind: TimelineKind;
  text: string;
}

export interface OwnMemberView {
  id: number;
  topic: string;
  clientId: string;
  consumed: number;
  /** Partitions of the records this member received (which partitions the group gave it). */
  partitionsSeen: number[];
  state: 'joining' | 'consuming' | 'stopped' | 'error';
  error?: string;
  /** The last few records, as text. */
  last: Array<{ partition: number; offset: string; value: string | null }>;
}

export interface GroupSyncResult {
  clusterLabel: string;
  groupId: string;
  /** Topics the group's members could join on (the group's topics first, then the cluster's). */
  topics: string[];
  snapshot: GroupSnapshot | null;
  history: LagSample[];
  timeline: TimelineEntry[];
  ownMembers: OwnMemberView[];
}

export interface GroupUpdate {
  snapshot: GroupSnapshot;
  /** The lag sample this poll added to the history (absent when the poll failed). */
  sample?: LagSample;
  ownMembers: OwnMemberView[];
}

export const GroupSyncRequest = request<void, GroupSyncResult>('group/sync');
export const GroupUpdateNotification = notification<GroupUpdate>('group/update');
/** New timeline entries, oldest first. */
export const GroupTimelineNotification = notification<TimelineEntry[]>('group/timeline');
/** Joins the group with a new member of this panel, reading `topic` (see the seed's queue behaviour). */
export const JoinGroupRequest = request<{ topic: string; from: 'earliest' | 'latest' }, OwnMemberView>('group/join');
export const LeaveGroupRequest = request<{ id: number }, void>('group/leave');
export const RefreshGroupRequest = request<void, void>('group/refresh');
