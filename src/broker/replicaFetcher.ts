// Follower replication: for every partition this broker follows, fetch from the leader over the Kafka
// protocol (Fetch v12 with our replica id, as Kafka's ReplicaFetcherThread does), append what arrives, take
// the leader's high watermark and log start offset, and truncate when the leader reports that our log
// diverged from its epoch history. One fetcher per leader broker, each a long-poll loop over one incremental fetch
// session (KIP-227, as Kafka's FetchSessionHandler): a full fetch first, then only partitions whose position moved,
// and the leader answers only partitions with news, so idle partitions cost nothing per fetch. Which positions may
// have moved the fetcher learns from the broker's data journal (appends, truncations, leadership and epoch changes,
// a log start moved by retention all pass there) and from the answers themselves, not from a periodic look at every
// partition; an idle answer writes nothing.

import { Fetch } from '../protocol/apis/01-fetch';
import { ErrorCode, errorName } from '../protocol/errorCode';
import type { Broker } from './broker';
import { Partition } from './partition';
import { WireClient } from './wireClient';
import { storageErrorCode } from './storageFaults';
import { sep } from 'node:path';

const FETCH_VERSION = 12;
const RETRY_BACKOFF_MS = 200;
/**
 * A partition whose leader has not applied the metadata that made it leader yet (it answers UNKNOWN_LEADER_EPOCH, or
 * NOT_LEADER_OR_FOLLOWER naming an older epoch than ours) is asked again this much later: the leader is milliseconds
 * behind after a failover, and acks=all writes to it wait for this follower.
 */
const LEADER_BEHIND_RETRY_MS = 2;
/**
 * Quick retries of one partition in a row before the usual backoff (a leader that stays behind is not polled hot):
 * about 100 ms of them.
 */
const MAX_QUICK_RETRIES = 50;
/**
 * At most this many partitions join the leader's fetch session per fetch (the rest in the next ones, asked without
 * waiting). A failover hands a follower thousands of partitions to fetch from a new leader at once, and one fetch
 * naming them all cost that leader 150 ms in a single turn at 10,000 partitions (each looked up, its deferred
 * metadata record applied, added to the session), with the acks=all writes to its partitions in use waiting behind.
 */
const MAX_NEW_PARTITIONS_PER_FETCH = 200;
/** A follower that could not write (disk full) tries again this much later, not in a busy loop. */
const STORAGE_RETRY_BACKOFF_MS = 2000;

/** A follower's fetch position for one partition, as a fetch request states it. */
interface Position {
  fetchOffset: number;
  leaderEpoch: number;
  lastFetchedEpoch: number;
  logStartOffset: number;
}

function positionOf(p: Partition): Position {
  return { fetchOffset: p.logEndOffset, leaderEpoch: p.leaderEpoch, lastFetchedEpoch: p.log.leaderEpochs.latestEpoch(), logStartOffset: p.logStartOffset };
}

/** Whether `p` is still where `last` says (compared in place: this runs for every partition on every fetch). */
function samePosition(last: Position, p: Partition): boolean {
  return last.fetchOffset === p.logEndOffset && last.leaderEpoch === p.leaderEpoch && last.logStartOffset === p.logStartOffset && last.lastFetchedEpoch === p.log.leaderEpochs.latestEpoch();
}

export class LeaderFetcher {
  private readonly partitions = new Set<Partition>();
  /** Partitions the leader refused recently, and when to try them again. */
  private readonly backoffUntil = new Map<Partition, number>();
  /** Quick retries in a row per partition (LEADER_BEHIND_RETRY_MS), until it is answered without error. */
  private readonly quickRetries = new Map<Partition, number>();
  private client: WireClient | undefined;
  private running = false;
  private stopped = false;
  private wake: (() => void) | undefined;
  /** The leader's fetch session (KIP-227): its id (0 = none) and the epoch of the next request (0 = a full fetch). */
  private sessionId = 0;
  private nextEpoch = 0;
  /** The leader answered the last full fetch without a session (no slot): fetches name every partition. */
  private sessionless = false;
  /** What the leader's session holds for each partition: the position last sent. */
  private readonly sent = new Map<Partition, Position>();
  /** Partitions whose position may have moved since the last fetch (only these are compared with `sent`). */
  private readonly touched = new Set<Partition>();
  private readonly stopListening: () => void;

