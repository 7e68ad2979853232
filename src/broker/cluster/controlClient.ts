// Client of the supervisor's control endpoint, used by the CLI (`minikafka broker kill 2`) and the extension.
// It finds the endpoint through <dir>/control.json.

import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { ControlInfo } from './controlServer';
import type { BrokerView, ClusterEvent, ClusterState } from './supervisor';

export type BrokerAction = 'kill' | 'pause' | 'resume' | 'stop' | 'restart';

export class ControlError extends Error {}

export function readControlInfo(dir: string): ControlInfo {
  const file = join(dir, 'control.json');
  if (!existsSync(file)) throw new ControlError(`no mini-cluster is running in ${dir} (no control.json); start one with: minikafka start --dir ${dir}`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ControlInfo;
  } catch (err) {
    throw new ControlError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

export class ControlClient {
  constructor(readonly info: ControlInfo) {}

  static forDir(dir: string): ControlClient {
    return new ControlClient(readControlInfo(dir));
  }

  private call<T>(method: 'GET' | 'POST', path: string, timeoutMs = 30000): Promise<T> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: this.info.port, method, path, headers: { authorization: `Bearer ${this.info.token}` }, timeout: timeoutMs },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(body);
            } catch {
              return reject(new ControlError(`bad answer from the supervisor: ${body.slice(0, 200)}`));
            }
            if (res.statusCode !== 200) reject(new ControlError((parsed as { error?: string }).error ?? `HTTP ${res.statusCode}`));
            else resolve(parsed as T);
          });
        },
      );
      req.on('timeout', () => req.destroy(new ControlError(`the supervisor did not answer ${method} ${path} within ${timeoutMs} ms`)));
      req.on('error', (err: NodeJS.ErrnoException) =>
        reject(err.code === 'ECONNREFUSED' ? new ControlError('the mini-cluster supervisor is not running (stale control.json)') : err),
      );
      req.end();
    });
  }

  state(): Promise<ClusterState> {
    return this.call('GET', '/v1/state');
  }

  broker(id: number, action: BrokerAction): Promise<{ ok: true; broker: BrokerView }> {
    return this.call('POST', `/v1/brokers/${id}/${action}`);
  }

  addBroker(): Promise<BrokerView> {
    return this.call('POST', '/v1/brokers');
  }

  /** kill -9 of the supervisor (the controller). */
  killController(): Promise<{ ok: true; pid: number }> {
    return this.call('POST', '/v1/controller/kill');
  }

  shutdown(): Promise<{ ok: true }> {
    return this.call('POST', '/v1/shutdown');
  }

  /** Subscribes to the event stream; returns a function that closes it. */
  subscribe(handlers: { state?: (s: ClusterState) => void; event?: (e: ClusterEvent) => void; error?: (err: Error) => void; end?: () => void }): () => void {
    const req = request({ host: '127.0.0.1', port: this.info.port, method: 'GET', path: '/v1/events', headers: { authorization: `Bearer ${this.info.token}` } }, (res) => {
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        buf += chunk;
        let idx: number;
        while ((idx = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, idx);
          buf = buf.slice(idx + 2);
          const name = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (!data) continue;
          const parsed = JSON.parse(data);
          if (name === 'state') handlers.state?.(parsed as ClusterState);
          else if (name === 'cluster') handlers.event?.(parsed as ClusterEvent);
        }
      });
      res.on('end', () => handlers.end?.());
      // A supervisor killed with -9 resets the connection: no 'end', only 'close' (and an 'error' on some versions).
      res.on('error', (err) => handlers.error?.(err));
      res.on('close', () => handlers.end?.());
    });
    req.on('error', (err) => handlers.error?.(err));
    req.end();
    return () => req.destroy();
  }
}
