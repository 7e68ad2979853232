// Every cluster the extension knows: the embedded mini-cluster and the saved connections (from the
// `minikafka.connections` setting, passwords in SecretStorage). Implements the panels' PanelHost.

import * as vscode from 'vscode';
import { getConfig, onDidChangeConfig, setConfig } from '../config';
import { EMBEDDED_CLUSTER_ID, passwordSecretKey } from '../constants';
import type { ClusterHandle, ClusterRef, PanelHost } from '../contract';
import { Disposable, toDisposable } from '../lifecycle';
import { componentLogger, kafkajsLogger } from '../logger';
import { parseSavedConnections, SavedConnection } from '../model/connections';
import { UserError } from '../model/errors';
import { EmbeddedHandle } from './embeddedHandle';
import { ExternalHandle } from './externalHandle';

export type AnyHandle = EmbeddedHandle | ExternalHandle;

export class ClusterRegistry extends Disposable implements PanelHost {
  readonly embedded: EmbeddedHandle;
  private externals = new Map<string, ExternalHandle>();
  private readonly logger;

  /** The list of clusters (or the embedded one's visibility) changed: refresh the explorer's roots. */
  private readonly _onDidChangeClusters = this._register(new vscode.EventEmitter<void>());
  readonly onDidChangeClusters = this._onDidChangeClusters.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
  ) {
    super();
    this.logger = componentLogger(log, 'clusters');
    this.embedded = this._register(new EmbeddedHandle(context, log));
    this._register(this.embedded.onDidChangeStatus(() => this._onDidChangeClusters.fire()));
    this.loadConnections();
    this._register(onDidChangeConfig(['connections'], () => this.loadConnections()));
    this._register(toDisposable(() => this.externals.forEach((h) => h.dispose())));
  }

  private loadConnections(): void {
    const { connections, problems } = parseSavedConnections(getConfig('connections'));
    for (const p of problems) this.logger.warn(p);
    const next = new Map<string, ExternalHandle>();
    for (const c of connections) {
      const old = this.externals.get(c.id);
      if (old && JSON.stringify(old.saved) === JSON.stringify(c)) next.set(c.id, old);
      else {
        old?.dispose();
        next.set(c.id, new ExternalHandle(c, this.context.secrets, kafkajsLogger(this.log, `kafkajs ${c.name}`)));
      }
    }
    for (const [id, h] of this.externals) if (!next.has(id)) h.dispose();
    this.externals = next;
    this._onDidChangeClusters.fire();
  }

  /** The explorer's roots: the embedded cluster when it runs or ran in this window, then the saved connections. */
  list(): AnyHandle[] {
    return [...(this.embedded.visible ? [this.embedded] : []), ...this.externals.values()];
  }

  all(): AnyHandle[] {
    return [this.embedded, ...this.externals.values()];
  }

  get(id: string): AnyHandle | undefined {
    return id === EMBEDDED_CLUSTER_ID ? this.embedded : this.externals.get(id);
  }

  savedConnections(): SavedConnection[] {
    return [...this.externals.values()].map((h) => h.saved);
  }

  /** Adds or replaces a saved connection; `password` undefined keeps the stored one, null deletes it. */
  async saveConnection(c: SavedConnection, password: string | null | undefined): Promise<void> {
    if (password) await this.context.secrets.store(passwordSecretKey(c.id), password);
    else if (password === null || !c.sasl) await this.context.secrets.delete(passwordSecretKey(c.id));
    const list = parseSavedConnections(getConfig('connections')).connections.filter((x) => x.id !== c.id);
    const existing = this.savedConnections().findIndex((x) => x.id === c.id);
    const position = existing >= 0 ? existing : list.length;
    list.splice(position, 0, c);
    await setConfig('connections', list);
    this.loadConnections();
  }

  async removeConnection(id: string): Promise<void> {
    await this.context.secrets.delete(passwordSecretKey(id));
    await setConfig(
      'connections',
      parseSavedConnections(getConfig('connections')).connections.filter((x) => x.id !== id),
    );
    this.loadConnections();
  }

  /**
   * The cluster a ref names, or (no ref) the only usable one, or one the user picks. Undefined when cancelled.
   * Throws UserError for an unknown id.
   */
  async resolveCluster(ref?: Partial<ClusterRef>, opts: { requireRunning?: boolean; placeHolder?: string } = {}): Promise<AnyHandle | undefined> {
    if (ref?.clusterId) {
      const h = this.get(ref.clusterId);
      if (!h) throw new UserError(`no cluster with id '${ref.clusterId}' (known: ${this.all().map((x) => x.id).join(', ')})`);
      return h;
    }
    const usable = this.all().filter((h) => h.kind === 'external' || h.cluster.status === 'running' || !opts.requireRunning);
    const candidates = usable.filter((h) => h.kind === 'external' || h.cluster.status === 'running');
    if (candidates.length === 0) {
      throw new UserError('no cluster to act on: start the mini-cluster (MiniKafka: Start Mini-Cluster) or add a connection (MiniKafka: Add Connection…)');
    }
    if (candidates.length === 1) return candidates[0];
    const picked = await vscode.window.showQuickPick(
      candidates.map((h) => ({ label: h.label, description: h.bootstrap() ?? '', handle: h })),
      { placeHolder: opts.placeHolder ?? 'Which cluster?' },
    );
    return picked?.handle;
  }
}

export type { ClusterHandle };
