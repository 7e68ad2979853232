// One long-lived ClusterAdmin per cluster for the explorer's reads, connected on first use and replaced after a
// failure (kafkajs keeps stale leaders and dead connections after a broker dies; a fresh client re-reads the
// metadata). vscode-free.

import { ClusterAdmin } from '../../client/admin';
import { ClientError, explainConnectionError, KafkaConnectionOptions } from '../../client/connection';
import { UserError } from './errors';

/** Fast failure for an explorer: a dead cluster should become an error node in seconds, not after kafkajs's minute of retries. */
export const EXPLORER_RETRY = { retries: 2, initialRetryTimeMs: 100, maxRetryTimeMs: 1000 };

/**
 * A connected admin client, or a UserError that says which mistake it was (wrong password, untrusted CA, TLS to a
 * plaintext listener and back): explained here, where the options are known (TLS or not, SASL or not).
 */
export async function connectAdmin(opts: KafkaConnectionOptions): Promise<ClusterAdmin> {
  const admin = new ClusterAdmin(opts);
  try {
    await admin.connect();
  } catch (err) {
    await admin.disconnect().catch(() => undefined);
    throw new UserError(await explainConnectionError(err, opts));
  }
  return admin;
}

export class AdminSession {
  private admin: Promise<ClusterAdmin> | undefined;
  private disposed = false;

  constructor(private readonly options: () => Promise<KafkaConnectionOptions>) {}

  /** Runs fn on the shared admin; on failure drops the admin and, when `retry` (the default), tries once more on a fresh one. */
  async use<T>(fn: (admin: ClusterAdmin) => Promise<T>, retry = true): Promise<T> {
    const admin = this.current();
    try {
      return await fn(await admin);
    } catch (err) {
      // A ClientError is a statement about the data (unknown topic...), not about the connection.
      if (err instanceof ClientError) throw err;
      this.reset(admin);
      if (!retry || this.disposed) throw err;
      const fresh = this.current();
      try {
        return await fn(await fresh);
      } catch (err2) {
        if (!(err2 instanceof ClientError)) this.reset(fresh);
        throw err2;
      }
    }
  }

  private current(): Promise<ClusterAdmin> {
    if (this.disposed) return Promise.reject(new Error('the connection was closed'));
    if (!this.admin) {
      const p = (async () => {
        const opts = await this.options();
        return connectAdmin({ retry: EXPLORER_RETRY, requestTimeoutMs: 10000, ...opts });
      })();
      this.admin = p;
      p.catch(() => this.reset(p));
    }
    return this.admin;
  }

  private reset(which: Promise<ClusterAdmin>): void {
    if (this.admin !== which) return;
    this.admin = undefined;
    which.then((a) => a.disconnect()).catch(() => undefined);
  }

  /** Drops the connection; the next use connects again (e.g. after a restart, or when the settings changed). */
  invalidate(): void {
    if (this.admin) this.reset(this.admin);
  }

  dispose(): void {
    this.invalidate();
    this.disposed = true;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order of results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}
