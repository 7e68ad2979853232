// A topic: partition count, replication factor and problem counts; expands to its partitions. vscode-free.
import type { TopicDescription } from '../../client/admin';
import { describeError } from '../model/errors';
import { isOffline, isUnderReplicated } from '../model/health';
import type { TreeContext } from './context';
import type { ItemPresentation, TopicNode, TreeCluster, TreeNode } from './node';
import { Colors, nodeId, placeholder, plural } from './node';
import { lsoBehind, partitionNode } from './node.partition';

/** How long a topic's rows wait for the explanation of a held-back LSO before showing without it. */
const EXPLAIN_TIMEOUT_MS = 1500;

export function topicNode(cluster: TreeCluster, t: TopicDescription): TopicNode {
  return { kind: 'topic', id: nodeId(cluster.id, 'topics', t.name), clusterId: cluster.id, topic: t.name, internal: t.internal, partitions: t.partitions, cluster };
}

export function topicItem(node: TopicNode): ItemPresentation {
  const offline = node.partitions.filter(isOffline).length;
  const under = node.partitions.filter((p) => !isOffline(p) && isUnderReplicated(p)).length;
  const rf = node.partitions[0]?.replicas.length ?? 0;
  const parts = [plural(node.partitions.length, 'partition'), `RF ${rf}`];
  if (offline > 0) parts.push(`${offline} offline`);
  if (under > 0) parts.push(`${under} under-replicated`);
  const tooltip = [`Topic ${node.topic}${node.internal ? ' (internal)' : ''}`, `${plural(node.partitions.length, 'partition')}, replication factor ${rf}`];
  if (offline > 0) tooltip.push(`${plural(offline, 'partition')} offline: no leader, so producing to and consuming from them fails.`);
  if (under > 0) tooltip.push(`${plural(under, 'partition')} under-replicated: fewer in-sync replicas than replicas.`);
  const icon = offline > 0 ? { id: 'error', color: Colors.error } : under > 0 ? { id: 'warning', color: Colors.warning } : { id: node.internal ? 'lock' : 'symbol-event' };
  return {
    id: node.id,
    label: node.topic,
    description: parts.join(' · '),
    tooltip: tooltip.join('\n'),
    contextValue: node.internal ? 'topic.internal' : 'topic',
    icon,
    collapsible: 'collapsed',
  };
}

export async function topicChildren(node: TopicNode, _ctx: TreeContext): Promise<TreeNode[]> {
  const source = node.cluster.source();
  if (!source) return [placeholder(node.id, node.clusterId, node.cluster.lastError() ?? 'the cluster is not available', { severity: 'error' })];
  try {
    const t = await source.topic(node.topic);
    if (t.partitions.length === 0) return [placeholder(node.id, node.clusterId, 'No partitions')];
    const held = t.partitions.filter(lsoBehind).map((p) => p.partition);
    let why = new Map<number, string>();
    if (held.length > 0) {
      // Bounded, and optional: without it the row still says "LSO n < HW m".
      why = await Promise.race([
        source.openTransactionsOn(node.topic, held).catch(() => new Map<number, string>()),
        new Promise<Map<number, string>>((resolve) => setTimeout(() => resolve(new Map()), EXPLAIN_TIMEOUT_MS)),
      ]);
    }
    return t.partitions.map((p) => partitionNode(node.clusterId, node.topic, p, source.kind === 'embedded', why.get(p.partition)));
  } catch (err) {
    const words = describeError(err);
    return [placeholder(node.id, node.clusterId, words, { severity: 'error', tooltip: `Could not read topic ${node.topic}: ${words}` })];
  }
}
