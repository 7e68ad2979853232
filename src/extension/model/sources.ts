// The two ClusterSources: a saved connection (everything through Kafka admin requests) and the embedded
// mini-cluster (brokers, topics, leaders and ISRs from the supervisor's control state, which the event stream
// keeps current; offsets and groups through Kafka admin requests). vscode-free.

import type { AclBindingInfo, GroupOffsets, LogDirInfo, PartitionInfo, TopicDescription } from '../../client/admin';
import { BrokerError, INTERNAL_TOPICS } from '../../client/admin';
import { explainOpenTransactions, readTransactions, TransactionsOverview } from './transactions';
import type { BrokerView, ClusterState } from '../../broker/cluster/supervisor';
import { AdminSession, mapLimit } from './adminSession';
import type { BrokerRow, BrokerStatus, ClusterSource, ControllerRow, GroupSummary } from './types';
import { describeError } from './errors';
import { withTimeout } from './embedded';
import { Batcher } from './batcher';
import { LeaderOffsetsReader, OffsetRange } from './leaderOffsets';
import { ClientError } from '../../client/connection';

const GROUP_DETAIL_CONCURRENCY = 8;
/** How long the embedded cluster's partition rows wait for offsets before showing without them. */
export const OFFSETS_TIMEOUT_MS = 1500;
/** How long one read of the open transactions answers the Transactions folder's reads. */
export const TRANSACTIONS_REUSE_MS = 1000;

abstract class AdminBackedSource implements ClusterSource {
  abstract readonly kind: 'embedded' | 'external';
  constructor(protected readonly session: AdminSession) {}

  abstract brokers(): Promise<BrokerRow[]>;
  abstract topics(): Promise<TopicDescription[]>;
  abstract topic(name: string): Promise<TopicDescription>;

  async groups(): Promise<GroupSummary[]> {
    const listing = await this.session.use((a) => a.listGroups());
    return mapLimit(listing, GROUP_DETAIL_CONCURRENCY, async (g) => {
      try {
        return summarizeGroup(await this.groupOffsets(g.groupId));
      } catch (err) {
        return { groupId: g.groupId, state: 'unknown', protocolType: g.protocolType, members: 0, totalLag: null, error: describeError(err) };
      }
    });
  }

  groupOffsets(groupId: string): Promise<GroupOffsets> {
    return this.session.use((a) => a.groupOffsets(groupId));
  }

  private lastTransactions: { at: number; read: Promise<TransactionsOverview> } | undefined;

  /**
   * Read when the Transactions folder is expanded (and redrawn), shared by the reads of TRANSACTIONS_REUSE_MS: one
   * DescribeProducers per leader broker covers every partition, so its cost grows with the brokers, not the
   * partitions, but a burst of redraws (a refresh while the view re-fetches) must not repeat it.
   */
  transactions(): Promise<TransactionsOverview> {
    const last = this.lastTransactions;
    if (last && Date.now() - last.at < TRANSACTIONS_REUSE_MS) return last.read;
    const read = this.readTransactions();
    this.lastTransactions = { at: Date.now(), read };
    read.catch(() => {
      if (this.lastTransactions?.read === read) this.lastTransactions = undefined; // a failure is not reused
    });
    return read;
  }

  private async readTransactions(): Promise<TransactionsOverview> {
    // Every topic's leaders are asked (DescribeProducers), internal ones included: a transactional offset commit
    // holds a transaction open on a __consumer_offsets partition.
    const topics = (await this.topics()).map((t) => t.name);
    return this.session.use((a) => readTransactions(a, topics));
  }

  openTransactionsOn(topic: string, partitions: number[]): Promise<Map<number, string>> {
    return this.session.use((a) => explainOpenTransactions(a, topic, partitions));
  }

  acls(): Promise<{ enabled: true; acls: AclBindingInfo[] } | { enabled: false; reason: string }> {
    return this.session.use(async (a) => {
      try {
        return { enabled: true as const, acls: await a.describeAcls() };
      } catch (err) {
        // An answer, not a failure: kept out of the session's reconnect-and-retry path.
        if (err instanceof BrokerError && err.type === 'SECURITY_DISABLED') return { enabled: false as const, reason: err.message };
        throw err;
      }
    });
  }

  logDirs(brokerId: number): Promise<LogDirInfo[]> {
    return this.session.use((a) => a.describeLogDirs(brokerId));
  }
}

export function summarizeGroup(offsets: GroupOffsets): GroupSummary {
  let total: bigint | null = null;
  for (const p of offsets.partitions) if (p.lag !== null) total = (total ?? 0n) + BigInt(p.lag);
  const g = offsets.group;
  return { groupId: g.groupId, state: g.state, protocolType: g.protocolType, members: g.members.length, totalLag: total === null ? null : total.toString() };
}

export class ExternalSource extends AdminBackedSource {
  readonly kind = 'external' as const;

  async brokers(): Promise<BrokerRow[]> {
    const d = await this.session.use((a) => a.describeCluster());
    return d.brokers.map((b) => ({ id: b.nodeId, host: b.host, port: b.port, isController: b.nodeId === d.controllerId, status: 'up' as const }));
  }

