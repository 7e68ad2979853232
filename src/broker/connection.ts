// One client connection: framing, request decoding, and responses written strictly in request order even
// though handlers (JoinGroup, long-poll Fetch, acks=all Produce) complete out of order. A malformed request
// closes only this connection, with the reason logged; every other connection keeps being served.

import { Socket } from 'node:net';
import { ErrorCode } from '../protocol/errorCode';
import { FrameDecoder, FrameTooLargeError, readRequestHeader, RequestHeader, skipTaggedFields, writeResponseHeader } from '../protocol/frame';
import { ProtocolError, Reader } from '../protocol/primitives/reader';
import { Writer } from '../protocol/primitives/writer';
import { ctxFor } from '../protocol/schema';
import { ApiVersions } from '../protocol/apis/18-api-versions';
import type { HandlerContext } from './handlerContext';
import { Logger } from './logger';
import { NO_RESPONSE, Router } from './router';
import { isLentReadBuffer, releaseReadBuffer } from './state/readBuffers';
import type { SaslServerConfig } from './security/sasl';
import { SaslSession } from './security/saslSession';

interface Slot {
  done: boolean;
  chunks: Buffer[] | null;
}

export interface ConnectionHost {
  router: Router;
  logger: Logger;
  maxFrameBytes: number;
  makeContext(header: RequestHeader, conn: Connection): HandlerContext;
  /** Called for every request before it is handled (test hooks, metrics). */
  observe?(header: RequestHeader): void;
  /** Set on a SASL listener: every connection must authenticate before anything but ApiVersions is served. */
  sasl?: { config: SaslServerConfig; serverSecret: Buffer };
  /** connections.max.idle.ms: a connection with nothing in flight and no traffic for this long is closed (0 = never). */
  idleMs?: number;
}

let nextConnectionId = 1;

/**
 * Backpressure: while this many requests await their turn, or this many response bytes wait in the socket (a
 * client that sends but does not read), no further request is handled and the socket is not read, so the
 * kernel's buffers push back on the client instead of responses piling up in memory. (Kafka goes further and
 * handles one request per connection at a time.)
 */
const MAX_QUEUED_REQUESTS = 100;
const MAX_BUFFERED_RESPONSE_BYTES = 1024 * 1024;

export class Connection {
  readonly id = nextConnectionId++;
  readonly remote: string;
  private readonly decoder: FrameDecoder;
  private readonly queue: Slot[] = [];
  private closed = false;
  /** Set once a response must be the last (failed authentication): nothing more is read, the socket ends after it. */
  private ending = false;
  /** Per-connection state handlers may keep (SASL progress, for example). */
  readonly attributes = new Map<string, unknown>();
  /** Frames read but held back while the connection is busy (see MAX_QUEUED_REQUESTS). */
  private backlog: Buffer[] = [];
  private resuming = false;
  /** Set while the broker does not read from this client (a quota's throttle time, KIP-219). */
  private mutedTimer: NodeJS.Timeout | undefined;
  /** Authentication state on a SASL listener; undefined on a listener without SASL. */
  readonly sasl: SaslSession | undefined;

