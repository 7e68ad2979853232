// The embedded mini-cluster as a ClusterHandle (for panels and commands) and a TreeCluster (for the explorer).
// Wraps the vscode-free EmbeddedCluster: turns its events into vscode events, debounces tree refreshes.

import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ClusterEvent, ClusterState } from '../../broker/cluster/supervisor';
import type { ClientLogger, KafkaConnectionOptions } from '../../client/connection';
import { getConfig } from '../config';
import { EMBEDDED_CLUSTER_ID, EMBEDDED_DIR_ENV } from '../constants';
import type { ClusterHandle } from '../contract';
import { Disposable, toDisposable } from '../lifecycle';
import { componentLogger, kafkajsLogger } from '../logger';
import { AdminSession } from '../model/adminSession';
import { EmbeddedCluster, EmbeddedSettings } from '../model/embedded';
import { UserError } from '../model/errors';
import { summarizeState } from '../model/health';
import { EmbeddedSource } from '../model/sources';
import type { ClusterSource, EmbeddedStatus } from '../model/types';
import type { ClusterSummary, TreeCluster } from '../tree/node';

/** Extra `minikafka start` flags from the environment (tests: a short session timeout). */
export const EMBEDDED_ARGS_ENV = 'MINIKAFKA_EMBEDDED_ARGS';

export function embeddedSettings(context: vscode.ExtensionContext): EmbeddedSettings {
  const configured = getConfig('embedded.dataDir').trim();
  const dir = process.env[EMBEDDED_DIR_ENV]?.trim() || configured || join(context.globalStorageUri.fsPath, 'embedded');
  const extra = (process.env[EMBEDDED_ARGS_ENV] ?? '').split(/\s+/).filter(Boolean);
  return { dir, brokers: getConfig('embedded.brokers'), basePort: getConfig('embedded.basePort'), extraArgs: extra };
}

export class EmbeddedHandle extends Disposable implements ClusterHandle, TreeCluster {
  readonly id = EMBEDDED_CLUSTER_ID;
  readonly kind = 'embedded' as const;
  readonly label = 'Mini-cluster';
  readonly cluster: EmbeddedCluster;
  private readonly session: AdminSession;
  private readonly _source: EmbeddedSource;
  private readonly clientLogger: ClientLogger;

  private readonly _onClusterEvent = this._register(new vscode.EventEmitter<ClusterEvent>());
  readonly onClusterEvent = this._onClusterEvent.event;
  /** Lifecycle changes (start/stop): the explorer's roots and the status bar change. */
  private readonly _onDidChangeStatus = this._register(new vscode.EventEmitter<EmbeddedStatus>());
  readonly onDidChangeStatus = this._onDidChangeStatus.event;
  /** New control state (leaders, ISRs, brokers): the cluster's subtree changes. Debounced by the registry. */
  private readonly _onDidChangeState = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeState = this._onDidChangeState.event;

  /** Shown in the explorer once it ran (or failed) in this window, or when found running. */
  private seen = false;

  constructor(context: vscode.ExtensionContext, channel: vscode.LogOutputChannel) {
    super();
    this.cluster = new EmbeddedCluster(() => embeddedSettings(context), {
      cliPath: join(context.extensionPath, 'dist', 'cli.js'),
      execPath: process.execPath,
      logger: componentLogger(channel, 'embedded'),
    });
    this._register(toDisposable(() => this.cluster.dispose()));
    this.session = new AdminSession(() => this.connection());
    this._register(toDisposable(() => this.session.dispose()));
    this._source = new EmbeddedSource(this.session, () => this.cluster.state);
    this._register(toDisposable(() => this._source.dispose()));
    this.clientLogger = kafkajsLogger(channel, 'embedded kafkajs');
    this.cluster.on('status', (s) => {
      if (s !== 'stopped' || this.cluster.lastError) this.seen = true;
      if (s === 'running' || s === 'stopped') this.session.invalidate();
      this._onDidChangeStatus.fire(s);
    });
    this.cluster.on('state', () => this._onDidChangeState.fire());
    this.cluster.on('event', (e) => this._onClusterEvent.fire(e));
  }

  get visible(): boolean {
    return this.seen || this.cluster.status !== 'stopped';
  }

  /** Makes the (stopped) cluster show in the explorer, e.g. after a stop command. */
  markSeen(): void {
    this.seen = true;
  }

  async connection(): Promise<KafkaConnectionOptions> {
    const bootstrap = this.cluster.bootstrap;
    if (this.cluster.status !== 'running' || !bootstrap) throw new UserError('the mini-cluster is not running; start it first (MiniKafka: Start Mini-Cluster)');
    return { bootstrapServers: bootstrap.split(','), clientId: 'minikafka-vscode', logger: this.clientLogger };
  }

  status(): EmbeddedStatus {
    return this.cluster.status;
  }

  bootstrap(): string | undefined {
    return this.cluster.status === 'running' ? this.cluster.bootstrap : undefined;
  }

  details(): string[] {
    const out = [`Data directory: ${this.cluster.dir}`];
    const info = this.cluster.info;
    if (info && this.cluster.status === 'running') out.push(`Supervisor pid ${info.pid}, control endpoint 127.0.0.1:${info.port}`);
    return out;
  }

  lastError(): string | undefined {
    return this.cluster.lastError;
  }

  source(): ClusterSource | undefined {
    return this.cluster.status === 'running' ? this._source : undefined;
  }

  summary(): ClusterSummary | undefined {
    const s = this.cluster.state;
    return s && this.cluster.status === 'running' ? summarizeState(s, getConfig('tree.showInternalTopics')) : undefined;
  }

  controlState(): ClusterState | undefined {
    return this.cluster.status === 'running' ? this.cluster.state : undefined;
  }

  /** Live broker ids (running and not fenced). */
  liveBrokers(): number[] {
    return (this.cluster.state?.brokers ?? []).filter((b) => b.state === 'running' && !b.fenced).map((b) => b.id);
  }
}
