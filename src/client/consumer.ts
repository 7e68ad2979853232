// Reading records, two ways:
// * without a group (a tail): chosen partitions from earliest, latest, an offset or a timestamp. Nothing is
//   joined and nothing is committed, so looking at a topic leaves no trace on the cluster. kafkajs has no
//   assign(); this uses its Cluster and Fetch request directly (see kafkajsInternals.ts).
// * with a group: kafkajs's consumer subscribes normally, and a record's offset is committed only once the
//   caller has taken it from the stream, so a stopped reader never skips records it did not see. kafkajs
//   heartbeats between records, so a reader must not sit on the stream longer than the session timeout (30 s).
// Both are async iterables of ConsumedRecord with stop().

import { Consumer } from 'kafkajs';
import { ClientError, createKafka, kafkaConfig, KafkaConnectionOptions } from './connection';
import {
  brokerError,
  createBatch,
  createInternalCluster,
  FetchedMessage,
  fetchMetadata,
  InternalBatch,
  InternalCluster,
  READ_COMMITTED,
  READ_UNCOMMITTED,
  UNKNOWN_TOPIC_OR_PARTITION,
} from './kafkajsInternals';

export type StartPosition = 'earliest' | 'latest' | { offset: string | number | bigint } | { timestamp: number };

/**
 * read_committed (the default, as kafkajs's and Kafka's consumers): records up to the last stable offset, without
 * aborted transactions' records. read_uncommitted: everything up to the high watermark.
 */
export type IsolationLevel = 'read_committed' | 'read_uncommitted';

export interface ConsumeOptions {
  topic: string;
  /** With a group: partitions come from the group, offsets are committed, `from` applies only without a committed offset. */
  groupId?: string;
  /** Without a group: the partitions to read (default: all). */
  partitions?: number[];
  /** Default 'latest', like Kafka's console consumer. */
  from?: StartPosition;
  /** How long the broker may hold a fetch open waiting for new records. */
  maxWaitMs?: number;
  maxBytesPerPartition?: number;
  /** Records buffered ahead of the reader (tail mode only; group mode hands over one record at a time). */
  bufferSize?: number;
  isolation?: IsolationLevel;
  /** Tail mode only: also deliver transaction markers (COMMIT/ABORT control records) as records with `control`. */
  controlRecords?: boolean;
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  /** Milliseconds since the epoch, as a decimal string. */
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer[]>;
  /** A transaction marker (only with `controlRecords`): key and value are null. */
  control?: 'COMMIT' | 'ABORT';
  /** Set for records written by a transaction and for markers: the producer whose transaction it belongs to. */
  producerId?: string;
  transactional?: boolean;
}

export interface RecordStream extends AsyncIterable<ConsumedRecord> {
  /**
   * The next record; undefined once the stream is stopped or, with `timeoutMs`, when none arrived in time.
   * Rejects if the stream failed. A record is never lost to a timed-out call.
   */
  next(options?: { timeoutMs?: number }): Promise<ConsumedRecord | undefined>;
  readonly stopped: boolean;
  /** Stops reading (leaving the group, committing what was taken). Pending next() calls resolve undefined. */
  stop(): Promise<void>;
}

const DEFAULT_MAX_WAIT_MS = 500;
const DEFAULT_MAX_BYTES_PER_PARTITION = 1024 * 1024;
const DEFAULT_BUFFER = 1000;
/** How long the tail keeps retrying retriable failures (leader moves, a broker restarting) before giving up. */
const RETRY_BUDGET_MS = 30000;
/** How often the tail asks for new metadata while a partition has no leader. */
const LEADER_REFRESH_MS = 1000;

/** Opens a stream on `topic`; rejects with ClientError if the topic does not exist. */
export async function openConsumer(connection: KafkaConnectionOptions, options: ConsumeOptions): Promise<RecordStream> {
  if (options.groupId !== undefined) {
    if (options.partitions !== undefined) throw new ClientError('choosing partitions is only possible without a consumer group');
    if (options.from !== undefined && typeof options.from !== 'string') {
      throw new ClientError('a consumer group starts from its committed offsets; an offset or timestamp needs no group');
    }
    return openGroupConsumer(connection, options);
  }
  return openTail(connection, options);
}

