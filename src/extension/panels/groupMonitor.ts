// The host side of the consumer group panel, without vscode: polls a group about once a second, keeps a
// bounded lag history and timeline, notices rebalances between polls, files the cluster's leader/ISR events
// that touch the group's partitions, and runs the panel's own group members ("consume as a new member").

import type { GroupOffsets } from '../../client/admin';
import type { KafkaConnectionOptions } from '../../client/connection';
import { AdminSession } from '../model/adminSession';
import { describeError } from '../model/errors';
import { openConsumer, RecordStream } from '../../client/consumer';
import type { ClusterEvent } from '../../broker/cluster/supervisor';
import {
  GroupMemberView,
  GroupPartitionView,
  GroupSnapshot,
  GroupUpdate,
  LAG_HISTORY,
  LagSample,
  OwnMemberView,
  POLL_INTERVAL_MS,
  TIMELINE_LIMIT,
  TimelineEntry,
  TimelineKind,
} from '../../shared/groupProtocol';
import { decodeField } from './records';

export interface GroupMonitorOptions {
  connection: KafkaConnectionOptions;
  groupId: string;
  onUpdate(update: GroupUpdate): void;
  onTimeline?(entries: TimelineEntry[]): void;
  warn?(message: string): void;
  pollIntervalMs?: number;
  open?: typeof openConsumer;
}

const REBALANCING = new Set(['PreparingRebalance', 'CompletingRebalance']);
const PARTITION_EVENTS = new Set(['leader-changed', 'isr-shrunk', 'isr-expanded']);
const BROKER_EVENTS = new Set(['broker-crashed', 'broker-stopped', 'broker-paused', 'broker-fenced', 'broker-started', 'broker-resumed', 'broker-unfenced']);

interface OwnMember {
  view: OwnMemberView;
  stream?: RecordStream;
  loop?: Promise<void>;
  stopped: boolean;
}

export class GroupMonitor {
  readonly history: LagSample[] = [];
  readonly timeline: TimelineEntry[] = [];
  snapshot: GroupSnapshot | null = null;
  /**
   * The panel's own admin client, replaced after a failure: after a broker dies, kafkajs kept asking the dead broker
   * for metadata and the table's leader column stayed empty until the panel was reopened.
   */
  private readonly session: AdminSession;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private polling: Promise<void> | undefined;
  private disposed = false;
  private rebalancesSeen = 0;
  private inRebalance = false;
  private lastMembership = '';
  private lastAssignment = '';
  private lastError: string | undefined;
  private readonly members = new Map<number, OwnMember>();
  private nextMemberId = 1;
  private readonly clientPrefix = `minikafka-panel-${Math.random().toString(36).slice(2, 8)}`;

  constructor(private readonly options: GroupMonitorOptions) {
    this.session = new AdminSession(async () => options.connection);
  }

  get groupId(): string {
    return this.options.groupId;
  }

  start(): void {
    if (this.timer || this.disposed) return;
    this.schedule(0);
  }

  /** Polls now (and returns when done); the regular polling goes on. */
  async refresh(): Promise<void> {
    if (this.polling) await this.polling;
    await this.poll();
  }

  ownMembers(): OwnMemberView[] {
    return [...this.members.values()].map((m) => ({ ...m.view, partitionsSeen: [...m.view.partitionsSeen], last: [...m.view.last] }));
  }

  /** Topics of the group (from its committed offsets and assignments). */
  groupTopics(): string[] {
    return [...new Set(this.snapshot?.partitions.map((p) => p.topic) ?? [])];
  }

  async listTopics(): Promise<string[]> {
    return (await this.session.use((a) => a.listTopics())).filter((t) => !t.internal).map((t) => t.name);
  }

  /** A cluster event from the embedded cluster's supervisor: kept if it touches the group's partitions. */
  clusterEvent(ev: ClusterEvent): void {
    if (PARTITION_EVENTS.has(ev.type)) {
      const mine = this.snapshot?.partitions.some((p) => p.topic === ev.topic && (ev.partition === undefined || p.partition === ev.partition));
      if (!mine) return;
      this.add(ev.type === 'leader-changed' ? 'leader' : 'isr', ev.message, ev.time);
    } else if (BROKER_EVENTS.has(ev.type)) {
      this.add('broker', ev.message, ev.time);
    }
  }

