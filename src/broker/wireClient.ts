// A minimal Kafka client connection built on our own codec: one socket, pipelined requests matched to
// responses by correlation id. Followers use it to fetch from leaders; tests use it to send exact requests.

import { connect, Socket } from 'node:net';
import { FrameDecoder, responseHeaderIsFlexible, skipTaggedFields, writeRequestHeader } from '../protocol/frame';
import { Reader } from '../protocol/primitives/reader';
import { Writer } from '../protocol/primitives/writer';
import { AnyApiDef, ApiDef, ctxFor } from '../protocol/schema';
import { SaslHandshake } from '../protocol/apis/17-sasl-handshake';
import { SaslAuthenticate } from '../protocol/apis/36-sasl-authenticate';
import { errorName } from '../protocol/errorCode';

interface Pending {
  def: AnyApiDef;
  version: number;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class WireClient {
  private socket: Socket | undefined;
  private readonly decoder = new FrameDecoder(256 * 1024 * 1024);
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  private closedError: Error | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly clientId = 'minikafka',
  ) {}

  connect(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${this.host}:${this.port} timed out`));
      }, timeoutMs);
      socket.setNoDelay(true);
      socket.once('connect', () => {
        clearTimeout(timer);
        this.socket = socket;
        resolve();
      });
      socket.on('data', (d) => this.onData(d));
      socket.on('error', (err) => {
        clearTimeout(timer);
        this.fail(err);
        reject(err);
      });
      socket.on('close', () => this.fail(new Error(`connection to ${this.host}:${this.port} closed`)));
    });
  }

  get isOpen(): boolean {
    return !!this.socket && !this.closedError;
  }

  private fail(err: Error): void {
    this.closedError ??= err;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }

  private onData(data: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.decoder.push(data);
    } catch (err) {
      this.fail(err as Error);
      this.socket?.destroy();
      return;
    }
    for (const frame of frames) {
      const r = new Reader(frame);
      const correlationId = r.int32();
      const p = this.pending.get(correlationId);
      if (!p) continue;
      this.pending.delete(correlationId);
      clearTimeout(p.timer);
      try {
        const ctx = ctxFor(p.def, p.version);
        if (responseHeaderIsFlexible(p.def.key, ctx.flexible)) skipTaggedFields(r);
        p.resolve(p.def.response.read(r, ctx));
      } catch (err) {
        p.reject(err as Error);
      }
    }
  }

  /** Sends a request and resolves with the decoded response. `expectResponse: false` for acks=0 produce. */
  request<Req, Res, ReqIn, ResIn>(def: ApiDef<Req, Res, ReqIn, ResIn>, version: number, body: ReqIn, timeoutMs = 30000, expectResponse = true): Promise<Res> {
    if (!this.socket || this.closedError) return Promise.reject(this.closedError ?? new Error('not connected'));
    const correlationId = this.nextCorrelationId++;
    const ctx = ctxFor(def, version);
    const w = new Writer(256);
    w.int32(0);
    writeRequestHeader(w, { apiKey: def.key, apiVersion: version, correlationId, clientId: this.clientId }, ctx.flexible);
    def.request.write(w, body, ctx);
    const chunks = w.toChunks();
    chunks[0].writeInt32BE(w.length - 4, 0);
    for (const c of chunks) this.socket.write(c);
    if (!expectResponse) return Promise.resolve(undefined as Res);
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new Error(`${def.name} request timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(correlationId, { def, version, resolve: resolve as (v: unknown) => void, reject, timer });
    });
  }

  /** SASL/PLAIN over SaslHandshake v1 + SaslAuthenticate v1 (the internal inter-broker listener). */
  async authenticatePlain(username: string, password: string, timeoutMs = 5000): Promise<void> {
    const hs = await this.request(SaslHandshake, 1, { mechanism: 'PLAIN' }, timeoutMs);
    if (hs.errorCode !== 0) throw new Error(`SASL handshake with ${this.host}:${this.port} failed: ${errorName(hs.errorCode)}`);
    const token = Buffer.from(`\u0000${username}\u0000${password}`, 'utf8');
    const res = await this.request(SaslAuthenticate, 1, { authBytes: token }, timeoutMs);
    if (res.errorCode !== 0) throw new Error(`SASL authentication to ${this.host}:${this.port} failed: ${res.errorMessage ?? errorName(res.errorCode)}`);
  }

  /** Writes raw bytes (fuzzing and malformed-request tests). */
  writeRaw(buf: Buffer): void {
    this.socket?.write(buf);
  }

  /** Resolves when the server closes the connection (or after timeoutMs with false). */
  waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.closedError) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.socket?.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  close(): void {
    this.socket?.destroy();
  }
}
