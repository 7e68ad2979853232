// The group coordinator of one broker. A group belongs to the partition abs(hash(groupId)) % N of the
// internal __consumer_offsets topic, and the leader of that partition is its coordinator. Committed offsets
// are records in that partition (replicated like any other), cached in memory and reloaded from the log when
// this broker becomes the partition's leader, so they survive restarts and coordinator failover.

import { ErrorCode, KafkaError } from '../../protocol/errorCode';
import { buildBatch, decodeBatch, splitBatches } from '../../protocol/records/recordBatch';
import { ATTR_TRANSACTIONAL, readBatchHeader } from '../../protocol/records/batchHeader';
import { readMarker } from '../../protocol/records/controlRecord';
import type { Broker } from '../broker';
import { ensureInternalTopic } from '../internalTopics';
import type { Connection } from '../connection';
import { OFFSETS_TOPIC } from '../metadata';
import { Partition } from '../partition';
import { Group, GroupStateName, JoinRequest, JoinResult, SyncResult } from './group';
import {
  CommittedOffset,
  decodeGroupMetadataValue,
  decodeKey,
  decodeOffsetValue,
  encodeGroupKey,
  encodeGroupMetadataValue,
  GroupMetadataRecord,
  encodeOffsetKey,
  encodeOffsetValue,
  offsetsPartitionFor,
} from './offsetsRecords';

export interface CoordinatorLocation {
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

export interface FetchedOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface GroupSummary {
  groupId: string;
  state: GroupStateName;
  protocolType: string;
}

const MAX_METADATA = 4096;
const COMMIT_TIMEOUT_MS = 5000;

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  /** group -> "topic\u0000partition" -> committed offset */
  private readonly offsets = new Map<string, Map<string, CommittedOffset>>();
  /**
   * Offsets committed in open transactions (TxnOffsetCommit), by producer id, then group, then "topic\u0000partition":
   * applied when the commit marker reaches the group's offsets partition, dropped on abort.
   */
  private readonly pendingTxnOffsets = new Map<number, Map<string, Map<string, CommittedOffset>>>();
  /** Offsets partitions this broker leads and has loaded, with the leader epoch they were loaded at. */
  private readonly loaded = new Map<number, number>();
  /** When removeExpiredOffsets last saw each group with members (its offsets' retention counts from then). */
  private readonly lastSeenWithMembers = new Map<string, number>();

  constructor(readonly broker: Broker) {}

  private get config() {
    return this.broker.config;
  }

  private offsetsPartitionCount(): number {
    const t = this.broker.topicState(OFFSETS_TOPIC);
    return t ? t.partitions.length : Number(this.config['offsets.topic.num.partitions']);
  }

  partitionFor(groupId: string): number {
    return offsetsPartitionFor(groupId, this.offsetsPartitionCount());
  }

  // ---- coordinator discovery -------------------------------------------------------------------------------

  async findCoordinator(key: string): Promise<CoordinatorLocation> {
    const none = (errorCode: number, errorMessage: string | null = null): CoordinatorLocation => ({ errorCode, errorMessage, nodeId: -1, host: '', port: -1 });
    if (!key) return none(ErrorCode.INVALID_REQUEST, 'group id must not be empty');
    if (!this.broker.topicState(OFFSETS_TOPIC)) {
      try {
        await this.createOffsetsTopic();
      } catch (err) {
        return none(ErrorCode.COORDINATOR_NOT_AVAILABLE, (err as Error).message);
      }
    }
    const topic = this.broker.topicState(OFFSETS_TOPIC);
    const p = topic?.partitions[this.partitionFor(key)];
    const leader = p && p.leader >= 0 ? this.broker.image.brokers.find((b) => b.id === p.leader && !b.fenced) : undefined;
    if (!leader) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
    return { errorCode: 0, errorMessage: null, nodeId: leader.id, host: leader.host, port: leader.port };
  }

  /**
   * Writes the group's GroupMetadataValue to its offsets partition, as Kafka's coordinator does after a rebalance
   * and when the group empties: appended at once, in order with the group's other records; resolves to an error code
   * once replicated to the ISR (a failed write is logged by append(); the next change writes the whole group again).
   */
  private storeGroup(g: Group): Promise<number> {
    const p = this.broker.partition(OFFSETS_TOPIC, this.partitionFor(g.groupId));
    if (!p?.isLeader) return Promise.resolve(ErrorCode.NOT_COORDINATOR);
    return this.append(p, [{ key: encodeGroupKey(g.groupId), value: encodeGroupMetadataValue(g.toRecord()) }]);
  }