  /** Joins the group with a new member of this panel reading `topic`; its records are counted, not kept. */
  async join(topic: string, from: 'earliest' | 'latest'): Promise<OwnMemberView> {
    if (this.disposed) throw new Error('the panel is closed');
    const id = this.nextMemberId++;
    const clientId = `${this.clientPrefix}-${id}`;
    const member: OwnMember = {
      view: { id, topic, clientId, consumed: 0, partitionsSeen: [], state: 'joining', last: [] },
      stopped: false,
    };
    this.members.set(id, member);
    this.add('own', `member ${id} (${clientId}) joins on ${topic}`);
    try {
      const open = this.options.open ?? openConsumer;
      member.stream = await open({ ...this.options.connection, clientId }, { topic, groupId: this.options.groupId, from });
    } catch (err) {
      member.view.state = 'error';
      member.view.error = describeError(err, this.options.connection.bootstrapServers);
      this.add('error', `member ${id} could not join: ${member.view.error}`);
      throw new Error(member.view.error);
    }
    if (member.stopped) {
      await member.stream.stop();
      return { ...member.view };
    }
    member.view.state = 'consuming';
    member.loop = this.consume(member, member.stream);
    void this.refresh().catch(() => undefined);
    return { ...member.view };
  }

  async leave(id: number): Promise<void> {
    const m = this.members.get(id);
    if (!m) throw new Error(`no member ${id}`);
    await this.stopMember(m);
    this.members.delete(id);
    this.add('own', `member ${id} (${m.view.clientId}) left after ${m.view.consumed} record(s)`);
    void this.refresh().catch(() => undefined);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all([...this.members.values()].map((m) => this.stopMember(m)));
    this.members.clear();
    await this.polling?.catch(() => undefined);
    this.session.dispose();
  }

  private async stopMember(m: OwnMember): Promise<void> {
    m.stopped = true;
    if (m.view.state !== 'error') m.view.state = 'stopped';
    await m.stream?.stop().catch(() => undefined);
    await m.loop;
  }

  private async consume(m: OwnMember, stream: RecordStream): Promise<void> {
    try {
      for (;;) {
        const r = await stream.next({ timeoutMs: 1000 });
        if (m.stopped) return;
        if (r === undefined) {
          if (stream.stopped) return;
          continue;
        }
        m.view.consumed++;
        if (!m.view.partitionsSeen.includes(r.partition)) m.view.partitionsSeen = [...m.view.partitionsSeen, r.partition].sort((a, b) => a - b);
        m.view.last.push({ partition: r.partition, offset: r.offset, value: decodeField(r.value, 200).text });
        if (m.view.last.length > 5) m.view.last.shift();
      }
    } catch (err) {
      if (m.stopped) return;
      m.view.state = 'error';
      m.view.error = describeError(err, this.options.connection.bootstrapServers);
      this.add('error', `member ${m.view.id}: ${m.view.error}`);
    }
  }

