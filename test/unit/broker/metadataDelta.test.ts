// Metadata deltas (KRaft's metadata records as the model): the controller publishes one delta per tick, and a
// receiver that applies every delta in turn holds exactly the controller's image; a broker handed a delta that does
// not follow its image (it missed one: a reconnect, a new supervisor) takes the whole image instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setImmediate as tick } from 'node:timers/promises';
import { Broker } from '../../../src/broker/broker';
import { Controller, FENCE_RECORDS_PER_DELTA } from '../../../src/broker/controller';
import { localControllerChannel } from '../../../src/broker/controllerChannel';
import { applyDelta, MetadataDelta, MetadataImage } from '../../../src/broker/metadata';
import { packDelta, unpackDelta } from '../../../src/broker/cluster/deltaWire';
import { tempDir } from '../../helpers/broker';

function controllerWithBrokers(): Controller {
  const c = new Controller();
  for (const id of [1, 2, 3]) c.registerBroker({ id, host: '127.0.0.1', port: 9000 + id, rack: null });
  return c;
}

test('applying each tick’s delta gives the same image as the controller’s whole image, whatever changed', async () => {
  const controller = controllerWithBrokers();
  await tick();
  let image: MetadataImage = controller.snapshot();
  const deltas: MetadataDelta[] = [];
  controller.on('change', (d: MetadataDelta) => deltas.push(d));
  const check = async (what: string) => {
    await tick();
    for (const d of deltas.splice(0)) {
      assert.ok(d.baseEpoch <= image.epoch, `${what}: delta from ${d.baseEpoch} follows image ${image.epoch}`);
      image = applyDelta(image, d);
    }
    assert.deepEqual(image, controller.snapshot(), what);
  };

  const created = controller.createTopics(Array.from({ length: 50 }, (_, i) => ({ name: `t${i}`, numPartitions: 3, replicationFactor: 3 })));
  assert.ok(created.every((r) => r.topic));
  const refused = controller.createTopics([{ name: 't1', numPartitions: 1, replicationFactor: 1 }, { name: 'bad/name', numPartitions: 1, replicationFactor: 1 }]);
  assert.deepEqual(refused.map((r) => r.error?.code), [36, 17]); // TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION
  await check('50 topics created in one call');
  assert.equal(image.topics.length, 50);

  const p = controller.snapshot().topics.find((t) => t.name === 't7')!.partitions[1];
  controller.alterIsr('t7', 1, p.leaderEpoch, [p.leader]);
  controller.alterTopicConfigs('t8', { 'retention.ms': '1000' });
  await check('ISR shrink and a config change');

  controller.fenceBroker(2, 'process exited');
  await check('broker 2 fenced: leaders moved, ISRs shrunk');
  controller.registerBroker({ id: 2, host: '127.0.0.1', port: 9002, rack: null });
  await check('broker 2 back');

  controller.deleteTopic('t3');
  controller.alterTopicConfigs('t4', { 'retention.ms': '5000' }); // changed, then deleted and created again below
  controller.deleteTopic('t4');
  controller.createTopic({ name: 'new1', numPartitions: 1, replicationFactor: 1 });
  controller.createTopic({ name: 't4', numPartitions: 2, replicationFactor: 2 }); // same name, new id, same tick
  controller.createTopic({ name: 'new2', numPartitions: 1, replicationFactor: 1 });
  controller.createPartitions('t5', 6, null);
  await check('deleted, deleted and created again, partitions added');
  assert.deepEqual(image.topics.slice(-3).map((t) => t.name), ['new1', 't4', 'new2'], 'a topic created again goes to the end, as in the controller');

  controller.reassignPartition('t6', 0, [3, 2]);
  controller.controlledShutdown(1);
  controller.createAcls([{ resourceType: 2, resourceName: 't6', patternType: 3, principal: 'User:alice', host: '*', operation: 3, permissionType: 3 }]);
  controller.allocateProducerIds();
  await check('reassignment, controlled shutdown, an ACL, a producer id block');

  controller.createTopic({ name: 'gone', numPartitions: 1, replicationFactor: 1 });
  controller.deleteTopic('gone');
  await check('created and deleted within one tick');
});

