// What activate() returns: a small API for the integration tests, which read the explorer through the real
// TreeDataProvider (getChildren/getTreeItem), not through internals. Not a public API for other extensions.

import * as vscode from 'vscode';
import type { ClusterEvent, ClusterState } from '../broker/cluster/supervisor';
import type { ClusterRegistry } from './clusters/registry';
import type { EmbeddedStatusBar, StatusBarText } from './statusBar';
import { snapshotTree, SnapshotOptions, TreeSnapshotNode } from './tree/model';
import type { ItemPresentation, TreeNode } from './tree/node';
import type { ClusterTreeProvider } from './tree/provider';
import type { EmbeddedStatus } from './model/types';

export type { TreeSnapshotNode };

export interface MiniKafkaTestApi {
  /** The explorer as the TreeDataProvider serves it (every expandable node expanded unless `expand` says no). */
  treeSnapshot(opts?: SnapshotOptions): Promise<TreeSnapshotNode[]>;
  embedded: {
    status(): EmbeddedStatus;
    state(): ClusterState | undefined;
    dir(): string;
    bootstrap(): string | undefined;
    /** The cluster events received since activation (the latest 500). */
    events(): ClusterEvent[];
  };
  statusBar(): StatusBarText | undefined;
  /**
   * The provider's own node object that `pred` accepts (what a context menu hands a command), found by walking
   * getChildren through clusters and folders only.
   */
  treeNode(pred: (node: TreeNode) => boolean): Promise<TreeNode | undefined>;
  /** How many refreshes the tree fired for a cluster id ('' = the roots). */
  refreshCount(clusterId?: string): number;
  /** The ids of the nodes the tree's last refresh of a cluster redrew (the cluster's own id: all of it). */
  lastRefreshed(clusterId: string): string[];
  /** Whether a refresh of a cluster is waiting (debounced events, or for the workbench's fetches to settle). */
  refreshPending(clusterId: string): boolean;
  activation: { activateMs: number; moduleLoadMs: number };
}

function labelText(label: vscode.TreeItem['label']): string {
  return typeof label === 'string' ? label : (label?.label ?? '');
}

function fromTreeItem(item: vscode.TreeItem): ItemPresentation {
  const icon = item.iconPath instanceof vscode.ThemeIcon ? item.iconPath : undefined;
  const tooltip = typeof item.tooltip === 'string' ? item.tooltip : item.tooltip?.value;
  return {
    id: item.id ?? '',
    label: labelText(item.label),
    ...(typeof item.description === 'string' ? { description: item.description } : {}),
    ...(tooltip !== undefined ? { tooltip } : {}),
    contextValue: item.contextValue ?? '',
    ...(icon ? { icon: { id: icon.id, ...(icon.color ? { color: icon.color.id } : {}) } } : {}),
    collapsible:
      item.collapsibleState === vscode.TreeItemCollapsibleState.Expanded ? 'expanded' : item.collapsibleState === vscode.TreeItemCollapsibleState.Collapsed ? 'collapsed' : 'none',
    ...(item.command ? { command: item.command } : {}),
  };
}

export function createTestApi(
  registry: ClusterRegistry,
  provider: ClusterTreeProvider,
  statusBar: EmbeddedStatusBar,
  activation: { activateMs: number; moduleLoadMs: number },
): MiniKafkaTestApi {
  const events: ClusterEvent[] = [];
  registry.embedded.onClusterEvent((e) => {
    events.push(e);
    if (events.length > 500) events.shift();
  });
  const embedded = registry.embedded;
  return {
    treeSnapshot: (opts) =>
      snapshotTree(
        async (node?: TreeNode) => (await provider.getChildren(node)) ?? [],
        (node) => fromTreeItem(provider.getTreeItem(node)),
        opts,
      ),
    embedded: {
      status: () => embedded.cluster.status,
      state: () => embedded.cluster.state,
      dir: () => embedded.cluster.dir,
      bootstrap: () => embedded.bootstrap(),
      events: () => [...events],
    },
    statusBar: () => statusBar.current,
    treeNode: async (pred) => {
      const walk = async (node: TreeNode | undefined): Promise<TreeNode | undefined> => {
        for (const k of (await provider.getChildren(node)) ?? []) {
          if (pred(k)) return k;
          if (k.kind === 'cluster' || k.kind === 'folder') {
            const found = await walk(k);
            if (found) return found;
          }
        }
        return undefined;
      };
      return walk(undefined);
    },
    refreshCount: (id = '') => provider.refreshCount.get(id) ?? 0,
    lastRefreshed: (id) => provider.lastRefreshed.get(id) ?? [],
    refreshPending: (id) => provider.refreshPending(id),
    activation,
  };
}
