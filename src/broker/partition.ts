// One partition replica on this broker: its durable log plus the leader-side bookkeeping that decides the
// high watermark (what consumers may see) and the in-sync replica set. Single-replica partitions are simply
// the case where the ISR is the leader alone.

import { ErrorCode, KafkaError } from '../protocol/errorCode';
import { AppendInfo, AppendOrigin, PartitionLog } from './state/partitionLog';
import { PartitionState } from './metadata';
import { StorageFaults, storageErrorCode } from './storageFaults';

export interface FollowerState {
  /** The follower's log end offset, learnt from its fetch offset. */
  leo: number;
  /**
   * Last time the follower was seen fetching up to the leader's LEO on the fetch path (Kafka's lastCaughtUpTimeMs).
   * While it sits at the log end of an idle partition its fetch session says it is still there: see caughtUpMs.
   */
  lastCaughtUpMs: number;
  /** The leader's LEO and the time at the follower's previous fetch (Kafka's lastFetchLeaderLogEndOffset). */
  lastFetchLeaderLeo: number;
  lastFetchMs: number;
  /** The incremental fetch session the follower last fetched this partition through (none: sessionless). */
  session: FollowerSession | undefined;
}

/**
 * An incremental fetch session (fetchSessions.ts) as the ISR check sees it: a follower's session that still holds a
 * partition at the offset the follower last reported fetches it there on every one of its fetches, though idle
 * partitions are named in no request and read by no fetch.
 */
export interface FollowerSession {
  /** When the follower last fetched through the session. */
  readonly lastUsedMs: number;
  /** The offset the session fetches `p` at, or undefined once it no longer does (closed, evicted, forgotten). */
  fetchOffsetOf(p: Partition): number | undefined;
}

/** How long a follower's fetch waits at most while it has not fetched the partitions its broker newly leads. */
export const NEW_LEADER_FETCH_WAIT_MS = 10;

/** Asks the controller for a new ISR; the partition learns the outcome from the next metadata image. */
export type IsrChangeRequester = (p: Partition, isr: number[]) => void;

export class Partition {
  state: PartitionState;
  /** `topic-index`, as logs and the broker's partition map name it (built once: fetches look it up constantly). */
  readonly key: string;
  /** Set once the broker no longer hosts this replica (fetch sessions keep references to partitions). */
  dropped = false;
  private stateApplied = false;
  /**
   * When this replica last took data: an append as leader (client produce, coordinator write) or as follower. A plain
   * timestamp, no timer: the broker applies the metadata changes of replicas idle for a while a little later
   * (Broker.applyMetadataDelta), and those of busy ones at once.
   */
  lastAppendMs = -Infinity;
  /** Called on each append (the broker keeps the list of its busy replicas: see Broker.busyPartitionsReport). */
  onAppend: ((p: Partition) => void) | undefined;
  /**
   * Set while the broker holds back this partition's newer state from a metadata delta (Broker.applyMetadataDelta):
   * until it applies it, `state` is older than the image's.
   */
  metadataDeferred = false;
  readonly followers = new Map<number, FollowerState>();
  private readonly dataListeners = new Set<() => void>();

  constructor(
    readonly topic: string,
    readonly topicId: string,
    readonly index: number,
    readonly log: PartitionLog,
    readonly localBrokerId: number,
    state: PartitionState,
    public config: Record<string, string>,
    private readonly requestIsrChange: IsrChangeRequester = () => {},
    private readonly storageFaults?: StorageFaults,
  ) {
    this.state = state;
    this.key = `${topic}-${index}`;
  }


  get isLeader(): boolean {
    return this.state.leader === this.localBrokerId;
  }

  get leaderEpoch(): number {
    return this.state.leaderEpoch;
  }

  get highWatermark(): number {
    return this.log.highWatermark;
  }

  get logEndOffset(): number {
    return this.log.logEndOffset;
  }

  get logStartOffset(): number {
    return this.log.logStartOffset;
  }

  /**
   * min.insync.replicas as it applies to this partition: never more than its replica count. This is Kafka's own rule
   * since 3.7 (Partition.effectiveMinIsr, KAFKA-15583 / apache/kafka#14594), used both for refusing acks=all writes and
   * for advancing the HW. Kafka accepts any min.insync.replicas >= 1 at topic creation and config change whatever the
   * replication factor; before 3.7 a larger value made every acks=all write fail with NOT_ENOUGH_REPLICAS.
   */
  get effectiveMinIsr(): number {
    return Math.min(Number(this.config['min.insync.replicas'] ?? '1'), this.state.replicas.length);
  }

