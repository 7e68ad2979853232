// How the client layer connects to a Kafka cluster: one options type shared by the CLI and the VS Code
// extension, its translation into a kafkajs configuration, and the translation of kafkajs failures into
// sentences a user can act on. This layer imports kafkajs and node only (never vscode, never the broker).

import { connect as tlsConnect, ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { Kafka, KafkaConfig, LogEntry, logLevel, SASLOptions } from 'kafkajs';

/** The logger the client layer receives by injection; the extension adapts it to an output channel. */
export interface ClientLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const silentLogger: ClientLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface TlsOptions {
  /** PEM text of the certificate authority (or authorities) to trust. */
  ca?: string | string[];
  /** PEM client certificate and key, for mutual TLS. */
  cert?: string;
  key?: string;
  /** false accepts any server certificate (self-signed test clusters). Default true. */
  rejectUnauthorized?: boolean;
}

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface SaslCredentials {
  mechanism: SaslMechanism;
  username: string;
  password: string;
}

export interface RetryPolicy {
  /** Attempts after the first one. */
  retries: number;
  initialRetryTimeMs: number;
  maxRetryTimeMs: number;
}

export interface KafkaConnectionOptions {
  /** host:port pairs; any one reachable broker is enough. */
  bootstrapServers: string[];
  clientId?: string;
  /** true for TLS with the system trust store, or explicit TLS material. */
  ssl?: boolean | TlsOptions;
  sasl?: SaslCredentials;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  logger?: ClientLogger;
}

const DEFAULT_CLIENT_ID = 'minikafka';
const DEFAULT_CONNECTION_TIMEOUT_MS = 3000;

/** The kafkajs configuration for these options; also used where the client builds kafkajs internals itself. */
export function kafkaConfig(opts: KafkaConnectionOptions): KafkaConfig {
  if (opts.bootstrapServers.length === 0) throw new Error('no bootstrap server given');
  const config: KafkaConfig = {
    brokers: opts.bootstrapServers,
    clientId: opts.clientId ?? DEFAULT_CLIENT_ID,
    connectionTimeout: opts.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    logLevel: logLevel.DEBUG,
    logCreator: kafkajsLogCreator(opts.logger ?? silentLogger),
  };
  if (opts.requestTimeoutMs !== undefined) config.requestTimeout = opts.requestTimeoutMs;
  if (opts.ssl !== undefined && opts.ssl !== false) config.ssl = opts.ssl === true ? true : tlsOptions(opts.ssl);
  if (opts.sasl) config.sasl = saslOptions(opts.sasl);
  if (opts.retry) {
    config.retry = {
      retries: opts.retry.retries,
      initialRetryTime: opts.retry.initialRetryTimeMs,
      maxRetryTime: opts.retry.maxRetryTimeMs,
    };
  }
  return config;
}

export function createKafka(opts: KafkaConnectionOptions): Kafka {
  // We always pass an explicit partitioner, so kafkajs's v2 migration warning is noise for our users.
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  return new Kafka(kafkaConfig(opts));
}

/** Parses "h1:p1,h2:p2" (spaces tolerated), refusing entries without a usable port. */
export function parseBootstrapServers(list: string): string[] {
  const servers = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (servers.length === 0) throw new Error('no bootstrap server given');
  for (const server of servers) {
    const m = /^(.+):(\d+)$/.exec(server);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65535) throw new Error(`invalid bootstrap server "${server}": expected host:port`);
  }
  return servers;
}

function tlsOptions(tls: TlsOptions): TlsConnectionOptions {
  const out: TlsConnectionOptions = {};
  if (tls.ca !== undefined) out.ca = tls.ca;
  if (tls.cert !== undefined) out.cert = tls.cert;
  if (tls.key !== undefined) out.key = tls.key;
  if (tls.rejectUnauthorized !== undefined) out.rejectUnauthorized = tls.rejectUnauthorized;
  return out;
}

function saslOptions(sasl: SaslCredentials): SASLOptions {
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username: sasl.username, password: sasl.password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username: sasl.username, password: sasl.password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username: sasl.username, password: sasl.password };
  }
}

