// A follower handed hundreds of partitions to fetch from one leader at once (a failover, a broker back) names at most
// MAX_NEW_PARTITIONS_PER_FETCH (200) of them to the leader's fetch session per fetch, the rest in the fetches after
// it without waiting: one fetch naming thousands cost the leader a single long turn at 10,000 partitions. Two real
// brokers in-process on loopback, the real controller, real fetches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Broker } from '../../../src/broker/broker';
import { Controller } from '../../../src/broker/controller';
import { localControllerChannel } from '../../../src/broker/controllerChannel';
import type { MetadataDelta } from '../../../src/broker/metadata';
import type { Logger } from '../../../src/broker/logger';
import { nopLogger } from '../../../src/broker/logger';
import { tempDir } from '../../helpers/broker';

const PARTITIONS = 600;

test('a follower adds hundreds of partitions to its leader\'s fetch session 200 at a time, and fetches them all', async () => {
  const dir = tempDir('minikafka-session-growth-');
  const followerLines: string[] = [];
  const followerLogger: Logger = { ...nopLogger, debug: (m: string) => followerLines.push(m) };
  const controller = new Controller();
  const brokers: Broker[] = [];
  try {
    for (const id of [1, 2]) {
      const broker = new Broker({ nodeId: id, host: '127.0.0.1', port: 0, logDir: join(dir, `broker-${id}`), controller: localControllerChannel(controller), logger: id === 2 ? followerLogger : nopLogger });
      await broker.start();
      broker.applyMetadata(controller.snapshot());
      controller.on('change', (d: MetadataDelta) => broker.applyMetadataDelta(d));
      brokers.push(broker);
    }
    // Broker 2 registers later, so that broker 1 leads every partition and broker 2 follows them all.
    controller.registerBroker({ id: 1, host: '127.0.0.1', port: brokers[0].port, rack: null });
    controller.createTopics([{ name: 'many', numPartitions: PARTITIONS, replicationFactor: 1 }]);
    controller.registerBroker({ id: 2, host: '127.0.0.1', port: brokers[1].port, rack: null });
    // Every partition gets broker 2 as a follower in one metadata change.
    for (let i = 0; i < PARTITIONS; i++) controller.reassignPartition('many', i, [1, 2]);
    const deadline = Date.now() + 20_000;
    while (brokers[1].partitions.size < PARTITIONS) {
      assert.ok(Date.now() < deadline, 'broker 2 opens its replicas');
      await sleep(10);
    }
    // In the ISR only once broker 2 fetched it up to the leader's end.
    const fetchedAll = () => controller.snapshot().topics.find((t) => t.name === 'many')!.partitions.every((p) => p.isr.includes(2));
    while (!fetchedAll()) {
      assert.ok(Date.now() < deadline, 'broker 2 fetches every partition from broker 1 within 20 s');
      await sleep(10);
    }
    const added = followerLines.map((l) => /named (\d+) partition\(s\) new to the session/.exec(l)).filter((m) => m !== null).map((m) => Number(m![1]));
    assert.ok(added.length >= 3, `several fetches added partitions (${added.join(', ')})`);
    assert.ok(added.every((n) => n <= 200), `at most 200 per fetch (${added.join(', ')})`);
    assert.ok(added.reduce((a, b) => a + b, 0) >= PARTITIONS, `all ${PARTITIONS} were named (${added.join(', ')})`);
  } finally {
    for (const b of brokers) await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