  /** Creates __consumer_offsets unless it exists (FindCoordinator, or a Metadata request naming it). */
  async createOffsetsTopic(): Promise<void> {
    await ensureInternalTopic(this.broker, OFFSETS_TOPIC, Number(this.config['offsets.topic.num.partitions']), Number(this.config['offsets.topic.replication.factor']));
  }

  /** The local offsets partition for a group, if this broker coordinates it; else a coordinator error. */
  private ownedPartition(groupId: string): Partition {
    if (!groupId) throw new KafkaError(ErrorCode.INVALID_GROUP_ID);
    const index = this.partitionFor(groupId);
    const p = this.broker.partition(OFFSETS_TOPIC, index);
    if (!p || !p.isLeader) throw new KafkaError(ErrorCode.NOT_COORDINATOR);
    if (!this.loaded.has(index)) throw new KafkaError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    return p;
  }

  private group(groupId: string, create: boolean): Group | undefined {
    let g = this.groups.get(groupId);
    if (!g && create) {
      g = new Group(groupId, Number(this.config['group.initial.rebalance.delay.ms']));
      g.onChange = (grp, what) => this.broker.logger.info(`group ${grp.groupId}: ${what}`);
      g.onStore = (grp) => this.storeGroup(grp);
      this.groups.set(groupId, g);
    }
    return g;
  }

  // ---- membership ------------------------------------------------------------------------------------------

