// Saved connections: what goes into the `minikafka.connections` setting (never a password), and how a saved
// connection plus its secret becomes KafkaConnectionOptions. vscode-free.

import { readFile } from 'node:fs/promises';
import { KafkaConnectionOptions, parseBootstrapServers, SaslMechanism, TlsOptions } from '../../client/connection';
import { UserError } from './errors';

export interface SavedConnection {
  id: string;
  name: string;
  /** Comma-separated host:port list. */
  bootstrapServers: string;
  sasl?: { mechanism: SaslMechanism; username: string };
  tls?: { enabled: boolean; caFile?: string; certFile?: string; keyFile?: string; skipVerify?: boolean };
}

export const SASL_MECHANISMS: readonly SaslMechanism[] = ['plain', 'scram-sha-256', 'scram-sha-512'];

export function saslLabel(m: SaslMechanism | undefined): string {
  switch (m) {
    case 'plain':
      return 'SASL PLAIN';
    case 'scram-sha-256':
      return 'SASL SCRAM-SHA-256';
    case 'scram-sha-512':
      return 'SASL SCRAM-SHA-512';
    default:
      return 'no authentication';
  }
}

export function newConnectionId(existing: readonly SavedConnection[], name: string): string {
  const base = `conn-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'cluster'}`;
  let id = base;
  for (let i = 2; existing.some((c) => c.id === id); i++) id = `${base}-${i}`;
  return id;
}

/** Reads the setting's raw value, dropping entries that cannot be used (and saying why). */
export function parseSavedConnections(raw: unknown): { connections: SavedConnection[]; problems: string[] } {
  const connections: SavedConnection[] = [];
  const problems: string[] = [];
  if (!Array.isArray(raw)) return { connections, problems: raw === undefined ? [] : ['minikafka.connections must be an array'] };
  raw.forEach((entry, i) => {
    const e = entry as Partial<SavedConnection> | null;
    if (!e || typeof e !== 'object' || typeof e.name !== 'string' || typeof e.bootstrapServers !== 'string') {
      problems.push(`minikafka.connections[${i}] needs a name and bootstrapServers`);
      return;
    }
    const id = typeof e.id === 'string' && e.id ? e.id : newConnectionId(connections, e.name);
    if (connections.some((c) => c.id === id)) {
      problems.push(`minikafka.connections[${i}]: duplicate id ${id}`);
      return;
    }
    const c: SavedConnection = { id, name: e.name, bootstrapServers: e.bootstrapServers };
    if (e.sasl && SASL_MECHANISMS.includes(e.sasl.mechanism)) c.sasl = { mechanism: e.sasl.mechanism, username: String(e.sasl.username ?? '') };
    if (e.tls && typeof e.tls === 'object') c.tls = { ...e.tls, enabled: e.tls.enabled === true };
    connections.push(c);
  });
  return { connections, problems };
}

/** The problem with a bootstrap server list, or undefined when it is usable. */
export function validateBootstrapServers(value: string): string | undefined {
  try {
    parseBootstrapServers(value);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The client options for a saved connection. `password` comes from the secret storage; PEM files are read now so
 * that a missing file is reported as such, not as a TLS failure.
 */
export async function connectionOptions(c: SavedConnection, password: string | undefined): Promise<KafkaConnectionOptions> {
  const opts: KafkaConnectionOptions = { bootstrapServers: parseBootstrapServers(c.bootstrapServers), clientId: 'minikafka-vscode' };
  if (c.sasl) {
    if (password === undefined) throw new UserError(`no password stored for connection '${c.name}': edit the connection to enter it`);
    opts.sasl = { mechanism: c.sasl.mechanism, username: c.sasl.username, password };
  }
  if (c.tls?.enabled) {
    const tls: TlsOptions = {};
    if (c.tls.caFile) tls.ca = await readPem(c.tls.caFile, 'CA certificate');
    if (c.tls.certFile) tls.cert = await readPem(c.tls.certFile, 'client certificate');
    if (c.tls.keyFile) tls.key = await readPem(c.tls.keyFile, 'client key');
    if (c.tls.skipVerify) tls.rejectUnauthorized = false;
    opts.ssl = Object.keys(tls).length > 0 ? tls : true;
  }
  return opts;
}

async function readPem(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** "SASL SCRAM-SHA-256 as alice · TLS (CA ca.pem)" for tooltips and the edit picker. */
export function securitySummary(c: SavedConnection): string {
  const parts = [c.sasl ? `${saslLabel(c.sasl.mechanism)} as ${c.sasl.username}` : 'no authentication'];
  if (c.tls?.enabled) {
    const tlsBits = [c.tls.caFile ? 'custom CA' : '', c.tls.certFile ? 'client certificate' : '', c.tls.skipVerify ? 'verification off' : ''].filter(Boolean);
    parts.push(`TLS${tlsBits.length ? ` (${tlsBits.join(', ')})` : ''}`);
  } else parts.push('plaintext');
  return parts.join(' · ');
}
