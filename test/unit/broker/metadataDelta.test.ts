// Metadata deltas (KRaft's metadata records as the model): the controller publishes one delta per tick, and a
// receiver that applies every delta in turn holds exactly the controller's image; a broker handed a delta that does
// not follow its image (it missed one: a reconnect, a new supervisor) takes the whole image instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setImmediate as tick } from 'node:timers/promises';
import { Broker } from '../../../src/broker/broker';
import { Controller } from '../../../src/broker/controller';
import { localControllerChannel } from '../../../src/broker/controllerChannel';
import { applyDelta, MetadataDelta, MetadataImage } from '../../../src/broker/metadata';
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
