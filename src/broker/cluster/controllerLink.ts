// The link between the supervisor (which holds the controller) and a broker process: a Unix domain socket in the
// data directory carrying newline-delimited JSON (the messages of ipc.ts). Unlike Node's fork IPC channel, it does
// not tie the broker's life to the supervisor's: a broker whose supervisor died keeps serving and reconnects to
// the next one (see supervisor.ts for the design).

import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Unix socket paths are limited to about 108 bytes: a long data dir gets a socket in the temp dir named by its hash. */
export function controllerSocketPath(dir: string): string {
  const inDir = join(dir, 'controller.sock');
  if (Buffer.byteLength(inDir) < 100) return inDir;
  return join(tmpdir(), `minikafka-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}.sock`);
}

/** One end of the link: send() writes a message, 'message' is each message read, 'close' once the socket is gone. */
export class LineLink<In, Out> extends EventEmitter {
  private buffered = '';
  private closed = false;

  constructor(readonly socket: Socket) {
    super();
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => {
      // A large message (a metadata image or delta) arrives in many chunks: look for its end in the new chunk only.
      const from = this.buffered.length;
      this.buffered += chunk;
      if (chunk.indexOf('\n') < 0) return;
      let nl = this.buffered.indexOf('\n', from);
      for (; nl >= 0; nl = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        if (line === '') continue;
        let msg: In;
        try {
          msg = JSON.parse(line) as In;
        } catch {
          continue; // a garbled line from something that is not ours: ignore it
        }
        this.emit('message', msg);
      }
    });
    // Errors (EPIPE, ECONNRESET) end in 'close', which is what users of the link act on.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.emit('close');
    });
  }

  get connected(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  send(msg: Out): boolean {
    return this.sendEncoded(encodeLine(msg));
  }

  /**
   * Sends a message already encoded with encodeLine (one encoding for a message that goes to every broker);
   * `written` is called once the socket handed all of it to the kernel, or failed (at once when not connected).
   */
  sendEncoded(line: string, written?: () => void): boolean {
    if (!this.connected) {
      written?.();
      return false;
    }
    this.socket.write(line, written && (() => written()));
    return true;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A message as it travels on the link: one line of JSON. */
export function encodeLine(msg: unknown): string {
  return `${JSON.stringify(msg)}\n`;
}
