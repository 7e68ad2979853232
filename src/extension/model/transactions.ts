// What the explorer shows about transactions, from three admin reads that Kafka's kafka-transactions.sh also uses:
// ListTransactions (every broker: the transactional ids it coordinates), DescribeTransactions (an open one's
// producer, epoch, start time, timeout and partitions) and DescribeProducers (the open transactions each partition
// leader holds, which are what keep a partition's last stable offset below its high watermark). vscode-free.

import type { ClusterAdmin, PartitionOpenTransaction, TransactionDescription, TransactionListing } from '../../client/admin';
import { mapLimit } from './adminSession';

/** The coordinator states of a transaction that has begun and not finished (Kafka's TransactionState). */
export const OPEN_TRANSACTION_STATES: ReadonlySet<string> = new Set(['Ongoing', 'PrepareCommit', 'PrepareAbort', 'PrepareEpochFence']);

/**
 * A partition's open transaction that no coordinator reports as open is only called hanging once its last record
 * is this old: between a coordinator's commit and the markers reaching a leader, the leader still holds it briefly.
 */
export const ORPHAN_GRACE_MS = 10_000;

export interface OpenTransaction extends TransactionDescription {
  /** Why it is hanging, in words; undefined while it is within its timeout. */
  hanging?: string;
}

/** An open transaction a partition leader holds that no coordinator reports as open. */
export interface OrphanTransaction extends PartitionOpenTransaction {
  hanging: string;
}

export interface TransactionsOverview {
  /** Every transactional id the coordinators know (open or not). */
  listed: TransactionListing[];
  open: OpenTransaction[];
  orphans: OrphanTransaction[];
}

/** Age in words: "850 ms", "42 s", "3 min 5 s", "2 h 4 min". */
export function formatAge(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * Why an open transaction is hanging, or undefined. Kafka's coordinator aborts a transaction once it is open longer
 * than its transaction.timeout.ms, so one still open after that is stuck (a coordinator that cannot finish it).
 */
export function hangingReason(t: TransactionDescription, now: number): string | undefined {
  if (t.startTimeMs < 0 || t.timeoutMs <= 0) return undefined;
  const age = now - t.startTimeMs;
  if (age <= t.timeoutMs) return undefined;
  return `open for ${formatAge(age)}, longer than its transaction.timeout.ms (${formatAge(t.timeoutMs)}): the coordinator should have aborted it`;
}

/** Leaders' open transactions whose producer is in no open coordinator transaction (after the grace period). */
export function findOrphans(open: readonly TransactionDescription[], onPartitions: readonly PartitionOpenTransaction[], now: number): OrphanTransaction[] {
  const known = new Set(open.map((t) => `${t.producerId}`));
  return onPartitions
    .filter((p) => !known.has(`${p.producerId}`) && now - p.lastTimestamp > ORPHAN_GRACE_MS)
    .map((p) => ({
      ...p,
      hanging: `the leader of ${p.topic}-${p.partition} holds an open transaction of producer ${p.producerId} (epoch ${p.producerEpoch}) from offset ${p.startOffset} that no transaction coordinator reports as open, so the partition's last stable offset cannot pass ${p.startOffset}`,
    }));
}

export async function readTransactions(admin: ClusterAdmin, topics: string[], now = Date.now()): Promise<TransactionsOverview> {
  const [listed, onPartitions] = await Promise.all([admin.listTransactions(), admin.openTransactionsOn(topics)]);
  const described = await mapLimit(
    listed.filter((t) => OPEN_TRANSACTION_STATES.has(t.state)),
    8,
    (t) => admin.describeTransaction(t.transactionalId).catch(() => undefined),
  );
  const open: OpenTransaction[] = [];
  for (const d of described) {
    if (!d || !OPEN_TRANSACTION_STATES.has(d.state)) continue; // finished between the two requests
    const hanging = hangingReason(d, now);
    open.push(hanging ? { ...d, hanging } : d);
  }
  return { listed, open, orphans: findOrphans(open, onPartitions, now) };
}

/** Per partition: why its LSO is behind its high watermark ("open transaction of tx-1 (producer 5, epoch 0) since …"). */
export async function explainOpenTransactions(admin: ClusterAdmin, topic: string, partitions: number[]): Promise<Map<number, string>> {
  const onTopic = (await admin.openTransactionsOn([topic])).filter((p) => partitions.includes(p.partition));
  const out = new Map<number, string>();
  if (onTopic.length === 0) return out;
  // Which transactional id owns each producer id: ListTransactions reports the producer id of every id.
  const listed = await admin.listTransactions().catch(() => [] as TransactionListing[]);
  const idOf = new Map(listed.map((t) => [t.producerId, t.transactionalId]));
  const starts = new Map<string, number>();
  await mapLimit([...new Set(onTopic.map((p) => idOf.get(p.producerId)).filter((x): x is string => x !== undefined))], 8, async (id) => {
    const d = await admin.describeTransaction(id).catch(() => undefined);
    if (d && d.startTimeMs >= 0) starts.set(id, d.startTimeMs);
  });
  for (const p of onTopic) {
    const id = idOf.get(p.producerId);
    const since = (id !== undefined ? starts.get(id) : undefined) ?? p.lastTimestamp;
    const who = id !== undefined ? `${id} (producer ${p.producerId}, epoch ${p.producerEpoch})` : `producer ${p.producerId} (epoch ${p.producerEpoch})`;
    const line = `open transaction of ${who} since ${new Date(since).toISOString()}, from offset ${p.startOffset}`;
    out.set(p.partition, out.has(p.partition) ? `${out.get(p.partition)}; ${line}` : line);
  }
  return out;
}
