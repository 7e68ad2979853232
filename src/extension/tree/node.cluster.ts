// A cluster: the embedded mini-cluster (with its lifecycle state) or a saved connection. vscode-free.
import { Commands } from '../constants';
import { describeError } from '../model/errors';
import type { TreeContext } from './context';
import type { ClusterNode, FolderNode, ItemPresentation, TreeCluster, TreeNode } from './node';
import { Colors, nodeId, placeholder } from './node';

export function clusterNode(cluster: TreeCluster): ClusterNode {
  return { kind: 'cluster', id: nodeId(cluster.id), clusterId: cluster.id, cluster };
}

export function clusterContextValue(cluster: TreeCluster): string {
  const status = cluster.status();
  return status === 'external' ? 'cluster.external' : `cluster.embedded.${status}`;
}

export function clusterItem(node: ClusterNode): ItemPresentation {
  const c = node.cluster;
  const status = c.status();
  const bootstrap = c.bootstrap();
  const tooltip = [c.kind === 'embedded' ? `Embedded mini-cluster — ${status}` : `Saved connection ${c.label}`];
  if (bootstrap) tooltip.push(`Bootstrap servers: ${bootstrap}`);
  tooltip.push(...c.details());
  const error = c.lastError();
  if (error) tooltip.push(`Problem: ${error}`);
  let description: string;
  let icon: ItemPresentation['icon'];
  if (c.kind === 'external') {
    description = bootstrap ?? '';
    icon = error ? { id: 'plug', color: Colors.error } : { id: 'plug' };
  } else {
    switch (status) {
      case 'running':
        description = bootstrap ?? 'running';
        icon = { id: 'vm-running', color: Colors.ok };
        break;
      case 'starting':
        description = 'starting…';
        icon = { id: 'loading~spin' };
        break;
      case 'stopping':
        description = 'stopping…';
        icon = { id: 'loading~spin' };
        break;
      default:
        description = error ? 'stopped — failed' : 'stopped';
        icon = error ? { id: 'vm-outline', color: Colors.error } : { id: 'vm-outline' };
    }
  }
  return {
    id: node.id,
    label: c.label,
    description,
    tooltip: tooltip.join('\n'),
    contextValue: clusterContextValue(c),
    icon,
    collapsible: c.kind === 'embedded' && status === 'running' ? 'expanded' : 'collapsed',
  };
}

function folders(node: ClusterNode): FolderNode[] {
  return (['brokers', 'topics', 'groups', 'transactions', 'acls'] as const).map((folder) => ({
    kind: 'folder',
    id: nodeId(node.clusterId, folder),
    clusterId: node.clusterId,
    folder,
    cluster: node.cluster,
  }));
}

export async function clusterChildren(node: ClusterNode, _ctx: TreeContext): Promise<TreeNode[]> {
  const c = node.cluster;
  const status = c.status();
  const error = c.lastError();
  if (status === 'starting') return [placeholder(node.id, c.id, 'Starting the mini-cluster…', { severity: 'loading' })];
  if (status === 'stopping') return [placeholder(node.id, c.id, 'Stopping the mini-cluster…', { severity: 'loading' })];
  if (status === 'stopped') {
    const out: TreeNode[] = [];
    if (error) out.push(placeholder(node.id, c.id, error.split('\n')[0], { severity: 'error', tooltip: error }));
    out.push(
      placeholder(node.id, c.id, 'Not running — click to start', {
        key: 'start',
        command: { command: Commands.startCluster, title: 'Start Mini-Cluster' },
      }),
    );
    return out;
  }
  const source = c.source();
  if (!source) return [placeholder(node.id, c.id, error ?? 'not available', { severity: 'error' })];
  if (c.kind === 'external') {
    // Probe once here, so an unreachable cluster is one error row instead of three failing folders.
    try {
      await source.brokers();
    } catch (err) {
      const words = describeError(err, c.bootstrap()?.split(',') ?? []);
      return [
        placeholder(node.id, c.id, words, { severity: 'error', tooltip: `${words}\n\nRefresh to try again, or edit the connection.` }),
        placeholder(node.id, c.id, 'Edit connection…', { key: 'edit', command: { command: Commands.editConnection, title: 'Edit Connection', arguments: [{ clusterId: c.id }] } }),
      ];
    }
  }
  return folders(node);
}
