// The transaction coordinator of one broker (Kafka's TransactionCoordinator + TransactionStateManager). A
// transactional id belongs to the partition abs(javaHash(id)) % N of the internal __transaction_state topic, and
// the leader of that partition is its coordinator. Every state change is a record in that partition (replicated
// like any other, waited for until the ISR has it), so a new coordinator reloads the state on leadership and
// finishes what the old one left half-done: a transaction in PrepareCommit/PrepareAbort gets its markers.
//
// The protocol, as Kafka's: InitProducerId gives the id its producer id and bumps the epoch on every call,
// fencing older producers of the same id (and aborting a transaction they left open); AddPartitionsToTxn and
// AddOffsetsToTxn put partitions into the transaction (Ongoing); EndTxn persists PrepareCommit/PrepareAbort,
// answers, then has markers written to every partition and persists CompleteCommit/CompleteAbort. Open
// transactions older than their timeout are aborted with a bumped epoch, fencing the producer.

import { ErrorCode, KafkaError, errorName } from '../../protocol/errorCode';
import { readMarker } from '../../protocol/records/controlRecord';
import { readBatchHeader } from '../../protocol/records/batchHeader';
import { buildBatch, decodeBatch, splitBatches } from '../../protocol/records/recordBatch';
import type { Broker } from '../broker';
import { ensureInternalTopic } from '../internalTopics';
import { OFFSETS_TOPIC } from '../metadata';
import type { Partition } from '../partition';
import { MarkerSender } from './markers';
import { TxnVerifier } from './verification';
import {
  TRANSACTION_STATE_TOPIC,
  TxnPartition,
  TxnState,
  TxnStateValue,
  decodeTxnKey,
  decodeTxnValue,
  encodeTxnKey,
  encodeTxnValue,
  txnStatePartitionFor,
} from './stateRecords';

/** Kafka's limit: an epoch reaching Short.MAX_VALUE - 1 makes InitProducerId allocate a new producer id. */
const MAX_EPOCH = 32766;
const STATE_WRITE_TIMEOUT_MS = 5000;
/**
 * How long AddPartitionsToTxn/AddOffsetsToTxn wait for the previous transaction's markers before answering
 * CONCURRENT_TRANSACTIONS. A client starts its next transaction as soon as EndTxn answers (after PrepareCommit is
 * durable, before the markers), and Kafka's answer then is CONCURRENT_TRANSACTIONS at once: the Java client retries
 * it after 20 ms, kafkajs after its general backoff of about 300 ms, a stall per transaction. Waiting here for the
 * markers (a few ms on a healthy cluster) answers the same thing Kafka would after the retry, without the stall.
 */
const COMPLETION_WAIT_MS = 250;

export interface TxnMetadata extends TxnStateValue {
  transactionalId: string;
  /** The producer id/epoch before the last bump, so that a retried KIP-360 bump gets the same answer. */
  lastProducerId: number;
  lastProducerEpoch: number;
  /** A state write or marker round is in flight: other requests get CONCURRENT_TRANSACTIONS. */
  busy: boolean;
  /** The marker round of a PrepareCommit/PrepareAbort and its Complete* write, while under way. */
  completing?: Promise<void>;
}

export interface InitResult {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

export class TransactionCoordinator {
  private readonly txns = new Map<string, TxnMetadata>();
  /** Transactional ids whose first InitProducerId is allocating a producer id. */
  private readonly initializing = new Set<string>();
  /** __transaction_state partitions this broker leads and has loaded, with the leader epoch = coordinator epoch. */
  private readonly loaded = new Map<number, number>();
  private readonly markers: MarkerSender;
  /** The partition-leader side: verification of transactional batches with their coordinator. */
  readonly verifier: TxnVerifier;
  private timer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly broker: Broker,
    private readonly allocateProducerId: () => Promise<number>,
  ) {
    this.markers = new MarkerSender(broker);
    this.verifier = new TxnVerifier(broker);
  }

  private get config() {
    return this.broker.config;
  }

  start(): void {
    const interval = Number(this.config['transaction.abort.timed.out.transaction.cleanup.interval.ms'] ?? 10000);
    this.timer = setInterval(() => this.abortTimedOutTransactions(), interval);
    this.timer.unref();
    const expiryInterval = Number(this.config['transaction.remove.expired.transaction.cleanup.interval.ms'] ?? 3600000);
    this.expiryTimer = setInterval(() => void this.removeExpiredTransactionalIds(), expiryInterval);
    this.expiryTimer.unref();
  }

