// The producer panel: a form that sends one or many records to a topic (see webview/producer).

import * as vscode from 'vscode';
import { ClusterAdmin } from '../../client/admin';
import { describeConnectionError, KafkaConnectionOptions } from '../../client/connection';
import { isCompressionAvailable, RecordProducer } from '../../client/producer';
import { registerProjectCodecs } from '../../cli/codecs';
import {
  CancelProduceCommand,
  CompressionChoice,
  COMPRESSIONS,
  ForgetRecentCommand,
  OpenTailCommand,
  PRODUCER_PANEL,
  ProduceForm,
  ProduceDoneNotification,
  ProduceProgress,
  ProduceProgressNotification,
  ProduceRequest,
  ProducerInit,
  ProducerInitRequest,
  ProduceSummary,
  RecentChangedNotification,
  RecentMessage,
} from '../../shared/producerProtocol';
import type { ClusterHandle } from '../contract';
import { toDisposable } from './disposable';
import { acksOf, compressionOf, runProduce } from './producerRun';
import { WebviewPanelHost } from './webviewPanel';

export const MAX_COUNT = 100_000;
const RECENT_KEY = 'minikafka.producer.recent';
const RECENT_LIMIT = 20;

export interface ProducerOpenOptions {
  partition?: number;
  column?: vscode.ViewColumn;
  preserveFocus?: boolean;
}

export interface ProducerPanelDeps {
  extensionUri: vscode.Uri;
  log: vscode.LogOutputChannel;
  /** Where recent messages are remembered (globalState: they outlive the panel and the window). */
  memento: vscode.Memento;
  /** Opens a tail on what a run produced (the registry routes it to minikafka.tailTopic). */
  openTail(args: { partitions: number[]; offset?: string; timestamp?: number }): void;
}

export class ProducerPanel extends WebviewPanelHost {
  private readonly producers = new Map<string, Promise<RecordProducer>>();
  private readonly cancelled = new Set<number>();
  private connection: Promise<KafkaConnectionOptions> | undefined;
  private partitions: number[] = [];
  private initialPartition: number | undefined;
  /** The summary of the last run, for tests and a page that comes back. */
  lastSummary: ProduceSummary | undefined;
  private running: ProduceProgress | undefined;

  constructor(
    readonly cluster: ClusterHandle,
    readonly topic: string,
    private readonly deps: ProducerPanelDeps,
    options: ProducerOpenOptions = {},
  ) {
    super({
      viewType: 'minikafka.producer',
      bundle: PRODUCER_PANEL,
      title: `Produce: ${topic}`,
      extensionUri: deps.extensionUri,
      log: deps.log,
      column: options.column,
      preserveFocus: options.preserveFocus,
    });
    this.initialPartition = options.partition;
    registerProjectCodecs();
    this._register(toDisposable(() => this.closeProducers()));
    this.ipc.onRequest(ProducerInitRequest, () => this.init());
    this.ipc.onRequest(ProduceRequest, ({ runId, form }) => this.produce(runId, form));
    this.ipc.on(CancelProduceCommand, ({ runId }) => this.cancelled.add(runId));
    this.ipc.on(OpenTailCommand, (args) => this.deps.openTail(args));
    this.ipc.on(ForgetRecentCommand, ({ time }) => {
      void this.saveRecent(this.recent().filter((r) => r.time !== time));
    });
  }

  /** Opened again from a partition: preselect it in the form (the page reads it from the next init). */
  setInitialPartition(partition: number | undefined): void {
    this.initialPartition = partition;
  }

  private conn(): Promise<KafkaConnectionOptions> {
    this.connection ??= this.cluster.connection();
    return this.connection;
  }