  constructor(
    readonly socket: Socket,
    private readonly host: ConnectionHost,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    this.decoder = new FrameDecoder(host.maxFrameBytes);
    if (host.sasl) this.sasl = new SaslSession(host.sasl.config, host.sasl.serverSecret);
    socket.setNoDelay(true);
    socket.on('data', (data) => this.onData(data));
    socket.on('error', (err) => host.logger.debug(`connection ${this.remote}: ${err.message}`));
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('drain', () => this.resumeReading());
    if (host.idleMs && host.idleMs > 0) {
      socket.setTimeout(host.idleMs);
      // A request in flight (a long poll, a rebalance) is not idleness; its response re-arms the timer.
      socket.on('timeout', () => {
        if (this.queue.length === 0 && this.backlog.length === 0) this.close(`idle for ${host.idleMs} ms (connections.max.idle.ms)`);
      });
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(reason: string): void {
    if (this.closed) return;
    this.host.logger.warn(`closing connection ${this.remote}: ${reason}`);
    this.closed = true;
    this.socket.destroy();
  }

  /** Stops reading requests; once every response queued so far is written, the connection ends. */
  closeAfterResponses(reason: string): void {
    if (this.closed || this.ending) return;
    this.host.logger.warn(`closing connection ${this.remote}: ${reason}`);
    this.ending = true;
    this.flush();
  }

  private onData(data: Buffer): void {
    if (this.closed || this.ending) return;
    let frames: Buffer[];
    try {
      frames = this.decoder.push(data);
    } catch (err) {
      if (err instanceof FrameTooLargeError) return this.close(`request ${err.message}`);
      throw err;
    }
    if (this.backlog.length > 0) this.backlog = this.backlog.concat(frames);
    else this.handleFrames(frames);
  }

  /**
   * Stops reading requests for `ms` (a client over its quota, KIP-219): responses already due are still written;
   * requests that arrive meanwhile wait in the socket, so the client is slowed even if it ignores throttle_time_ms.
   */
  muteFor(ms: number): void {
    if (ms <= 0 || this.closed) return;
    clearTimeout(this.mutedTimer);
    this.socket.pause();
    this.mutedTimer = setTimeout(() => {
      this.mutedTimer = undefined;
      this.resumeReading();
    }, ms);
    this.mutedTimer.unref();
  }

  private handleFrames(frames: Buffer[]): void {
    for (let i = 0; i < frames.length; i++) {
      if (this.closed || this.ending) return;
      if (this.mutedTimer || this.queue.length >= MAX_QUEUED_REQUESTS || this.socket.writableLength >= MAX_BUFFERED_RESPONSE_BYTES) {
        this.backlog = frames.slice(i);
        this.socket.pause();
        return;
      }
      const frame = frames[i];
      try {
        if (this.sasl?.state === 'raw') this.handleRawSaslToken(frame);
        else this.handleFrame(frame);
      } catch (err) {
        // Whatever a request does wrong, it ends this connection only, never the broker.
        this.close(`failed to handle a request: ${(err as Error).stack ?? err}`);
      }
    }
  }

  /** Responses were written or the socket drained: handle held-back frames, then read again once caught up. */
  private resumeReading(): void {
    if (this.closed || this.resuming || this.mutedTimer) return;
    this.resuming = true;
    try {
      if (this.backlog.length > 0) {
        const frames = this.backlog;
        this.backlog = [];
        this.handleFrames(frames);
      }
      if (this.backlog.length === 0 && this.socket.isPaused()) this.socket.resume();
    } finally {
      this.resuming = false;
    }
  }

  private handleFrame(frame: Buffer): void {
    const r = new Reader(frame);
    let header: RequestHeader;
    try {
      header = readRequestHeader(r);
    } catch (err) {
      return this.close(`malformed request header: ${(err as Error).message}`);
    }
    this.host.observe?.(header);
    const route = this.host.router.get(header.apiKey);
    if (header.apiKey === ApiVersions.key && (header.apiVersion > ApiVersions.maxVersion || header.apiVersion < 0)) {
      return this.answerUnsupportedApiVersions(header);
    }
    if (!route) return this.close(`unsupported API key ${header.apiKey}`);
    if (this.sasl && !this.sasl.allows(header.apiKey)) {
      return this.close(`unexpected ${route.def.name} request ${this.sasl.state === 'authenticate' ? 'during SASL authentication' : 'before SASL authentication'}`);
    }
    if (header.apiVersion < route.minVersion || header.apiVersion > route.maxVersion) {
      return this.close(`unsupported ${route.def.name} version ${header.apiVersion} (serving ${route.minVersion}-${route.maxVersion})`);
    }
    const ctx = ctxFor(route.def, header.apiVersion);
    let request: unknown;
    try {
      if (ctx.flexible) skipTaggedFields(r);
      request = route.def.request.read(r, ctx);
      // Trailing bytes are tolerated: librdkafka < 2.1 sends an extra tag byte on ListGroups v3+.
    } catch (err) {
      const what = err instanceof ProtocolError ? err.message : String(err);
      return this.close(`malformed ${route.def.name} v${header.apiVersion} request: ${what}`);
    }
    const slot: Slot = { done: false, chunks: null };
    this.queue.push(slot);
    const finish = (result: unknown) => {
      if (result !== NO_RESPONSE) {
        // Runs in a promise callback too: an encoding failure must close this connection, not escape as an
        // unhandled rejection that takes the whole broker process down.
        try {
          slot.chunks = this.encode(header, route.def, ctx, result);
        } catch (err) {
          return this.close(`cannot encode the ${route.def.name} v${header.apiVersion} response: ${(err as Error).stack ?? err}`);
        }
      }
      slot.done = true;
      this.flush();
    };
    try {
      const result = route.handle(request, this.host.makeContext(header, this));
      if (result instanceof Promise) {
        result.then(finish, (err) => this.close(`${route.def.name} handler failed: ${(err as Error).stack ?? err}`));
      } else finish(result);
    } catch (err) {
      this.close(`${route.def.name} handler failed: ${(err as Error).stack ?? err}`);
    }
  }

  private encode(header: RequestHeader, def: { key: number; response: { write(w: Writer, v: unknown, c: unknown): void } }, ctx: { version: number; flexible: boolean }, body: unknown): Buffer[] {
    const w = new Writer(512);
    w.int32(0); // size, patched below
    writeResponseHeader(w, header.correlationId, def.key, ctx.flexible);
    def.response.write(w, body, ctx);
    const chunks = w.toChunks();
    chunks[0].writeInt32BE(w.length - 4, 0);
    return chunks;
  }

  /** After a v0 SaslHandshake: the frame is a bare SASL token, and so is the answer (no Kafka headers). */
  private handleRawSaslToken(token: Buffer): void {
    const session = this.sasl!;
    const slot: Slot = { done: false, chunks: null };
    this.queue.push(slot);
    session.evaluate(Buffer.from(token)).then(
      (step) => {
        if (step.kind === 'failed') {
          // Kafka closes without an answer here: the v0 framing has no way to carry an error.
          return this.close(`SASL ${session.mechanism} authentication failed: ${step.message}`);
        }
        const size = Buffer.alloc(4);
        size.writeInt32BE(step.response.length, 0);
        slot.done = true;
        slot.chunks = [size, step.response];
        this.flush();
      },
      (err) => this.close(`SASL ${session.mechanism} authentication failed: ${(err as Error).message}`),
    );
  }

  /** An ApiVersions request newer than we know: answer in v0 with UNSUPPORTED_VERSION and our range. */
  private answerUnsupportedApiVersions(header: RequestHeader): void {
    const w = new Writer(64);
    w.int32(0);
    w.int32(header.correlationId);
    w.int16(ErrorCode.UNSUPPORTED_VERSION);
    w.int32(1).int16(ApiVersions.key).int16(ApiVersions.minVersion).int16(ApiVersions.maxVersion);
    const chunks = w.toChunks();
    chunks[0].writeInt32BE(w.length - 4, 0);
    this.queue.push({ done: true, chunks });
    this.flush();
  }

  private flush(): void {
    if (this.closed) {
      this.queue.length = 0;
      return;
    }
    let wrote = false;
    while (this.queue.length > 0 && this.queue[0].done) {
      const slot = this.queue.shift()!;
      if (!slot.chunks) continue;
      if (!wrote) {
        this.socket.cork();
        wrote = true;
      }
      for (const c of slot.chunks) {
        // A large log read goes back to its pool once the socket has taken it.
        if (isLentReadBuffer(c)) this.socket.write(c, (err) => err || releaseReadBuffer(c));
        else this.socket.write(c);
      }
    }
    if (wrote) process.nextTick(() => this.socket.uncork());
    if (this.backlog.length > 0) this.resumeReading();
    if (this.ending && this.queue.length === 0) {
      this.closed = true;
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }
  }
}