  async join(groupId: string, req: JoinRequest): Promise<JoinResult> {
    const fail = (errorCode: number): JoinResult => ({ errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', memberId: req.memberId, members: [] });
    try {
      this.ownedPartition(groupId);
    } catch (err) {
      return fail((err as KafkaError).code);
    }
    const min = Number(this.config['group.min.session.timeout.ms']);
    const max = Number(this.config['group.max.session.timeout.ms']);
    if (req.sessionTimeoutMs < min || req.sessionTimeoutMs > max) return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    const g = this.group(groupId, true)!;
    if (g.state === 'Dead') {
      this.groups.delete(groupId);
      return this.join(groupId, req);
    }
    return g.join(req);
  }

  async sync(groupId: string, memberId: string, generationId: number, assignments: Array<{ memberId: string; assignment: Buffer }>): Promise<SyncResult> {
    const fail = (errorCode: number): SyncResult => ({ errorCode, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) });
    try {
      this.ownedPartition(groupId);
    } catch (err) {
      return fail((err as KafkaError).code);
    }
    const g = this.group(groupId, false);
    if (!g) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    return g.sync(memberId, generationId, assignments);
  }

  heartbeat(groupId: string, memberId: string, generationId: number): number {
    try {
      this.ownedPartition(groupId);
    } catch (err) {
      return (err as KafkaError).code;
    }
    const g = this.group(groupId, false);
    return g ? g.heartbeat(memberId, generationId) : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  leave(groupId: string, members: Array<{ memberId: string; groupInstanceId: string | null }>): { errorCode: number; members: number[] } {
    try {
      this.ownedPartition(groupId);
    } catch (err) {
      return { errorCode: (err as KafkaError).code, members: members.map(() => (err as KafkaError).code) };
    }
    const g = this.group(groupId, false);
    if (!g) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, members: members.map(() => ErrorCode.UNKNOWN_MEMBER_ID) };
    const codes = members.map((m) => g.leave(m.memberId, m.groupInstanceId));
    return { errorCode: members.length === 1 ? codes[0] : 0, members: codes };
  }

  // ---- offsets ---------------------------------------------------------------------------------------------

  /** Why one offset of an OffsetCommit or TxnOffsetCommit cannot be stored (0: it can). */
  private offsetProblem(o: OffsetToCommit): number {
    if ((o.metadata?.length ?? 0) > MAX_METADATA) return ErrorCode.OFFSET_METADATA_TOO_LARGE;
    const t = this.broker.topicState(o.topic);
    if (!t || !t.partitions.some((p) => p.partition === o.partition)) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    return 0;
  }

  async commitOffsets(groupId: string, memberId: string, generationId: number, offsets: OffsetToCommit[]): Promise<number[]> {
    let partition: Partition;
    try {
      partition = this.ownedPartition(groupId);
      const g = this.group(groupId, false);
      if (g) g.checkCommit(memberId, generationId);
      else if (generationId >= 0) throw new KafkaError(memberId ? ErrorCode.UNKNOWN_MEMBER_ID : ErrorCode.ILLEGAL_GENERATION);
    } catch (err) {
      return offsets.map(() => (err as KafkaError).code);
    }
    return this.writeOffsets(partition, groupId, offsets, () => this.offsetsOf(groupId, true)!);
  }

  /**
   * TxnOffsetCommit: offsets of a transactional producer, written to the group's offsets partition as a transactional
   * batch of that producer and kept pending until the transaction's marker arrives there (completeTxnOffsets).
   * Generation and member are checked as for OffsetCommit when given (v3+, KIP-447).
   */
  async commitTxnOffsets(groupId: string, producerId: number, producerEpoch: number, memberId: string, generationId: number, offsets: OffsetToCommit[]): Promise<number[]> {
    let partition: Partition;
    try {
      partition = this.ownedPartition(groupId);
      const g = this.group(groupId, false);
      if (g && generationId >= 0) g.checkCommit(memberId, generationId);
    } catch (err) {
      return offsets.map(() => (err as KafkaError).code);
    }
    return this.writeOffsets(partition, groupId, offsets, () => this.pendingOffsetsOf(producerId, groupId), { producerId, producerEpoch });
  }

  /**
   * The write both commits share: each offset validated, the valid ones appended as one batch (a transactional one
   * for TxnOffsetCommit), then recorded in `into()` (committed, or pending until the marker) once written. One error
   * code per offset, in order.
   */
  private async writeOffsets(
    partition: Partition,
    groupId: string,
    offsets: OffsetToCommit[],
    into: () => Map<string, CommittedOffset>,
    txn?: { producerId: number; producerEpoch: number },
  ): Promise<number[]> {
    const now = Date.now();
    const codes = offsets.map((o) => this.offsetProblem(o));
    const accepted = offsets.filter((_, i) => codes[i] === 0);
    if (accepted.length === 0) return codes;
    const values = accepted.map((o) => ({ offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata ?? '', commitTimestamp: now }));
    const writeError = await this.append(
      partition,
      accepted.map((o, i) => ({ key: encodeOffsetKey(groupId, o.topic, o.partition), value: encodeOffsetValue(values[i]) })),
      txn,
    );
    if (writeError) return codes.map((c) => (c === 0 ? writeError : c));
    const target = into();
    accepted.forEach((o, i) => target.set(`${o.topic}\u0000${o.partition}`, values[i]));
    if (!this.groups.has(groupId)) this.group(groupId, true);
    return codes;
  }

  private pendingOffsetsOf(producerId: number, groupId: string): Map<string, CommittedOffset> {
    let byGroup = this.pendingTxnOffsets.get(producerId);
    if (!byGroup) this.pendingTxnOffsets.set(producerId, (byGroup = new Map()));
    let offsets = byGroup.get(groupId);
    if (!offsets) byGroup.set(groupId, (offsets = new Map()));
    return offsets;
  }

  /**
   * A transaction marker of `producerId` reached offsets partition `index`: its pending offsets for the groups of
   * that partition become committed (commit) or are dropped (abort), as Kafka's handleTxnCompletion.
   */
  completeTxnOffsets(index: number, producerId: number, commit: boolean): void {
    const byGroup = this.pendingTxnOffsets.get(producerId);
    if (!byGroup) return;
    const count = this.offsetsPartitionCount();
    for (const [groupId, offsets] of [...byGroup]) {
      if (offsetsPartitionFor(groupId, count) !== index) continue;
      if (commit) {
        const cache = this.offsetsOf(groupId, true)!;
        for (const [k, v] of offsets) cache.set(k, v);
      }
      byGroup.delete(groupId);
    }
    if (byGroup.size === 0) this.pendingTxnOffsets.delete(producerId);
  }

  /** Whether a partition of a group has offsets waiting for a transaction to end (OffsetFetch require_stable). */
  hasPendingTxnOffsets(groupId: string, topic: string, partition: number): boolean {
    for (const byGroup of this.pendingTxnOffsets.values()) if (byGroup.get(groupId)?.has(`${topic}\u0000${partition}`)) return true;
    return false;
  }

  /**
   * Appends records to an offsets partition and waits until they are replicated to the ISR. With `txn`, a
   * transactional batch of that producer (TxnOffsetCommit).
   */
  private async append(partition: Partition, records: Array<{ key: Buffer; value: Buffer | null }>, txn?: { producerId: number; producerEpoch: number }): Promise<number> {
    try {
      const batch = buildBatch({
        records: records.map((r) => ({ key: r.key, value: r.value })),
        ...(txn ? { producerId: txn.producerId, producerEpoch: txn.producerEpoch, transactional: true } : {}),
      });
      const info = partition.appendAsLeader(batch, 'coordinator');
      await partition.waitForHighWatermark(info.lastOffset + 1, COMMIT_TIMEOUT_MS);
      return 0;
    } catch (err) {
      const code = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
      // A full disk was already reported once for this partition (storageFaults): no warning per commit.
      if (code !== ErrorCode.KAFKA_STORAGE_ERROR) this.broker.logger.warn(`offsets write to ${partition.key} failed: ${(err as Error).message}`);
      // As Kafka's GroupMetadataManager: a storage error, like lost leadership, sends the client to find the coordinator again.
      return code === ErrorCode.NOT_LEADER_OR_FOLLOWER || code === ErrorCode.KAFKA_STORAGE_ERROR ? ErrorCode.NOT_COORDINATOR : ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  private offsetsOf(groupId: string, create: boolean): Map<string, CommittedOffset> | undefined {
    let m = this.offsets.get(groupId);
    if (!m && create) {
      m = new Map();
      this.offsets.set(groupId, m);
    }
    return m;
  }

  /** Committed offsets; `topics` null = every partition the group has committed. */
  fetchOffsets(groupId: string, topics: Array<{ name: string; partitions: number[] }> | null): { errorCode: number; offsets: FetchedOffset[] } {
    try {
      this.ownedPartition(groupId);
    } catch (err) {
      return { errorCode: (err as KafkaError).code, offsets: [] };
    }
    const cache = this.offsetsOf(groupId, false) ?? new Map<string, CommittedOffset>();
    const wanted =
      topics ??
      [...cache.keys()].reduce<Array<{ name: string; partitions: number[] }>>((acc, k) => {
        const [name, p] = k.split('\u0000');
        let t = acc.find((x) => x.name === name);
        if (!t) acc.push((t = { name, partitions: [] }));
        t.partitions.push(Number(p));
        return acc;
      }, []);
    const offsets: FetchedOffset[] = [];
    for (const t of wanted) {
      for (const p of t.partitions) {
        const c = cache.get(`${t.name}\u0000${p}`);
        offsets.push({ topic: t.name, partition: p, offset: c?.offset ?? -1, leaderEpoch: c?.leaderEpoch ?? -1, metadata: c?.metadata ?? '', errorCode: 0 });
      }
    }
    return { errorCode: 0, offsets };
  }

  // ---- admin -----------------------------------------------------------------------------------------------

  describe(groupId: string): { errorCode: number; group: Group | undefined; state: GroupStateName | 'Dead'; protocolType: string } {
    try {
      this.ownedPartition(groupId);
    } catch (err) {
      return { errorCode: (err as KafkaError).code, group: undefined, state: 'Dead', protocolType: '' };
    }
    const g = this.groups.get(groupId);
    if (!g) return { errorCode: 0, group: undefined, state: 'Dead', protocolType: '' };
    return { errorCode: 0, group: g, state: g.state, protocolType: g.protocolType ?? (this.offsets.has(groupId) ? 'consumer' : '') };
  }

  /** Groups coordinated here (those with members and those that only have committed offsets). */
  list(): GroupSummary[] {
    const out: GroupSummary[] = [];
    const ids = new Set([...this.groups.keys(), ...this.offsets.keys()]);
    for (const id of ids) {
      const p = this.broker.partition(OFFSETS_TOPIC, this.partitionFor(id));
      if (!p?.isLeader) continue;
      const g = this.groups.get(id);
      if (g?.state === 'Dead') continue;
      out.push({ groupId: id, state: g?.state ?? 'Empty', protocolType: g?.protocolType ?? 'consumer' });
    }
    return out.sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  async deleteGroup(groupId: string): Promise<number> {
    let partition: Partition;
    try {
      partition = this.ownedPartition(groupId);
    } catch (err) {
      return (err as KafkaError).code;
    }
    const g = this.groups.get(groupId);
    const cache = this.offsets.get(groupId);
    if ((!g || g.state === 'Dead') && !cache) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (g && !g.isEmpty) return ErrorCode.NON_EMPTY_GROUP;
    const tombstones = [...(cache?.keys() ?? [])].map((k) => {
      const [topic, p] = k.split('\u0000');
      return { key: encodeOffsetKey(groupId, topic, Number(p)), value: null };
    });
    tombstones.push({ key: encodeGroupKey(groupId), value: null });
    const err = await this.append(partition, tombstones);
    if (err) return err;
    g?.markDead();
    this.groups.delete(groupId);
    this.offsets.delete(groupId);
    return 0;
  }

  async deleteOffsets(groupId: string, topics: Array<{ name: string; partitions: number[] }>): Promise<{ errorCode: number; partitions: Array<{ topic: string; partition: number; errorCode: number }> }> {
    let partition: Partition;
    try {
      partition = this.ownedPartition(groupId);
    } catch (err) {
      return { errorCode: (err as KafkaError).code, partitions: [] };
    }
    const g = this.groups.get(groupId);
    const cache = this.offsets.get(groupId);
    if (!cache && !g) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] };
    const subscribed = g && !g.isEmpty ? g.subscribedTopics() : new Set<string>();
    const results: Array<{ topic: string; partition: number; errorCode: number }> = [];
    const tombstones: Array<{ key: Buffer; value: null }> = [];
    for (const t of topics) {
      for (const p of t.partitions) {
        if (subscribed === null || subscribed.has(t.name)) {
          results.push({ topic: t.name, partition: p, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC });
          continue;
        }
        results.push({ topic: t.name, partition: p, errorCode: 0 });
        tombstones.push({ key: encodeOffsetKey(groupId, t.name, p), value: null });
      }
    }
    if (tombstones.length) {
      const err = await this.append(partition, tombstones);
      if (err) return { errorCode: err, partitions: [] };
      for (const r of results) if (r.errorCode === 0) cache?.delete(`${r.topic}\u0000${r.partition}`);
    }
    return { errorCode: 0, partitions: results };
  }

  // ---- leadership changes ----------------------------------------------------------------------------------

  /** Loads offsets partitions we now lead; unloads groups of partitions we no longer lead. */
  metadataChanged(): void {
    const topic = this.broker.topicState(OFFSETS_TOPIC);
    const count = topic?.partitions.length ?? 0;
    for (let i = 0; i < count; i++) {
      const p = this.broker.partition(OFFSETS_TOPIC, i);
      const leads = !!p && p.isLeader;
      const loadedAt = this.loaded.get(i);
      if (leads && loadedAt !== p!.leaderEpoch) this.load(p!);
      else if (!leads && loadedAt !== undefined) this.unload(i);
    }
    for (const i of [...this.loaded.keys()]) if (i >= count) this.unload(i);
  }

  private load(p: Partition): void {
    this.unload(p.index);
    let offset = p.logStartOffset;
    let records = 0;
    /** The last group record of each group in the partition (null: a tombstone). */
    const groupRecords = new Map<string, GroupMetadataRecord | null>();
    while (offset < p.logEndOffset) {
      const data = p.log.read(offset, 1 << 20, p.logEndOffset);
      if (data.length === 0) break;
      for (const batch of splitBatches(data)) {
        const header = readBatchHeader(batch);
        try {
          const marker = readMarker(batch);
          if (marker) {
            this.completeTxnOffsets(p.index, header.producerId, marker.commit);
          } else {
            const transactional = header.producerId >= 0 && (header.attributes & ATTR_TRANSACTIONAL) !== 0;
            for (const rec of decodeBatch(batch).records) {
              if (rec.offset < offset || !rec.key) continue;
              if (transactional) this.applyPendingRecord(header.producerId, rec.key, rec.value);
              else this.applyRecord(rec.key, rec.value, groupRecords);
              records++;
            }
          }
        } catch (err) {
          // An unreadable batch or record must not stop the broker from starting (or crash it on a leadership
          // change): skip it, as Kafka skips what it cannot load, and say so.
          this.broker.logger.error(`skipping unreadable offset records at ${p.key}@${header.baseOffset}: ${(err as Error).message}`);
        }
        offset = header.baseOffset + header.lastOffsetDelta + 1;
      }
    }
    for (const [groupId, record] of groupRecords) {
      if (!record) continue;
      const g = this.group(groupId, true)!;
      g.restore(record);
    }
    this.loaded.set(p.index, p.leaderEpoch);
    if (records > 0) this.broker.logger.info(`loaded ${records} offset and group record(s) from ${p.key}`);
  }

  /** An offset record of an open transaction found while loading: pending until its marker. */
  private applyPendingRecord(producerId: number, key: Buffer, value: Buffer | null): void {
    const k = decodeKey(key);
    if (!k || k.kind !== 'offset' || value === null) return;
    this.pendingOffsetsOf(producerId, k.group).set(`${k.topic}\u0000${k.partition}`, decodeOffsetValue(value));
  }

  private applyRecord(key: Buffer, value: Buffer | null, groupRecords: Map<string, GroupMetadataRecord | null>): void {
    const k = decodeKey(key);
    if (!k) return;
    if (k.kind === 'group') {
      if (value === null) this.offsets.delete(k.group);
      groupRecords.set(k.group, value === null ? null : (decodeGroupMetadataValue(value) ?? groupRecords.get(k.group) ?? null));
      return;
    }
    const cacheKey = `${k.topic}\u0000${k.partition}`;
    if (value === null) this.offsetsOf(k.group, false)?.delete(cacheKey);
    else this.offsetsOf(k.group, true)!.set(cacheKey, decodeOffsetValue(value));
  }

  private unload(index: number): void {
    if (!this.loaded.delete(index)) return;
    const count = this.offsetsPartitionCount();
    for (const [id, g] of [...this.groups]) {
      if (offsetsPartitionFor(id, count) !== index) continue;
      g.unload(ErrorCode.NOT_COORDINATOR);
      this.groups.delete(id);
    }
    for (const id of [...this.offsets.keys()]) if (offsetsPartitionFor(id, count) === index) this.offsets.delete(id);
    for (const [producerId, byGroup] of [...this.pendingTxnOffsets]) {
      for (const id of [...byGroup.keys()]) if (offsetsPartitionFor(id, count) === index) byGroup.delete(id);
      if (byGroup.size === 0) this.pendingTxnOffsets.delete(producerId);
    }
  }

  connectionClosed(_conn: Connection): void {
    // Kafka keeps members until their session times out, whatever happens to their connections.
  }

  // ---- offsets retention -----------------------------------------------------------------------------------

  /**
   * Kafka's offsets retention (offsets.retention.minutes, checked every offsets.retention.check.interval.ms): the
   * committed offsets of a group without members expire retention after the later of their commit and the last time
   * this check saw the group with members (Kafka counts from the moment the group became empty); offsets of an open
   * transaction stay. Each expired offset gets a tombstone in __consumer_offsets, which compaction then removes; an
   * empty group left without offsets is deleted with a tombstone of its own. Returns how many offsets expired.
   */
  async removeExpiredOffsets(now = Date.now()): Promise<number> {
    const retentionMs = Number(this.config['offsets.retention.minutes']) * 60_000;
    let expired = 0;
    for (const [groupId, cache] of [...this.offsets]) {
      let partition: Partition;
      try {
        partition = this.ownedPartition(groupId);
      } catch {
        continue;
      }
      const g = this.groups.get(groupId);
      if (g && !g.isEmpty) {
        this.lastSeenWithMembers.set(groupId, now);
        continue;
      }
      const since = this.lastSeenWithMembers.get(groupId) ?? Number.NEGATIVE_INFINITY;
      const doomed = [...cache].filter(([k, v]) => {
        const [topic, p] = k.split('\u0000');
        return Math.max(v.commitTimestamp, since) + retentionMs <= now && !this.hasPendingTxnOffsets(groupId, topic, Number(p));
      });
      if (doomed.length === 0) continue;
      const tombstones: Array<{ key: Buffer; value: null }> = doomed.map(([k]) => {
        const [topic, p] = k.split('\u0000');
        return { key: encodeOffsetKey(groupId, topic, Number(p)), value: null };
      });
      const groupGone = doomed.length === cache.size;
      if (groupGone) tombstones.push({ key: encodeGroupKey(groupId), value: null });
      if (await this.append(partition, tombstones)) continue; // not written: tried again at the next check
      for (const [k] of doomed) cache.delete(k);
      expired += doomed.length;
      this.broker.logger.info(`group ${groupId}: ${doomed.length} committed offset(s) expired (offsets.retention.minutes)`);
      if (groupGone && this.offsets.get(groupId)?.size === 0 && (!g || g.isEmpty)) {
        g?.markDead();
        this.groups.delete(groupId);
        this.offsets.delete(groupId);
        this.lastSeenWithMembers.delete(groupId);
      }
    }
    return expired;
  }

  shutdown(): void {
    for (const g of this.groups.values()) g.unload(ErrorCode.NOT_COORDINATOR);
    this.groups.clear();
    this.loaded.clear();
  }
}