  constructor(
    private readonly broker: Broker,
    readonly leaderId: number,
  ) {
    this.stopListening = broker.dataJournal.listen((p) => {
      if (this.partitions.has(p)) this.touched.add(p);
    });
  }

  get size(): number {
    return this.partitions.size;
  }

  add(p: Partition): void {
    this.partitions.add(p);
    this.touched.add(p);
    if (!this.running) void this.loop();
    this.wake?.();
  }

  remove(p: Partition): void {
    this.partitions.delete(p);
    this.backoffUntil.delete(p);
    this.quickRetries.delete(p);
    this.touched.add(p);
  }

  has(p: Partition): boolean {
    return this.partitions.has(p);
  }

  stop(): void {
    this.stopped = true;
    this.stopListening();
    this.client?.close();
    this.wake?.();
  }

  private leaderAddress(): { host: string; port: number; internal: boolean } | undefined {
    const b = this.broker.image.brokers.find((x) => x.id === this.leaderId && !x.fenced);
    // With security on, the cluster's own traffic uses the leader's internal loopback listener.
    if (!b) return undefined;
    return b.internalPort ? { host: '127.0.0.1', port: b.internalPort, internal: true } : { host: this.broker.replicationHost, port: b.port, internal: false };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (!this.stopped && this.partitions.size > 0) {
        try {
          await this.fetchOnce();
        } catch (err) {
          if (this.stopped) break;
          const failedReplica = this.replicaWithFailedWrite(err);
          if (failedReplica) {
            // Disk full (or similar) while appending what the leader sent: warn once, keep the connection, and let
            // this partition wait while the others go on replicating.
            this.broker.storageFaults.failed(failedReplica.key, failedReplica.log.dir, err, 'follower', failedReplica.logEndOffset);
            this.backoffUntil.set(failedReplica, Date.now() + STORAGE_RETRY_BACKOFF_MS);
            // The rest of that answer went unapplied, while the leader's session believes it was heard: start over.
            this.resetSession();
            continue;
          }
          this.broker.logger.debug(`fetch from leader ${this.leaderId} failed: ${(err as Error).message}`);
          this.resetSession();
          this.client?.close();
          this.client = undefined;
          await this.sleep(RETRY_BACKOFF_MS);
        }
      }
    } finally {
      this.running = false;
      this.client?.close();
      this.client = undefined;
    }
  }

  /** The followed partition whose log a storage error (ENOSPC...) is about, from the failed file's path. */
  private replicaWithFailedWrite(err: unknown): Partition | undefined {
    const file = (err as NodeJS.ErrnoException | null)?.path;
    if (storageErrorCode(err) === null || typeof file !== 'string') return undefined;
    return [...this.partitions].find((p) => file.startsWith(p.log.dir + sep));
  }

  private async connection(): Promise<WireClient> {
    if (this.client?.isOpen) return this.client;
    const addr = this.leaderAddress();
    if (!addr) throw new Error(`leader ${this.leaderId} is not alive`);
    const c = new WireClient(addr.host, addr.port, `replica-${this.broker.nodeId}`);
    await c.connect(2000);
    const auth = this.broker.interBrokerCredentials;
    if (auth && addr.internal) {
      try {
        await c.authenticatePlain(auth.username, auth.password);
      } catch (err) {
        c.close();
        throw err;
      }
    }
    this.client = c;
    return c;
  }

  /** Starts the next fetch over with a full one that opens a new session (and closes the old one, if any). */
  private resetSession(): void {
    this.nextEpoch = 0;
    this.sent.clear();
  }

  private async fetchOnce(): Promise<void> {
    const client = await this.connection();
    const now = Date.now();
    // Partitions backing off are not fetched (and are forgotten by the leader's session); expired ones come back.
    let backingOff = 0;
    let nextRetry = Infinity;
    for (const [p, until] of this.backoffUntil) {
      if (until <= now) {
        this.backoffUntil.delete(p);
        this.touched.add(p);
      } else if (this.partitions.has(p)) {
        backingOff++;
        nextRetry = Math.min(nextRetry, until);
      }
    }
    if (this.partitions.size - backingOff <= 0) {
      // Every partition is backing off, or none is left (removed while we connected).
      if (nextRetry !== Infinity) await this.sleep(Math.max(10, nextRetry - now));
      return;
    }
    // A full fetch names every partition; an incremental one only those whose position changed since the leader's
    // session last heard of them, and forgets those no longer fetched (left, or backing off). Which ones to look at:
    // those touched since the last fetch (answered, added, removed, out of backoff, or in the data journal).
    const full = this.nextEpoch === 0;
    if (full) this.sent.clear();
    const candidates: Iterable<Partition> = full ? this.partitions : this.touched;
    const byTopic = new Map<string, Partition[]>();
    const forgotten = new Map<string, number[]>();
    // New to the session beyond MAX_NEW_PARTITIONS_PER_FETCH: named by a later fetch.
    const later: Partition[] = [];
    let added = 0;
    for (const p of candidates) {
      const fetching = this.partitions.has(p) && !this.backoffUntil.has(p);
      if (!fetching) {
        if (!full && this.sent.delete(p)) {
          let ps = forgotten.get(p.topic);
          if (!ps) forgotten.set(p.topic, (ps = []));
          ps.push(p.index);
        }
        continue;
      }
      const last = this.sent.get(p);
      if (last && samePosition(last, p)) continue;
      if (!last) {
        added++;
        // (Without a session every fetch is a full one and names every partition: no cap then.)
        if (!this.sessionless && added > MAX_NEW_PARTITIONS_PER_FETCH) {
          later.push(p);
          continue;
        }
      }
      this.sent.set(p, positionOf(p));
      let ps = byTopic.get(p.topic);
      if (!ps) byTopic.set(p.topic, (ps = []));
      ps.push(p);
    }
    this.touched.clear();
    for (const p of later) this.touched.add(p);
    if (added > 0) {
      this.broker.logger.debug(`fetch from leader ${this.leaderId}: named ${added - later.length} partition(s) new to the session (${later.length} left for the next fetches)`);
    }
    // A partition waiting to be retried must not wait for this long poll too: the poll ends when its wait does; nor
    // must partitions still to be named.
    const maxWaitMs =
      later.length > 0 ? 0 : Math.max(0, Math.min(Number(this.broker.config['replica.fetch.wait.max.ms'] ?? 500), nextRetry - now));
    const res = await client.request(
      Fetch,
      FETCH_VERSION,
      {
        clusterId: null,
        replicaId: this.broker.nodeId,
        maxWaitMs,
        minBytes: 1,
        maxBytes: 10 * 1024 * 1024,
        isolationLevel: 0,
        sessionId: this.sessionId,
        sessionEpoch: this.nextEpoch,
        topics: [...byTopic].map(([topic, ps]) => ({
          topic,
          topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
          partitions: ps.map((p) => {
            const pos = this.sent.get(p)!;
            return {
              partition: p.index,
              currentLeaderEpoch: pos.leaderEpoch,
              fetchOffset: pos.fetchOffset,
              lastFetchedEpoch: pos.lastFetchedEpoch,
              logStartOffset: pos.logStartOffset,
              partitionMaxBytes: 1024 * 1024,
            };
          }),
        })),
        forgottenTopicsData: [...forgotten].map(([topic, partitions]) => ({ topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions })),
        rackId: '',
      },
      maxWaitMs + 10000,
    );
    if (res.errorCode !== ErrorCode.NONE) {
      // FETCH_SESSION_ID_NOT_FOUND (the leader restarted, or evicted the session), INVALID_FETCH_SESSION_EPOCH: the
      // next fetch is a full one.
      this.broker.logger.debug(`fetch session ${this.sessionId} with leader ${this.leaderId}: ${errorName(res.errorCode)}; starting a new one`);
      this.resetSession();
      return;
    }
    if (full) {
      // Session 0: the leader had no slot; every fetch stays a full one that asks again.
      this.sessionId = res.sessionId;
      this.sessionless = res.sessionId === 0;
      this.nextEpoch = res.sessionId === 0 ? 0 : 1;
    } else {
      this.nextEpoch = this.nextEpoch >= 0x7fffffff ? 1 : this.nextEpoch + 1;
    }
    // An incremental answer holds only the partitions with news; matched by name, not by scanning.
    for (const t of res.responses) {
      for (const pr of t.partitions) {
        const p = this.broker.partition(t.topic, pr.partitionIndex);
        if (!p || !this.partitions.has(p) || p.isLeader) continue;
        this.touched.add(p);
        if (pr.errorCode !== 0) {
          this.handleError(p, pr.errorCode, pr.logStartOffset, pr.currentLeader.leaderEpoch);
          continue;
        }
        this.quickRetries.delete(p);
        let progressed = false;
        if (pr.divergingEpoch.epoch >= 0) {
          this.truncateOnDivergence(p, pr.divergingEpoch.epoch, pr.divergingEpoch.endOffset);
          p.notifyData();
          continue;
        }
        if (pr.records && pr.records.length > 0) {
          p.appendAsFollower(pr.records);
          this.broker.storageFaults.noteLogEndOffset(p.key, p.logEndOffset);
          progressed = true;
        }
        if (pr.logStartOffset > p.logStartOffset && pr.logStartOffset <= p.logEndOffset) p.log.deleteRecordsBefore(pr.logStartOffset);
        const hw = Math.min(pr.highWatermark, p.logEndOffset);
        if (hw > p.highWatermark) p.log.setHighWatermark(hw);
        if (progressed) p.notifyData();
      }
    }
  }

  /** Truncate to where our log and the leader's agree: the leader's end of that epoch, or ours if smaller. */
  private truncateOnDivergence(p: Partition, epoch: number, leaderEndOffset: number): void {
    const ours = p.log.leaderEpochs.endOffsetFor(epoch);
    const target = ours.epoch === epoch ? Math.min(leaderEndOffset, ours.endOffset) : Math.min(leaderEndOffset, p.logEndOffset);
    this.broker.logger.info(`${p.key}: log diverged from leader ${this.leaderId} at epoch ${epoch}; truncating to ${target} (LEO was ${p.logEndOffset})`);
    p.log.truncateTo(Math.max(target, p.logStartOffset));
    if (p.highWatermark > p.logEndOffset) p.log.setHighWatermark(p.logEndOffset);
  }

  private handleError(p: Partition, code: number, leaderLogStart: number, leaderEpochThere: number): void {
    if (code === ErrorCode.OFFSET_OUT_OF_RANGE) {
      if (leaderLogStart > p.logEndOffset) {
        this.broker.logger.info(`${p.key}: behind the leader's log start ${leaderLogStart}; restarting the replica there`);
        p.log.truncateFullyAndStartAt(leaderLogStart);
      } else {
        // We are ahead of the leader (unclean election): drop what it does not have.
        p.log.truncateTo(Math.max(p.highWatermark, p.logStartOffset));
      }
      return;
    }
    // Leadership moved, or the leader has not yet seen the metadata we have: back off briefly (very briefly when the
    // leader is only behind us). If leadership really moved, the next metadata image moves this partition to another
    // fetcher.
    const retries = this.quickRetries.get(p) ?? 0;
    const leaderBehind =
      retries < MAX_QUICK_RETRIES && (code === ErrorCode.UNKNOWN_LEADER_EPOCH || (code === ErrorCode.NOT_LEADER_OR_FOLLOWER && leaderEpochThere < p.leaderEpoch));
    if (leaderBehind) this.quickRetries.set(p, retries + 1);
    this.broker.logger.debug(`${p.key}: leader ${this.leaderId} answered ${errorName(code)}${leaderBehind ? ' (behind our metadata)' : ''}`);
    this.backoffUntil.set(p, Date.now() + (leaderBehind ? LEADER_BEHIND_RETRY_MS : RETRY_BACKOFF_MS));
    if (!leaderBehind) this.broker.requestMetadataRefresh();
  }
}
