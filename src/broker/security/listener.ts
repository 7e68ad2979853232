// How a broker's client-facing listener is secured, as plain JSON-able data (it crosses the supervisor -> broker
// IPC): TLS certificate files and/or SASL with salted credentials. Kafka's four security protocols follow.
// With any security on, a broker also opens an internal loopback listener for the cluster's own traffic
// (followers fetching from leaders, like Kafka's inter-broker listener), authenticated with SASL/PLAIN by a
// random per-cluster secret that only the supervisor and its brokers know.

import { createHash } from 'node:crypto';
import { deriveCredentials, SaslMechanismName, SaslServerConfig } from './sasl';

export interface ListenerSecurity {
  /** PEM files of the certificate the listener presents (see tls.ts). */
  tls?: { certFile: string; keyFile: string };
  sasl?: SaslServerConfig;
}

export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';

export function securityProtocol(security: { tls?: unknown; sasl?: unknown } | undefined): SecurityProtocol {
  const tls = !!security?.tls;
  const sasl = !!security?.sasl;
  return sasl ? (tls ? 'SASL_SSL' : 'SASL_PLAINTEXT') : tls ? 'SSL' : 'PLAINTEXT';
}

/** What the cluster state and cluster.json say about security (never a password or a credential). */
export interface SecuritySummary {
  protocol: SecurityProtocol;
  tls: boolean;
  saslMechanisms: SaslMechanismName[];
  users: string[];
  /** The CA certificate clients must trust, when TLS is on. */
  caFile: string | null;
}

/** The principal followers use on the internal listener. */
export const INTER_BROKER_USER = 'minikafka-inter-broker';

export function interBrokerSaslConfig(secret: string): SaslServerConfig {
  return { mechanisms: ['PLAIN'], users: deriveCredentials([{ name: INTER_BROKER_USER, password: secret }]) };
}

/** Key for the fake salts of unknown SCRAM users: stable across the brokers of one cluster run. */
export function fakeSaltSecret(secret: string): Buffer {
  return createHash('sha256').update(`minikafka scram fake salt\u0000${secret}`).digest();
}
