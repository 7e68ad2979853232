// CRC-32C (Castagnoli), the checksum of Kafka record batches v2. Node's zlib.crc32 is the IEEE polynomial,
// which Kafka does not use, and JavaScript has no access to the SSE4.2 crc32 instruction, so this is the
// table-driven slicing-by-16 algorithm (16 lookups per 16 input bytes), in two forms:
//   - a WebAssembly kernel for inputs of CRC_WASM_MIN_BYTES or more (record batches): the input is copied in
//     64 KiB pieces into the module's memory, where the tables live too. About 3× the JavaScript loop, because
//     WebAssembly loads are not bounds-checked element by element like typed-array reads.
//   - the same algorithm in JavaScript for short inputs (where the copy and call would cost more than they
//     save) and as a fallback where WebAssembly is unavailable.
// The WebAssembly module is assembled below from its instructions (about 500 bytes): no binary blob, no build step.

const POLY = 0x82f63b78; // reflected Castagnoli polynomial

/** 16 tables of 256 entries, table k at [256k, 256k + 256): entry = CRC register after k more zero bytes. */
const TABLES: Int32Array = (() => {
  const t = new Int32Array(16 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    t[i] = c;
  }
  for (let k = 1; k < 16; k++) {
    for (let i = 0; i < 256; i++) {
      const prev = t[(k - 1) * 256 + i];
      t[k * 256 + i] = (prev >>> 8) ^ t[prev & 0xff];
    }
  }
  return t;
})();

/** Advances the CRC register (not inverted) over buf[start, end) in JavaScript. */
function updateJs(crc: number, buf: Uint8Array, start: number, end: number): number {
  const t = TABLES;
  let i = start;
  while (end - i >= 16) {
    const a = (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)) ^ crc;
    crc =
      t[3840 + (a & 0xff)] ^
      t[3584 + ((a >>> 8) & 0xff)] ^
      t[3328 + ((a >>> 16) & 0xff)] ^
      t[3072 + (a >>> 24)] ^
      t[2816 + buf[i + 4]] ^
      t[2560 + buf[i + 5]] ^
      t[2304 + buf[i + 6]] ^
      t[2048 + buf[i + 7]] ^
      t[1792 + buf[i + 8]] ^
      t[1536 + buf[i + 9]] ^
      t[1280 + buf[i + 10]] ^
      t[1024 + buf[i + 11]] ^
      t[768 + buf[i + 12]] ^
      t[512 + buf[i + 13]] ^
      t[256 + buf[i + 14]] ^
      t[buf[i + 15]];
    i += 16;
  }
  while (i < end) crc = t[(crc ^ buf[i++]) & 0xff] ^ (crc >>> 8);
  return crc;
}

// ------------------------------------------------------------------------------------------------ WebAssembly

/** Inputs at least this long go through the WebAssembly kernel. */
export const CRC_WASM_MIN_BYTES = 256;
/** Memory layout of the module: the tables at 0 (16 KiB), then the input window. Two 64 KiB pages in all. */
const TABLE_BYTES = 16 * 1024;
const WINDOW_BYTES = 64 * 1024;

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/**
 * `(func (export "update") (param $ptr i32) (param $len i32) (param $crc i32) (result i32))`: the CRC register
 * after memory[ptr, ptr + len), slicing-by-16 then bytewise, the same algorithm as updateJs.
 */