// ---------------------------------------------------------------------------------------------------------------
// A hand-over queue between a producer of records (fetch loop, kafkajs callback) and the iterator.

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: unknown): void;
}

/**
 * push() resolves true as soon as the record is buffered while fewer than `capacity` records wait, otherwise
 * once the reader has taken it; false if the queue was closed before that. With capacity 0 every push waits
 * for its record to be taken, which is what makes commit-after-take possible in group mode.
 */
class RecordQueue {
  private readonly buffered: Array<{ record: ConsumedRecord; taken: Waiter<boolean> | undefined }> = [];
  private readonly readers: Array<Waiter<ConsumedRecord | undefined>> = [];
  private failure: { error: unknown } | undefined;
  private closed = false;

  constructor(private readonly capacity: number) {}

  get isClosed(): boolean {
    return this.closed;
  }

  push(record: ConsumedRecord): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    const reader = this.readers.shift();
    if (reader) {
      reader.resolve(record);
      return Promise.resolve(true);
    }
    if (this.buffered.length < this.capacity) {
      this.buffered.push({ record, taken: undefined });
      return Promise.resolve(true);
    }
    return new Promise((resolve, reject) => this.buffered.push({ record, taken: { resolve, reject } }));
  }

  next(timeoutMs?: number): Promise<ConsumedRecord | undefined> {
    const entry = this.buffered.shift();
    if (entry) {
      entry.taken?.resolve(true);
      return Promise.resolve(entry.record);
    }
    if (this.failure) return Promise.reject(this.failure.error);
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const reader: Waiter<ConsumedRecord | undefined> = { resolve, reject };
      this.readers.push(reader);
      if (timeoutMs === undefined) return;
      const timer = setTimeout(() => {
        // Leave the line first, so a record arriving later goes to the next reader instead of this one.
        const i = this.readers.indexOf(reader);
        if (i >= 0) this.readers.splice(i, 1);
        resolve(undefined);
      }, timeoutMs);
      reader.resolve = (r) => {
        clearTimeout(timer);
        resolve(r);
      };
      reader.reject = (e) => {
        clearTimeout(timer);
        reject(e);
      };
    });
  }

  /** Ends the stream: buffered records are dropped, waiting readers get undefined. */
  close(): void {
    this.end();
    for (const reader of this.readers.splice(0)) reader.resolve(undefined);
  }

  /** Ends the stream with an error: waiting and later readers get it. */
  fail(error: unknown): void {
    if (this.closed) return;
    this.failure = { error };
    this.end();
    for (const reader of this.readers.splice(0)) reader.reject(error);
  }

  private end(): void {
    this.closed = true;
    for (const entry of this.buffered.splice(0)) entry.taken?.resolve(false);
  }
}

function streamOf(queue: RecordQueue, stop: () => Promise<void>): RecordStream {
  let stopping: Promise<void> | undefined;
  return {
    next: (options) => queue.next(options?.timeoutMs),
    get stopped() {
      return queue.isClosed;
    },
    // Idempotent: a signal handler and a finally block may both stop the stream.
    stop: () => (stopping ??= stop()),
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const record = await queue.next();
        if (record === undefined) return;
        yield record;
      }
    },
  };
}

/** A control record's key is version (int16) then type (int16): 0 = ABORT, 1 = COMMIT (Kafka's ControlRecordType). */
function markerType(key: Buffer | null): 'COMMIT' | 'ABORT' | undefined {
  if (!key || key.length < 4) return undefined;
  const type = key.readInt16BE(2);
  return type === 1 ? 'COMMIT' : type === 0 ? 'ABORT' : undefined;
}

function toRecord(topic: string, partition: number, m: FetchedMessage): ConsumedRecord {
  if (m.isControlRecord) {
    const control = markerType(m.key);
    return { topic, partition, offset: m.offset, timestamp: m.timestamp, key: null, value: null, headers: {}, ...(control ? { control } : {}), producerId: m.batchContext?.producerId ?? '-1', transactional: true };
  }
  const headers: Record<string, Buffer[]> = {};
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    if (value === undefined) continue;
    headers[name] = (Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v))));
  }
  const record: ConsumedRecord = { topic, partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value, headers };
  if (m.batchContext?.inTransaction) Object.assign(record, { transactional: true, producerId: m.batchContext.producerId });
  return record;
}

