// Reading records, two ways:
// * without a group (a tail): chosen partitions from earliest, latest, an offset or a timestamp. Nothing is
//   joined and nothing is committed, so looking at a topic leaves no trace on the cluster. kafkajs has no
//   assign(); this uses its Cluster and Fetch request directly (see kafkajsInternals.ts).
// * with a group: kafkajs's consumer subscribes normally, and a record's offset is committed only once the
//   caller has taken it from the stream, so a stopped reader never skips records it did not see.
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
  UNKNOWN_TOPIC_OR_PARTITION,
} from './kafkajsInternals';

export type StartPosition = 'earliest' | 'latest' | { offset: string | number | bigint } | { timestamp: number };

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

function toRecord(topic: string, partition: number, m: FetchedMessage): ConsumedRecord {
  const headers: Record<string, Buffer[]> = {};
  for (const [name, value] of Object.entries(m.headers ?? {})) {
    if (value === undefined) continue;
    headers[name] = (Array.isArray(value) ? value : [value]).map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v))));
  }
  return { topic, partition, offset: m.offset, timestamp: m.timestamp, key: m.key, value: m.value, headers };
}

// ---------------------------------------------------------------------------------------------------------------
// Tail: no group

async function openTail(connection: KafkaConnectionOptions, options: ConsumeOptions): Promise<RecordStream> {
  const cluster = createInternalCluster(kafkaConfig(connection));
  try {
    await cluster.connect();
    const all = await topicPartitions(cluster, options.topic);
    const partitions = options.partitions ?? all;
    const missing = partitions.filter((p) => !all.includes(p));
    if (missing.length > 0) throw new ClientError(`topic '${options.topic}' has no partition ${missing.join(', ')} (it has ${all.length})`);
    const positions = await startPositions(cluster, options.topic, partitions, options.from ?? 'latest');
    const queue = new RecordQueue(options.bufferSize ?? DEFAULT_BUFFER);
    const loop = new TailLoop(cluster, options, positions, queue, connection.logger?.warn.bind(connection.logger));
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

async function startPositions(cluster: InternalCluster, topic: string, partitions: number[], from: StartPosition): Promise<Map<number, bigint>> {
  if (typeof from === 'object' && 'offset' in from) {
    const offset = BigInt(from.offset);
    if (offset < 0n) throw new ClientError(`invalid offset ${from.offset}: offsets start at 0`);
    return new Map(partitions.map((p) => [p, offset]));
  }
  const query = (extra: { fromBeginning?: boolean; fromTimestamp?: number }) =>
    cluster.fetchTopicsOffset([{ topic, partitions: partitions.map((partition) => ({ partition })), ...extra }]);
  const latest = offsetsByPartition(await query({ fromBeginning: false }));
  if (from === 'latest') return latest;
  const found = offsetsByPartition(await query(from === 'earliest' ? { fromBeginning: true } : { fromTimestamp: from.timestamp }));
  // ListOffsets answers -1 when no record is at or after the timestamp: start at the end then, like Kafka.
  return new Map(partitions.map((p) => [p, (found.get(p) ?? -1n) >= 0n ? (found.get(p) as bigint) : (latest.get(p) ?? 0n)]));
}

function offsetsByPartition(result: Array<{ partitions: Array<{ partition: number; offset: string }> }>): Map<number, bigint> {
  return new Map(result.flatMap((t) => t.partitions.map((p) => [p.partition, BigInt(p.offset)] as const)));
}

/** Fetches from every partition's leader in turn and feeds the queue, until the queue is closed. */
class TailLoop {
  private failingSince: number | undefined;
  private backoffMs = 100;
  private lastLeaderRefresh = 0;

  constructor(
    private readonly cluster: InternalCluster,
    private readonly options: ConsumeOptions,
    private readonly positions: Map<number, bigint>,
    private readonly queue: RecordQueue,
    private readonly warn: ((msg: string) => void) | undefined,
  ) {}

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

  private async fetchOnce(): Promise<void> {
    const { topic } = this.options;
    const leaders = Object.entries(this.cluster.findLeaderForPartitions(topic, [...this.positions.keys()]));
    // Partitions without a leader (-1) are skipped until metadata shows a new one.
    const online = leaders.filter(([nodeId]) => Number(nodeId) >= 0);
    if (online.length < leaders.length) await this.awaitLeaders(online.length === 0);
    await Promise.all(
      online.map(async ([nodeId, partitions]) => {
        const broker = await this.cluster.findBroker({ nodeId });
        const { responses } = await broker.fetch({
          replicaId: -1,
          isolationLevel: READ_COMMITTED,
          maxWaitTime: this.options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
          minBytes: 1,
          maxBytes: (this.options.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION) * partitions.length,
          topics: [
            {
              topic,
              partitions: partitions.map((partition) => ({
                partition,
                fetchOffset: String(this.positions.get(partition)),
                maxBytes: this.options.maxBytesPerPartition ?? DEFAULT_MAX_BYTES_PER_PARTITION,
              })),
            },
          ],
        });
        for (const response of responses) {
          for (const data of response.partitions) await this.deliver(topic, data.partition, createBatch(topic, String(this.positions.get(data.partition)), data));
        }
      }),
    );
  }

  private async deliver(topic: string, partition: number, batch: InternalBatch): Promise<void> {
    for (const m of batch.messages) {
      if (!(await this.queue.push(toRecord(topic, partition, m)))) return;
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

  /** Handles one failed fetch; false when the error is final. */
  private async recover(err: unknown): Promise<boolean> {
    const e = err as { type?: string; name?: string; retriable?: boolean; message?: string };
    if (e.type === 'OFFSET_OUT_OF_RANGE') {
      await this.resetOutOfRange();
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

  /** A position before the log start (retention) moves to the start; past the end, to the end. */
  private async resetOutOfRange(): Promise<void> {
    const { topic } = this.options;
    const partitions = [...this.positions.keys()];
    const earliest = offsetsByPartition(await this.cluster.fetchTopicsOffset([{ topic, partitions: partitions.map((partition) => ({ partition })), fromBeginning: true }]));
    const latest = offsetsByPartition(await this.cluster.fetchTopicsOffset([{ topic, partitions: partitions.map((partition) => ({ partition })), fromBeginning: false }]));
    for (const p of partitions) {
      const pos = this.positions.get(p) ?? 0n;
      const low = earliest.get(p) ?? 0n;
      const high = latest.get(p) ?? 0n;
      if (pos < low || pos > high) {
        const to = pos < low ? low : high;
        this.warn?.(`offset ${pos} of ${topic}-${p} is out of range [${low}, ${high}]; continuing at ${to}`);
        this.positions.set(p, to);
      }
    }
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
        for (const m of batch.messages) {
          if (!isRunning() || isStale()) return;
          const record = toRecord(batch.topic, batch.partition, { ...m, headers: m.headers as Record<string, Buffer | Buffer[] | undefined> | undefined });
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
