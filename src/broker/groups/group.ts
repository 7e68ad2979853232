// One consumer group's membership state machine (the classic protocol, as Apache Kafka's GroupCoordinator):
//   Empty -> PreparingRebalance -> CompletingRebalance -> Stable -> (PreparingRebalance ...) ; Dead when deleted.
// A rebalance waits until every known member has rejoined or the rebalance timeout passes; members that did
// not rejoin are dropped. The leader receives all members' subscriptions and hands out assignments in
// SyncGroup; the coordinator relays them opaquely.

import { randomUUID } from 'node:crypto';
import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import type { GroupMetadataRecord } from './offsetsRecords';

export type GroupStateName = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: Array<{ memberId: string; groupInstanceId: string | null; metadata: Buffer }>;
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  assignment: Buffer;
  /** Set while the member waits for its JoinGroup response. */
  awaitingJoin: ((r: JoinResult) => void) | null;
  /** Set while the member waits for its SyncGroup response. */
  awaitingSync: ((r: SyncResult) => void) | null;
  sessionTimer: NodeJS.Timeout | null;
}

export interface JoinRequest {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
}

const EMPTY = Buffer.alloc(0);

export class Group {
  state: GroupStateName = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, Member>();
  private rebalanceTimer: NodeJS.Timeout | null = null;
  private initialDelayTimer: NodeJS.Timeout | null = null;
  /** When the state last changed (GroupMetadataValue's currentStateTimestamp). */
  private stateTimestamp = Date.now();
  /** Observers (the cluster's event stream, logging). */
  onChange?: (group: Group, what: string) => void;
  /**
   * Called where Kafka's coordinator stores the group in __consumer_offsets: a rebalance completed (the leader's
   * assignment arrived), the group became empty, a static member was replaced. Resolves to an error code once the
   * record is replicated (0 when stored).
   */
  onStore?: (group: Group) => Promise<number> | undefined;

  constructor(
    readonly groupId: string,
    private readonly initialRebalanceDelayMs: number,
  ) {}

  get isEmpty(): boolean {
    return this.members.size === 0;
  }

  private changed(what: string): void {
    this.onChange?.(this, what);
  }

  private store(): Promise<number> {
    this.stateTimestamp = Date.now();
    return this.onStore?.(this) ?? Promise.resolve(0);
  }

