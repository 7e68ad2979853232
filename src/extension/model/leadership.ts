// Preferred leader election (ElectLeaders) and partition reassignment (AlterPartitionReassignments), which
// kafkajs does not offer with per-partition results: sent with the project's own wire client. Plaintext
// listeners only (the wire client speaks neither SASL nor TLS); callers refuse secured connections first.
// vscode-free.

import { WireClient } from '../../broker/wireClient';
import { AlterPartitionReassignments } from '../../protocol/apis/45-alter-partition-reassignments';
import { ElectLeaders } from '../../protocol/apis/43-elect-leaders';
import { ListPartitionReassignments } from '../../protocol/apis/46-list-partition-reassignments';
import { errorName } from '../../protocol/errorCode';
import { UserError } from './errors';

export interface ElectionTarget {
  topic: string;
  partitions: number[];
}

export interface ElectionOutcome {
  topic: string;
  partition: number;
  /** undefined = elected; ELECTION_NOT_NEEDED when the preferred replica already leads. */
  error?: string;
  message?: string;
}

async function connectAny(bootstrap: string[]): Promise<WireClient> {
  let lastError: unknown;
  for (const server of bootstrap) {
    const m = /^(.+):(\d+)$/.exec(server.trim());
    if (!m) continue;
    const client = new WireClient(m[1].replace(/^\[|\]$/g, ''), Number(m[2]), 'minikafka-vscode');
    try {
      await client.connect(3000);
      return client;
    } catch (err) {
      lastError = err;
      client.close();
    }
  }
  throw lastError ?? new UserError('no bootstrap server given');
}

/** Preferred leader election; `targets` null = every partition of the cluster. */
export async function electPreferredLeaders(bootstrap: string[], targets: ElectionTarget[] | null, timeoutMs = 30000): Promise<ElectionOutcome[]> {
  const client = await connectAny(bootstrap);
  try {
    const res = await client.request(
      ElectLeaders,
      1,
      { electionType: 0, topicPartitions: targets && targets.map((t) => ({ topic: t.topic, partitionId: t.partitions })), timeoutMs },
      timeoutMs + 5000,
    );
    if (res.errorCode) throw new UserError(`the election failed: ${errorName(res.errorCode)}`);
    return res.replicaElectionResults.flatMap((t) =>
      t.partitionResult.map((p) => ({
        topic: t.topic,
        partition: p.partitionId,
        ...(p.errorCode ? { error: errorName(p.errorCode), ...(p.errorMessage ? { message: p.errorMessage } : {}) } : {}),
      })),
    );
  } finally {
    client.close();
  }
}

/** "2 partitions elected; 4 already led by their preferred replica; P3: PREFERRED_LEADER_NOT_AVAILABLE (...)". */
export function summarizeElection(outcomes: ElectionOutcome[]): string {
  const elected = outcomes.filter((o) => !o.error);
  const notNeeded = outcomes.filter((o) => o.error === 'ELECTION_NOT_NEEDED');
  const failed = outcomes.filter((o) => o.error && o.error !== 'ELECTION_NOT_NEEDED');
  const parts: string[] = [];
  parts.push(`${elected.length} partition${elected.length === 1 ? '' : 's'} got ${elected.length === 1 ? 'its' : 'their'} preferred leader`);
  if (notNeeded.length) parts.push(`${notNeeded.length} already led by the preferred replica`);
  for (const f of failed.slice(0, 5)) parts.push(`${f.topic}-${f.partition}: ${f.message ?? f.error}`);
  if (failed.length > 5) parts.push(`${failed.length - 5} more failed`);
  return parts.join('; ');
}

/** Starts moving a partition to `replicas` (the first one becomes the preferred leader) and waits until it completes. */
export async function reassignPartition(bootstrap: string[], topic: string, partition: number, replicas: number[], waitMs = 30000): Promise<'done' | 'in progress'> {
  const client = await connectAny(bootstrap);
  try {
    const res = await client.request(AlterPartitionReassignments, 0, { timeoutMs: 30000, topics: [{ name: topic, partitions: [{ partitionIndex: partition, replicas }] }] }, 35000);
    if (res.errorCode) throw new UserError(res.errorMessage ?? errorName(res.errorCode));
    for (const t of res.responses) for (const p of t.partitions) if (p.errorCode) throw new UserError(p.errorMessage ?? errorName(p.errorCode));
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      const list = await client.request(ListPartitionReassignments, 0, { timeoutMs: 10000, topics: [{ name: topic, partitionIndexes: [partition] }] }, 15000);
      if (!list.topics.some((t) => t.partitions.some((p) => p.partitionIndex === partition))) return 'done';
      await new Promise((r) => setTimeout(r, 200));
    }
    return 'in progress';
  } finally {
    client.close();
  }
}
