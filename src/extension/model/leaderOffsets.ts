// Offsets (log start and high watermark) of many partitions of the embedded cluster with two ListOffsets
// requests per leader broker, sent with the project's own wire client straight to the leaders the control state
// names: no metadata round and no per-topic requests, so a tree with a thousand expanded topics costs a few
// requests. The embedded cluster the extension starts listens in plaintext on loopback. vscode-free.

import type { ClusterState } from '../../broker/cluster/supervisor';
import { WireClient } from '../../broker/wireClient';
import { ListOffsets } from '../../protocol/apis/02-list-offsets';

export interface OffsetRange {
  low: string;
  high: string;
  /** The last stable offset (read_committed latest): below `high` while a transaction is open. */
  stable?: string;
}

const EARLIEST = -2;
const LATEST = -1;
const READ_COMMITTED = 1;

export class LeaderOffsetsReader {
  private readonly clients = new Map<string, Promise<WireClient>>();

  constructor(private readonly requestTimeoutMs = 5000) {}

  private client(host: string, port: number): Promise<WireClient> {
    const key = `${host}:${port}`;
    const existing = this.clients.get(key);
    if (existing) {
      return existing.then((c) => {
        if (c.isOpen) return c;
        this.clients.delete(key);
        return this.client(host, port);
      });
    }
    const c = new WireClient(host, port, 'minikafka-vscode');
    const p = c.connect(3000).then(() => c);
    this.clients.set(key, p);
    p.catch(() => this.clients.delete(key));
    return p;
  }

  /** Offsets of every partition of `topics` that has a live leader; partitions that fail are left out. */
  async read(state: ClusterState, topics: readonly string[]): Promise<Map<string, Map<number, OffsetRange>>> {
    const wanted = new Set(topics);
    const live = new Map(state.brokers.filter((b) => b.state === 'running' && !b.fenced).map((b) => [b.id, b]));
    const byLeader = new Map<number, Map<string, number[]>>();
    for (const t of state.topics) {
      if (!wanted.has(t.name)) continue;
      for (const p of t.partitions) {
        if (!live.has(p.leader)) continue;
        let topicsOfLeader = byLeader.get(p.leader);
        if (!topicsOfLeader) byLeader.set(p.leader, (topicsOfLeader = new Map()));
        let parts = topicsOfLeader.get(t.name);
        if (!parts) topicsOfLeader.set(t.name, (parts = []));
        parts.push(p.partition);
      }
    }
    const out = new Map<string, Map<number, OffsetRange>>();
    await Promise.all(
      [...byLeader].map(async ([leader, topicsOfLeader]) => {
        const b = live.get(leader)!;
        let client: WireClient;
        try {
          client = await this.client(b.host, b.port);
        } catch {
          return;
        }
        const ask = (timestamp: number, isolationLevel = 0) =>
          client.request(
            ListOffsets,
            7,
            {
              replicaId: -1,
              isolationLevel,
              topics: [...topicsOfLeader].map(([name, partitions]) => ({
                name,
                partitions: partitions.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 })),
              })),
            },
            this.requestTimeoutMs,
          );
        let low, high, stable;
        try {
          [low, high, stable] = await Promise.all([ask(EARLIEST), ask(LATEST), ask(LATEST, READ_COMMITTED)]);
        } catch {
          return; // a frozen or dying leader: these partitions show without offsets this time
        }
        const lows = new Map<string, bigint | number>();
        const stables = new Map<string, bigint | number>();
        for (const t of low.topics) for (const p of t.partitions) if (p.errorCode === 0) lows.set(`${t.name}\u0000${p.partitionIndex}`, p.offset);
        for (const t of stable.topics) for (const p of t.partitions) if (p.errorCode === 0) stables.set(`${t.name}\u0000${p.partitionIndex}`, p.offset);
        for (const t of high.topics) {
          for (const p of t.partitions) {
            const l = lows.get(`${t.name}\u0000${p.partitionIndex}`);
            if (p.errorCode !== 0 || l === undefined) continue;
            let m = out.get(t.name);
            if (!m) out.set(t.name, (m = new Map()));
            const st = stables.get(`${t.name}\u0000${p.partitionIndex}`);
            m.set(p.partitionIndex, { low: String(l), high: String(p.offset), ...(st !== undefined ? { stable: String(st) } : {}) });
          }
        }
      }),
    );
    return out;
  }

  dispose(): void {
    for (const p of this.clients.values()) p.then((c) => c.close()).catch(() => undefined);
    this.clients.clear();
  }
}