/** Routes kafkajs's structured log entries to our four-method logger as one line each. */
function kafkajsLogCreator(logger: ClientLogger): KafkaConfig['logCreator'] {
  return () => (entry: LogEntry) => {
    const { message, timestamp: _timestamp, logger: _name, ...extra } = entry.log;
    const details = Object.keys(extra).length > 0 ? ` ${safeJson(extra)}` : '';
    const line = `[kafkajs ${entry.namespace || 'client'}] ${message}${details}`;
    switch (entry.level) {
      case logLevel.ERROR:
        return logger.error(line);
      case logLevel.WARN:
        return logger.warn(line);
      case logLevel.INFO:
        return logger.info(line);
      default:
        return logger.debug(line);
    }
  };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

/** A failure the client layer already phrased for a user (unknown topic, group still active, ...). */
export class ClientError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientError';
  }
}

/** The shape of kafkajs errors, as far as we read them (kafkajs's error classes are not all typed). */
interface KafkaJsErrorLike {
  name?: string;
  message?: string;
  type?: string;
  code?: string;
  broker?: string;
  apiName?: string;
  cause?: unknown;
  originalError?: unknown;
  groups?: Array<{ groupId: string; error?: unknown }>;
}

/** What describeConnectionError knows of the attempted connection: at least the servers, ideally the options. */
export type ConnectionContext = string[] | Pick<KafkaConnectionOptions, 'bootstrapServers' | 'ssl' | 'sasl'>;

/**
 * One sentence that says what went wrong and what to check, for any error a kafkajs call can throw.
 * `connection` names the servers when the error itself does not say which one failed; given as the connection
 * options, it also tells whether TLS and SASL were used, which sharpens the advice.
 */
export function describeConnectionError(err: unknown, connection: ConnectionContext = []): string {
  if (err instanceof ClientError) return err.message;
  const opts = Array.isArray(connection) ? undefined : connection;
  const bootstrapServers = Array.isArray(connection) ? connection : connection.bootstrapServers;
  const tls = opts ? opts.ssl !== undefined && opts.ssl !== false : undefined;
  const sasl = opts ? opts.sasl !== undefined : undefined;
  const chain = causeChain(err);
  const servers = bootstrapServers.join(',') || 'the bootstrap server';
  for (const e of chain) {
    const text = `${e.name ?? ''} ${e.message ?? ''}`;
    const code = e.code ?? /\b(E[A-Z]{3,}|ERR_TLS_[A-Z_]+)\b/.exec(e.message ?? '')?.[1];
    const where = e.broker ?? addressIn(e.message) ?? servers;
    if (code === 'ECONNREFUSED' || /Connection timeout/i.test(text) || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') {
      return `cannot reach ${where} — is the cluster running?`;
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve the host of ${where} — check the bootstrap server address`;
    if (e.name === 'KafkaJSSASLAuthenticationError' || e.type === 'SASL_AUTHENTICATION_FAILED') {
      const said = saslReason(e.message);
      if (/not supported by the server/i.test(e.message ?? '')) return `${where} does not offer this SASL mechanism (${said}) — use one the cluster enables`;
      return `SASL authentication failed: wrong username or password (broker said: ${said})`;
    }
    if (e.type === 'UNSUPPORTED_SASL_MECHANISM') return `${where} does not offer this SASL mechanism — use one the cluster enables`;
    if (e.type === 'ILLEGAL_SASL_STATE' || (e.name === 'KafkaJSServerDoesNotSupportApiKey' && /^Sasl/.test(e.apiName ?? ''))) {
      return `${where} does not use SASL on this listener — connect without a SASL mechanism, username and password`;
    }
    if (/wrong version number|EPROTO|packet length too long|before secure TLS connection/i.test(text)) {
      return `TLS handshake with ${where} failed: the listener does not speak TLS — connect without TLS`;
    }
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /does not match certificate's altnames/i.test(text)) {
      return `the TLS certificate of ${where} is not valid for this host name (${stripPrefix(e.message)}) — connect with a name the certificate lists`;
    }
    if (code === 'CERT_HAS_EXPIRED' || /certificate has expired/i.test(text)) return `the TLS certificate of ${where} has expired`;
    if (/self[- ]signed|unable to verify|unable to get (local )?issuer|certificate|CERT_|ERR_TLS/i.test(text)) {
      return (
        `the TLS certificate of ${where} is not trusted (${stripPrefix(e.message)}) — pass the cluster's CA certificate ` +
        `(for a minikafka cluster: <dir>/tls/ca.pem), or turn certificate verification off for a test cluster`
      );
    }
    if (code === 'ECONNRESET' || e.name === 'KafkaJSConnectionClosedError') {
      // The broker hung up before answering. Without TLS that is what a TLS listener does (the handshake fails on
      // our first request); with SASL credentials given it cannot be a missing login. explainConnectionError probes.
      if (tls === false && sasl === true) return `${where} closed the connection before answering — the listener probably expects TLS: connect with TLS`;
      if (tls === false) return `${where} closed the connection before answering — the listener probably expects TLS or SASL authentication`;
      return `the connection to ${where} was closed — is it a Kafka listener, and does it expect TLS?`;
    }
    if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') return 'the topic or partition does not exist';
    if (e.type === 'TOPIC_AUTHORIZATION_FAILED' || e.type === 'GROUP_AUTHORIZATION_FAILED' || e.type === 'CLUSTER_AUTHORIZATION_FAILED') {
      return `not authorized: ${stripPrefix(e.message)}`;
    }
    if (e.name === 'KafkaJSRequestTimeoutError') return `a request to ${where} timed out — the broker is overloaded or stuck`;
  }
  // Not a connection problem: report the innermost error with a message, which is usually the broker's own words.
  const innermost = [...chain].reverse().find((e) => e.message);
  return innermost ? stripPrefix(innermost.message) : String(err);
}