  /** Called when the controller's view of this partition changes. Whether this replica became leader (of a new epoch). */
  applyState(state: PartitionState): boolean {
    // The first state applied counts too: a replica created (or reopened) as leader must know its followers, or the
    // ISR check finds none and drops every follower that has not fetched yet (ISR churn on topic creation).
    const becameLeader =
      state.leader === this.localBrokerId && (!this.stateApplied || this.state.leader !== this.localBrokerId || state.leaderEpoch !== this.state.leaderEpoch);
    this.stateApplied = true;
    this.state = state;
    if (becameLeader) {
      if (this.log.leaderEpochs.latestEpoch() < state.leaderEpoch) {
        // Record where this epoch starts so followers and clients can find divergence points (in memory: the log
        // writes it before the epoch's first batch, see LeaderEpochCache.writePending).
        this.log.leaderEpochs.assign(state.leaderEpoch, this.log.logEndOffset, false);
      }
      const now = Date.now();
      this.followers.clear();
      for (const r of state.replicas) if (r !== this.localBrokerId) this.followers.set(r, { leo: -1, lastCaughtUpMs: now, lastFetchLeaderLeo: -1, lastFetchMs: now, session: undefined });
    }
    this.maybeIncrementHighWatermark();
    // Waiters (acks=all produces, long-poll fetches) re-check: leadership or the ISR may have changed under them.
    this.notifyData();
    return becameLeader;
  }

  /** Whether this leader still waits for `replicaId`'s first fetch since it took the leadership. */
  awaitsFirstFetchFrom(replicaId: number): boolean {
    return this.isLeader && this.followers.get(replicaId)?.leo === -1;
  }

  /** Checks a client-supplied leader epoch the way Kafka fences stale and future epochs. */
  checkLeaderEpoch(requested: number): void {
    if (requested === -1) return;
    if (requested < this.state.leaderEpoch) throw new KafkaError(ErrorCode.FENCED_LEADER_EPOCH);
    if (requested > this.state.leaderEpoch) throw new KafkaError(ErrorCode.UNKNOWN_LEADER_EPOCH);
  }

