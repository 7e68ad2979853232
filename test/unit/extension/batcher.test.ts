import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Batcher } from '../../../src/extension/model/batcher';
import { mapLimit } from '../../../src/extension/model/adminSession';

describe('batcher', () => {
  it('serves reads that arrive together with one bulk read, in chunks', async () => {
    const calls: string[][] = [];
    const b = new Batcher<string, string>(
      async (keys) => {
        calls.push(keys);
        return new Map(keys.filter((k) => k !== 'gone').map((k) => [k, k.toUpperCase()]));
      },
      { maxBatch: 3 },
    );
    const results = await Promise.allSettled(['a', 'b', 'a', 'c', 'd', 'gone'].map((k) => b.get(k)));
    assert.deepEqual(calls, [
      ['a', 'b', 'c'],
      ['d', 'gone'],
    ]);
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : 'rejected')),
      ['A', 'B', 'A', 'C', 'D', 'rejected'],
    );
    assert.equal(await b.get('e'), 'E', 'a later read starts a new batch');
    assert.equal(calls.length, 3);
  });

  it('fails every waiter of a failed bulk read', async () => {
    const b = new Batcher<number, number>(async () => {
      throw new Error('boom');
    });
    await assert.rejects(Promise.all([b.get(1), b.get(2)]), /boom/);
  });

  it('mapLimit keeps order and bounds concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 40, 20, 30]);
    assert.equal(peak, 2);
  });
});
