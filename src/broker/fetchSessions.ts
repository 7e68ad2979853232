// Incremental fetch sessions (KIP-227), the leader's side. A fetcher (a follower, or a consumer such as librdkafka
// or the Java client) sends its whole partition list once (session id 0, epoch 0) and gets a session id back; from
// then on each request names only the partitions whose fetch position changed (plus forgotten ones), and each
// response carries only the partitions with something new: records, a moved high watermark or log start offset,
// or an error. With thousands of idle partitions this keeps every idle fetch a few bytes each way.
//
// Kafka's rules (FetchSession.scala / FetchManager.newContext), which this follows:
// - epoch -1 (FINAL): a sessionless full fetch; with a session id, that session is closed first.
// - epoch 0 (INITIAL): a full fetch that opens a new session (closing the one named, if any); the response names
//   the new id, or 0 when the cache has no slot to give (the client then fetches sessionless).
// - epoch > 0: an incremental fetch of the named session; an unknown id is FETCH_SESSION_ID_NOT_FOUND, an epoch
//   other than the session's next one INVALID_FETCH_SESSION_EPOCH (both top-level, with no partitions).
// - At most max.incremental.fetch.session.cache.slots sessions. A new session may evict the least recently used
//   one idle for min.incremental.fetch.session.eviction.ms, or any one of a client when the newcomer is a follower
//   (followers' sessions are privileged and only give way to other followers).
// Two limits of our own keep the cache from filling with sessions nobody fetches through (a full cache makes every
// fetch, followers' included, a full fetch of every partition): a follower broker holds at most
// MAX_SESSIONS_PER_FOLLOWER sessions (one per fetcher thread in Kafka; a follower that restarts or resets its
// session opens a new one before the old one is stale), and a client connection at most one session it never
// fetched through incrementally (@platformatic/kafka opens a session with each full fetch and never uses most).
// A client's newcomer never evicts a follower's session, stale or not.

import { ErrorCode } from '../protocol/errorCode';
import type { FollowerSession, Partition } from './partition';

/** Sessions one follower broker may hold; its oldest gives way to its newest. */
export const MAX_SESSIONS_PER_FOLLOWER = 4;

/** Who opened a session: a follower broker (by replica id) or a client connection (by connection id). */
export type SessionOwner = { follower: number } | { connection: number };

function sameOwner(a: SessionOwner, b: SessionOwner): boolean {
  return 'follower' in a ? 'follower' in b && a.follower === b.follower : 'connection' in b && a.connection === b.connection;
}

/** One partition of a session: the fetcher's last request for it and what the fetcher last heard about it. */
export interface SessionPartition {
  readonly topic: string;
  topicId: string;
  readonly partition: number;
  fetchOffset: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  logStartOffset: number;
  partitionMaxBytes: number;
  /** The high watermark and log start offset last sent; -1 after an error so that the next answer includes it. */
  sentHighWatermark: number;
  sentLogStartOffset: number;
  /** The replica the last full read of this partition found (it tells an idle partition at a glance). */
  replica?: Partition;
}

export class FetchSession implements FollowerSession {
  /** Keyed by `${topic}\0${partition}`, in the order the fetcher added them (responses keep that order). */
  readonly partitions = new Map<string, SessionPartition>();
  /** The session's partitions by the replica their last full read found (to map the data journal onto them). */
  readonly byReplica = new Map<Partition, SessionPartition>();
  /** How far this session has looked into the broker's data journal (-1: not yet). */
  journalSeq = -1;
  /** When every partition of a client's session was last looked at (an ACL change shows in no journal). */
  lastFullPassMs = 0;
  /** The epoch the next incremental request must carry. */
  nextEpoch = 1;
  /** When the fetcher last fetched through this session (the full fetch that opened it, or an incremental one). */
  lastUsedMs: number;
  /** Set once the cache no longer holds the session (closed by its fetcher, or evicted). */
  closed = false;

  constructor(
    readonly id: number,
    readonly owner: SessionOwner,
    now: number,
  ) {
    this.lastUsedMs = now;
  }

  /** Followers' sessions are privileged: only other followers' sessions may evict them. */
  get privileged(): boolean {
    return 'follower' in this.owner;
  }

  /** Whether the fetcher ever fetched through the session after opening it. */
  get used(): boolean {
    return this.nextEpoch !== 1;
  }

  fetchOffsetOf(p: Partition): number | undefined {
    return this.closed ? undefined : this.byReplica.get(p)?.fetchOffset;
  }
}

export const sessionKey = (topic: string, partition: number): string => `${topic}\0${partition}`;

