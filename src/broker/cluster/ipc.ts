// Messages between the supervisor (which holds the controller) and a broker process, over the Node IPC
// channel of a forked child. Plain JSON-able data only.

import type { BrokerConfig } from '../configs';
import type { ControllerChannel } from '../controllerChannel';
import type { MetadataImage } from '../metadata';
import type { ListenerSecurity } from '../security/listener';

export interface BrokerProcessOptions {
  nodeId: number;
  host: string;
  /** What clients are told to connect to, when not `host` (which may be 0.0.0.0). */
  advertisedHost?: string;
  port: number;
  logDir: string;
  config: Partial<BrokerConfig>;
  heartbeatIntervalMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** TLS files and SASL credentials (salted, never passwords) of the client-facing listener. */
  security?: ListenerSecurity;
  /** With security on: the secret of the internal inter-broker listener, shared by the brokers of this run. */
  interBrokerSecret?: string;
}

export type ControllerMethod = Exclude<keyof ControllerChannel, 'metadata'> | 'metadata';

export type BrokerToSupervisor =
  | { type: 'ready'; host: string; port: number; internalPort?: number; pid: number }
  | { type: 'heartbeat' }
  /** The process got SIGTERM (`kill <pid>`, as the seed tutorial stops a broker): asks for a controlled shutdown. */
  | { type: 'stop-request' }
  | { type: 'call'; id: number; method: ControllerMethod; args: unknown[] };

export type SupervisorToBroker =
  | { type: 'metadata'; image: MetadataImage }
  | { type: 'reply'; id: number; result?: unknown; error?: { code: number; message: string } }
  | { type: 'shutdown' };

export const BROKER_OPTIONS_ENV = 'MINIKAFKA_BROKER_OPTIONS';
/** Extra Node options for broker processes (profiling): see brokerExecArgv in supervisor.ts. */
export const BROKER_EXEC_ARGV_ENV = 'MINIKAFKA_BROKER_EXEC_ARGV';
