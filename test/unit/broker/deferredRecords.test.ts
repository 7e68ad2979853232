// A failover's delta re-roles hundreds of replicas on each surviving broker. The broker applies at once only what
// must not wait (busy replicas, lost leaderships, replicas opened or closed, internal topics) and the rest in short
// slices after it; a replica asked for meanwhile is brought up to date first. Real brokers in-process, real logs in a
// temp dir, the real controller publishing the deltas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { Broker, LOG_DIR_CLEAN_SHUTDOWN_FILE } from '../../../src/broker/broker';
import { Controller } from '../../../src/broker/controller';
import { localControllerChannel } from '../../../src/broker/controllerChannel';
import { MetadataDelta, PartitionState } from '../../../src/broker/metadata';
import { ErrorCode, KafkaError } from '../../../src/protocol/errorCode';
import { buildBatch } from '../../../src/protocol/records/recordBatch';
import { tempDir } from '../../helpers/broker';

/** Enough replicas on broker 1 that applying their records takes several slices. */
const TOPICS = 300;

interface Setup {
  dir: string;
  controller: Controller;
  broker: Broker;
  /** The deltas the controller published since the setup (take them with splice). */
  deltas: MetadataDelta[];
}

async function setup(): Promise<Setup> {
  const dir = tempDir('minikafka-deferred-');
  const controller = new Controller();
  for (const id of [1, 2, 3]) controller.registerBroker({ id, host: '127.0.0.1', port: 9000 + id, rack: null });
  controller.createTopics(Array.from({ length: TOPICS }, (_, i) => ({ name: `d${i}`, numPartitions: 3, replicationFactor: 3 })));
  await tick();
  const broker = new Broker({ nodeId: 1, logDir: dir, controller: localControllerChannel(controller) });
  broker.applyMetadata(controller.snapshot());
  const deltas: MetadataDelta[] = [];
  controller.on('change', (d: MetadataDelta) => deltas.push(d));
  return { dir, controller, broker, deltas };
}

async function teardown(s: Setup): Promise<void> {
  await s.broker.stop();
  rmSync(s.dir, { recursive: true, force: true });
}

/** The partitions with a replica on broker 1 whose state in the controller's image satisfies `pick`, as keys. */
function keysWhere(s: Setup, pick: (p: PartitionState) => boolean): string[] {
  return s.controller.snapshot().topics.flatMap((t) => t.partitions.filter((p) => p.replicas.includes(1) && pick(p)).map((p) => `${t.name}-${p.partition}`));
}

/** `topic-index` as its parts. */
function splitKey(key: string): [string, number] {
  const [, topic, index] = /^(.+)-(\d+)$/.exec(key)!;
  return [topic, Number(index)];
}

/** The state the controller's image gives partition `key`. */
function imageState(s: Setup, key: string): PartitionState {
  const [topic, index] = splitKey(key);
  return s.controller.snapshot().topics.find((t) => t.name === topic)!.partitions[index];
}

/** The state broker 1's replica acts on (read past partition(), which would apply a deferred record first). */
function appliedState(s: Setup, key: string): PartitionState {
  return s.broker.partitions.get(key)!.state;
}

/** Waits until every deferred record is applied; how many were pending at each look (every millisecond). */
async function settle(broker: Broker): Promise<number[]> {
  const seen: number[] = [];
  const deadline = Date.now() + 10_000;
  while (broker.deferredRecordCount > 0) {
    assert.ok(Date.now() < deadline, 'the deferred records are applied within 10 s');
    if (seen[seen.length - 1] !== broker.deferredRecordCount) seen.push(broker.deferredRecordCount);
    await sleep(1);
  }
  return seen;
}

function everyReplicaAsTheImageSays(s: Setup): void {
  const image = s.controller.snapshot();
  assert.deepEqual(s.broker.image, image);
  for (const t of image.topics) {
    for (const p of t.partitions) {
      if (!p.replicas.includes(1)) continue;
      assert.deepEqual(appliedState(s, `${t.name}-${p.partition}`), p, `${t.name}-${p.partition} acts on the image's state`);
    }
  }
}

const oneRecord = () => buildBatch({ records: [{ value: Buffer.from('x') }] });

