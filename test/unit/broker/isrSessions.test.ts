// The leader's ISR check with followers that fetch through incremental fetch sessions: an idle partition is named in
// no request and read by no fetch, yet a follower whose live session still holds it at the leader's log end stays
// in sync; a follower stays out of sync as soon as its session stops vouching (closed, partition forgotten, fetches
// stopped) or data it has not fetched arrives; and a follower caught up outside the ISR asks to rejoin again at the
// next check when its first request was lost.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { FetchSessionCache, SessionPartition } from '../../../src/broker/fetchSessions';
import { Partition } from '../../../src/broker/partition';
import { PartitionLog } from '../../../src/broker/state/partitionLog';
import { buildBatch } from '../../../src/protocol/records/recordBatch';
import { tempDir } from '../../helpers/broker';

const LAG_MS = 30_000;
const logConfig = { segmentBytes: 1 << 20, segmentMs: 7 * 24 * 3600_000, retentionMs: -1, retentionBytes: -1, indexIntervalBytes: 4096, fileDeleteDelayMs: 0 };

let dir: string;
let log: PartitionLog;
let clock: { now: number };
let sessions: FetchSessionCache;
/** ISR changes the partition asked for (the controller's answer never comes back in these tests). */
let asked: number[][];

function leaderOf(isr: number[]): Partition {
  const p = new Partition('t', 'id', 0, log, 1, { partition: 0, replicas: [1, 2, 3], isr, leader: 1, leaderEpoch: 0, partitionEpoch: 0, addingReplicas: [], removingReplicas: [] }, { 'min.insync.replicas': '1' }, (_p, isr) => asked.push(isr));
  p.applyState(p.state);
  return p;
}

/** What the fetch handler does for a follower's fetch that reads `p` at `offset` through `session` (or sessionless). */
function fetchRead(p: Partition, follower: number, offset: number, session?: ReturnType<FetchSessionCache['create']>): void {
  if (session) {
    const sp: SessionPartition = { topic: 't', topicId: 'id', partition: 0, fetchOffset: offset, currentLeaderEpoch: 0, lastFetchedEpoch: -1, logStartOffset: 0, partitionMaxBytes: 1 << 20, sentHighWatermark: -1, sentLogStartOffset: -1, replica: p };
    session.partitions.set('t\0' + 0, sp);
    session.byReplica.set(p, sp);
  }
  p.updateFollower(follower, offset, clock.now, session);
}

/** An incremental fetch of the session that names no partition and reads none (every one of them is idle). */
function idleFetch(session: NonNullable<ReturnType<FetchSessionCache['create']>>): void {
  const found = sessions.incremental(session.id, session.nextEpoch);
  assert.ok('session' in found, 'the session is live');
}

function append(p: Partition): void {
  p.appendAsLeader(buildBatch({ records: [{ value: Buffer.from('x') }] }));
}

beforeEach(() => {
  dir = tempDir('minikafka-isr-sessions-');
  log = PartitionLog.open(dir, logConfig);
  clock = { now: 10_000_000 };
  sessions = new FetchSessionCache(() => 100, () => 120_000, () => clock.now);
  asked = [];
});

afterEach(() => {
  log.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Lets `ms` pass in steps of one follower fetch round (500 ms), running `each` at every step. */
function pass(ms: number, each: () => void = () => {}): void {
  for (let t = 0; t < ms; t += 500) {
    clock.now += 500;
    each();
  }
}

describe('ISR check with fetch sessions', () => {
  it('keeps a follower whose session holds an idle partition at the log end, and drops one that stopped fetching', () => {
    const p = leaderOf([1, 2, 3]);
    append(p);
    const s2 = sessions.create({ follower: 2 })!;
    const s3 = sessions.create({ follower: 3 })!;
    fetchRead(p, 2, 1, s2);
    fetchRead(p, 3, 1, s3);
    assert.equal(p.highWatermark, 1);

    // Both keep fetching for a while (no partition read), then follower 3's fetches stop (paused, or dead).
    pass(LAG_MS, () => (idleFetch(s2), idleFetch(s3)));
    p.checkIsr(LAG_MS, clock.now);
    assert.deepEqual(asked, [], 'both in sync after the lag time with no partition read');
    pass(LAG_MS + 1000, () => idleFetch(s2));
    p.checkIsr(LAG_MS, clock.now);
    assert.deepEqual(asked, [[1, 2]], 'follower 3 fetched nothing for longer than the lag time');
  });

  it('stops vouching once the session is closed, the partition forgotten, or data arrived that the follower did not fetch', () => {
    const p = leaderOf([1, 2, 3]);
    const s2 = sessions.create({ follower: 2 })!;
    const s3 = sessions.create({ follower: 3 })!;
    fetchRead(p, 2, 0, s2);
    fetchRead(p, 3, 0, s3);
    sessions.remove(s2.id); // follower 2 closed its session
    s3.byReplica.delete(p); // follower 3 forgot the partition (backing off)
    pass(LAG_MS + 1000, () => idleFetch(s3));
    p.checkIsr(LAG_MS, clock.now);
    assert.deepEqual(asked, [[1]]);

    // A follower whose session holds the partition at an offset below the log end is not caught up.
    asked = [];
    const q = leaderOf([1, 2, 3]);
    const t2 = sessions.create({ follower: 2 })!;
    fetchRead(q, 2, 0, t2);
    fetchRead(q, 3, 0, sessions.create({ follower: 3 })!);
    clock.now += 100;
    append(q);
    const t3 = sessions.create({ follower: 3 })!;
    fetchRead(q, 3, 1, t3);
    pass(LAG_MS + 1000, () => (idleFetch(t2), idleFetch(t3)));
    q.checkIsr(LAG_MS, clock.now);
    assert.deepEqual(asked, [[1, 3]], 'follower 2 never fetched the new record');
  });

  it('a sessionless follower is caught up only by its fetches', () => {
    const p = leaderOf([1, 2, 3]);
    pass(LAG_MS - 1000, () => {
      fetchRead(p, 2, 0);
      fetchRead(p, 3, 0);
    });
    pass(LAG_MS + 1000, () => fetchRead(p, 2, 0));
    p.checkIsr(LAG_MS, clock.now);
    assert.deepEqual(asked, [[1, 2]]);
  });

  it('asks again for a caught-up follower to rejoin when its first request was lost', () => {
    const p = leaderOf([1, 2]);
    append(p);
    const s2 = sessions.create({ follower: 2 })!;
    const s3 = sessions.create({ follower: 3 })!;
    fetchRead(p, 2, 1, s2);
    assert.equal(p.highWatermark, 1);
    fetchRead(p, 3, 0, s3);
    assert.deepEqual(asked, [], 'behind the HW: not yet');
    fetchRead(p, 3, 1, s3);
    assert.deepEqual(asked, [[1, 2, 3]], 'reached the HW on the fetch path');
    // The request was lost (no new ISR comes back). The partition stays idle: no fetch reads it again.
    pass(LAG_MS / 2, () => (idleFetch(s2), idleFetch(s3)));
    p.checkIsr(LAG_MS, clock.now);
    assert.deepEqual(asked, [[1, 2, 3], [1, 2, 3]], 'asked again at the ISR check');
    // A follower outside the ISR that stopped fetching is not asked for.
    asked = [];
    pass(LAG_MS + 1000, () => idleFetch(s2));
    p.checkIsr(LAG_MS, clock.now);
    assert.deepEqual(asked, []);
  });
});
