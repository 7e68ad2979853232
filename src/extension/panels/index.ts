// The panels' entry point: registerPanels() registers the three panel commands and owns every open panel.
//
//   minikafka.openProducer (TopicRef | PartitionRef | none, ProducerOpenOptions?)  -> ProducerPanel
//   minikafka.tailTopic    (TopicRef | PartitionRef | none, TailOpenOptions?)      -> TailPanel
//   minikafka.tailGroup    (GroupRef | none, GroupOpenOptions?)                    -> GroupPanel
//
// Each command returns the panel object (tests reach `panel.test` through it), or undefined when the user
// cancels a prompt. One panel per cluster and topic (or group): opening it again reveals it.

import * as vscode from 'vscode';
import { describeConnectionError } from '../../client/connection';
import type { PanelHost } from '../contract';
import { Disposable, toDisposable } from './disposable';
import { GroupOpenOptions, GroupPanel } from './groupPanel';
import { resolveGroup, resolveTopic } from './prompts';
import { ProducerOpenOptions, ProducerPanel } from './producerPanel';
import { TailOpenOptions, TailPanel } from './tailPanel';
import type { WebviewPanelHost } from './webviewPanel';

export const PanelCommands = {
  openProducer: 'minikafka.openProducer',
  tailTopic: 'minikafka.tailTopic',
  tailGroup: 'minikafka.tailGroup',
} as const;

export { GroupPanel, ProducerPanel, TailPanel };
export type { GroupOpenOptions, ProducerOpenOptions, TailOpenOptions };

class PanelRegistry extends Disposable {
  private readonly producers = new Map<string, ProducerPanel>();
  private readonly tails = new Map<string, TailPanel>();
  private readonly groups = new Map<string, GroupPanel>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly host: PanelHost,
  ) {
    super();
    this._register(vscode.commands.registerCommand(PanelCommands.openProducer, (arg?: unknown, options?: ProducerOpenOptions) => this.guard('open the producer', () => this.openProducer(arg, options))));
    this._register(vscode.commands.registerCommand(PanelCommands.tailTopic, (arg?: unknown, options?: TailOpenOptions) => this.guard('tail the topic', () => this.tailTopic(arg, options))));
    this._register(vscode.commands.registerCommand(PanelCommands.tailGroup, (arg?: unknown, options?: GroupOpenOptions) => this.guard('watch the group', () => this.tailGroup(arg, options))));
    // Closing the extension closes every panel (and with them their consumers and producers).
    this._register(toDisposable(() => [...this.producers.values(), ...this.tails.values(), ...this.groups.values()].forEach((p) => p.dispose())));
  }

  private async openProducer(arg: unknown, options: ProducerOpenOptions = {}): Promise<ProducerPanel | undefined> {
    const resolved = await resolveTopic(this.host, arg);
    if (!resolved) return undefined;
    const { cluster, target } = resolved;
    const key = `${cluster.id}\u0000${target.topic}`;
    const existing = this.producers.get(key);
    const partition = options.partition ?? target.partition;
    if (existing) {
      existing.setInitialPartition(partition);
      existing.reveal();
      return existing;
    }
    const panel = new ProducerPanel(
      cluster,
      target.topic,
      {
        extensionUri: this.context.extensionUri,
        log: this.host.log,
        memento: this.context.globalState,
        openTail: ({ partitions, offset, timestamp }) => {
          const tailOptions: TailOpenOptions = {
            partitions,
            start: offset !== undefined ? { kind: 'offset', offset } : timestamp !== undefined ? { kind: 'timestamp', timestamp } : { kind: 'earliest' },
            column: vscode.ViewColumn.Beside,
          };
          void vscode.commands.executeCommand(PanelCommands.tailTopic, { clusterId: cluster.id, topic: target.topic }, tailOptions);
        },
      },
      { ...options, ...(partition !== undefined ? { partition } : {}) },
    );
    return this.track(this.producers, key, panel);
  }

  private async tailTopic(arg: unknown, options: TailOpenOptions = {}): Promise<TailPanel | undefined> {
    const resolved = await resolveTopic(this.host, arg);
    if (!resolved) return undefined;
    const { cluster, target } = resolved;
    const opts: TailOpenOptions = { ...options };
    // From a partition's menu: that partition only, unless the options say otherwise.
    if (target.partition !== undefined && opts.partitions === undefined) opts.partitions = [target.partition];
    const key = `${cluster.id}\u0000${target.topic}`;
    const existing = this.tails.get(key);
    if (existing) {
      existing.reveal();
      await existing.reopen(opts);
      return existing;
    }
    const panel = await TailPanel.open(cluster, target.topic, { extensionUri: this.context.extensionUri, log: this.host.log }, opts);
    return this.track(this.tails, key, panel);
  }

  private async tailGroup(arg: unknown, options: GroupOpenOptions = {}): Promise<GroupPanel | undefined> {
    const resolved = await resolveGroup(this.host, arg);
    if (!resolved) return undefined;
    const { cluster, target } = resolved;
    const key = `${cluster.id}\u0000${target.groupId}`;
    const existing = this.groups.get(key);
    if (existing) {
      existing.reveal();
      return existing;
    }
    const panel = await GroupPanel.open(cluster, target.groupId, { extensionUri: this.context.extensionUri, log: this.host.log }, options);
    return this.track(this.groups, key, panel);
  }

  private track<T extends WebviewPanelHost>(map: Map<string, T>, key: string, panel: T): T {
    map.set(key, panel);
    panel.onDidDispose(() => {
      if (map.get(key) === panel) map.delete(key);
    });
    return panel;
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      const text = describeConnectionError(err);
      this.host.log.error(`[panels] could not ${what}: ${text}`);
      void vscode.window.showErrorMessage(`Could not ${what}: ${text}`);
      return undefined;
    }
  }
}

/** Registers the panel commands; dispose the result (it goes into context.subscriptions) to close every panel. */
export function registerPanels(context: vscode.ExtensionContext, host: PanelHost): vscode.Disposable {
  const registry = new PanelRegistry(context, host);
  return new vscode.Disposable(() => registry.dispose());
}
