// Follower replication: for every partition this broker follows, fetch from the leader over the Kafka
// protocol (Fetch v12 with our replica id, as Kafka's ReplicaFetcherThread does), append what arrives, take
// the leader's high watermark and log start offset, and truncate when the leader reports that our log
// diverged from its epoch history. One fetcher per leader broker, each a long-poll loop.

import { Fetch } from '../protocol/apis/01-fetch';
import { ErrorCode, errorName } from '../protocol/errorCode';
import type { Broker } from './broker';
import { Partition } from './partition';
import { WireClient } from './wireClient';
import { storageErrorCode } from './storageFaults';
import { sep } from 'node:path';

const FETCH_VERSION = 12;
const RETRY_BACKOFF_MS = 200;
/** A follower that could not write (disk full) tries again this much later, not in a busy loop. */
const STORAGE_RETRY_BACKOFF_MS = 2000;

export class LeaderFetcher {
  private readonly partitions = new Set<Partition>();
  /** Partitions the leader refused recently, and when to try them again. */
  private readonly backoffUntil = new Map<Partition, number>();
  private client: WireClient | undefined;
  private running = false;
  private stopped = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly broker: Broker,
    readonly leaderId: number,
  ) {}

  get size(): number {
    return this.partitions.size;
  }

  add(p: Partition): void {
    this.partitions.add(p);
    if (!this.running) void this.loop();
    this.wake?.();
  }

  remove(p: Partition): void {
    this.partitions.delete(p);
    this.backoffUntil.delete(p);
  }

  has(p: Partition): boolean {
    return this.partitions.has(p);
  }

  stop(): void {
    this.stopped = true;
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
          for (const p of this.partitions) this.broker.storageFaults.noteLogEndOffset(p.key, p.logEndOffset);
        } catch (err) {
          if (this.stopped) break;
          const failedReplica = this.replicaWithFailedWrite(err);
          if (failedReplica) {
            // Disk full (or similar) while appending what the leader sent: warn once, keep the connection, and let
            // this partition wait while the others go on replicating.
            this.broker.storageFaults.failed(failedReplica.key, failedReplica.log.dir, err, 'follower', failedReplica.logEndOffset);
            this.backoffUntil.set(failedReplica, Date.now() + STORAGE_RETRY_BACKOFF_MS);
            continue;
          }
          this.broker.logger.debug(`fetch from leader ${this.leaderId} failed: ${(err as Error).message}`);
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

  private async fetchOnce(): Promise<void> {
    const client = await this.connection();
    const now = Date.now();
    const parts = [...this.partitions].filter((p) => (this.backoffUntil.get(p) ?? 0) <= now);
    if (parts.length === 0) {
      await this.sleep(Math.max(10, Math.min(...this.backoffUntil.values()) - now));
      return;
    }
    const byTopic = new Map<string, Partition[]>();
    for (const p of parts) {
      if (!byTopic.has(p.topic)) byTopic.set(p.topic, []);
      byTopic.get(p.topic)!.push(p);
    }
    const maxWaitMs = Number(this.broker.config['replica.fetch.wait.max.ms'] ?? 500);
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
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...byTopic].map(([topic, ps]) => ({
          topic,
          topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
          partitions: ps.map((p) => ({
            partition: p.index,
            currentLeaderEpoch: p.leaderEpoch,
            fetchOffset: p.logEndOffset,
            lastFetchedEpoch: p.log.leaderEpochs.latestEpoch(),
            logStartOffset: p.logStartOffset,
            partitionMaxBytes: 1024 * 1024,
          })),
        })),
        forgottenTopicsData: [],
        rackId: '',
      },
      maxWaitMs + 10000,
    );
    let progressed = false;
    for (const t of res.responses) {
      for (const pr of t.partitions) {
        const p = parts.find((x) => x.topic === t.topic && x.index === pr.partitionIndex);
        if (!p || !this.partitions.has(p) || p.isLeader) continue;
        if (pr.errorCode !== 0) {
          this.handleError(p, pr.errorCode, pr.logStartOffset);
          continue;
        }
        if (pr.divergingEpoch.epoch >= 0) {
          this.truncateOnDivergence(p, pr.divergingEpoch.epoch, pr.divergingEpoch.endOffset);
          progressed = true;
          continue;
        }
        if (pr.records && pr.records.length > 0) {
          p.log.appendAsFollower(pr.records);
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

  private handleError(p: Partition, code: number, leaderLogStart: number): void {
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
    // Leadership moved, or the leader has not yet seen the metadata we have: back off briefly. If leadership
    // really moved, the next metadata image moves this partition to another fetcher.
    this.broker.logger.debug(`${p.key}: leader ${this.leaderId} answered ${errorName(code)}`);
    this.backoffUntil.set(p, Date.now() + RETRY_BACKOFF_MS);
    this.broker.requestMetadataRefresh();
  }
}
