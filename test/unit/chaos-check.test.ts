// The chaos test's checks (test/helpers/chaos.ts) on made-up event logs: what Kafka allows passes (unacknowledged
// writes, re-delivery to the group after a rebalance, reports served by the final flush, failed commits with a
// lower offset), and each broken promise is caught.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkChaos, Ev, ExecutedFault } from '../helpers/chaos';

const T0 = 1_000_000_000_000;
const sec = (s: number) => T0 / 1000 + s;

/** A clean run: 2 partitions, producer p0g0 sends 4 records (2 per partition), all acked, consumed, committed. */
function base(): { pe: Ev[]; ce: Ev[]; re: Ev[]; executed: ExecutedFault[] } {
  const pe: Ev[] = [
    { e: 'dr', p: 0, g: 0, s: 0, part: 0, off: 0, err: null, t: sec(1) },
    { e: 'dr', p: 0, g: 0, s: 1, part: 1, off: 0, err: null, t: sec(1.1) },
    { e: 'dr', p: 0, g: 0, s: 2, part: 0, off: 1, err: null, t: sec(1.2) },
    { e: 'dr', p: 0, g: 0, s: 3, part: 1, off: 1, err: null, t: sec(1.3) },
    { e: 'stopping', sent: { p0g0: 4 }, t: sec(2) },
    { e: 'flushed', p: 0, g: 0, left: 0, t: sec(2.1) },
  ];
  const ce: Ev[] = [
    { e: 'assign', m: 0, parts: [0, 1] },
    { e: 'msg', m: 0, part: 0, off: 0, k: 'p0g0-0' },
    { e: 'msg', m: 0, part: 1, off: 0, k: 'p0g0-1' },
    { e: 'commit', m: 0, offs: { 0: 1, 1: 1 }, err: null, t: sec(1.5) },
    { e: 'observed', offs: { 0: 1, 1: 1 }, t: sec(1.6) },
    { e: 'msg', m: 0, part: 0, off: 1, k: 'p0g0-2' },
    { e: 'msg', m: 0, part: 1, off: 1, k: 'p0g0-3' },
    { e: 'commit', m: 0, offs: { 0: 2, 1: 2 }, err: null, t: sec(1.7) },
    { e: 'observed', offs: { 0: 2, 1: 2 }, t: sec(1.8) },
    { e: 'final', offs: { 0: 2, 1: 2 }, t: sec(3) },
  ];
  const re: Ev[] = [
    { e: 'watermarks', part: 0, lo: 0, hi: 2 },
    { e: 'watermarks', part: 1, lo: 0, hi: 2 },
    { e: 'rec', part: 0, off: 0, k: 'p0g0-0' },
    { e: 'rec', part: 1, off: 0, k: 'p0g0-1' },
    { e: 'rec', part: 0, off: 1, k: 'p0g0-2' },
    { e: 'rec', part: 1, off: 1, k: 'p0g0-3' },
    { e: 'done', complete: [0, 1] },
  ];
  const executed: ExecutedFault[] = [{ at: T0 + 1050, role: 'random', action: 'kill', broker: 2, downMs: 100, healedAt: T0 + 1400 }];
  return { pe, ce, re, executed };
}

function check(r: ReturnType<typeof base>) {
  return checkChaos({ title: 't', partitions: 2, t0: T0, producerEvents: r.pe, consumerEvents: r.ce, readerEvents: r.re, executed: r.executed, faultsByKind: new Map([['kill', 1]]), findings: [], minAcks: 1, minFaults: 1 });
}