  /**
   * Transactional ids without a transaction whose state has not changed for transactional.id.expiration.ms are
   * forgotten (a tombstone in __transaction_state), as Kafka's removeExpiredTransactionalIds: the next
   * InitProducerId for the id gets a new producer id.
   */
  async removeExpiredTransactionalIds(now = Date.now()): Promise<void> {
    const expirationMs = Number(this.config['transactional.id.expiration.ms'] ?? 604800000);
    for (const meta of [...this.txns.values()]) {
      const idle = meta.state === 'Empty' || meta.state === 'CompleteCommit' || meta.state === 'CompleteAbort';
      if (!idle || meta.busy || now - meta.lastUpdateTimestamp < expirationMs) continue;
      let partition: Partition;
      try {
        partition = this.ownedPartition(meta.transactionalId);
      } catch {
        continue;
      }
      meta.busy = true;
      try {
        const info = partition.appendAsLeader(buildBatch({ records: [{ key: encodeTxnKey(meta.transactionalId), value: null }] }), 'coordinator');
        await partition.waitForHighWatermark(info.lastOffset + 1, STATE_WRITE_TIMEOUT_MS);
        if (this.txns.get(meta.transactionalId) === meta) this.txns.delete(meta.transactionalId);
        this.broker.logger.info(`transactional id ${meta.transactionalId} expired after ${expirationMs} ms without a transaction`);
      } catch (err) {
        this.broker.logger.warn(`expiring transactional id ${meta.transactionalId} failed: ${(err as Error).message}`);
      } finally {
        meta.busy = false;
      }
    }
  }

  shutdown(): void {
    clearInterval(this.timer);
    clearInterval(this.expiryTimer);
    this.markers.close();
    this.verifier.close();
    this.txns.clear();
    this.loaded.clear();
  }

  private stateTopicPartitions(): number {
    const t = this.broker.topicState(TRANSACTION_STATE_TOPIC);
    return t ? t.partitions.length : Number(this.config['transaction.state.log.num.partitions'] ?? 10);
  }

  partitionFor(transactionalId: string): number {
    return txnStatePartitionFor(transactionalId, this.stateTopicPartitions());
  }

  // ---- coordinator discovery -------------------------------------------------------------------------------

  async findCoordinator(key: string): Promise<{ errorCode: number; errorMessage: string | null; nodeId: number; host: string; port: number }> {
    const none = (errorCode: number, errorMessage: string | null = null) => ({ errorCode, errorMessage, nodeId: -1, host: '', port: -1 });
    if (!key) return none(ErrorCode.INVALID_REQUEST, 'transactional id must not be empty');
    if (!this.broker.topicState(TRANSACTION_STATE_TOPIC)) {
      try {
        await this.createStateTopic();
      } catch (err) {
        return none(ErrorCode.COORDINATOR_NOT_AVAILABLE, (err as Error).message);
      }
    }
    const p = this.broker.topicState(TRANSACTION_STATE_TOPIC)?.partitions[this.partitionFor(key)];
    const leader = p && p.leader >= 0 ? this.broker.image.brokers.find((b) => b.id === p.leader && !b.fenced) : undefined;
    if (!leader) return none(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'The coordinator is not available.');
    return { errorCode: 0, errorMessage: null, nodeId: leader.id, host: leader.host, port: leader.port };
  }

  /** Creates __transaction_state unless it exists (FindCoordinator, or a Metadata request naming it). */
  async createStateTopic(): Promise<void> {
    await ensureInternalTopic(this.broker, TRANSACTION_STATE_TOPIC, this.stateTopicPartitions(), Number(this.config['transaction.state.log.replication.factor'] ?? 3));
  }

  /** The local state partition of a transactional id, if this broker coordinates it; else a coordinator error. */
  private ownedPartition(transactionalId: string): Partition {
    const index = this.partitionFor(transactionalId);
    const p = this.broker.partition(TRANSACTION_STATE_TOPIC, index);
    if (!p || !p.isLeader) throw new KafkaError(ErrorCode.NOT_COORDINATOR);
    if (!this.loaded.has(index)) throw new KafkaError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    return p;
  }

  private coordinatorEpochOf(transactionalId: string): number {
    return this.loaded.get(this.partitionFor(transactionalId)) ?? -1;
  }

  // ---- InitProducerId --------------------------------------------------------------------------------------