/** The records kafkajs keeps, plus the control records (markers) it filtered out, in offset order. */
function withMarkers(batch: InternalBatch): FetchedMessage[] {
  const kept = new Set(batch.messages);
  return batch.messagesWithinOffset.filter((m) => kept.has(m) || m.isControlRecord === true);
}

// ---------------------------------------------------------------------------------------------------------------
// Tail: no group

async function openTail(connection: KafkaConnectionOptions, options: ConsumeOptions): Promise<RecordStream> {
  // The Cluster's isolation level is also ListOffsets': "latest" is the LSO for read_committed, the HW otherwise.
  const cluster = createInternalCluster(kafkaConfig(connection), options.isolation === 'read_uncommitted' ? READ_UNCOMMITTED : READ_COMMITTED);
  try {
    await cluster.connect();
    const all = await topicPartitions(cluster, options.topic);
    const partitions = options.partitions ?? all;
    const missing = partitions.filter((p) => !all.includes(p));
    if (missing.length > 0) throw new ClientError(`topic '${options.topic}' has no partition ${missing.join(', ')} (it has ${all.length})`);
    const from = options.from ?? 'latest';
    if (typeof from === 'object' && 'offset' in from && BigInt(from.offset) < 0n) throw new ClientError(`invalid offset ${from.offset}: offsets start at 0`);
    const queue = new RecordQueue(options.bufferSize ?? DEFAULT_BUFFER);
    const loop = new TailLoop(cluster, options, from, partitions, queue, connection.logger?.warn.bind(connection.logger));
    // "latest" means the end as of now, so resolve where every online partition starts before returning.
    await loop.startOnlinePartitions();
    const done = loop.run();
    return streamOf(queue, async () => {
      queue.close();
      await done;
      await cluster.disconnect();
    });
  } catch (err) {
    await cluster.disconnect();
    throw err;
  }
}

/** Partition ids of a topic, or ClientError if it does not exist. Also loads the topic's leaders into the cluster. */
async function topicPartitions(cluster: InternalCluster, topic: string): Promise<number[]> {
  const md = await fetchMetadata(cluster, [topic]);
  const t = md.topicMetadata.find((x) => x.topic === topic);
  if (!t || t.topicErrorCode === UNKNOWN_TOPIC_OR_PARTITION) throw new ClientError(`topic '${topic}' does not exist`);
  if (t.topicErrorCode !== 0) throw brokerError(t.topicErrorCode);
  await cluster.addTargetTopic(topic);
  return t.partitionMetadata.map((p) => p.partitionId).sort((a, b) => a - b);
}

/**
 * Fetches from the leaders of the chosen partitions and feeds the queue, until the queue is closed.
 * A partition without a leader is skipped (and, if its start was not known yet, started when it has one again).
 */
class TailLoop {
  /** Next offset to fetch, for partitions whose start is known. */
  private readonly positions = new Map<number, bigint>();
  /** Partitions whose start position is not resolved yet (they were offline so far). */
  private readonly unstarted: Set<number>;
  private failingSince: number | undefined;
  private backoffMs = 100;
  private lastLeaderRefresh = 0;

  constructor(
    private readonly cluster: InternalCluster,
    private readonly options: ConsumeOptions,
    private readonly from: StartPosition,
    partitions: number[],
    private readonly queue: RecordQueue,
    private readonly warn: ((msg: string) => void) | undefined,
  ) {
    this.unstarted = new Set(partitions);
  }

  async run(): Promise<void> {
    while (!this.queue.isClosed) {
      try {
        await this.fetchOnce();
        this.failingSince = undefined;
        this.backoffMs = 100;
      } catch (err) {
        if (this.queue.isClosed) return;
        if (!(await this.recover(err))) {
          this.queue.fail(err);
          return;
        }
      }
    }
  }

