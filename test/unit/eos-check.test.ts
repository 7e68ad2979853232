// The exactly-once test's checks (test/helpers/eos.ts) on made-up reads: a clean copy passes, and a lost,
// duplicated, reordered or foreign output record is caught, as are final offsets short of the input's end.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkExactlyOnce, EosInput } from '../helpers/eos';
import type { Ev } from '../helpers/python';

/** 2 partitions, 3 input records each, copied in order; the group committed the input's end. */
function base(): EosInput {
  const inputEvents: Ev[] = [{ e: 'watermarks', part: 0, lo: 0, hi: 3 }, { e: 'watermarks', part: 1, lo: 0, hi: 3 }];
  const outputEvents: Ev[] = [];
  for (const part of [0, 1]) {
    for (let off = 0; off < 3; off++) {
      inputEvents.push({ e: 'rec', part, off, k: `p${part}g0-${off}` });
      // Output offsets skip the control records (markers) between transactions.
      outputEvents.push({ e: 'rec', part, off: off * 2, k: `p${part}g0-${off}`, v: `${part}:${off}:p${part}g0-${off}` });
    }
  }
  inputEvents.push({ e: 'done', complete: [0, 1] });
  outputEvents.push({ e: 'done', complete: [0, 1] });
  return { partitions: 2, inputEvents, outputEvents, finalOffsets: { 0: 3, 1: 3 } };
}

const recs = (x: EosInput) => x.outputEvents.filter((e) => e.e === 'rec');

describe('exactly-once checks', () => {
  test('a clean copy passes', () => {
    const { problems, numbers } = checkExactlyOnce(base());
    assert.deepEqual(problems, []);
    assert.deepEqual(numbers, { input: 6, output: 6, missing: 0, duplicates: 0, outOfOrder: 0, wrong: 0 });
  });

  test('a lost record is caught', () => {
    const x = base();
    x.outputEvents.splice(x.outputEvents.indexOf(recs(x)[1]), 1);
    assert.match(checkExactlyOnce(x).problems.join('\n'), /1 input records not in the committed output: 0@1/);
  });

  test('a duplicate (a transaction committed twice) is caught', () => {
    const x = base();
    x.outputEvents.splice(3, 0, { ...recs(x)[2], off: 5 });
    const { problems } = checkExactlyOnce(x);
    assert.match(problems.join('\n'), /more than once in the committed output: 0@2 x2/);
  });

  test('reordering within a partition is caught', () => {
    const x = base();
    const [a, b] = [recs(x)[0], recs(x)[1]];
    [a.v, b.v] = [b.v, a.v];
    assert.match(checkExactlyOnce(x).problems.join('\n'), /1 out of order/);
  });

  test('a record from the wrong partition or with the wrong key is caught', () => {
    const x = base();
    recs(x)[4].v = '0:1:p0g0-1';
    recs(x)[5].v = '1:2:nope';
    const joined = checkExactlyOnce(x).problems.join('\n');
    assert.match(joined, /is from input partition 0/);
    assert.match(joined, /says input 1@2 held nope/);
  });

  test('final committed offsets short of the input end, or an unfinished read, are caught', () => {
    const x = base();
    x.finalOffsets = { 0: 3, 1: 2 };
    x.outputEvents[x.outputEvents.length - 1] = { e: 'done', complete: [0] };
    const joined = checkExactlyOnce(x).problems.join('\n');
    assert.match(joined, /final committed offset of input partition 1 is 2, its log end is 3/);
    assert.match(joined, /output reader did not reach the end of partitions 1/);
  });
});