  private async init(): Promise<ProducerInit> {
    const connection = await this.conn();
    const admin = new ClusterAdmin(connection);
    try {
      await admin.connect();
      const [topic] = await admin.describeTopics([this.topic]);
      this.partitions = topic.partitions.map((p) => p.partition);
    } catch (err) {
      throw new Error(describeConnectionError(err, connection.bootstrapServers));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const init: ProducerInit = {
      clusterLabel: this.cluster.label,
      topic: this.topic,
      partitions: this.partitions,
      compressions: compressionChoices(),
      recent: this.recent(),
      maxCount: MAX_COUNT,
    };
    if (this.initialPartition !== undefined) init.initialPartition = this.initialPartition;
    if (this.running) init.running = this.running;
    if (this.lastSummary) init.lastSummary = this.lastSummary;
    return init;
  }

  private async produce(runId: number, form: ProduceForm): Promise<ProduceSummary> {
    const connection = await this.conn();
    if (this.partitions.length === 0) await this.init();
    const choice = compressionChoices().find((c) => c.name === form.compression);
    if (choice && !choice.available) throw new Error(`${form.compression} compression is not available: ${choice.reason}`);
    const sender = await this.producer(connection, form);
    this.log.info(`[panels:producer] sending ${form.count} record(s) to ${this.topic} (acks ${form.acks}, ${form.compression})`);
    this.running = { runId, sent: 0, failed: 0, total: form.count };
    try {
      const summary = await runProduce(form, {
        runId,
        topic: this.topic,
        partitions: this.partitions,
        maxCount: MAX_COUNT,
        sender,
        bootstrapServers: connection.bootstrapServers,
        onProgress: (p) => {
          this.running = p;
          if (this.isPageReady) this.notify(ProduceProgressNotification, p);
        },
        isCancelled: () => this.cancelled.has(runId) || this.isDisposed,
      });
      this.lastSummary = summary;
      this.running = undefined;
      if (this.isPageReady) this.notify(ProduceDoneNotification, summary);
      if (summary.sent > 0) await this.remember(form);
      if (summary.error) this.log.warn(`[panels:producer] ${this.topic}: ${summary.error}`);
      return summary;
    } finally {
      this.running = undefined;
      this.cancelled.delete(runId);
    }
  }

  /** One connected producer per (acks, compression): kafkajs fixes compression and acks per send, the client per producer. */
  private producer(connection: KafkaConnectionOptions, form: ProduceForm): Promise<RecordProducer> {
    const key = `${form.acks}/${form.compression}`;
    let p = this.producers.get(key);
    if (!p) {
      p = (async () => {
        const producer = new RecordProducer(connection, { acks: acksOf(form), compression: compressionOf(form), allowAutoTopicCreation: false });
        try {
          await producer.connect();
        } catch (err) {
          throw new Error(describeConnectionError(err, connection.bootstrapServers));
        }
        return producer;
      })();
      p.catch(() => this.producers.delete(key));
      this.producers.set(key, p);
    }
    return p;
  }

  private async closeProducers(): Promise<void> {
    const all = [...this.producers.values()];
    this.producers.clear();
    await Promise.all(all.map((p) => p.then((producer) => producer.disconnect()).catch(() => undefined)));
  }

  private recent(): RecentMessage[] {
    const all = this.deps.memento.get<Record<string, RecentMessage[]>>(RECENT_KEY, {});
    return all[this.recentKey()] ?? [];
  }

  private async remember(form: ProduceForm): Promise<void> {
    const same = JSON.stringify(form);
    const list = [{ time: Date.now(), form }, ...this.recent().filter((r) => JSON.stringify(r.form) !== same)].slice(0, RECENT_LIMIT);
    await this.saveRecent(list);
  }

  private async saveRecent(list: RecentMessage[]): Promise<void> {
    const all = { ...this.deps.memento.get<Record<string, RecentMessage[]>>(RECENT_KEY, {}) };
    all[this.recentKey()] = list;
    // Bound the whole map too: at most 50 topics remembered.
    const keys = Object.keys(all);
    for (const k of keys.slice(0, Math.max(0, keys.length - 50))) delete all[k];
    await this.deps.memento.update(RECENT_KEY, all);
    this.notify(RecentChangedNotification, list);
  }

  private recentKey(): string {
    return `${this.cluster.id}/${this.topic}`;
  }
}

export function compressionChoices(): CompressionChoice[] {
  registerProjectCodecs();
  return COMPRESSIONS.map((name) => {
    if (name === 'zstd') return { name, available: false, reason: 'minikafka can read zstd batches but has no zstd encoder' };
    return isCompressionAvailable(name) ? { name, available: true } : { name, available: false, reason: `no ${name} codec is registered` };
  });
}