  /** Resolves the start offset of every unstarted partition that has a leader now. */
  async startOnlinePartitions(): Promise<void> {
    const online = this.onlineLeaders([...this.unstarted]).flatMap(([, partitions]) => partitions);
    if (online.length === 0) return;
    const starts = await this.startOffsets(online);
    for (const [partition, offset] of starts) {
      this.positions.set(partition, offset);
      this.unstarted.delete(partition);
    }
  }

  /** [leader id, partitions] for the partitions whose leader is known (leader -1 means offline). */
  private onlineLeaders(partitions: number[]): Array<[string, number[]]> {
    return Object.entries(this.cluster.findLeaderForPartitions(this.options.topic, partitions)).filter(([nodeId]) => Number(nodeId) >= 0);
  }

  private async startOffsets(partitions: number[]): Promise<Map<number, bigint>> {
    const from = this.from;
    if (typeof from === 'object' && 'offset' in from) return new Map(partitions.map((p) => [p, BigInt(from.offset)]));
    const latest = await this.listOffsets(partitions, { fromBeginning: false });
    if (from === 'latest') return latest;
    const found = await this.listOffsets(partitions, from === 'earliest' ? { fromBeginning: true } : { fromTimestamp: from.timestamp });
    // ListOffsets answers -1 when no record is at or after the timestamp: start at the end then, like Kafka.
    return new Map(partitions.map((p) => [p, (found.get(p) ?? -1n) >= 0n ? (found.get(p) as bigint) : (latest.get(p) ?? 0n)]));
  }

  private async listOffsets(partitions: number[], spec: { fromBeginning?: boolean; fromTimestamp?: number }): Promise<Map<number, bigint>> {
    const result = await this.cluster.fetchTopicsOffset([{ topic: this.options.topic, partitions: partitions.map((partition) => ({ partition })), ...spec }]);
    return new Map(result.flatMap((t) => t.partitions.map((p) => [p.partition, BigInt(p.offset)] as const)));
  }

  private async fetchOnce(): Promise<void> {
    const all = [...this.positions.keys(), ...this.unstarted];
    const online = this.onlineLeaders(all);
    const onlineCount = online.reduce((n, [, partitions]) => n + partitions.length, 0);
    if (onlineCount < all.length) await this.awaitLeaders(onlineCount === 0);
    if (this.unstarted.size > 0) await this.startOnlinePartitions();
    await Promise.all(online.map(([nodeId, partitions]) => this.fetchFrom(nodeId, partitions.filter((p) => this.positions.has(p)))));
  }

  private async fetchFrom(nodeId: string, partitions: number[]): Promise<void> {
    if (partitions.length === 0) return;
    const { topic } = this.options;
    const maxBytesPerPartition = this.options.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION;
    const broker = await this.cluster.findBroker({ nodeId });
    const fetchOffsets = new Map(partitions.map((p) => [p, String(this.positions.get(p))]));
    const { responses } = await broker.fetch({
      replicaId: -1,
      isolationLevel: this.options.isolation === 'read_uncommitted' ? READ_UNCOMMITTED : READ_COMMITTED,
      maxWaitTime: this.options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
      minBytes: 1,
      maxBytes: maxBytesPerPartition * partitions.length,
      topics: [{ topic, partitions: partitions.map((partition) => ({ partition, fetchOffset: fetchOffsets.get(partition) as string, maxBytes: maxBytesPerPartition })) }],
    });
    for (const response of responses) {
      for (const data of response.partitions) {
        await this.deliver(data.partition, createBatch(topic, fetchOffsets.get(data.partition) ?? '0', data));
      }
    }
  }

  /**
   * Markers: kafkajs's record-batch decoder already reads control batches (isControlRecord, the marker type in the
   * key, the batch's producer id) out of the Fetch response the tail receives anyway; its Batch only filters them
   * (and aborted records) out of `messages`. So the markers are taken from the same response, in offset order with
   * the records kept, rather than by a second read with our own Fetch codec or by guessing from offset gaps.
   */
  private shown(batch: InternalBatch): FetchedMessage[] {
    return this.options.controlRecords ? withMarkers(batch) : batch.messages;
  }

