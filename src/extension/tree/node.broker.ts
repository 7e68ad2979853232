// A broker: id, address, the metadata controller id mark and (embedded cluster) process state; expands to its log directories
// with the size of each partition replica (DescribeLogDirs). vscode-free.
import { describeError } from '../model/errors';
import type { BrokerRow } from '../model/types';
import type { TreeContext } from './context';
import type { BrokerNode, ItemPresentation, TreeCluster, TreeNode } from './node';
import { Colors, nodeId, placeholder } from './node';
import { logDirNode } from './node.logDir';

export function brokerNode(clusterId: string, broker: BrokerRow, embedded: boolean, cluster?: TreeCluster): BrokerNode {
  return { kind: 'broker', id: nodeId(clusterId, 'brokers', broker.id), clusterId, brokerId: broker.id, broker, embedded, ...(cluster ? { cluster } : {}) };
}

export async function brokerChildren(node: BrokerNode, _ctx: TreeContext): Promise<TreeNode[]> {
  const source = node.cluster?.source();
  if (!source) return [];
  try {
    const dirs = await source.logDirs(node.brokerId);
    if (dirs.length === 0) return [placeholder(node.id, node.clusterId, 'No log directories')];
    return dirs.map((d) => logDirNode(node.clusterId, node.brokerId, d));
  } catch (err) {
    const words = describeError(err);
    return [placeholder(node.id, node.clusterId, words, { severity: 'error', tooltip: `Could not read the log directories of broker ${node.brokerId}: ${words}` })];
  }
}

const STATUS_WORDS: Record<BrokerRow['status'], string> = {
  up: 'up',
  down: 'down',
  paused: 'paused',
  fenced: 'fenced',
  starting: 'starting',
  stopping: 'stopping',
};

const STATUS_TOOLTIP: Record<BrokerRow['status'], string> = {
  up: 'The broker process runs and the controller counts it as alive.',
  down: 'The broker process is not running. Its replicas are out of the ISR and it leads no partition until it is restarted.',
  paused: 'The broker process is frozen (SIGSTOP). The controller fences it once it misses heartbeats for the session timeout.',
  fenced: 'The controller has fenced this broker: it leads no partition and is not in any ISR until it heartbeats again.',
  starting: 'The broker process is starting.',
  stopping: 'The broker is shutting down (controlled shutdown moves its leaderships first).',
};

export function brokerContextValue(node: BrokerNode): string {
  if (!node.embedded) return 'broker.external';
  switch (node.broker.status) {
    case 'up':
      return 'broker.up';
    case 'paused':
      return 'broker.paused';
    case 'fenced':
      return 'broker.fenced';
    case 'down':
      return 'broker.down';
    default:
      return `broker.${node.broker.status}`;
  }
}

export function brokerItem(node: BrokerNode): ItemPresentation {
  const b = node.broker;
  const parts = [`${b.host}:${b.port}`];
  // Not just "controller": on the embedded cluster the controller is the supervisor (its own row under Brokers);
  // this broker is only the id that Metadata and DescribeCluster answer as controller_id.
  if (b.isController) parts.push('listed as controller');
  if (node.embedded) parts.push(STATUS_WORDS[b.status] + (b.exit && b.status === 'down' ? ` (${b.exit})` : ''));
  const tooltip = [`Broker ${b.id} at ${b.host}:${b.port}`];
  if (b.isController) {
    tooltip.push(
      node.embedded
        ? 'Metadata controller id: Metadata and DescribeCluster name this broker as the controller, because clients need a broker id there. The controller itself runs in the supervisor process (the Controller row below).'
        : 'Metadata controller id: the broker that Metadata and DescribeCluster name as the controller.',
    );
  }
  if (node.embedded) {
    tooltip.push(STATUS_TOOLTIP[b.status]);
    if (b.pid) tooltip.push(`pid ${b.pid}`);
    if (b.exit) tooltip.push(`last exit: ${b.exit}`);
  }
  let icon: ItemPresentation['icon'];
  switch (b.status) {
    case 'up':
      icon = { id: b.isController ? 'star-full' : 'server', ...(node.embedded ? { color: Colors.ok } : {}) };
      break;
    case 'down':
      icon = { id: 'debug-disconnect', color: Colors.error };
      break;
    case 'paused':
      icon = { id: 'debug-pause', color: Colors.warning };
      break;
    case 'fenced':
      icon = { id: 'shield', color: Colors.warning };
      break;
    default:
      icon = { id: 'loading~spin' };
  }
  return {
    id: node.id,
    label: `Broker ${b.id}`,
    description: parts.join(' · '),
    tooltip: tooltip.join('\n'),
    contextValue: brokerContextValue(node),
    icon,
    // Only a broker that runs can answer DescribeLogDirs.
    collapsible: node.cluster && b.status === 'up' ? 'collapsed' : 'none',
  };
}
