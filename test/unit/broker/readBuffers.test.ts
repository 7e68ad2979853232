// The pool of large log-read buffers: lent buffers come back only when released, are reused for reads that fit,
// and small reads never touch the pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { POOLED_READ_MIN_BYTES, acquireReadBuffer, isLentReadBuffer, releaseReadBuffer } from '../../../src/broker/state/readBuffers';

test('small reads are plain Buffers outside the pool', () => {
  const b = acquireReadBuffer(POOLED_READ_MIN_BYTES - 1);
  assert.equal(b.length, POOLED_READ_MIN_BYTES - 1);
  assert.equal(isLentReadBuffer(b), false);
  releaseReadBuffer(b); // ignored
});

test('a released large buffer is reused for the next read that fits; an unreleased one never is', () => {
  const size = 32 * 1024 * 1024;
  const a = acquireReadBuffer(size);
  const b = acquireReadBuffer(size);
  assert.equal(a.length, size);
  assert.notEqual(a.buffer, b.buffer);
  assert.ok(isLentReadBuffer(a.subarray(10, 20)), 'views of a lent buffer are recognised');
  releaseReadBuffer(a.subarray(0, 100));
  assert.equal(isLentReadBuffer(a), false);
  releaseReadBuffer(a); // a second release is ignored
  const c = acquireReadBuffer(size - 12345);
  assert.equal(c.buffer, a.buffer, 'reused');
  assert.equal(c.length, size - 12345);
  const d = acquireReadBuffer(size);
  assert.notEqual(d.buffer, a.buffer, 'still lent as c');
  assert.notEqual(d.buffer, b.buffer, 'b was never released');
});

test('a free buffer far larger than the read is not used for it', () => {
  const big = acquireReadBuffer(64 * 1024 * 1024);
  releaseReadBuffer(big);
  const small = acquireReadBuffer(POOLED_READ_MIN_BYTES);
  assert.notEqual(small.buffer, big.buffer);
});
