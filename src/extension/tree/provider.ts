// The explorer's vscode.TreeDataProvider: a thin adapter over the vscode-free ClusterTreeModel. Refreshes are
// scoped: a burst of the embedded cluster's state changes (SSE, debounced) redraws only the folders and topics
// whose rows changed (the model compares control states); saved connections are polled while the view is
// visible; commands refresh their cluster; the list of clusters refreshes the roots.

import * as vscode from 'vscode';
import { getConfig, onDidChangeConfig } from '../config';
import { Disposable, toDisposable } from '../lifecycle';
import type { ClusterRegistry } from '../clusters/registry';
import { ClusterTreeModel } from './model';
import type { ItemPresentation, TreeNode } from './node';

/** The embedded cluster's events come in bursts (a kill: fenced, leader changes, ISR shrinks): one refresh per burst. */
export const EVENT_DEBOUNCE_MS = 200;

/**
 * A refresh waits until the workbench has fetched what the previous one changed. VS Code's extension host forgets
 * a refreshed node's descendants at once, so a fetch of an expanded folder that the workbench asked for just before
 * finds no element, gets no children ("No tree item with id '…/topics' found" in its log), and the workbench, which
 * merges a refresh of a node into one in progress, then leaves the folder expanded and empty until the next
 * refresh (seen in e2e runs). Fetches are settled when none is running and none ended in the last SETTLE_MS (the
 * workbench asks for the children of expanded nodes right after their parent's); a refresh that nothing fetched
 * within FIRST_FETCH_MS (a hidden view) does not hold the next one up; none waits longer than MAX_REFRESH_DELAY_MS.
 */
const SETTLE_MS = 150;
const FIRST_FETCH_MS = 300;
const MAX_REFRESH_DELAY_MS = 3000;

interface FetchActivity {
  running: number;
  lastStart: number;
  lastEnd: number;
  lastRefresh: number;
}

export function toTreeItem(p: ItemPresentation): vscode.TreeItem {
  const collapsible =
    p.collapsible === 'none' ? vscode.TreeItemCollapsibleState.None : p.collapsible === 'expanded' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
  const item = new vscode.TreeItem(p.label, collapsible);
  item.id = p.id;
  item.description = p.description;
  item.tooltip = p.tooltip;
  item.contextValue = p.contextValue;
  if (p.icon) item.iconPath = new vscode.ThemeIcon(p.icon.id, p.icon.color ? new vscode.ThemeColor(p.icon.color) : undefined);
  if (p.command) item.command = p.command;
  return item;
}

export class ClusterTreeProvider extends Disposable implements vscode.TreeDataProvider<TreeNode> {
  readonly model: ClusterTreeModel;
  private readonly _onDidChangeTreeData = this._register(new vscode.EventEmitter<TreeNode | TreeNode[] | undefined>());
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  private readonly pending = new Map<string, NodeJS.Timeout>();
  /** Per cluster id ('' = the roots): the workbench's fetches, for refreshes that must not overlap them. */
  private readonly activity = new Map<string, FetchActivity>();
  private readonly deferred = new Map<string, NodeJS.Timeout>();
  /** Per key: what the deferred refresh will redraw (the whole cluster, or these nodes of it). */
  private readonly queued = new Map<string, 'all' | Set<TreeNode>>();
  private pollTimer: NodeJS.Timeout | undefined;
  private viewVisible = true;
  /** Counts refreshes per cluster id ('' = roots), scoped ones included; the test API reads it. */
  readonly refreshCount = new Map<string, number>();
  /** Per cluster id: the ids of the nodes its last refresh redrew; the test API reads it. */
  readonly lastRefreshed = new Map<string, string[]>();

  constructor(private readonly registry: ClusterRegistry) {
    super();
    this.model = new ClusterTreeModel(
      () => registry.list(),
      () => ({ showInternalTopics: getConfig('tree.showInternalTopics') }),
    );
    this._register(registry.onDidChangeClusters(() => this.refresh()));
    this._register(registry.embedded.onDidChangeState(() => this.refreshSoon(registry.embedded.id)));
    this._register(onDidChangeConfig(['tree.showInternalTopics'], () => this.refresh()));
    this._register(onDidChangeConfig(['refresh.pollIntervalSeconds'], () => this.schedulePolling()));
    this._register(toDisposable(() => this.pending.forEach((t) => clearTimeout(t))));
    this._register(toDisposable(() => this.deferred.forEach((t) => clearTimeout(t))));
    this._register(toDisposable(() => clearInterval(this.pollTimer)));
    this.schedulePolling();
  }