  private async deliver(partition: number, batch: InternalBatch): Promise<void> {
    for (const m of this.shown(batch)) {
      if (!(await this.queue.push(toRecord(this.options.topic, partition, m)))) return;
      this.positions.set(partition, BigInt(m.offset) + 1n);
    }
    // Records filtered out (control records, aborted transactions) still move the position past them.
    if (batch.rawMessages.length === 0) return;
    const next = BigInt(batch.lastOffset()) + 1n;
    if (next > (this.positions.get(partition) ?? 0n)) this.positions.set(partition, next);
  }

  private async awaitLeaders(nothingOnline: boolean): Promise<void> {
    if (Date.now() - this.lastLeaderRefresh > LEADER_REFRESH_MS) {
      this.lastLeaderRefresh = Date.now();
      await this.cluster.refreshMetadata().catch(() => undefined);
    }
    if (nothingOnline) await sleep(this.options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
  }

  /** Handles one failed round; false when the error is final. */
  private async recover(err: unknown): Promise<boolean> {
    const e = err as { type?: string; name?: string; retriable?: boolean; message?: string; partition?: number };
    if (e.type === 'OFFSET_OUT_OF_RANGE' && e.partition !== undefined) {
      await this.resetOutOfRange(e.partition);
      return true;
    }
    const retriable = e.retriable === true || e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSBrokerNotFound';
    if (!retriable) return false;
    this.failingSince ??= Date.now();
    if (Date.now() - this.failingSince > RETRY_BUDGET_MS) return false;
    this.warn?.(`tail of ${this.options.topic}: ${e.message ?? String(err)}; retrying`);
    await sleep(this.backoffMs);
    this.backoffMs = Math.min(this.backoffMs * 2, 2000);
    await this.cluster.refreshMetadata().catch(() => undefined);
    return true;
  }

  /**
   * A position before the log start (retention deleted it) moves to the start; past the end, to the end.
   * Inside the range the error was transient (a new leader whose high watermark lags): wait and retry.
   */
  private async resetOutOfRange(partition: number): Promise<void> {
    const [earliest, latest] = await Promise.all([this.listOffsets([partition], { fromBeginning: true }), this.listOffsets([partition], { fromBeginning: false })]);
    const pos = this.positions.get(partition) ?? 0n;
    const low = earliest.get(partition) ?? 0n;
    const high = latest.get(partition) ?? 0n;
    if (pos >= low && pos <= high) {
      await sleep(this.backoffMs);
      return;
    }
    const to = pos < low ? low : high;
    this.warn?.(`offset ${pos} of ${this.options.topic}-${partition} is out of range [${low}, ${high}]; continuing at ${to}`);
    this.positions.set(partition, to);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Group consumer

async function openGroupConsumer(connection: KafkaConnectionOptions, options: ConsumeOptions): Promise<RecordStream> {
  const groupId = options.groupId as string;
  // Check the topic first: subscribing to a missing topic would otherwise retry for a long time.
  const cluster = createInternalCluster(kafkaConfig(connection));
  try {
    await cluster.connect();
    await topicPartitions(cluster, options.topic);
  } finally {
    await cluster.disconnect();
  }
  const consumer: Consumer = createKafka(connection).consumer({
    groupId,
    readUncommitted: options.isolation === 'read_uncommitted',
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
    maxBytesPerPartition: options.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION,
  });
  const queue = new RecordQueue(0);
  consumer.on(consumer.events.CRASH, (event) => {
    if (!event.payload.restart) queue.fail(event.payload.error);
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [options.topic], fromBeginning: options.from === 'earliest' });
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        // No markers here even with controlRecords: kafkajs's runner never calls eachBatch for a batch that holds
        // only control records (it resolves past them itself), so they could be shown only some of the time.
        for (const m of batch.messages) {
          if (!isRunning() || isStale()) return;
          const record = toRecord(batch.topic, batch.partition, m);
          // Resolved (and so committed) only once the reader has taken it.
          if (!(await queue.push(record))) return;
          resolveOffset(m.offset);
          await heartbeat();
        }
      },
    });
  } catch (err) {
    await consumer.disconnect();
    throw err;
  }
  return streamOf(queue, async () => {
    queue.close();
    await consumer.disconnect();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
