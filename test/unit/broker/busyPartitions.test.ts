// A broker reports the partitions it took data for lately with its heartbeats, and only when that list changed: the
// controller's fences put those partitions in their first delta (see Controller.prepareFence). Real broker in-process,
// real logs in a temp dir.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { setImmediate as tick } from 'node:timers/promises';
import { Broker } from '../../../src/broker/broker';
import { Controller } from '../../../src/broker/controller';
import { localControllerChannel } from '../../../src/broker/controllerChannel';
import { buildBatch } from '../../../src/protocol/records/recordBatch';
import { tempDir } from '../../helpers/broker';

test('busy partitions are reported once per change, most recent first within the cap, and again for a new supervisor', async () => {
  const dir = tempDir('minikafka-busy-');
  const controller = new Controller();
  for (const id of [1, 2]) controller.registerBroker({ id, host: '127.0.0.1', port: 9000 + id, rack: null });
  controller.createTopics([{ name: 'b', numPartitions: 4, replicationFactor: 2 }]);
  await tick();
  const broker = new Broker({ nodeId: 1, logDir: dir, controller: localControllerChannel(controller) });
  try {
    broker.applyMetadata(controller.snapshot());
    assert.equal(broker.busyPartitionsReport(), undefined, 'idle: nothing to report');
    const led = [...broker.partitions.values()].filter((p) => p.isLeader);
    const followed = [...broker.partitions.values()].filter((p) => !p.isLeader);
    assert.ok(led.length > 0 && followed.length > 0);
    const batch = () => buildBatch({ records: [{ value: Buffer.from('x') }] });
    led[0].appendAsLeader(batch());
    followed[0].appendAsFollower(batch());
    assert.deepEqual(broker.busyPartitionsReport(), [led[0].key, followed[0].key].sort(), 'a leader and a follower that took data');
    assert.equal(broker.busyPartitionsReport(), undefined, 'unchanged: not sent again');
    led[0].appendAsLeader(batch());
    assert.equal(broker.busyPartitionsReport(), undefined, 'more data to a busy one changes nothing');
    broker.resendBusyPartitions();
    assert.deepEqual(broker.busyPartitionsReport(), [led[0].key, followed[0].key].sort(), 'sent again to a new supervisor');
    // Idle for longer than the window: gone from the list (the clock is moved back instead of waiting 30 s).
    led[0].lastAppendMs -= 60_000;
    assert.deepEqual(broker.busyPartitionsReport(), [followed[0].key]);
    followed[0].lastAppendMs -= 60_000;
    assert.deepEqual(broker.busyPartitionsReport(), [], 'the empty list is sent once');
    assert.equal(broker.busyPartitionsReport(), undefined);
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