  appendAsLeader(batch: Buffer, origin: AppendOrigin = 'client'): AppendInfo {
    if (!this.isLeader) throw new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    this.lastAppendMs = Date.now();
    this.onAppend?.(this);
    let info: AppendInfo;
    try {
      info = this.log.appendAsLeader(batch, this.state.leaderEpoch, origin);
    } catch (err) {
      // Disk full and the like: the log rolled the write back; the producer gets KAFKA_STORAGE_ERROR (retriable) and
      // the operator one warning for this partition, not a stack trace per write.
      if (storageErrorCode(err) === null || !this.storageFaults) throw err;
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, this.storageFaults.failed(this.key, this.log.dir, err, 'leader', this.log.logEndOffset));
    }
    this.storageFaults?.succeeded(this.key);
    this.maybeIncrementHighWatermark();
    this.notifyData();
    return info;
  }

  /** Appends what the leader sent (the replica fetcher's write). */
  appendAsFollower(batches: Buffer): AppendInfo | null {
    this.lastAppendMs = Date.now();
    this.onAppend?.(this);
    return this.log.appendAsFollower(batches);
  }

  /**
   * Record a follower's fetch position, read on the fetch path (named in its request, or with news since its previous
   * fetch); may advance the high watermark and let the follower rejoin the ISR. `session`: the incremental fetch
   * session it fetched through, which keeps vouching for the position while the partition stays idle.
   */
  updateFollower(replicaId: number, fetchOffset: number, now = Date.now(), session?: FollowerSession): void {
    if (!this.state.replicas.includes(replicaId)) return;
    const f = this.followers.get(replicaId) ?? { leo: -1, lastCaughtUpMs: 0, lastFetchLeaderLeo: -1, lastFetchMs: 0, session: undefined };
    const leaderLeo = this.log.logEndOffset;
    f.leo = fetchOffset;
    // Caught up now, or caught up to where the leader was at the previous fetch (a follower chasing a busy
    // leader is never exactly at its end, yet is in sync).
    if (fetchOffset >= leaderLeo) f.lastCaughtUpMs = now;
    else if (fetchOffset >= f.lastFetchLeaderLeo && f.lastFetchLeaderLeo >= 0) f.lastCaughtUpMs = Math.max(f.lastCaughtUpMs, f.lastFetchMs);
    f.lastFetchLeaderLeo = leaderLeo;
    f.lastFetchMs = now;
    f.session = session;
    this.followers.set(replicaId, f);
    this.maybeExpandIsr(replicaId, f);
    this.maybeIncrementHighWatermark();
  }

  /**
   * The last time the follower was caught up (fetching at the leader's LEO), computed when the ISR is checked rather
   * than noted on every fetch of every idle partition: if its session still fetches this partition where the
   * follower last reported, and that is the log end now, then it was the log end at the session's last fetch too
   * (a leader's LEO only grows), so the follower was caught up then.
   */
  caughtUpMs(f: FollowerState): number {
    const s = f.session;
    if (s && f.leo >= this.log.logEndOffset && s.fetchOffsetOf(this) === f.leo) return Math.max(f.lastCaughtUpMs, s.lastUsedMs);
    return f.lastCaughtUpMs;
  }

  /** A follower that reached the HW (and this leader's epoch start) rejoins the ISR (Kafka's isFollowerInSync). */
  private maybeExpandIsr(replicaId: number, f: FollowerState): void {
    if (!this.isLeader || this.state.isr.includes(replicaId)) return;
    const epochStart = this.log.leaderEpochs.startOffset(this.state.leaderEpoch);
    if (f.leo >= this.highWatermark && f.leo >= Math.max(epochStart, 0)) {
      this.requestIsrChange(this, [...this.state.isr, replicaId]);
    }
  }

  /**
   * The periodic ISR check: ISR members that have not caught up within lagMs leave the ISR (Kafka's maybeShrinkIsr);
   * a follower outside it that is caught up asks to rejoin again (its request on the fetch path may have been
   * lost: the controller was away, or the follower was still fenced), since an idle partition's fetches do not
   * reach updateFollower.
   */
  checkIsr(lagMs: number, now = Date.now()): void {
    if (!this.isLeader) return;
    const out = this.state.isr.filter((r) => {
      if (r === this.localBrokerId) return false;
      const f = this.followers.get(r);
      return !f || now - this.caughtUpMs(f) > lagMs;
    });
    if (out.length > 0) return this.requestIsrChange(this, this.state.isr.filter((r) => !out.includes(r)));
    if (this.state.isr.length === this.state.replicas.length) return;
    for (const [r, f] of this.followers) {
      // (A replica reassigned away may still have an entry: it is no candidate.)
      if (this.state.replicas.includes(r) && now - this.caughtUpMs(f) <= lagMs) this.maybeExpandIsr(r, f);
    }
  }

  /**
   * HW = the smallest LEO among ISR members (the leader included), and it only moves while the ISR is at
   * least min.insync.replicas (Kafka >= 3.7, KAFKA-15583): acks=1 writes to a shrunken ISR succeed but stay
   * invisible until the ISR recovers.
   */
  maybeIncrementHighWatermark(): void {
    if (!this.isLeader) return;
    if (this.state.isr.length < this.effectiveMinIsr) return;
    let hw = this.log.logEndOffset;
    for (const r of this.state.isr) {
      if (r === this.localBrokerId) continue;
      const f = this.followers.get(r);
      hw = Math.min(hw, f ? Math.max(f.leo, 0) : 0);
    }
    if (hw > this.log.highWatermark) {
      this.log.setHighWatermark(hw);
      this.notifyData();
    }
  }

  /** Whether someone waits on this replica's news: an acks=all produce for its HW, a long-poll fetch without a session. */
  get hasWaiters(): boolean {
    return this.dataListeners.size > 0;
  }

  /** Subscribe to "something new may be readable" (appends and HW moves). Returns an unsubscribe function. */
  onData(listener: () => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  notifyData(): void {
    this.onAnyData?.(this);
    for (const l of [...this.dataListeners]) l();
  }

  /** The broker's data journal (fetch sessions look there for partitions with news). */
  onAnyData: ((p: Partition) => void) | undefined;

  /** Resolves once the HW reaches `offset`, or rejects on timeout / leadership loss / ISR below min. */
  waitForHighWatermark(offset: number, timeoutMs: number): Promise<void> {
    if (this.highWatermark >= offset) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.highWatermark >= offset) return done(null);
        if (!this.isLeader) return done(new KafkaError(ErrorCode.NOT_LEADER_OR_FOLLOWER));
        if (this.state.isr.length < this.effectiveMinIsr) return done(new KafkaError(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND));
      };
      const timer = setTimeout(() => done(new KafkaError(ErrorCode.REQUEST_TIMED_OUT)), Math.max(0, timeoutMs));
      const unsubscribe = this.onData(check);
      const done = (err: Error | null) => {
        clearTimeout(timer);
        unsubscribe();
        if (err) reject(err);
        else resolve();
      };
    });
  }
}