function assembleModule(): Uint8Array {
  const I32 = 0x7f;
  const [PTR, END, CRC, W0] = [0, 1, 2, 3]; // params, then locals W0..W3 (the four words of a 16-byte block)
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const i32 = (n: number) => [0x41, ...sleb(n)];
  const load = (offset: number) => [0x28, 2, ...uleb(offset)]; // i32.load align=4 (a hint; unaligned is fine)
  const load8u = [0x2d, 0, 0];
  const [ADD, SUB, AND, XOR, SHL, SHR_U, LT_S, GE_U] = [0x6a, 0x6b, 0x71, 0x73, 0x74, 0x76, 0x48, 0x4f];
  const [BLOCK, LOOP, BR, BR_IF, END_, VOID] = [0x02, 0x03, 0x0c, 0x0d, 0x0b, 0x40];
  /** Table k entry for the byte value on the stack: i32.load offset=1024k (value << 2). */
  const lookup = (k: number) => [...i32(2), SHL, ...load(k * 1024)];
  /** Byte `b` (0 = lowest) of local `w`, times 4 (a table entry's address in table 0). */
  const byte4 = (w: number, b: number) => [...get(w), ...(b === 0 ? [...i32(2), SHL] : [...i32(8 * b - 2), SHR_U]), ...i32(0x3fc), AND];

  const code: number[] = [];
  code.push(...get(PTR), ...get(END), ADD, ...set(END)); // the len param becomes the end pointer
  // Slicing-by-16: while (end - ptr >= 16) { ... }
  code.push(BLOCK, VOID, LOOP, VOID);
  code.push(...get(END), ...get(PTR), SUB, ...i32(16), LT_S, BR_IF, 1);
  code.push(...get(PTR), ...load(0), ...get(CRC), XOR, ...set(W0));
  for (let w = 1; w < 4; w++) code.push(...get(PTR), ...load(4 * w), ...set(W0 + w));
  for (let n = 0; n < 16; n++) {
    // Byte n of the block (little-endian words) goes through table 15 - n.
    code.push(...byte4(W0 + (n >> 2), n & 3), ...load((15 - n) * 1024));
    if (n > 0) code.push(XOR);
  }
  code.push(...set(CRC));
  code.push(...get(PTR), ...i32(16), ADD, ...set(PTR));
  code.push(BR, 0, END_, END_);
  // The tail, bytewise: while (ptr < end) crc = T0[(crc ^ mem[ptr++]) & 0xff] ^ (crc >>> 8)
  code.push(BLOCK, VOID, LOOP, VOID);
  code.push(...get(PTR), ...get(END), GE_U, BR_IF, 1);
  code.push(...get(CRC), ...get(PTR), ...load8u, XOR, ...i32(0xff), AND, ...lookup(0), ...get(CRC), ...i32(8), SHR_U, XOR, ...set(CRC));
  code.push(...get(PTR), ...i32(1), ADD, ...set(PTR));
  code.push(BR, 0, END_, END_);
  code.push(...get(CRC), END_);
  const body = [...vec([[4, I32]]), ...code];

  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32]]), ...vec([[I32]])]])), // type: (i32 i32 i32) -> i32
    ...section(3, vec([[0]])), // function 0 has type 0
    ...section(5, vec([[0x00, ...uleb((TABLE_BYTES + WINDOW_BYTES + 0xffff) >>> 16)]])), // memory, min pages
    ...section(7, vec([[...name('update'), 0x00, 0], [...name('memory'), 0x02, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

interface WasmKernel {
  update: (ptr: number, len: number, crc: number) => number;
  memory: Uint8Array;
}

/** The part of the WebAssembly JS API used here (the project's type libraries do not declare it). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: { update: unknown; memory: { buffer: ArrayBuffer } } };
}

const WASM: WasmKernel | null = (() => {
  try {
    const WebAssembly = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
    if (WebAssembly === undefined) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(assembleModule()), {});
    const memory = new Uint8Array(instance.exports.memory.buffer);
    new Int32Array(memory.buffer, 0, TABLES.length).set(TABLES); // the module's memory is little-endian, like x86/arm hosts
    const kernel: WasmKernel = { update: instance.exports.update as WasmKernel['update'], memory };
    // Self-check against the JavaScript loop (the standard check value is 0xe3069283 for "123456789"); any
    // disagreement (a big-endian host, say) keeps the JavaScript path.
    const probe = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) & 0xff);
    kernel.memory.set(probe, TABLE_BYTES);
    return kernel.update(TABLE_BYTES, probe.length, -1) === updateJs(-1, probe, 0, probe.length) ? kernel : null;
  } catch {
    return null;
  }
})();

function updateWasm(kernel: WasmKernel, crc: number, buf: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i += WINDOW_BYTES) {
    const n = Math.min(WINDOW_BYTES, end - i);
    kernel.memory.set(buf.subarray(i, i + n), TABLE_BYTES);
    crc = kernel.update(TABLE_BYTES, n, crc);
  }
  return crc;
}

/** CRC-32C of buf[start, end). Returns an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  const crc = WASM !== null && end - start >= CRC_WASM_MIN_BYTES ? updateWasm(WASM, -1, buf, start, end) : updateJs(-1, buf, start, end);
  return (crc ^ -1) >>> 0;
}

/** Which implementation long inputs use (benchmarks and diagnostics). */
export const crc32cImplementation: 'wasm' | 'js' = WASM !== null ? 'wasm' : 'js';
