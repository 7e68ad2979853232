// CRC-32C: the WebAssembly slicing-by-16 kernel (long inputs) and the JavaScript loop (short ones) against a bitwise
// reference, the standard check value and kafkajs's own implementation, across lengths, offsets and window edges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CRC_WASM_MIN_BYTES, crc32c, crc32cImplementation } from '../../../src/protocol/records/crc32c';
const kafkajsCrc32C = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C') as (buf: Buffer) => number;

function bitwise(buf: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) {
    c ^= buf[i];
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function randomBytes(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

test('the WebAssembly kernel is in use on this Node', () => {
  assert.equal(crc32cImplementation, 'wasm');
});

test('check value of "123456789" is 0xe3069283; empty input is 0', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  assert.equal(crc32c(Buffer.alloc(CRC_WASM_MIN_BYTES * 4)), bitwise(Buffer.alloc(CRC_WASM_MIN_BYTES * 4), 0, CRC_WASM_MIN_BYTES * 4));
});

test('both paths agree with a bitwise CRC at every length around the thresholds and 64 KiB windows, at odd offsets', () => {
  const data = randomBytes(3 * 65536 + 100, 7);
  const lengths = [1, 2, 15, 16, 17, 31, 32, 33, CRC_WASM_MIN_BYTES - 1, CRC_WASM_MIN_BYTES, CRC_WASM_MIN_BYTES + 1, 1000, 65535, 65536, 65537, 2 * 65536 + 15, 3 * 65536];
  for (const start of [0, 1, 3, 21, 61]) {
    for (const n of lengths) {
      assert.equal(crc32c(data, start, start + n), bitwise(data, start, start + n), `length ${n} at ${start}`);
    }
  }
});

test('agrees with kafkajs on random record-batch-sized inputs and on views into larger buffers', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const n = (seed * 7919) % 300000;
    const whole = randomBytes(n + 50, seed);
    const view = whole.subarray(17, 17 + n);
    assert.equal(crc32c(view), kafkajsCrc32C(Buffer.from(view)) >>> 0, `seed ${seed}, ${n} bytes`);
    assert.equal(crc32c(whole, 17, 17 + n), crc32c(view));
  }
});