  async initProducerId(transactionalId: string, timeoutMs: number, expectedProducerId: number, expectedEpoch: number, version: number): Promise<InitResult> {
    const fail = (errorCode: number): InitResult => ({ errorCode, producerId: -1, producerEpoch: -1 });
    const fenced = version >= 4 ? ErrorCode.PRODUCER_FENCED : ErrorCode.INVALID_PRODUCER_EPOCH;
    if (!transactionalId) return fail(ErrorCode.INVALID_REQUEST);
    const maxTimeout = Number(this.config['transaction.max.timeout.ms'] ?? 900000);
    if (timeoutMs <= 0 || timeoutMs > maxTimeout) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    let partition: Partition;
    try {
      partition = this.ownedPartition(transactionalId);
    } catch (err) {
      return fail((err as KafkaError).code);
    }
    const now = Date.now();
    let meta = this.txns.get(transactionalId);
    if (!meta) {
      // A first InitProducerId for the id: concurrent ones wait (retry) rather than allocate a second producer id.
      if (this.initializing.has(transactionalId)) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      this.initializing.add(transactionalId);
      try {
        let producerId: number;
        try {
          producerId = await this.allocateProducerId();
        } catch (err) {
          this.broker.logger.warn(`no producer id for ${transactionalId}: ${(err as Error).message}`);
          return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
        }
        const fresh: TxnStateValue = { producerId, producerEpoch: 0, timeoutMs, state: 'Empty', partitions: [], lastUpdateTimestamp: now, startTimestamp: -1 };
        const code = await this.write(partition, transactionalId, fresh);
        if (code) return fail(code);
        meta = this.txns.get(transactionalId) ?? this.remember(transactionalId, fresh);
        return { errorCode: 0, producerId: meta.producerId, producerEpoch: meta.producerEpoch };
      } finally {
        this.initializing.delete(transactionalId);
      }
    }
    if (meta.busy) return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
    // KIP-360: a producer that passes its current id/epoch asks for a bump of its own epoch; anything else is a
    // zombie. A retry of a bump that already happened gets the current id and epoch again.
    if (expectedProducerId >= 0) {
      const isCurrent = expectedProducerId === meta.producerId && expectedEpoch === meta.producerEpoch;
      const isRetry = expectedProducerId === meta.lastProducerId && expectedEpoch === meta.lastProducerEpoch;
      if (isRetry && !isCurrent && (meta.state === 'Empty' || meta.state === 'CompleteAbort' || meta.state === 'CompleteCommit')) {
        return { errorCode: 0, producerId: meta.producerId, producerEpoch: meta.producerEpoch };
      }
      if (!isCurrent) return fail(fenced);
    }
    switch (meta.state) {
      case 'PrepareCommit':
      case 'PrepareAbort':
      case 'PrepareEpochFence':
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      case 'Ongoing':
        // A new producer instance (or the same one after an abortable error) finds a transaction open: abort it
        // under a bumped epoch, which fences the previous instance's writes, and let the client retry (Kafka answers
        // CONCURRENT_TRANSACTIONS and the retry finds CompleteAbort).
        void this.abortWithEpochBump(meta, partition, 'a new InitProducerId');
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      default: {
        let producerId = meta.producerId;
        let producerEpoch = meta.producerEpoch + 1;
        if (producerEpoch > MAX_EPOCH) {
          try {
            producerId = await this.allocateProducerId();
          } catch {
            return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
          }
          producerEpoch = 0;
        }
        const previous = { id: meta.producerId, epoch: meta.producerEpoch };
        const code = await this.transition(partition, meta, { producerId, producerEpoch, timeoutMs, state: 'Empty', partitions: [], lastUpdateTimestamp: now, startTimestamp: -1 });
        if (code) return fail(code);
        meta.lastProducerId = previous.id;
        meta.lastProducerEpoch = previous.epoch;
        return { errorCode: 0, producerId, producerEpoch };
      }
    }
  }

  // ---- AddPartitionsToTxn / AddOffsetsToTxn ----------------------------------------------------------------