export type SessionLookup = { session: FetchSession } | { errorCode: number };

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();
  /** Sessions opened since start (diagnostics and tests: did a client use sessions at all?). */
  opened = 0;

  constructor(
    private readonly maxSlots: () => number,
    private readonly evictionMs: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  remove(id: number): void {
    const session = this.sessions.get(id);
    if (!session) return;
    session.closed = true;
    this.sessions.delete(id);
  }

  /** The session an incremental request (epoch > 0) names, checked against its epoch; the epoch then moves on. */
  incremental(id: number, epoch: number): SessionLookup {
    const session = this.sessions.get(id);
    if (!session) return { errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND };
    if (session.nextEpoch !== epoch) return { errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH };
    session.nextEpoch = epoch >= 0x7fffffff ? 1 : epoch + 1;
    session.lastUsedMs = this.now();
    // Most recently used last, so that eviction finds the least recently used first.
    this.sessions.delete(id);
    this.sessions.set(id, session);
    return { session };
  }

  /** A new session for a full fetch (epoch 0), or undefined when no slot can be had (the answer says session 0). */
  create(owner: SessionOwner): FetchSession | undefined {
    if (this.maxSlots() <= 0) return undefined;
    this.retireOwnersSurplus(owner);
    const session = new FetchSession(this.newId(), owner, this.now());
    if (this.sessions.size >= this.maxSlots() && !this.evictOne(session.privileged)) return undefined;
    this.sessions.set(session.id, session);
    this.opened++;
    return session;
  }

  /** Makes room for `owner`'s newcomer among its own sessions (see MAX_SESSIONS_PER_FOLLOWER and the header). */
  private retireOwnersSurplus(owner: SessionOwner): void {
    const own: FetchSession[] = []; // least recently used first
    for (const s of this.sessions.values()) if (sameOwner(s.owner, owner)) own.push(s);
    if ('follower' in owner) {
      for (let i = 0; i <= own.length - MAX_SESSIONS_PER_FOLLOWER; i++) this.remove(own[i].id);
    } else {
      for (const s of own) if (!s.used) this.remove(s.id);
    }
  }

  private evictOne(forPrivileged: boolean): boolean {
    const staleBefore = this.now() - this.evictionMs();
    for (const [id, s] of this.sessions) {
      // Least recently used first: a follower's newcomer may take any client's slot or a stale follower's, a
      // client's newcomer only a stale client's.
      const evictable = forPrivileged ? !s.privileged || s.lastUsedMs < staleBefore : !s.privileged && s.lastUsedMs < staleBefore;
      if (evictable) {
        this.remove(id);
        return true;
      }
    }
    return false;
  }

  private newId(): number {
    for (;;) {
      const id = 1 + Math.floor(Math.random() * 0x7ffffffe);
      if (!this.sessions.has(id)) return id;
    }
  }
}

/**
 * Whether a partition's answer must go into an incremental response (Kafka's CachedPartition.maybeUpdateResponseData),
 * and the session's memory of what the fetcher knows, updated when `update`.
 */
export function mustRespond(sp: SessionPartition, res: { errorCode: number; highWatermark: number; logStartOffset: number; records: Buffer | null }, update: boolean): boolean {
  let must = (res.records?.length ?? 0) > 0;
  if (sp.sentHighWatermark !== res.highWatermark) {
    must = true;
    if (update) sp.sentHighWatermark = res.highWatermark;
  }
  if (sp.sentLogStartOffset !== res.logStartOffset) {
    must = true;
    if (update) sp.sentLogStartOffset = res.logStartOffset;
  }
  if (res.errorCode !== ErrorCode.NONE) {
    must = true;
    // Forget what was sent, so that the partition is answered again once the error clears.
    if (update) sp.sentHighWatermark = -1;
  }
  return must;
}

/**
 * The partitions of this broker that had news (appends, high watermark or log start moves, truncations, leadership
 * changes), in order, in a bounded ring: an incremental fetch looks only at the partitions that had news since its
 * previous fetch, not at all of its session's (thousands, idle), except for a client's full pass now and then or
 * when the ring no longer reaches back far enough. Waiting fetches listen here too: one listener per fetch instead of
 * one per partition; so do the replica fetchers, for the positions of the partitions they follow.
 */
export class DataJournal {
  private readonly ring: Partition[];
  /** Entries written so far (the next entry's number). */
  seq = 0;
  private readonly listeners = new Set<(p: Partition) => void>();

  constructor(private readonly capacity = 8192) {
    this.ring = new Array<Partition>(capacity);
  }

  record(p: Partition): void {
    this.ring[this.seq % this.capacity] = p;
    this.seq++;
    for (const l of this.listeners) l(p);
  }

  /** The partitions recorded since entry `seq`, or undefined when the ring no longer holds them all. */
  since(seq: number): Partition[] | undefined {
    if (seq < 0 || this.seq - seq > this.capacity) return undefined;
    const out: Partition[] = [];
    for (let i = seq; i < this.seq; i++) out.push(this.ring[i % this.capacity]);
    return out;
  }

  listen(listener: (p: Partition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
