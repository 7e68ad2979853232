// "$(server) MiniKafka 3/3" while the embedded cluster runs: brokers up / total, plus offline partitions (with a
// warning background) when there are any. Click focuses the explorer.

import * as vscode from 'vscode';
import { getConfig } from './config';
import { CLUSTERS_VIEW_ID } from './constants';
import { Disposable } from './lifecycle';
import type { EmbeddedHandle } from './clusters/embeddedHandle';
import { summarizeState } from './model/health';

export interface StatusBarText {
  text: string;
  tooltip: string;
  warning: boolean;
}

export class EmbeddedStatusBar extends Disposable {
  private readonly item: vscode.StatusBarItem;
  /** What the item shows now, for the test API (undefined when hidden). */
  current: StatusBarText | undefined;

  constructor(private readonly embedded: EmbeddedHandle) {
    super();
    this.item = this._register(vscode.window.createStatusBarItem('minikafka.embedded', vscode.StatusBarAlignment.Left, 50));
    this.item.name = 'MiniKafka mini-cluster';
    this.item.command = `${CLUSTERS_VIEW_ID}.focus`;
    this._register(embedded.onDidChangeStatus(() => this.update()));
    this._register(embedded.onDidChangeState(() => this.update()));
    this.update();
  }

  update(): void {
    const c = this.embedded.cluster;
    if (c.status !== 'running' || !c.state) {
      this.current = undefined;
      this.item.hide();
      return;
    }
    // Partitions of internal topics count here: an offline __consumer_offsets partition breaks consumer groups.
    const s = summarizeState(c.state, true);
    const userTopics = summarizeState(c.state, getConfig('tree.showInternalTopics')).topics;
    let text = `$(server) MiniKafka ${s.brokersUp}/${s.brokersTotal}`;
    if (s.offlinePartitions > 0) text += ` $(error) ${s.offlinePartitions} offline`;
    const tooltip = [
      `MiniKafka mini-cluster: ${s.brokersUp} of ${s.brokersTotal} brokers up`,
      `bootstrap ${c.state.bootstrap}`,
      `${userTopics} topic${userTopics === 1 ? '' : 's'}`,
      s.offlinePartitions > 0 ? `${s.offlinePartitions} partitions offline (no leader)` : '',
      s.underReplicatedPartitions > 0 ? `${s.underReplicatedPartitions} partitions under-replicated` : '',
      'Click to show the cluster explorer',
    ]
      .filter(Boolean)
      .join('\n');
    const warning = s.offlinePartitions > 0;
    this.current = { text, tooltip, warning };
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = warning ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }
}
