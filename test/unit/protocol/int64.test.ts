// readInt64/writeInt64: the BigInt-free int64 accessors of batch headers give what the BigInt calls give.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readInt64, writeInt64 } from '../../../src/protocol/records/batchHeader';

const samples = [0, 1, -1, 2, 255, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, -(2 ** 32), 1234567890123, Date.now(), -1234567890123, 2 ** 53 - 1, -(2 ** 53 - 1)];

test('readInt64 equals Number(readBigInt64BE) for values and for raw 64-bit patterns', () => {
  const buf = Buffer.alloc(16);
  for (const v of samples) {
    buf.writeBigInt64BE(BigInt(v), 3);
    assert.equal(readInt64(buf, 3), Number(buf.readBigInt64BE(3)), String(v));
  }
  for (const big of [2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n, 2n ** 60n + 12345n, -(2n ** 55n) - 3n]) {
    buf.writeBigInt64BE(big, 0);
    assert.equal(readInt64(buf, 0), Number(big), String(big));
  }
});

test('writeInt64 writes the bytes writeBigInt64BE(BigInt(v)) writes, and refuses what it refuses', () => {
  for (const v of [...samples, 2 ** 60, -(2 ** 60)]) {
    const a = Buffer.alloc(12, 0xaa);
    const b = Buffer.alloc(12, 0xaa);
    writeInt64(a, v, 2);
    b.writeBigInt64BE(BigInt(v), 2);
    assert.deepEqual(a, b, String(v));
  }
  assert.throws(() => writeInt64(Buffer.alloc(8), 2 ** 64, 0));
  assert.throws(() => writeInt64(Buffer.alloc(8), 1.5, 0));
});
