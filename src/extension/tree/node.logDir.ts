// A broker's log directories (DescribeLogDirs) and the size on disk of each partition replica in them. vscode-free.
import type { LogDirInfo, LogDirPartition } from '../../client/admin';
import type { TreeContext } from './context';
import type { ItemPresentation, LogDirNode, LogDirPartitionNode, TreeNode } from './node';
import { Colors, formatBytes, nodeId, placeholder, plural } from './node';

export function logDirNode(clusterId: string, brokerId: number, dir: LogDirInfo): LogDirNode {
  return { kind: 'logDir', id: nodeId(clusterId, 'brokers', brokerId, 'logdirs', dir.path), clusterId, brokerId, dir };
}

export function logDirTotal(dir: LogDirInfo): number {
  return dir.partitions.reduce((n, p) => n + p.sizeBytes, 0);
}

/** A long path as its last two segments ("…/data/broker-1"); the tooltip has it whole. */
export function shortPath(path: string, max = 40): string {
  if (path.length <= max) return path;
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts.length > 2 ? `…/${parts.slice(-2).join('/')}` : path;
}

export function logDirItem(node: LogDirNode): ItemPresentation {
  const d = node.dir;
  const used = logDirTotal(d);
  const parts = [formatBytes(used), plural(d.partitions.length, 'replica')];
  if (d.usableBytes >= 0 && d.totalBytes > 0) parts.push(`${formatBytes(d.usableBytes)} free of ${formatBytes(d.totalBytes)}`);
  if (d.error) parts.unshift(d.error);
  const tooltip = [`Log directory ${d.path} of broker ${node.brokerId}`, `${formatBytes(used)} in ${plural(d.partitions.length, 'partition replica')}`];
  if (d.totalBytes >= 0) tooltip.push(`volume: ${formatBytes(d.usableBytes)} usable of ${formatBytes(d.totalBytes)}`);
  if (d.error) tooltip.push(`${d.error}: the broker reports this directory as unusable`);
  return {
    id: node.id,
    label: shortPath(d.path),
    description: parts.join(' · '),
    tooltip: tooltip.join('\n'),
    contextValue: 'logDir',
    icon: d.error ? { id: 'error', color: Colors.error } : { id: 'database' },
    collapsible: 'collapsed',
  };
}

export async function logDirChildren(node: LogDirNode, _ctx: TreeContext): Promise<TreeNode[]> {
  if (node.dir.partitions.length === 0) return [placeholder(node.id, node.clusterId, 'No partition replicas')];
  // Largest first: what a user looking at disk usage wants to see.
  return [...node.dir.partitions]
    .sort((a, b) => b.sizeBytes - a.sizeBytes || a.topic.localeCompare(b.topic) || a.partition - b.partition)
    .map((replica) => logDirPartitionNode(node, replica));
}

function logDirPartitionNode(dir: LogDirNode, replica: LogDirPartition): LogDirPartitionNode {
  return { kind: 'logDirPartition', id: nodeId(dir.id, replica.topic, replica.partition, replica.isFuture ? 'future' : 'current'), clusterId: dir.clusterId, brokerId: dir.brokerId, replica };
}

export function logDirPartitionItem(node: LogDirPartitionNode): ItemPresentation {
  const r = node.replica;
  const parts = [formatBytes(r.sizeBytes)];
  if (r.offsetLag > 0) parts.push(`lag ${r.offsetLag}`);
  if (r.isFuture) parts.push('future (being moved here)');
  return {
    id: node.id,
    label: `${r.topic}-${r.partition}`,
    description: parts.join(' · '),
    tooltip: [`${r.topic} partition ${r.partition} on broker ${node.brokerId}`, `${r.sizeBytes} bytes on disk`, `offset lag ${r.offsetLag} (high watermark minus this replica's log end, 0 when in sync)`].join('\n'),
    contextValue: 'logDirPartition',
    icon: { id: 'file-binary' },
    collapsible: 'none',
  };
}
