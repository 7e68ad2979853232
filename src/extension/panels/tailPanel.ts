// The topic tail panel: live records of a topic in a bounded, virtualised table (see webview/tail and
// tailPipeline.ts for how memory stays flat).

import * as vscode from 'vscode';
import { ClusterAdmin } from '../../client/admin';
import { describeConnectionError, KafkaConnectionOptions } from '../../client/connection';
import { registerProjectCodecs } from '../../cli/codecs';
import {
  ExportRequest,
  rowMatches,
  TAIL_PANEL,
  TailBatchNotification,
  TailClearCommand,
  TailConfig,
  TailExportRequest,
  TailPauseRequest,
  TailResetNotification,
  TailRestartRequest,
  TailStatusNotification,
  TailSyncRequest,
  TailSyncResult,
} from '../../shared/tailProtocol';
import type { ClusterHandle } from '../contract';
import { toDisposable } from './disposable';
import { toCsv, toJson } from './tailExport';
import { TailPipeline } from './tailPipeline';
import { WebviewPanelHost } from './webviewPanel';

export interface TailOpenOptions extends Partial<TailConfig> {
  bufferSize?: number;
  column?: vscode.ViewColumn;
  preserveFocus?: boolean;
  /** Tests: where an export is written, instead of asking with a save dialog. */
  exportTo?: vscode.Uri;
}

export interface TailPanelDeps {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
}

export class TailPanel extends WebviewPanelHost {
  readonly pipeline: TailPipeline;
  private allPartitions: number[] = [];
  private connection: KafkaConnectionOptions | undefined;
  /** Tests: export destination that skips the save dialog. */
  exportTo: vscode.Uri | undefined;

  private constructor(
    readonly cluster: ClusterHandle,
    readonly topic: string,
    connection: KafkaConnectionOptions,
    deps: TailPanelDeps,
    bufferSize: number,
    options: TailOpenOptions,
  ) {
    super({
      viewType: 'minikafka.tail',
      bundle: TAIL_PANEL,
      title: `Tail: ${topic}`,
      extensionUri: deps.extensionUri,
      log: deps.log,
      column: options.column,
      preserveFocus: options.preserveFocus,
    });
    this.connection = connection;
    this.exportTo = options.exportTo;
    this.pipeline = new TailPipeline({
      connection,
      topic,
      bufferSize,
      sink: (batch) => this.notify(TailBatchNotification, batch),
      onStatus: (status) => {
        if (this.isPageReady) this.notify(TailStatusNotification, status);
      },
      warn: (m) => this.log.warn(`[panels:tail] ${m}`),
    });
    // Closing the panel closes its consumer.
    this._register(toDisposable(() => this.pipeline.dispose()));
    this.ipc.onRequest(TailSyncRequest, () => this.sync());
    this.ipc.onRequest(TailRestartRequest, (config) => this.restart(config));
    this.ipc.onRequest(TailPauseRequest, ({ paused }) => this.pipeline.setPaused(paused));
    this.ipc.on(TailClearCommand, () => this.pipeline.clear());
    this.ipc.onRequest(TailExportRequest, (req) => this.export(req));
  }

  static async open(cluster: ClusterHandle, topic: string, deps: TailPanelDeps, options: TailOpenOptions = {}): Promise<TailPanel> {
    registerProjectCodecs(); // reading snappy/lz4/zstd batches
    const connection = await cluster.connection();
    const configured = vscode.workspace.getConfiguration('minikafka').get<number>('tail.bufferSize', 10000);
    const bufferSize = clampBuffer(options.bufferSize ?? configured);
    const panel = new TailPanel(cluster, topic, connection, deps, bufferSize, options);
    await panel.loadPartitions().catch((err: unknown) => deps.log.warn(`[panels:tail] ${describeConnectionError(err)}`));
    void panel.restart(configOf(options)).catch(() => undefined); // the failure is in the status the page shows
    return panel;
  }

  /** Starts over with a new configuration; an undefined field keeps the current one. */
  async restart(config: TailConfig): Promise<void> {
    if (config.partitions && this.allPartitions.length > 0) {
      const missing = config.partitions.filter((p) => !this.allPartitions.includes(p));
      if (missing.length > 0) throw new Error(`'${this.topic}' has no partition ${missing.join(', ')}`);
    }
    const run = this.pipeline.start(config);
    this.notify(TailResetNotification, { config, status: this.pipeline.status() });
    await run;
  }

  /** Opened again (e.g. from the producer's "open tail"): start over if the options say where. */
  async reopen(options: TailOpenOptions): Promise<void> {
    if (options.exportTo) this.exportTo = options.exportTo;
    if (options.start || options.partitions || options.groupId || options.isolation) await this.restart({ ...this.pipeline.currentConfig, ...configOf(options) });
  }

  protected override onPageGone(): void {
    this.pipeline.attach(false);
  }

  protected override onPageReady(): void {
    // The page pulls the ring with TailSync; until it does, nothing is posted.
    this.pipeline.attach(false);
  }

  private async loadPartitions(): Promise<void> {
    const admin = new ClusterAdmin(this.connection as KafkaConnectionOptions);
    try {
      await admin.connect();
      const [t] = await admin.describeTopics([this.topic]);
      this.allPartitions = t.partitions.map((p) => p.partition);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async sync(): Promise<TailSyncResult> {
    if (this.allPartitions.length === 0) await this.loadPartitions().catch(() => undefined);
    const rows = this.pipeline.attach(true);
    return {
      clusterLabel: this.cluster.label,
      topic: this.topic,
      allPartitions: this.allPartitions,
      config: this.pipeline.currentConfig,
      bufferSize: this.pipeline.bufferSize,
      status: this.pipeline.status(),
      rows,
    };
  }

  private async export(req: ExportRequest): Promise<{ path: string | null; count: number }> {
    const rows = this.pipeline.ring.toArray().filter((r) => rowMatches(r, req.filter) && (!req.partitions || req.partitions.includes(r.partition)));
    const text = req.format === 'json' ? toJson(rows) : toCsv(rows);
    let target = this.exportTo;
    if (!target) {
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
      const name = `${this.topic.replace(/[^\w.-]+/g, '_')}-${new Date().toISOString().replace(/[:.]/g, '-')}.${req.format}`;
      target = await vscode.window.showSaveDialog({
        title: `Export ${rows.length} record(s) of ${this.topic}`,
        defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
        filters: req.format === 'json' ? { JSON: ['json'] } : { CSV: ['csv'] },
      });
      if (!target) return { path: null, count: 0 };
    }
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(text));
    this.log.info(`[panels:tail] exported ${rows.length} record(s) of ${this.topic} to ${target.toString(true)}`);
    return { path: target.scheme === 'file' ? target.fsPath : target.toString(true), count: rows.length };
  }
}

function configOf(options: TailOpenOptions): TailConfig {
  const config: TailConfig = { start: options.start ?? { kind: 'latest' } };
  if (options.partitions) config.partitions = options.partitions;
  if (options.groupId) config.groupId = options.groupId;
  if (options.isolation) config.isolation = options.isolation;
  return config;
}

function clampBuffer(n: number): number {
  if (!Number.isFinite(n)) return 10000;
  return Math.min(1_000_000, Math.max(100, Math.floor(n)));
}
