// The few kafkajs internals the client layer needs, behind typed interfaces, in this one file.
//
// Why internals at all: kafkajs 2.2.4's public API has three gaps that matter for a cluster tool.
// 1. No way to read partitions without joining a consumer group (no `assign()`): the console consumer and the
//    extension's tail view would otherwise leave throwaway groups behind on the cluster.
// 2. Its response parsers drop the broker's error_message (CreateTopics, AlterConfigs), so "invalid topic name"
//    would lose the broker's explanation of which rule the name broke.
// 3. Its Metadata parser throws when any partition has an error, so one offline partition (`Leader: none`,
//    the very state a user wants to look at after killing a broker) makes every admin call fail, and a topic
//    with one offline partition cannot be read at all.
// kafkajs's Cluster and Broker classes do all the networking (connections, SASL, TLS, versions); we build
// requests with kafkajs's own encoders and read some decoded responses ourselves. The Cluster built here
// reads metadata tolerantly (partition errors are data), and the admin client is kafkajs's own, on that Cluster.
// kafkajs 2.2.4 is the final release of the library, so these internals are not moving.

import type { Admin, KafkaConfig } from 'kafkajs';
import { skipTaggedFields } from '../protocol/frame';
import { Reader } from '../protocol/primitives/reader';
import { Writer } from '../protocol/primitives/writer';
import { ApiDef, ctxFor } from '../protocol/schema';
import { Kafka } from 'kafkajs';

/* eslint-disable @typescript-eslint/no-require-imports -- kafkajs internals are CommonJS modules without type declarations */
const ClusterClass = require('kafkajs/src/cluster') as new (args: ClusterArgs) => InternalCluster;
const defaultSocketFactory = require('kafkajs/src/network/socketFactory') as () => unknown;
const apiKeys = require('kafkajs/src/protocol/requests/apiKeys') as Record<string, number>;
const { requests } = require('kafkajs/src/protocol/requests') as { requests: Record<string, RequestDefinition> };
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode(code: number): KafkaJsProtocolError };
const BatchClass = require('kafkajs/src/consumer/batch') as new (topic: string, fetchedOffset: string, partition: FetchPartitionData) => InternalBatch;
const createAdmin = require('kafkajs/src/admin') as (args: { logger: unknown; retry: KafkaConfig['retry']; cluster: InternalCluster }) => Admin;
/* eslint-enable @typescript-eslint/no-require-imports */

/** READ_COMMITTED: skip records of aborted transactions (kafkajs's consumer default, and what a viewer expects). */
const ISOLATION_READ_COMMITTED = 1;

interface KafkaJsProtocolError extends Error {
  type: string;
  code: number;
  retriable: boolean;
}

interface RequestDefinition {
  versions: string[];
}

interface ProtocolRequest {
  request: { apiKey: number; apiVersion: number; apiName: string };
  response: { decode(raw: Buffer): Promise<unknown>; parse(decoded: unknown): Promise<unknown> };
}

interface ClusterArgs {
  logger: unknown;
  socketFactory: unknown;
  brokers: KafkaConfig['brokers'];
  ssl: KafkaConfig['ssl'];
  sasl: KafkaConfig['sasl'];
  clientId: KafkaConfig['clientId'];
  connectionTimeout: KafkaConfig['connectionTimeout'];
  requestTimeout: KafkaConfig['requestTimeout'];
  enforceRequestTimeout: boolean;
  retry: KafkaConfig['retry'];
  metadataMaxAge: number;
  allowAutoTopicCreation: boolean;
  isolationLevel: number;
  offsets: Map<string, unknown>;
}

export interface InternalBroker {
  nodeId: number;
  metadata(topics?: string[]): Promise<RawMetadata>;
  disconnect(): Promise<void>;
  lookupRequest(apiKey: number, definition: RequestDefinition): (args: object) => ProtocolRequest;
  connectionPool: { send(request: ProtocolRequest): Promise<unknown> };
  fetch(args: {
    replicaId: number;
    isolationLevel: number;
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
  }): Promise<{ responses: Array<{ topicName: string; partitions: FetchPartitionData[] }> }>;
  offsetCommit(args: {
    groupId: string;
    groupGenerationId: number;
    memberId: string;
    retentionTime: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;
  }): Promise<unknown>;
}

interface InternalBrokerPool {
  seedBroker: InternalBroker;
  createBroker(options: object): InternalBroker;
}

