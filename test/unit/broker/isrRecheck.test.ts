// A follower back from a restart fetches an idle partition once (its new session's full fetch), caught up, while the
// leader still has it fenced: the rejoin is skipped (Kafka's isReplicaIsrEligible). Its later fetches do not name
// the idle partition again, so before, only the periodic ISR check (half of replica.lag.time.max.ms, 15 s) asked
// again. Now the leader checks that partition again about a second later. A real broker and controller in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import { Broker } from '../../../src/broker/broker';
import { Controller } from '../../../src/broker/controller';
import { localControllerChannel } from '../../../src/broker/controllerChannel';
import type { MetadataDelta } from '../../../src/broker/metadata';
import { tempDir } from '../../helpers/broker';

test('a rejoin skipped because the follower was still fenced is asked again about a second later', async () => {
  const dir = tempDir('minikafka-isr-recheck-');
  const controller = new Controller();
  for (const id of [1, 2]) controller.registerBroker({ id, host: '127.0.0.1', port: 9000 + id, rack: null });
  controller.createTopics([{ name: 'idle', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }] }]);
  await tick();
  // The default lag (30 s): the periodic check comes every 15 s, well after this test's end.
  const broker = new Broker({ nodeId: 1, logDir: dir, controller: localControllerChannel(controller) });
  try {
    await broker.start();
    broker.applyMetadata(controller.snapshot());
    controller.on('change', (d: MetadataDelta) => broker.applyMetadataDelta(d));
    const isr = () => controller.snapshot().topics.find((t) => t.name === 'idle')!.partitions[0].isr;
    assert.equal(controller.snapshot().topics.find((t) => t.name === 'idle')!.partitions[0].leader, 1);

    // Broker 2 dies: out of the ISR. It comes back (registered, still fenced until the controller unfences it here)
    // and its first fetch, caught up, reaches the leader before the leader has seen it unfenced.
    controller.fenceBroker(2, 'process exited');
    await tick();
    assert.deepEqual(isr(), [1]);
    const p = broker.partition('idle', 0)!;
    p.updateFollower(2, p.logEndOffset);
    await sleep(50);
    assert.deepEqual(isr(), [1], 'skipped: broker 2 is fenced');

    controller.registerBroker({ id: 2, host: '127.0.0.1', port: 9002, rack: null });
    await tick();
    const unfencedAt = Date.now();
    while (!isr().includes(2)) {
      assert.ok(Date.now() - unfencedAt < 5000, `broker 2 back in the ISR within 5 s (the periodic check comes at 15 s); ISR ${isr()}`);
      await sleep(20);
    }
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
