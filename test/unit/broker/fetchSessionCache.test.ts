// The fetch session cache's slots (KIP-227 and our two limits): a follower broker holds at most
// MAX_SESSIONS_PER_FOLLOWER sessions, a client connection at most one session it never fetched through, a client's
// newcomer never evicts a follower's session (stale or not) and a follower's newcomer may evict any client's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FetchSessionCache, MAX_SESSIONS_PER_FOLLOWER } from '../../../src/broker/fetchSessions';
import { ErrorCode } from '../../../src/protocol/errorCode';

const EVICTION_MS = 120_000;

function cache(slots: number) {
  const clock = { now: 1_000_000 };
  return { clock, cache: new FetchSessionCache(() => slots, () => EVICTION_MS, () => clock.now) };
}

describe('fetch session cache', () => {
  it(`keeps at most ${MAX_SESSIONS_PER_FOLLOWER} sessions per follower broker, closing its least recently used`, () => {
    const { clock, cache: c } = cache(100);
    const mine = [];
    for (let i = 0; i < MAX_SESSIONS_PER_FOLLOWER; i++) {
      mine.push(c.create({ follower: 2 })!);
      clock.now += 10;
    }
    const others = c.create({ follower: 3 })!;
    // The first one is used again: the second is now the least recently used of follower 2.
    assert.ok('session' in c.incremental(mine[0].id, 1));
    const newest = c.create({ follower: 2 })!;
    assert.equal(c.size, MAX_SESSIONS_PER_FOLLOWER + 1);
    assert.equal(mine[1].closed, true, 'the least recently used of follower 2 is closed');
    assert.deepEqual(c.incremental(mine[1].id, 1), { errorCode: ErrorCode.FETCH_SESSION_ID_NOT_FOUND });
    for (const s of [mine[0], mine[2], mine[3], newest, others]) assert.equal(s.closed, false);
    assert.equal(mine[1].fetchOffsetOf({} as never), undefined, 'a closed session vouches for no partition');
  });

  it('keeps one unused session per client connection; used ones stay', () => {
    const { cache: c } = cache(100);
    const a1 = c.create({ connection: 7 })!;
    const b = c.create({ connection: 8 })!;
    const a2 = c.create({ connection: 7 })!;
    assert.equal(a1.closed, true, 'the unused session of connection 7 gave way to its new one');
    assert.equal(b.closed, false, 'another connection is not affected');
    assert.ok('session' in c.incremental(a2.id, 1));
    const a3 = c.create({ connection: 7 })!;
    assert.equal(a2.closed, false, 'a used session stays');
    assert.equal(c.size, 3);
    c.create({ connection: 7 });
    assert.equal(a3.closed, true);
    assert.equal(c.size, 3);
  });

  it("never lets a client's session evict a follower's, stale or not; a follower's takes a client's slot", () => {
    const { clock, cache: c } = cache(2);
    const follower = c.create({ follower: 2 })!;
    const client = c.create({ connection: 1 })!;
    assert.ok('session' in c.incremental(client.id, 1));
    assert.equal(c.create({ connection: 2 }), undefined, 'full, nothing stale: sessionless');

    clock.now += EVICTION_MS + 1;
    const newcomer = c.create({ connection: 2 })!;
    assert.ok(newcomer, 'a stale client session gives way');
    assert.equal(client.closed, true);
    assert.equal(follower.closed, false, 'the stale follower session stays');
    assert.ok('session' in c.incremental(newcomer.id, 1));
    assert.equal(c.create({ connection: 3 }), undefined, "only a follower's session is stale: still no slot for a client");

    // A follower's newcomer takes the least recently used of the stale sessions and the clients' sessions.
    const follower3 = c.create({ follower: 3 })!;
    assert.ok(follower3, "a follower's newcomer takes a stale follower's slot");
    assert.equal(follower.closed, true);
    assert.equal(newcomer.closed, false);
    const follower4 = c.create({ follower: 4 })!;
    assert.ok(follower4, "and a recent client's");
    assert.equal(newcomer.closed, true);
    assert.equal(follower3.closed, false);
    assert.equal(c.create({ follower: 5 }), undefined, 'two recent follower sessions: no slot even for a follower');
  });

  it('answers no session at all with zero slots', () => {
    assert.equal(cache(0).cache.create({ follower: 2 }), undefined);
  });
});