export interface InternalCluster {
  brokerPool: InternalBrokerPool;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  refreshMetadata(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(args: { nodeId: number | string }): Promise<InternalBroker>;
  findGroupCoordinator(args: { groupId: string; coordinatorType?: number }): Promise<InternalBroker>;
  fetchTopicsOffset(
    topics: Array<{ topic: string; partitions: Array<{ partition: number }>; fromBeginning?: boolean; fromTimestamp?: number }>,
  ): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
}

export interface FetchedMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Record<string, Buffer | string | Array<Buffer | string> | undefined>;
  /** A transaction marker (its key: version int16, type int16 with 0 = ABORT, 1 = COMMIT). */
  isControlRecord?: boolean;
  /** The attributes of the record batch it came in. */
  batchContext?: { producerId: string; inTransaction: boolean };
}

export interface FetchPartitionData {
  partition: number;
  errorCode: number;
  highWatermark: string;
  messages: FetchedMessage[];
}

/** kafkajs's Batch: drops records before the fetch offset, aborted records and control records. */
export interface InternalBatch {
  messages: FetchedMessage[];
  /** Everything the broker returned for the partition, before filtering. */
  rawMessages: FetchedMessage[];
  /** rawMessages from the fetch offset on (control records and aborted records included). */
  messagesWithinOffset: FetchedMessage[];
  isEmpty(): boolean;
  /** The offset to continue after, also when every record was filtered out. */
  lastOffset(): string;
}

export function createBatch(topic: string, fetchedOffset: string, partition: FetchPartitionData): InternalBatch {
  return new BatchClass(topic, fetchedOffset, partition);
}

/**
 * A kafkajs Cluster built from the same configuration as `new Kafka(config)` would use, whose metadata keeps
 * partitions without a leader instead of failing (their leader is -1: callers skip them).
 */
export function createInternalCluster(config: KafkaConfig, isolationLevel: number = ISOLATION_READ_COMMITTED): InternalCluster {
  const cluster = new ClusterClass({
    logger: kafkajsLogger(config),
    socketFactory: config.socketFactory ?? defaultSocketFactory(),
    brokers: config.brokers,
    ssl: config.ssl,
    sasl: config.sasl,
    clientId: config.clientId,
    connectionTimeout: config.connectionTimeout,
    requestTimeout: config.requestTimeout,
    enforceRequestTimeout: true,
    retry: config.retry,
    metadataMaxAge: 300000,
    allowAutoTopicCreation: false,
    isolationLevel,
    offsets: new Map(),
  });
  tolerateOfflinePartitions(cluster.brokerPool);
  return cluster;
}

/** kafkajs's admin client running on `cluster` (so it shares its connections and its tolerant metadata). */
export function createInternalAdmin(config: KafkaConfig, cluster: InternalCluster): Admin {
  return createAdmin({ logger: kafkajsLogger(config), retry: config.retry, cluster });
}

/** The public Kafka object builds the namespaced logger kafkajs's internals expect. */
function kafkajsLogger(config: KafkaConfig): unknown {
  return new Kafka(config).logger();
}

/**
 * Every broker the pool creates (seed included: the pool creates it lazily on connect) answers metadata()
 * without kafkajs's check that fails the whole response when one partition reports an error. Topic-level
 * errors still throw kafkajs's own error, so its retry logic (e.g. for LEADER_NOT_AVAILABLE on a topic being
 * created) keeps working.
 */
function tolerateOfflinePartitions(pool: InternalBrokerPool): void {
  const createBroker = pool.createBroker.bind(pool);
  pool.createBroker = (options) => {
    const broker = createBroker(options);
    broker.metadata = async (topics: string[] = []) => {
      const md = await sendRaw<RawMetadata>(broker, API_KEYS.metadata, REQUESTS.metadata, { topics, allowAutoTopicCreation: false });
      const failed = md.topicMetadata.find((t) => t.topicErrorCode !== 0);
      if (failed) throw createErrorFromCode(failed.topicErrorCode);
      return md;
    };
    return broker;
  };
}

export const READ_COMMITTED = ISOLATION_READ_COMMITTED;
/** READ_UNCOMMITTED: everything up to the high watermark, open and aborted transactions' records included. */
export const READ_UNCOMMITTED = 0;

/** An error the broker reported for one entity, with the broker's own message when it sent one. */
export class BrokerError extends Error {
  constructor(
    /** kafkajs's name for the error code, e.g. INVALID_TOPIC_EXCEPTION. */
    readonly type: string,
    readonly code: number,
    message: string,
    readonly retriable: boolean,
  ) {
    super(message);
    this.name = 'BrokerError';
  }
}