/**
 * describeConnectionError, made exact where the error alone is ambiguous: when a connection without TLS was closed
 * before any answer, this checks whether the server speaks TLS (one handshake, certificate not verified, bounded
 * by timeoutMs) and says so, or else that it wants SASL authentication.
 */
export async function explainConnectionError(err: unknown, connection: Pick<KafkaConnectionOptions, 'bootstrapServers' | 'ssl' | 'sasl'>, timeoutMs = 1500): Promise<string> {
  const message = describeConnectionError(err, connection);
  const tls = connection.ssl !== undefined && connection.ssl !== false;
  const closed = causeChain(err).some((e) => e.name === 'KafkaJSConnectionClosedError' || e.code === 'ECONNRESET');
  if (tls || !closed) return message;
  const e = causeChain(err).find((x) => x.broker ?? addressIn(x.message));
  const where = e?.broker ?? addressIn(e?.message) ?? connection.bootstrapServers[0];
  const m = where ? /^(.+):(\d+)$/.exec(where) : null;
  if (!m) return message;
  const speaksTls = await probeTls(m[1].replace(/^\[|\]$/g, ''), Number(m[2]), timeoutMs);
  if (speaksTls) return `${where} is a TLS listener and this connection did not use TLS — connect with TLS (and trust the cluster's CA certificate)`;
  if (connection.sasl === undefined) return `${where} closed the connection before answering — the listener probably requires SASL authentication: give a mechanism, username and password`;
  return message;
}

/** true when host:port completes a TLS handshake (any certificate accepted: this only asks whether it is TLS). */
function probeTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, rejectUnauthorized: false, servername: /^[\d.:]+$/.test(host) ? undefined : host });
    const done = (result: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** The broker's own words in a kafkajs SASL error ("SASL SCRAM SHA256 authentication failed: <broker text>"). */
function saslReason(message: string | undefined): string {
  return stripPrefix(message).replace(/^SASL [\w ]+? authentication failed: /, '').trim();
}

/** err, its cause, its cause's cause... (kafkajs nests the real error inside retry and non-retriable wrappers). */
function causeChain(err: unknown): KafkaJsErrorLike[] {
  const chain: KafkaJsErrorLike[] = [];
  let current: unknown = err;
  while (current !== null && typeof current === 'object' && chain.length < 10 && !chain.includes(current as KafkaJsErrorLike)) {
    const e = current as KafkaJsErrorLike;
    chain.push(e);
    current = e.cause ?? e.originalError;
  }
  if (chain.length === 0 && err !== undefined) chain.push({ message: String(err) });
  return chain;
}

function addressIn(message: string | undefined): string | undefined {
  return /\b(\d{1,3}(?:\.\d{1,3}){3}:\d+|\[[0-9a-f:]+\]:\d+|[a-zA-Z0-9.-]+:\d{2,5})\b/.exec(message ?? '')?.[1];
}

/** kafkajs prefixes some messages ("Connection error: ..."); the broker's own text is what users need. */
function stripPrefix(message: string | undefined): string {
  return (message ?? '').replace(/^(Connection error|KafkaJS\w*Error): /, '').trim();
}
