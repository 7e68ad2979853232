// The supervisor's control endpoint: HTTP on loopback, guarded by a random secret written (mode 0600) with
// the port into <dir>/control.json, which the CLI and the extension read. It listens on 2181 when that is free:
// the supervisor holds the controller, the role ZooKeeper plays in Kafka tutorials, so their
// `--zookeeper localhost:2181` finds the cluster through the one route that needs no secret. Routes (all JSON):
//   GET  /v1/bootstrap                  the brokers' bootstrap servers and security protocol (no secret needed:
//                                       it says no more than Metadata tells any client)
//   GET  /v1/state                      brokers (process state, fenced, controller), topics, partitions
//   GET  /v1/events                     server-sent events: one `state` snapshot, then each cluster event
//   POST /v1/brokers/:id/kill|pause|resume|stop|restart
//   POST /v1/brokers                    add a broker
//   POST /v1/shutdown                   stop the whole cluster
//   POST /v1/controller/kill            kill -9 the supervisor itself (the controller): brokers keep serving and one
//                                       of them starts a new supervisor (see supervisor.ts)

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { ClusterEvent, Supervisor } from './supervisor';

export const CONTROL_FILE = 'control.json';

export interface ControlInfo {
  port: number;
  token: string;
  pid: number;
  bootstrap: string;
}

/** What GET /v1/bootstrap answers. */
export interface BootstrapInfo {
  bootstrap: string;
  securityProtocol: string;
}

/** The port the control endpoint asks for first: ZooKeeper's, whose place it takes in Kafka tutorials. */
export const DEFAULT_CONTROL_PORT = 2181;

export class ControlServer {
  private server: Server | undefined;
  private readonly token = randomBytes(24).toString('base64url');
  private readonly streams = new Set<ServerResponse>();
  private file = '';

  constructor(
    private readonly supervisor: Supervisor,
    private readonly dir: string,
    private readonly onShutdown: () => void,
  ) {}

  /** Listens on 127.0.0.1:port (0: a free port). */
  async start(port = 0): Promise<ControlInfo> {
    const server = createServer((req, res) => void this.route(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    const info: ControlInfo = { port: (server.address() as { port: number }).port, token: this.token, pid: process.pid, bootstrap: this.supervisor.bootstrap };
    this.file = join(this.dir, CONTROL_FILE);
    writeFileSync(this.file, JSON.stringify(info, null, 1), { mode: 0o600 });
    const push = (name: string, data: unknown) => {
      for (const s of this.streams) s.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    this.supervisor.on('event', (e: ClusterEvent) => push('cluster', e));
    // Once per metadata delta (the controller publishes one per tick), and only for someone listening: the state
    // holds every topic, which is not something to serialize for nobody thousands of times.
    this.supervisor.on('metadata', () => this.streams.size > 0 && push('state', this.supervisor.state()));
    return info;
  }

  private authorized(req: IncomingMessage): boolean {
    const given = Buffer.from((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    const want = Buffer.from(this.token);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/v1/bootstrap') {
      return reply(200, { bootstrap: this.supervisor.bootstrap, securityProtocol: this.supervisor.security.protocol } satisfies BootstrapInfo);
    }
    if (!this.authorized(req)) return reply(401, { error: 'missing or wrong control token' });
    try {
      if (req.method === 'GET' && url.pathname === '/v1/state') return reply(200, this.supervisor.state());
      if (req.method === 'GET' && url.pathname === '/v1/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
        res.write(`event: state\ndata: ${JSON.stringify(this.supervisor.state())}\n\n`);
        this.streams.add(res);
        req.on('close', () => this.streams.delete(res));
        return;
      }
      if (req.method === 'POST' && url.pathname === '/v1/brokers') return reply(200, await this.supervisor.addBroker());
      if (req.method === 'POST' && url.pathname === '/v1/controller/kill') {
        res.writeHead(200, { 'content-type': 'application/json' });
        // The answer must leave before the process does; no cleanup on purpose: this is a crash.
        res.end(JSON.stringify({ ok: true, pid: process.pid }), () => process.kill(process.pid, 'SIGKILL'));
        return;
      }
      if (req.method === 'POST' && url.pathname === '/v1/shutdown') {
        reply(200, { ok: true });
        setImmediate(this.onShutdown);
        return;
      }
      const m = /^\/v1\/brokers\/(\d+)\/(kill|pause|resume|stop|restart)$/.exec(url.pathname);
      if (req.method === 'POST' && m) {
        const id = Number(m[1]);
        switch (m[2]) {
          case 'kill':
            await this.supervisor.kill(id);
            break;
          case 'pause':
            this.supervisor.pause(id);
            break;
          case 'resume':
            this.supervisor.resume(id);
            break;
          case 'stop':
            await this.supervisor.stopBroker(id);
            break;
          case 'restart':
            await this.supervisor.restart(id);
            break;
        }
        return reply(200, { ok: true, broker: this.supervisor.brokerView(id) });
      }
      reply(404, { error: `no route ${req.method} ${url.pathname}` });
    } catch (err) {
      reply(409, { error: (err as Error).message });
    }
  }

  async stop(): Promise<void> {
    for (const s of this.streams) s.end();
    this.streams.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    if (this.file) rmSync(this.file, { force: true });
  }
}