  /** Checks common to requests of a producer within its transaction; returns an error code or the metadata. */
  private validate(transactionalId: string, producerId: number, producerEpoch: number, fencedCode: number): { partition: Partition; meta: TxnMetadata } | number {
    let partition: Partition;
    try {
      partition = this.ownedPartition(transactionalId);
    } catch (err) {
      return (err as KafkaError).code;
    }
    const meta = this.txns.get(transactionalId);
    if (!meta || meta.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (meta.producerEpoch !== producerEpoch) return fencedCode;
    if (meta.busy) return ErrorCode.CONCURRENT_TRANSACTIONS;
    return { partition, meta };
  }

  async addPartitions(transactionalId: string, producerId: number, producerEpoch: number, partitions: TxnPartition[], version: number): Promise<number> {
    await this.previousCompleted(transactionalId);
    const checked = this.validate(transactionalId, producerId, producerEpoch, version >= 2 ? ErrorCode.PRODUCER_FENCED : ErrorCode.INVALID_PRODUCER_EPOCH);
    if (typeof checked === 'number') return checked;
    const { partition, meta } = checked;
    if (meta.state === 'PrepareCommit' || meta.state === 'PrepareAbort' || meta.state === 'PrepareEpochFence') return ErrorCode.CONCURRENT_TRANSACTIONS;
    if (meta.state === 'Dead') return ErrorCode.INVALID_TXN_STATE;
    const has = (tp: TxnPartition) => meta.partitions.some((x) => x.topic === tp.topic && x.partition === tp.partition);
    const added = partitions.filter((tp) => !has(tp));
    if (meta.state === 'Ongoing' && added.length === 0) return 0;
    const now = Date.now();
    const ongoing = meta.state === 'Ongoing';
    return this.transition(partition, meta, {
      ...meta,
      state: 'Ongoing',
      partitions: ongoing ? [...meta.partitions, ...added] : added,
      lastUpdateTimestamp: now,
      startTimestamp: ongoing ? meta.startTimestamp : now,
    });
  }

  /**
   * AddPartitionsToTxn v4 with VerifyOnly (KIP-890), asked by a partition leader before it appends a producer's first
   * transactional batch there: 0 when the partition is in the producer's ongoing transaction, else an error. A
   * state write in flight does not matter here: only what is already decided is checked.
   */
  verifyPartitions(transactionalId: string, producerId: number, producerEpoch: number, partitions: TxnPartition[]): number[] {
    let code = 0;
    try {
      this.ownedPartition(transactionalId);
      const meta = this.txns.get(transactionalId);
      if (!meta || meta.producerId !== producerId) code = ErrorCode.INVALID_PRODUCER_ID_MAPPING;
      else if (meta.producerEpoch !== producerEpoch) code = ErrorCode.PRODUCER_FENCED;
      else if (meta.state !== 'Ongoing') code = ErrorCode.INVALID_TXN_STATE;
      else {
        return partitions.map((tp) => (meta.partitions.some((x) => x.topic === tp.topic && x.partition === tp.partition) ? 0 : ErrorCode.INVALID_TXN_STATE));
      }
    } catch (err) {
      code = (err as KafkaError).code;
    }
    return partitions.map(() => code);
  }

  /** AddOffsetsToTxn: the group's __consumer_offsets partition joins the transaction. */
  addOffsets(transactionalId: string, producerId: number, producerEpoch: number, groupId: string, version: number): Promise<number> {
    return this.addPartitions(transactionalId, producerId, producerEpoch, [{ topic: OFFSETS_TOPIC, partition: this.broker.groups.partitionFor(groupId) }], version);
  }

  // ---- EndTxn ----------------------------------------------------------------------------------------------

  async endTxn(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean, version: number): Promise<number> {
    const checked = this.validate(transactionalId, producerId, producerEpoch, version >= 2 ? ErrorCode.PRODUCER_FENCED : ErrorCode.INVALID_PRODUCER_EPOCH);
    if (typeof checked === 'number') return checked;
    const { partition, meta } = checked;
    switch (meta.state) {
      case 'Ongoing':
        break;
      case 'CompleteCommit':
        return commit ? 0 : ErrorCode.INVALID_TXN_STATE;
      case 'CompleteAbort':
        return commit ? ErrorCode.INVALID_TXN_STATE : 0;
      case 'PrepareCommit':
        return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
      case 'PrepareAbort':
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
      default:
        return ErrorCode.INVALID_TXN_STATE;
    }
    const code = await this.transition(partition, meta, { ...meta, state: commit ? 'PrepareCommit' : 'PrepareAbort', lastUpdateTimestamp: Date.now() });
    if (code) return code;
    // Kafka answers once the decision is durable; the markers follow.
    void this.complete(meta);
    return 0;
  }

  /** Waits (at most COMPLETION_WAIT_MS) for the markers of the transactional id's previous transaction. */
  private async previousCompleted(transactionalId: string): Promise<void> {
    const completing = this.txns.get(transactionalId)?.completing;
    if (!completing) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([completing, new Promise<void>((r) => (timer = setTimeout(r, COMPLETION_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /**
   * Writes the markers of a transaction in PrepareCommit/PrepareAbort, then persists CompleteCommit/CompleteAbort.
   * Gives up silently when this broker stops being the coordinator: the new one resumes from the log.
   */
  private complete(meta: TxnMetadata): Promise<void> {
    const completing = this.writeMarkersAndComplete(meta).finally(() => {
      if (meta.completing === completing) meta.completing = undefined;
    });
    meta.completing = completing;
    return completing;
  }

  private async writeMarkersAndComplete(meta: TxnMetadata): Promise<void> {
    const commit = meta.state === 'PrepareCommit';
    const coordinatorEpoch = this.coordinatorEpochOf(meta.transactionalId);
    const stillCoordinator = () => this.coordinatorEpochOf(meta.transactionalId) === coordinatorEpoch && this.txns.get(meta.transactionalId) === meta;
    meta.busy = true;
    try {
      const done = await this.markers.writeAll({ producerId: meta.producerId, producerEpoch: meta.producerEpoch, commit, coordinatorEpoch }, meta.partitions, stillCoordinator);
      if (!done) return;
      let partition: Partition;
      try {
        partition = this.ownedPartition(meta.transactionalId);
      } catch {
        return;
      }
      const next: TxnStateValue = { ...meta, state: commit ? 'CompleteCommit' : 'CompleteAbort', partitions: [], lastUpdateTimestamp: Date.now() };
      for (;;) {
        const code = await this.write(partition, meta.transactionalId, next);
        if (code === 0) {
          Object.assign(meta, next);
          return;
        }
        if (!stillCoordinator()) return;
        this.broker.logger.warn(`transaction ${meta.transactionalId}: writing ${next.state} failed (${errorName(code)}); retrying`);
        await new Promise((r) => setTimeout(r, 500));
      }
    } catch (err) {
      this.broker.logger.error(`transaction ${meta.transactionalId}: completing failed: ${(err as Error).stack}`);
    } finally {
      meta.busy = false;
    }
  }

  /** Aborts an open transaction under epoch+1 (fencing the producer that opened it): Kafka's PrepareEpochFence. */
  private async abortWithEpochBump(meta: TxnMetadata, partition: Partition, why: string): Promise<void> {
    if (meta.busy || meta.state !== 'Ongoing') return;
    this.broker.logger.info(`transaction ${meta.transactionalId} (producer ${meta.producerId}, epoch ${meta.producerEpoch}): aborting, ${why}`);
    const code = await this.transition(partition, meta, { ...meta, producerEpoch: meta.producerEpoch + 1, state: 'PrepareAbort', lastUpdateTimestamp: Date.now() });
    if (code) {
      this.broker.logger.warn(`transaction ${meta.transactionalId}: could not abort (${errorName(code)})`);
      return;
    }
    await this.complete(meta);
  }

  private abortTimedOutTransactions(): void {
    const now = Date.now();
    for (const meta of this.txns.values()) {
      if (meta.state !== 'Ongoing' || meta.busy || now - meta.startTimestamp <= meta.timeoutMs) continue;
      let partition: Partition;
      try {
        partition = this.ownedPartition(meta.transactionalId);
      } catch {
        continue;
      }
      void this.abortWithEpochBump(meta, partition, `its timeout of ${meta.timeoutMs} ms expired`);
    }
  }

  // ---- state records ---------------------------------------------------------------------------------------

  /** Persists `next` for the transaction and applies it to `meta` once the ISR has it; returns an error code. */
  private async transition(partition: Partition, meta: TxnMetadata, next: TxnStateValue): Promise<number> {
    if (meta.busy) return ErrorCode.CONCURRENT_TRANSACTIONS;
    meta.busy = true;
    try {
      const code = await this.write(partition, meta.transactionalId, next);
      if (code === 0) {
        meta.producerId = next.producerId;
        meta.producerEpoch = next.producerEpoch;
        meta.timeoutMs = next.timeoutMs;
        meta.state = next.state;
        meta.partitions = next.partitions;
        meta.lastUpdateTimestamp = next.lastUpdateTimestamp;
        meta.startTimestamp = next.startTimestamp;
      }
      return code;
    } finally {
      meta.busy = false;
    }
  }

  private async write(partition: Partition, transactionalId: string, value: TxnStateValue): Promise<number> {
    try {
      const batch = buildBatch({ records: [{ key: encodeTxnKey(transactionalId), value: encodeTxnValue(value) }] });
      const info = partition.appendAsLeader(batch, 'coordinator');
      await partition.waitForHighWatermark(info.lastOffset + 1, STATE_WRITE_TIMEOUT_MS);
      if (!this.txns.has(transactionalId)) this.remember(transactionalId, value);
      return 0;
    } catch (err) {
      this.broker.logger.warn(`transaction state write to ${partition.key} failed: ${(err as Error).message}`);
      const code = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
      return code === ErrorCode.NOT_LEADER_OR_FOLLOWER ? ErrorCode.NOT_COORDINATOR : ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  private remember(transactionalId: string, value: TxnStateValue): TxnMetadata {
    const meta: TxnMetadata = { ...value, transactionalId, lastProducerId: -1, lastProducerEpoch: -1, busy: false };
    this.txns.set(transactionalId, meta);
    return meta;
  }

  // ---- admin -----------------------------------------------------------------------------------------------

  describe(transactionalId: string): { errorCode: number; meta?: TxnMetadata } {
    try {
      this.ownedPartition(transactionalId);
    } catch (err) {
      return { errorCode: (err as KafkaError).code };
    }
    const meta = this.txns.get(transactionalId);
    return meta ? { errorCode: 0, meta } : { errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
  }

  /** Transactions this broker coordinates (loaded partitions only). */
  list(): TxnMetadata[] {
    return [...this.txns.values()].filter((m) => this.loaded.has(this.partitionFor(m.transactionalId))).sort((a, b) => a.transactionalId.localeCompare(b.transactionalId));
  }

  // ---- leadership changes ----------------------------------------------------------------------------------

  /** Loads state partitions this broker now leads; forgets those it no longer leads. */
  metadataChanged(): void {
    const count = this.broker.topicState(TRANSACTION_STATE_TOPIC)?.partitions.length ?? 0;
    for (let i = 0; i < count; i++) {
      const p = this.broker.partition(TRANSACTION_STATE_TOPIC, i);
      const leads = !!p && p.isLeader;
      const loadedAt = this.loaded.get(i);
      if (leads && loadedAt !== p!.leaderEpoch) this.load(p!);
      else if (!leads && loadedAt !== undefined) this.unload(i);
    }
    for (const i of [...this.loaded.keys()]) if (i >= count) this.unload(i);
  }

  private load(p: Partition): void {
    this.unload(p.index);
    const count = this.stateTopicPartitions();
    let offset = p.logStartOffset;
    let records = 0;
    while (offset < p.logEndOffset) {
      const data = p.log.read(offset, 1 << 20, p.logEndOffset);
      if (data.length === 0) break;
      for (const batch of splitBatches(data)) {
        const header = readBatchHeader(batch);
        try {
          if (!readMarker(batch)) {
            for (const rec of decodeBatch(batch).records) {
              if (rec.offset < offset || !rec.key) continue;
              const id = decodeTxnKey(rec.key);
              if (id === undefined || txnStatePartitionFor(id, count) !== p.index) continue;
              if (rec.value === null) this.txns.delete(id);
              else {
                const value = decodeTxnValue(rec.value);
                const meta = this.txns.get(id);
                if (meta) Object.assign(meta, value);
                else this.remember(id, value);
              }
              records++;
            }
          }
        } catch (err) {
          this.broker.logger.error(`skipping unreadable transaction state at ${p.key}@${header.baseOffset}: ${(err as Error).message}`);
        }
        offset = header.baseOffset + header.lastOffsetDelta + 1;
      }
    }
    this.loaded.set(p.index, p.leaderEpoch);
    if (records > 0) this.broker.logger.info(`loaded ${records} transaction state record(s) from ${p.key}`);
    // Finish what the previous coordinator decided but could not complete.
    for (const meta of this.txns.values()) {
      if (txnStatePartitionFor(meta.transactionalId, count) !== p.index) continue;
      if (meta.state === 'PrepareCommit' || meta.state === 'PrepareAbort') {
        this.broker.logger.info(`transaction ${meta.transactionalId}: resuming ${meta.state} after loading`);
        void this.complete(meta);
      }
    }
  }

  private unload(index: number): void {
    if (!this.loaded.delete(index)) return;
    const count = this.stateTopicPartitions();
    for (const id of [...this.txns.keys()]) if (txnStatePartitionFor(id, count) === index) this.txns.delete(id);
  }
}
