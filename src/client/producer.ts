// Sending records: one or many, with key, headers, an explicit partition or Kafka's default partitioning,
// acks and compression, and for every record the partition and offset it got.

import { CompressionCodecs, CompressionTypes, Message, Partitioners, Producer, RecordMetadata } from 'kafkajs';
import { createKafka, KafkaConnectionOptions } from './connection';

/** 0: fire and forget; 1: the leader has it; -1 (all): every in-sync replica has it. */
export type Acks = 0 | 1 | -1;

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface OutgoingRecord {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string | Buffer>;
  /** Omitted: Kafka's default partitioner (murmur2 of the key, or spread when there is no key). */
  partition?: number;
  /** Milliseconds since the epoch; omitted: now. */
  timestamp?: number;
}

export interface DeliveryReport {
  partition: number;
  /** null with acks=0: the broker does not answer, so the offset is unknown. */
  offset: string | null;
}

export interface ProducerOptions {
  acks?: Acks;
  compression?: CompressionName;
  /** How long the broker may wait for replicas with acks=-1. */
  ackTimeoutMs?: number;
  /** Whether producing to a missing topic asks the broker to create it (it decides: auto.create.topics.enable). */
  allowAutoTopicCreation?: boolean;
}

/** A codec for kafkajs: snappy, lz4 and zstd are not built in (kafkajs ships gzip only). */
export interface CompressionCodec {
  compress(data: Buffer): Buffer | Promise<Buffer>;
  decompress(data: Buffer): Buffer | Promise<Buffer>;
}

const COMPRESSION_TYPES: Record<CompressionName, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

/** kafkajs's codec registry, keyed by CompressionTypes (its declared type omits None). */
interface KafkaJsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}
const kafkajsCodecs = CompressionCodecs as unknown as Record<number, (() => KafkaJsCodec) | undefined>;

/**
 * Makes kafkajs able to write and read `name`-compressed batches, in this process. The client layer ships no
 * codec itself so that it stays free of native or heavy dependencies; the host (CLI, extension) registers its own.
 */
export function registerCompressionCodec(name: 'snappy' | 'lz4' | 'zstd', codec: CompressionCodec): void {
  kafkajsCodecs[COMPRESSION_TYPES[name]] = () => ({
    // kafkajs passes its Encoder, whose `buffer` holds the uncompressed records.
    compress: async (encoder) => codec.compress(encoder.buffer),
    decompress: async (data) => codec.decompress(data),
  });
}

export function isCompressionAvailable(name: CompressionName): boolean {
  return name === 'none' || name === 'gzip' || kafkajsCodecs[COMPRESSION_TYPES[name]] !== undefined;
}

/** How many times records that kafkajs left unsent (see RecordProducer.send) are sent again before failing. */
const UNANSWERED_RESEND_ROUNDS = 3;

export class RecordProducer {
  private readonly producer: Producer;
  /** Which partition the partitioner chose for each message object of the sends in flight. */
  private readonly chosenPartition = new WeakMap<Message, number>();

  constructor(
    options: KafkaConnectionOptions,
    private readonly producerOptions: ProducerOptions = {},
  ) {
    const compression = producerOptions.compression ?? 'none';
    if (!isCompressionAvailable(compression)) throw new Error(`no ${compression} codec is registered`);
    const chosen = this.chosenPartition;
    this.producer = createKafka(options).producer({
      allowAutoTopicCreation: producerOptions.allowAutoTopicCreation ?? true,
      // Kafka's default partitioner, wrapped to remember its choice: kafkajs reports offsets per partition only.
      createPartitioner: () => {
        const partition = Partitioners.DefaultPartitioner();
        return (args) => {
          const p = partition(args);
          chosen.set(args.message, p);
          return p;
        };
      },
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  async sendOne(topic: string, record: OutgoingRecord): Promise<DeliveryReport> {
    const [report] = await this.send(topic, [record]);
    return report;
  }

  /** Sends the records as one request per leader; reports are in the order of `records`. */
  async send(topic: string, records: OutgoingRecord[]): Promise<DeliveryReport[]> {
    if (records.length === 0) return [];
    const messages: Message[] = records.map(toMessage);
    const acks = this.producerOptions.acks ?? -1;
    const results = await this.sendMessages(topic, messages, acks);
    if (acks !== 0) {
      // kafkajs 2.2.4 resolves a send across partitions even when, after a leader change, it skipped the partitions
      // that moved to a broker which had already answered (tulios/kafkajs#1303): those records were never sent, and
      // their partitions have no result. Send them again, to the partition chosen the first time; a partition still
      // without a result fails the send instead of being reported as delivered.
      for (let round = 0; round < UNANSWERED_RESEND_ROUNDS; round++) {
        const unanswered = this.unansweredMessages(messages, results);
        if (unanswered.length === 0) break;
        results.push(...(await this.sendMessages(topic, unanswered.map(([m, partition]) => ({ ...m, partition })), acks)));
      }
      const still = new Set(this.unansweredMessages(messages, results).map(([, partition]) => partition));
      if (still.size > 0) throw new Error(`no broker confirmed the records of partition(s) ${[...still].join(', ')} of ${topic}; they may not have been written`);
    }
    return this.reports(messages, results, acks);
  }

  private sendMessages(topic: string, messages: Message[], acks: Acks): Promise<RecordMetadata[]> {
    return this.producer.send({
      topic,
      messages,
      acks,
      timeout: this.producerOptions.ackTimeoutMs,
      compression: COMPRESSION_TYPES[this.producerOptions.compression ?? 'none'],
    });
  }

  /** The messages (with the partition they went to) whose partition no result names. */
  private unansweredMessages(messages: Message[], results: RecordMetadata[]): Array<[Message, number]> {
    const answered = new Set(results.map((r) => r.partition));
    return messages.flatMap((m): Array<[Message, number]> => {
      const partition = this.chosenPartition.get(m) ?? m.partition;
      return partition === undefined || answered.has(partition) ? [] : [[m, partition]];
    });
  }

  /** Within one partition, kafkajs keeps the order of `messages`, so offsets count up from the base offset. */
  private reports(messages: Message[], results: RecordMetadata[], acks: Acks): DeliveryReport[] {
    const baseOffsets = new Map(results.map((r) => [r.partition, r.baseOffset ?? r.offset]));
    const seen = new Map<number, bigint>();
    return messages.map((m) => {
      const partition = this.chosenPartition.get(m) ?? m.partition ?? -1;
      const index = seen.get(partition) ?? 0n;
      seen.set(partition, index + 1n);
      const base = baseOffsets.get(partition);
      const known = acks !== 0 && base !== undefined && BigInt(base) >= 0n;
      return { partition, offset: known ? (BigInt(base) + index).toString() : null };
    });
  }
}

function toMessage(record: OutgoingRecord): Message {
  const message: Message = { value: record.value };
  if (record.key !== undefined) message.key = record.key;
  if (record.headers !== undefined) message.headers = record.headers;
  if (record.partition !== undefined) message.partition = record.partition;
  if (record.timestamp !== undefined) message.timestamp = String(record.timestamp);
  return message;
}
