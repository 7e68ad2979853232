// A saved connection as a ClusterHandle and a TreeCluster. The password lives in SecretStorage.

import * as vscode from 'vscode';
import type { KafkaConnectionOptions } from '../../client/connection';
import type { ClusterEvent } from '../../broker/cluster/supervisor';
import { passwordSecretKey } from '../constants';
import type { ClusterHandle } from '../contract';
import { Disposable, toDisposable } from '../lifecycle';
import { AdminSession } from '../model/adminSession';
import { connectionOptions, SavedConnection, securitySummary } from '../model/connections';
import { ExternalSource } from '../model/sources';
import type { ClusterSource } from '../model/types';
import type { TreeCluster } from '../tree/node';
import type { ClientLogger } from '../../client/connection';

const never: vscode.Event<ClusterEvent> = () => ({ dispose() {} });

export class ExternalHandle extends Disposable implements ClusterHandle, TreeCluster {
  readonly kind = 'external' as const;
  readonly onClusterEvent = never;
  private readonly session: AdminSession;
  private readonly _source: ExternalSource;

  constructor(
    readonly saved: SavedConnection,
    private readonly secrets: vscode.SecretStorage,
    private readonly logger: ClientLogger,
  ) {
    super();
    this.session = new AdminSession(() => this.connection());
    this._register(toDisposable(() => this.session.dispose()));
    this._source = new ExternalSource(this.session);
  }

  get id(): string {
    return this.saved.id;
  }
  get label(): string {
    return this.saved.name;
  }

  async connection(): Promise<KafkaConnectionOptions> {
    const password = this.saved.sasl ? await this.secrets.get(passwordSecretKey(this.saved.id)) : undefined;
    return { ...(await connectionOptions(this.saved, password)), logger: this.logger };
  }

  status(): 'external' {
    return 'external';
  }
  bootstrap(): string {
    return this.saved.bootstrapServers;
  }
  details(): string[] {
    return [securitySummary(this.saved)];
  }
  lastError(): string | undefined {
    return undefined;
  }
  source(): ClusterSource {
    return this._source;
  }
  /** Drops the connection so the next read reconnects (after an edit, or on refresh). */
  invalidate(): void {
    this.session.invalidate();
  }
}
