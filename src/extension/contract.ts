// The contract between the extension's core (clusters, tree, commands) and its webview panels.
// The core implements PanelHost and passes it to registerPanels() (src/extension/panels/index.ts); the panels
// never reach into the tree or the cluster registry directly. Tree items hand these *Ref shapes to commands,
// and tests pass the same shapes to vscode.commands.executeCommand, so a command never needs a UI prompt when
// its argument says what to act on.

import type * as vscode from 'vscode';
import type { KafkaConnectionOptions } from '../client/connection';
import type { ClusterEvent } from '../broker/cluster/supervisor';

export interface ClusterRef {
  clusterId: string;
}
export interface BrokerRef extends ClusterRef {
  brokerId: number;
}
export interface TopicRef extends ClusterRef {
  topic: string;
}
export interface PartitionRef extends TopicRef {
  partition: number;
}
export interface GroupRef extends ClusterRef {
  groupId: string;
}

/** A cluster the extension knows: the embedded mini-cluster or a saved connection. */
export interface ClusterHandle {
  readonly id: string;
  readonly label: string;
  readonly kind: 'embedded' | 'external';
  /** Connection options with secrets resolved (from SecretStorage); throws with a user-facing message if unavailable. */
  connection(): Promise<KafkaConnectionOptions>;
  /**
   * Cluster events (leader changes, ISR changes, brokers up/down) as the embedded cluster's supervisor reports
   * them. External clusters have no event stream: the event never fires for them.
   */
  readonly onClusterEvent: vscode.Event<ClusterEvent>;
}

export interface PanelHost {
  /** The cluster a command argument names, or (no argument) one the user picks; undefined when cancelled. */
  resolveCluster(ref?: Partial<ClusterRef>): Promise<ClusterHandle | undefined>;
  readonly log: vscode.LogOutputChannel;
}