test('a failover applies the records of busy replicas at once and the others in slices after it', async () => {
  const s = await setup();
  try {
    // Busy before the failover: a follower of broker 2 that replicated data, a leader that took a produce, a leader
    // with an acks=all produce waiting for its followers.
    const ledBy2 = keysWhere(s, (p) => p.leader === 2);
    const ledHere = keysWhere(s, (p) => p.leader === 1);
    const busyFollower = ledBy2[0];
    s.broker.partitions.get(busyFollower)!.appendAsFollower(oneRecord());
    const busyLeader = ledHere[0];
    s.broker.partitions.get(busyLeader)!.appendAsLeader(oneRecord());
    const waitedOn = s.broker.partitions.get(ledHere[1])!;
    const waiting = waitedOn.waitForHighWatermark(1, 300).then(
      () => ErrorCode.NONE,
      (err: KafkaError) => err.code,
    );

    s.controller.fenceBroker(2, 'process exited');
    await tick();
    // Leader moves and ISR shrinks, in one delta or two; back to back, before any slice ran.
    for (const d of s.deltas.splice(0)) s.broker.applyMetadataDelta(d);

    assert.deepEqual(s.broker.image, s.controller.snapshot(), 'the image (what Metadata answers) is current at once');
    for (const key of [busyFollower, busyLeader, waitedOn.key]) assert.deepEqual(appliedState(s, key), imageState(s, key), `${key} (busy) is applied at once`);
    const gained = ledBy2.filter((k) => k !== busyFollower && imageState(s, k).leader === 1);
    assert.ok(gained.length > 50);
    for (const key of gained) assert.equal(s.broker.partitions.get(key)!.isLeader, false, `${key} (idle) takes its leadership later`);
    const deferredAtFirst = s.broker.deferredRecordCount;
    assert.ok(deferredAtFirst > 500, `most of broker 1's ${TOPICS * 3} replicas wait (${deferredAtFirst})`);

    const pending = await settle(s.broker);
    assert.ok(pending.length > 1, `applied in several slices (pending: ${pending.slice(0, 10).join(', ')}...)`);
    everyReplicaAsTheImageSays(s);
    for (const key of gained) assert.equal(s.broker.partitions.get(key)!.isLeader, true);
    assert.equal(await waiting, ErrorCode.REQUEST_TIMED_OUT, 'the waiting produce still waits for its followers (none fetches here)');
  } finally {
    await teardown(s);
  }
});

test('waiting follower fetches hear of leaderships in use at once, and of the idle ones slice by slice', async () => {
  const s = await setup();
  try {
    // A partition broker 2 leads that broker 1 (the next replica in line) replicated data of: in use.
    const takenInUse = keysWhere(s, (p) => p.leader === 2 && p.replicas.filter((r) => r !== 2)[0] === 1)[0];
    s.broker.partitions.get(takenInUse)!.appendAsFollower(oneRecord());
    const heard: boolean[] = [];
    const stop = s.broker.onNewLeaderships((inUse) => heard.push(inUse));
    s.controller.fenceBroker(2, 'process exited');
    await tick();
    for (const d of s.deltas.splice(0)) s.broker.applyMetadataDelta(d);
    assert.equal(s.broker.partitions.get(takenInUse)!.isLeader, true, 'taken at once');
    // The fetch handler answers a follower's long poll at once for the first, within NEW_LEADER_FETCH_WAIT_MS for the rest.
    assert.deepEqual(heard, [true], 'one call for the delta, flagged in use');
    const follower = imageState(s, takenInUse).replicas.find((r) => r !== 1 && r !== 2)!;
    assert.equal(s.broker.followerFetchWaitCap(follower), 1, 'a fetch of its follower that does not name it yet waits 1 ms at most');
    assert.equal(s.broker.followerFetchWaitCap(2), undefined, 'the fenced broker is awaited for nothing');
    await settle(s.broker);
    assert.ok(heard.length > 2, `then one call per slice that took leaderships (${heard.length - 1})`);
    assert.ok(heard.slice(1).every((inUse) => !inUse), 'not flagged in use');
    stop();
  } finally {
    await teardown(s);
  }
});

