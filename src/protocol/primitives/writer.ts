// An append-only encoder. Small fields go into a growable scratch buffer; large byte blobs (record batches)
// are kept as separate chunks so a Fetch response never copies the log data it serves.

const LARGE_CHUNK = 4096;
const INT64_MAX = 2n ** 63n - 1n;
/** 2^63: what 2^63-1 (and anything just below it) becomes as a JS number. */
const INT64_MAX_AS_NUMBER = 2 ** 63;

export class Writer {
  private chunks: Buffer[] = [];
  private chunksLength = 0;
  private cur: Buffer;
  private pos = 0;

  constructor(initialSize = 256) {
    this.cur = Buffer.allocUnsafe(initialSize);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.chunksLength + this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.cur.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.cur.length * 2, this.pos + n, 256));
    this.cur.copy(next, 0, 0, this.pos);
    this.cur = next;
  }

  int8(v: number): this {
    this.ensure(1);
    this.cur.writeInt8(v, this.pos++);
    return this;
  }

  uint8(v: number): this {
    this.ensure(1);
    this.cur[this.pos++] = v;
    return this;
  }

  bool(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  int16(v: number): this {
    this.ensure(2);
    this.cur.writeInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  uint16(v: number): this {
    this.ensure(2);
    this.cur.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  int32(v: number): this {
    this.ensure(4);
    this.cur.writeInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  uint32(v: number): this {
    this.ensure(4);
    this.cur.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }

  int64(v: number | bigint): this {
    this.ensure(8);
    // Long.MAX_VALUE (2^63-1, a common Kafka sentinel) read into a JS number becomes 2^63: write it back as
    // Long.MAX_VALUE instead of throwing a RangeError.
    this.cur.writeBigInt64BE(typeof v === 'number' && v >= INT64_MAX_AS_NUMBER ? INT64_MAX : BigInt(v), this.pos);
    this.pos += 8;
    return this;
  }

  float64(v: number): this {
    this.ensure(8);
    this.cur.writeDoubleBE(v, this.pos);
    this.pos += 8;
    return this;
  }

  uvarint(v: number): this {
    this.ensure(5);
    while (v >= 0x80) {
      this.cur[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.cur[this.pos++] = v;
    return this;
  }

  varint(v: number): this {
    return this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  varlong(v: number | bigint): this {
    let z = BigInt(v);
    z = (z << 1n) ^ (z >> 63n);
    z = BigInt.asUintN(64, z);
    this.ensure(10);
    while (z >= 0x80n) {
      this.cur[this.pos++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.cur[this.pos++] = Number(z);
    return this;
  }

  raw(b: Uint8Array): this {
    if (b.length >= LARGE_CHUNK) {
      this.flushCurrent();
      const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
      this.chunks.push(buf);
      this.chunksLength += buf.length;
      return this;
    }
    this.ensure(b.length);
    this.cur.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** UTF-8 string bytes with no length prefix. */
  utf8(s: string): this {
    const n = Buffer.byteLength(s);
    this.ensure(n);
    this.cur.write(s, this.pos, n, 'utf8');
    this.pos += n;
    return this;
  }

  uuid(id: string): this {
    const b = Buffer.from(id, 'base64url');
    if (b.length !== 16) throw new Error(`invalid uuid ${id}`);
    return this.raw(b);
  }

  private flushCurrent(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.cur.subarray(0, this.pos));
    this.chunksLength += this.pos;
    this.cur = Buffer.allocUnsafe(Math.max(256, this.cur.length - this.pos));
    this.pos = 0;
  }

  /** The written bytes as a list of buffers, for socket.writev-style output without copying. */
  toChunks(): Buffer[] {
    this.flushCurrent();
    return this.chunks;
  }

  toBuffer(): Buffer {
    const chunks = this.toChunks();
    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.chunksLength);
  }
}
