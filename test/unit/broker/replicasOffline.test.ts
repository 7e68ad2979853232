// A replica whose log cannot be opened (out of descriptors, permissions, a file where its directory should be) goes
// offline on its broker instead of failing the metadata change: the broker tells the controller (replicasOffline),
// which moves leadership to another in-sync replica and drops it from the ISR; clients asking this broker get
// KAFKA_STORAGE_ERROR; opening is tried again at the next metadata change, and the replica serves again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Broker } from '../../../src/broker/broker';
import { Controller } from '../../../src/broker/controller';
import { localControllerChannel } from '../../../src/broker/controllerChannel';
import { MetadataDelta } from '../../../src/broker/metadata';
import { ErrorCode } from '../../../src/protocol/errorCode';
import { startTestBroker, tempDir } from '../../helpers/broker';
import { connectWire, fetchRecords, produce } from '../../helpers/wire';

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('a broker that cannot open a log reports the replica offline: leadership moves, the ISR shrinks, the last in-sync leader stays', async () => {
  const controller = new Controller();
  for (const id of [1, 2, 3]) controller.registerBroker({ id, host: '127.0.0.1', port: 9000 + id, rack: null });
  const dir = tempDir();
  const broker = new Broker({ nodeId: 1, logDir: dir, controller: localControllerChannel(controller) });
  try {
    const assign = (replicas: number[][]) => replicas.map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds }));
    controller.createTopic({ name: 't', numPartitions: -1, replicationFactor: -1, assignments: assign([[1, 2, 3], [2, 1, 3]]) });
    controller.createTopic({ name: 'solo', numPartitions: -1, replicationFactor: -1, assignments: assign([[1]]) });
    await sleep(0);
    const partitionsNow = () => controller.snapshot().topics.flatMap((t) => t.partitions);
    const before = partitionsNow();
    assert.deepEqual(before.map((p) => p.leader), [1, 2, 1]);
    // Files where the directories of t-0 (led here), t-1 (followed here) and solo-0 (led here, the only replica) go.
    const blocked = ['t-0', 't-1', 'solo-0'];
    for (const key of blocked) writeFileSync(join(dir, key), 'not a directory');
    const deltas: MetadataDelta[] = [];
    controller.on('change', (d: MetadataDelta) => deltas.push(d));
    broker.applyMetadata(controller.snapshot());
    assert.deepEqual([...broker.offlineReplicas.keys()].sort(), [...blocked].sort());
    assert.equal(broker.partitions.size, 0);
    await waitFor('the controller to move leadership', () => deltas.length > 0);
    const after = partitionsNow();
    assert.equal(after[0].leader, 2, 't-0: the next in-sync replica leads');
    assert.deepEqual(after[0].isr, [2, 3]);
    assert.equal(after[0].leaderEpoch, before[0].leaderEpoch + 1);
    assert.equal(after[1].leader, 2, 't-1: leader unchanged');
    assert.deepEqual(after[1].isr, [2, 3], 't-1: broker 1 left the ISR');
    assert.deepEqual({ leader: after[2].leader, isr: after[2].isr, epoch: after[2].partitionEpoch }, { leader: 1, isr: [1], epoch: before[2].partitionEpoch }, 'solo-0: nobody else can lead');
    assert.equal(broker.missingReplicaError('t', 0), ErrorCode.KAFKA_STORAGE_ERROR);
    assert.equal(broker.missingReplicaError('t', 7), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

    // Fixed: the next metadata change opens the replicas again (t-0 now as a follower).
    for (const key of blocked) rmSync(join(dir, key));
    for (const d of deltas.splice(0)) broker.applyMetadataDelta(d);
    controller.createTopic({ name: 'other', numPartitions: 1, replicationFactor: 1 });
    await waitFor('a delta', () => deltas.length > 0);
    for (const d of deltas.splice(0)) broker.applyMetadataDelta(d);
    assert.equal(broker.offlineReplicas.size, 0);
    assert.ok(broker.partition('t', 0) && !broker.partition('t', 0)!.isLeader, 't-0 back as a follower');
    assert.ok(broker.partition('solo', 0)?.isLeader, 'solo-0 back as the leader');
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('clients get KAFKA_STORAGE_ERROR for an offline replica, and the data path works once it opens', async () => {
  const tb = await startTestBroker();
  const wire = await connectWire(tb.bootstrap);
  try {
    const logDir = join(tb.dir, 'broker-1');
    writeFileSync(join(logDir, 'blocked-0'), 'not a directory');
    tb.controller.createTopic({ name: 'blocked', numPartitions: 2, replicationFactor: 1 });
    await waitFor('blocked-1 to open', () => tb.broker.partition('blocked', 1) !== undefined);
    assert.ok(tb.broker.offlineReplicas.has('blocked-0'));
    const refused = await produce(wire, 'blocked', 0, [{ value: Buffer.from('lost?') }], -1);
    assert.equal(refused.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    const fetched = await fetchRecords(wire, 'blocked', 0, 0);
    assert.equal(fetched.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
    assert.equal((await produce(wire, 'blocked', 1, [{ value: Buffer.from('fine') }], -1)).errorCode, 0, 'the other partition serves');

    rmSync(join(logDir, 'blocked-0'));
    tb.controller.createTopic({ name: 'nudge', numPartitions: 1, replicationFactor: 1 });
    await waitFor('blocked-0 to open', () => tb.broker.partition('blocked', 0) !== undefined);
    assert.equal(tb.broker.offlineReplicas.size, 0);
    const ok = await produce(wire, 'blocked', 0, [{ value: Buffer.from('kept') }], -1);
    assert.equal(ok.errorCode, 0);
    const read = await fetchRecords(wire, 'blocked', 0, 0);
    assert.equal(read.errorCode, 0);
    assert.deepEqual(read.decoded.map((r) => r.value?.toString()), ['kept']);
  } finally {
    wire.close();
    await tb.cleanup();
  }
});