test('partition() brings a replica with a deferred record to its new role first', async () => {
  const s = await setup();
  try {
    const ledBy2 = keysWhere(s, (p) => p.leader === 2);
    s.controller.fenceBroker(2, 'process exited');
    await tick();
    for (const d of s.deltas.splice(0)) s.broker.applyMetadataDelta(d);
    const gained = ledBy2.find((k) => imageState(s, k).leader === 1)!;
    const movedTo3 = ledBy2.find((k) => imageState(s, k).leader === 3)!;
    assert.ok(gained && movedTo3);
    assert.equal(s.broker.partitions.get(gained)!.isLeader, false, 'deferred');
    assert.equal(appliedState(s, movedTo3).leader, 2, 'deferred');
    const before = s.broker.deferredRecordCount;

    const p = s.broker.partition(...splitKey(gained))!;
    assert.equal(p.isLeader, true);
    assert.deepEqual(p.state, imageState(s, gained));
    assert.equal(p.awaitsFirstFetchFrom(3), true, 'a new leader, waiting for its follower');
    assert.equal(p.appendAsLeader(oneRecord()).baseOffset, 0, 'and takes writes');
    assert.deepEqual(s.broker.partition(...splitKey(movedTo3))!.state, imageState(s, movedTo3), 'a follower of its new leader');
    assert.equal(s.broker.deferredRecordCount, before - 2, 'only those two were applied');

    await settle(s.broker);
    everyReplicaAsTheImageSays(s);
  } finally {
    await teardown(s);
  }
});

test('deltas that arrive before the slices finish: every replica ends in the controller\'s state', async () => {
  const s = await setup();
  try {
    s.controller.fenceBroker(2, 'process exited');
    await tick();
    for (const d of s.deltas.splice(0)) s.broker.applyMetadataDelta(d);
    assert.ok(s.broker.deferredRecordCount > 500);
    // A slice or so, then broker 1 shuts down (its leaderships move away, some of them taken by the fence's records and
    // still deferred), broker 2 comes back and 3 fails: records over records of the same partitions.
    await tick();
    s.controller.controlledShutdown(1);
    await tick();
    assert.ok(s.broker.deferredRecordCount > 0, 'the fence\'s records are still being applied');
    for (const d of s.deltas.splice(0)) s.broker.applyMetadataDelta(d);
    s.controller.registerBroker({ id: 2, host: '127.0.0.1', port: 9002, rack: null });
    s.controller.fenceBroker(3, 'process exited');
    await tick();
    for (const d of s.deltas.splice(0)) s.broker.applyMetadataDelta(d);
    await settle(s.broker);
    everyReplicaAsTheImageSays(s);
    for (const [key, p] of s.broker.partitions) assert.equal(p.isLeader, imageState(s, key).leader === 1, key);
  } finally {
    await teardown(s);
  }
});

test('losing a leadership is applied at once, even by an idle replica', async () => {
  const s = await setup();
  try {
    const ledHere = keysWhere(s, (p) => p.leader === 1);
    s.controller.controlledShutdown(1);
    await tick();
    for (const d of s.deltas.splice(0)) s.broker.applyMetadataDelta(d);
    for (const key of ledHere) {
      const p = s.broker.partitions.get(key)!;
      assert.notEqual(imageState(s, key).leader, 1);
      assert.deepEqual(p.state, imageState(s, key), `${key} is a follower at once`);
      assert.throws(() => p.appendAsLeader(oneRecord()), (err: KafkaError) => err.code === ErrorCode.NOT_LEADER_OR_FOLLOWER);
    }
    // The replicas broker 1 only followed left it out of their ISR: those records may wait.
    assert.ok(s.broker.deferredRecordCount > 0);
    await settle(s.broker);
    everyReplicaAsTheImageSays(s);
  } finally {
    await teardown(s);
  }
});

test('stop() with deferred records pending is clean, and the next start takes the whole image', async () => {
  const s = await setup();
  let next: Broker | undefined;
  try {
    s.controller.fenceBroker(2, 'process exited');
    await tick();
    for (const d of s.deltas.splice(0)) s.broker.applyMetadataDelta(d);
    assert.ok(s.broker.deferredRecordCount > 500);
    await s.broker.stop();
    assert.equal(s.broker.deferredRecordCount, 0);
    assert.equal(s.broker.partitions.size, 0);
    // No slice runs after the stop (one would reopen or re-role closed replicas, or throw on their closed logs).
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(s.broker.partitions.size, 0);
    assert.ok(existsSync(join(s.dir, LOG_DIR_CLEAN_SHUTDOWN_FILE)), 'every log closed cleanly');

    next = new Broker({ nodeId: 1, logDir: s.dir, controller: localControllerChannel(s.controller) });
    next.applyMetadata(s.controller.snapshot());
    assert.equal(next.deferredRecordCount, 0);
    everyReplicaAsTheImageSays({ ...s, broker: next });
  } finally {
    await next?.stop();
    rmSync(s.dir, { recursive: true, force: true });
  }
});