  topics(): Promise<TopicDescription[]> {
    return this.session.use((a) => a.describeTopics());
  }

  private readonly batch = new Batcher<string, TopicDescription>((names) => describeWithOffsets(this.session, names));

  topic(name: string): Promise<TopicDescription> {
    return this.batch.get(name);
  }
}

/**
 * Several topics with offsets in one admin call; when one of them is gone (ClientError names the first missing
 * topic), the others are read one by one so that one deleted topic does not fail its neighbours.
 */
export async function describeWithOffsets(session: AdminSession, names: string[]): Promise<Map<string, TopicDescription>> {
  try {
    const topics = await session.use((a) => a.describeTopics(names, { includeOffsets: true }));
    return new Map(topics.map((t) => [t.name, t]));
  } catch (err) {
    if (!(err instanceof ClientError) || names.length === 1) throw err;
    const out = new Map<string, TopicDescription>();
    await mapLimit(names, 8, async (n) => {
      try {
        const [t] = await session.use((a) => a.describeTopics([n], { includeOffsets: true }));
        out.set(n, t);
      } catch {
        /* this one is gone: its caller gets "no result" */
      }
    });
    return out;
  }
}

export function brokerStatus(b: BrokerView): BrokerStatus {
  switch (b.state) {
    case 'running':
      return b.fenced ? 'fenced' : 'up';
    case 'paused':
      return 'paused';
    case 'starting':
      return 'starting';
    case 'stopping':
      return 'stopping';
    case 'stopped':
    case 'crashed':
      return 'down';
  }
}

export function brokerRowOf(b: BrokerView): BrokerRow {
  const exit = b.state === 'crashed' || b.state === 'stopped' ? (b.signal ? `signal ${b.signal}` : b.exitCode !== null ? `exit code ${b.exitCode}` : undefined) : undefined;
  return { id: b.id, host: b.host, port: b.port, isController: b.isController, status: brokerStatus(b), pid: b.pid, ...(exit ? { exit } : {}) };
}

/** The control state's topics as the admin layer describes them (offline replicas: replicas on brokers not up). */
export function topicsOfState(state: ClusterState): TopicDescription[] {
  const live = new Set(state.brokers.filter((b) => b.state === 'running' && !b.fenced).map((b) => b.id));
  return state.topics
    .map((t) => ({
      name: t.name,
      internal: t.internal || INTERNAL_TOPICS.includes(t.name),
      partitions: t.partitions.map(
        (p): PartitionInfo => ({
          partition: p.partition,
          leader: p.leader,
          replicas: [...p.replicas],
          isr: [...p.isr],
          offlineReplicas: p.replicas.filter((r) => !live.has(r)),
        }),
      ),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export class EmbeddedSource extends AdminBackedSource {
  readonly kind = 'embedded' as const;
  private readonly leaderOffsets = new LeaderOffsetsReader();

  /** Offsets of the topics expanded together, read together from their leaders, bounded in time. */
  private readonly offsets = new Batcher<string, Map<number, OffsetRange>>(
    async (names) => {
      const all = await withTimeout(this.leaderOffsets.read(this.current(), names), OFFSETS_TIMEOUT_MS, 'no answer from the brokers');
      // Topics without any readable partition get an empty map (rows without offsets), not an error.
      return new Map(names.map((n) => [n, all.get(n) ?? new Map()]));
    },
    { maxBatch: 5000 },
  );

  constructor(
    session: AdminSession,
    private readonly state: () => ClusterState | undefined,
  ) {
    super(session);
  }

  private current(): ClusterState {
    const s = this.state();
    if (!s) throw new Error('the mini-cluster is not running');
    return s;
  }

  async brokers(): Promise<BrokerRow[]> {
    return this.current()
      .brokers.map(brokerRowOf)
      .sort((a, b) => a.id - b.id);
  }

  async controller(): Promise<ControllerRow | undefined> {
    return this.current().supervisor;
  }

  async topics(): Promise<TopicDescription[]> {
    return topicsOfState(this.current());
  }

  /** Leaders and ISRs from the control state (fresher than any metadata request); offsets from the leaders. */
  async topic(name: string): Promise<TopicDescription> {
    const state = this.current();
    const ts = state.topics.find((x) => x.name === name);
    if (!ts) throw new Error(`topic '${name}' does not exist`);
    const [t] = topicsOfState({ ...state, topics: [ts] });
    if (t.partitions.some((p) => p.leader >= 0)) {
      try {
        // Bounded: a frozen leader must not hold up the leaders and ISRs (what a user watches then).
        const ranges = await this.offsets.get(name);
        for (const p of t.partitions) {
          const r = ranges.get(p.partition);
          if (r && p.leader >= 0) Object.assign(p, { low: r.low, high: r.high, ...(r.stable !== undefined ? { stable: r.stable } : {}) });
          else if (p.leader >= 0) p.error ??= 'offsets unavailable: the leader did not answer';
        }
      } catch (err) {
        for (const p of t.partitions) p.error ??= `offsets unavailable: ${describeError(err)}`;
      }
    }
    return t;
  }

  dispose(): void {
    this.leaderOffsets.dispose();
  }
}
