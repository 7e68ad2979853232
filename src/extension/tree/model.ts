// The explorer as a vscode-free model: roots, children and presentation of every node, by dispatch on the node's
// kind. provider.ts adapts it to vscode.TreeDataProvider; the unit tests and bench/extension-tree.ts call it
// directly.

import type { TreeContext } from './context';
import type { ClusterState } from '../../broker/cluster/supervisor';
import { topicsOfState } from '../model/sources';
import { stateChanges } from './changes';
import type { ClusterNode, FolderNode, ItemPresentation, TopicNode, TreeCluster, TreeNode, TreeOptions } from './node';
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
import { nodeId as nodeIdOf } from './node';

/**
 * Beyond this many changed topics (a broker down: every topic with a replica on it), one redraw of the Topics
 * folder is cheaper than as many topic refreshes, each a message to the workbench.
 */
export const TOPIC_REDRAWS_PER_FOLDER = 50;

export class ClusterTreeModel implements TreeContext {
  /** Cluster nodes are kept across refreshes: VS Code matches a scoped refresh by object identity. */
  private readonly clusterNodes = new Map<string, ClusterNode>();
  /** Folder and topic nodes handed out, by id: kept across refreshes for the same reason, updated in place. */
  private readonly folderNodes = new Map<string, FolderNode>();
  private readonly topicNodes = new Map<string, TopicNode>();
  /** Per cluster: what Filter Topics… narrowed the Topics folder to. */
  private readonly topicFilters = new Map<string, string>();
  /** Per cluster: the control state and status the rows on screen were drawn from. */
  private readonly drawn = new Map<string, { status: string; state: ClusterState | undefined }>();

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
        return (await clusterChildren(node, this)).map((n) => this.keep(n));
      case 'folder': {
        const kids = await folderChildren(node, this);
        if (node.folder === 'topics') this.forgetTopicsOf(node.clusterId, kids);
        return kids.map((n) => this.keep(n));
      }
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

  topicFilter(clusterId: string): string | undefined {
    return this.topicFilters.get(clusterId);
  }

  /** Sets (or, with '', clears) a cluster's topic filter; returns its Topics folder node to redraw, if shown. */
  setTopicFilter(clusterId: string, text: string): FolderNode | undefined {
    const t = text.trim();
    if (t) this.topicFilters.set(clusterId, t);
    else this.topicFilters.delete(clusterId);
    return this.folderNodes.get(`${nodeIdOf(clusterId)}/topics`);
  }

  /** The node handed out before under the same id (updated to this one's data), or this one, remembered. */
  private keep(n: TreeNode): TreeNode {
    if (n.kind === 'folder') {
      const old = this.folderNodes.get(n.id);
      if (old && old.cluster === n.cluster) return old;
      this.folderNodes.set(n.id, n);
    } else if (n.kind === 'topic') {
      const old = this.topicNodes.get(n.id);
      if (old && old.cluster === n.cluster && old.internal === n.internal) {
        old.partitions = n.partitions;
        return old;
      }
      this.topicNodes.set(n.id, n);
    }
    return n;
  }

  private forgetTopicsOf(clusterId: string, listed: TreeNode[]): void {
    const ids = new Set(listed.map((n) => n.id));
    for (const [id, n] of this.topicNodes) if (n.clusterId === clusterId && !ids.has(id)) this.topicNodes.delete(id);
  }

  /**
   * What to redraw for a cluster whose control state changed since the rows on screen were drawn: 'all' (its
   * status changed, or it has no control state: a saved connection) or the folder and topic nodes whose rows
   * changed (empty: nothing visible changed). Only nodes handed out to the view are returned: a collapsed
   * folder's rows are read when it is expanded. Remembers the state as drawn.
   */
  changedNodes(clusterId: string): TreeNode[] | 'all' {
    const c = this.clusters().find((x) => x.id === clusterId);
    const status = c?.status() ?? 'gone';
    const state = c?.controlState?.();
    const prev = this.drawn.get(clusterId);
    this.drawn.set(clusterId, { status, state });
    if (!c || !prev || !prev.state || !state || prev.status !== status || prev.state.supervisor?.pid !== state.supervisor?.pid) return 'all';
    const ch = stateChanges(prev.state, state, this.options().showInternalTopics);
    const out: TreeNode[] = [];
    const folder = (f: string) => this.folderNodes.get(`${nodeIdOf(clusterId)}/${f}`);
    if (ch.brokers) out.push(...[folder('brokers')].filter((n): n is FolderNode => !!n));
    const topicsFolder = folder('topics');
    if (topicsFolder && (ch.topicList || ch.topics.size > TOPIC_REDRAWS_PER_FOLDER)) {
      out.push(topicsFolder); // its rows are all drawn again (from the control state), the changed topics among them
    } else if (ch.topics.size > 0) {
      const changed = state.topics.filter((t) => ch.topics.has(t.name));
      for (const t of topicsOfState({ ...state, topics: changed })) {
        const n = this.topicNodes.get(`${nodeIdOf(clusterId)}/topics/${encodeURIComponent(t.name)}`);
        if (!n) continue; // never shown
        n.partitions = t.partitions;
        out.push(n);
      }
    }
    return out;
  }

  /**
   * A full refresh of the cluster draws everything from the current state. Not recorded on a read of the cluster's
   * children: a read outside a refresh (the test API's snapshots) does not redraw what the view shows.
   */
  drewAll(clusterId: string): void {
    const c = this.clusters().find((x) => x.id === clusterId);
    this.drawn.set(clusterId, { status: c?.status() ?? 'gone', state: c?.controlState?.() });
  }

  item(node: TreeNode): ItemPresentation {
    switch (node.kind) {
      case 'cluster':
        return clusterItem(node);
      case 'folder':
        return folderItem(node, this);
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

export interface RedrawCount {
  /** getChildren calls. */
  children: number;
  /** getTreeItem calls (rows drawn). */
  items: number;
}

/**
 * What VS Code does with onDidChangeTreeData(nodes): draws each node again and, where it is expanded, reads its
 * children again, down through every expanded descendant (`undefined`: the roots). For the unit tests and the
 * benchmark, which count the work an event causes.
 */
export async function redraw(model: ClusterTreeModel, nodes: readonly TreeNode[] | undefined, expanded: (n: TreeNode) => boolean): Promise<RedrawCount> {
  const count: RedrawCount = { children: 0, items: 0 };
  const walk = async (n: TreeNode | undefined): Promise<void> => {
    if (n) {
      count.items++;
      if (model.item(n).collapsible === 'none' || !expanded(n)) return;
    }
    count.children++;
    const kids = await model.children(n);
    await Promise.all(kids.map((k) => walk(k)));
  };
  // As the provider does when it fires a refresh of a whole cluster (or of the roots).
  for (const c of nodes === undefined ? model.roots() : nodes.filter((n) => n.kind === 'cluster')) model.drewAll(c.clusterId);
  if (nodes === undefined) await walk(undefined);
  else await Promise.all(nodes.map((n) => walk(n)));
  return count;
}
