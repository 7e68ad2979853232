// Messages between the supervisor (which holds the controller) and a broker process, carried as newline-delimited
// JSON over the supervisor's Unix socket (controllerLink.ts). Plain JSON-able data only.

import type { BrokerConfig } from '../configs';
import type { ControllerChannel } from '../controllerChannel';
import type { MetadataImage } from '../metadata';
import type { WireDelta } from './deltaWire';
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
  /** The supervisor's socket (controllerLink.ts): the broker connects to it and reconnects after losing it. */
  controllerSocket: string;
  /** How to start a new supervisor (`minikafka start ... --adopt`) when the old one is gone for good. */
  supervisorCommand: { argv: string[]; cwd: string };
}

export type ControllerMethod = Exclude<keyof ControllerChannel, 'metadata'> | 'metadata';

export type BrokerToSupervisor =
  /**
   * First message on every connection: who this is. A broker that already serves (it outlived a supervisor) says
   * where it listens and the newest metadata epoch it applied, so that an adopting supervisor can take it over.
   */
  | {
      type: 'hello';
      nodeId: number;
      pid: number;
      metadataEpoch: number;
      interBrokerSecret?: string;
      listening?: { host: string; port: number; internalPort?: number };
    }
  | { type: 'ready'; host: string; port: number; internalPort?: number; pid: number }
  /** The broker is shutting down on purpose: its death that follows is a stop, not a crash. */
  | { type: 'stopping' }
  /** `busyPartitions`: when it changed, the partitions this broker took data for lately (see Broker.busyPartitions). */
  | { type: 'heartbeat'; busyPartitions?: string[] }
  /** The process got SIGTERM (`kill <pid>`, as the seed tutorial stops a broker): asks for a controlled shutdown. */
  | { type: 'stop-request' }
  | { type: 'call'; id: number; method: ControllerMethod; args: unknown[] };

export type SupervisorToBroker =
  /** The whole image: when a broker (re)connects, or asks after missing a delta. */
  | { type: 'metadata'; image: MetadataImage }
  /** What changed (KRaft's metadata records): every change after the whole image (partition records packed, deltaWire.ts). */
  | { type: 'metadata-delta'; delta: WireDelta }
  | { type: 'reply'; id: number; result?: unknown; error?: { code: number; message: string } }
  | { type: 'shutdown' };

export const BROKER_OPTIONS_ENV = 'MINIKAFKA_BROKER_OPTIONS';
/** Extra Node options for broker processes (profiling): see brokerExecArgv in supervisor.ts. */
export const BROKER_EXEC_ARGV_ENV = 'MINIKAFKA_BROKER_EXEC_ARGV';
