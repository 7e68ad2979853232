// Framing and message headers. A frame is int32 size + payload. Request header v1 is
// api_key, api_version, correlation_id, client_id (a classic int16 nullable string even in header v2);
// header v2 adds a tagged-field section and is used iff the request version is flexible.
// Response header v0 is the correlation id; v1 adds tagged fields, except for ApiVersions, whose response
// header is always v0 so that a client that does not yet know our versions can parse it.

import { Reader } from './primitives/reader';
import { Writer } from './primitives/writer';

export const API_VERSIONS_KEY = 18;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Reads the v1 part of a request header; the caller skips the tag section if the version is flexible. */
export function readRequestHeader(r: Reader): RequestHeader {
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  const clientId = r.stringOfLength(r.int16());
  return { apiKey, apiVersion, correlationId, clientId };
}

/** Skips a tagged-field section (header v2 and struct tails). */
export function skipTaggedFields(r: Reader): void {
  const n = r.uvarint();
  for (let i = 0; i < n; i++) {
    r.uvarint();
    r.skip(r.uvarint());
  }
}

export function writeRequestHeader(w: Writer, h: RequestHeader, flexible: boolean): void {
  w.int16(h.apiKey).int16(h.apiVersion).int32(h.correlationId);
  if (h.clientId === null) w.int16(-1);
  else w.int16(Buffer.byteLength(h.clientId)).utf8(h.clientId);
  if (flexible) w.uvarint(0);
}

export function responseHeaderIsFlexible(apiKey: number, flexible: boolean): boolean {
  return flexible && apiKey !== API_VERSIONS_KEY;
}

export function writeResponseHeader(w: Writer, correlationId: number, apiKey: number, flexible: boolean): void {
  w.int32(correlationId);
  if (responseHeaderIsFlexible(apiKey, flexible)) w.uvarint(0);
}

/**
 * Splits a byte stream into frames. Feed it socket data; it returns complete frame payloads (without the size
 * prefix) and keeps a partial one. A declared size above maxFrameBytes is refused before any allocation.
 */
export class FrameDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxFrameBytes: number) {}

  push(data: Buffer): Buffer[] {
    this.pending.push(data);
    this.pendingBytes += data.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.pendingBytes < 4) break;
      const head = this.peek(4);
      const size = head.readInt32BE(0);
      if (size < 0 || size > this.maxFrameBytes) {
        throw new FrameTooLargeError(size, this.maxFrameBytes);
      }
      if (this.pendingBytes < 4 + size) break;
      const all = this.take(4 + size);
      frames.push(all.subarray(4));
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.pending[0].length >= n) return this.pending[0];
    const joined = Buffer.concat(this.pending);
    this.pending = [joined];
    return joined;
  }

  private take(n: number): Buffer {
    let buf = this.pending[0];
    if (buf.length < n) {
      buf = Buffer.concat(this.pending);
      this.pending = [buf];
    }
    const out = buf.subarray(0, n);
    if (buf.length === n) this.pending.shift();
    else this.pending[0] = buf.subarray(n);
    this.pendingBytes -= n;
    return out;
  }
}

export class FrameTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly max: number,
  ) {
    super(`frame size ${size} outside 0..${max}`);
  }
}