  /** Polling of saved connections runs only while the view is visible. */
  setVisible(visible: boolean): void {
    this.viewVisible = visible;
  }

  private schedulePolling(): void {
    clearInterval(this.pollTimer);
    const seconds = getConfig('refresh.pollIntervalSeconds');
    if (!seconds || seconds <= 0) return;
    this.pollTimer = setInterval(() => {
      if (!this.viewVisible) return;
      for (const h of this.registry.list()) if (h.kind === 'external') this.refresh(h.id);
    }, seconds * 1000);
  }

  /** Refreshes one cluster's subtree, or everything when no id is given, once the previous fetches settled. */
  refresh(clusterId?: string): void {
    const key = clusterId !== undefined && this.model.clusterNode(clusterId) ? clusterId : '';
    this.queue(key, 'all');
  }

  refreshPending(clusterId: string): boolean {
    return this.pending.has(clusterId) || this.queued.has(clusterId);
  }

  /** Redraws these nodes of a cluster (merged into a refresh already waiting). */
  refreshNodes(clusterId: string, nodes: TreeNode[]): void {
    if (nodes.length > 0) this.queue(clusterId, nodes);
  }

  private queue(key: string, what: 'all' | TreeNode[]): void {
    const waiting = this.queued.get(key);
    if (what === 'all' || waiting === 'all') this.queued.set(key, 'all');
    else this.queued.set(key, new Set([...(waiting ?? []), ...what]));
    if (this.deferred.has(key)) return;
    const since = Date.now();
    const attempt = () => {
      if (this.fetching(key) && Date.now() - since < MAX_REFRESH_DELAY_MS) {
        this.deferred.set(key, setTimeout(attempt, 50));
        return;
      }
      this.deferred.delete(key);
      const queued = this.queued.get(key) ?? 'all';
      this.queued.delete(key);
      this.fire(key, queued);
    };
    attempt();
  }

  private fire(key: string, what: 'all' | Set<TreeNode>): void {
    this.activityOf(key).lastRefresh = Date.now();
    this.refreshCount.set(key, (this.refreshCount.get(key) ?? 0) + 1);
    if (what === 'all') {
      const node = key === '' ? undefined : this.model.clusterNode(key);
      for (const c of node ? [node] : this.model.roots()) this.model.drewAll(c.clusterId);
      this.lastRefreshed.set(key, node ? [node.id] : []);
      this._onDidChangeTreeData.fire(node);
      return;
    }
    this.lastRefreshed.set(key, [...what].map((n) => n.id));
    this._onDidChangeTreeData.fire([...what]);
  }

  private activityOf(key: string): FetchActivity {
    let a = this.activity.get(key);
    if (!a) {
      a = { running: 0, lastStart: 0, lastEnd: 0, lastRefresh: 0 };
      this.activity.set(key, a);
    }
    return a;
  }

  /** Whether the workbench may still be fetching nodes of this cluster (or, for '', of any) after a refresh. */
  private fetching(key: string): boolean {
    const keys = key === '' ? [...this.activity.keys()] : [key, ''];
    const now = Date.now();
    return keys.some((k) => {
      const a = this.activity.get(k);
      if (!a) return false;
      const awaitingFirstFetch = a.lastStart < a.lastRefresh && now - a.lastRefresh < FIRST_FETCH_MS;
      return a.running > 0 || now - a.lastEnd < SETTLE_MS || awaitingFirstFetch;
    });
  }

  /** A burst of state changes becomes one comparison of the state drawn with the state now, after the burst. */
  private refreshSoon(clusterId: string): void {
    if (this.pending.has(clusterId)) return;
    this.pending.set(
      clusterId,
      setTimeout(() => {
        this.pending.delete(clusterId);
        if (!this.model.clusterNode(clusterId)) return this.refresh();
        const changed = this.model.changedNodes(clusterId);
        if (changed === 'all') this.refresh(clusterId);
        else this.refreshNodes(clusterId, changed);
      }, EVENT_DEBOUNCE_MS),
    );
  }

  getChildren(element?: TreeNode): Promise<TreeNode[]> {
    const a = this.activityOf(element?.clusterId ?? '');
    a.running++;
    a.lastStart = Date.now();
    return this.model.children(element).finally(() => {
      a.running--;
      a.lastEnd = Date.now();
    });
  }

  getTreeItem(element: TreeNode): vscode.TreeItem {
    return toTreeItem(this.model.item(element));
  }
}
