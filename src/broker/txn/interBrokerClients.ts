// Connections from this broker to the other brokers for the transaction protocol's inter-broker requests
// (WriteTxnMarkers from coordinators, AddPartitionsToTxn verify-only from partition leaders): one per broker,
// opened on first use, on the internal listener with SASL/PLAIN when security is on (as followers fetch).

import type { Broker } from '../broker';
import { WireClient } from '../wireClient';

export class InterBrokerClients {
  private readonly clients = new Map<number, Promise<WireClient>>();

  constructor(
    private readonly broker: Broker,
    private readonly clientId: string,
  ) {}

  get(brokerId: number): Promise<WireClient> {
    const pending = this.clients.get(brokerId);
    if (pending) {
      return pending.then((c) => {
        if (c.isOpen) return c;
        this.clients.delete(brokerId);
        return this.get(brokerId);
      });
    }
    const connecting = this.connect(brokerId);
    this.clients.set(brokerId, connecting);
    connecting.catch(() => this.clients.delete(brokerId));
    return connecting;
  }

  private async connect(brokerId: number): Promise<WireClient> {
    const b = this.broker.image.brokers.find((x) => x.id === brokerId && !x.fenced);
    if (!b) throw new Error(`broker ${brokerId} is not alive`);
    const internal = b.internalPort !== undefined;
    const c = new WireClient(internal ? '127.0.0.1' : b.host, internal ? b.internalPort! : b.port, this.clientId);
    await c.connect(2000);
    const auth = this.broker.interBrokerCredentials;
    if (auth && internal) {
      try {
        await c.authenticatePlain(auth.username, auth.password);
      } catch (err) {
        c.close();
        throw err;
      }
    }
    return c;
  }

  /** Forgets (and closes) the connection to a broker after a failure; the next get() reconnects. */
  drop(brokerId: number): void {
    const pending = this.clients.get(brokerId);
    this.clients.delete(brokerId);
    pending?.then(
      (c) => c.close(),
      () => {},
    );
  }

  close(): void {
    for (const id of [...this.clients.keys()]) this.drop(id);
  }
}
