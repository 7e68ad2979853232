// What one change of the embedded cluster's control state means for the explorer: which rows must be redrawn.
// The event stream reports every leader move, ISR change and broker state; with thousands of partitions a refresh
// of the whole cluster per event would rebuild every visible row and re-read the offsets of every expanded topic
// and the Groups, Transactions and ACLs folders (admin requests), although none of them changed. vscode-free.

import type { ClusterState } from '../../broker/cluster/supervisor';

type TopicState = ClusterState['topics'][number];
import { summarizeState } from '../model/health';

export interface StateChanges {
  /** The Brokers folder: a broker's process state, fencing or controller mark, or the supervisor changed. */
  brokers: boolean;
  /** The Topics folder: topics were created or deleted, or its counts (offline, under-replicated) changed. */
  topicList: boolean;
  /** Topics whose partitions (leader, replicas, ISR, or which of their replicas' brokers are alive) changed. */
  topics: Set<string>;
}

function liveBrokers(s: ClusterState): Set<number> {
  return new Set(s.brokers.filter((b) => b.state === 'running' && !b.fenced).map((b) => b.id));
}

function sameBrokers(a: ClusterState, b: ClusterState): boolean {
  if (a.brokers.length !== b.brokers.length) return false;
  const byId = new Map(a.brokers.map((x) => [x.id, x]));
  for (const y of b.brokers) {
    const x = byId.get(y.id);
    if (!x || x.state !== y.state || x.fenced !== y.fenced || x.isController !== y.isController || x.pid !== y.pid || x.exitCode !== y.exitCode || x.signal !== y.signal || x.host !== y.host || x.port !== y.port) return false;
  }
  const sa = a.supervisor;
  const sb = b.supervisor;
  return sa?.pid === sb?.pid && sa?.adopted === sb?.adopted && sa?.startedAt === sb?.startedAt;
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Whether a topic's rows would look different: its partitions, or the liveness of brokers holding its replicas. */
function topicChanged(a: TopicState, b: TopicState, liveChanged: Set<number>): boolean {
  if (a.internal !== b.internal || a.partitions.length !== b.partitions.length) return true;
  for (let i = 0; i < a.partitions.length; i++) {
    const p = a.partitions[i];
    const q = b.partitions[i];
    if (p.partition !== q.partition || p.leader !== q.leader || !sameIds(p.replicas, q.replicas) || !sameIds(p.isr, q.isr)) return true;
    if (liveChanged.size > 0 && q.replicas.some((r) => liveChanged.has(r))) return true;
  }
  return false;
}

/** The rows two control states differ in; linear in the partition count (no work per unchanged partition beyond a compare). */
export function stateChanges(prev: ClusterState, next: ClusterState, includeInternal: boolean): StateChanges {
  const before = liveBrokers(prev);
  const after = liveBrokers(next);
  const liveChanged = new Set([...before].filter((id) => !after.has(id)).concat([...after].filter((id) => !before.has(id))));
  const old = new Map(prev.topics.map((t) => [t.name, t]));
  const topics = new Set<string>();
  let created = false;
  for (const t of next.topics) {
    const o = old.get(t.name);
    if (!o) created = true;
    // The same object: nothing in it changed, only a broker holding one of its replicas may have.
    else if ((o !== t || liveChanged.size > 0) && topicChanged(o, t, liveChanged)) topics.add(t.name);
  }
  const names = new Set(next.topics.map((t) => t.name));
  const deleted = prev.topics.some((t) => !names.has(t.name));
  const a = summarizeState(prev, includeInternal);
  const b = summarizeState(next, includeInternal);
  const countsChanged = a.topics !== b.topics || a.offlinePartitions !== b.offlinePartitions || a.underReplicatedPartitions !== b.underReplicatedPartitions;
  return {
    brokers: !sameBrokers(prev, next) || a.brokersUp !== b.brokersUp,
    topicList: created || deleted || countsChanged,
    topics,
  };
}
