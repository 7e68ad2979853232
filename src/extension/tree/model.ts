// The explorer as a vscode-free model: roots, children and presentation of every node, by dispatch on the node's
// kind. provider.ts adapts it to vscode.TreeDataProvider; the unit tests and bench/extension-tree.ts call it
// directly.

import type { TreeContext } from './context';
import type { ClusterNode, ItemPresentation, TreeCluster, TreeNode, TreeOptions } from './node';
import { clusterChildren, clusterItem, clusterNode } from './node.cluster';
import { folderChildren, folderItem } from './node.folder';
import { brokerChildren, brokerItem } from './node.broker';
import { transactionItem } from './node.transaction';
import { aclItem } from './node.acl';
import { logDirChildren, logDirItem, logDirPartitionItem } from './node.logDir';
import { controllerItem } from './node.controller';
import { topicChildren, topicItem } from './node.topic';
import { partitionItem } from './node.partition';
import { groupChildren, groupItem } from './node.group';
import { groupMemberItem } from './node.groupMember';
import { groupOffsetItem } from './node.groupOffset';
import { placeholderItem } from './node.placeholder';

export class ClusterTreeModel implements TreeContext {
  /** Cluster nodes are kept across refreshes: VS Code matches a scoped refresh by object identity. */
  private readonly clusterNodes = new Map<string, ClusterNode>();

  constructor(
    private readonly clusters: () => readonly TreeCluster[],
    readonly options: () => TreeOptions,
  ) {}

  roots(): ClusterNode[] {
    const list = this.clusters();
    const live = new Set(list.map((c) => c.id));
    for (const id of [...this.clusterNodes.keys()]) if (!live.has(id)) this.clusterNodes.delete(id);
    return list.map((c) => {
      let node = this.clusterNodes.get(c.id);
      if (!node || node.cluster !== c) {
        node = clusterNode(c);
        this.clusterNodes.set(c.id, node);
      }
      return node;
    });
  }

  /** The cached node of a cluster, for a refresh scoped to it (undefined: refresh the roots). */
  clusterNode(clusterId: string): ClusterNode | undefined {
    return this.clusterNodes.get(clusterId);
  }

  async children(node?: TreeNode): Promise<TreeNode[]> {
    if (!node) return this.roots();
    switch (node.kind) {
      case 'cluster':
        return clusterChildren(node, this);
      case 'folder':
        return folderChildren(node, this);
      case 'topic':
        return topicChildren(node, this);
      case 'group':
        return groupChildren(node, this);
      case 'broker':
        return brokerChildren(node, this);
      case 'logDir':
        return logDirChildren(node, this);
      case 'controller':
      case 'transaction':
      case 'acl':
      case 'logDirPartition':
      case 'partition':
      case 'groupMember':
      case 'groupOffset':
      case 'placeholder':
        return [];
    }
  }

  item(node: TreeNode): ItemPresentation {
    switch (node.kind) {
      case 'cluster':
        return clusterItem(node);
      case 'folder':
        return folderItem(node);
      case 'broker':
        return brokerItem(node);
      case 'controller':
        return controllerItem(node);
      case 'topic':
        return topicItem(node);
      case 'partition':
        return partitionItem(node);
      case 'group':
        return groupItem(node);
      case 'groupMember':
        return groupMemberItem(node);
      case 'groupOffset':
        return groupOffsetItem(node);
      case 'transaction':
        return transactionItem(node);
      case 'acl':
        return aclItem(node);
      case 'logDir':
        return logDirItem(node);
      case 'logDirPartition':
        return logDirPartitionItem(node);
      case 'placeholder':
        return placeholderItem(node);
    }
  }
}

/** A plain copy of (part of) the tree: what the test API returns and what the benchmark builds. */
export interface TreeSnapshotNode {
  id: string;
  kind: TreeNode['kind'];
  label: string;
  description?: string;
  tooltip?: string;
  contextValue: string;
  icon?: string;
  iconColor?: string;
  children?: TreeSnapshotNode[];
}

export interface SnapshotOptions {
  /** Expand a node? Default: every node that has children. */
  expand?: (node: TreeNode, item: ItemPresentation) => boolean;
  maxDepth?: number;
}

/** Walks the tree through `children` and `item` (the model's or the real TreeDataProvider's). */
export async function snapshotTree(
  children: (node?: TreeNode) => Promise<TreeNode[]>,
  item: (node: TreeNode) => ItemPresentation | Promise<ItemPresentation>,
  opts: SnapshotOptions = {},
): Promise<TreeSnapshotNode[]> {
  const maxDepth = opts.maxDepth ?? 8;
  const walk = async (node: TreeNode | undefined, depth: number): Promise<TreeSnapshotNode[]> => {
    const kids = await children(node);
    return Promise.all(
      kids.map(async (k) => {
        const it = await item(k);
        const snap: TreeSnapshotNode = {
          id: it.id,
          kind: k.kind,
          label: it.label,
          contextValue: it.contextValue,
          ...(it.description !== undefined ? { description: it.description } : {}),
          ...(it.tooltip !== undefined ? { tooltip: it.tooltip } : {}),
          ...(it.icon ? { icon: it.icon.id } : {}),
          ...(it.icon?.color ? { iconColor: it.icon.color } : {}),
        };
        if (it.collapsible !== 'none' && depth < maxDepth && (opts.expand?.(k, it) ?? true)) snap.children = await walk(k, depth + 1);
        return snap;
      }),
    );
  };
  return walk(undefined, 0);
}