  /** The group as Kafka's GroupMetadataValue records it. */
  toRecord(): GroupMetadataRecord {
    return {
      protocolType: this.protocolType ?? '',
      generation: this.generationId,
      protocol: this.protocolName,
      leader: this.leaderId,
      currentStateTimestamp: this.stateTimestamp,
      members: [...this.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        sessionTimeoutMs: m.sessionTimeoutMs,
        subscription: m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? EMPTY,
        assignment: m.assignment,
      })),
    };
  }

  /**
   * A group loaded from __consumer_offsets by a new coordinator (failover, restart), as Kafka loads it: Stable with
   * the stored members, generation and assignments when it had members, each on a fresh session timer, so members
   * that keep heartbeating carry on without a rebalance and the others expire.
   */
  restore(record: GroupMetadataRecord): void {
    this.generationId = record.generation;
    this.protocolType = record.protocolType || null;
    this.protocolName = record.protocol;
    this.leaderId = record.leader;
    this.stateTimestamp = record.currentStateTimestamp;
    this.state = record.members.length > 0 && record.protocol !== null ? 'Stable' : 'Empty';
    for (const r of record.members) {
      const member = this.newMember(r.memberId, {
        memberId: r.memberId,
        groupInstanceId: r.groupInstanceId,
        clientId: r.clientId,
        clientHost: r.clientHost,
        sessionTimeoutMs: r.sessionTimeoutMs,
        rebalanceTimeoutMs: r.rebalanceTimeoutMs,
        protocolType: record.protocolType,
        protocols: [{ name: record.protocol ?? '', metadata: r.subscription }],
      });
      member.assignment = r.assignment;
      this.members.set(r.memberId, member);
      if (this.state === 'Stable') this.scheduleSession(member);
    }
    if (this.state === 'Empty') this.members.clear();
  }

  /** Handles a JoinGroup; resolves when the rebalance completes (or at once with an error). */
  join(req: JoinRequest): Promise<JoinResult> {
    if (this.state === 'Dead') return Promise.resolve(this.joinError(ErrorCode.COORDINATOR_NOT_AVAILABLE, req.memberId));
    if (!req.protocolType || req.protocols.length === 0) return Promise.resolve(this.joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId));
    if (!this.isEmpty && (req.protocolType !== this.protocolType || !this.supportsProtocols(req.protocols))) {
      return Promise.resolve(this.joinError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, req.memberId));
    }
    let member: Member | undefined;
    if (req.memberId === '') {
      // Static members (KIP-345) keep their place under a new member id; the old id is fenced.
      const previous = req.groupInstanceId ? [...this.members.values()].find((m) => m.groupInstanceId === req.groupInstanceId) : undefined;
      const memberId = `${req.clientId || 'member'}-${randomUUID()}`;
      const leaderBefore = this.leaderId;
      if (previous) {
        this.members.delete(previous.memberId);
        this.clearSession(previous);
        previous.awaitingJoin?.(this.joinError(ErrorCode.FENCED_INSTANCE_ID, previous.memberId));
        previous.awaitingSync?.({ errorCode: ErrorCode.FENCED_INSTANCE_ID, protocolType: null, protocolName: null, assignment: EMPTY });
        if (this.leaderId === previous.memberId) this.leaderId = memberId;
      }
      member = this.newMember(memberId, req);
      if (previous) member.assignment = previous.assignment;
      this.members.set(memberId, member);
      if (this.protocolType === null) this.protocolType = req.protocolType;
      // Kafka (GroupCoordinator.updateStaticMemberAndRebalance): in a Stable group a static member that rejoins
      // causes no rebalance unless the protocol the group would select changes. It is answered at once with the
      // current generation and the leader id from before the swap (so a rejoining leader does not reassign), and
      // gets its old assignment in SyncGroup.
      if (previous && this.state === 'Stable' && this.selectProtocol() === this.protocolName) {
        this.scheduleSession(member);
        this.changed(`static member ${req.groupInstanceId} rejoined as ${memberId}`);
        void this.store();
        return Promise.resolve({ ...this.joinResultFor(member), leader: leaderBefore ?? '', members: [] });
      }
    } else {
      member = this.members.get(req.memberId);
      if (!member) return Promise.resolve(this.joinError(ErrorCode.UNKNOWN_MEMBER_ID, req.memberId));
      Object.assign(member, {
        clientId: req.clientId,
        clientHost: req.clientHost,
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        protocols: req.protocols,
      });
    }
    const m = member;
    return new Promise<JoinResult>((resolve) => {
      if (m.awaitingJoin) m.awaitingJoin(this.joinError(ErrorCode.REBALANCE_IN_PROGRESS, m.memberId));
      m.awaitingJoin = resolve;
      this.clearSession(m);
      if (this.state === 'PreparingRebalance') this.maybeCompleteJoin();
      else this.prepareRebalance(`member ${m.memberId} joined`);
    });
  }

  private newMember(memberId: string, req: JoinRequest): Member {
    return {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      assignment: EMPTY,
      awaitingJoin: null,
      awaitingSync: null,
      sessionTimer: null,
    };
  }

  private supportsProtocols(protocols: Protocol[]): boolean {
    const names = new Set(protocols.map((p) => p.name));
    return this.candidateProtocols().some((c) => names.has(c));
  }

  /** Protocols every current member supports. */
  private candidateProtocols(): string[] {
    const members = [...this.members.values()];
    if (members.length === 0) return [];
    return members[0].protocols.map((p) => p.name).filter((n) => members.every((m) => m.protocols.some((p) => p.name === n)));
  }

  /** Kafka's vote: each member votes for its most preferred candidate; the most votes wins. */
  private selectProtocol(): string | null {
    const candidates = this.candidateProtocols();
    if (candidates.length === 0) return null;
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => candidates.includes(p.name))!.name;
      votes.set(choice, (votes.get(choice) ?? 0) + 1);
    }
    return [...votes.entries()].sort((a, b) => b[1] - a[1] || candidates.indexOf(a[0]) - candidates.indexOf(b[0]))[0][0];
  }

  private prepareRebalance(reason: string): void {
    // Members waiting in SyncGroup must rejoin.
    for (const m of this.members.values()) {
      if (m.awaitingSync) {
        m.awaitingSync({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, protocolType: this.protocolType, protocolName: this.protocolName, assignment: EMPTY });
        m.awaitingSync = null;
      }
    }
    const wasEmpty = this.state === 'Empty';
    this.state = 'PreparingRebalance';
    this.changed(`preparing rebalance: ${reason}`);
    const timeout = Math.max(...[...this.members.values()].map((m) => m.rebalanceTimeoutMs), 0);
    if (this.rebalanceTimer) clearTimeout(this.rebalanceTimer);
    this.rebalanceTimer = setTimeout(() => this.completeJoin(), timeout);
    if (wasEmpty && this.initialRebalanceDelayMs > 0) {
      // The first join of an empty group waits a moment for the others (group.initial.rebalance.delay.ms).
      this.initialDelayTimer = setTimeout(() => {
        this.initialDelayTimer = null;
        this.maybeCompleteJoin();
      }, this.initialRebalanceDelayMs);
      return;
    }
    this.maybeCompleteJoin();
  }

  private maybeCompleteJoin(): void {
    if (this.state !== 'PreparingRebalance' || this.initialDelayTimer) return;
    if ([...this.members.values()].every((m) => m.awaitingJoin)) this.completeJoin();
  }

  /** Ends the join phase: drops members that did not rejoin, bumps the generation, answers every joiner. */
  private completeJoin(): void {
    if (this.state !== 'PreparingRebalance') return;
    if (this.rebalanceTimer) clearTimeout(this.rebalanceTimer);
    if (this.initialDelayTimer) clearTimeout(this.initialDelayTimer);
    this.rebalanceTimer = this.initialDelayTimer = null;
    for (const m of [...this.members.values()]) {
      if (!m.awaitingJoin) this.removeMember(m, false);
    }
    this.generationId++;
    if (this.isEmpty) {
      this.state = 'Empty';
      this.protocolName = null;
      this.leaderId = null;
      this.changed(`generation ${this.generationId}: empty`);
      void this.store();
      return;
    }
    this.protocolName = this.selectProtocol();
    if (!this.leaderId || !this.members.has(this.leaderId)) this.leaderId = this.members.keys().next().value!;
    this.state = 'CompletingRebalance';
    this.changed(`generation ${this.generationId}: ${this.members.size} member(s), protocol ${this.protocolName}`);
    for (const m of this.members.values()) {
      const respond = m.awaitingJoin!;
      m.awaitingJoin = null;
      m.assignment = EMPTY;
      this.scheduleSession(m);
      respond(this.joinResultFor(m));
    }
  }

  private joinResultFor(m: Member): JoinResult {
    const isLeader = m.memberId === this.leaderId;
    return {
      errorCode: 0,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: this.leaderId ?? '',
      memberId: m.memberId,
      members: isLeader
        ? [...this.members.values()].map((x) => ({
            memberId: x.memberId,
            groupInstanceId: x.groupInstanceId,
            metadata: x.protocols.find((p) => p.name === this.protocolName)?.metadata ?? EMPTY,
          }))
        : [],
    };
  }

  private joinError(errorCode: number, memberId: string): JoinResult {
    return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId, members: [] };
  }

  /** Checks member id and generation for Sync/Heartbeat/Commit. */
  private check(memberId: string, generationId: number): Member {
    const m = this.members.get(memberId);
    if (!m) throw new KafkaError(ErrorCode.UNKNOWN_MEMBER_ID);
    if (generationId !== this.generationId) throw new KafkaError(ErrorCode.ILLEGAL_GENERATION);
    return m;
  }

  sync(memberId: string, generationId: number, assignments: Array<{ memberId: string; assignment: Buffer }>): Promise<SyncResult> {
    const err = (code: number): SyncResult => ({ errorCode: code, protocolType: this.protocolType, protocolName: this.protocolName, assignment: EMPTY });
    let m: Member;
    try {
      m = this.check(memberId, generationId);
    } catch (e) {
      return Promise.resolve(err((e as KafkaError).code));
    }
    if (this.state === 'PreparingRebalance') return Promise.resolve(err(ErrorCode.REBALANCE_IN_PROGRESS));
    if (this.state === 'Stable') return Promise.resolve({ ...err(0), assignment: m.assignment });
    this.scheduleSession(m);
    return new Promise<SyncResult>((resolve) => {
      m.awaitingSync = resolve;
      if (memberId === this.leaderId) {
        const given = new Map(assignments.map((a) => [a.memberId, a.assignment]));
        for (const x of this.members.values()) x.assignment = given.get(x.memberId) ?? EMPTY;
        this.state = 'Stable';
        this.changed(`generation ${this.generationId}: stable`);
        // As Kafka: the members get their assignments once the group record holding them is replicated, so a new
        // coordinator knows every assignment it handed out. A failed write is the members' error (they find the
        // coordinator again and rejoin). A rebalance meanwhile has already answered them.
        const generation = this.generationId;
        void this.store().then((errorCode) => {
          if (this.generationId !== generation) return;
          for (const x of this.members.values()) {
            if (x.awaitingSync) {
              const respond = x.awaitingSync;
              x.awaitingSync = null;
              respond({ errorCode, protocolType: this.protocolType, protocolName: this.protocolName, assignment: errorCode === 0 ? x.assignment : EMPTY });
            }
          }
        });
      }
    });
  }

  heartbeat(memberId: string, generationId: number): number {
    const m = this.members.get(memberId);
    if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (this.state === 'PreparingRebalance') {
      this.scheduleSession(m);
      return ErrorCode.REBALANCE_IN_PROGRESS;
    }
    if (generationId !== this.generationId) return ErrorCode.ILLEGAL_GENERATION;
    this.scheduleSession(m);
    return 0;
  }

  /** Commits by a group member must come from the current generation; standalone commits need an empty group. */
  checkCommit(memberId: string, generationId: number): void {
    if (generationId < 0 && memberId === '') {
      if (!this.isEmpty) throw new KafkaError(ErrorCode.UNKNOWN_MEMBER_ID);
      return;
    }
    const m = this.check(memberId, generationId);
    // Kafka accepts commits from current members while a rebalance is being prepared (consumers commit as
    // their partitions are revoked); only between join and sync is the assignment in flux.
    if (this.state === 'CompletingRebalance') throw new KafkaError(ErrorCode.REBALANCE_IN_PROGRESS);
    this.scheduleSession(m);
  }

  /**
   * A request naming a static member's instance id with another member id comes from a member that a newer one
   * with the same instance id replaced: Kafka answers FENCED_INSTANCE_ID (Heartbeat, SyncGroup, OffsetCommit,
   * LeaveGroup).
   */
  isFencedStaticMember(memberId: string, groupInstanceId: string | null): boolean {
    if (!groupInstanceId) return false;
    const current = [...this.members.values()].find((x) => x.groupInstanceId === groupInstanceId);
    return current !== undefined && current.memberId !== memberId;
  }

  leave(memberId: string, groupInstanceId: string | null): number {
    if (memberId !== '' && this.isFencedStaticMember(memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    let m = memberId ? this.members.get(memberId) : undefined;
    if (!m && groupInstanceId) m = [...this.members.values()].find((x) => x.groupInstanceId === groupInstanceId);
    if (!m) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.removeMember(m, true);
    return 0;
  }

  private removeMember(m: Member, rebalance: boolean): void {
    this.clearSession(m);
    this.members.delete(m.memberId);
    m.awaitingJoin?.(this.joinError(ErrorCode.UNKNOWN_MEMBER_ID, m.memberId));
    m.awaitingSync?.({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, protocolType: null, protocolName: null, assignment: EMPTY });
    if (this.leaderId === m.memberId) this.leaderId = null;
    if (!rebalance) return;
    if (this.state === 'Stable' || this.state === 'CompletingRebalance') this.prepareRebalance(`member ${m.memberId} left`);
    else if (this.state === 'PreparingRebalance') this.maybeCompleteJoin();
    if (this.isEmpty && this.state === 'PreparingRebalance' && ![...this.members.values()].length) this.completeJoin();
  }

  private scheduleSession(m: Member): void {
    this.clearSession(m);
    m.sessionTimer = setTimeout(() => {
      m.sessionTimer = null;
      // Members waiting for a join or sync answer are kept alive (Kafka's shouldKeepAlive).
      if (m.awaitingJoin || m.awaitingSync || !this.members.has(m.memberId)) return;
      this.changed(`member ${m.memberId} session expired`);
      this.removeMember(m, true);
    }, m.sessionTimeoutMs);
  }

  private clearSession(m: Member): void {
    if (m.sessionTimer) clearTimeout(m.sessionTimer);
    m.sessionTimer = null;
  }

  /** Stops every timer and fails pending requests (coordinator moved or broker stopping). */
  unload(errorCode: number): void {
    if (this.rebalanceTimer) clearTimeout(this.rebalanceTimer);
    if (this.initialDelayTimer) clearTimeout(this.initialDelayTimer);
    for (const m of this.members.values()) {
      this.clearSession(m);
      m.awaitingJoin?.(this.joinError(errorCode, m.memberId));
      m.awaitingSync?.({ errorCode, protocolType: null, protocolName: null, assignment: EMPTY });
      m.awaitingJoin = m.awaitingSync = null;
    }
  }

  markDead(): void {
    this.unload(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    this.members.clear();
    this.state = 'Dead';
  }

  /** Topics the members subscribe to, when they speak the consumer protocol (for OffsetDelete). */
  subscribedTopics(): Set<string> | null {
    if (this.protocolType !== 'consumer') return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const meta = m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? m.protocols[0]?.metadata;
      if (!meta || meta.length < 6) continue;
      try {
        // ConsumerProtocolSubscription: version int16, topics array of string.
        let off = 2;
        const count = meta.readInt32BE(off);
        off += 4;
        for (let i = 0; i < count && off + 2 <= meta.length; i++) {
          const len = meta.readInt16BE(off);
          off += 2;
          topics.add(meta.toString('utf8', off, off + len));
          off += len;
        }
      } catch {
        /* not a standard subscription: ignore */
      }
    }
    return topics;
  }
}
