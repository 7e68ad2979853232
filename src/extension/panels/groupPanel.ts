// The consumer group panel: state, members, lag per partition (live), a lag chart, a timeline of rebalances and
// of leader changes on the group's partitions, and "consume as a new member" (see groupMonitor.ts).

import * as vscode from 'vscode';
import { registerProjectCodecs } from '../../cli/codecs';
import {
  GROUP_PANEL,
  GroupSyncRequest,
  GroupSyncResult,
  GroupTimelineNotification,
  GroupUpdateNotification,
  JoinGroupRequest,
  LeaveGroupRequest,
  RefreshGroupRequest,
} from '../../shared/groupProtocol';
import type { ClusterHandle } from '../contract';
import { toDisposable } from './disposable';
import { GroupMonitor } from './groupMonitor';
import { WebviewPanelHost } from './webviewPanel';

export interface GroupOpenOptions {
  column?: vscode.ViewColumn;
  preserveFocus?: boolean;
  pollIntervalMs?: number;
}

export interface GroupPanelDeps {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
}

export class GroupPanel extends WebviewPanelHost {
  readonly monitor: GroupMonitor;
  private synced = false;

  private constructor(
    readonly cluster: ClusterHandle,
    readonly groupId: string,
    monitor: (panel: GroupPanel) => GroupMonitor,
    deps: GroupPanelDeps,
    options: GroupOpenOptions,
  ) {
    super({
      viewType: 'minikafka.group',
      bundle: GROUP_PANEL,
      title: `Group: ${groupId}`,
      extensionUri: deps.extensionUri,
      log: deps.log,
      column: options.column,
      preserveFocus: options.preserveFocus,
    });
    this.monitor = monitor(this);
    // Closing the panel stops polling and closes the panel's own group members.
    this._register(toDisposable(() => this.monitor.dispose()));
    this._register(cluster.onClusterEvent((ev) => this.monitor.clusterEvent(ev)));
    this.ipc.onRequest(GroupSyncRequest, () => this.sync());
    this.ipc.onRequest(JoinGroupRequest, ({ topic, from }) => this.monitor.join(topic, from));
    this.ipc.onRequest(LeaveGroupRequest, ({ id }) => this.monitor.leave(id));
    this.ipc.onRequest(RefreshGroupRequest, () => this.monitor.refresh());
    this.monitor.start();
  }

  static async open(cluster: ClusterHandle, groupId: string, deps: GroupPanelDeps, options: GroupOpenOptions = {}): Promise<GroupPanel> {
    registerProjectCodecs();
    const connection = await cluster.connection();
    return new GroupPanel(
      cluster,
      groupId,
      (panel) =>
        new GroupMonitor({
          connection,
          groupId,
          pollIntervalMs: options.pollIntervalMs,
          onUpdate: (u) => {
            if (panel.synced && panel.isPageReady) panel.notify(GroupUpdateNotification, u);
          },
          onTimeline: (entries) => {
            if (panel.synced && panel.isPageReady) panel.notify(GroupTimelineNotification, entries);
          },
          warn: (m) => deps.log.warn(`[panels:group] ${m}`),
        }),
      deps,
      options,
    );
  }

  protected override onPageReady(): void {
    this.synced = false;
  }

  protected override onPageGone(): void {
    this.synced = false;
  }

  private async sync(): Promise<GroupSyncResult> {
    const own = this.monitor.groupTopics();
    const all = await this.monitor.listTopics().catch(() => [] as string[]);
    this.synced = true;
    return {
      clusterLabel: this.cluster.label,
      groupId: this.groupId,
      topics: [...own, ...all.filter((t) => !own.includes(t))],
      snapshot: this.monitor.snapshot,
      history: [...this.monitor.history],
      timeline: [...this.monitor.timeline],
      ownMembers: this.monitor.ownMembers(),
    };
  }
}