test('many changes in one tick are one delta; the epoch answer comes after it', async () => {
  const controller = controllerWithBrokers();
  await tick();
  const deltas: MetadataDelta[] = [];
  controller.on('change', (d: MetadataDelta) => deltas.push(d));
  for (let i = 0; i < 100; i++) controller.createTopic({ name: `x${i}`, numPartitions: 1, replicationFactor: 1 });
  assert.equal(deltas.length, 0, 'nothing published before the end of the tick');
  const epoch = controller.metadataEpoch();
  assert.equal(deltas.length, 1, 'metadataEpoch() publishes first');
  assert.equal(deltas[0].topics.length, 100);
  assert.equal(deltas[0].epoch, epoch);
  await tick();
  assert.equal(deltas.length, 1, 'the end of the tick has nothing more to publish');
});

test('a broker takes deltas that follow its image, and the whole image when it missed one', async () => {
  const dir = tempDir('minikafka-delta-');
  const controller = controllerWithBrokers();
  controller.createTopic({ name: 'a', numPartitions: 2, replicationFactor: 3 });
  await tick();
  const broker = new Broker({ nodeId: 1, logDir: dir, controller: localControllerChannel(controller) });
  try {
    broker.applyMetadata(controller.snapshot());
    assert.deepEqual(broker.image, controller.snapshot());
    assert.ok(broker.partition('a', 0) && broker.partition('a', 1), 'replicas of a are open');

    // A delta that follows: applied, only what it names is touched.
    let last: MetadataDelta | undefined;
    const listener = (d: MetadataDelta) => (last = d);
    controller.on('change', listener);
    controller.createTopic({ name: 'b', numPartitions: 1, replicationFactor: 3 });
    await tick();
    broker.applyMetadataDelta(last!);
    assert.deepEqual(broker.image, controller.snapshot());
    assert.ok(broker.partition('b', 0), 'the new topic is open');

    // Two deltas; the broker sees only the second (it was away for the first): it asks for the whole image.
    controller.deleteTopic('a');
    await tick();
    controller.createTopic({ name: 'c', numPartitions: 1, replicationFactor: 3 });
    await tick();
    assert.ok(last!.baseEpoch > broker.image.epoch);
    broker.applyMetadataDelta(last!);
    await tick();
    assert.deepEqual(broker.image, controller.snapshot(), 'the whole image replaced ours');
    assert.equal(broker.partition('a', 0), undefined, 'the deleted topic is gone');
    assert.ok(broker.partition('c', 0));

    // Stale deltas are ignored; syncMetadata() is a no-op when current.
    const epoch = broker.image.epoch;
    broker.applyMetadataDelta({ ...last!, epoch: epoch - 1, baseEpoch: epoch - 2 });
    await broker.syncMetadata();
    assert.equal(broker.image.epoch, epoch);
    controller.off('change', listener);
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a leader or ISR change travels as a record of that partition alone; a fence publishes its leader moves first', async () => {
  const controller = controllerWithBrokers();
  controller.createTopics(Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, numPartitions: 3, replicationFactor: 3 })));
  controller.alterTopicConfigs('f0', { 'retention.ms': '1000' });
  await tick();
  let image = controller.snapshot();
  const deltas: MetadataDelta[] = [];
  controller.on('change', (d: MetadataDelta) => deltas.push(d));

  // One ISR change: one record, no topic. (A partition broker 2 leads: its ISR is broker 2 alone now.)
  const alone = image.topics.filter((t) => t.name !== 'f4').flatMap((t) => t.partitions.filter((q) => q.leader === 2).map((q) => ({ topic: t.name, p: q })))[0];
  controller.alterIsr(alone.topic, alone.p.partition, alone.p.leaderEpoch, [2]);
  await tick();
  assert.equal(deltas.length, 1);
  assert.equal(deltas[0].topics.length, 0);
  assert.deepEqual(deltas[0].partitions?.map((c) => [c.topic, c.state.partition, c.state.isr]), [[alone.topic, alone.p.partition, [2]]]);
  image = applyDelta(image, deltas.splice(0)[0]);
  assert.deepEqual(image, controller.snapshot());

  // A config change and a leader change of the same topic in one tick: the topic goes whole, with no record.
  controller.alterTopicConfigs('f4', { 'retention.ms': '2000' });
  controller.electLeaders(1, [{ topic: 'f4', partition: 0 }]); // not needed: no change
  controller.alterIsr('f4', 1, image.topics.find((t) => t.name === 'f4')!.partitions[1].leaderEpoch, [image.topics.find((t) => t.name === 'f4')!.partitions[1].leader]);
  await tick();
  assert.deepEqual(deltas[0].topics.map((t) => t.name), ['f4']);
  assert.equal(deltas[0].partitions, undefined);
  image = applyDelta(image, deltas.splice(0)[0]);
  assert.deepEqual(image, controller.snapshot());

  // Broker 2 fails: one delta, published before fenceBroker returns, says it is fenced, moves every leadership it
  // held and takes it out of every ISR it was in.
  const led = image.topics.flatMap((t) => t.partitions.filter((q) => q.leader === 2).map((q) => `${t.name}-${q.partition}`));
  const followed = image.topics.flatMap((t) => t.partitions.filter((q) => q.leader !== 2 && q.isr.includes(2)).map((q) => `${t.name}-${q.partition}`));
  assert.ok(led.length > 10 && followed.length > 10);
  controller.fenceBroker(2, 'process exited');
  assert.equal(deltas.length, 1, 'the fence is out before fenceBroker returns');
  const [moves] = deltas;
  assert.equal(moves.brokers?.find((b) => b.id === 2)?.fenced, true);
  assert.equal(moves.topics.length, 0, 'no topic is sent whole');
  assert.deepEqual(moves.partitions?.map((c) => `${c.topic}-${c.state.partition}`).sort(), [...led, ...followed].sort());
  const offline = moves.partitions!.filter((c) => c.state.leader === -1).map((c) => `${c.topic}-${c.state.partition}`);
  assert.ok(offline.includes(`${alone.topic}-${alone.p.partition}`), 'the partition in sync on broker 2 alone is offline');
  for (const c of moves.partitions!) {
    assert.notEqual(c.state.leader, 2);
    // A partition whose ISR was broker 2 alone goes offline and keeps that ISR, so that broker 2 can take it back.
    if (c.state.leader === -1) assert.deepEqual(c.state.isr, [2]);
    else assert.ok(!c.state.isr.includes(2), `${c.topic}-${c.state.partition} lost broker 2 from its ISR`);
  }
  await tick();
  assert.equal(deltas.length, 1, 'nothing follows: the fence was one delta');
  for (const d of deltas.splice(0)) image = applyDelta(image, d);
  assert.deepEqual(image, controller.snapshot());

  // A record of a topic deleted and created again (another id) is not applied to the new topic.
  const old = image.topics.find((t) => t.name === 'f5')!;
  const staleRecord = { topic: 'f5', topicId: old.id, state: { ...old.partitions[0], leader: 3, leaderEpoch: 99 } };
  controller.deleteTopic('f5');
  controller.createTopic({ name: 'f5', numPartitions: 3, replicationFactor: 2 });
  await tick();
  image = applyDelta(image, deltas.splice(0)[0]);
  const f5 = image.topics.find((t) => t.name === 'f5')!;
  const after = applyDelta(image, { ...moves, brokers: undefined, baseEpoch: image.epoch, epoch: image.epoch + 1, partitions: [staleRecord] });
  assert.equal(after.topics.find((t) => t.name === 'f5'), f5, 'the new f5 is untouched');
});