describe('chaos checks', () => {
  test('a clean run passes', () => {
    const res = check(base());
    assert.deepEqual(res.problems, []);
    assert.equal(res.numbers.acked, 4);
    assert.equal(res.numbers.maxAckGapMs, 700); // last ack at 1.3 s, production stopped at 2 s
  });

  test('allowed: re-delivery after a rebalance, an unacknowledged write, a report served by the flush, a failed lower commit', () => {
    const r = base();
    // The group re-reads partition 0 from its committed offset after a rebalance, with a failed commit in between.
    r.ce.splice(r.ce.length - 1, 0,
      { e: 'revoke', m: 0, parts: [0, 1] },
      { e: 'assign', m: 1, parts: [0, 1] },
      { e: 'commit', m: 0, offs: { 0: 1 }, err: 'ILLEGAL_GENERATION', t: sec(1.9) },
      { e: 'msg', m: 1, part: 0, off: 1, k: 'p0g0-2' },
      { e: 'msg', m: 1, part: 0, off: 2, k: 'p0g0-4' },
      { e: 'commit', m: 1, offs: { 0: 3 }, err: null, t: sec(2.5) });
    r.ce[r.ce.length - 1] = { e: 'final', offs: { 0: 3, 1: 2 }, t: sec(3) };
    // p0g0-4 failed (timed out) but was written; p0g0-5 was acknowledged during the final flush.
    r.pe.splice(4, 0, { e: 'dr', p: 0, g: 0, s: 4, part: 0, off: -1, err: '_MSG_TIMED_OUT(-192)', t: sec(1.9) });
    r.pe.push({ e: 'dr', p: 0, g: 0, s: 5, part: 1, off: 2, err: null, t: sec(2.05) });
    r.re.splice(0, 2, { e: 'watermarks', part: 0, lo: 0, hi: 3 }, { e: 'watermarks', part: 1, lo: 0, hi: 3 });
    r.re.splice(r.re.length - 1, 0, { e: 'rec', part: 0, off: 2, k: 'p0g0-4' }, { e: 'rec', part: 1, off: 2, k: 'p0g0-5' });
    r.ce.splice(r.ce.length - 1, 0, { e: 'msg', m: 1, part: 1, off: 2, k: 'p0g0-5' }, { e: 'commit', m: 1, offs: { 1: 3 }, err: null, t: sec(2.6) });
    r.ce[r.ce.length - 1] = { e: 'final', offs: { 0: 3, 1: 3 }, t: sec(3) };
    const res = check(r);
    assert.deepEqual(res.problems, []);
    assert.equal(res.numbers.redelivered, 1);
    assert.equal(res.numbers.duplicates, 0);
    assert.equal(res.numbers.acked, 5);
    assert.equal(res.numbers.maxAckGapMs, 700); // the flush's report is not part of the gap
  });

  test('a lost acknowledged record, a duplicate, a reordering', () => {
    const r = base();
    // The log holds p0g0-2 twice on partition 0, and p0g0-0 after it; p0g0-3 (acked at 1@1) is gone.
    r.re = [
      { e: 'watermarks', part: 0, lo: 0, hi: 3 },
      { e: 'watermarks', part: 1, lo: 0, hi: 1 },
      { e: 'rec', part: 0, off: 0, k: 'p0g0-2' },
      { e: 'rec', part: 0, off: 1, k: 'p0g0-2' },
      { e: 'rec', part: 0, off: 2, k: 'p0g0-0' },
      { e: 'rec', part: 1, off: 0, k: 'p0g0-1' },
      { e: 'done', complete: [0, 1] },
    ];
    const res = check(r);
    assert.equal(res.numbers.lost, 2); // p0g0-0 moved from 0@0 to 0@2, p0g0-3 missing
    assert.equal(res.numbers.duplicates, 1);
    assert.equal(res.numbers.outOfOrder, 1);
    assert.match(res.problems.join('\n'), /p0g0-3 acked at 1@1/);
  });

  test('a fatal producer error, committed offsets moving back, a skipped offset, a consumed record later truncated', () => {
    const r = base();
    r.pe.push({ e: 'error', p: 0, g: 0, fatal: true, name: 'OUT_OF_ORDER_SEQUENCE_NUMBER', str: 'x', t: sec(1.4) });
    r.ce = r.ce.filter((e) => !(e.e === 'msg' && e.part === 1 && e.off === 0)); // never consumed 1@0
    r.ce.push({ e: 'msg', m: 0, part: 0, off: 2, k: 'p0g0-9' }); // consumed, then truncated away
    r.ce.splice(r.ce.length - 2, 0, { e: 'observed', offs: { 0: 1, 1: 2 }, t: sec(1.9) }); // 2 -> 1
    const res = check(r);
    assert.equal(res.numbers.fatal, 1);
    assert.equal(res.numbers.commitsBackwards, 1);
    assert.equal(res.numbers.skipped, 1);
    assert.equal(res.numbers.changedAfterConsume, 1);
  });

  test('a group that did not commit the log end', () => {
    const r = base();
    r.ce[r.ce.length - 1] = { e: 'final', offs: { 0: 2, 1: 1 }, t: sec(3) };
    assert.match(check(r).problems.join('\n'), /final committed offset of partition 1 is 1, the log end is 2/);
  });
});
