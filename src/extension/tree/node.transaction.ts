// An open transaction under a cluster's Transactions folder: transactional id, state, producer id/epoch, age and
// partitions; HANGING ones (open past their timeout, or held by a partition leader that no coordinator reports as
// open) are marked with a warning and say why. vscode-free.
import { formatAge } from '../model/transactions';
import type { ItemPresentation, TransactionNode } from './node';
import { Colors, nodeId, plural } from './node';
import type { OpenTransaction, OrphanTransaction } from '../model/transactions';

export function transactionNode(clusterId: string, txn: OpenTransaction, readAt: number): TransactionNode {
  return { kind: 'transaction', id: nodeId(clusterId, 'transactions', txn.transactionalId), clusterId, txn, readAt };
}

export function orphanTransactionNode(clusterId: string, orphan: OrphanTransaction, readAt: number): TransactionNode {
  return { kind: 'transaction', id: nodeId(clusterId, 'transactions', '~producer', orphan.producerId, orphan.topic, orphan.partition), clusterId, orphan, readAt };
}

/** "t-0, t-1, other-3" (at most `max`, then "+N"). */
function partitionList(partitions: Array<{ topic: string; partition: number }>, max = 4): string {
  const names = partitions.map((p) => `${p.topic}-${p.partition}`);
  return names.length > max ? `${names.slice(0, max).join(', ')} +${names.length - max}` : names.join(', ');
}

export function transactionItem(node: TransactionNode): ItemPresentation {
  if (node.orphan) {
    const o = node.orphan;
    return {
      id: node.id,
      label: `producer ${o.producerId}`,
      description: `HANGING · on ${o.topic}-${o.partition} from offset ${o.startOffset} · epoch ${o.producerEpoch}`,
      tooltip: [`Open transaction of producer ${o.producerId} (epoch ${o.producerEpoch}) on ${o.topic}-${o.partition}`, `last record ${new Date(o.lastTimestamp).toISOString()}`, `HANGING: ${o.hanging}`].join('\n'),
      contextValue: 'transaction.hanging',
      icon: { id: 'warning', color: Colors.warning },
      collapsible: 'none',
    };
  }
  const t = node.txn!;
  const age = t.startTimeMs >= 0 ? formatAge(node.readAt - t.startTimeMs) : undefined;
  const parts = [t.state, `pid ${t.producerId} epoch ${t.producerEpoch}`];
  if (age) parts.push(age);
  parts.push(t.partitions.length > 0 ? partitionList(t.partitions) : 'no partitions yet');
  if (t.hanging) parts.unshift('HANGING');
  const tooltip = [
    `Transactional id ${t.transactionalId}`,
    `state ${t.state} (coordinator: broker ${t.coordinatorId})`,
    `producer id ${t.producerId}, epoch ${t.producerEpoch}`,
    t.startTimeMs >= 0 ? `open since ${new Date(t.startTimeMs).toISOString()} (${age})` : 'not started',
    `transaction.timeout.ms ${t.timeoutMs}`,
    `${plural(t.partitions.length, 'partition')}${t.partitions.length ? `: ${t.partitions.map((p) => `${p.topic}-${p.partition}`).join(', ')}` : ''}`,
    'read_committed consumers of these partitions wait at the transaction\'s first offset until it commits or aborts.',
  ];
  if (t.hanging) tooltip.push(`HANGING: ${t.hanging}`);
  return {
    id: node.id,
    label: t.transactionalId,
    description: parts.join(' · '),
    tooltip: tooltip.join('\n'),
    contextValue: t.hanging ? 'transaction.hanging' : 'transaction',
    icon: t.hanging ? { id: 'warning', color: Colors.warning } : { id: 'git-pull-request-draft' },
    collapsible: 'none',
  };
}