test('a broker applies partition records: takes and gives up leadership, opens and closes replicas, only those named', async () => {
  const dir = tempDir('minikafka-delta-records-');
  const controller = controllerWithBrokers();
  controller.createTopics(Array.from({ length: 20 }, (_, i) => ({ name: `r${i}`, numPartitions: 3, replicationFactor: 2 })));
  await tick();
  const broker = new Broker({ nodeId: 1, logDir: dir, controller: localControllerChannel(controller) });
  const deltas: MetadataDelta[] = [];
  const listener = (d: MetadataDelta) => deltas.push(d);
  controller.on('change', listener);
  try {
    broker.applyMetadata(controller.snapshot());
    const hereBefore = [...broker.partitions.keys()].sort();
    // Broker 3 fails: broker 1 takes the partitions it led where broker 1 is in the ISR.
    const willLead = controller.snapshot().topics.flatMap((t) => t.partitions.filter((p) => p.leader === 3 && p.isr.includes(1)).map((p) => `${t.name}-${p.partition}`));
    assert.ok(willLead.length > 0);
    for (const k of willLead) assert.equal(broker.partitions.get(k)?.isLeader, false);
    controller.fenceBroker(3, 'process exited');
    await tick();
    for (const d of deltas.splice(0)) broker.applyMetadataDelta(d);
    assert.deepEqual(broker.image, controller.snapshot());
    // (Through partition(): records of idle replicas are applied in slices after the delta, or when asked for.)
    for (const k of willLead) assert.equal(broker.partition(...splitKey(k))?.isLeader, true, `${k} is led here now`);
    assert.deepEqual([...broker.partitions.keys()].sort(), hereBefore, 'no replica opened or closed');

    // A reassignment moves a partition onto broker 1 and another away from it.
    controller.registerBroker({ id: 3, host: '127.0.0.1', port: 9003, rack: null });
    const image = controller.snapshot();
    const notHere = image.topics.flatMap((t) => t.partitions.filter((p) => !p.replicas.includes(1)).map((p) => ({ t: t.name, p })))[0];
    const here = image.topics.flatMap((t) => t.partitions.filter((p) => p.replicas.includes(1) && p.leader !== 1).map((p) => ({ t: t.name, p })))[0];
    controller.reassignPartition(notHere.t, notHere.p.partition, [1, ...notHere.p.replicas]);
    controller.reassignPartition(here.t, here.p.partition, [2, 3]);
    await tick();
    const ds = deltas.splice(0);
    assert.ok(ds.every((d) => d.topics.length === 0), 'reassignments travel as records');
    for (const d of ds) broker.applyMetadataDelta(d);
    assert.deepEqual(broker.image, controller.snapshot());
    assert.ok(broker.partition(notHere.t, notHere.p.partition), 'the replica moved here is open');
    const leaving = controller.snapshot().topics.find((t) => t.name === here.t)!.partitions[here.p.partition];
    assert.equal(broker.partition(here.t, here.p.partition) === undefined, !leaving.replicas.includes(1), 'a replica moved away is closed once the move completes');
  } finally {
    controller.off('change', listener);
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `topic-index` as partition()'s arguments. */
function splitKey(key: string): [string, number] {
  const [, topic, index] = /^(.+)-(\d+)$/.exec(key)!;
  return [topic, Number(index)];
}

test('a fence prepared ahead is published as it is while the image is unchanged, and recomputed when it changed', async () => {
  const controller = controllerWithBrokers();
  controller.createTopics(Array.from({ length: 30 }, (_, i) => ({ name: `p${i}`, numPartitions: 3, replicationFactor: 3 })));
  await tick();
  assert.equal(controller.prepareFence(9), undefined, 'no such broker');
  controller.createTopic({ name: 'pending', numPartitions: 1, replicationFactor: 1 });
  assert.equal(controller.prepareFence(2), undefined, 'not while a change waits to be published');
  await tick();
  let image = controller.snapshot();
  const deltas: MetadataDelta[] = [];
  controller.on('change', (d: MetadataDelta) => deltas.push(d));

  // Two preparations of the same image are the same deltas: what a fence computed on the spot would publish too.
  const prepared = controller.prepareFence(2)!;
  assert.deepEqual(controller.prepareFence(2)!.deltas, prepared.deltas);
  assert.equal(prepared.deltas.length, 1, `${prepared.records} records fit one delta`);
  assert.equal(prepared.deltas[0].baseEpoch, image.epoch);
  assert.equal(prepared.moved, image.topics.reduce((n, t) => n + t.partitions.filter((p) => p.leader === 2).length, 0));
  assert.deepEqual(controller.snapshot(), image, 'preparing changes nothing');
  controller.fenceBroker(2, 'process exited', prepared);
  assert.equal(deltas.length, 1);
  assert.equal(deltas[0], prepared.deltas[0], 'the prepared delta itself goes out');
  image = applyDelta(image, deltas.splice(0)[0]);
  assert.deepEqual(image, controller.snapshot(), 'and the image took exactly its changes');
  prepared.deltas[0].partitions![0].state.isr.push(42);
  assert.ok(!controller.snapshot().topics.some((t) => t.partitions.some((p) => p.isr.includes(42))), 'the delta shares no arrays with the image');

  // A fence prepared before another change is stale: the fence is computed again.
  controller.registerBroker({ id: 2, host: '127.0.0.1', port: 9002, rack: null });
  await tick();
  image = applyDelta(image, deltas.splice(0)[0]);
  const stale = controller.prepareFence(3)!;
  controller.createTopic({ name: 'later', numPartitions: 3, replicationFactor: 3 });
  controller.fenceBroker(3, 'process exited', stale);
  assert.equal(deltas.length, 2, 'the pending topic first, then the fence');
  assert.notEqual(deltas[1], stale.deltas[0]);
  assert.ok(deltas[1].partitions!.some((c) => c.topic === 'later'), 'the fresh fence covers the new topic');
  for (const d of deltas.splice(0)) image = applyDelta(image, d);
  assert.deepEqual(image, controller.snapshot());
});

test('a large fence goes out as consecutive deltas: the busy partitions with the fence, then leader moves, then ISR shrinks', async () => {
  const controller = controllerWithBrokers();
  controller.createTopics(Array.from({ length: 600 }, (_, i) => ({ name: `big${i}`, numPartitions: 3, replicationFactor: 3 })));
  await tick();
  let image = controller.snapshot();
  const ledBy1 = image.topics.flatMap((t) => t.partitions.filter((p) => p.leader === 1).map((p) => `${t.name}-${p.partition}`));
  const followedBy1 = image.topics.flatMap((t) => t.partitions.filter((p) => p.leader !== 1).map((p) => `${t.name}-${p.partition}`));
  const busy = new Set([ledBy1[7], followedBy1[300], 'no-such-topic-0']);
  const deltas: MetadataDelta[] = [];
  controller.on('change', (d: MetadataDelta) => deltas.push(d));
  controller.fenceBroker(1, 'process exited', controller.prepareFence(1, busy));
  const key = (c: { topic: string; state: { partition: number } }) => `${c.topic}-${c.state.partition}`;
  assert.deepEqual(deltas[0].partitions!.map(key).sort(), [ledBy1[7], followedBy1[300]].sort(), 'the busy ones first, alone');
  assert.equal(deltas[0].brokers?.find((b) => b.id === 1)?.fenced, true, 'with the fence');
  const rest = deltas.slice(1);
  assert.equal(rest.length, Math.ceil((1800 - 2) / FENCE_RECORDS_PER_DELTA));
  assert.ok(rest.every((d) => d.partitions!.length <= FENCE_RECORDS_PER_DELTA && !d.brokers));
  const order = rest.flatMap((d) => d.partitions!.map((c) => (c.state.leader !== 1 && ledBy1.includes(key(c)) ? 'move' : 'shrink')));
  assert.equal(order.lastIndexOf('move') + 1, order.indexOf('shrink'), 'leader moves before ISR shrinks');
  deltas.forEach((d, i) => {
    assert.equal(d.baseEpoch, image.epoch, `delta ${i} follows the one before`);
    image = applyDelta(image, d);
  });
  assert.deepEqual(image, controller.snapshot());
  assert.ok(image.topics.every((t) => t.partitions.every((p) => p.leader !== 1 && !p.isr.includes(1))));
});

test('packed partition records travel whole, and a garbled pack is refused', () => {
  const delta: MetadataDelta = {
    baseEpoch: 4,
    epoch: 5,
    clusterId: 'c',
    controllerId: 1,
    nextProducerId: 1000,
    topics: [],
    removedTopics: ['gone'],
    partitions: [
      { topic: 'a', topicId: 'ida', state: { partition: 0, replicas: [1, 2, 3], isr: [1, 3], leader: 1, leaderEpoch: 7, partitionEpoch: 9, addingReplicas: [], removingReplicas: [] } },
      { topic: 'b', topicId: 'idb', state: { partition: 2, replicas: [3, 2, 4], isr: [3], leader: -1, leaderEpoch: 0, partitionEpoch: 1, addingReplicas: [4], removingReplicas: [1] } },
      { topic: 'a', topicId: 'ida', state: { partition: 1, replicas: [2], isr: [2], leader: 2, leaderEpoch: 1, partitionEpoch: 2, addingReplicas: [], removingReplicas: [] } },
    ],
  };
  const wire = packDelta(delta);
  assert.equal(wire.packedPartitions!.topics.length, 2, 'each topic named once');
  assert.deepEqual(unpackDelta(JSON.parse(JSON.stringify(wire))), delta);
  const { partitions: _records, ...noRecords } = delta;
  assert.deepEqual(unpackDelta(packDelta(noRecords)), noRecords);
  const cut = { ...wire, packedPartitions: { ...wire.packedPartitions!, numbers: wire.packedPartitions!.numbers.slice(0, -2) } };
  assert.throws(() => unpackDelta(cut), /end early/);
  const badTopic = { ...wire, packedPartitions: { ...wire.packedPartitions!, numbers: [7, ...wire.packedPartitions!.numbers.slice(1)] } };
  assert.throws(() => unpackDelta(badTopic), /names no topic/);
});