export function brokerError(code: number, brokerMessage?: string | null): BrokerError {
  const known = createErrorFromCode(code);
  return new BrokerError(known.type, code, brokerMessage || known.message, known.retriable);
}

export const API_KEYS = {
  metadata: apiKeys.Metadata,
  createTopics: apiKeys.CreateTopics,
  alterConfigs: apiKeys.AlterConfigs,
  createPartitions: apiKeys.CreatePartitions,
};

export const REQUESTS = {
  metadata: requests.Metadata,
  createTopics: requests.CreateTopics,
  alterConfigs: requests.AlterConfigs,
  createPartitions: requests.CreatePartitions,
};

/**
 * Sends one request with kafkajs's encoder for the broker's best common version and returns the decoded
 * response without kafkajs's parse step (which turns error codes into exceptions and drops the broker's message).
 */
export async function sendRaw<T>(broker: InternalBroker, apiKey: number, definition: RequestDefinition, args: object): Promise<T> {
  const protocol = broker.lookupRequest(apiKey, definition)(args);
  const passThrough: ProtocolRequest = { request: protocol.request, response: { decode: protocol.response.decode, parse: async (d) => d } };
  try {
    return (await broker.connectionPool.send(passThrough)) as T;
  } catch (err) {
    // What kafkajs's Broker does for its own requests: a closed connection is reopened on the next call.
    if ((err as Error).name === 'KafkaJSConnectionClosedError') await broker.disconnect();
    throw err;
  }
}

/**
 * Sends a request kafkajs has no encoder for (the transaction admin APIs), encoded and decoded with this
 * project's own codec over kafkajs's connection (so TLS and SASL are kafkajs's). kafkajs always writes request
 * header v1 and reads only the correlation id of a response: for a flexible version the header's empty tag section
 * is written at the start of the body and the response header's is skipped, as kafkajs does for its own flexible
 * APIs.
 */
export async function sendWithOwnCodec<Req, Res, ReqIn, ResIn>(broker: InternalBroker, def: ApiDef<Req, Res, ReqIn, ResIn>, version: number, body: ReqIn): Promise<Res> {
  const ctx = ctxFor(def, version);
  const w = new Writer(128);
  if (ctx.flexible) w.uvarint(0);
  def.request.write(w, body, ctx);
  const bytes = w.toBuffer();
  const request: ProtocolRequest = {
    request: { apiKey: def.key, apiVersion: version, apiName: def.name, encode: async () => ({ buf: bytes, buffer: bytes }) } as ProtocolRequest['request'],
    response: {
      decode: async (raw: Buffer) => {
        const r = new Reader(raw);
        if (ctx.flexible) skipTaggedFields(r);
        return def.response.read(r, ctx);
      },
      parse: async (d) => d,
    },
  };
  try {
    return (await broker.connectionPool.send(request)) as Res;
  } catch (err) {
    if ((err as Error).name === 'KafkaJSConnectionClosedError') await broker.disconnect();
    throw err;
  }
}

/** The broker the cluster connected to first. Since KIP-590 any broker forwards admin requests to the controller. */
export async function seedBroker(cluster: InternalCluster): Promise<InternalBroker> {
  await cluster.connect();
  return cluster.brokerPool.seedBroker;
}

/** Metadata for `topics` (all topics when empty), with topic and partition errors as data: nothing throws. */
export async function fetchMetadata(cluster: InternalCluster, topics: string[]): Promise<RawMetadata> {
  return sendRaw<RawMetadata>(await seedBroker(cluster), API_KEYS.metadata, REQUESTS.metadata, { topics, allowAutoTopicCreation: false });
}

export const UNKNOWN_TOPIC_OR_PARTITION = 3;

// ---------------------------------------------------------------------------------------------------------------
// Decoded response shapes (kafkajs's decoders, all versions it may pick)

export interface RawMetadata {
  brokers: Array<{ nodeId: number; host: string; port: number; rack?: string | null }>;
  clusterId?: string | null;
  controllerId?: number;
  topicMetadata: Array<{
    topicErrorCode: number;
    topic: string;
    isInternal?: boolean;
    partitionMetadata: Array<{
      partitionErrorCode: number;
      partitionId: number;
      leader: number;
      replicas: number[];
      isr: number[];
      offlineReplicas?: number[];
    }>;
  }>;
}

/** Also the shape of CreatePartitions responses. */
export interface RawCreateTopicsResponse {
  topicErrors: Array<{ topic: string; errorCode: number; errorMessage?: string | null }>;
}

export interface RawAlterConfigsResponse {
  resources: Array<{ errorCode: number; errorMessage?: string | null; resourceType: number; resourceName: string }>;
}
