// The extension's entry point: one root Disposable that owns the log channel, the cluster registry, the
// explorer, the status bar and the commands, registered in context.subscriptions. A mini-cluster already running
// in the data dir (started before a window reload) is attached to in the background.

import * as vscode from 'vscode';
import { ClusterRegistry } from './clusters/registry';
import { registerAclCommands } from './commands/acls';
import { registerBrokerCommands } from './commands/brokers';
import { registerClusterCommands } from './commands/cluster';
import type { CommandContext } from './commands/common';
import { registerConnectionCommands } from './commands/connections';
import { registerGroupCommands } from './commands/groups';
import { registerTopicCommands } from './commands/topics';
import { CLUSTERS_VIEW_ID, ContextKeys, OUTPUT_CHANNEL_NAME } from './constants';
import { Disposable } from './lifecycle';
import { componentLogger } from './logger';
import { EmbeddedStatusBar } from './statusBar';
import { registerPanels } from './panels';
import { createTestApi, MiniKafkaTestApi } from './testApi';
import { ClusterTreeProvider } from './tree/provider';

const moduleLoadedAt = performance.now();

class MiniKafkaExtension extends Disposable {
  readonly channel: vscode.LogOutputChannel;
  readonly registry: ClusterRegistry;
  readonly provider: ClusterTreeProvider;
  readonly statusBar: EmbeddedStatusBar;

  constructor(context: vscode.ExtensionContext) {
    super();
    this.channel = this._register(vscode.window.createOutputChannel(OUTPUT_CHANNEL_NAME, { log: true }));
    this.registry = this._register(new ClusterRegistry(context, this.channel));
    this.provider = this._register(new ClusterTreeProvider(this.registry));
    const view = this._register(vscode.window.createTreeView(CLUSTERS_VIEW_ID, { treeDataProvider: this.provider, showCollapseAll: true }));
    this.provider.setVisible(view.visible);
    this._register(view.onDidChangeVisibility((e) => this.provider.setVisible(e.visible)));
    this.statusBar = this._register(new EmbeddedStatusBar(this.registry.embedded));

    const setRunning = () => void vscode.commands.executeCommand('setContext', ContextKeys.embeddedRunning, this.registry.embedded.cluster.status === 'running');
    setRunning();
    this._register(this.registry.embedded.onDidChangeStatus(setRunning));

    const ctx: CommandContext = { registry: this.registry, provider: this.provider, log: this.channel, extensionContext: context };
    for (const d of [
      ...registerClusterCommands(ctx),
      ...registerConnectionCommands(ctx),
      ...registerTopicCommands(ctx),
      ...registerBrokerCommands(ctx),
      ...registerGroupCommands(ctx),
      ...registerAclCommands(ctx),
    ]) {
      this._register(d);
    }
    // The webview panels (producer, topic tail, group monitor) reach clusters only through the PanelHost.
    this._register(registerPanels(context, this.registry));
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<MiniKafkaTestApi> {
  const started = performance.now();
  const ext = new MiniKafkaExtension(context);
  context.subscriptions.push(ext);
  const log = componentLogger(ext.channel, 'activate');
  // Re-attach to a cluster left running by a previous window; never blocks activation.
  void ext.registry.embedded.cluster.attach().then(
    (found) => found && log.info('re-attached to the running mini-cluster'),
    (err) => log.warn(`could not check for a running mini-cluster: ${(err as Error).message}`),
  );
  const activateMs = performance.now() - started;
  log.info(`activated in ${activateMs.toFixed(1)} ms`);
  return createTestApi(ext.registry, ext.provider, ext.statusBar, { activateMs, moduleLoadMs: started - moduleLoadedAt });
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions; the mini-cluster keeps running for the next window.
}
