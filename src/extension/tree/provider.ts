// The explorer's vscode.TreeDataProvider: a thin adapter over the vscode-free ClusterTreeModel. Refreshes are
// scoped: the embedded cluster's state changes (SSE, debounced) refresh its node; saved connections are polled
// while the view is visible; the list of clusters refreshes the roots.

import * as vscode from 'vscode';
import { getConfig, onDidChangeConfig } from '../config';
import { Disposable, toDisposable } from '../lifecycle';
import type { ClusterRegistry } from '../clusters/registry';
import { ClusterTreeModel } from './model';
import type { ItemPresentation, TreeNode } from './node';

/** The embedded cluster's events come in bursts (a kill: fenced, leader changes, ISR shrinks): one refresh per burst. */
export const EVENT_DEBOUNCE_MS = 200;

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
  private readonly _onDidChangeTreeData = this._register(new vscode.EventEmitter<TreeNode | undefined>());
  readonly onDidChangeTreeData = this._onDidChangeTreeData.event;
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private pollTimer: NodeJS.Timeout | undefined;
  private viewVisible = true;
  /** Counts refreshes per cluster id ('' = roots); the test API reads it. */
  readonly refreshCount = new Map<string, number>();

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

  /** Refreshes one cluster's subtree, or everything when no id is given. */
  refresh(clusterId?: string): void {
    const node = clusterId === undefined ? undefined : this.model.clusterNode(clusterId);
    const key = node ? clusterId! : '';
    this.refreshCount.set(key, (this.refreshCount.get(key) ?? 0) + 1);
    this._onDidChangeTreeData.fire(node);
  }

  private refreshSoon(clusterId: string): void {
    if (this.pending.has(clusterId)) return;
    this.pending.set(
      clusterId,
      setTimeout(() => {
        this.pending.delete(clusterId);
        this.refresh(clusterId);
      }, EVENT_DEBOUNCE_MS),
    );
  }

  getChildren(element?: TreeNode): Promise<TreeNode[]> {
    return this.model.children(element);
  }

  getTreeItem(element: TreeNode): vscode.TreeItem {
    return toTreeItem(this.model.item(element));
  }
}
