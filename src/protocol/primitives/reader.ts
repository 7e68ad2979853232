// A bounds-checked cursor over one request or response body. Every length read from the wire is checked
// against the bytes actually present before anything is allocated, so a hostile frame cannot make us
// allocate more than the frame itself.

export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

export class Reader {
  offset: number;

  constructor(
    readonly buf: Buffer,
    offset = 0,
    readonly end = buf.length,
  ) {
    this.offset = offset;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.offset + n > this.end) {
      throw new ProtocolError(`truncated ${what}: need ${n} bytes at offset ${this.offset}, have ${this.remaining}`);
    }
  }

  int8(): number {
    this.need(1, 'int8');
    return this.buf.readInt8(this.offset++);
  }

  uint8(): number {
    this.need(1, 'uint8');
    return this.buf[this.offset++];
  }

  bool(): boolean {
    return this.int8() !== 0;
  }

  int16(): number {
    this.need(2, 'int16');
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  uint16(): number {
    this.need(2, 'uint16');
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  int32(): number {
    this.need(4, 'int32');
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  uint32(): number {
    this.need(4, 'uint32');
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** int64 as a JS number: offsets, timestamps and producer ids all stay below 2^53 in practice. */
  int64(): number {
    this.need(8, 'int64');
    const v = Number(this.buf.readBigInt64BE(this.offset));
    this.offset += 8;
    return v;
  }

  float64(): number {
    this.need(8, 'float64');
    const v = this.buf.readDoubleBE(this.offset);
    this.offset += 8;
    return v;
  }

  /** Unsigned LEB128 varint, at most 5 bytes (32 bits). */
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      this.need(1, 'varint');
      const b = this.buf[this.offset++];
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    throw new ProtocolError('varint longer than 5 bytes');
  }

  /** Zig-zag signed varint (32 bits). */
  varint(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** Zig-zag signed varlong (64 bits, returned as a number). */
  varlong(): number {
    let value = 0n;
    for (let shift = 0n; shift <= 63n; shift += 7n) {
      this.need(1, 'varlong');
      const b = this.buf[this.offset++];
      value |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return Number((value >> 1n) ^ -(value & 1n));
    }
    throw new ProtocolError('varlong longer than 10 bytes');
  }

  raw(n: number, what = 'bytes'): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  skip(n: number): void {
    this.need(n, 'skipped bytes');
    this.offset += n;
  }

  /** Reads a string whose length prefix was already read; -1 means null. */
  stringOfLength(len: number): string | null {
    if (len === -1) return null;
    if (len < -1) throw new ProtocolError(`negative string length ${len}`);
    this.need(len, 'string');
    const v = this.buf.toString('utf8', this.offset, this.offset + len);
    this.offset += len;
    return v;
  }

  uuid(): string {
    return this.raw(16, 'uuid').toString('base64url');
  }
}