  private schedule(delay: number): void {
    if (this.disposed) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.schedule(this.options.pollIntervalMs ?? POLL_INTERVAL_MS);
      });
    }, delay);
  }

  private async poll(): Promise<void> {
    if (this.disposed) return;
    let offsets: GroupOffsets;
    let leaders = new Map<string, number>();
    try {
      offsets = await this.session.use((a) => a.groupOffsets(this.options.groupId));
      const topics = [...new Set(offsets.partitions.map((p) => p.topic))];
      if (topics.length > 0) {
        // Leaders are a detail of the table: without them (a leader just died) the row shows none for a poll.
        const described = await this.session.use((a) => a.describeTopics(topics)).catch(() => []);
        leaders = new Map(described.flatMap((t) => t.partitions.map((p) => [`${t.name}-${p.partition}`, p.leader] as const)));
      }
    } catch (err) {
      if (this.disposed) return;
      const error = describeError(err, this.options.connection.bootstrapServers);
      if (error !== this.lastError) this.add('error', `reading the group failed: ${error}`);
      this.lastError = error;
      if (this.snapshot) {
        this.snapshot = { ...this.snapshot, time: Date.now(), error };
        this.options.onUpdate({ snapshot: this.snapshot, ownMembers: this.ownMembers() });
      }
      return;
    }
    if (this.disposed) return;
    if (this.lastError !== undefined) this.add('state', 'reading the group works again');
    this.lastError = undefined;
    const snapshot = this.toSnapshot(offsets, leaders);
    this.noticeChanges(snapshot);
    snapshot.rebalancesSeen = this.rebalancesSeen;
    this.snapshot = snapshot;
    const sample: LagSample = { time: snapshot.time, total: Number(snapshot.totalLag), byPartition: {} };
    for (const p of snapshot.partitions) if (p.lag !== null) sample.byPartition[`${p.topic}-${p.partition}`] = Number(p.lag);
    this.history.push(sample);
    if (this.history.length > LAG_HISTORY) this.history.splice(0, this.history.length - LAG_HISTORY);
    this.options.onUpdate({ snapshot, sample, ownMembers: this.ownMembers() });
  }

  private toSnapshot(o: GroupOffsets, leaders: Map<string, number>): GroupSnapshot {
    const ownClients = new Set([...this.members.values()].map((m) => m.view.clientId));
    const members: GroupMemberView[] = o.group.members
      .map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        host: m.host,
        assignment: Object.entries(m.assignment)
          .map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }))
          .sort((a, b) => a.topic.localeCompare(b.topic)),
        own: ownClients.has(m.clientId),
      }))
      .sort((a, b) => a.clientId.localeCompare(b.clientId) || a.memberId.localeCompare(b.memberId));
    let total = 0n;
    const partitions: GroupPartitionView[] = o.partitions.map((p) => {
      if (p.lag !== null) total += BigInt(p.lag);
      return {
        topic: p.topic,
        partition: p.partition,
        committed: p.committedOffset,
        end: p.endOffset,
        lag: p.lag,
        ownerClientId: p.owner?.clientId ?? null,
        ownerMemberId: p.owner?.memberId ?? null,
        leader: leaders.get(`${p.topic}-${p.partition}`) ?? null,
      };
    });
    return {
      time: Date.now(),
      state: o.group.state,
      protocolType: o.group.protocolType,
      protocol: o.group.protocol,
      rebalancesSeen: this.rebalancesSeen,
      members,
      partitions,
      totalLag: total.toString(),
    };
  }

  /** Files state changes, joins/leaves and rebalances between the previous snapshot and this one. */
  private noticeChanges(s: GroupSnapshot): void {
    const prev = this.snapshot;
    const membership = s.members.map((m) => m.memberId).join('|');
    const assignment = s.members.map((m) => `${m.memberId}:${m.assignment.map((a) => `${a.topic}/${a.partitions.join(',')}`).join(';')}`).join('|');
    if (!prev) {
      this.add('state', `group ${s.state}${s.members.length ? `, ${s.members.length} member(s)` : ''}`);
    } else {
      if (prev.state !== s.state) this.add('state', `${prev.state} → ${s.state}`);
      const before = new Map(prev.members.map((m) => [m.memberId, m]));
      const now = new Set(s.members.map((m) => m.memberId));
      for (const m of s.members) if (!before.has(m.memberId)) this.add('member', `joined: ${m.clientId} (${shortId(m.memberId)})`);
      for (const m of prev.members) if (!now.has(m.memberId)) this.add('member', `left: ${m.clientId} (${shortId(m.memberId)})`);
      const rebalancing = REBALANCING.has(s.state);
      if (rebalancing && !this.inRebalance) {
        this.inRebalance = true;
        this.rebalancesSeen++;
        this.add('rebalance', `rebalance started (generation +${this.rebalancesSeen} since opened)`);
      } else if (!rebalancing) {
        const changed = membership !== this.lastMembership || assignment !== this.lastAssignment;
        if (this.inRebalance) {
          this.inRebalance = false;
          this.add('rebalance', `rebalance done: ${describeAssignment(s)}`);
        } else if (changed) {
          this.rebalancesSeen++;
          this.add('rebalance', `rebalanced between two polls (generation +${this.rebalancesSeen} since opened): ${describeAssignment(s)}`);
        }
      }
    }
    this.lastMembership = membership;
    this.lastAssignment = assignment;
  }

  private add(kind: TimelineKind, text: string, time = Date.now()): void {
    const entry = { time, kind, text };
    this.timeline.push(entry);
    if (this.timeline.length > TIMELINE_LIMIT) this.timeline.splice(0, this.timeline.length - TIMELINE_LIMIT);
    this.options.onTimeline?.([entry]);
  }
}

function shortId(memberId: string): string {
  return memberId.length > 14 ? `…${memberId.slice(-12)}` : memberId;
}

function describeAssignment(s: GroupSnapshot): string {
  if (s.members.length === 0) return 'no members';
  return s.members.map((m) => `${m.clientId} ← ${m.assignment.map((a) => `${a.topic}[${a.partitions.join(',')}]`).join(' ') || 'nothing'}`).join('; ');
}
